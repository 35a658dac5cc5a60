// The agent's link to the master: authentication, registration, reconnects, and status
// updates that are resent (same uuid) until acknowledged.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { afterEach, describe, it } from 'node:test';
import { Agent, AUTH_FAILURE_EXIT_CODE } from '../../server/agent/agent.js';
import { FakeMaster, launchSpec, makeAgentEnv, spawnAgentProcess, type AgentProcess, type AgentTestEnv, shutdownAgent } from './fixtures/agent-fake-master.js';

const SECRET = 'link-secret';

describe('agent link', () => {
  const masters: FakeMaster[] = [];
  const envs: AgentTestEnv[] = [];
  const agents: Agent[] = [];
  const procs: AgentProcess[] = [];

  async function setup(tag: string, extra: Partial<ConstructorParameters<typeof Agent>[0]> = {}) {
    const master = await new FakeMaster(SECRET).listen();
    masters.push(master);
    const env = makeAgentEnv(tag);
    envs.push(env);
    const logs: string[] = [];
    const agent = new Agent({
      masterUrl: master.url,
      secret: SECRET,
      workDir: env.workDir,
      hostname: env.hostname,
      logger: (level, msg) => logs.push(`${level}: ${msg}`),
      ...extra,
    });
    agents.push(agent);
    return { master, env, agent, logs };
  }

  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill9();
    for (const a of agents.splice(0)) await shutdownAgent(a);
    for (const m of masters.splice(0)) await m.close();
    for (const e of envs.splice(0)) await e.cleanup();
  });

  it('with a wrong secret it never registers, reports the auth failure and keeps retrying', async () => {
    const { master, agent, logs } = await setup('auth', { secret: 'wrong' });
    let failures = 0;
    const twice = new Promise<void>((resolve) =>
      agent.on('authFailed', (status: number) => {
        assert.equal(status, 401);
        if (++failures === 2) resolve();
      }),
    );
    await agent.start();
    await twice;
    assert.equal(master.registrations.length, 0);
    assert.ok(master.refusedUpgrades >= 2, 'it retried');
    assert.equal(agent.agentId, undefined);
    assert.ok(logs.some((l) => /^error: authentication failed: .*refused the agent secret \(HTTP 401\)/.test(l)), logs.join('\n'));
  });

  it('with exitOnAuthFailure the agent process exits with a clear error', async () => {
    const master = await new FakeMaster(SECRET).listen();
    masters.push(master);
    const env = makeAgentEnv('authexit');
    envs.push(env);
    const p = await spawnAgentProcess({ masterUrl: master.url, secret: 'wrong', workDir: env.workDir, hostname: env.hostname, exitOnAuthFailure: true });
    procs.push(p);
    assert.equal(await p.exited, AUTH_FAILURE_EXIT_CODE);
    assert.match(p.stderr(), /authentication failed: .*HTTP 401.*exiting/);
    assert.equal(master.registrations.length, 0);
  });

  it('retries after a refused registration', async () => {
    const { master, agent, logs } = await setup('refused');
    master.refuseRegistrations = 1;
    const registered = once(agent, 'registered');
    await agent.start();
    await registered;
    assert.equal(master.registrations.length, 2);
    assert.ok(logs.some((l) => l.includes('refused the registration: not today')), logs.join('\n'));
  });

  it('resends unacknowledged updates with the same uuid after a reconnect, and stops once acked', async () => {
    const { master, agent } = await setup('resend');
    master.autoAck = false;
    await agent.start();
    await master.waitForRegister();
    master.send({ type: 'launch', task: launchSpec('once', 'true') });
    const finished = await master.waitForStatus('once', 'TASK_FINISHED');
    const firstRound = master.statuses('once');
    assert.deepEqual(firstRound.map((u) => u.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);

    // The master drops the link (as when it marks the agent unreachable); the agent comes back.
    const mark = master.messages.length;
    master.dropLink();
    const reg = await master.waitForRegister(mark);
    assert.equal(reg.agentId, master.agentId, 're-registers with its id');
    assert.deepEqual(
      reg.tasks.map((t) => [t.taskId, t.state]),
      [['once', 'TASK_FINISHED']],
      'a terminal but unacknowledged task is still reported',
    );
    await master.waitForStatus('once', 'TASK_FINISHED', mark);
    const resent = master.statuses('once').slice(firstRound.length);
    assert.deepEqual(resent.map((u) => u.uuid), firstRound.map((u) => u.uuid), 'same updates, same order');

    for (const u of firstRound) master.send({ type: 'ack', taskId: u.taskId, uuid: u.uuid });
    const mark2 = master.messages.length;
    master.dropLink();
    const reg2 = await master.waitForRegister(mark2);
    assert.deepEqual(reg2.tasks, [], 'acknowledged terminal tasks are no longer reported');
    // The agent answers messages in order and resends right on `registered`, so anything resent
    // would arrive before the answer to this probe.
    master.send({ type: 'kill', taskId: 'probe' });
    await master.waitForStatus('probe', 'TASK_DROPPED', mark2);
    assert.deepEqual(master.statuses('once').length, firstRound.length * 2, 'nothing resent after the ack');
    assert.equal(finished.exitCode, 0);
  });

  it('resends unacknowledged updates while connected, too', async () => {
    const { master, agent } = await setup('retry', { statusRetryMs: 100 });
    master.autoAck = false;
    await agent.start();
    await master.waitForRegister();
    master.send({ type: 'launch', task: launchSpec('slow-ack', 'true') });
    const first = await master.waitForStatus('slow-ack', 'TASK_FINISHED');
    const idx = master.messages.findIndex((m) => m.type === 'status' && m.update.uuid === first.uuid);
    const again = await master.waitForStatus('slow-ack', 'TASK_FINISHED', idx + 1);
    assert.equal(again.uuid, first.uuid);
    assert.equal(master.registrations.length, 1, 'without a reconnect');
  });

  it('keeps a running task across a reconnect and reports it as running', async () => {
    const { master, agent } = await setup('keep');
    await agent.start();
    await master.waitForRegister();
    master.send({ type: 'launch', task: launchSpec('long', 'sleep 30') });
    await master.waitForStatus('long', 'TASK_RUNNING');
    const mark = master.messages.length;
    master.dropLink();
    const reg = await master.waitForRegister(mark);
    assert.deepEqual(reg.tasks.map((t) => [t.taskId, t.state, t.frameworkId]), [['long', 'TASK_RUNNING', 'fw-1']]);
    assert.deepEqual(reg.tasks[0]!.resources, launchSpec('long', '').resources);
    master.send({ type: 'kill', taskId: 'long' });
    await master.waitForStatus('long', 'TASK_KILLED', mark);
  });
});
