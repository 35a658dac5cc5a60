import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys, sendMouse } from '@web/test-runner-commands';
import '../../src/components/yg-login.js';
import type { YgLogin } from '../../src/components/yg-login.js';
import { useTheme } from './theme.js';

/** Clicks the middle of an element with the real mouse, as a user would. */
async function click(element: Element): Promise<void> {
  const box = element.getBoundingClientRect();
  await sendMouse({ type: 'click', position: [Math.round(box.x + box.width / 2), Math.round(box.y + box.height / 2)] });
}

function field(el: YgLogin) {
  return el.shadowRoot!.querySelector('md-outlined-text-field')!;
}

function button(el: YgLogin) {
  return el.shadowRoot!.querySelector('md-filled-button')!;
}

describe('yg-login', () => {
  before(() => useTheme());

  it('emits yg-login with the typed token when the user clicks Sign in', async () => {
    const el = await fixture<YgLogin>(html`<yg-login></yg-login>`);
    const logins: string[] = [];
    el.addEventListener('yg-login', (event) => logins.push(event.detail.token));

    await click(field(el));
    await sendKeys({ type: '  ygt_secret-token ' });
    await click(button(el));

    expect(logins).to.deep.equal(['ygt_secret-token']);
    await expect(el).to.be.accessible();
  });

  it('submits with Enter too', async () => {
    const el = await fixture<YgLogin>(html`<yg-login></yg-login>`);
    const logins: string[] = [];
    el.addEventListener('yg-login', (event) => logins.push(event.detail.token));
    await click(field(el));
    await sendKeys({ type: 'abc' });
    await sendKeys({ press: 'Enter' });
    expect(logins).to.deep.equal(['abc']);
  });

  it('refuses an empty token with a message on the field, and clears it on typing', async () => {
    const el = await fixture<YgLogin>(html`<yg-login></yg-login>`);
    let fired = false;
    el.addEventListener('yg-login', () => (fired = true));
    await click(button(el));
    expect(fired).to.equal(false);
    expect(field(el).error).to.equal(true);
    expect(field(el).errorText).to.equal('Enter a token');

    await click(field(el));
    await sendKeys({ type: 'x' });
    expect(field(el).error).to.equal(false);
  });

  it('shows why the last token failed, as an alert, and can be busy', async () => {
    const el = await fixture<YgLogin>(html`<yg-login error="The master refused the access token." busy></yg-login>`);
    const alert = el.shadowRoot!.querySelector('[role="alert"]');
    expect(alert?.textContent).to.equal('The master refused the access token.');
    expect(button(el).disabled).to.equal(true);
    await expect(el).to.be.accessible();
  });
});
