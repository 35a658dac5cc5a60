// Dashboards for bench/stream.bench.ts, in a process of their own: 50 or 100 WebSocket readers
// parsing JSON do not share the master's event loop (as browsers on other machines would not).
// Steered over IPC by the parent:
//   parent → child: { type: 'open', url, token?, clients, compact, stalled, raw, scan }
//                   | { type: 'count' } | { type: 'latency', sentAt: number[] } | { type: 'close' }
//   child → parent: { type: 'ready' } | { type: 'count', events: number[], open: number }
//                   | { type: 'latency', p99: number, samples: number } | { type: 'closed' } | { type: 'error', message }
// A dashboard says hello (compact when asked), waits for its snapshot, then counts the events it
// receives; each task patch whose message is a stamp `l<i>` records (i, arrival time). Times are
// absolute (timeOrigin + now) so the two processes agree. `raw` clients only count messages
// (the bare ws broadcast baseline). A `stalled` extra dashboard stops reading after its snapshot.

import { WebSocket } from 'ws';

type FromParent =
  | { type: 'open'; url: string; token?: string; clients: number; compact: boolean; stalled: boolean; raw: boolean; scan: boolean }
  | { type: 'count' }
  | { type: 'latency'; sentAt: number[] }
  | { type: 'close' };

interface Dashboard {
  ws: WebSocket;
  events: number;
  /** stamp index, arrival (absolute ms), pairs */
  stamps: number[];
}

const send = (msg: unknown) => process.send?.(msg);
const clock = () => performance.timeOrigin + performance.now();
let dashboards: Dashboard[] = [];
let stalled: WebSocket | undefined;

function recordStamp(d: Dashboard, data: unknown, at: number): void {
  const m = (data as { message?: unknown } | undefined)?.message;
  if (typeof m === 'string' && m.charCodeAt(0) === 108 /* l */) d.stamps.push(Number(m.slice(1)), at);
}

const STAMP = '"message":"l';

/**
 * `scan` mode: stamps are found in the text, not by building the objects. 50 readers in one
 * process on a 2-core machine shared with the master would otherwise measure their own JSON
 * parsing (50 × 10,000 events a second), which 50 dashboards on 50 machines each do alone; the
 * dashboard's own cost of applying events is what bench/dashboard-scale.bench.ts measures.
 */
function onScan(d: Dashboard, raw: Buffer, at: number, ready: () => void): void {
  const text = raw.toString();
  if (text.startsWith('{"type":"snapshot"')) return ready();
  for (let i = text.indexOf(STAMP); i >= 0; i = text.indexOf(STAMP, i + STAMP.length)) {
    const start = i + STAMP.length;
    const end = text.indexOf('"', start);
    d.stamps.push(Number(text.slice(start, end)), at);
    d.events++;
  }
}

function onMessage(d: Dashboard, raw: Buffer, at: number, ready: () => void): void {
  const msg = JSON.parse(raw.toString()) as unknown;
  if (Array.isArray(msg)) {
    // compact: [firstSeq, [code, id, data?]…]
    for (let i = 1; i < msg.length; i++) {
      d.events++;
      const e = msg[i] as [string, string, unknown?];
      if (e[0] === 't~') recordStamp(d, e[2], at);
    }
    return;
  }
  const m = msg as { type: string; events?: Array<{ kind: string; op: string; data?: unknown }> };
  if (m.type === 'snapshot') ready();
  else if (m.type === 'events') {
    for (const e of m.events!) {
      d.events++;
      if (e.kind === 'task' && e.op === 'patch') recordStamp(d, e.data, at);
    }
  }
}

function open(url: string, token: string | undefined, compact: boolean, raw: boolean, scan = false): Promise<Dashboard> {
  const ws = new WebSocket(raw ? url : `${url.replace(/^http/, 'ws')}/api/v1/stream`, { perMessageDeflate: false, maxPayload: 2 ** 30 });
  const d: Dashboard = { ws, events: 0, stamps: [] };
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      if (raw) resolve(d);
      else ws.send(JSON.stringify({ type: 'hello', token, ...(compact ? { compact: true } : {}) }));
    });
    ws.on('message', (data: Buffer) => {
      if (raw) {
        d.events++;
        return;
      }
      (scan ? onScan : onMessage)(d, data, clock(), () => resolve(d));
    });
  });
}

const p99 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.99 * s.length))] ?? NaN;
};

process.on('message', (raw) => {
  const msg = raw as FromParent;
  void (async () => {
    switch (msg.type) {
      case 'open': {
        dashboards = await Promise.all(Array.from({ length: msg.clients }, () => open(msg.url, msg.token, msg.compact, msg.raw, msg.scan)));
        if (msg.stalled) {
          const s = await open(msg.url, msg.token, msg.compact, false);
          (s.ws as unknown as { _socket: { pause(): void } })._socket.pause();
          stalled = s.ws;
        }
        send({ type: 'ready' });
        return;
      }
      case 'count':
        send({ type: 'count', events: dashboards.map((d) => d.events), open: dashboards.filter((d) => d.ws.readyState === WebSocket.OPEN).length });
        return;
      case 'latency': {
        const samples: number[] = [];
        for (const d of dashboards) {
          for (let k = 0; k < d.stamps.length; k += 2) {
            const sent = msg.sentAt[d.stamps[k]!];
            if (sent !== undefined && sent !== null) samples.push(d.stamps[k + 1]! - sent);
          }
        }
        send({ type: 'latency', p99: samples.length ? p99(samples) : -1, samples: samples.length, open: dashboards.filter((d) => d.ws.readyState === WebSocket.OPEN).length });
        return;
      }
      case 'close':
        for (const d of dashboards) d.ws.terminate();
        stalled?.terminate();
        dashboards = [];
        stalled = undefined;
        send({ type: 'closed' });
        return;
    }
  })().catch((err: Error) => send({ type: 'error', message: err.message }));
});
process.on('disconnect', () => process.exit(0));
