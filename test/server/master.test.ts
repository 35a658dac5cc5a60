// The master's own logic against in-process agent connections and an in-process scheduler:
// offers, launches, status updates (at-least-once, deduplicated), heartbeats and
// unreachability, re-registration reconciliation, drain, and restart from SQLite.

import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { MasterToAgent, StatusUpdate, TaskState } from '../../protocol/types.js';
import { fakeAgentConnection, registerMessage, startMaster, waitFor, type TestMaster } from '../support/cluster.js';
import { RecordingScheduler, shellCommand, subscribeScheduler } from '../support/scheduler.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'yagura-master-'));
  dirs.push(d);
  return d;
};

function status(agentId: string, frameworkId: string, taskId: string, state: TaskState, extra: Partial<StatusUpdate> = {}): StatusUpdate {
  return { uuid: randomUUID(), taskId, frameworkId, agentId, state, timestamp: Date.now(), ...extra };
}

const launchesIn = (sent: MasterToAgent[]) => sent.filter((m): m is Extract<MasterToAgent, { type: 'launch' }> => m.type === 'launch');
const killsIn = (sent: MasterToAgent[]) => sent.filter((m): m is Extract<MasterToAgent, { type: 'kill' }> => m.type === 'kill');
const acksIn = (sent: MasterToAgent[]) => sent.filter((m): m is Extract<MasterToAgent, { type: 'ack' }> => m.type === 'ack');

async function launchOne(m: TestMaster, s: RecordingScheduler, agentId: string, taskId: string, cpus = 1) {
  const offer = await waitFor(() => s.takeOffer((o) => o.agentId === agentId), 5000, 'an offer');
  await m.master.accept(s.frameworkId, [offer.id], [
    { taskId, name: taskId, agentId, resources: { cpus, mem: 64, disk: 0, ports: [] }, command: shellCommand('sleep 100'), labels: {} },
  ], 0);
}

describe('master', () => {
  let m: TestMaster | undefined;
  afterEach(async () => {
    await m?.dispose();
    m = undefined;
  });

  it('offers an agent, launches on accept, applies updates once and acks duplicates', async () => {
    m = await startMaster({ dataDir: tempDir(), master: { allocationIntervalMs: 50 } });
    const conn = fakeAgentConnection();
    const agentId = m.master.registerAgent(conn, registerMessage('a1'))!;
    const s = await subscribeScheduler(m.master);
    await launchOne(m, s, agentId, 't1');
    await waitFor(() => launchesIn(conn.sent).length === 1, 2000, 'launch sent to the agent');
    assert.equal(m.master.getTask('t1')?.state, 'TASK_STAGING');
    assert.equal(m.master.getAgent(agentId)?.allocated.cpus, 1);

    const running = status(agentId, s.frameworkId, 't1', 'TASK_RUNNING');
    m.master.agentMessage(agentId, conn, { type: 'status', update: running });
    await m.master.commit();
    assert.equal(m.master.getTask('t1')?.state, 'TASK_RUNNING');
    assert.equal(acksIn(conn.sent).filter((a) => a.uuid === running.uuid).length, 1);
    assert.deepEqual(s.statesOf('t1'), ['TASK_RUNNING']);
    const update = s.updates.at(-1)!;
    assert.equal(update.uuid, running.uuid, 'the framework gets the uuid to acknowledge');

    // the agent did not see the ack and resends: acked again, applied once
    m.master.agentMessage(agentId, conn, { type: 'status', update: running });
    await m.master.commit();
    assert.equal(acksIn(conn.sent).filter((a) => a.uuid === running.uuid).length, 2);
    assert.deepEqual(s.statesOf('t1'), ['TASK_RUNNING'], 'a duplicate changes nothing');

    // an illegal transition is rejected, never applied
    m.master.agentMessage(agentId, conn, { type: 'status', update: status(agentId, s.frameworkId, 't1', 'TASK_STAGING') });
    await m.master.commit();
    assert.equal(m.master.getTask('t1')?.state, 'TASK_RUNNING');

    m.master.agentMessage(agentId, conn, { type: 'status', update: status(agentId, s.frameworkId, 't1', 'TASK_FINISHED') });
    await m.master.commit();
    assert.equal(m.master.getTask('t1')?.state, 'TASK_FINISHED');
    assert.equal(m.master.getAgent(agentId)?.allocated.cpus, 0, 'resources released on a terminal state');
  });

  it('rejects an accept that asks for more than the offer, and keeps the offer', async () => {
    m = await startMaster({ dataDir: tempDir(), master: { allocationIntervalMs: 50 } });
    const conn = fakeAgentConnection();
    const agentId = m.master.registerAgent(conn, registerMessage('a1'))!;
    const s = await subscribeScheduler(m.master);
    const offer = await waitFor(() => s.offerList.find((o) => o.agentId === agentId), 5000, 'offer');
    await assert.rejects(
      m.master.accept(s.frameworkId, [offer.id], [
        { taskId: 'huge', name: 'huge', agentId, resources: { cpus: 999, mem: 1, disk: 0, ports: [] }, command: shellCommand('true'), labels: {} },
      ]),
      (e: Error & { status?: number }) => e.status === 422,
    );
    assert.equal(m.master.getTask('huge'), undefined);
    await assert.rejects(m.master.accept(s.frameworkId, ['no-such-offer'], []), (e: Error & { status?: number }) => e.status === 404);
    // still usable
    await m.master.accept(s.frameworkId, [offer.id], [
      { taskId: 'ok', name: 'ok', agentId, resources: { cpus: 1, mem: 32, disk: 0, ports: [[31000, 31000]] }, command: shellCommand('true'), labels: {} },
    ]);
    assert.equal(m.master.getTask('ok')?.state, 'TASK_STAGING');
  });

  it('marks an agent that stops heartbeating UNREACHABLE with its tasks, and takes it back', async () => {
    m = await startMaster({ dataDir: tempDir(), master: { heartbeatIntervalMs: 100, maxMissedHeartbeats: 3, allocationIntervalMs: 50 } });
    const conn = fakeAgentConnection();
    const agentId = m.master.registerAgent(conn, registerMessage('flaky'))!;
    const s = await subscribeScheduler(m.master);
    await launchOne(m, s, agentId, 'p1');
    m.master.agentMessage(agentId, conn, { type: 'status', update: status(agentId, s.frameworkId, 'p1', 'TASK_RUNNING') });
    await m.master.commit();

    // no heartbeats from here on
    await waitFor(() => m!.master.getAgent(agentId)?.state === 'UNREACHABLE', 3000, 'UNREACHABLE');
    await m.master.commit();
    assert.equal(m.master.getTask('p1')?.state, 'TASK_UNREACHABLE');
    assert.equal(m.master.getTask('p1')?.reason, 'REASON_AGENT_UNREACHABLE');
    assert.ok(conn.closed, 'the stale link is closed');
    assert.ok(s.statesOf('p1').includes('TASK_UNREACHABLE'));

    // it comes back and reports the task still running, plus one the master never launched
    const conn2 = fakeAgentConnection();
    m.master.registerAgent(conn2, registerMessage('flaky', {
      agentId,
      tasks: [
        { taskId: 'p1', frameworkId: s.frameworkId, state: 'TASK_RUNNING', resources: { cpus: 1, mem: 64, disk: 0, ports: [] } },
        { taskId: 'stray', frameworkId: s.frameworkId, state: 'TASK_RUNNING', resources: { cpus: 1, mem: 64, disk: 0, ports: [] } },
      ],
    }));
    await m.master.commit();
    assert.equal(m.master.getAgent(agentId)?.state, 'ACTIVE');
    assert.equal(m.master.getTask('p1')?.state, 'TASK_RUNNING');
    assert.deepEqual(killsIn(conn2.sent).map((k) => k.taskId), ['stray'], 'tasks the master does not want are killed');
    assert.equal(conn2.sent[0]?.type, 'registered');
  });

  it('marks tasks LOST that an agent no longer has when it re-registers', async () => {
    m = await startMaster({ dataDir: tempDir(), master: { allocationIntervalMs: 50 } });
    const conn = fakeAgentConnection();
    const agentId = m.master.registerAgent(conn, registerMessage('a'))!;
    const s = await subscribeScheduler(m.master);
    await launchOne(m, s, agentId, 'gone-missing');
    m.master.agentDisconnected(agentId, conn);
    m.master.registerAgent(fakeAgentConnection(), registerMessage('a', { agentId, tasks: [] }));
    await m.master.commit();
    assert.equal(m.master.getTask('gone-missing')?.state, 'TASK_LOST');
    assert.equal(m.master.getAgent(agentId)?.allocated.cpus, 0);
  });

  it('drains an agent: no offers, tasks killed, DRAINED when all are terminal; reactivates', async () => {
    m = await startMaster({ dataDir: tempDir(), master: { allocationIntervalMs: 50 } });
    const conn = fakeAgentConnection();
    const agentId = m.master.registerAgent(conn, registerMessage('d'))!;
    const s = await subscribeScheduler(m.master);
    await launchOne(m, s, agentId, 'd1');
    m.master.agentMessage(agentId, conn, { type: 'status', update: status(agentId, s.frameworkId, 'd1', 'TASK_RUNNING') });
    m.master.drainAgent(agentId, { gracePeriodMs: 1000 });
    await m.master.commit();
    assert.equal(m.master.getAgent(agentId)?.state, 'DRAINING');
    assert.deepEqual(killsIn(conn.sent).map((k) => [k.taskId, k.gracePeriodMs]), [['d1', 1000]]);
    s.offerList = [];
    m.master.agentMessage(agentId, conn, { type: 'status', update: status(agentId, s.frameworkId, 'd1', 'TASK_KILLED') });
    await m.master.commit();
    assert.equal(m.master.getAgent(agentId)?.state, 'DRAINED');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(s.offerList.filter((o) => o.agentId === agentId).length, 0, 'a drained agent is not offered');
    m.master.reactivateAgent(agentId);
    await waitFor(() => s.offerList.some((o) => o.agentId === agentId), 3000, 'offers after reactivation');
    assert.throws(() => m!.master.reactivateAgent(agentId), (e: Error & { status?: number }) => e.status === 409);
  });

  it('marks an agent gone: tasks TASK_GONE, re-registration refused', async () => {
    m = await startMaster({ dataDir: tempDir(), master: { allocationIntervalMs: 50 } });
    const conn = fakeAgentConnection();
    const agentId = m.master.registerAgent(conn, registerMessage('g'))!;
    const s = await subscribeScheduler(m.master);
    await launchOne(m, s, agentId, 'g1');
    m.master.markAgentGone(agentId);
    await m.master.commit();
    assert.equal(m.master.getTask('g1')?.state, 'TASK_GONE');
    assert.equal(m.master.getAgent(agentId)?.state, 'GONE');
    const again = fakeAgentConnection();
    assert.equal(m.master.registerAgent(again, registerMessage('g', { agentId })), undefined);
    assert.equal(again.sent[0]?.type, 'refused');
  });

  it('marks an agent GONE once UNREACHABLE for agentGoneAfterMs, counting the time across a restart', async () => {
    const dataDir = tempDir();
    let clock = Date.now();
    const opts = { heartbeatIntervalMs: 100, maxMissedHeartbeats: 3, allocationIntervalMs: 50, agentGoneAfterMs: 60_000, now: () => clock };
    m = await startMaster({ dataDir, master: opts });
    const conn = fakeAgentConnection();
    const agentId = m.master.registerAgent(conn, registerMessage('far'))!;
    const s = await subscribeScheduler(m.master, 'partitioned', 3600);
    await launchOne(m, s, agentId, 'far1');
    m.master.agentMessage(agentId, conn, { type: 'status', update: status(agentId, s.frameworkId, 'far1', 'TASK_RUNNING') });
    await m.master.commit();
    clock += 1000; // past the heartbeat timeout
    await waitFor(() => m!.master.getAgent(agentId)?.state === 'UNREACHABLE', 3000, 'UNREACHABLE');
    clock += 30_000;
    await new Promise((r) => setTimeout(r, 200)); // several heartbeat checks at 31 s of 60
    assert.equal(m.master.getAgent(agentId)?.state, 'UNREACHABLE');
    await m.master.commit();
    await m.close();

    // the master is down for a minute: the agent has now been unreachable for 91 s
    clock += 60_000;
    m = await startMaster({ dataDir, master: opts });
    const s2 = new RecordingScheduler();
    await m.master.subscribe({ id: s.frameworkId, name: 'partitioned', user: 'test', roles: ['*'], failoverTimeoutSeconds: 3600 }, s2, 'stream-2');
    clock += 5000;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(m.master.getAgent(agentId)?.state, 'UNREACHABLE', 'a restarted master gives the agent time to reconnect first');
    clock += 6000; // the heartbeat timeout and the agents' longest reconnect delay (10 s) have passed
    await waitFor(() => m!.master.getAgent(agentId)?.state === 'GONE', 3000, 'GONE');
    await m.master.commit();
    const t = m.master.getTask('far1');
    assert.equal(t?.state, 'TASK_GONE');
    assert.equal(t?.reason, 'REASON_AGENT_REMOVED');
    // (the unacknowledged TASK_UNREACHABLE is owed to it again on re-subscribing, before this)
    assert.deepEqual(s2.statesOf('far1').filter((x) => x === 'TASK_GONE'), ['TASK_GONE'], 'the framework is told');
    assert.equal(s2.statesOf('far1').at(-1), 'TASK_GONE');
    const back = fakeAgentConnection();
    assert.equal(m.master.registerAgent(back, registerMessage('far', { agentId })), undefined);
    assert.deepEqual(back.sent.map((x) => x.type === 'refused' && x.gone), [true], 'refused as gone');
    assert.equal(back.closed?.code, 4403);
    await m.close();
    // GONE is stored
    m = await startMaster({ dataDir, master: { ...opts, agentGoneAfterMs: 0 } });
    assert.equal(m.master.getAgent(agentId)?.state, 'GONE');
  });

  it('never marks an UNREACHABLE agent GONE with agentGoneAfterMs 0', async () => {
    let clock = Date.now();
    m = await startMaster({ dataDir: tempDir(), master: { heartbeatIntervalMs: 100, maxMissedHeartbeats: 3, agentGoneAfterMs: 0, now: () => clock } });
    const agentId = m.master.registerAgent(fakeAgentConnection(), registerMessage('kept'))!;
    clock += 1000;
    await waitFor(() => m!.master.getAgent(agentId)?.state === 'UNREACHABLE', 3000, 'UNREACHABLE');
    clock += 365 * 24 * 3600 * 1000;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(m.master.getAgent(agentId)?.state, 'UNREACHABLE');
    const back = fakeAgentConnection();
    assert.equal(m.master.registerAgent(back, registerMessage('kept', { agentId })), agentId, 'it is taken back');
  });

  it('rescinds an offer that was neither used nor declined within the offer timeout', async () => {
    m = await startMaster({ dataDir: tempDir(), master: { allocationIntervalMs: 50, offerTimeoutMs: 300 } });
    const agentId = m.master.registerAgent(fakeAgentConnection(), registerMessage('slow'))!;
    const s = await subscribeScheduler(m.master);
    const offer = await waitFor(() => s.offerList.find((o) => o.agentId === agentId), 5000, 'offer');
    await waitFor(() => s.rescinded.includes(offer.id), 5000, 'rescind');
    await assert.rejects(m.master.accept(s.frameworkId, [offer.id], []), (e: Error & { status?: number }) => e.status === 404);
    // the resources come back in a new offer
    await waitFor(() => s.offerList.some((o) => o.agentId === agentId && o.id !== offer.id), 5000, 'a new offer');
  });

  it('keeps role weights set through the operator API across a restart', async () => {
    const dataDir = tempDir();
    m = await startMaster({ dataDir });
    const call = (body: unknown) =>
      fetch(`${m!.url}/api/v1`, { method: 'POST', headers: { authorization: `Bearer ${m!.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await call({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'web', weight: -1 }] } });
    assert.equal(bad.status, 400);
    assert.deepEqual(((await bad.json()) as { details: Array<{ path: string }> }).details.map((d) => d.path), ['/update_weights/weight_infos/0/weight']);
    const ok = await call({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'web', weight: 2.5 }] } });
    assert.equal(ok.status, 200);
    await m.close();
    m = await startMaster({ dataDir });
    const got = (await (await call({ type: 'GET_WEIGHTS' })).json()) as { get_weights: { weight_infos: Array<{ role: string; weight: number }> } };
    assert.deepEqual(got.get_weights.weight_infos, [{ role: 'web', weight: 2.5 }]);
  });

  it('restarts from SQLite with agents, frameworks and tasks intact', async () => {
    const dataDir = tempDir();
    m = await startMaster({ dataDir, master: { allocationIntervalMs: 50 } });
    const conn = fakeAgentConnection();
    const agentId = m.master.registerAgent(conn, registerMessage('persist', { attributes: { zone: 'z1' } }))!;
    const s = await subscribeScheduler(m.master, 'durable', 3600);
    await launchOne(m, s, agentId, 'keep');
    m.master.agentMessage(agentId, conn, { type: 'status', update: status(agentId, s.frameworkId, 'keep', 'TASK_RUNNING') });
    await m.master.commit();
    await m.close();

    m = await startMaster({ dataDir, master: { allocationIntervalMs: 50 } });
    assert.equal(m.master.getTask('keep')?.state, 'TASK_RUNNING');
    assert.equal(m.master.getAgent(agentId)?.attributes.zone, 'z1');
    const f = m.master.getFramework(s.frameworkId);
    assert.equal(f?.name, 'durable');
    assert.equal(f?.connected, false, 'it must re-subscribe');
    // the agent re-registers with the task: no duplicate, nothing lost
    const conn2 = fakeAgentConnection();
    m.master.registerAgent(conn2, registerMessage('persist', { agentId, tasks: [{ taskId: 'keep', frameworkId: s.frameworkId, state: 'TASK_RUNNING', resources: { cpus: 1, mem: 64, disk: 0, ports: [] } }] }));
    await m.master.commit();
    assert.equal(killsIn(conn2.sent).length, 0);
    assert.equal(m.master.listTasks().length, 1);
    assert.equal(m.master.getAgent(agentId)?.allocated.cpus, 1);
  });
});
