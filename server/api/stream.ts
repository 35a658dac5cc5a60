// The dashboard stream hub: a snapshot, then every numbered event, coalesced per tick.
// One slow client is cut off at a bounded send queue; it never slows the others.

import type { WebSocket } from 'ws';
import { CLOSE, type ClusterEvent, type StreamServerMessage } from '../../protocol/types.js';
import type { Master } from '../master/master.js';
import type { Auth, Principal } from './auth.js';

export interface StreamOptions {
  /** A client whose unsent bytes exceed this is disconnected with CLOSE.TOO_SLOW. */
  maxBufferedBytes?: number;
  heartbeatMs?: number;
  /** Events arriving within this window go out as one message. */
  coalesceMs?: number;
  /** How long a client may take to send its hello. */
  helloTimeoutMs?: number;
}

interface Client {
  ws: WebSocket;
  principal?: Principal;
  /** The last sequence number this client has (or will have, once queued data drains). */
  seq: number;
  ready: boolean;
  alive: boolean;
}

export class StreamHub {
  private clients = new Set<Client>();
  private pending: ClusterEvent[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout;
  private unsubscribe: () => void;
  private readonly maxBufferedBytes: number;
  private readonly coalesceMs: number;
  private readonly helloTimeoutMs: number;

  constructor(
    private master: Master,
    private auth: Auth,
    opts: StreamOptions = {},
  ) {
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.coalesceMs = opts.coalesceMs ?? 16;
    this.helloTimeoutMs = opts.helloTimeoutMs ?? 10_000;
    this.unsubscribe = master.events.subscribe((events) => this.onEvents(events));
    this.heartbeat = setInterval(() => this.beat(), opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** A new socket; `principal` is set when auth came with the upgrade (Sec-WebSocket-Protocol). */
  add(ws: WebSocket, principal: Principal | undefined): void {
    const client: Client = { ws, seq: 0, ready: false, alive: true, ...(principal ? { principal } : {}) };
    this.clients.add(client);
    const helloTimer = setTimeout(() => {
      if (!client.ready) ws.close(CLOSE.UNAUTHORIZED, 'no hello');
    }, this.helloTimeoutMs);
    ws.on('pong', () => (client.alive = true));
    ws.on('message', (raw, isBinary) => {
      let msg: unknown;
      try {
        msg = isBinary ? undefined : JSON.parse(raw.toString());
      } catch {
        msg = undefined;
      }
      if (!msg || typeof msg !== 'object' || typeof (msg as { type?: unknown }).type !== 'string') {
        ws.close(CLOSE.BAD_MESSAGE, 'messages are JSON objects with a type');
        return;
      }
      const m = msg as { type: string; token?: unknown; epoch?: unknown; seq?: unknown };
      // keepalives only once hello has been answered: before it, nothing but hello is read, so
      // an unauthenticated socket cannot keep the master busy until the hello deadline
      if (m.type === 'ping' && client.ready) return;
      if (m.type !== 'hello' || client.ready) {
        ws.close(CLOSE.BAD_MESSAGE, `unexpected message ${m.type.slice(0, 40)}`);
        return;
      }
      if (!client.principal) {
        const p = this.auth.verify(typeof m.token === 'string' ? m.token : undefined);
        if (!p) {
          ws.close(CLOSE.UNAUTHORIZED, 'missing or wrong token');
          return;
        }
        client.principal = p;
      }
      clearTimeout(helloTimer);
      this.start(client, typeof m.epoch === 'string' ? m.epoch : undefined, typeof m.seq === 'number' ? m.seq : undefined);
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      this.clients.delete(client);
    });
    ws.on('error', () => ws.terminate());
  }

  private start(client: Client, epoch: string | undefined, seq: number | undefined): void {
    const events = this.master.events;
    const missed = epoch === this.master.epoch && seq !== undefined && Number.isInteger(seq) ? events.since(seq) : undefined;
    if (missed) {
      client.seq = events.seq;
      if (missed.length) this.send(client, { type: 'events', epoch: this.master.epoch, events: missed });
    } else {
      const snap = this.master.snapshot();
      client.seq = snap.seq;
      this.send(client, { type: 'snapshot', ...snap });
    }
    client.ready = true;
  }

  private onEvents(events: readonly ClusterEvent[]): void {
    if (this.clients.size === 0) return;
    for (const e of events) this.pending.push(e);
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), this.coalesceMs);
  }

  private flush(): void {
    this.flushTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const last = batch[batch.length - 1]!.seq;
    let shared: string | undefined;
    for (const c of this.clients) {
      if (!c.ready || c.seq >= last) continue;
      let data: string;
      if (c.seq < batch[0]!.seq) {
        shared ??= JSON.stringify({ type: 'events', epoch: this.master.epoch, events: batch });
        data = shared;
      } else {
        data = JSON.stringify({ type: 'events', epoch: this.master.epoch, events: batch.filter((e) => e.seq > c.seq) });
      }
      c.seq = last;
      this.sendRaw(c, data);
    }
  }

  private send(c: Client, msg: StreamServerMessage): void {
    this.sendRaw(c, JSON.stringify(msg));
  }

  private sendRaw(c: Client, data: string): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    // judged on the backlog before this message: a reader that keeps up has drained it by now
    if (c.ws.bufferedAmount > this.maxBufferedBytes) {
      this.clients.delete(c);
      c.ws.close(CLOSE.TOO_SLOW, 'client too slow; reconnect and resume');
      // a peer that does not read will not read our close frame either
      setTimeout(() => c.ws.terminate(), 1000).unref();
      return;
    }
    c.ws.send(data);
  }

  private beat(): void {
    const msg = JSON.stringify({ type: 'heartbeat', epoch: this.master.epoch, seq: this.master.events.seq, at: Date.now() });
    for (const c of this.clients) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
      if (c.ready) this.sendRaw(c, msg);
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.unsubscribe();
    for (const c of this.clients) c.ws.close(1001, 'server stopping');
    this.clients.clear();
  }
}
