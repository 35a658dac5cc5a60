// The whole stack as separate processes: a `yagura master`, a `yagura agent` running real
// tasks, and an external framework speaking the Mesos v1 scheduler HTTP API. Crashes are real
// SIGKILLs; heartbeat loss is a real SIGSTOP of the agent.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandTask, SchedulerClient } from '../support/mesos-client.js';
import { checkpointedPid, freePort, killCheckpointedTasks, processAlive, removeAgentCgroups, waitHealthy, YaguraProcess } from '../support/processes.js';
import { waitFor } from '../support/cluster.js';
import type { TaskView } from '../../protocol/types.js';

describe('a cluster of real processes', { timeout: 180_000 }, () => {
  let dir: string;
  let dataDir: string;
  let workDir: string;
  let port: number;
  let url: string;
  let token: string;
  let master: YaguraProcess | undefined;
  let agent: YaguraProcess | undefined;
  let fw: SchedulerClient | undefined;
  let agentId = '';

  const startMaster = async () => {
    master = new YaguraProcess(['master', '--port', String(port), '--data-dir', dataDir, '--heartbeat-interval', '0.25', '--max-missed-heartbeats', '4', '--quiet']);
    await waitHealthy(url, master);
  };
  const startAgent = async () => {
    const secret = readFileSync(join(dataDir, 'agent-secret'), 'utf8').trim();
    agent = new YaguraProcess([
      'agent', '--master', url, '--secret', secret, '--work-dir', workDir, '--hostname', 'node-a',
      '--attributes', 'zone:z1', '--resources', 'cpus:4;mem:4096;disk:2000;ports:[31000-31099]', '--quiet',
    ]);
  };
  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, `${path}: ${r.status}`);
    return (await r.json()) as T;
  };
  const tasks = () => api<{ tasks: TaskView[] }>('/api/v1/tasks').then((r) => r.tasks);
  const subscribe = (id?: string) =>
    SchedulerClient.subscribe(
      { master: url, token, autoAck: true },
      { user: 'root', name: 'crash-test', failover_timeout: 3600, roles: ['*'], ...(id ? { id: { value: id } } : {}) },
    );

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'yagura-proc-'));
    // tasks run as nobody: they must be able to walk down to their sandboxes
    chmodSync(dir, 0o711);
    dataDir = join(dir, 'master');
    workDir = join(dir, 'agent');
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    await startMaster();
    token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    await startAgent();
    const agents = await waitFor(async () => {
      const r = await api<{ agents: Array<{ id: string; state: string; hostname: string }> }>('/api/v1/agents');
      return r.agents.length === 1 && r.agents[0]!.state === 'ACTIVE' && r.agents;
    }, 20_000, 'the agent to register');
    agentId = agents[0]!.id;
    fw = await subscribe();
  });

  after(async () => {
    fw?.close();
    await agent?.stop('SIGKILL');
    await master?.stop('SIGKILL');
    killCheckpointedTasks(workDir);
    // the agent died by SIGKILL with sleeper-1 and in-flight running: nothing removed their
    // cgroups or its own, and each run would leave them on the machine
    await removeAgentCgroups('node-a', workDir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('launches sleep tasks through offers, runs them with cgroup limits, kills one', async () => {
    const [offer] = await fw!.offersOf([agentId], 10_000);
    assert.equal(offer.hostname, 'node-a');
    const r = await fw!.accept([offer.id.value], [
      commandTask(offer, 'sleeper-1', { cpus: 0.5, mem: 64, command: 'sleep 600' }),
      commandTask(offer, 'sleeper-2', { cpus: 0.5, mem: 64, command: 'sleep 600' }),
    ], 0);
    assert.equal(r.status, 202, r.text);
    await fw!.nextUpdate('sleeper-1', 'TASK_RUNNING', 15_000);
    await fw!.nextUpdate('sleeper-2', 'TASK_RUNNING', 15_000);

    const pid = checkpointedPid(workDir, 'sleeper-1')!;
    assert.ok(pid && processAlive(pid), 'the task is a live process');
    const cgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    const { isolators } = await api<{ isolators: string[] }>(`/api/v1/agents/${agentId}`);
    if (isolators.some((i) => i.startsWith('cgroups'))) {
      assert.ok(cgroups.includes('yagura/'), `the task is in a yagura cgroup: ${cgroups}`);
      const memLine = cgroups.split('\n').find((l) => /(^|:)memory:/.test(l) || l.startsWith('0::'))!;
      const rel = memLine.split(':').slice(2).join(':');
      const limitFile = memLine.startsWith('0::') ? `/sys/fs/cgroup${rel}/memory.max` : `/sys/fs/cgroup/memory${rel}/memory.limit_in_bytes`;
      assert.equal(Number(readFileSync(limitFile, 'utf8').trim()), 64 * 1024 * 1024, 'the memory limit is the task mem');
    }

    const k = await fw!.kill('sleeper-2');
    assert.equal(k.status, 202, k.text);
    const killed = await fw!.nextUpdate('sleeper-2', 'TASK_KILLED', 15_000);
    assert.equal(killed.state, 'TASK_KILLED');
    const pid2 = checkpointedPid(workDir, 'sleeper-2')!;
    await waitFor(() => !processAlive(pid2), 5000, 'the killed process to be gone');
  });

  it('fails a task that allocates beyond its memory limit, with the memory reason', async () => {
    const [offer] = await fw!.offersOf([agentId], 10_000);
    const r = await fw!.accept([offer.id.value], [
      commandTask(offer, 'hog', { cpus: 0.2, mem: 48, command: `node -e "const a=[];for(;;)a.push(Buffer.alloc(4<<20,1))"` }),
    ], 0);
    assert.equal(r.status, 202, r.text);
    const failed = await fw!.nextUpdate('hog', 'TASK_FAILED', 30_000);
    assert.equal(failed.reason, 'REASON_CONTAINER_LIMITATION_MEMORY', JSON.stringify(failed));
    assert.match(failed.message, /[Mm]emory limit/);
  });

  it('survives kill -9 of the master mid-flight: tasks keep running, state intact, no duplicates', async () => {
    const [offer] = await fw!.offersOf([agentId], 10_000);
    const r = await fw!.accept([offer.id.value], [commandTask(offer, 'in-flight', { cpus: 0.2, mem: 32, command: 'sleep 600' })], 0);
    assert.equal(r.status, 202, r.text);
    // the launch was acknowledged; the master dies before or while the task starts
    await master!.kill9();
    fw!.close();
    const before = checkpointedPid(workDir, 'sleeper-1');
    await startMaster();
    fw = await subscribe(fw!.frameworkId);
    const settled = await waitFor(async () => {
      const ts = await tasks();
      const inflight = ts.find((t) => t.id === 'in-flight');
      return inflight?.state === 'TASK_RUNNING' && ts;
    }, 30_000, 'the in-flight task to run after the restart');
    assert.equal(settled.filter((t) => t.id === 'in-flight').length, 1);
    assert.equal(settled.find((t) => t.id === 'sleeper-1')?.state, 'TASK_RUNNING');
    assert.equal(settled.find((t) => t.id === 'sleeper-2')?.state, 'TASK_KILLED');
    assert.equal(checkpointedPid(workDir, 'sleeper-1'), before, 'not relaunched');
    assert.ok(processAlive(before!));
    const agents = await api<{ agents: Array<{ id: string; state: string }> }>('/api/v1/agents');
    assert.deepEqual(agents.agents.map((a) => [a.id, a.state]), [[agentId, 'ACTIVE']]);
  });

  it('recovers tasks after kill -9 of the agent, and reports the real outcome of one that exited meanwhile', async () => {
    const [offer] = await fw!.offersOf([agentId], 10_000);
    const r = await fw!.accept([offer.id.value], [commandTask(offer, 'short-lived', { cpus: 0.1, mem: 32, command: 'sleep 1; exit 7' })], 0);
    assert.equal(r.status, 202, r.text);
    await fw!.nextUpdate('short-lived', 'TASK_RUNNING', 15_000);
    const pid = checkpointedPid(workDir, 'sleeper-1')!;
    await agent!.kill9();
    assert.ok(processAlive(pid), 'tasks outlive their agent');
    const shortPid = checkpointedPid(workDir, 'short-lived')!;
    await waitFor(() => !processAlive(shortPid), 10_000, 'the short task to exit while the agent is down');
    await startAgent();
    await waitFor(async () => (await api<{ connected: boolean }>(`/api/v1/agents/${agentId}`)).connected, 20_000, 'the agent to re-register');
    // give the agent time to (wrongly) relaunch, if it were going to
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(checkpointedPid(workDir, 'sleeper-1'), pid, 'recovered, not relaunched');
    assert.ok(processAlive(pid));
    const ts = await tasks();
    assert.equal(ts.find((t) => t.id === 'sleeper-1')?.state, 'TASK_RUNNING');
    assert.equal(ts.find((t) => t.id === 'in-flight')?.state, 'TASK_RUNNING');
    const short = await waitFor(async () => (await tasks()).find((t) => t.id === 'short-lived' && t.state === 'TASK_FAILED'), 10_000, 'the outcome');
    assert.equal(short.exitCode, 7);
    assert.match(short.message ?? '', /status 7/);
  });

  it('marks an agent that stops heartbeating UNREACHABLE, and takes it back', async () => {
    agent!.signal('SIGSTOP');
    try {
      await waitFor(async () => (await api<{ state: string }>(`/api/v1/agents/${agentId}`)).state === 'UNREACHABLE', 15_000, 'UNREACHABLE');
      const t = (await tasks()).find((x) => x.id === 'sleeper-1');
      assert.equal(t?.state, 'TASK_UNREACHABLE');
      await fw!.nextUpdate('sleeper-1', 'TASK_UNREACHABLE', 5000);
    } finally {
      agent!.signal('SIGCONT');
    }
    await waitFor(async () => (await api<{ state: string }>(`/api/v1/agents/${agentId}`)).state === 'ACTIVE', 20_000, 'ACTIVE again');
    await waitFor(async () => (await tasks()).find((x) => x.id === 'sleeper-1')?.state === 'TASK_RUNNING', 10_000, 'the task RUNNING again');
  });
});
