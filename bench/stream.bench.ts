// The dashboard stream under load, through the real path: status updates from an (in-process)
// agent connection → master group commit → event log → stream hub → real WebSocket clients.
// The dashboards run in a child process (bench/stream-dashboards.ts), as browsers are not in the
// master's process: 50 or 100 readers parsing JSON would otherwise share its event loop. They ask
// for the compact encoding, as the dashboard does.
//  - throughput to 10 and 100 dashboards vs a raw `ws` broadcast of the same event bytes;
//  - change-to-client p99 at 10,000 events/s to 50 dashboards;
//  - bytes on the wire for one task change vs the full task object;
//  - one stalled client: the others' p99 with and without it.

import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';
import { build, type Yagura } from '../server/app.js';
import type { AgentConnection } from '../server/master/types.js';
import type { MasterToAgent, TaskView } from '../protocol/types.js';
import { atMost, ratioAtLeast, ratioAtMost, type BenchResult } from './table.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TASKS = 1000;
/** Repetitions inside one run (`npm run bench` takes the median over its runs). */
const RUNS = Number(process.env.BENCH_STREAM_RUNS ?? 1);
/**
 * The latency rows' 50 readers find their stamps in the text instead of parsing every message
 * (see bench/stream-dashboards.ts); BENCH_STREAM_PARSE=1 has them parse everything.
 */
const SCAN = !process.env.BENCH_STREAM_PARSE;

interface Rig {
  app: Yagura;
  url: string;
  dir: string;
  agentId: string;
  conn: AgentConnection;
  frameworkId: string;
  /** One status update: task i flips health; its message carries a stamp the clients read. */
  change(i: number, stamp: string): void;
  close(): Promise<void>;
}

async function rig(): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'yagura-bench-stream-'));
  const app = await build({ dataDir: dir, port: 0, master: { allocationIntervalMs: 20 } });
  const url = await app.listen();
  const sent: MasterToAgent[] = [];
  const conn: AgentConnection = { send: (m: MasterToAgent) => void sent.push(m), close: () => {} };
  const agentId = app.master.registerAgent(conn, {
    type: 'register',
    hostname: 'bench',
    resources: { cpus: TASKS, mem: TASKS * 64, disk: 0, ports: [] },
    attributes: {},
    isolators: [],
    tasks: [],
    version: 'bench',
  })!;
  let offerResolve: (id: string) => void = () => {};
  const offer = new Promise<string>((r) => (offerResolve = r));
  const fw = await app.master.subscribe(
    { name: 'bench', user: 'root', roles: ['*'], failoverTimeoutSeconds: 60 },
    { subscribed() {}, offers: (o) => o[0] && offerResolve(o[0].id), rescind() {}, update() {}, failure() {}, error() {}, close() {} },
    'bench',
  );
  await app.master.accept(
    fw.id,
    [await offer],
    Array.from({ length: TASKS }, (_, i) => ({
      taskId: `s-${i}`,
      name: `s-${i}`,
      agentId,
      resources: { cpus: 1, mem: 32, disk: 0, ports: [] },
      command: { value: 'sleep 1', shell: true, env: {}, uris: [] },
      labels: { YAGURA_APP_ID: `/bench/app-${i % 50}` },
    })),
  );
  const flip = new Array<boolean>(TASKS).fill(false);
  const status = (i: number, extra: Record<string, unknown>) =>
    app.master.agentMessage(agentId, conn, {
      type: 'status',
      update: { uuid: randomUUID(), taskId: `s-${i}`, frameworkId: fw.id, agentId, state: 'TASK_RUNNING', timestamp: Date.now(), ...extra },
    } as never);
  for (let i = 0; i < TASKS; i++) status(i, {});
  await app.master.commit();
  // the agent heartbeats as a real one does: a run longer than the missed-heartbeat limit would
  // otherwise see it UNREACHABLE and its tasks' updates refused
  const heartbeat = setInterval(() => app.master.agentMessage(agentId, conn, { type: 'heartbeat' }), 1000);
  return {
    app,
    url,
    dir,
    agentId,
    conn,
    frameworkId: fw.id,
    change(i, stamp) {
      flip[i] = !flip[i];
      status(i, { healthy: flip[i], message: stamp });
    },
    async close() {
      clearInterval(heartbeat);
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One connection in this process, for the bytes of one change. */
function probe(url: string, token: string): Promise<{ ws: WebSocket; bytes: () => number }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/stream`);
  let bytes = 0;
  return new Promise((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', token, compact: true })));
    ws.once('error', reject);
    ws.on('message', (raw: Buffer) => {
      bytes += raw.length;
      const msg = JSON.parse(raw.toString()) as { type?: string };
      if (msg.type === 'snapshot') resolve({ ws, bytes: () => bytes });
    });
  });
}

/** The dashboards: a child process (bench/stream-dashboards.ts) holding many sockets. */
class Dashboards {
  private child: ChildProcess;
  private waiting = new Map<string, Array<(msg: Record<string, unknown>) => void>>();

  constructor() {
    this.child = fork(join(ROOT, 'bench', 'stream-dashboards.ts'), [], { cwd: ROOT, execArgv: ['--import', 'tsx', ...(process.env.BENCH_STREAM_CHILD_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_STREAM_CHILD_PROF}`] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (raw) => {
      const msg = raw as Record<string, unknown>;
      if (msg.type === 'error') throw new Error(`dashboards: ${String(msg.message)}`);
      const list = this.waiting.get(String(msg.type)) ?? [];
      this.waiting.delete(String(msg.type));
      for (const f of list) f(msg);
    });
  }

  ask(msg: Record<string, unknown>, reply: string): Promise<Record<string, unknown>> {
    const p = new Promise<Record<string, unknown>>((r) => {
      const list = this.waiting.get(reply) ?? [];
      list.push(r);
      this.waiting.set(reply, list);
    });
    this.child.send(msg);
    return p;
  }

  open(opts: { url: string; token?: string; clients: number; stalled?: boolean; raw?: boolean; scan?: boolean }): Promise<unknown> {
    return this.ask({ type: 'open', compact: true, stalled: false, raw: false, scan: false, ...opts }, 'ready');
  }

  async count(): Promise<{ events: number[]; open: number }> {
    return (await this.ask({ type: 'count' }, 'count')) as unknown as { events: number[]; open: number };
  }

  close(): Promise<unknown> {
    return this.ask({ type: 'close' }, 'closed');
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.disconnect();
    await exited;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const clock = () => performance.timeOrigin + performance.now();

/** Until every dashboard counted `target` more events than at `base`; rejects when one was cut off. */
async function allReceived(ds: Dashboards, clients: number, base: number[], target: number): Promise<void> {
  const deadline = performance.now() + 120_000;
  for (;;) {
    const c = await ds.count();
    if (c.events.every((n, k) => n - (base[k] ?? 0) >= target)) return;
    if (c.open < clients || performance.now() > deadline) throw new Error(`${clients - c.open} of ${clients} dashboards were cut off; received ${c.events.map((n, k) => n - (base[k] ?? 0)).join(',')}`);
    await new Promise((res) => setTimeout(res, 2));
  }
}

/** Events per second until every dashboard has every event. */
async function throughput(r: Rig, ds: Dashboards, clients: number, events: number): Promise<number> {
  await ds.open({ url: r.url, token: r.app.adminToken, clients });
  const base = (await ds.count()).events;
  const t0 = performance.now();
  for (let i = 0; i < events; i++) {
    r.change(i % TASKS, `x${i}`);
    if (i % 500 === 499) await new Promise((res) => setImmediate(res));
  }
  await allReceived(ds, clients, base, events);
  const ms = performance.now() - t0;
  await ds.close();
  return (events / ms) * 1000;
}

/** The same number of messages of the same bytes, broadcast by a bare ws server to the same kind of readers. */
async function rawBroadcast(ds: Dashboards, clients: number, payloads: string[]): Promise<number> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((res) => wss.once('listening', res));
  const port = (wss.address() as { port: number }).port;
  await ds.open({ url: `ws://127.0.0.1:${port}`, clients, raw: true });
  while (wss.clients.size < clients) await new Promise((res) => setTimeout(res, 5));
  const t0 = performance.now();
  for (let i = 0; i < payloads.length; i++) {
    for (const c of wss.clients) c.send(payloads[i]!);
    if (i % 500 === 499) await new Promise((res) => setImmediate(res));
  }
  await allReceived(ds, clients, [], payloads.length);
  const ms = performance.now() - t0;
  await ds.close();
  await new Promise((res) => wss.close(res));
  return (payloads.length / ms) * 1000;
}

/** Change-to-client p99 at a steady rate; optionally with one dashboard that never reads. */
async function latency(r: Rig, ds: Dashboards, clients: number, ratePerSecond: number, seconds: number, stalled: boolean, scan: boolean): Promise<{ p99: number; committed: number }> {
  await ds.open({ url: r.url, token: r.app.adminToken, clients, stalled, scan });
  const total = ratePerSecond * seconds;
  const sentAt: number[] = new Array(total);
  const tickMs = 10;
  const perTick = Math.round((ratePerSecond * tickMs) / 1000);
  // the part of the latency that is the master's: status update → committed and in the event log
  const committed: number[] = [];
  const unsubscribe = r.app.master.events.subscribe((events) => {
    const at = clock();
    for (const e of events) {
      const m = e.kind === 'task' && e.op === 'patch' ? e.data.message : undefined;
      if (m?.startsWith('l')) committed.push(at - sentAt[Number(m.slice(1))]!);
    }
  });
  const t0 = performance.now();
  let i = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * ratePerSecond) + perTick);
    for (; i < due; i++) {
      sentAt[i] = clock();
      r.change(i % TASKS, `l${i}`);
    }
    await new Promise((res) => setTimeout(res, tickMs));
  }
  const sendMs = performance.now() - t0;
  await new Promise((res) => setTimeout(res, 500));
  unsubscribe();
  const result = (await ds.ask({ type: 'latency', sentAt }, 'latency')) as { p99: number; samples: number; open: number };
  await ds.close();
  if (result.samples === 0) throw new Error(`no change reached the dashboards (${result.open} of ${clients} still connected; ${committed.length} committed)`);
  const sorted = committed.sort((a, b) => a - b);
  process.stderr.write(
    `  stream latency run${stalled ? ' (stalled dashboard)' : ''}: ${total} changes sent in ${sendMs.toFixed(0)} ms; committed p50/p99 ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)}/${sorted[Math.floor(sorted.length * 0.99)]?.toFixed(1)} ms; at the dashboards p99 ${result.p99.toFixed(1)} ms\n`,
  );
  if (result.samples < total * clients * 0.99) throw new Error(`only ${result.samples} of ${total * clients} changes reached the dashboards`);
  return { p99: result.p99, committed: sorted[Math.floor(sorted.length * 0.99)] ?? NaN };
}

export async function runStreamBench(): Promise<BenchResult[]> {
  // the master's timers are unref'd: without this the process could end while waiting for an offer
  const keepAlive = setInterval(() => {}, 60_000);
  const r = await rig();
  const ds = new Dashboards();
  try {
    // bytes: one task change on the wire (compact, as the dashboard asks) vs the full task object
    const full = JSON.stringify(r.app.master.getTask('s-0') as TaskView).length;
    const p = await probe(r.url, r.app.adminToken);
    const before = p.bytes();
    r.change(0, 'p');
    await new Promise((res) => setTimeout(res, 200));
    const oneChange = p.bytes() - before;
    p.ws.terminate();

    const events = Number(process.env.BENCH_STREAM_EVENTS ?? 20_000);
    const payloads = Array.from({ length: events }, (_, i) => JSON.stringify([i, ['t~', `s-${i % TASKS}`, { healthy: i % 2 === 0, message: `x${i}`, updatedAt: 1_700_000_000_000 + i }]]));
    const rows: BenchResult[] = [];
    // BENCH_STREAM_SKIP_THROUGHPUT=1: only the latency and bytes rows (profiling)
    for (const clients of process.env.BENCH_STREAM_SKIP_THROUGHPUT ? [] : [10, 100]) {
      const mine: number[] = [];
      const raw: number[] = [];
      for (let k = 0; k < RUNS; k++) {
        mine.push(await throughput(r, ds, clients, events));
        raw.push(await rawBroadcast(ds, clients, payloads));
      }
      const m = median(mine);
      const b = median(raw);
      rows.push({ name: `stream: events/s to ${clients} dashboards (vs raw ws broadcast)`, value: Math.round(m), unit: 'ev/s', baseline: Math.round(b), ratio: Math.round((m / b) * 100) / 100, target: [ratioAtLeast(0.7)] });
    }
    const quiet: number[] = [];
    const loaded: number[] = [];
    const committed: number[] = [];
    for (let k = 0; k < RUNS; k++) {
      const a = await latency(r, ds, 50, 10_000, 2, false, SCAN);
      quiet.push(a.p99);
      committed.push(a.committed);
      loaded.push((await latency(r, ds, 50, 10_000, 2, true, SCAN)).p99);
    }
    const q = median(quiet);
    const l = median(loaded);
    const c = median(committed);
    process.stderr.write(`  stream: p99 runs ${quiet.map((x) => x.toFixed(1)).join(', ')} ms; with a stalled dashboard ${loaded.map((x) => x.toFixed(1)).join(', ')} ms\n`);
    rows.push({ name: 'stream: change-to-client p99 at 10,000 ev/s to 50 dashboards', value: Math.round(q * 10) / 10, unit: 'ms', target: [atMost(100)] });
    rows.push({ name: "stream: the master's share of it (status update to committed event), p99", value: Math.round(c * 10) / 10, unit: 'ms' });
    rows.push({ name: 'stream: p99 with one stalled dashboard (vs without)', value: Math.round(l * 10) / 10, unit: 'ms', baseline: Math.round(q * 10) / 10, ratio: Math.round((l / q) * 100) / 100, target: [ratioAtMost(1.1)] });
    rows.push({ name: 'stream: bytes for one task change (vs the full task)', value: oneChange, unit: 'B', baseline: full, ratio: Math.round((oneChange / full) * 100) / 100, target: [ratioAtMost(0.2)] });
    return rows;
  } finally {
    clearInterval(keepAlive);
    await ds.stop();
    await r.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const x of await runStreamBench()) console.log(`${x.name}: ${x.value} ${x.unit}${x.baseline !== undefined ? `; baseline ${x.baseline} ${x.unit}; ratio ${x.ratio}` : ''}`);
}
