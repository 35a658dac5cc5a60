// R4 (issue #9): an agent's link to the master cut for a short, a medium and a long time, and
// cut one way only. A Marathon app with an unreachableStrategy runs spread over four agents,
// each a real process on a host of its own.
//  - short (a quarter of the heartbeat timeout): nothing changes;
//  - medium: the agent becomes UNREACHABLE, its instances are replaced after
//    inactiveAfterSeconds (= expungeAfterSeconds, so they are expunged at once), and the
//    originals, which ran on unseen, are killed when the link comes back;
//  - one way (the frames of one direction dropped): the same as medium;
//  - long (past --agent-gone-after): the agent ends GONE, its tasks TASK_GONE; when the link
//    comes back it is refused, kills the originals and exits.
// Instances are counted all along two ways: RUNNING in the master's view, and live task
// processes on the agents' machines (what really runs, seen or not). Once the cluster has
// settled after a cut, neither count is ever above the target.
//
// Quick mode starts the long cut first and runs the short, medium and one-way cuts alongside it,
// on other agents (the app has room for both sets of replacements), to stay within its minute,
// with one one-way direction (master→agent). The long run takes them one after another, both
// directions, more instances, a quiet spell after each, and kills the master (kill -9) and
// restarts it during the long cut: the time the agent has been unreachable must count on.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isTerminal, type TaskView } from '../../protocol/types.js';
import { runningProcess } from '../support/processes.js';
import { FaultCluster, netnsUnavailable, waitFor } from './hosts.js';
import { figures, LONG } from './support.js';

const APP = '/r4/web';
const AGENTS = ['a1', 'a2', 'a3', 'a4'];
/** MAX_PER = half the instances: with any two agents cut, the other two hold them all. */
const INSTANCES = LONG ? 6 : 4;
const MAX_PER = INSTANCES / 2;
/**
 * The heartbeat timeout: short enough for quick mode's minute, long enough that an agent starved
 * of CPU on a loaded 2-core machine does not miss it (an UNREACHABLE without a cut fails the test).
 */
const HEARTBEAT_S = 0.5;
const MISSED = LONG ? 8 : 5;
const HEARTBEAT_TIMEOUT_MS = HEARTBEAT_S * MISSED * 1000;
/** The short cut: a quarter of the heartbeat timeout. */
const SHORT_MS = HEARTBEAT_TIMEOUT_MS / 4;
/** inactiveAfterSeconds = expungeAfterSeconds: a replaced instance is expunged (to be killed) at once. */
const INACTIVE_S = LONG ? 2 : 1;
/**
 * Well beyond a medium cut here (UNREACHABLE until replaced, then up to ~10 s until the agent's
 * link is back: TCP's retransmission backoff and the agent's reconnect backoff), far below the
 * default day.
 */
const GONE_AFTER_S = LONG ? 30 : 15;
/** Quiet time after the cuts during which the counts must hold at the target. */
const SETTLE_MS = LONG ? 6000 : 2000;
/** The exit status of `yagura agent` refused as gone. */
const GONE_EXIT = 77;

interface Sample {
  at: number;
  /** Phases under way when taken. */
  phases: string[];
  settled: boolean;
  running: Set<string>;
  live: Set<string>;
  /** Instances behind each cut under way when taken, by phase. */
  hidden: Array<[string, Set<string>]>;
}

describe('R4: partitions of an agent: short, medium, long, one-way', { skip: netnsUnavailable(), timeout: LONG ? 300_000 : 90_000 }, () => {
  let cluster: FaultCluster;
  const ids = new Map<string, string>();
  const samples: Sample[] = [];
  /** Phases under way: what the samples are tagged with. */
  const phases = new Set<string>();
  /** Agents cut now (or not yet back): not to be chosen for another cut. */
  const cut = new Set<string>();
  /** True only while no cut is under way and the app is back at its target. */
  let settled = false;
  let sampling = true;
  let sampler: Promise<void> | undefined;
  const results: string[] = [];
  /** Agents seen UNREACHABLE while not cut: a heartbeat timeout too short for this machine, or a defect. */
  const flaps: string[] = [];
  let startedAt = 0;
  let setupTook = 0;

  before(async () => {
    const started = Date.now();
    cluster = new FaultCluster(['--heartbeat-interval', String(HEARTBEAT_S), '--max-missed-heartbeats', String(MISSED), '--agent-gone-after', String(GONE_AFTER_S)]);
    await cluster.startMaster();
    for (const name of AGENTS) cluster.startAgent({ name, resources: 'cpus:4;mem:2048;disk:1000;ports:[31000-31099]' });
    for (const [name, id] of await cluster.agentsActive(AGENTS, 60_000)) ids.set(name, id);
    const r = await cluster.api('POST', '/v2/apps', {
      id: APP,
      cmd: 'sleep 3600',
      cpus: 0.1,
      mem: 32,
      instances: INSTANCES,
      constraints: [['hostname', 'MAX_PER', String(MAX_PER)]],
      unreachableStrategy: { inactiveAfterSeconds: INACTIVE_S, expungeAfterSeconds: INACTIVE_S },
      taskKillGracePeriodSeconds: 1,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await waitFor(async () => (await running()).length === INSTANCES && (await cluster.api<unknown[]>('GET', '/v2/deployments')).body.length === 0, 60_000, 'the app to run');
    settled = true;
    startedAt = Date.now();
    sampler = sample();
    setupTook = Date.now() - started;
  });

  after(async () => {
    sampling = false;
    await sampler;
    await cluster?.destroy();
  });

  const appTasks = async (): Promise<TaskView[]> => {
    const r = await cluster.api<{ tasks: TaskView[] }>('GET', '/api/v1/tasks');
    assert.equal(r.status, 200);
    return r.body.tasks.filter((t) => t.labels.YAGURA_APP_ID === APP);
  };
  const running = async () => (await appTasks()).filter((t) => t.state === 'TASK_RUNNING');
  const agentView = async (name: string) => (await cluster.api<{ state: string; unreachableAt?: number }>('GET', `/api/v1/agents/${ids.get(name)}`)).body;

  /** The app's task processes alive on the agents' machines, by task id: what really runs. */
  const live = (): Map<string, number> => {
    const out = new Map<string, number>();
    for (const name of AGENTS) {
      const dir = join(cluster.agent(name).workDir, 'meta', 'tasks');
      let entries: string[] = [];
      try {
        entries = readdirSync(dir);
      } catch {
        continue;
      }
      for (const id of entries) {
        try {
          const cp = JSON.parse(readFileSync(join(dir, id, 'task.json'), 'utf8')) as { pid?: number; spec: { labels: Record<string, string> } };
          if (cp.spec.labels.YAGURA_APP_ID === APP && cp.pid && alive(cp.pid)) out.set(id, cp.pid);
        } catch {
          // being written or gone
        }
      }
    }
    return out;
  };

  async function sample(): Promise<void> {
    while (sampling) {
      try {
        const r = new Set((await running()).map((t) => t.id));
        samples.push({ at: Date.now(), phases: [...phases], settled, running: r, live: new Set(live().keys()), hidden: [...hidden] });
        const notCut = new Set(AGENTS.filter((a) => !cut.has(a)));
        for (const a of (await cluster.api<{ agents: Array<{ hostname: string; state: string }> }>('GET', '/api/v1/agents')).body.agents) {
          const note = `${a.hostname} UNREACHABLE at +${secs(Date.now() - startedAt)} without a cut (heartbeat timeout ${secs(HEARTBEAT_TIMEOUT_MS)})`;
          if (a.state === 'UNREACHABLE' && notCut.has(a.hostname) && !flaps.some((f) => f.startsWith(`${a.hostname} `))) flaps.push(note);
        }
      } catch {
        // the master is restarting or busy: the next sample
      }
      await sleep(150);
    }
  }

  /** The most RUNNING and live instances seen during a phase, not counting those behind other cuts then. */
  const maxDuring = (phase: string) => {
    const s = samples.filter((x) => x.phases.includes(phase));
    const count = (x: Sample, set: Set<string>) => {
      const ignore = new Set(x.hidden.filter(([p]) => p !== phase).flatMap(([, ids]) => [...ids]));
      return [...set].filter((id) => !ignore.has(id)).length;
    };
    return { running: Math.max(0, ...s.map((x) => count(x, x.running))), live: Math.max(0, ...s.map((x) => count(x, x.live))) };
  };

  /** The agent, not cut, with the most instances (ties: the first). */
  const busiest = async (): Promise<string> => {
    const ts = (await appTasks()).filter((t) => !isTerminal(t.state));
    let best = '';
    let most = -1;
    for (const name of AGENTS) {
      if (cut.has(name) || !cluster.agent(name).proc?.alive) continue;
      const n = ts.filter((t) => t.agentId === ids.get(name)).length;
      if (n > most) [best, most] = [name, n];
    }
    return best;
  };

  /** The ids of the instances behind each cut under way: they run on unseen, as they should. */
  const hidden = new Map<string, Set<string>>();
  const hiddenExcept = (phase: string) => new Set([...hidden].filter(([p]) => p !== phase).flatMap(([, s]) => [...s]));

  /** Back at the target, in the master's view and in fact, apart from what other cuts hide. */
  const backToTarget = async (phase: string): Promise<void> => {
    await waitFor(async () => {
      const ignore = hiddenExcept(phase);
      const l = [...live().keys()].filter((id) => !ignore.has(id));
      return (await running()).length === INSTANCES && l.length === INSTANCES;
    }, 60_000, `${phase}: back to ${INSTANCES} instances`);
  };

  /** No cut under way: the counts must hold at the target for SETTLE_MS. */
  const holdSettled = async (what: string): Promise<void> => {
    assert.equal(cut.size, 0);
    await backToTarget(what);
    settled = true;
    const from = Date.now();
    await sleep(SETTLE_MS);
    const held = samples.filter((s) => s.settled && s.at >= from);
    assert.ok(held.length > 0, 'sampled while settled');
    for (const s of held) assert.ok(s.running.size <= INSTANCES && s.live.size <= INSTANCES, `${what}: settled, yet ${s.running.size} RUNNING / ${s.live.size} live of ${INSTANCES}`);
  };

  const begin = (phase: string, victim: string) => {
    settled = false;
    phases.add(phase);
    cut.add(victim);
  };

  /** A cut of a quarter of the heartbeat timeout: nothing may change. */
  const short = async (): Promise<void> => {
    const victim = await busiest();
    const mine = (ts: TaskView[]) => ts.filter((t) => t.agentId === ids.get(victim) && !isTerminal(t.state)).map((t) => `${t.id} ${t.state}`).sort();
    const before = mine(await appTasks());
    assert.ok(before.length > 0, `${victim} runs instances`);
    const processes = () => [...live()].filter(([id]) => before.some((b) => b.startsWith(`${id} `)));
    const pids = processes();
    phases.add('short');
    cut.add(victim);
    const seen = new Set<string>();
    cluster.net.cut(victim, 'master');
    const cutAt = Date.now();
    while (Date.now() - cutAt < SHORT_MS) {
      seen.add((await agentView(victim)).state);
      await sleep(50);
    }
    cluster.net.heal(victim, 'master');
    // heartbeats flow again well within one heartbeat timeout; watch for one (two in the long run)
    const healed = Date.now();
    while (Date.now() - healed < (LONG ? 2 : 1) * HEARTBEAT_TIMEOUT_MS) {
      seen.add((await agentView(victim)).state);
      await sleep(100);
    }
    phases.delete('short');
    cut.delete(victim);
    assert.deepEqual([...seen], ['ACTIVE'], `the agent stays ACTIVE: ${[...seen].join(', ')}`);
    assert.deepEqual(mine(await appTasks()), before, 'the same instances, in the same states');
    assert.deepEqual(processes(), pids, 'the same processes');
    const m = maxDuring('short');
    assert.ok(m.running === INSTANCES && m.live === INSTANCES, `max ${m.running} RUNNING / ${m.live} live`);
    results.push(`short ${SHORT_MS} ms (${victim}): ACTIVE throughout, instances unchanged (max ${m.live}/${INSTANCES})`);
  };

  /** Cut until the agent's instances are replaced, then heal: the originals must be killed on return. */
  const partitionUntilReplaced = async (phase: string, cutLink: (victim: string) => void, healLink: (victim: string) => void): Promise<void> => {
    const victim = await busiest();
    const originals = (await appTasks()).filter((t) => !isTerminal(t.state) && t.agentId === ids.get(victim));
    assert.ok(originals.length > 0, `${victim} runs instances`);
    const pids = live();
    begin(phase, victim);
    hidden.set(phase, new Set(originals.map((o) => o.id)));
    const t0 = Date.now();
    cutLink(victim);
    await waitFor(async () => (await agentView(victim)).state === 'UNREACHABLE', 30_000, `${phase}: UNREACHABLE`);
    const tUnreachable = Date.now();
    await waitFor(async () => {
      const ts = await appTasks();
      return originals.every((o) => ts.find((t) => t.id === o.id)?.state === 'TASK_UNREACHABLE') && ts.filter((t) => t.state === 'TASK_RUNNING').length === INSTANCES;
    }, 30_000, `${phase}: replacements RUNNING`);
    const tReplaced = Date.now();
    for (const o of originals) assert.ok(alive(pids.get(o.id)!), `${phase}: original ${o.id} still runs behind the cut`);
    healLink(victim);
    const tHealed = Date.now();
    await waitFor(async () => {
      const ts = await appTasks();
      return originals.every((o) => ts.find((t) => t.id === o.id)?.state === 'TASK_KILLED') && originals.every((o) => !alive(pids.get(o.id)!));
    }, 40_000, `${phase}: the originals killed on return`);
    const tKilled = Date.now();
    await waitFor(async () => (await agentView(victim)).state === 'ACTIVE', 20_000, `${phase}: ACTIVE again`);
    hidden.delete(phase);
    await backToTarget(phase);
    phases.delete(phase);
    cut.delete(victim);
    const m = maxDuring(phase);
    results.push(
      `${phase} (${victim}, ${n(originals.length, 'instance')}): UNREACHABLE ${secs(tUnreachable - t0)} after the cut, replaced ${secs(tReplaced - tUnreachable)} after that ` +
        `(inactiveAfterSeconds ${INACTIVE_S}), originals killed ${secs(tKilled - tHealed)} after the heal; max ${m.live} live / ${m.running} RUNNING of ${INSTANCES}`,
    );
  };

  /** Cut until GONE, then heal: the agent must be refused, kill its tasks and exit. */
  const longCut = async (victim: string, replaced: () => void): Promise<void> => {
    const phase = 'long';
    const originals = (await appTasks()).filter((t) => !isTerminal(t.state) && t.agentId === ids.get(victim));
    assert.ok(originals.length > 0, `${victim} runs instances`);
    const pids = live();
    begin(phase, victim);
    hidden.set(phase, new Set(originals.map((o) => o.id)));
    const t0 = Date.now();
    cluster.net.cut(victim, 'master');
    await waitFor(async () => (await agentView(victim)).state === 'UNREACHABLE', 30_000, 'long: UNREACHABLE');
    const tUnreachable = Date.now();
    await waitFor(async () => {
      const ts = await appTasks();
      return originals.every((o) => ts.find((t) => t.id === o.id)?.state === 'TASK_UNREACHABLE') && ts.filter((t) => t.state === 'TASK_RUNNING').length === INSTANCES;
    }, 30_000, 'long: replacements RUNNING');
    const tReplaced = Date.now();
    replaced();
    let restart = '';
    if (LONG) {
      // the master crashes meanwhile: how long the agent has been unreachable is stored and counts on
      const before = (await agentView(victim)).unreachableAt;
      assert.ok(before, 'unreachableAt is shown');
      await cluster.killMaster();
      await cluster.startMaster();
      const view = await agentView(victim);
      if (view.state !== 'GONE') assert.equal(view.unreachableAt, before, 'the same unreachableAt after a master restart');
      restart = `, master kill -9 + restart ${secs(Date.now() - tUnreachable)} after UNREACHABLE kept unreachableAt`;
    }
    await waitFor(async () => (await agentView(victim)).state === 'GONE', GONE_AFTER_S * 1000 + 30_000, 'long: GONE');
    const tGone = Date.now();
    const ts = await appTasks();
    for (const o of originals) {
      const t = ts.find((x) => x.id === o.id);
      assert.equal(t?.state, 'TASK_GONE', `${o.id}: ${t?.state}`);
      assert.equal(t?.reason, 'REASON_AGENT_REMOVED');
      assert.ok(alive(pids.get(o.id)!), `${o.id} still runs behind the cut`);
    }
    const proc = cluster.agent(victim).proc!;
    cluster.net.heal(victim, 'master');
    const tHealed = Date.now();
    await waitFor(() => !proc.alive && originals.every((o) => !alive(pids.get(o.id)!)), 60_000, 'long: the gone agent kills its tasks and exits');
    const tKilled = Date.now();
    assert.equal(proc.child.exitCode, GONE_EXIT, `the agent exits with ${GONE_EXIT} (gone): ${proc.output.slice(-600)}`);
    assert.match(proc.output, /marked (this agent )?gone/);
    assert.equal((await agentView(victim)).state, 'GONE', 'and stays GONE');
    hidden.delete(phase);
    await backToTarget(phase);
    phases.delete(phase);
    cut.delete(victim);
    const m = maxDuring(phase);
    results.push(
      `long (${victim}, ${n(originals.length, 'instance')}): UNREACHABLE ${secs(tUnreachable - t0)} after the cut, replaced ${secs(tReplaced - tUnreachable)} after that, ` +
        `GONE ${secs(tGone - tUnreachable)} after UNREACHABLE (--agent-gone-after ${GONE_AFTER_S}${restart}), refused and originals killed ${secs(tKilled - tHealed)} after the heal, ` +
        `agent exited ${GONE_EXIT}; max ${m.live} live / ${m.running} RUNNING of ${INSTANCES}`,
    );
  };

  it('short cut: nothing changes; medium, one-way and long cuts: replaced, originals killed on return, the long one GONE', async () => {
    const medium = () => partitionUntilReplaced('medium', (v) => cluster.net.cut(v, 'master'), (v) => cluster.net.heal(v, 'master'));
    const agentToMaster = () => partitionUntilReplaced('one-way agent→master', (v) => cluster.net.drop(v, 'master'), (v) => cluster.net.restore(v, 'master'));
    const masterToAgent = () => partitionUntilReplaced('one-way master→agent', (v) => cluster.net.drop('master', v), (v) => cluster.net.restore('master', v));
    try {
      if (LONG) {
        await short();
        for (const run of [medium, agentToMaster, masterToAgent]) {
          await run();
          await holdSettled('after a cut');
        }
        await longCut(await busiest(), () => undefined);
      } else {
        // the long cut first; once its instances are replaced elsewhere, the others run alongside
        let replaced!: () => void;
        const longReplaced = new Promise<void>((r) => (replaced = r));
        const long = longCut(await busiest(), replaced);
        await Promise.race([longReplaced, long]);
        await short();
        await medium();
        await masterToAgent();
        await long;
      }
      await holdSettled('after all cuts');
    } catch (err) {
      // an agent that lost its link without a cut explains most failures here: say so
      if (flaps.length && err instanceof Error) err.message += `\n(agents UNREACHABLE without a cut: ${flaps.join('; ')})`;
      throw err;
    }
  });

  it('reports the figures', () => {
    const settledSamples = samples.filter((s) => s.settled);
    const worst = Math.max(...settledSamples.map((s) => Math.max(s.live.size, s.running.size)));
    figures(`R4: short/medium/long/one-way: setup ${secs(setupTook)}; ${results.join('; ')}; once settled max ${worst} of target ${INSTANCES} over ${settledSamples.length} samples`);
    // (every assertion here carries a message: without one, node's assert reads the compiled source to make one, which can take minutes)
    assert.ok(worst <= INSTANCES, `once settled never above the target: max ${worst} of ${INSTANCES}`);
    assert.deepEqual(flaps, [], 'no agent UNREACHABLE without a cut');
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function n(count: number, what: string): string {
  return `${count} ${what}${count === 1 ? '' : 's'}`;
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Alive and not a zombie (an orphaned wrapper may stay one where init does not reap). */
function alive(pid: number): boolean {
  return runningProcess(pid);
}
