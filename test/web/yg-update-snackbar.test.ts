import { expect, fixture, html } from '@open-wc/testing';
import '../../src/components/yg-update-snackbar.js';
import type { YgUpdateSnackbar } from '../../src/components/yg-update-snackbar.js';
import { $, $$, text } from './harness.js';
import { useTheme } from './theme.js';

describe('yg-update-snackbar', () => {
  before(() => useTheme());

  it('stays out of the way until a new build is ready', async () => {
    const el = await fixture<YgUpdateSnackbar>(html`<yg-update-snackbar></yg-update-snackbar>`);
    expect(el.shadowRoot!.querySelector('.snackbar')).to.not.exist;
    await expect(el).to.be.accessible();
  });

  it('offers the reload, and "later"', async () => {
    const el = await fixture<YgUpdateSnackbar>(html`<yg-update-snackbar open></yg-update-snackbar>`);
    const events: string[] = [];
    el.addEventListener('yg-update-apply', () => events.push('apply'));
    el.addEventListener('yg-update-dismiss', () => events.push('dismiss'));
    expect(text($(el, '.text'))).to.equal('A new version of the dashboard is ready.');
    const reload = $$(el, 'md-text-button').find((b) => b.textContent?.trim() === 'Reload to update');
    expect(reload).to.exist;
    reload!.click();
    $(el, 'md-icon-button').click();
    expect(events).to.deep.equal(['apply', 'dismiss']);
    await expect(el).to.be.accessible();
  });

  it('holds the reload back while a form has unsaved changes, and links to the form', async () => {
    const unsaved = [{ label: 'Create a service', href: '/services/new' }, { label: 'Edit /prod/web', href: '/services/%2Fprod%2Fweb/edit' }];
    const el = await fixture<YgUpdateSnackbar>(html`<yg-update-snackbar open .unsaved=${unsaved}></yg-update-snackbar>`);
    let applied = 0;
    el.addEventListener('yg-update-apply', () => applied++);
    expect(text($(el, '.text'))).to.equal(
      'A new version of the dashboard is ready. It loads once your changes to “Create a service” and “Edit /prod/web” are saved or discarded.',
    );
    const buttons = $$(el, 'md-text-button');
    expect(buttons.map((b) => b.textContent?.trim())).to.deep.equal(['Open form']);
    expect(buttons[0]!.getAttribute('href')).to.equal('/services/new');
    expect(applied).to.equal(0);
    await expect(el).to.be.accessible();
  });
});
