// The dashboard stream hub: a snapshot, then every numbered event, coalesced per tick.
// One slow client is cut off at a bounded send queue; it never slows the others.
//
// What goes out is built once and shared: a coalesced batch is encoded once per encoding into
// one Buffer that every socket sends. Tasks travel as summaries (protocol TaskSummary).
// Dashboards that ask for `compact` get the snapshot's tasks as one table (CompactTasks) and
// batches as CompactEvents arrays; other clients get a snapshot joined from per-task JSON
// strings cached by task view (views are replaced on every change, so a cached string is never
// stale).

import type { WebSocket } from 'ws';
import {
  CLOSE,
  COMPACT_KINDS,
  COMPACT_OPS,
  TASK_SUMMARY_CHANGES,
  taskSummary,
  type ClusterEvent,
  type TaskSummary,
  type TaskView,
} from '../../protocol/types.js';
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
  /** Events as CompactEvents arrays (asked for in hello). */
  compact: boolean;
  /**
   * Bytes the client may have unsent beyond the bound while its snapshot drains: a snapshot of
   * 100,000 tasks is ~35 MB, and events keep coming while a browser reads it.
   */
  allowance: number;
}

// ---------------------------------------------------------------------------------------------
// Task summaries

/**
 * A task view's summary as JSON, made once per view. The master makes one frozen view per task
 * record and replaces both on every change, so the cache needs no invalidation: a changed task
 * is a new key, and the old entry goes with the old view.
 */
const summaryJson = new WeakMap<TaskView, string>();

export function taskSummaryJson(t: TaskView): string {
  let json = summaryJson.get(t);
  if (json === undefined) {
    json = JSON.stringify(taskSummary(t));
    summaryJson.set(t, json);
  }
  return json;
}

const CHANGES: ReadonlySet<string> = new Set(TASK_SUMMARY_CHANGES);

/** A TaskView patch as a TaskSummary patch (`null` still means "cleared"). */
export function taskSummaryPatch(patch: Partial<TaskView>): Partial<TaskSummary> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (CHANGES.has(key) || key === 'name' || key === 'agentId' || key === 'frameworkId' || key === 'createdAt') out[key] = value;
    else if (key === 'resources' && value) {
      out.cpus = (value as TaskView['resources']).cpus;
      out.mem = (value as TaskView['resources']).mem;
    } else if (key === 'labels') out.service = (value as TaskView['labels'] | null)?.YAGURA_APP_ID || null;
    // command and statusUuid are not part of the summary
  }
  return out as Partial<TaskSummary>;
}

/** The data of an event as the stream sends it (JSON), or undefined for a delete. */
function eventDataJson(e: ClusterEvent): string | undefined {
  if (e.op === 'delete') return undefined;
  if (e.kind === 'task') return e.op === 'put' ? taskSummaryJson(e.data) : JSON.stringify(taskSummaryPatch(e.data));
  return JSON.stringify(e.data);
}

/** One event's parts, encoded once per batch for every client and both encodings. */
interface Encoded {
  e: ClusterEvent;
  id: string;
  data: string | undefined;
}

function encodeEvents(events: readonly ClusterEvent[]): Encoded[] {
  return events.map((e) => ({ e, id: JSON.stringify(e.id), data: eventDataJson(e) }));
}

/** `{"type":"events","epoch":…,"events":[{seq, at, kind, op, id, data}]}` */
function verboseJson(epoch: string, events: readonly Encoded[]): string {
  const parts = events.map(
    ({ e, id, data }) => `{"seq":${e.seq},"at":${e.at},"kind":"${e.kind}","op":"${e.op}","id":${id}${data === undefined ? '' : `,"data":${data}`}}`,
  );
  return `{"type":"events","epoch":${JSON.stringify(epoch)},"events":[${parts.join(',')}]}`;
}

/** CompactEvents: `[firstSeq,["t~","id",{…}],…]` (protocol/types.ts). */
function compactJson(events: readonly Encoded[]): string {
  const parts = events.map(({ e, id, data }) => `["${COMPACT_KINDS[e.kind]}${COMPACT_OPS[e.op]}",${id}${data === undefined ? '' : `,${data}`}]`);
  return `[${events[0]!.e.seq},${parts.join(',')}]`;
}

/**
 * The snapshot message a dashboard gets, serialized: `{"type":"snapshot",…}`. A `compact`
 * client (the dashboard) gets the tasks as one table (protocol/compact-tasks.ts), a third of
 * the bytes of summaries, joined from chunks the master keeps written (master/compact-cache.ts):
 * only the chunks whose tasks changed are written again. Any other client gets every task as a
 * summary, joined from the per-view cache (a task that did not change since the last snapshot
 * costs a lookup, not a serialization).
 */
export function snapshotMessage(master: Master, compact = false): string {
  const s = master.snapshot(!compact);
  let tasks: string;
  if (compact) tasks = `"compactTasks":${master.compactTasksJson()}`;
  else {
    const parts = new Array<string>(s.tasks.length);
    for (let i = 0; i < s.tasks.length; i++) parts[i] = taskSummaryJson(s.tasks[i]!);
    tasks = `"tasks":[${parts.join(',')}]`;
  }
  return (
    `{"type":"snapshot","epoch":${JSON.stringify(s.epoch)},"seq":${s.seq},"agents":${JSON.stringify(s.agents)},` +
    `${tasks},"frameworks":${JSON.stringify(s.frameworks)},"services":${JSON.stringify(s.services)},` +
    `"deployments":${JSON.stringify(s.deployments)},"jobs":${JSON.stringify(s.jobs ?? [])},"jobRuns":${JSON.stringify(s.jobRuns ?? [])}}`
  );
}

// ---------------------------------------------------------------------------------------------

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
    const client: Client = { ws, seq: 0, ready: false, alive: true, compact: false, allowance: 0, ...(principal ? { principal } : {}) };
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
      const m = msg as { type: string; token?: unknown; epoch?: unknown; seq?: unknown; compact?: unknown };
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
      client.compact = m.compact === true;
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
      if (missed.length) this.sendRaw(client, this.encode(client, encodeEvents(missed)));
    } else {
      // the snapshot and client.seq are taken in the same turn: the events after it are exactly
      // those with a greater sequence number
      client.seq = events.seq;
      const snapshot = Buffer.from(snapshotMessage(this.master, client.compact));
      this.sendRaw(client, snapshot);
      client.allowance = snapshot.length;
    }
    client.ready = true;
  }

  private encode(c: Client, events: readonly Encoded[]): string {
    return c.compact ? compactJson(events) : verboseJson(this.master.epoch, events);
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
    const first = batch[0]!.seq;
    const last = batch[batch.length - 1]!.seq;
    let encoded: Encoded[] | undefined;
    // the whole batch, encoded once per encoding into one buffer every socket sends
    let compact: Buffer | undefined;
    let verbose: Buffer | undefined;
    for (const c of this.clients) {
      if (!c.ready || c.seq >= last) continue;
      encoded ??= encodeEvents(batch);
      let data: Buffer | string;
      if (c.seq < first) data = c.compact ? (compact ??= Buffer.from(compactJson(encoded))) : (verbose ??= Buffer.from(verboseJson(this.master.epoch, encoded)));
      else data = this.encode(c, encoded.filter((x) => x.e.seq > c.seq)); // joined mid-batch (a resume)
      c.seq = last;
      this.sendRaw(c, data);
    }
  }

  private sendRaw(c: Client, data: string | Buffer): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    // judged on the backlog before this message: a reader that keeps up has drained it by now
    // (the snapshot's own bytes excepted, until they have drained)
    if (c.allowance && c.ws.bufferedAmount <= this.maxBufferedBytes) c.allowance = 0;
    if (c.ws.bufferedAmount > this.maxBufferedBytes + c.allowance) {
      this.clients.delete(c);
      c.ws.close(CLOSE.TOO_SLOW, 'client too slow; reconnect and resume');
      // a peer that does not read will not read our close frame either
      setTimeout(() => c.ws.terminate(), 1000).unref();
      return;
    }
    // a Buffer would go out as a binary frame by default; the stream is text (JSON)
    c.ws.send(data, { binary: false });
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
