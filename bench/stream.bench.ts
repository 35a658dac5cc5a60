// The dashboard stream under load, through the real path: status updates from an (in-process)
// agent connection → master group commit → event log → stream hub → real WebSocket clients.
//  - throughput to 10 and 100 dashboards vs a raw `ws` broadcast of the same event bytes;
//  - change-to-client p99 at 10,000 events/s to 50 dashboards;
//  - bytes on the wire for one task change vs the full task object;
//  - one stalled client: the others' p99 with and without it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';
import { build, type Yagura } from '../server/app.js';
import type { AgentConnection } from '../server/master/types.js';
import type { MasterToAgent, StreamServerMessage, TaskView } from '../protocol/types.js';
import type { BenchResult } from './allocator.bench.js';

const TASKS = 1000;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

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
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Dashboard {
  ws: WebSocket;
  /** stamps seen, with arrival time */
  onStamp?: (stamp: string, at: number) => void;
  events: number;
  bytes: number;
  ready: Promise<void>;
}

function dashboard(url: string, token: string): Dashboard {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/stream`);
  const d: Dashboard = { ws, events: 0, bytes: 0, ready: Promise.resolve() };
  d.ready = new Promise((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', token })));
    ws.once('error', reject);
    ws.on('message', (raw: Buffer) => {
      d.bytes += raw.length;
      const at = performance.now();
      const msg = JSON.parse(raw.toString()) as StreamServerMessage;
      if (msg.type === 'snapshot') resolve();
      else if (msg.type === 'events') {
        d.events += msg.events.length;
        if (d.onStamp) for (const e of msg.events) {
          const m = 'data' in e ? (e.data as { message?: string } | undefined)?.message : undefined;
          if (m) d.onStamp(m, at);
        }
      }
    });
  });
  return d;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

/** Events per second until every dashboard has every event. */
async function throughput(r: Rig, clients: number, events: number): Promise<{ perSecond: number; eventBytes: number[] }> {
  const ds = Array.from({ length: clients }, () => dashboard(r.url, r.app.adminToken));
  await Promise.all(ds.map((d) => d.ready));
  const base = ds.map((d) => d.events);
  const t0 = performance.now();
  for (let i = 0; i < events; i++) {
    r.change(i % TASKS, `x${i}`);
    if (i % 500 === 499) await new Promise((res) => setImmediate(res));
  }
  await new Promise<void>((resolve, reject) => {
    const deadline = performance.now() + 120_000;
    const check = () => {
      if (ds.every((d, k) => d.events - base[k]! >= events)) return resolve();
      const cut = ds.filter((d) => d.ws.readyState !== WebSocket.OPEN).length;
      if (cut || performance.now() > deadline) return reject(new Error(`${cut} of ${clients} dashboards were cut off; received ${ds.map((d, k) => d.events - base[k]!).join(',')}`));
      setTimeout(check, 1);
    };
    check();
  });
  const ms = performance.now() - t0;
  for (const d of ds) d.ws.terminate();
  return { perSecond: (events / ms) * 1000, eventBytes: [] };
}

/** The same number of messages of the same bytes, broadcast by a bare ws server. */
async function rawBroadcast(clients: number, payloads: string[]): Promise<number> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as { port: number }).port;
  const counts: number[] = new Array(clients).fill(0);
  const socks = await Promise.all(
    Array.from({ length: clients }, (_, k) => new Promise<WebSocket>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`);
      ws.on('message', () => counts[k]!++);
      ws.once('open', () => resolve(ws));
    })),
  );
  while (wss.clients.size < clients) await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  for (let i = 0; i < payloads.length; i++) {
    for (const c of wss.clients) c.send(payloads[i]!);
    if (i % 500 === 499) await new Promise((res) => setImmediate(res));
  }
  await new Promise<void>((resolve) => {
    const check = () => (counts.every((n) => n >= payloads.length) ? resolve() : setTimeout(check, 1));
    check();
  });
  const ms = performance.now() - t0;
  for (const s of socks) s.terminate();
  await new Promise((r) => wss.close(r));
  return (payloads.length / ms) * 1000;
}

/** Change-to-client latency at a steady rate; optionally with one dashboard that never reads. */
async function latency(r: Rig, clients: number, ratePerSecond: number, seconds: number, stalled: boolean): Promise<number> {
  const sentAt = new Map<string, number>();
  const samples: number[] = [];
  const ds = Array.from({ length: clients }, () => dashboard(r.url, r.app.adminToken));
  await Promise.all(ds.map((d) => d.ready));
  for (const d of ds) d.onStamp = (stamp, at) => {
    const t = sentAt.get(stamp);
    if (t !== undefined) samples.push(at - t);
  };
  let stall: WebSocket | undefined;
  if (stalled) {
    const s = dashboard(r.url, r.app.adminToken);
    await s.ready;
    (s.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    stall = s.ws;
  }
  const total = ratePerSecond * seconds;
  const tickMs = 10;
  const perTick = Math.round((ratePerSecond * tickMs) / 1000);
  const t0 = performance.now();
  let i = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * ratePerSecond) + perTick);
    for (; i < due; i++) {
      const stamp = `l${stalled ? 's' : 'n'}${i}`;
      sentAt.set(stamp, performance.now());
      r.change(i % TASKS, stamp);
    }
    await new Promise((res) => setTimeout(res, tickMs));
  }
  await new Promise((res) => setTimeout(res, 500));
  for (const d of ds) d.ws.terminate();
  stall?.terminate();
  return pct(samples, 99);
}

export async function runStreamBench(): Promise<BenchResult[]> {
  // the master's timers are unref'd: without this the process could end while waiting for an offer
  const keepAlive = setInterval(() => {}, 60_000);
  const r = await rig();
  try {
    // bytes: one task change on the wire vs the full task object
    const full = JSON.stringify(r.app.master.getTask('s-0') as TaskView).length;
    const probe = dashboard(r.url, r.app.adminToken);
    await probe.ready;
    const before = probe.bytes;
    r.change(0, 'p');
    await new Promise((res) => setTimeout(res, 200));
    const oneChange = probe.bytes - before;
    probe.ws.terminate();

    const events = Number(process.env.BENCH_STREAM_EVENTS ?? 20_000);
    const payloads = Array.from({ length: events }, (_, i) => JSON.stringify({ type: 'events', epoch: 'e', events: [{ seq: i, kind: 'task', op: 'patch', id: `s-${i % TASKS}`, data: { healthy: i % 2 === 0, message: `x${i}` } }] }));
    const rows: BenchResult[] = [];
    for (const clients of [10, 100]) {
      const mine: number[] = [];
      const raw: number[] = [];
      for (let k = 0; k < RUNS; k++) {
        mine.push((await throughput(r, clients, events)).perSecond);
        raw.push(await rawBroadcast(clients, payloads));
      }
      const m = median(mine);
      const b = median(raw);
      rows.push({ name: `stream: events/s to ${clients} dashboards (vs raw ws broadcast; target ≥ 0.7×)`, value: Math.round(m), unit: 'ev/s', baseline: Math.round(b), ratio: Math.round((m / b) * 100) / 100 });
    }
    const quiet: number[] = [];
    const loaded: number[] = [];
    for (let k = 0; k < RUNS; k++) {
      quiet.push(await latency(r, 50, 10_000, 2, false));
      loaded.push(await latency(r, 50, 10_000, 2, true));
    }
    const q = median(quiet);
    const l = median(loaded);
    rows.push({ name: 'stream: change-to-client p99 at 10,000 ev/s to 50 dashboards (target ≤ 100 ms)', value: Math.round(q * 10) / 10, unit: 'ms', baseline: 100, ratio: Math.round((q / 100) * 100) / 100 });
    rows.push({ name: 'stream: p99 with one stalled dashboard (vs without; target ≤ 1.1×)', value: Math.round(l * 10) / 10, unit: 'ms', baseline: Math.round(q * 10) / 10, ratio: Math.round((l / q) * 100) / 100 });
    rows.push({ name: 'stream: bytes for one task change (vs the full task; target ≤ 0.2×)', value: oneChange, unit: 'B', baseline: full, ratio: Math.round((oneChange / full) * 100) / 100 });
    return rows;
  } finally {
    clearInterval(keepAlive);
    await r.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const x of await runStreamBench()) console.log(`${x.name}: ${x.value} ${x.unit}; baseline ${x.baseline} ${x.unit}; ratio ${x.ratio}`);
}
