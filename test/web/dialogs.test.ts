import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import type { MdDialog } from '@material/web/dialog/dialog.js';
import '../../src/components/yg-confirm-dialog.js';
import type { YgConfirmDialog } from '../../src/components/yg-confirm-dialog.js';
import '../../src/components/yg-scale-dialog.js';
import type { YgScaleDialog } from '../../src/components/yg-scale-dialog.js';
import { $, press, text, typeInto } from './harness.js';
import { useTheme } from './theme.js';

async function opened(el: HTMLElement): Promise<MdDialog> {
  const dialog = $<MdDialog>(el, 'md-dialog');
  await waitUntil(() => dialog.open && dialog.shadowRoot?.querySelector('dialog')?.open, 'the dialog opens');
  return dialog;
}

describe('yg-confirm-dialog', () => {
  before(() => useTheme());

  it('asks, and reports the confirmation without closing itself', async () => {
    const el = await fixture<YgConfirmDialog>(html`<yg-confirm-dialog open heading="Remove /prod/web?" confirmLabel="Remove" destructive>
      <p>This cannot be undone.</p>
    </yg-confirm-dialog>`);
    const dialog = await opened(el);
    expect(text($(el, '[slot="headline"]'))).to.equal('Remove /prod/web?');
    const confirmed = oneEvent(el, 'yg-confirm');
    $(el, 'md-filled-button').click();
    await confirmed;
    expect(dialog.open).to.equal(true, 'the page closes it once the command worked');
    await expect(el).to.be.accessible();
  });

  it('shows a failure and stays disabled while busy', async () => {
    const el = await fixture<YgConfirmDialog>(html`<yg-confirm-dialog open heading="Drain?" busy error="agent a1 not found"></yg-confirm-dialog>`);
    await opened(el);
    expect(text($(el, '[role="alert"]'))).to.equal('agent a1 not found');
    expect($<HTMLElement & { disabled: boolean }>(el, 'md-filled-button').disabled).to.equal(true);
    await expect(el).to.be.accessible();
  });

  it('reports Cancel and Escape as a dismissal', async () => {
    const el = await fixture<YgConfirmDialog>(html`<yg-confirm-dialog open heading="Drain?"></yg-confirm-dialog>`);
    await opened(el);
    let closed = oneEvent(el, 'yg-dialog-close');
    $(el, 'md-text-button').click();
    await closed;

    const again = await fixture<YgConfirmDialog>(html`<yg-confirm-dialog open heading="Drain?"></yg-confirm-dialog>`);
    await opened(again);
    closed = oneEvent(again, 'yg-dialog-close');
    await press('Escape');
    await closed;
  });
});

describe('yg-scale-dialog', () => {
  before(() => useTheme());

  it('starts from the current count and reports the number typed', async () => {
    const el = await fixture<YgScaleDialog>(html`<yg-scale-dialog service="/prod/web" .instances=${2}></yg-scale-dialog>`);
    el.open = true;
    await opened(el);
    const field = $<HTMLElement & { value: string }>(el, 'md-outlined-text-field');
    expect(field.value).to.equal('2');
    expect(text($(el, '[slot="headline"]'))).to.equal('Scale /prod/web');
    await typeInto(field, '5');
    const scaled = oneEvent(el, 'yg-scale');
    await press('Enter');
    expect((await scaled).detail).to.deep.equal({ instances: 5 });
    await expect(el).to.be.accessible();
  });

  it('refuses what is not a whole number, at the field', async () => {
    const el = await fixture<YgScaleDialog>(html`<yg-scale-dialog open service="/prod/web" .instances=${1}></yg-scale-dialog>`);
    await opened(el);
    const field = $<HTMLElement & { error: boolean; errorText: string }>(el, 'md-outlined-text-field');
    let scaled = false;
    el.addEventListener('yg-scale', () => (scaled = true));
    await typeInto(field, '1.5');
    $(el, 'md-filled-button').click();
    await el.updateComplete;
    expect(field.error).to.equal(true);
    expect(field.errorText).to.equal('Enter a whole number, 0 or more');
    expect(scaled).to.equal(false);
    await expect(el).to.be.accessible();
  });
});
