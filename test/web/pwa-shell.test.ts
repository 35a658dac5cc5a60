// The shell's PWA parts: the offline banner from a kept state, the update snackbar that waits
// for unsaved forms, the Install button, and opening a view from a notification.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { fromSnapshot } from '../../src/state/cluster-state.js';
import { ClusterStore } from '../../src/state/cluster-store.js';
import { NotificationSetting } from '../../src/state/notifications.js';
import { CLUSTER_KEY, FORMAT, OfflineSync, storedState } from '../../src/state/offline-cache.js';
import type { KeyValueStore } from '../../src/state/offline-cache.js';
import { unsavedWork } from '../../src/state/unsaved.js';
import { commandsUnavailable } from '../../src/views/command-state.js';
import '../../src/views/yg-app.js';
import type { YgApp } from '../../src/views/yg-app.js';
import { mockSnapshot } from '../support/builders.js';
import { $, $$, settle, text } from './harness.js';
import { mockService } from './mock-services.js';
import { FakeSocket, ManualTimers, memoryTokens } from './stream-fakes.js';
import { useTheme } from './theme.js';

const KEPT_AT = new Date(2026, 0, 5, 9, 30, 0).getTime();

async function shell(options: { kept?: boolean } = {}) {
  const sockets: FakeSocket[] = [];
  const timers = new ManualTimers();
  const store = new ClusterStore({
    url: 'ws://master.test/api/v1/stream',
    tokens: memoryTokens('tok'),
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    setTimer: timers.set,
    clearTimer: timers.clear,
  });
  const data = new Map<string, unknown>();
  if (options.kept) {
    const state = fromSnapshot(mockSnapshot({ epoch: 'e1', seq: 9, services: [mockService({ id: '/kept/web' })] }));
    data.set(CLUSTER_KEY, { format: FORMAT, savedAt: KEPT_AT, state: storedState(state) });
  }
  const storage: KeyValueStore = {
    get: async <T>(key: string) => data.get(key) as T | undefined,
    set: async (key, value) => void data.set(key, value),
    delete: async (key) => void data.delete(key),
  };
  const offline = new OfflineSync({ store, storage, setTimer: () => 0, clearTimer: () => undefined, online: () => true });
  const notifications = new NotificationSetting({ api: null });
  const el = await fixture<YgApp>(html`<yg-app .store=${store} .offline=${offline} .notifications=${notifications}></yg-app>`);
  return { el, store, offline, sockets, timers, last: () => sockets[sockets.length - 1]! };
}

describe('yg-app as a PWA', () => {
  const startUrl = `${location.pathname}${location.search}`;
  before(() => useTheme());
  afterEach(() => {
    history.replaceState(null, '', startUrl);
    unsavedWork.clear(owner);
  });
  const owner = {};

  it('shows the kept cluster under the offline banner, disables commands, and drops both when live', async () => {
    history.replaceState(null, '', '/services');
    const t = await shell({ kept: true });
    await waitUntil(() => t.store.cluster.value.loaded, 'the kept state is restored');
    t.last().serverClose(1006);
    await settle(t.el);
    const banner = $(t.el, 'yg-offline-banner');
    await waitUntil(() => banner.shadowRoot?.querySelector('.banner'), 'the banner shows');
    expect(text($(banner, '.banner p'))).to.contain('Offline — showing the cluster as of');
    expect(commandsUnavailable.value).to.contain('the master cannot be reached');
    await waitUntil(() => t.el.shadowRoot!.querySelector('main yg-services-view'), 'the services view loads', { timeout: 8000 });
    const view = $(t.el, 'main yg-services-view');
    await waitUntil(
      () => view.shadowRoot?.querySelector('yg-service-table')?.shadowRoot?.querySelector('tbody a[href="/services/%2Fkept%2Fweb"]'),
      'the services view links the kept service',
      { timeout: 8000 },
    );
    await expect(t.el).to.be.accessible();

    // Retry now: a new attempt, which resumes from the kept sequence number.
    $(banner, 'md-text-button').click();
    t.last().open();
    expect(t.last().sent[0]).to.deep.include({ type: 'hello', epoch: 'e1', seq: 9 });
    t.last().receive({ type: 'heartbeat', epoch: 'e1', seq: 9, at: 0 });
    await settle(t.el);
    expect(banner.shadowRoot!.querySelector('.banner')).to.not.exist;
    expect(commandsUnavailable.value).to.equal('');
  });

  it('offers a new build, and holds the reload while a form is unsaved', async () => {
    const t = await shell();
    t.last().open();
    t.last().receive({ type: 'snapshot', ...mockSnapshot() });
    let applied = 0;
    window.dispatchEvent(new CustomEvent('yg-update-available', { detail: { apply: () => applied++ } }));
    await settle(t.el);
    const snackbar = $(t.el, 'yg-update-snackbar');
    const button = (label: string) => $$(snackbar, 'md-text-button').find((b) => b.textContent?.trim() === label);

    unsavedWork.set(owner, { label: 'Create a service', href: '/services/new' });
    await settle(t.el);
    expect(text($(snackbar, '.text'))).to.contain('once your changes to “Create a service” are saved or discarded');
    expect(button('Reload to update')).to.equal(undefined);
    snackbar.dispatchEvent(new CustomEvent('yg-update-apply', { bubbles: true, composed: true }));
    expect(applied).to.equal(0, 'the shell refuses too, whatever asks');

    unsavedWork.clear(owner);
    await settle(t.el);
    button('Reload to update')!.click();
    expect(applied).to.equal(1);
    await expect(t.el).to.be.accessible();
  });

  it('shows an Install button when the browser offers it', async () => {
    const t = await shell();
    t.last().open();
    t.last().receive({ type: 'snapshot', ...mockSnapshot() });
    await settle(t.el);
    expect(t.el.shadowRoot!.querySelector('.install-text')).to.not.exist;

    let prompted = 0;
    const offer = Object.assign(new Event('beforeinstallprompt', { cancelable: true }), {
      prompt: async () => void prompted++,
      userChoice: Promise.resolve({ outcome: 'accepted' as const }),
    });
    window.dispatchEvent(offer);
    expect(offer.defaultPrevented).to.equal(true, 'the browser’s own bar is replaced by the button');
    await settle(t.el);
    const install = $(t.el, '.install-text');
    expect(install.textContent).to.contain('Install');
    await expect(t.el).to.be.accessible();
    install.click();
    await settle(t.el);
    expect(prompted).to.equal(1);
    expect(t.el.shadowRoot!.querySelector('.install-text')).to.not.exist;
  });

  it('opens the view a notification points at', async () => {
    const t = await shell();
    t.last().open();
    t.last().receive({ type: 'snapshot', ...mockSnapshot() });
    window.dispatchEvent(new CustomEvent('yg-open', { detail: { url: '/tasks/web.1' } }));
    await settle(t.el);
    expect(location.pathname).to.equal('/tasks/web.1');
  });
});
