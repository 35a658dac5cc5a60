import { ContextProvider } from '@lit/context';
import { expect, fixture, html } from '@open-wc/testing';
import type { MdSwitch } from '@material/web/switch/switch.js';
import type { StreamEvent, JobRunView } from '../../protocol/types.js';
import { applyEvents, fromSnapshot } from '../../src/state/cluster-state.js';
import type { ClusterState } from '../../src/state/cluster-state.js';
import { ClusterStore } from '../../src/state/cluster-store.js';
import { ClusterNotifier, NOTIFICATIONS_KEY, NotificationSetting, diffAlerts, notificationsContext } from '../../src/state/notifications.js';
import type { Alert, PermissionApi } from '../../src/state/notifications.js';
import '../../src/views/yg-settings-view.js';
import { mockAgent, mockSnapshot, mockTask, mockTaskSummary } from '../support/builders.js';
import { $, settle, text } from './harness.js';
import { YgTestHost } from './harness.js';
import { mockService } from './mock-services.js';
import { FakeSocket, ManualTimers, memoryTokens } from './stream-fakes.js';
import { useTheme } from './theme.js';

function run(overrides: Partial<JobRunView> & { id: string; jobId: string }): JobRunView {
  return { status: 'ACTIVE', trigger: 'manual', createdAt: 1, attempts: 1, taskIds: [], ...overrides };
}

const base = fromSnapshot(
  mockSnapshot({
    epoch: 'e1',
    seq: 10,
    agents: [mockAgent({ id: 'a1', hostname: 'node-1' }), mockAgent({ id: 'a2', hostname: 'node-2' })],
    tasks: [mockTask({ id: 'web.1', name: 'web', agentId: 'a1' }), mockTask({ id: 'old.1', name: 'old', agentId: 'a1', state: 'TASK_FAILED' })],
    services: [mockService({ id: '/prod/web', healthChecked: true, tasksHealthy: 2, tasksRunning: 2 })],
    jobRuns: [run({ id: 'r1', jobId: 'backup.db' }), run({ id: 'r2', jobId: 'etl.extract' })],
  }),
);

let seq = 10;
type EventInput = StreamEvent extends infer E ? (E extends StreamEvent ? Omit<E, 'seq' | 'at'> : never) : never;
const apply = (state: ClusterState, ...events: EventInput[]) =>
  applyEvents(state, events.map((e) => ({ ...e, seq: ++seq, at: 0 }) as StreamEvent));

/** The browser's permission, played by the test. */
function fakePermission(initial: NotificationPermission, answer: NotificationPermission = initial) {
  const api = {
    permission: initial,
    asked: 0,
    async requestPermission() {
      api.asked++;
      api.permission = answer;
      return answer;
    },
  };
  return api satisfies PermissionApi;
}

function memoryStorage(): Storage {
  const map = new Map<string, string>();
  return {
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    getItem: (k) => map.get(k) ?? null,
    key: (i) => [...map.keys()][i] ?? null,
    removeItem: (k) => void map.delete(k),
    setItem: (k, v) => void map.set(k, v),
  };
}

describe('notifications: what turns bad', () => {
  it('announces a task that failed, with where it ran and a link to it', () => {
    const next = apply(base, { kind: 'task', op: 'patch', id: 'web.1', data: { state: 'TASK_FAILED', exitCode: 3 } });
    expect(diffAlerts(base, next)).to.deep.equal([{ title: 'Task failed: web', body: 'exit code 3 · on node-1', url: '/tasks/web.1', tag: 'task:web.1' }]);
    // Failing again (a patch of another field) is not news.
    const again = apply(next, { kind: 'task', op: 'patch', id: 'web.1', data: { message: 'still failed' } });
    expect(diffAlerts(next, again)).to.deep.equal([]);
    // Other states are not failures.
    const killed = apply(base, { kind: 'task', op: 'patch', id: 'web.1', data: { state: 'TASK_KILLED' } });
    expect(diffAlerts(base, killed)).to.deep.equal([]);
  });

  it('announces a service turning unhealthy, a failed job run and an unreachable agent', () => {
    const next = apply(
      base,
      { kind: 'service', op: 'patch', id: '/prod/web', data: { tasksUnhealthy: 1, tasksHealthy: 1 } },
      { kind: 'jobRun', op: 'patch', id: 'r1', data: { status: 'FAILED', reason: 'exit code 2', hostname: 'node-2' } },
      { kind: 'agent', op: 'patch', id: 'a2', data: { state: 'UNREACHABLE' } },
    );
    expect(diffAlerts(base, next).map((a) => [a.title, a.url])).to.deep.equal([
      ['Service unhealthy: /prod/web', '/services/%2Fprod%2Fweb'],
      ['Job run failed: backup.db', '/jobs/backup.db?run=r1'],
      ['Agent unreachable: node-2', '/nodes/a2'],
    ]);
    const worse = apply(next, { kind: 'service', op: 'patch', id: '/prod/web', data: { tasksUnhealthy: 2, tasksHealthy: 0 } });
    expect(diffAlerts(next, worse)).to.deep.equal([], 'already unhealthy');
  });

  it('does not count a skipped job slot as a failed run', () => {
    const next = apply(base, { kind: 'jobRun', op: 'patch', id: 'r2', data: { status: 'FAILED', skipped: true, reason: 'missed' } });
    expect(diffAlerts(base, next)).to.deep.equal([]);
  });

  it('says nothing about a first snapshot or a new master run', () => {
    const first = fromSnapshot(mockSnapshot({ epoch: 'e1', tasks: [mockTask({ id: 'x', agentId: 'a1', state: 'TASK_FAILED' })] }));
    expect(diffAlerts({ ...first, loaded: false }, first)).to.deep.equal([]);
    const restarted = fromSnapshot(mockSnapshot({ epoch: 'e2', tasks: [mockTask({ id: 'web.1', agentId: 'a1', state: 'TASK_FAILED' })] }));
    expect(diffAlerts(base, restarted)).to.deep.equal([]);
  });

  it('sums up a burst in one notification', () => {
    const tasks = ['a', 'b', 'c', 'd', 'e'].map((id) => mockTaskSummary({ id, agentId: 'a1' }));
    const before = apply(base, ...tasks.map((t) => ({ kind: 'task' as const, op: 'put' as const, id: t.id, data: t })));
    const after = apply(before, ...tasks.map((t) => ({ kind: 'task' as const, op: 'patch' as const, id: t.id, data: { state: 'TASK_FAILED' as const } })));
    const alerts = diffAlerts(before, after);
    expect(alerts).to.have.length(1);
    expect(alerts[0]!.title).to.equal('5 problems in the cluster');
    expect(alerts[0]!.body).to.contain('and 2 more');
    expect(alerts[0]!.url).to.equal('/');
  });
});

describe('notifications: opt-in and permission', () => {
  it('asks the browser once, and keeps the opt-in only when granted', async () => {
    const storage = memoryStorage();
    const permission = fakePermission('default', 'granted');
    const setting = new NotificationSetting({ storage, api: permission });
    expect(setting.active).to.equal(false);
    expect(await setting.enable()).to.equal('granted');
    expect(permission.asked).to.equal(1);
    expect(setting.active).to.equal(true);
    expect(storage.getItem(NOTIFICATIONS_KEY)).to.equal('on');
    // Kept for the next visit.
    expect(new NotificationSetting({ storage, api: permission }).active).to.equal(true);
    setting.disable();
    expect(setting.active).to.equal(false);
    expect(storage.getItem(NOTIFICATIONS_KEY)).to.equal(null);
  });

  it('does not ask the browser for its permission while not opted in (the notifier checks on every change)', () => {
    let reads = 0;
    const api = { requestPermission: async () => 'granted' as NotificationPermission, get permission(): NotificationPermission {
      reads++;
      return 'granted';
    } };
    const setting = new NotificationSetting({ storage: memoryStorage(), api });
    reads = 0;
    for (let i = 0; i < 10; i++) expect(setting.active).to.equal(false);
    expect(reads).to.equal(0);
  });

  it('changes nothing when the permission is refused', async () => {
    const storage = memoryStorage();
    storage.setItem('yagura.theme', 'dark');
    const setting = new NotificationSetting({ storage, api: fakePermission('default', 'denied') });
    expect(await setting.enable()).to.equal('denied');
    expect(setting.enabled.value).to.equal(false);
    expect(setting.permission.value).to.equal('denied');
    expect(storage.length).to.equal(1, 'only what was there before');
    expect(await new NotificationSetting({ api: null }).enable()).to.equal('unsupported');
  });
});

describe('notifications: from the stream', () => {
  function setup(active: boolean) {
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
      backoff: () => 1,
      setTimer: timers.set,
      clearTimer: timers.clear,
    });
    const shown: Alert[] = [];
    const notifier = new ClusterNotifier({
      cluster: store.cluster,
      connection: store.connection,
      setting: { active },
      show: async (alert) => void shown.push(alert),
    });
    notifier.start();
    store.start();
    return { store, shown, notifier, timers, last: () => sockets[sockets.length - 1]! };
  }

  const failed = (id: string, seqNo: number): StreamEvent => ({ seq: seqNo, at: 0, kind: 'task', op: 'patch', id, data: { state: 'TASK_FAILED' } });
  const snapshot = mockSnapshot({ epoch: 'e1', seq: 5, agents: [mockAgent({ id: 'a1' })], tasks: [mockTask({ id: 't1', agentId: 'a1' }), mockTask({ id: 't2', agentId: 'a1' })] });

  it('shows a failure that arrives live, not the snapshot, not a catch-up after a reconnect', () => {
    const t = setup(true);
    t.last().open();
    t.last().receive({ type: 'snapshot', ...mockSnapshot({ ...snapshot, tasks: [...snapshot.tasks, mockTask({ id: 'dead', agentId: 'a1', state: 'TASK_FAILED' })] }) });
    expect(t.shown).to.deep.equal([]);

    t.last().receive({ type: 'events', epoch: 'e1', events: [failed('t1', 6)] });
    expect(t.shown.map((a) => a.url)).to.deep.equal(['/tasks/t1']);

    t.last().serverClose(1006);
    t.timers.fire();
    t.last().open();
    // What happened while away arrives as the first message: it brings the link up, quietly.
    t.last().receive({ type: 'events', epoch: 'e1', events: [failed('t2', 7)] });
    expect(t.store.connection.value.status).to.equal('live');
    expect(t.shown).to.have.length(1);
    t.notifier.stop();
  });

  it('shows nothing when not opted in', () => {
    const t = setup(false);
    t.last().open();
    t.last().receive({ type: 'snapshot', ...snapshot });
    t.last().receive({ type: 'events', epoch: 'e1', events: [failed('t1', 6)] });
    expect(t.shown).to.deep.equal([]);
    t.notifier.stop();
  });
});

class NotifyHost extends YgTestHost {
  readonly permissionApi = fakePermission('default', 'denied');
  readonly storage = memoryStorage();
  readonly notifications = new NotificationSetting({ storage: this.storage, api: this.permissionApi });
  constructor() {
    super();
    new ContextProvider(this, { context: notificationsContext, initialValue: this.notifications });
  }
}
customElements.define('yg-notify-test-host', NotifyHost);

describe('yg-settings-view: notifications', () => {
  before(() => useTheme());

  async function settings(answer: NotificationPermission) {
    const host = await fixture<NotifyHost>(html`<yg-notify-test-host></yg-notify-test-host>`);
    host.permissionApi.permission = 'default';
    host.permissionApi.requestPermission = async () => {
      host.permissionApi.asked++;
      host.permissionApi.permission = answer;
      return answer;
    };
    const view = document.createElement('yg-settings-view');
    host.append(view);
    await settle(view);
    return { host, view, toggle: $<MdSwitch>(view, '#notify-switch') };
  }

  it('explains the permission, and a refusal leaves the switch off and says how to allow it', async () => {
    const { host, view, toggle } = await settings('denied');
    expect(text($(view, '#notify-status'))).to.contain('asks the browser for permission');
    expect(toggle.selected).to.equal(false);
    toggle.click();
    await new Promise((resolve) => setTimeout(resolve));
    await settle(view);
    expect(host.permissionApi.asked).to.equal(1);
    expect($<MdSwitch>(view, '#notify-switch').selected).to.equal(false);
    expect($<MdSwitch>(view, '#notify-switch').disabled).to.equal(true);
    expect(text($(view, '#notify-status'))).to.contain('blocked for this site');
    expect(host.notifications.enabled.value).to.equal(false);
    expect(host.theme.value.value).to.equal('system', 'nothing else changed');
    await expect(view).to.be.accessible();
  });

  it('turns on when the browser grants it, and off again', async () => {
    const { host, view, toggle } = await settings('granted');
    toggle.click();
    await new Promise((resolve) => setTimeout(resolve));
    await settle(view);
    expect(host.notifications.active).to.equal(true);
    expect(text($(view, '#notify-status'))).to.contain('On for this browser');
    $<MdSwitch>(view, '#notify-switch').click();
    await settle(view);
    expect(host.notifications.enabled.value).to.equal(false);
    expect(host.storage.getItem(NOTIFICATIONS_KEY)).to.equal(null);
    await expect(view).to.be.accessible();
  });
});
