// R3 (issue #9): kill -9 of an agent running 20 tasks, 3 of which exit while it is down, then
// restart it. Every task is recovered or reported: the 17 others run on in the same processes,
// the 3 are reported terminal, and the framework (an external Mesos v1 HTTP scheduler that
// acknowledges what it gets) receives exactly one terminal UPDATE for each of the 3 — also after
// a wait long enough for the agent's and the master's resend periods to pass.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isTerminal, type TaskState, type TaskView } from '../../protocol/types.js';
import { commandTask, SchedulerClient } from '../support/mesos-client.js';
import { checkpointedPid, processAlive, procStatSync } from '../support/processes.js';
import { FaultCluster, netnsUnavailable, waitFor } from './hosts.js';
import { figures, LONG } from './support.js';

const TASKS = 20;
const ENDING = 3;
/** What the master reports for the three that end: finished, SIGTERM (recorded), SIGKILL of the whole group (nothing recorded). */
const EXPECTED: Array<[TaskState, RegExp]> = [
  ['TASK_FINISHED', /status 0/],
  ['TASK_FAILED', /signal SIGTERM/],
  ['TASK_FAILED', /exited while the agent was down; exit status unknown/],
];
/**
 * How long to keep listening once everything settled, for a late resend of a terminal update.
 * The agent resends unacknowledged updates every 10 s, the master every 10 s: the long run
 * listens through more than one period of each.
 */
const LISTEN_AFTER_MS = LONG ? 25_000 : 4_000;

describe('R3: kill -9 of an agent with 20 tasks, 3 ending while it is down', { skip: netnsUnavailable(), timeout: LONG ? 300_000 : 90_000 }, () => {
  let cluster: FaultCluster;
  let fw: SchedulerClient | undefined;
  let agentId = '';

  before(async () => {
    cluster = new FaultCluster();
    await cluster.startMaster();
    cluster.startAgent({ name: 'crashy' });
    agentId = (await cluster.agentsActive(['crashy'])).get('crashy')!;
    fw = await SchedulerClient.subscribe(
      { master: cluster.url, token: cluster.token, autoAck: true },
      { user: 'root', name: 'r3-framework', failover_timeout: 3600, roles: ['*'] },
    );
  });

  after(async () => {
    fw?.close();
    await cluster?.destroy();
  });

  const tasks = async (): Promise<TaskView[]> => {
    const r = await cluster.api<{ tasks: TaskView[] }>('GET', '/api/v1/tasks');
    assert.equal(r.status, 200);
    return r.body.tasks;
  };

  /** UPDATE events the framework received for a task, per state. */
  const updatesOf = (taskId: string): Map<TaskState, number> => {
    const counts = new Map<TaskState, number>();
    for (const e of fw!.stream.all('UPDATE')) {
      const s = e.update.status;
      if (s.task_id.value !== taskId) continue;
      counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
    }
    return counts;
  };
  const terminalUpdatesOf = (taskId: string): number =>
    [...updatesOf(taskId)].filter(([state]) => isTerminal(state)).reduce((sum, [, n]) => sum + n, 0);

  it('recovers 17 tasks in their processes and reports the 3 that ended, each terminal update once', async () => {
    const ids = Array.from({ length: TASKS }, (_, i) => `r3-${String(i).padStart(2, '0')}`);
    const [offer] = await fw!.offersOf([agentId], 20_000);
    // the first task finishes by itself once the test drops a file in its sandbox
    const command = (id: string) => (id === ids[0] ? 'until [ -e finish ]; do sleep 0.1; done' : 'sleep 3600');
    const r = await fw!.accept([offer.id.value], ids.map((id) => commandTask(offer, id, { cpus: 0.1, mem: 32, command: command(id) })), 0);
    assert.equal(r.status, 202, r.text);
    for (const id of ids) await fw!.nextUpdate(id, 'TASK_RUNNING', 30_000);

    const workDir = cluster.agent('crashy').workDir;
    const pids = new Map(ids.map((id) => [id, checkpointedPid(workDir, id)!]));
    for (const [id, pid] of pids) assert.ok(pid && processAlive(pid), `${id} runs as a live process`);

    await cluster.killAgent('crashy');
    const down = Date.now();
    // three tasks end while nobody watches, each its own way: one finishes (exit 0, recorded by
    // the wrapper), one's process group gets SIGTERM (passed on to the command, recorded as
    // 128+15), one's whole group SIGKILL (the wrapper dies too and records nothing)
    const ending = ids.slice(0, ENDING);
    writeFileSync(join(workDir, 'sandboxes', ending[0]!, 'finish'), '');
    process.kill(-pids.get(ending[1]!)!, 'SIGTERM');
    process.kill(-pids.get(ending[2]!)!, 'SIGKILL');
    for (const id of ending) await waitFor(() => !processAlive(pids.get(id)!) || isZombie(pids.get(id)!), 10_000, `${id} to exit`);
    for (const id of ids.slice(ENDING)) assert.ok(processAlive(pids.get(id)!), `${id} outlives its agent`);
    // a restart that takes longer than the heartbeat timeout: the master has given up on the agent
    await waitFor(async () => (await cluster.api<{ state: string }>('GET', `/api/v1/agents/${agentId}`)).body.state === 'UNREACHABLE', 20_000, 'UNREACHABLE');
    for (const id of ids) await fw!.nextUpdate(id, 'TASK_UNREACHABLE', 10_000);

    cluster.startAgent({ name: 'crashy' });
    await waitFor(async () => (await cluster.api<{ connected: boolean; state: string }>('GET', `/api/v1/agents/${agentId}`)).body.state === 'ACTIVE'
      && (await cluster.api<{ connected: boolean }>('GET', `/api/v1/agents/${agentId}`)).body.connected, 40_000, 'the agent to re-register');
    const back = Date.now();

    const settled = await waitFor(async () => {
      const ts = (await tasks()).filter((t) => ids.includes(t.id));
      const ended = ts.filter((t) => ending.includes(t.id) && isTerminal(t.state));
      const running = ts.filter((t) => !ending.includes(t.id) && t.state === 'TASK_RUNNING');
      return ended.length === ENDING && running.length === TASKS - ENDING && ending.every((id) => terminalUpdatesOf(id) >= 1) && ts;
    }, 40_000, 'the 17 RUNNING and the 3 terminal');

    // listen on for late resends
    await new Promise((res) => setTimeout(res, LISTEN_AFTER_MS));

    const final = (await tasks()).filter((t) => ids.includes(t.id));
    assert.equal(final.length, TASKS, 'no task is missing and none doubled');
    const recovered: string[] = [];
    for (const id of ids.slice(ENDING)) {
      const t = final.find((x) => x.id === id)!;
      assert.equal(t.state, 'TASK_RUNNING', `${id} is RUNNING again`);
      assert.equal(checkpointedPid(workDir, id), pids.get(id), `${id} was recovered, not relaunched`);
      assert.ok(processAlive(pids.get(id)!), `${id} still runs`);
      recovered.push(id);
    }
    const perTask: number[] = [];
    for (const id of ending) {
      const t = final.find((x) => x.id === id)!;
      assert.ok(isTerminal(t.state), `${id} is terminal: ${t.state}`);
      const [state, message] = EXPECTED[ending.indexOf(id)]!;
      assert.equal(t.state, state, `${id}: ${t.state} ${t.message}`);
      assert.match(t.message ?? '', message, `${id} says how it ended`);
      const counts = updatesOf(id);
      const terminal = [...counts].filter(([s]) => isTerminal(s));
      assert.deepEqual(terminal, [[t.state, 1]], `${id}: exactly one terminal UPDATE, in the state the master holds (${JSON.stringify([...counts])})`);
      perTask.push(terminalUpdatesOf(id));
    }
    // the recovered ones got no terminal update either
    for (const id of recovered) assert.equal(terminalUpdatesOf(id), 0, `${id} never ended`);
    // the master's view and what the framework last heard agree for every task
    for (const t of settled) {
      const last = fw!.stream.all('UPDATE').filter((e) => e.update.status.task_id.value === t.id).at(-1);
      assert.equal(last?.update.status.state, final.find((x) => x.id === t.id)!.state, `${t.id}: the framework's last update is the master's state`);
    }
    figures(`R3: ${TASKS} tasks, recovered ${recovered.length}, terminal ${perTask.length}, terminal updates per task [${perTask.join(',')}]` +
      ` (agent down ${((back - down) / 1000).toFixed(1)} s, listened ${LISTEN_AFTER_MS / 1000} s after settling)`);
  });
});

/** A wrapper that exited while its agent was down may stay a zombie where init does not reap. */
function isZombie(pid: number): boolean {
  return procStatSync(pid)?.state === 'Z';
}
