import { expect } from '@open-wc/testing';
import { compactTasks } from '../../protocol/compact-tasks.js';
import { CLOSE, taskSummary } from '../../protocol/types.js';
import { ClusterStore, LARGE_APPLY_MS, LARGE_CLUSTER, defaultBackoff, streamUrl } from '../../src/state/cluster-store.js';
import type { ConnectionStatus } from '../../src/state/cluster-store.js';
import { TOKEN_KEY, localTokenStore, takeTokenFromUrl } from '../../src/state/token.js';
import { mockAgent, mockSnapshot, mockTask, mockTaskSummary } from '../support/builders.js';
import { FakeSocket, ManualTimers, memoryTokens } from './stream-fakes.js';

function setup(token: string | null = 'tok-1') {
  const sockets: FakeSocket[] = [];
  const timers = new ManualTimers();
  const tokens = memoryTokens(token);
  const store = new ClusterStore({
    url: 'ws://master.test/api/v1/stream',
    tokens,
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    backoff: (attempt) => attempt * 1000,
    setTimer: timers.set,
    clearTimer: timers.clear,
    now: () => 50_000,
  });
  const statuses: ConnectionStatus[] = [];
  store.connection.subscribe((info) => statuses.push(info.status));
  const last = () => sockets[sockets.length - 1]!;
  return { store, sockets, timers, tokens, statuses, last };
}

const snapshot = mockSnapshot({
  epoch: 'e1',
  seq: 7,
  agents: [mockAgent({ id: 'a1', hostname: 'node-1' })],
  tasks: [mockTask({ id: 't1', agentId: 'a1' }), mockTask({ id: 't2', agentId: 'a1' })],
});

describe('cluster store', () => {
  it('waits idle without a token and connects on login', () => {
    const { store, sockets, tokens, last } = setup(null);
    store.start();
    expect(store.connection.value.status).to.equal('idle');
    expect(sockets).to.have.length(0);

    store.login('  tok-2 ');
    expect(tokens.value).to.equal('tok-2');
    expect(store.connection.value.status).to.equal('connecting');
    expect(last().url).to.equal('ws://master.test/api/v1/stream');
  });

  it('says hello with the token first, then goes live on the snapshot and applies events', () => {
    const { store, last, statuses } = setup();
    store.start();
    last().open();
    expect(last().sent).to.deep.equal([{ type: 'hello', token: 'tok-1', compact: true }]);
    expect(store.cluster.value.loaded).to.equal(false);

    last().receive({ type: 'snapshot', ...snapshot });
    expect(store.connection.value.status).to.equal('live');
    expect(store.cluster.value.agents.get('a1')?.hostname).to.equal('node-1');
    const t2 = store.cluster.value.tasks.get('t2');

    last().receive({
      type: 'events',
      epoch: 'e1',
      events: [{ seq: 8, at: 1, kind: 'task', op: 'patch', id: 't1', data: { state: 'TASK_FINISHED' } }],
    });
    expect(store.cluster.value.seq).to.equal(8);
    expect(store.cluster.value.tasks.get('t1')?.state).to.equal('TASK_FINISHED');
    expect(store.cluster.value.tasks.get('t2')).to.equal(t2);
    expect(statuses).to.deep.equal(['connecting', 'live']);
  });

  it('applies compact batches, numbering events from the batch sequence number', () => {
    const { store, last } = setup();
    store.start();
    last().open();
    last().receive({ type: 'snapshot', ...snapshot });
    const t2 = store.cluster.value.tasks.get('t2');
    last().receive([8, ['t~', 't1', { state: 'TASK_FAILED', message: 'exit 1', updatedAt: 9 }], ['a~', 'a1', { state: 'DRAINING' }], ['t-', 't2']]);
    const state = store.cluster.value;
    expect(state.seq).to.equal(10);
    expect(state.tasks.get('t1')).to.include({ state: 'TASK_FAILED', message: 'exit 1', updatedAt: 9 });
    expect(state.agents.get('a1')?.state).to.equal('DRAINING');
    expect(state.tasks.has('t2')).to.equal(false);
    expect(t2).to.not.equal(undefined);
    // a batch the state already holds (an overlapping resume) changes nothing
    last().receive([9, ['a~', 'a1', { state: 'ACTIVE' }]]);
    expect(store.cluster.value).to.equal(state);
    last().receive([11, ['t+', 't3', mockTaskSummary({ id: 't3', agentId: 'a1', name: 'new' })]]);
    expect(store.cluster.value.tasks.get('t3')?.name).to.equal('new');
    expect(store.connection.value.status).to.equal('live');
  });

  it('reads a compact snapshot: the tasks as one table', () => {
    const { store, last } = setup();
    store.start();
    last().open();
    const views = [
      mockTask({ id: 'web.1', agentId: 'a1', labels: { YAGURA_APP_ID: '/web' }, startedAt: 1_700_000_000_500 }),
      mockTask({ id: 'web.2', agentId: 'a1', state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'exit 3', exitCode: 3, healthy: false, endedAt: 1_700_000_009_000 }),
    ];
    const { tasks: _tasks, ...rest } = snapshot;
    last().receive({ type: 'snapshot', ...rest, compactTasks: compactTasks(views) });
    expect(store.connection.value.status).to.equal('live');
    expect(store.cluster.value.seq).to.equal(7);
    expect(store.cluster.value.tasks.get('web.1')).to.deep.equal(taskSummary(views[0]!));
    expect(store.cluster.value.tasks.get('web.2')).to.deep.equal(taskSummary(views[1]!));
    expect(store.cluster.value.agents.get('a1')?.hostname).to.equal('node-1');
  });

  it('starts over when a compact snapshot makes no sense', () => {
    const { store, sockets, last } = setup();
    store.start();
    last().open();
    const { tasks: _tasks, ...rest } = snapshot;
    last().receive({ type: 'snapshot', ...rest, compactTasks: { strings: [], rows: [['t1', 5]] } });
    expect(store.cluster.value.loaded).to.equal(false);
    expect(sockets[0]!.closedByClient?.code).to.equal(4000);
    expect(sockets).to.have.length(2);
  });

  it('starts over with a snapshot when a compact batch makes no sense', () => {
    const { store, sockets, last } = setup();
    store.start();
    last().open();
    last().receive({ type: 'snapshot', ...snapshot });
    last().receive([8, ['x?', 't1', {}]]);
    expect(sockets[0]!.closedByClient?.code).to.equal(4000);
    expect(sockets).to.have.length(2);
    last().open();
    expect(last().sent[0]).to.deep.equal({ type: 'hello', token: 'tok-1', compact: true }, 'no resume: a fresh snapshot');
  });

  it('applies the events of a large cluster together, and what is pending before the link goes', () => {
    const { store, timers, last } = setup();
    store.start();
    last().open();
    const tasks = Array.from({ length: LARGE_CLUSTER }, (_, i) => mockTaskSummary({ id: `t${i}`, agentId: 'a1' }));
    last().receive({ type: 'snapshot', ...mockSnapshot({ epoch: 'e1', seq: 7, tasks }) });
    const shown = store.cluster.value;
    last().receive([8, ['t~', 't1', { state: 'TASK_FAILED' }]]);
    last().receive([9, ['t~', 't2', { state: 'TASK_FAILED' }]]);
    expect(store.cluster.value).to.equal(shown, 'not applied yet');
    expect([...timers.pending.values()].map((t) => t.ms)).to.deep.equal([LARGE_APPLY_MS], 'one application for both');
    timers.fire();
    expect(store.cluster.value.seq).to.equal(9);
    expect(store.cluster.value.tasks.get('t2')?.state).to.equal('TASK_FAILED');

    last().receive([10, ['t-', 't3']]);
    last().serverClose(1006);
    expect(store.cluster.value.seq).to.equal(10, 'applied when the link dropped');
    expect(store.cluster.value.tasks.has('t3')).to.equal(false);
  });

  it('reconnects with backoff after a drop and resumes from its last epoch and seq', () => {
    const { store, sockets, timers, last } = setup();
    store.start();
    last().open();
    last().receive({ type: 'snapshot', ...snapshot });
    const shown = store.cluster.value;

    last().serverClose(1006);
    expect(store.connection.value).to.include({ status: 'reconnecting', attempt: 1, retryAt: 51_000 });
    expect(store.cluster.value).to.equal(shown, 'the last known state stays on screen');
    expect([...timers.pending.values()].map((t) => t.ms)).to.deep.equal([1000]);

    timers.fire();
    expect(sockets).to.have.length(2);
    last().serverClose(1006);
    expect(store.connection.value.attempt).to.equal(2);
    expect([...timers.pending.values()].map((t) => t.ms)).to.deep.equal([2000], 'the wait grows');

    timers.fire();
    last().open();
    expect(last().sent[0]).to.deep.equal({ type: 'hello', token: 'tok-1', epoch: 'e1', seq: 7, compact: true });
    last().receive({
      type: 'events',
      epoch: 'e1',
      events: [{ seq: 8, at: 2, kind: 'task', op: 'delete', id: 't2' }],
    });
    expect(store.connection.value).to.include({ status: 'live', attempt: 0 });
    expect(store.cluster.value.tasks.has('t2')).to.equal(false);
    expect(store.cluster.value.tasks.get('t1')).to.equal(shown.tasks.get('t1'));
  });

  it('treats a heartbeat after a resume as live, and a new epoch as a reason to start over', () => {
    const { store, sockets, timers, last } = setup();
    store.start();
    last().open();
    last().receive({ type: 'snapshot', ...snapshot });
    last().serverClose(1001);
    timers.fire();
    last().open();
    last().receive({ type: 'heartbeat', epoch: 'e1', seq: 7, at: 3 });
    expect(store.connection.value.status).to.equal('live');

    // The master restarted: its numbers start again, so resuming from ours would skip events.
    last().receive({ type: 'heartbeat', epoch: 'e2', seq: 1, at: 4 });
    expect(sockets[1]!.closedByClient?.code).to.equal(4000);
    expect(sockets).to.have.length(3);
    last().open();
    expect(last().sent[0]).to.deep.equal({ type: 'hello', token: 'tok-1', compact: true });
    last().receive({ type: 'snapshot', ...mockSnapshot({ epoch: 'e2', seq: 1 }) });
    expect(store.cluster.value.epoch).to.equal('e2');
    expect(store.cluster.value.agents.size).to.equal(0);
  });

  it('drops to unauthorized on close 4401, forgets the token and does not retry', () => {
    const { store, timers, tokens, last } = setup('wrong');
    store.start();
    last().open();
    last().serverClose(CLOSE.UNAUTHORIZED, 'bad token');
    expect(store.connection.value).to.include({ status: 'unauthorized', message: 'bad token' });
    expect(tokens.value).to.equal(null);
    expect(timers.pending.size).to.equal(0);

    store.login('right');
    expect(store.connection.value.status).to.equal('connecting');
    expect(store.connection.value.message).to.equal(undefined);
    last().open();
    expect(last().sent[0]).to.deep.equal({ type: 'hello', token: 'right', compact: true });
  });

  it('logs out: closes the stream, forgets token and cluster, stops retrying', () => {
    const { store, timers, tokens, last } = setup();
    store.start();
    last().open();
    last().receive({ type: 'snapshot', ...snapshot });
    const socket = last();
    store.logout();
    expect(socket.closedByClient?.code).to.equal(1000);
    expect(tokens.value).to.equal(null);
    expect(store.cluster.value.loaded).to.equal(false);
    expect(store.cluster.value.agents.size).to.equal(0);
    expect(store.connection.value.status).to.equal('idle');
    socket.serverClose(1000);
    expect(timers.pending.size).to.equal(0);
  });

  it('retries at once when asked (browser back online) instead of waiting out the backoff', () => {
    const { store, sockets, timers, last } = setup();
    store.start();
    last().serverClose(1006);
    expect(timers.pending.size).to.equal(1);
    store.retryNow();
    expect(timers.pending.size).to.equal(0);
    expect(sockets).to.have.length(2);
    store.retryNow();
    expect(sockets).to.have.length(2, 'no second socket while one is open');
  });

  it('backs off exponentially with jitter up to 30 s, and builds ws/wss URLs from the page', () => {
    expect(defaultBackoff(1, () => 0)).to.equal(250);
    expect(defaultBackoff(1, () => 1)).to.equal(500);
    expect(defaultBackoff(4, () => 1)).to.equal(4000);
    expect(defaultBackoff(30, () => 1)).to.equal(30_000);
    expect(streamUrl({ protocol: 'http:', host: '127.0.0.1:5050' })).to.equal('ws://127.0.0.1:5050/api/v1/stream');
    expect(streamUrl({ protocol: 'https:', host: 'yagura.example' })).to.equal('wss://yagura.example/api/v1/stream');
  });
});

describe('token', () => {
  it('takes the token out of the #token= fragment and rewrites the address without it', () => {
    const calls: string[] = [];
    const history = { state: null, replaceState: (_: unknown, __: string, url?: string | URL | null) => calls.push(String(url)) };
    expect(takeTokenFromUrl({ hash: '#token=abc%2B1', pathname: '/nodes', search: '?x=1' }, history)).to.equal('abc+1');
    expect(calls).to.deep.equal(['/nodes?x=1']);
    expect(takeTokenFromUrl({ hash: '#token=t&tab=2', pathname: '/', search: '' }, history)).to.equal('t');
    expect(calls[1]).to.equal('/#tab=2');
    expect(takeTokenFromUrl({ hash: '#/nodes', pathname: '/', search: '' }, history)).to.equal(null);
    expect(calls).to.have.length(2, 'an address without a token is left alone');
  });

  it('keeps the token in localStorage, and in memory when storage throws', () => {
    const tokens = localTokenStore(localStorage);
    tokens.set('persisted');
    expect(localStorage.getItem(TOKEN_KEY)).to.equal('persisted');
    expect(localTokenStore(localStorage).get()).to.equal('persisted');
    tokens.clear();
    expect(localStorage.getItem(TOKEN_KEY)).to.equal(null);

    const broken = {
      getItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
      setItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
      removeItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
    } as unknown as Storage;
    const fallback = localTokenStore(broken);
    fallback.set('in-memory');
    expect(fallback.get()).to.equal('in-memory');
    fallback.clear();
    expect(fallback.get()).to.equal(null);
  });
});
