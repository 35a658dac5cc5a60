import { expect } from '@open-wc/testing';
import { fromSnapshot } from '../../src/state/cluster-state.js';
import { ClusterStore } from '../../src/state/cluster-store.js';
import { CATALOG_KEY, CLUSTER_KEY, FORMAT, OfflineSync, PART_SIZE, indexedDbStore, restoredCluster, storedState } from '../../src/state/offline-cache.js';
import type { CachedSearchLike, CatalogCacheLike, KeyValueStore, StoredCluster, StoredPart } from '../../src/state/offline-cache.js';
import { CommandController, commandsUnavailable } from '../../src/views/command-state.js';
import { mockAgent, mockSnapshot, mockTaskSummary } from '../support/builders.js';
import { mockService } from './mock-services.js';
import { FakeSocket, ManualTimers, memoryTokens } from './stream-fakes.js';

/** A key-value store in memory that records every write. */
function memoryStorage(initial: Record<string, unknown> = {}) {
  const data = new Map<string, unknown>(Object.entries(initial));
  const writes: string[] = [];
  const storage: KeyValueStore = {
    get: async <T>(key: string) => data.get(key) as T | undefined,
    set: async (key, value) => {
      writes.push(key);
      data.set(key, value);
    },
    delete: async (key) => {
      writes.push(`-${key}`);
      data.delete(key);
    },
  };
  return { storage, data, writes };
}

function memoryCatalog(): CatalogCacheLike & { map: Map<string, CachedSearchLike> } {
  const map = new Map<string, CachedSearchLike>();
  return {
    map,
    get: (query = '') => map.get(query),
    entries: () => [...map.entries()],
    put: (query, entry) => {
      map.delete(query);
      map.set(query, entry);
    },
    clear: () => map.clear(),
  };
}

const kept = fromSnapshot(
  mockSnapshot({
    epoch: 'e1',
    seq: 41,
    agents: [mockAgent({ id: 'a1', hostname: 'node-1' })],
    services: [mockService({ id: '/prod/web' }), mockService({ id: '/prod/api', status: 'Waiting' })],
  }),
);
const KEPT_AT = 1_700_000_100_000;

function setup(options: { token?: string | null; stored?: Record<string, unknown>; online?: boolean } = {}) {
  const sockets: FakeSocket[] = [];
  const timers = new ManualTimers();
  const syncTimers = new ManualTimers();
  let now = 1_700_000_200_000;
  const store = new ClusterStore({
    url: 'ws://master.test/api/v1/stream',
    tokens: memoryTokens(options.token === undefined ? 'tok' : options.token),
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    backoff: () => 1000,
    setTimer: timers.set,
    clearTimer: timers.clear,
    now: () => now,
  });
  const { storage, data, writes } = memoryStorage(options.stored);
  const catalog = memoryCatalog();
  const sync = new OfflineSync({
    store,
    storage,
    catalog: async () => catalog,
    online: () => options.online ?? true,
    now: () => now,
    setTimer: syncTimers.set,
    clearTimer: syncTimers.clear,
    win: new EventTarget() as unknown as Window,
  });
  return {
    store,
    sync,
    data,
    writes,
    catalog,
    timers,
    syncTimers,
    last: () => sockets[sockets.length - 1]!,
    tick: (ms: number) => (now += ms),
    now: () => now,
  };
}

const storedRecord = (state = kept, savedAt = KEPT_AT): StoredCluster => ({ format: FORMAT, savedAt, state: storedState(state) });

describe('offline cache', () => {
  it('shows the kept state on start and resumes the stream from its epoch and sequence number', async () => {
    const t = setup({ stored: { [CLUSTER_KEY]: storedRecord() } });
    t.store.start();
    await t.sync.start();

    const shown = t.store.cluster.value;
    expect(shown.loaded).to.equal(true);
    expect([...shown.services.keys()]).to.deep.equal(['/prod/web', '/prod/api']);
    // The first attempt is usually answered at once: no banner yet.
    expect(t.sync.asOf.value).to.equal(undefined);

    t.last().open();
    expect(t.last().sent[0]).to.deep.equal({ type: 'hello', token: 'tok', epoch: 'e1', seq: 41, compact: true });

    // The master sends only what was missed; it lands on top of the kept state.
    t.last().receive({
      type: 'events',
      epoch: 'e1',
      events: [{ seq: 42, at: 1, kind: 'service', op: 'patch', id: '/prod/api', data: { status: 'Running' } }],
    });
    expect(t.store.connection.value.status).to.equal('live');
    expect(t.store.cluster.value.seq).to.equal(42);
    expect(t.store.cluster.value.services.get('/prod/api')!.status).to.equal('Running');
    expect(t.store.cluster.value.services.get('/prod/web')).to.equal(kept.services.get('/prod/web'));
    t.sync.stop();
  });

  it('says since when the state is old once an attempt failed, and stops saying it when live', async () => {
    const t = setup({ stored: { [CLUSTER_KEY]: storedRecord() } });
    t.store.start();
    await t.sync.start();
    t.last().serverClose(1006);
    expect(t.store.connection.value.status).to.equal('reconnecting');
    expect(t.sync.asOf.value).to.equal(KEPT_AT);

    t.timers.fire();
    t.last().open();
    t.last().receive({ type: 'heartbeat', epoch: 'e1', seq: 41, at: 0 });
    expect(t.store.connection.value.status).to.equal('live');
    expect(t.sync.asOf.value).to.equal(undefined);
    t.sync.stop();
  });

  it('says "offline" at once when the browser has no network', async () => {
    const t = setup({ stored: { [CLUSTER_KEY]: storedRecord() }, online: false });
    t.store.start();
    await t.sync.start();
    expect(t.store.connection.value.status).to.equal('connecting');
    expect(t.sync.asOf.value).to.equal(KEPT_AT);
    t.sync.stop();
  });

  it('does not replace live data that arrived before the kept state was read', async () => {
    const t = setup({ stored: { [CLUSTER_KEY]: storedRecord() } });
    t.store.start();
    t.last().open();
    t.last().receive({ type: 'snapshot', ...mockSnapshot({ epoch: 'e2', seq: 3, services: [mockService({ id: '/fresh' })] }) });
    await t.sync.start();
    expect([...t.store.cluster.value.services.keys()]).to.deep.equal(['/fresh']);
    t.sync.stop();
  });

  it('ignores a record of another format, and restores nothing without a token', async () => {
    expect(restoredCluster({ ...storedRecord(), format: 99 })).to.equal(undefined);
    expect(restoredCluster({ format: FORMAT, savedAt: 1, state: { epoch: 'e', seq: 1 } })).to.equal(undefined);
    // format 1 kept Maps of full tasks: a dashboard updated since then starts from the master instead
    expect(restoredCluster({ format: 1, savedAt: 1, state: kept })).to.equal(undefined);
    expect(restoredCluster(storedRecord())?.state.services.size).to.equal(2);

    const t = setup({ token: null, stored: { [CLUSTER_KEY]: storedRecord() } });
    t.store.start();
    await t.sync.start();
    expect(t.store.cluster.value.loaded).to.equal(false);
    t.sync.stop();
  });

  it('writes the live state at most once per interval, and at once when the link drops', async () => {
    const t = setup();
    t.store.start();
    await t.sync.start();
    t.last().open();
    t.last().receive({ type: 'snapshot', ...mockSnapshot({ epoch: 'e1', seq: 5, services: [mockService({ id: '/a' })] }) });
    for (let seq = 6; seq <= 9; seq++) {
      t.last().receive({ type: 'events', epoch: 'e1', events: [{ seq, at: 1, kind: 'service', op: 'patch', id: '/a', data: { tasksRunning: seq } }] });
    }
    expect(t.writes).to.deep.equal([], 'nothing written before the interval ends');
    expect(t.syncTimers.pending.size).to.equal(1, 'one write is scheduled for the whole burst');
    expect([...t.syncTimers.pending.values()][0]!.ms).to.equal(2000);
    t.syncTimers.fire();
    await t.sync.flush();
    expect(t.writes).to.deep.equal([CLUSTER_KEY]);
    const first = t.data.get(CLUSTER_KEY) as StoredCluster;
    expect(first.state.seq).to.equal(9);
    expect(first.savedAt).to.equal(t.now());

    t.tick(5000);
    t.last().receive({ type: 'events', epoch: 'e1', events: [{ seq: 10, at: 1, kind: 'service', op: 'delete', id: '/a' }] });
    // Quiet for a minute (heartbeats only), then the link drops.
    t.tick(60_000);
    t.last().serverClose(1006);
    await t.sync.flush();
    const second = t.data.get(CLUSTER_KEY) as StoredCluster;
    expect(second.state.seq).to.equal(10);
    expect(second.savedAt).to.equal(t.now(), 'current until the moment the link dropped');
    expect(t.sync.asOf.value).to.equal(second.savedAt);
    t.sync.stop();
  });

  it('writes a big cluster less often', async () => {
    const t = setup();
    t.store.start();
    await t.sync.start();
    t.last().open();
    const services = Array.from({ length: 20_000 }, (_, i) => mockService({ id: `/s${i}` }));
    t.last().receive({ type: 'snapshot', ...mockSnapshot({ epoch: 'e1', seq: 1, services }) });
    expect([...t.syncTimers.pending.values()][0]!.ms).to.equal(8000);
    t.sync.stop();
  });

  it('keeps a big cluster in parts, restores it whole, and leaves no old parts behind', async () => {
    const t = setup();
    t.store.start();
    await t.sync.start();
    t.last().open();
    const tasks = Array.from({ length: 12_000 }, (_, i) => mockTaskSummary({ id: `t${i}`, agentId: 'a1' }));
    t.last().receive({ type: 'snapshot', ...mockSnapshot({ epoch: 'e1', seq: 3, agents: [mockAgent({ id: 'a1' })], tasks }) });
    await t.sync.flush();
    const head = t.data.get(CLUSTER_KEY) as StoredCluster;
    expect(head.parts?.count).to.equal(1 + Math.ceil(12_000 / PART_SIZE), 'a part for the agent, the tasks in parts of PART_SIZE');
    expect(head.state.tasks).to.deep.equal([], 'the record itself holds no objects');
    expect(t.writes.at(-1)).to.equal(CLUSTER_KEY, 'the record is written after its parts');
    const parts = Array.from({ length: head.parts!.count }, (_, i) => t.data.get(`${head.parts!.key}/${i}`));
    for (const part of parts) expect((part as StoredPart).items.length).to.be.at.most(PART_SIZE);
    const back = restoredCluster(head, parts)!;
    expect(back.state.tasks.size).to.equal(12_000);
    expect(back.state.tasks.get('t11999')).to.deep.equal(tasks[11_999]);
    expect(back.state.agents.has('a1')).to.equal(true);
    expect(restoredCluster(head, parts.slice(1)), 'a part missing: nothing').to.equal(undefined);

    // the next write replaces the parts
    t.last().receive({ type: 'events', epoch: 'e1', events: [{ seq: 4, kind: 'task', op: 'delete', id: 't0' }] });
    await t.sync.flush();
    const next = t.data.get(CLUSTER_KEY) as StoredCluster;
    expect(next.parts!.key).to.not.equal(head.parts!.key);
    expect([...t.data.keys()].filter((k) => k.startsWith(`${head.parts!.key}/`))).to.deep.equal([], 'the old parts are deleted');

    // and a new visit shows it
    const u = setup({ stored: Object.fromEntries(t.data) });
    u.store.start();
    await u.sync.start();
    expect(u.store.cluster.value.tasks.size).to.equal(11_999);
    expect(u.store.cluster.value.seq).to.equal(4);

    t.store.logout();
    await t.sync.flush();
    expect([...t.data.keys()]).to.deep.equal([], 'logging out deletes the parts too');
    t.sync.stop();
    u.sync.stop();
  });

  it('forgets everything kept when the user logs out', async () => {
    const t = setup({ stored: { [CLUSTER_KEY]: storedRecord(), [CATALOG_KEY]: { format: 1, entries: [['', { packages: [{ name: 'x' }], at: 1 }]] } } });
    t.store.start();
    await t.sync.start();
    expect(t.catalog.map.size).to.equal(1);
    t.store.logout();
    await t.sync.flush();
    expect(t.data.has(CLUSTER_KEY)).to.equal(false);
    expect(t.data.has(CATALOG_KEY)).to.equal(false);
    expect(t.catalog.map.size).to.equal(0);
    expect(t.sync.asOf.value).to.equal(undefined);
    t.sync.stop();
  });

  it('restores the catalog searches without overwriting fresher ones, and keeps new ones', async () => {
    const t = setup({
      stored: {
        [CATALOG_KEY]: {
          format: 1,
          entries: [
            ['', { packages: [{ name: 'old-all' }], at: 1 }],
            ['redis', { packages: [{ name: 'redis' }], at: 2 }],
          ],
        },
      },
    });
    t.catalog.put('', { packages: [{ name: 'fresh-all' }], at: 10 });
    t.store.start();
    await t.sync.start();
    expect(t.catalog.get('')!.packages).to.deep.equal([{ name: 'fresh-all' }]);
    expect(t.catalog.get('redis')!.packages).to.deep.equal([{ name: 'redis' }]);

    t.catalog.put('kafka', { packages: [{ name: 'kafka' }], at: 11 });
    await t.sync.flush();
    const stored = t.data.get(CATALOG_KEY) as { entries: Array<[string, CachedSearchLike]> };
    expect(stored.entries.map(([query]) => query)).to.have.members(['', 'redis', 'kafka']);
    const writes = t.writes.length;
    await t.sync.flush();
    expect(t.writes.length).to.equal(writes, 'an unchanged catalog is not written again');
    t.sync.stop();
  });

  it('keeps Maps intact through IndexedDB', async () => {
    const name = `yagura-test-${Math.random().toString(36).slice(2)}`;
    const storage = indexedDbStore(name);
    try {
      await storage.set(CLUSTER_KEY, storedRecord());
      const back = restoredCluster(await storage.get(CLUSTER_KEY));
      expect(back?.savedAt).to.equal(KEPT_AT);
      expect(back?.state.services.get('/prod/web')).to.deep.equal(kept.services.get('/prod/web'));
      expect(back?.state.agents.get('a1')?.hostname).to.equal('node-1');
      await storage.delete(CLUSTER_KEY);
      expect(await storage.get(CLUSTER_KEY)).to.equal(undefined);
    } finally {
      await new Promise((resolve) => {
        const req = indexedDB.deleteDatabase(name);
        req.onsuccess = req.onerror = req.onblocked = resolve;
      });
    }
  });

  it('commands refuse with the reason while the master cannot be reached', async () => {
    const host = { addController() {}, removeController() {}, requestUpdate() {}, updateComplete: Promise.resolve(true) };
    const command = new CommandController(host);
    let ran = 0;
    commandsUnavailable.set('The master cannot be reached.');
    try {
      expect(await command.run(async () => ran++)).to.equal(false);
      expect(ran).to.equal(0);
      expect(command.error).to.equal('The master cannot be reached.');
      expect(command.unavailable).to.equal('The master cannot be reached.');
    } finally {
      commandsUnavailable.set('');
    }
    expect(await command.run(async () => ran++)).to.equal(true);
    expect(ran).to.equal(1);
  });
});
