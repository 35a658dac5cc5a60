// 1,000 `sleep` tasks to TASK_RUNNING on one local agent, through the real master, offers,
// agent link, executor wrapper and isolators — against a raw child_process.spawn loop of the
// same commands in the same run. BENCH_LAUNCH_PAIRS (3), BENCH_TASKS (1000), BENCH_LAUNCH_CGROUPS.

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from '../server/app.js';
import { Agent } from '../server/agent/agent.js';
import type { Offer, SchedulerConnection, TaskStatus } from '../server/master/types.js';
import { killCheckpointedTasks, removeAgentCgroups } from '../test/support/processes.js';
import { median, ratioAtMost, type BenchResult } from './table.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 1000);
const COMMAND = 'sleep 600';
const PAIRS = Number(process.env.BENCH_LAUNCH_PAIRS ?? 3);
const SELF = fileURLToPath(import.meta.url);
const AGENT_HOSTNAME = 'bench';
/** BENCH_LAUNCH_CGROUPS=0: the agent without cgroups (posix isolators), to see what they cost. */
const CGROUPS = process.env.BENCH_LAUNCH_CGROUPS !== '0';

/** The raw loop in `dir`; its sandboxes are left for the caller to remove (FREED_INODES_AGE_MS). */
async function rawSpawn(n: number, dir: string): Promise<number> {
  const children: ChildProcess[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const sandbox = join(dir, String(i));
      mkdirSync(sandbox);
      const out = openSync(join(sandbox, 'stdout'), 'a');
      const err = openSync(join(sandbox, 'stderr'), 'a');
      const c = spawn('/bin/sh', ['-c', COMMAND], { cwd: sandbox, detached: true, stdio: ['ignore', out, err] });
      children.push(c);
      return new Promise<void>((res, rej) => {
        c.once('spawn', () => {
          closeSync(out);
          closeSync(err);
          res();
        });
        c.once('error', rej);
      });
    }),
  );
  const ms = performance.now() - t0;
  for (const c of children) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
  return ms;
}

/**
 * Yagura's phase in `dir`. It does not shut the master or the agent down: the process exits
 * right after (runPhase), leaving its tasks, sandboxes and cgroups for the caller, as an agent
 * killed with SIGKILL would, and the caller kills the tasks (killLeftTasks): a graceful shutdown
 * would stop 1,000 tasks one by one and record each one's end, which is not what is measured.
 */
async function yaguraLaunch(n: number, dir: string): Promise<number> {
  const app = await build({ dataDir: join(dir, 'master'), port: 0, master: { allocationIntervalMs: 100 } });
  const url = await app.listen();
  const agent = new Agent({
    masterUrl: url,
    secret: app.agentSecret,
    workDir: join(dir, 'agent'),
    hostname: AGENT_HOSTNAME,
    cgroups: CGROUPS,
    resources: { cpus: n, mem: n * 64, disk: 1000, ports: [] },
    logger: () => {},
  });
  await agent.start();
  // distinct tasks: the master resends unacknowledged updates (every 10 s), and this scheduler never acknowledges
  const running = new Set<string>();
  let done: () => void = () => {};
  const allRunning = new Promise<void>((r) => (done = r));
  let offers: Offer[] = [];
  let wake: () => void = () => {};
  const sched: SchedulerConnection = {
    subscribed() {},
    offers(o) {
      offers.push(...o);
      wake();
    },
    rescind(id) {
      offers = offers.filter((o) => o.id !== id);
    },
    update(s: TaskStatus) {
      if (s.state === 'TASK_RUNNING' && running.add(s.taskId).size === n) done();
      if (s.state === 'TASK_FAILED' || s.state === 'TASK_ERROR') throw new Error(`${s.taskId}: ${s.message}`);
    },
    failure() {},
    error() {},
    close() {},
  };
  const fw = await app.master.subscribe({ name: 'bench', user: 'root', roles: ['*'], failoverTimeoutSeconds: 60 }, sched, 'bench');
  const offer = await new Promise<Offer>((r) => {
    if (offers.length) r(offers.shift()!);
    else wake = () => r(offers.shift()!);
  });
  const t0 = performance.now();
  await app.master.accept(
    fw.id,
    [offer.id],
    Array.from({ length: n }, (_, i) => ({
      taskId: `bench-${i}`,
      name: `bench-${i}`,
      agentId: offer.agentId,
      resources: { cpus: 1, mem: 32, disk: 0, ports: [] },
      command: { value: COMMAND, shell: true, env: {}, uris: [] },
      labels: {},
    })),
  );
  await allRunning;
  return performance.now() - t0;
}

/**
 * On ext4 without a journal (this project's machines), a new inode skips every inode of its
 * group freed in the last 30 seconds, 60 while the inode table block is dirty (and new inodes
 * in the same block keep it dirty), reading each one's table block (`recently_deleted` in
 * fs/ext4/ialloc.c): within a minute of a few thousand files removed, each mkdir or create costs
 * a good part of a millisecond instead of tens of microseconds. Both phases make ~1,000
 * sandboxes, so the suite starts this long after whatever ran before it removed its files, and
 * removes no sandbox until every phase is done.
 */
const FREED_INODES_AGE_MS = 65_000;

type Phase = 'raw' | 'yagura';

/** One phase in a fresh process (the size of the process that forks is part of a fork's cost): its ms. */
function runPhase(phase: Phase, dir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = fork(SELF, ['--phase', phase, dir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let ms: number | undefined;
    c.on('message', (m) => (ms = (m as { ms: number }).ms));
    c.once('error', reject);
    c.once('exit', (code, signal) => (ms === undefined ? reject(new Error(`the ${phase} phase exited (${signal ?? code}) without a time`)) : resolve(ms)));
  });
}

/**
 * Yagura's phases leave their tasks running (yaguraLaunch): kill them as after an agent's crash,
 * through the agent's cgroups where it made them and by the checkpointed pids where not.
 */
async function killLeftTasks(dir: string): Promise<void> {
  const workDir = join(dir, 'agent');
  killCheckpointedTasks(workDir);
  await removeAgentCgroups(AGENT_HOSTNAME, workDir);
}

export async function runLaunchBench(): Promise<BenchResult[]> {
  // PAIRS of phases, raw loop then Yagura, each phase in a fresh process: both sides of a pair
  // meet the same state of the machine (over runs of the same code, one side's time for the
  // same 1,000 forks varied 2.5×, more than the target's margin). No sandbox is removed until
  // every phase is done (FREED_INODES_AGE_MS).
  await new Promise((r) => setTimeout(r, FREED_INODES_AGE_MS));
  const root = mkdtempSync(join(tmpdir(), 'yagura-bench-launch-'));
  const raw: number[] = [];
  const mine: number[] = [];
  try {
    for (let i = 0; i < PAIRS; i++) {
      raw.push(await runPhase('raw', join(root, `raw-${i}`)));
      const dir = join(root, `yagura-${i}`);
      try {
        mine.push(await runPhase('yagura', dir));
      } finally {
        await killLeftTasks(dir);
      }
      process.stderr.write(`  launch: pair ${i + 1}/${PAIRS}: raw spawn loop ${raw[i]!.toFixed(0)} ms, Yagura ${mine[i]!.toFixed(0)} ms: ${(mine[i]! / raw[i]!).toFixed(2)}×\n`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  const [value, baseline] = [median(mine), median(raw)];
  // issue #8: ≤ 1.3× the raw spawn loop
  return [{ name: `${TASKS} sleep tasks to TASK_RUNNING (vs raw spawn; median of ${PAIRS} alternating pairs)`, value: round(value), unit: 'ms', baseline: round(baseline), ratio: Math.round((value / baseline) * 100) / 100, target: [ratioAtMost(1.3)] }];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--phase') {
  // a phase's process (runPhase): make its directory, time the phase, report, and exit at once
  const [phase, dir] = [process.argv[3] as Phase, process.argv[4]!];
  mkdirSync(dir);
  const ms = phase === 'raw' ? await rawSpawn(TASKS, dir) : await yaguraLaunch(TASKS, dir);
  process.send!({ ms }, () => process.exit(0));
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await runLaunchBench()) console.log(`${r.name}: ${r.value} ${r.unit}; baseline ${r.baseline} ${r.unit}; ratio ${r.ratio}`);
}
