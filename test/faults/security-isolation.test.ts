// S3: hostile tasks. A task that touches twice its memory limit, a fork bomb and a CPU hog run
// side by side with a quiet task on one real agent (cgroups, as root). The isolators contain
// each of them, the ones that end say why, and the agent and the quiet task carry on.
// Needs root with cgroups; skipped with a message otherwise.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent } from '../../server/agent/agent.js';
import { detectCgroupLayout } from '../../server/agent/isolators.js';
import { FakeMaster, isRoot, launchSpec, makeAgentEnv, shutdownAgent, type AgentTestEnv } from '../server/fixtures/agent-fake-master.js';
import { figures, waitFor } from './support.js';

const SECRET = 's3-secret';
/** The agent's per-task process limit here; the default (4096) works the same, only slower. */
const PIDS_MAX = 64;
const MiB = 1024 * 1024;

const layout = isRoot() ? detectCgroupLayout() : null;
const skip = !isRoot() ? 'S3 needs root: cgroups cannot be set up otherwise' : layout === null ? 'S3 needs cgroups (cpu, memory, pids): none found on this machine' : false;

/** Holds twice its 64 MiB in 16 MiB steps, touching every page. */
const MEMORY_HOG = `node -e "const a=[];for(let i=0;i<8;i++){a.push(Buffer.alloc(16<<20,1))}setTimeout(()=>{},600000)"`;
/** Starts sleepers until fork fails; the shell then gives up with an error. */
const FORK_BOMB = 'i=0; while [ $i -lt 100000 ]; do sleep 600 & i=$((i+1)); done; wait';
/** Spins on one core for as long as it is let. */
const CPU_HOG = 'while :; do :; done';

function readCg(controller: string, dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

describe('S3: hostile tasks are contained by the isolators', { skip, timeout: 180_000 }, () => {
  let master: FakeMaster;
  let env: AgentTestEnv;
  let agent: Agent;
  /** cgroup directory of a task for a controller (v1: per controller; v2: one tree). */
  let cgDir: (controller: 'cpu' | 'memory' | 'pids', taskId: string) => string;

  before(async () => {
    master = await new FakeMaster(SECRET).listen();
    env = makeAgentEnv('s3');
    agent = new Agent({ masterUrl: master.url, secret: SECRET, workDir: env.workDir, hostname: env.hostname, cgroups: true, pidsMax: PIDS_MAX, logger: () => undefined });
    const registered = once(agent, 'registered');
    await agent.start();
    await registered;
    assert.ok(agent.isolators.includes('cgroups/mem') && agent.isolators.includes('cgroups/cpu') && agent.isolators.includes('cgroups/pids'), agent.isolators.join());
    cgDir = (controller, taskId) => {
      const mount = layout!.version === 1 ? layout!.mounts[controller]! : Object.values(layout!.mounts)[0]!;
      const agentDir = readdirSync(join(mount, 'yagura')).find((d) => d.startsWith(`${env.hostname}-`));
      return join(mount, 'yagura', agentDir!, taskId);
    };
    // the quiet neighbour, running before the trouble starts
    master.send({ type: 'launch', task: launchSpec('quiet', 'sleep 3600', { resources: { cpus: 0.1, mem: 32, disk: 0, ports: [] } }) });
    await master.waitForStatus('quiet', 'TASK_RUNNING');
  });

  after(async () => {
    await shutdownAgent(agent);
    await master?.close();
    await env?.cleanup();
  });

  it('fails a task at twice its memory with REASON_CONTAINER_LIMITATION_MEMORY', async () => {
    const from = master.messages.length;
    master.send({ type: 'launch', task: launchSpec('memory-hog', MEMORY_HOG, { resources: { cpus: 0.5, mem: 64, disk: 0, ports: [] } }) });
    const failed = await master.waitForStatus('memory-hog', 'TASK_FAILED', from);
    assert.equal(failed.reason, 'REASON_CONTAINER_LIMITATION_MEMORY');
    const used = /^Memory limit exceeded: requested 64 MiB, used (\d+) MiB$/.exec(failed.message ?? '');
    assert.ok(used, failed.message);
    assert.ok(!existsSync(cgDir('memory', 'memory-hog')), 'its cgroup is gone');
    figures(`S3: memory hog (64 MiB limit, touches 128 MiB): ${failed.state} ${failed.reason}, "${failed.message}"`);
  });

  it('stops a fork bomb at the process limit and says so', async () => {
    const from = master.messages.length;
    master.send({ type: 'launch', task: launchSpec('fork-bomb', FORK_BOMB, { resources: { cpus: 0.5, mem: 256, disk: 0, ports: [] } }) });
    await master.waitForStatus('fork-bomb', 'TASK_RUNNING', from);
    const dir = cgDir('pids', 'fork-bomb');
    let peak = 0;
    const ended = master.waitForStatus('fork-bomb', 'TASK_FAILED', from);
    let done = false;
    void ended.then(() => (done = true), () => (done = true));
    await waitFor(() => {
      peak = Math.max(peak, Number(readCg('pids', dir, 'pids.current') ?? 0));
      return done;
    }, 60_000, 'the fork bomb to end');
    const failed = await ended;
    assert.ok(peak <= PIDS_MAX, `at most ${PIDS_MAX} processes (saw ${peak})`);
    assert.equal(failed.reason, 'REASON_CONTAINER_LIMITATION', `${failed.reason} ${failed.message}`);
    assert.match(failed.message ?? '', /process limit/i);
    assert.ok(!existsSync(dir), 'its cgroup is gone, with every process in it');
    figures(`S3: fork bomb (pids.max ${PIDS_MAX}): peak ${peak} processes seen, ${failed.state} ${failed.reason}, "${failed.message}"`);
  });

  it('throttles a CPU hog to its share and kills it on request', async () => {
    const from = master.messages.length;
    master.send({ type: 'launch', task: launchSpec('cpu-hog', CPU_HOG, { resources: { cpus: 0.2, mem: 32, disk: 0, ports: [] } }) });
    await master.waitForStatus('cpu-hog', 'TASK_RUNNING', from);
    const dir = cgDir('cpu', 'cpu-hog');
    const quota = layout!.version === 1 ? Number(readCg('cpu', dir, 'cpu.cfs_quota_us')) : Number((readCg('cpu', dir, 'cpu.max') ?? '').split(' ')[0]);
    assert.equal(quota, 20_000, 'a quota of 0.2 CPU per 100 ms period');
    const stat = await waitFor(() => {
      const text = readCg('cpu', dir, 'cpu.stat') ?? '';
      const throttled = Number(/^nr_throttled (\d+)$/m.exec(text)?.[1] ?? 0);
      const periods = Number(/^nr_periods (\d+)$/m.exec(text)?.[1] ?? 0);
      return throttled >= 10 && { throttled, periods };
    }, 60_000, 'the hog to be throttled');
    // the agent still answers while it spins: a new task runs to completion next to it
    const probeFrom = master.messages.length;
    master.send({ type: 'launch', task: launchSpec('probe', 'echo still-here', { resources: { cpus: 0.1, mem: 32, disk: 0, ports: [] } }) });
    const probe = await master.waitForStatus('probe', 'TASK_FINISHED', probeFrom);
    assert.equal(probe.exitCode, 0);
    master.send({ type: 'kill', taskId: 'cpu-hog', gracePeriodMs: 500 });
    const killed = await master.waitForStatus('cpu-hog', 'TASK_KILLED', from);
    assert.ok(!existsSync(dir), 'its cgroup is gone');
    figures(`S3: CPU hog (0.2 CPU): throttled in ${stat.throttled} of ${stat.periods} periods, a new task ran beside it, then ${killed.state} on request`);
  });

  it('left the agent and the quiet task untouched', async () => {
    assert.deepEqual(master.states('quiet'), ['TASK_STARTING', 'TASK_RUNNING'], 'the quiet task never changed state');
    const heartbeatsBefore = master.messages.filter((m) => m.type === 'heartbeat').length;
    await master.waitFor((m) => m.type === 'heartbeat', master.messages.length, 30_000, 'a heartbeat');
    assert.ok(master.messages.filter((m) => m.type === 'heartbeat').length > heartbeatsBefore, 'the agent keeps heartbeating');
    assert.ok(existsSync(cgDir('memory', 'quiet')), 'the quiet task keeps its cgroup');
    const mem = Number(readCg('memory', cgDir('memory', 'quiet'), layout!.version === 1 ? 'memory.limit_in_bytes' : 'memory.max'));
    assert.equal(mem, 32 * MiB);
    master.send({ type: 'kill', taskId: 'quiet', gracePeriodMs: 500 });
    await master.waitForStatus('quiet', 'TASK_KILLED');
    figures('S3: the quiet task stayed TASK_RUNNING throughout; the agent kept heartbeating and launching');
  });
});
