// A task that allocates far beyond its memory must end TASK_FAILED with
// REASON_CONTAINER_LIMITATION_MEMORY, under cgroups (kernel OOM) and under the POSIX
// fallback (the agent's RSS watch).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Agent } from '../../server/agent/agent.js';
import { FakeMaster, launchSpec, makeAgentEnv, type AgentTestEnv, shutdownAgent } from './fixtures/agent-fake-master.js';

const SECRET = 'memory-secret';
// Touches 16 MiB at a time, up to 1 GiB, then holds it: only a limit stops it.
const HOG = `node -e "const a=[];for(let i=0;i<64;i++){a.push(Buffer.alloc(16<<20,1))}setTimeout(()=>{},60000)"`;

async function startAgent(master: FakeMaster, env: AgentTestEnv, cgroups: boolean, oomChecksPerTick?: number): Promise<Agent> {
  const agent = new Agent({
    masterUrl: master.url,
    secret: SECRET,
    workDir: env.workDir,
    hostname: env.hostname,
    cgroups,
    logger: () => undefined,
    ...(oomChecksPerTick ? { oomChecksPerTick } : {}),
  });
  const registered = once(agent, 'registered');
  await agent.start();
  await registered;
  return agent;
}

for (const cgroups of [true, false]) {
  describe(`memory limit (${cgroups ? 'cgroups when available' : 'posix fallback'})`, () => {
    let master: FakeMaster;
    let env: AgentTestEnv;
    let agent: Agent;

    before(async () => {
      master = await new FakeMaster(SECRET).listen();
      env = makeAgentEnv(cgroups ? 'memcg' : 'memposix');
      // one task's OOM count read per monitor check: the checks must take the tasks in turn
      agent = await startAgent(master, env, cgroups, 1);
    });

    after(async () => {
      await shutdownAgent(agent);
      await master?.close();
      await env?.cleanup();
    });

    it('reports the isolators it really uses', () => {
      if (!cgroups || agent.cgroupVersion === null) {
        assert.deepEqual(agent.isolators, ['posix/cpu', 'posix/mem']);
      } else {
        assert.ok(agent.isolators.includes('cgroups/mem'), agent.isolators.join());
        assert.ok(agent.isolators.includes('cgroups/cpu'), agent.isolators.join());
      }
    });

    it('fails a task that exceeds its memory with REASON_CONTAINER_LIMITATION_MEMORY', async () => {
      const from = master.messages.length;
      master.send({ type: 'launch', task: launchSpec('hog', HOG, { resources: { cpus: 1, mem: 64, disk: 0, ports: [] } }) });
      const failed = await master.waitForStatus('hog', 'TASK_FAILED', from);
      assert.equal(failed.reason, 'REASON_CONTAINER_LIMITATION_MEMORY');
      const m = /^Memory limit exceeded: requested 64 MiB, used (\d+) MiB$/.exec(failed.message ?? '');
      assert.ok(m, failed.message);
      assert.ok(Number(m[1]) >= 60, `used ${m[1]} MiB`);
      assert.deepEqual(master.states('hog'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    });

    if (cgroups) it('fails a task whose child was OOM-killed while the command goes on, among other tasks', async (t) => {
      if (!agent.isolators.includes('cgroups/mem')) return t.skip('no memory cgroup here');
      const from = master.messages.length;
      for (const id of ['quiet-1', 'quiet-2']) {
        master.send({ type: 'launch', task: launchSpec(id, 'sleep 60', { resources: { cpus: 0.1, mem: 32, disk: 0, ports: [] } }) });
        await master.waitForStatus(id, 'TASK_RUNNING', from);
      }
      // the hog is the biggest process in its cgroup, so the kernel kills it; the shell's sleep lives on
      master.send({ type: 'launch', task: launchSpec('hog-child', `${HOG} & exec sleep 60`, { resources: { cpus: 1, mem: 64, disk: 0, ports: [] } }) });
      const failed = await master.waitForStatus('hog-child', 'TASK_FAILED', from);
      assert.equal(failed.reason, 'REASON_CONTAINER_LIMITATION_MEMORY');
      assert.match(failed.message ?? '', /^Memory limit exceeded: requested 64 MiB, used \d+ MiB$/);
      assert.deepEqual(master.states('quiet-1'), ['TASK_STARTING', 'TASK_RUNNING']);
      assert.deepEqual(master.states('quiet-2'), ['TASK_STARTING', 'TASK_RUNNING']);
      for (const id of ['quiet-1', 'quiet-2']) {
        master.send({ type: 'kill', taskId: id });
        await master.waitForStatus(id, 'TASK_KILLED', from);
      }
    });

    it('lets a task that stays within its memory finish', async () => {
      const from = master.messages.length;
      master.send({ type: 'launch', task: launchSpec('modest', `node -e "Buffer.alloc(8<<20,1)"`, { resources: { cpus: 1, mem: 256, disk: 0, ports: [] } }) });
      const done = await master.waitForStatus('modest', 'TASK_FINISHED', from);
      assert.equal(done.reason, undefined);
    });
  });
}
