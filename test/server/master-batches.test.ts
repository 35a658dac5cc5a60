// Batched status updates on the agent protocol: a master announces `batches` in `registered`;
// an agent then sends the updates of one turn as one `updates` message, and the master answers
// them, after the commit, with one `acks` message. The single forms (`status`, `ack`) keep
// working for agents that do not batch.

import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { MAX_BATCH, type AgentToMaster, type MasterToAgent, type StatusUpdate, type TaskState } from '../../protocol/types.js';
import { validateAgentMessage } from '../../server/api/agent-messages.js';
import { parseMasterMessage } from '../../server/agent/agent.js';
import { startSimAgents, type SimHandle } from '../../server/sim/sim.js';
import { fakeAgentConnection, registerMessage, startMaster, waitFor, type TestMaster } from '../support/cluster.js';
import { shellCommand, subscribeScheduler } from '../support/scheduler.js';

const dir = mkdtempSync(join(tmpdir(), 'yagura-batches-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const update = (taskId: string, frameworkId: string, agentId: string, state: TaskState, uuid = randomUUID()): StatusUpdate => ({
  uuid,
  taskId,
  frameworkId,
  agentId,
  state,
  timestamp: Date.now(),
});

describe('batched status updates', { timeout: 60_000 }, () => {
  let m: TestMaster | undefined;
  let sim: SimHandle | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
    await m?.close();
    m = undefined;
  });

  it('answers an updates message after the commit with one acks message, and a status with an ack', async () => {
    m = await startMaster({ dataDir: join(dir, `m${++n}`), master: { allocationIntervalMs: 30 } });
    const conn = fakeAgentConnection();
    const agentId = m.master.registerAgent(conn, registerMessage('b1'))!;
    await m.master.commit();
    const registered = conn.sent.find((x) => x.type === 'registered');
    assert.equal(registered?.type === 'registered' && registered.batches, true, 'the master says it takes batches');

    const s = await subscribeScheduler(m.master);
    const offer = await waitFor(() => s.takeOffer((o) => o.agentId === agentId), 5000, 'an offer');
    const ids = ['a', 'b', 'c'];
    await m.master.accept(
      s.frameworkId,
      [offer.id],
      ids.map((id) => ({ taskId: id, name: id, agentId, resources: { cpus: 0.1, mem: 16, disk: 0, ports: [] }, command: shellCommand('sleep 100'), labels: {} })),
      0,
    );
    conn.sent.length = 0;

    const updates: StatusUpdate[] = [];
    for (const id of ids) updates.push(update(id, s.frameworkId, agentId, 'TASK_STARTING'), update(id, s.frameworkId, agentId, 'TASK_RUNNING'));
    // a resend of an update already applied (its ack was lost) rides along
    updates.push({ ...updates[1]! });
    m.master.agentMessage(agentId, conn, { type: 'updates', updates });
    assert.equal(conn.sent.length, 0, 'nothing is acknowledged before the commit');
    await m.master.commit();

    const acks = conn.sent.filter((x): x is Extract<MasterToAgent, { type: 'acks' }> => x.type === 'acks');
    assert.equal(acks.length, 1, 'one acks message for the whole batch');
    assert.equal(conn.sent.filter((x) => x.type === 'ack').length, 0);
    assert.deepEqual(
      acks[0]!.acks.map((a) => a.uuid).sort(),
      updates.map((u) => u.uuid).sort(),
    );
    for (const id of ids) {
      assert.equal(m.master.getTask(id)?.state, 'TASK_RUNNING');
      assert.deepEqual(s.statesOf(id), ['TASK_STARTING', 'TASK_RUNNING'], 'the framework hears of every update, in order');
    }

    // an agent that does not batch: one ack per status, as before
    conn.sent.length = 0;
    const single = update('a', s.frameworkId, agentId, 'TASK_FINISHED');
    m.master.agentMessage(agentId, conn, { type: 'status', update: single });
    await m.master.commit();
    assert.deepEqual(conn.sent, [{ type: 'ack', taskId: 'a', uuid: single.uuid }]);
    assert.equal(m.master.getTask('a')?.state, 'TASK_FINISHED');
  });

  it('simulated agents take a launches message, send updates in batches, and the master acknowledges all of them', async () => {
    m = await startMaster({ dataDir: join(dir, `m${++n}`), master: { allocationIntervalMs: 30, heartbeatIntervalMs: 1000, maxMissedHeartbeats: 5 } });
    const seen: string[] = [];
    const agentMessage = m.master.agentMessage.bind(m.master);
    m.master.agentMessage = (id, conn, msg: AgentToMaster) => {
      seen.push(msg.type);
      agentMessage(id, conn, msg);
    };
    sim = startSimAgents({ masterUrl: m.url, secret: m.agentSecret, agents: 1, statusRetryMs: 60_000 });
    await sim.registered(20_000);
    const agentId = sim.agents()[0]!.agentId!;
    const s = await subscribeScheduler(m.master);
    const offer = await waitFor(() => s.takeOffer((o) => o.agentId === agentId), 5000, 'an offer');
    const ids = Array.from({ length: 5 }, (_, i) => `t${i}`);
    await m.master.accept(
      s.frameworkId,
      [offer.id],
      ids.map((id) => ({ taskId: id, name: id, agentId, resources: { cpus: 0.1, mem: 16, disk: 0, ports: [] }, command: shellCommand('sleep 100'), labels: {} })),
      0,
    );
    await waitFor(() => ids.every((id) => m!.master.getTask(id)?.state === 'TASK_RUNNING'), 10_000, 'all running');
    await waitFor(() => sim!.counters.acks === 10, 10_000, 'every update acknowledged');
    assert.equal(sim.counters.updates, 10);
    assert.equal(sim.counters.resent, 0);
    assert.ok(seen.includes('updates'), 'the updates came batched');
    assert.ok(!seen.includes('status'), 'and never one by one');
    // the five came in one launches message (the sim says it accepts them)
    assert.equal(sim.counters.launched, 5);
    for (const id of ids) assert.deepEqual(s.statesOf(id), ['TASK_STARTING', 'TASK_RUNNING']);
  });

  it('sends the tasks of one accept as one launches message to an agent that accepts it, one by one to others', async () => {
    m = await startMaster({ dataDir: join(dir, `m${++n}`), master: { allocationIntervalMs: 30 } });
    const batching = fakeAgentConnection();
    const plain = fakeAgentConnection();
    const batchingId = m.master.registerAgent(batching, registerMessage('l1', { accepts: ['launches', 'something-newer'] }))!;
    const plainId = m.master.registerAgent(plain, registerMessage('l2'))!;
    await m.master.commit();
    const s = await subscribeScheduler(m.master);
    const launchOn = async (agentId: string, ids: string[]) => {
      const offer = await waitFor(() => s.takeOffer((o) => o.agentId === agentId), 5000, 'an offer');
      await m!.master.accept(
        s.frameworkId,
        [offer.id],
        ids.map((id) => ({ taskId: id, name: id, agentId, resources: { cpus: 0.1, mem: 16, disk: 0, ports: [] }, command: shellCommand('sleep 100'), labels: { k: id } })),
        0,
      );
    };
    batching.sent.length = 0;
    plain.sent.length = 0;
    await launchOn(batchingId, ['x1', 'x2', 'x3']);
    await launchOn(plainId, ['y1', 'y2']);

    const launches = batching.sent.filter((x): x is Extract<MasterToAgent, { type: 'launches' }> => x.type === 'launches');
    assert.equal(launches.length, 1, 'one message for the three tasks');
    assert.equal(batching.sent.filter((x) => x.type === 'launch').length, 0);
    assert.deepEqual(launches[0]!.tasks.map((t) => t.taskId), ['x1', 'x2', 'x3'], 'in the order they were accepted');
    for (const t of launches[0]!.tasks) {
      assert.equal(t.frameworkId, s.frameworkId);
      assert.deepEqual(t.labels, { k: t.taskId });
      assert.equal(t.resources.cpus, 0.1);
    }
    const single = plain.sent.filter((x): x is Extract<MasterToAgent, { type: 'launch' }> => x.type === 'launch');
    assert.deepEqual(single.map((x) => x.task.taskId), ['y1', 'y2'], 'an agent that did not say it accepts launches gets launch messages');
    assert.equal(plain.sent.filter((x) => x.type === 'launches').length, 0);

    // one task alone goes as a launch, whoever takes it
    batching.sent.length = 0;
    await launchOn(batchingId, ['x4']);
    assert.deepEqual(batching.sent.filter((x) => x.type === 'launch' || x.type === 'launches').map((x) => x.type), ['launch']);
  });

  it('checks the batch messages on both sides', () => {
    const u = { uuid: 'u', taskId: 't', frameworkId: 'f', agentId: 'a', state: 'TASK_RUNNING', timestamp: 1 };
    assert.equal(validateAgentMessage({ type: 'updates', updates: [u, u] }).ok, true);
    assert.equal(validateAgentMessage({ type: 'updates', updates: [] }).ok, true);
    assert.equal(validateAgentMessage({ type: 'updates', updates: [u, { ...u, state: 'RUNNING' }] }).ok, false, 'every update is checked');
    assert.equal(validateAgentMessage({ type: 'updates', updates: [u, 'x'] }).ok, false);
    assert.equal(validateAgentMessage({ type: 'updates', updates: {} }).ok, false);
    assert.equal(validateAgentMessage({ type: 'updates', updates: Array.from({ length: MAX_BATCH + 1 }, () => u) }).ok, false, 'batches are bounded');
    assert.equal(parseMasterMessage(JSON.stringify({ type: 'acks', acks: [{ taskId: 't', uuid: 'u' }] }))?.type, 'acks');
    assert.equal(parseMasterMessage(JSON.stringify({ type: 'acks', acks: [{ taskId: 't' }] })), null);
    assert.equal(parseMasterMessage(JSON.stringify({ type: 'acks', acks: 'x' })), null);
    const spec = { taskId: 't', frameworkId: 'f', name: 't', command: { value: 'true', shell: true }, resources: { cpus: 0.1, mem: 16, disk: 0, ports: [] }, labels: {} };
    assert.equal(parseMasterMessage(JSON.stringify({ type: 'launches', tasks: [spec, spec] }))?.type, 'launches');
    assert.equal(parseMasterMessage(JSON.stringify({ type: 'launches', tasks: [spec, 'x'] })), null);
    assert.equal(parseMasterMessage(JSON.stringify({ type: 'launches', tasks: spec })), null);
    assert.equal(parseMasterMessage(JSON.stringify({ type: 'launches', tasks: Array.from({ length: MAX_BATCH + 1 }, () => spec) })), null, 'bounded');
    // what a register says it accepts is kept as strings; anything else is dropped
    const reg = validateAgentMessage({ ...registerMessage('v'), accepts: ['launches', 7, 'x'] });
    assert.ok(reg.ok && reg.message.type === 'register');
    assert.deepEqual(reg.ok && reg.message.type === 'register' ? reg.message.accepts : undefined, ['launches', 'x']);
  });
});
