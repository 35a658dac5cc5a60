// One cluster at scale, shared by two benchmarks (run once even when both are asked for):
// a real master (build() from server/app.ts) in this process, 10,000 simulated agents
// (server/sim) in a child process, each on its own WebSocket with the real agent protocol, and
// 1,000 Marathon apps × 100 instances, each app with a constraint, created with
// POST /v2/apps, 16 requests in flight (fastify inject: routing, auth, validation, then the
// services framework).
//
// - sim-placement (issue #8, row 1): instances per second from the first POST until the
//   100,000th task is TASK_RUNNING in the master (committed; the launch, STARTING and RUNNING
//   all crossed the agent links). Baseline: the placement loop alone over the same agent table
//   and the same apps — one core/placement OfferPool over every agent's offer and
//   `pool.place(app, [], 100)` per app, what the services framework does with a cycle's offers,
//   without master, store, network or agents.
// - master-scale (row 5): the master's RSS with the 10,000 agents and 100,000 tasks, and the
//   time to serialize a full dashboard snapshot as server/api/stream.ts does for a dashboard
//   (snapshotMessage, compact: every agent, service and job, the tasks as one CompactTasks
//   table), median of 5 after the first one, against JSON.stringify of master.snapshot() with
//   whole tasks.
//
// Apps: a third `hostname MAX_PER 10`, a third `zone GROUP_BY` (12 zones), a third
// `rack LIKE rack-0[0-5]\d` (60 of 250 racks: 2,400 agents). Each instance takes one any-port.
// Env: BENCH_AGENTS, BENCH_APPS, BENCH_PER_APP for smaller trial runs.

import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { expandCompactTasks } from '../protocol/compact-tasks.js';
import type { ClusterEvent, CompactStreamSnapshot } from '../protocol/types.js';
import { snapshotMessage } from '../server/api/stream.js';
import { build, type Yagura } from '../server/app.js';
import type { Constraint } from '../server/core/constraints.js';
import { OfferPool, type InstanceRequest, type PlacementOffer } from '../server/core/placement.js';
import type { SimAgentInfo, SimCounters, SimOptions } from '../server/sim/sim.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const AGENTS = Number(process.env.BENCH_AGENTS ?? 10_000);
export const APPS = Number(process.env.BENCH_APPS ?? 1_000);
export const PER_APP = Number(process.env.BENCH_PER_APP ?? 100);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 30 * 60_000);
const BASELINE_RUNS = 5;
/** A deploy script's POSTs, several at a time (one at a time, each waits for a turn of the loop). */
const POSTS_IN_FLIGHT = 16;
const SNAPSHOT_RUNS = 5;
export const RESOURCES = { cpus: 16, mem: 65_536, disk: 512_000, ports: [[31000, 32000]] as Array<[number, number]> };
export const LAYOUT = { regions: 4, zones: 12, racks: 250 };

export interface AppShape {
  json: Record<string, unknown>;
  req: InstanceRequest;
}

export function benchApps(apps: number, perApp: number, prefix = '/bench'): AppShape[] {
  const out: AppShape[] = [];
  for (let a = 0; a < apps; a++) {
    const c: string[] = a % 3 === 0 ? ['hostname', 'MAX_PER', '10'] : a % 3 === 1 ? ['zone', 'GROUP_BY'] : ['rack', 'LIKE', 'rack-0[0-5]\\d'];
    const cpus = [0.1, 0.25, 0.5][a % 3]!;
    const mem = 64 * (1 + (a % 4));
    const constraint: Constraint = { field: c[0]!, operator: c[1] as Constraint['operator'], ...(c[2] !== undefined ? { value: c[2] } : {}) };
    out.push({
      json: {
        id: `${prefix}/app-${String(a).padStart(4, '0')}`,
        cmd: 'sleep 3600',
        instances: perApp,
        cpus,
        mem,
        disk: 0,
        portDefinitions: [{ port: 0 }],
        constraints: [c],
        labels: { tier: a % 2 ? 'web' : 'batch' },
      },
      req: { cpus, mem, disk: 0, ports: [0], constraints: [constraint] },
    });
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The placement loop alone over the given offers; ms for `apps` × `perApp`. */
export function placementLoop(offers: PlacementOffer[], apps: AppShape[], perApp: number): number {
  const start = performance.now();
  const pool = new OfferPool(offers);
  let placed = 0;
  for (const a of apps) placed += pool.place(a.req, [], perApp).placements.length;
  const ms = performance.now() - start;
  if (placed !== apps.length * perApp) throw new Error(`baseline placed ${placed} of ${apps.length * perApp}`);
  return ms;
}

/**
 * POST /v2/apps for every app, POSTS_IN_FLIGHT at a time (fastify inject: routing, auth,
 * validation, then the services framework); throws on the first answer that is not 201.
 */
export async function postApps(app: Yagura, apps: readonly AppShape[]): Promise<void> {
  const headers = { authorization: `Bearer ${app.adminToken}`, 'content-type': 'application/json' };
  let next = 0;
  const poster = async () => {
    while (next < apps.length) {
      const a = apps[next++]!;
      const res = await app.http.inject({ method: 'POST', url: '/v2/apps', headers, payload: JSON.stringify(a.json) });
      if (res.statusCode !== 201) throw new Error(`POST /v2/apps ${String(a.json.id)}: ${res.statusCode} ${res.body.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: POSTS_IN_FLIGHT }, poster));
}

/** A gc() for measuring what stays alive (v8 exposes it to a new context once the flag is set). */
export function gcFunction(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

/** A child's CPU time (user + system) in ms, from /proc (NaN where there is none). */
function childCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (100 a second)
  } catch {
    return NaN;
  }
}

function procStatusMiB(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** Simulated agents in a child process (bench/sim-worker.ts), steered over IPC. */
export class SimProcess {
  readonly child: ChildProcess;
  private waiting = new Map<string, Array<(msg: Record<string, unknown>) => void>>();

  constructor() {
    // BENCH_SIM_CHILD_PROF=<dir>: a CPU profile of the agents' process (run the master with --cpu-prof too)
    const prof = process.env.BENCH_SIM_CHILD_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SIM_CHILD_PROF}`] : [];
    this.child = fork(join(ROOT, 'bench', 'sim-worker.ts'), [], { cwd: ROOT, execArgv: ['--import', 'tsx', ...prof], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (raw) => {
      const msg = raw as Record<string, unknown>;
      const type = msg.type === 'error' ? 'registered' : String(msg.type);
      const list = this.waiting.get(type) ?? [];
      this.waiting.delete(type);
      for (const f of list) f(msg);
    });
  }

  private next(type: string): Promise<Record<string, unknown>> {
    return new Promise((r) => {
      const list = this.waiting.get(type) ?? [];
      list.push(r);
      this.waiting.set(type, list);
    });
  }

  async start(opts: SimOptions): Promise<{ ms: number; agents: SimAgentInfo[] }> {
    const reply = this.next('registered');
    this.child.send({ type: 'start', opts });
    const msg = await reply;
    if (msg.type === 'error') throw new Error(`simulated agents: ${String(msg.message)}`);
    return { ms: msg.ms as number, agents: msg.agents as SimAgentInfo[] };
  }

  async counters(): Promise<SimCounters> {
    const reply = this.next('counters');
    this.child.send({ type: 'counters' });
    return (await reply).counters as SimCounters;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || !this.child.connected) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ type: 'close' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(t);
  }
}

export interface ScaleFigures {
  agents: number;
  tasks: number;
  registerMs: number;
  postMs: number;
  launchedMs: number;
  runningMs: number;
  baselineMs: number;
  rssMiB: number;
  peakRssMiB: number;
  heapMiB: number;
  snapshotMs: number;
  snapshotMiB: number;
  /** The snapshot as the stream hub sends it to a dashboard (snapshotMessage, compact: the tasks as one table). */
  hubSnapshotMs: number;
  /** Its first serialization after the start (the code not yet optimized). */
  hubSnapshotColdMs: number;
  hubSnapshotMiB: number;
  streamSnapshotMs: number;
  updates: number;
  resent: number;
}

let once: Promise<ScaleFigures> | undefined;

/** The run both benchmarks read; made once per process. */
export function scaleRun(): Promise<ScaleFigures> {
  once ??= run();
  return once;
}

async function run(): Promise<ScaleFigures> {
  const gc = gcFunction();
  const dir = mkdtempSync(join(tmpdir(), 'yagura-bench-scale-'));
  const app = await build({ dataDir: dir, port: 0 });
  const url = await app.listen();
  const sims = new SimProcess();
  try {
    const log = (s: string) => process.stderr.write(`  ${s}\n`);
    log(`registering ${AGENTS} simulated agents…`);
    const reg = await sims.start({ masterUrl: url, secret: app.agentSecret, agents: AGENTS, resources: RESOURCES, ...LAYOUT });
    log(`registered in ${(reg.ms / 1000).toFixed(1)} s`);
    const apps = benchApps(APPS, PER_APP);
    const total = APPS * PER_APP;

    // the same agent table, as the master offers it, for the placement loop alone
    const offers: PlacementOffer[] = reg.agents.map((a) => ({ offerId: `o-${a.index}`, agentId: a.agentId!, hostname: a.hostname, attributes: a.attributes, resources: a.resources }));
    const baseTimes: number[] = [];
    for (let i = 0; i <= BASELINE_RUNS; i++) {
      const ms = placementLoop(offers, apps, PER_APP);
      if (i > 0) baseTimes.push(ms); // the first run warms the JIT
    }

    let launched = 0;
    let running = 0;
    let launchedAt = 0;
    let runningAt = 0;
    let done: () => void = () => {};
    const allRunning = new Promise<void>((r) => (done = r));
    const unsubscribe = app.master.events.subscribe((events: readonly ClusterEvent[]) => {
      for (const e of events) {
        if (e.kind !== 'task') continue;
        if (e.op === 'put' && e.data.state === 'TASK_STAGING' && ++launched === total) launchedAt = performance.now();
        else if (e.op === 'patch' && e.data.state === 'TASK_RUNNING' && ++running === total) {
          runningAt = performance.now();
          done();
        }
      }
    });
    const progress = setInterval(() => log(`${((performance.now() - t0) / 1000).toFixed(0)} s: ${launched} launched, ${running} running`), 10_000);
    log(`POST /v2/apps × ${APPS} (${POSTS_IN_FLIGHT} in flight), ${total} instances…`);
    const msgs0 = await sims.counters();
    const t0 = performance.now();
    const cpu0 = { master: process.cpuUsage(), agents: childCpuMs(sims.child.pid) };
    await postApps(app, apps);
    const postMs = performance.now() - t0;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`after ${TIMEOUT_MS / 1000} s only ${launched} launched and ${running} running of ${total}`)), TIMEOUT_MS);
    });
    try {
      await Promise.race([allRunning, timeout]);
    } finally {
      clearTimeout(timer);
      clearInterval(progress);
      unsubscribe();
    }
    // the timed window on the clock of a CPU profile's timestamps (µs), to cut one to it
    if (process.env.BENCH_SIM_CHILD_PROF) {
      const mono = (t: number) => Math.round(Number(process.hrtime.bigint() / 1000n) - (performance.now() - t) * 1000);
      log(`timed window: ${mono(t0)}–${mono(runningAt)} µs (the monotonic clock of a CPU profile)`);
    }
    const cpuMaster = process.cpuUsage(cpu0.master);
    const masterCpuMs = (cpuMaster.user + cpuMaster.system) / 1000;
    const agentsCpuMs = childCpuMs(sims.child.pid) - cpu0.agents;
    log(
      `CPU in the timed window: the master's process ${(masterCpuMs / 1000).toFixed(1)} s (${((masterCpuMs * 1000) / total).toFixed(0)} µs a task), ` +
        `the agents' process ${(agentsCpuMs / 1000).toFixed(1)} s (${((agentsCpuMs * 1000) / total).toFixed(0)} µs a task), of ${(((runningAt - t0) / 1000) * availableParallelism()).toFixed(1)} s on ${availableParallelism()} cores`,
    );
    const msgs1 = await sims.counters(); // an IPC round trip after the window: a few heartbeats more at most
    const into = msgs1.messagesIn - msgs0.messagesIn;
    const out = msgs1.messagesOut - msgs0.messagesOut;
    log(`messages over the agents' links in the timed window: ${into} to the agents (${(into / total).toFixed(2)} a task), ${out} from them (${(out / total).toFixed(2)} a task)`);
    log(`all running after ${((runningAt - t0) / 1000).toFixed(1)} s; checking constraints, measuring memory and snapshots…`);
    verify(app, apps);
    log('constraints hold; measuring memory…');

    // row 5: what the master holds with every agent and task (this process is the master; the
    // agents are in the child)
    await new Promise((r) => setTimeout(r, 2000)); // let the last acks and events settle
    gc?.();
    const rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
    const heapMiB = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
    const peakRssMiB = procStatusMiB('VmHWM');
    log(`rss ${rssMiB} MiB; serializing snapshots…`);
    // as the stream hub serializes it for a dashboard that connects (server/api/stream.ts)
    const snapTimes: number[] = [];
    let snapshotBytes = 0;
    for (let i = 0; i <= SNAPSHOT_RUNS; i++) {
      const s0 = performance.now();
      const json = JSON.stringify({ type: 'snapshot', ...app.master.snapshot() });
      if (i > 0) snapTimes.push(performance.now() - s0); // the first run warms the JIT
      snapshotBytes = json.length;
    }
    // what a dashboard gets (it says `compact`): the tasks as one table, made anew each time
    const hubTimes: number[] = [];
    let hubColdMs = NaN;
    let hubBytes = 0;
    for (let i = 0; i <= SNAPSHOT_RUNS; i++) {
      const s0 = performance.now();
      const json = snapshotMessage(app.master, true);
      const ms = performance.now() - s0;
      if (i === 0) hubColdMs = ms;
      else hubTimes.push(ms);
      hubBytes = json.length;
    }
    log(`snapshot ${median(snapTimes).toFixed(0)} ms (full tasks); as the stream sends it ${median(hubTimes).toFixed(0)} ms (cold ${hubColdMs.toFixed(0)} ms); a dashboard's snapshot over the stream…`);
    const streamTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      try {
        streamTimes.push(await streamSnapshot(url, app.adminToken, total));
      } catch (err) {
        log(`a dashboard's snapshot: ${(err as Error).message}`);
      }
    }
    const counters = await sims.counters();
    return {
      agents: AGENTS,
      tasks: total,
      registerMs: reg.ms,
      postMs,
      launchedMs: launchedAt - t0,
      runningMs: runningAt - t0,
      baselineMs: median(baseTimes),
      rssMiB,
      peakRssMiB,
      heapMiB,
      snapshotMs: median(snapTimes),
      snapshotMiB: Math.round(snapshotBytes / 2 ** 20),
      hubSnapshotMs: median(hubTimes),
      hubSnapshotColdMs: hubColdMs,
      hubSnapshotMiB: Math.round(hubBytes / 2 ** 20),
      streamSnapshotMs: streamTimes.length ? median(streamTimes) : NaN,
      updates: counters.updates,
      resent: counters.resent,
    };
  } finally {
    await sims.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A dashboard's view: ms from its hello until the snapshot arrived and was parsed. */
async function streamSnapshot(url: string, token: string, tasks: number): Promise<number> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/stream`, ['yagura.v1'], { perMessageDeflate: false, maxPayload: 2 ** 30 });
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
  });
  const t0 = performance.now();
  const got = new Promise<{ tasks: unknown[] }>((res, rej) => {
    // as the dashboard reads it: parsed, and the task table made into summaries
    ws.once('message', (raw) => res({ tasks: expandCompactTasks((JSON.parse(raw.toString()) as CompactStreamSnapshot).compactTasks) }));
    ws.once('error', rej);
    // the hub cuts off a reader that falls behind (4408); in one process with the master, this
    // reader cannot read while the master writes a large snapshot and the events after it
    ws.once('close', (code) => rej(new Error(`the stream closed with ${code} before the snapshot arrived`)));
  });
  ws.send(JSON.stringify({ type: 'hello', token, compact: true }));
  const snap = await got;
  const ms = performance.now() - t0;
  ws.terminate();
  if (snap.tasks.length !== tasks) throw new Error(`stream snapshot had ${snap.tasks.length} tasks, expected ${tasks}`);
  return ms;
}

/** Not timed: every app runs its instances, within its constraint. */
function verify(app: Awaited<ReturnType<typeof build>>, apps: AppShape[]): void {
  for (const shape of apps) {
    const id = String(shape.json.id);
    const live = app.services.tasksOf(id).filter((t) => t.state === 'TASK_RUNNING');
    if (live.length !== PER_APP) throw new Error(`${id}: ${live.length} running, expected ${PER_APP}`);
    const c = shape.req.constraints[0]!;
    const counts = new Map<string, number>();
    for (const t of live) {
      const a = app.master.getAgent(t.agentId)!;
      const v = c.field === 'hostname' ? a.hostname : a.attributes[c.field]!;
      counts.set(v, (counts.get(v) ?? 0) + 1);
      if (c.operator === 'LIKE' && !/^rack-0[0-5]\d$/.test(v)) throw new Error(`${id} on ${v}`);
    }
    if (c.operator === 'MAX_PER' && Math.max(...counts.values()) > 10) throw new Error(`${id}: more than 10 on one host`);
    if (c.operator === 'GROUP_BY') {
      const per = Array.from({ length: LAYOUT.zones }, (_, z) => counts.get(`zone-${z}`) ?? 0);
      if (Math.max(...per) - Math.min(...per) > 1) throw new Error(`${id}: zones uneven ${per.join(',')}`);
    }
  }
}
