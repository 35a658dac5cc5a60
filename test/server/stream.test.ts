import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { compactTasks, expandCompactTasks, type CompactTasks } from '../../protocol/compact-tasks.js';
import {
  taskSummary,
  type CompactEvents,
  type CompactStreamSnapshot,
  type StreamEvent,
  type StreamServerMessage,
  type StreamSnapshot,
  type TaskState,
  type TaskSummary,
  type TaskView,
} from '../../protocol/types.js';
import { snapshotMessage } from '../../server/api/stream.js';
import { fakeAgentConnection, registerMessage, startMaster, StreamClient, waitFor, type TestMaster } from '../support/cluster.js';
import { shellCommand, subscribeScheduler } from '../support/scheduler.js';

type Snapshot = { type: 'snapshot' } & StreamSnapshot;
type CompactSnapshot = { type: 'snapshot' } & CompactStreamSnapshot;
/** The snapshot a client got (a verbose one, unless the client said `compact`: see compactSnapshotOf). */
const snapshotOf = (msgs: StreamServerMessage[]) => msgs.find((m): m is Snapshot => m.type === 'snapshot');
const compactSnapshotOf = (msgs: StreamServerMessage[]) => msgs.find((m): m is CompactSnapshot => m.type === 'snapshot');
const eventsOf = (msgs: StreamServerMessage[]): StreamEvent[] => msgs.flatMap((m) => (m.type === 'events' ? m.events : []));
/** The compact batches a client received (arrays), and every other message. */
const compactOf = (msgs: StreamServerMessage[]) => (msgs as unknown[]).filter((m): m is CompactEvents => Array.isArray(m));

describe('dashboard stream', () => {
  let m: TestMaster;
  const clients: StreamClient[] = [];
  const client = (opts?: ConstructorParameters<typeof StreamClient>[1]) => {
    const c = new StreamClient(m.url, opts);
    clients.push(c);
    return c;
  };

  before(async () => {
    m = await startMaster({ stream: { maxBufferedBytes: 256 * 1024, coalesceMs: 5 } });
  });
  after(async () => {
    for (const c of clients) c.close();
    await m.dispose();
  });

  it('sends a snapshot, then every change as ordered, numbered events', async () => {
    m.master.registerAgent(fakeAgentConnection(), registerMessage('before-subscribe'));
    await m.master.commit();
    const c = client();
    await c.opened();
    c.send({ type: 'hello', token: m.adminToken });
    const snap = await c.until(snapshotOf);
    assert.equal(snap.epoch, m.master.epoch);
    assert.ok(snap.agents.some((a) => a.hostname === 'before-subscribe'), 'snapshot holds the existing agent');

    for (let i = 0; i < 5; i++) m.master.registerAgent(fakeAgentConnection(), registerMessage(`agent-${i}`));
    await m.master.commit();
    const events = await c.until((msgs) => {
      const evs = eventsOf(msgs).filter((e) => e.kind === 'agent' && e.op === 'put');
      return evs.length >= 5 && evs;
    });
    const all = eventsOf(c.messages);
    assert.equal(all[0]!.seq, snap.seq + 1, 'events continue right after the snapshot');
    for (let i = 1; i < all.length; i++) assert.equal(all[i]!.seq, all[i - 1]!.seq + 1, 'no gaps, no reordering');
    assert.deepEqual(
      events.map((e) => (e.op === 'put' && e.kind === 'agent' ? e.data.hostname : '')),
      ['agent-0', 'agent-1', 'agent-2', 'agent-3', 'agent-4'],
    );
  });

  it('resumes from a sequence number without a snapshot', async () => {
    const a = client();
    await a.opened();
    a.send({ type: 'hello', token: m.adminToken });
    const snap = await a.until(snapshotOf);
    a.close();
    m.master.registerAgent(fakeAgentConnection(), registerMessage('while-away-1'));
    m.master.registerAgent(fakeAgentConnection(), registerMessage('while-away-2'));
    await m.master.commit();

    const b = client();
    await b.opened();
    b.send({ type: 'hello', token: m.adminToken, epoch: snap.epoch, seq: snap.seq });
    const missed = await b.until((msgs) => {
      const hosts = eventsOf(msgs).flatMap((e) => (e.kind === 'agent' && e.op === 'put' ? [e.data.hostname] : []));
      return hosts.includes('while-away-2') && hosts;
    });
    assert.deepEqual(missed, ['while-away-1', 'while-away-2']);
    assert.equal(snapshotOf(b.messages), undefined, 'no snapshot when the server still has the missed events');
    assert.equal(eventsOf(b.messages)[0]!.seq, snap.seq + 1);
  });

  it('sends a fresh snapshot for an unknown epoch or a sequence number it no longer has', async () => {
    const c = client();
    await c.opened();
    c.send({ type: 'hello', token: m.adminToken, epoch: 'another-run', seq: 3 });
    const snap = await c.until(snapshotOf);
    assert.equal(snap.seq, m.master.events.seq);
  });

  it('drops a stalled client at the queue bound while another keeps receiving', async () => {
    const stalled = client();
    const healthy = client();
    await Promise.all([stalled.opened(), healthy.opened()]);
    stalled.send({ type: 'hello', token: m.adminToken });
    healthy.send({ type: 'hello', token: m.adminToken });
    await stalled.until(snapshotOf);
    await healthy.until(snapshotOf);
    const hubBefore = m.hub.size;
    // stop reading: the kernel buffers fill, then the server's queue grows
    stalled.ws.pause();
    // flood until the cut-off: how much the loopback socket buffers absorb first varies by machine
    const big = 'x'.repeat(20_000);
    let last = '';
    for (let i = 0; i < 5_000 && m.hub.size !== hubBefore - 1; i++) {
      last = `flood-${i}`;
      m.master.registerAgent(fakeAgentConnection(), registerMessage(last, { attributes: { filler: big } }));
      if (i % 50 === 49) {
        await m.master.commit();
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    await m.master.commit();
    await waitFor(() => m.hub.size === hubBefore - 1, 10_000, 'the stalled client to be cut off');
    await healthy.until((msgs) => eventsOf(msgs).some((e) => e.kind === 'agent' && e.op === 'put' && e.data.hostname === last), 10_000);
    assert.equal(healthy.closeCode, undefined, 'the healthy client stays connected');
  });

  it('lets a snapshot bigger than the bound drain while events keep coming', async () => {
    // ~12 MB of agents: more than the bound (256 KB) and than the loopback buffers take at once
    const big = 'y'.repeat(20_000);
    for (let i = 0; i < 600; i++) m.master.registerAgent(fakeAgentConnection(), registerMessage(`big-${i}`, { attributes: { filler: big } }));
    await m.master.commit();
    const c = client();
    await c.opened();
    c.ws.pause(); // a browser busy parsing: nothing is read for a while
    c.send({ type: 'hello', token: m.adminToken });
    await waitFor(() => m.hub.size > 0 && c.ws.bufferedAmount === 0, 5000, 'the hello to go out');
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 5; i++) {
      m.master.registerAgent(fakeAgentConnection(), registerMessage(`during-snapshot-${i}`));
      await m.master.commit();
      await new Promise((r) => setTimeout(r, 20));
    }
    c.ws.resume();
    const snap = await c.until(snapshotOf, 30_000);
    assert.ok(snap.agents.length >= 600);
    await c.until((msgs) => eventsOf(msgs).some((e) => e.kind === 'agent' && e.op === 'put' && e.data.hostname === 'during-snapshot-4'), 30_000);
    assert.equal(c.closeCode, undefined, 'not cut off for its own snapshot');
  });

  it('refuses a missing or wrong token with 4401', async () => {
    const none = client();
    await none.opened();
    none.send({ type: 'hello' });
    assert.equal(await none.closed(), 4401);
    const wrong = client();
    await wrong.opened();
    wrong.send({ type: 'hello', token: 'nope' });
    assert.equal(await wrong.closed(), 4401);
  });

  it('accepts the token in Sec-WebSocket-Protocol and refuses a foreign Origin', async () => {
    const c = client({ protocols: ['yagura.v1', `bearer.${m.adminToken}`] });
    await c.opened();
    assert.equal(c.ws.protocol, 'yagura.v1', 'the token is never echoed back as the protocol');
    c.send({ type: 'hello' });
    await c.until(snapshotOf);

    const foreign = client({ origin: 'https://evil.example' });
    await assert.rejects(foreign.opened(), /403/);
    const same = client({ origin: m.url });
    await same.opened();
  });

  it('closes on an oversized frame with 1009', async () => {
    const c = client();
    await c.opened();
    c.ws.send(JSON.stringify({ type: 'hello', token: 'x'.repeat(200 * 1024) }));
    assert.equal(await c.closed(), 1009);
  });

  it('closes on a malformed message with 4400', async () => {
    const c = client();
    await c.opened();
    c.ws.send('{not json');
    assert.equal(await c.closed(), 4400);
  });
});

describe('dashboard stream: task summaries and the compact encoding', () => {
  let m: TestMaster;
  let agentId: string;
  let frameworkId: string;
  let sched: Awaited<ReturnType<typeof subscribeScheduler>>;
  const conn = fakeAgentConnection();
  const clients: StreamClient[] = [];
  const status = (taskId: string, state: TaskState, extra: { healthy?: boolean; message?: string } = {}) =>
    m.master.agentMessage(agentId, conn, { type: 'status', update: { uuid: randomUUID(), taskId, frameworkId, agentId, state, timestamp: Date.now(), ...extra } });
  const hello = async (msg: Record<string, unknown> = {}) => {
    const c = new StreamClient(m.url);
    clients.push(c);
    await c.opened();
    c.send({ type: 'hello', token: m.adminToken, ...msg });
    return c;
  };

  before(async () => {
    m = await startMaster({ stream: { coalesceMs: 5 }, master: { allocationIntervalMs: 30 } });
    agentId = m.master.registerAgent(conn, registerMessage('summaries'))!;
    const s = (sched = await subscribeScheduler(m.master));
    frameworkId = s.frameworkId;
    for (const [i, id] of ['web.1', 'web.2'].entries()) {
      const offer = await waitFor(() => s.takeOffer((o) => o.agentId === agentId), 5000, 'an offer');
      await m.master.accept(frameworkId, [offer.id], [{
        taskId: id,
        name: 'web',
        agentId,
        resources: { cpus: 0.5, mem: 64, disk: 10, ports: [[31001 + i, 31001 + i]] },
        command: { ...shellCommand('python3 -m http.server $PORT0'), env: { SECRET_TOKEN: 'do-not-stream' } },
        labels: { YAGURA_APP_ID: '/prod/web', team: 'blue' },
      }], 0);
      status(id, 'TASK_RUNNING');
    }
    await m.master.commit();
  });
  after(async () => {
    for (const c of clients) c.close();
    await m.dispose();
  });

  it('snapshots tasks as summaries: what lists show, without command, environment or labels', async () => {
    const c = await hello();
    const snap = await c.until(snapshotOf);
    const web1 = snap.tasks.find((t) => t.id === 'web.1')!;
    const full = m.master.getTask('web.1')!;
    assert.deepEqual(web1, taskSummary(full));
    assert.equal(web1.service, '/prod/web', 'the service comes from the YAGURA_APP_ID label');
    assert.equal(web1.cpus, 0.5);
    assert.equal(web1.state, 'TASK_RUNNING');
    for (const key of ['command', 'labels', 'resources', 'statusUuid']) assert.ok(!(key in web1), `no ${key} in a summary`);
    assert.ok(!JSON.stringify(snap).includes('do-not-stream'), 'the environment is not streamed');
    // the details are one REST call away
    const res = await fetch(`${m.url}/api/v1/tasks/web.1`, { headers: { authorization: `Bearer ${m.adminToken}` } });
    assert.equal(((await res.json()) as { command: { env: Record<string, string> } }).command.env.SECRET_TOKEN, 'do-not-stream');
  });

  it('serializes the snapshot from cached task strings that follow every change', () => {
    const parse = () => JSON.parse(snapshotMessage(m.master)) as Snapshot;
    const first = parse();
    assert.equal(first.type, 'snapshot');
    assert.equal(first.seq, m.master.events.seq);
    assert.deepEqual(first.tasks, m.master.listTasks().map(taskSummary));
    assert.deepEqual(first.agents, m.master.listAgents());
    status('web.2', 'TASK_RUNNING', { healthy: false, message: 'check failed' });
    const second = parse();
    const web2 = second.tasks.find((t) => t.id === 'web.2')!;
    assert.equal(web2.healthy, false, 'a changed task is serialized again');
    assert.equal(web2.message, 'check failed');
    assert.deepEqual(second.tasks.find((t) => t.id === 'web.1'), first.tasks.find((t) => t.id === 'web.1'));
  });

  it('gives a compact client the tasks as one table: the same summaries in fewer bytes', async () => {
    status('web.2', 'TASK_RUNNING', { healthy: false, message: 'check "failed"' });
    await m.master.commit();
    const c = await hello({ compact: true });
    const snap = await c.until(compactSnapshotOf);
    assert.ok(!('tasks' in snap), 'no summary objects');
    const expected = m.master.listTasks().map(taskSummary);
    assert.deepEqual(expandCompactTasks(snap.compactTasks), expected);
    assert.equal(snap.seq, m.master.events.seq);
    assert.deepEqual(snap.agents, m.master.listAgents());
    const web2 = expandCompactTasks(snap.compactTasks).find((t) => t.id === 'web.2')!;
    assert.equal(web2.healthy, false);
    assert.equal(web2.message, 'check "failed"');
    // shared strings once: the framework, agent and service ids are not repeated per task
    const { strings } = snap.compactTasks;
    for (const shared of [frameworkId, agentId, '/prod/web']) assert.equal(strings.filter((x) => x === shared).length, 1, shared);
    // what the table saves grows with the tasks: thousands like these
    const views = m.master.listTasks();
    const many = Array.from({ length: 4500 }, (_, i) => ({ ...views[i % views.length]!, id: `web.${i}` }) as TaskView);
    const table = JSON.stringify(compactTasks(many));
    const objects = JSON.stringify(many.map(taskSummary)).length;
    assert.ok(table.length * 2 < objects, `the table is ${table.length} B, the summaries ${objects} B`);
  });

  it('refuses a malformed compact task table', () => {
    const ok = compactTasks(m.master.listTasks());
    assert.equal(expandCompactTasks(ok).length, 2);
    const broken: Array<[string, unknown]> = [
      ['no rows', { strings: [] }],
      ['a row that is no array', { strings: ok.strings, rows: ['web.1'] }],
      ['a short row', { strings: ok.strings, rows: [ok.rows[0]!.slice(0, 5)] }],
      ['an index past the strings', { strings: ok.strings, rows: [[...ok.rows[0]!.slice(0, 1), 99, ...ok.rows[0]!.slice(2)]] }],
      ['a string for a number', { strings: ok.strings, rows: [[...ok.rows[0]!.slice(0, 5), 'lots', ...ok.rows[0]!.slice(6)]] }],
      ['a healthy that is no boolean', { strings: ok.strings, rows: [[...ok.rows[0]!.slice(0, 10), null, null, 'yes']] }],
      ['null', null],
    ];
    for (const [what, table] of broken) assert.throws(() => expandCompactTasks(table as CompactTasks), /compact task/, what);
  });

  it('sends compact batches: [first seq, [code, id, changed fields]…], without gaps', async () => {
    const c = await hello({ compact: true });
    const snap = await c.until(snapshotOf);
    status('web.1', 'TASK_RUNNING', { healthy: true, message: 'ok' });
    m.master.registerAgent(fakeAgentConnection(), registerMessage('compact-agent'));
    await m.master.commit();
    const batches = await c.until((msgs) => {
      const b = compactOf(msgs);
      return b.flat().some((e) => Array.isArray(e) && e[0] === 'a+') && b;
    });
    assert.equal(batches[0]![0], snap.seq + 1, 'the first batch continues right after the snapshot');
    let next = snap.seq + 1;
    for (const b of batches) {
      assert.equal(b[0], next, 'no gaps between batches');
      next += b.length - 1;
    }
    const events = batches.flatMap((b) => b.slice(1) as Array<[string, string, unknown?]>);
    const patch = events.find((e) => e[0] === 't~' && e[1] === 'web.1')!;
    const data = patch[2] as Partial<TaskSummary>;
    assert.equal(data.healthy, true);
    assert.equal(data.message, 'ok');
    assert.equal(typeof data.updatedAt, 'number');
    assert.ok(!('statusUuid' in data), 'only what a summary holds');
    const agent = events.find((e) => e[0] === 'a+')!;
    assert.equal((agent[2] as { hostname: string }).hostname, 'compact-agent');
    assert.equal(c.messages.filter((x) => !Array.isArray(x) && x.type === 'events').length, 0, 'no verbose events for a compact client');
  });

  it('keeps one task change to a fifth of the task object on the wire', async () => {
    const c = await hello({ compact: true });
    await c.until(snapshotOf);
    const before = c.messages.length;
    status('web.2', 'TASK_RUNNING', { healthy: true, message: 'p' });
    await m.master.commit();
    const batch = await c.until((msgs) => msgs.length > before && msgs[msgs.length - 1]);
    const bytes = JSON.stringify(batch).length;
    const full = JSON.stringify(m.master.getTask('web.2')).length;
    assert.ok(bytes * 5 <= full, `${bytes} B for one change, the task is ${full} B`);
  });

  it('resumes a compact client from its sequence number, compactly', async () => {
    const a = await hello({ compact: true });
    const snap = await a.until(snapshotOf);
    a.close();
    status('web.1', 'TASK_KILLED', { message: 'killed while away' });
    await m.master.commit();
    const b = await hello({ compact: true, epoch: snap.epoch, seq: snap.seq });
    const batches = await b.until((msgs) => compactOf(msgs).length > 0 && compactOf(msgs));
    assert.equal(snapshotOf(b.messages), undefined);
    assert.equal(batches[0]![0], snap.seq + 1);
    const killed = batches.flatMap((x) => x.slice(1) as Array<[string, string, unknown?]>).find((e) => e[0] === 't~' && e[1] === 'web.1')!;
    assert.equal((killed[2] as Partial<TaskSummary>).state, 'TASK_KILLED');
  });

  it('sends summaries in verbose events too', async () => {
    const c = await hello();
    await c.until(snapshotOf);
    const offer = await waitFor(() => sched.takeOffer((o) => o.agentId === agentId), 5000, 'an offer');
    await m.master.accept(frameworkId, [offer.id], [{ taskId: 'job.1', name: 'job', agentId, resources: { cpus: 0.1, mem: 16, disk: 0, ports: [] }, command: shellCommand('true'), labels: {} }], 0);
    const put = await c.until((msgs) => eventsOf(msgs).find((e) => e.kind === 'task' && e.op === 'put' && e.id === 'job.1'));
    assert.ok(put.kind === 'task' && put.op === 'put');
    assert.deepEqual(put.data, taskSummary(m.master.getTask('job.1')!));
    assert.equal(typeof put.at, 'number');
  });
});
