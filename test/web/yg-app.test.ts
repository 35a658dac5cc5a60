import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { CLOSE } from '../../protocol/types.js';
import { ClusterStore } from '../../src/state/cluster-store.js';
import '../../src/views/yg-app.js';
import type { YgApp } from '../../src/views/yg-app.js';
import { mockAgent, mockSnapshot } from '../support/builders.js';
import { mockService } from './mock-services.js';
import { FakeSocket, ManualTimers, memoryTokens } from './stream-fakes.js';
import { useTheme } from './theme.js';

/** The shell with a store whose socket the test plays the master on. */
async function shell(token: string | null) {
  const sockets: FakeSocket[] = [];
  const timers = new ManualTimers();
  const store = new ClusterStore({
    url: 'ws://master.test/api/v1/stream',
    tokens: memoryTokens(token),
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    setTimer: timers.set,
    clearTimer: timers.clear,
  });
  const el = await fixture<YgApp>(html`<yg-app .store=${store}></yg-app>`);
  return { el, store, sockets, timers, last: () => sockets[sockets.length - 1]! };
}

const root = (el: YgApp) => el.shadowRoot!;

describe('yg-app', () => {
  const startUrl = `${location.pathname}${location.search}`;
  before(() => useTheme());
  // The shell routes with the History API; leave the test page where it was.
  afterEach(() => history.replaceState(null, '', startUrl));

  it('asks for a token, connects with it, and shows the shell once the master answers', async () => {
    const { el, sockets, last } = await shell(null);
    // The form is loaded on demand: only a visit without a token needs it.
    await customElements.whenDefined('yg-login');
    const login = root(el).querySelector('yg-login')!;
    expect(login).to.exist;
    expect(sockets).to.have.length(0);

    login.dispatchEvent(new CustomEvent('yg-login', { detail: { token: 'tok' }, bubbles: true, composed: true }));
    await el.updateComplete;
    expect(root(el).querySelector('yg-login')?.busy).to.equal(true, 'the form stays, busy, until the master answers');

    last().open();
    expect(last().sent[0]).to.deep.equal({ type: 'hello', token: 'tok', compact: true });
    last().receive({ type: 'snapshot', ...mockSnapshot({ agents: [mockAgent({ id: 'a1', hostname: 'node-1' })] }) });
    await el.updateComplete;
    expect(root(el).querySelector('yg-login')).to.not.exist;
    expect(root(el).querySelector('.app-bar [role="status"]')!.textContent!.trim()).to.equal('Live');
    await expect(el).to.be.accessible();
  });

  it('routes to the lazily loaded Nodes view and shows agents live', async () => {
    const { el, last } = await shell('tok');
    last().open();
    last().receive({ type: 'snapshot', ...mockSnapshot({ seq: 1, agents: [mockAgent({ id: 'a1', hostname: 'node-1' })] }) });
    await el.updateComplete;

    const link = [...el.shadowRoot!.querySelectorAll('nav a')].find((a) => a.textContent!.includes('Nodes'))!;
    (link as HTMLAnchorElement).click();
    expect(location.pathname).to.equal('/nodes');
    await waitUntil(() => root(el).querySelector('yg-nodes-view'), 'the Nodes view loads', { timeout: 8000 });
    expect(link.getAttribute('aria-current')).to.equal('page');
    expect(document.title).to.equal('Nodes · Yagura');

    const view = root(el).querySelector('yg-nodes-view')!;
    await view.updateComplete;
    const table = view.shadowRoot!.querySelector('yg-agent-table')!;
    await table.updateComplete;
    expect(table.shadowRoot!.textContent).to.include('node-1');

    last().receive({
      type: 'events',
      epoch: 'epoch-1',
      events: [{ seq: 2, at: 1, kind: 'agent', op: 'put', id: 'a2', data: mockAgent({ id: 'a2', hostname: 'node-2' }) }],
    });
    await view.updateComplete;
    await table.updateComplete;
    expect(table.shadowRoot!.textContent).to.include('node-2');
  });

  it('gives every object a URL: a service page loads lazily from its address, and Back returns', async () => {
    const { el, last } = await shell('tok');
    last().open();
    last().receive({
      type: 'snapshot',
      ...mockSnapshot({ seq: 1, services: [mockService({ id: '/prod/web' })] }),
    });
    await el.updateComplete;
    const services = [...root(el).querySelectorAll('nav a')].find((a) => a.textContent!.includes('Services')) as HTMLAnchorElement;
    services.click();
    await waitUntil(() => root(el).querySelector('yg-services-view'), 'the Services view loads', { timeout: 8000 });
    const list = root(el).querySelector('yg-services-view')!;
    await list.updateComplete;
    const table = list.shadowRoot!.querySelector('yg-service-table')!;
    await table.updateComplete;
    (table.shadowRoot!.querySelector('tbody a') as HTMLAnchorElement).click();
    expect(location.pathname).to.equal(`/services/${encodeURIComponent('/prod/web')}`);
    await waitUntil(() => root(el).querySelector('yg-service-view'), 'the service page loads', { timeout: 8000 });
    expect(document.title).to.equal('Service /prod/web · Yagura');
    expect(services.getAttribute('aria-current')).to.equal('page', 'a detail page belongs to its section');

    history.back();
    await waitUntil(() => location.pathname === '/services' && root(el).querySelector('yg-services-view'), 'Back returns to the list');
    await expect(el).to.be.accessible();
  });

  it('shows a not-found page for an unknown address', async () => {
    history.replaceState(null, '', '/no/such/page');
    const { el, last } = await shell('tok');
    last().open();
    last().receive({ type: 'snapshot', ...mockSnapshot() });
    await waitUntil(() => root(el).querySelector('yg-not-found-view'));
    expect(document.title).to.equal('Not found · Yagura');
  });

  it('shows the connection dropping, and the login form with a reason on 4401', async () => {
    const { el, timers, last } = await shell('tok');
    last().open();
    last().receive({ type: 'snapshot', ...mockSnapshot() });
    last().serverClose(1006);
    await el.updateComplete;
    expect(root(el).querySelector('.app-bar [role="status"]')!.textContent!.trim()).to.equal('Reconnecting');

    timers.fire();
    last().open();
    last().serverClose(CLOSE.UNAUTHORIZED, 'token revoked');
    await el.updateComplete;
    const login = root(el).querySelector('yg-login')!;
    expect(login).to.exist;
    expect(login.error).to.equal('token revoked');
  });

  it('logs out from the app bar', async () => {
    const { el, store, last } = await shell('tok');
    last().open();
    last().receive({ type: 'snapshot', ...mockSnapshot() });
    await el.updateComplete;
    root(el).querySelector<HTMLElement>('.logout-text')!.click();
    await el.updateComplete;
    expect(store.token).to.equal(null);
    expect(root(el).querySelector('yg-login')).to.exist;
    expect(root(el).querySelector('yg-login')!.error).to.equal('');
  });
});
