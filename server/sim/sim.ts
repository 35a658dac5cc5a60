// Simulated agents: many agents in one process, each on its own WebSocket to the master,
// speaking the real agent protocol (register with a task report, heartbeats at the interval
// the master asks for, status updates with uuids resent until acknowledged, kills, files
// requests answered "no sandbox"). Tasks run virtually: a launch becomes STARTING at once,
// RUNNING after the launch delay, and — when a run time is set — FINISHED (or FAILED for the
// failure rate's share) after it. Nothing is forked and nothing is written to disk, so one
// process can drive 10,000 agents against a real master. See README.md in this folder.

import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import {
  CLOSE,
  isTerminal,
  type AgentTaskReport,
  type AgentToMaster,
  type Attributes,
  type LaunchSpec,
  type MasterToAgent,
  type Resources,
  type StatusReason,
  type StatusUpdate,
  type TaskState,
} from '../../protocol/types.js';
import { StatusOutbox, parseMasterMessage, validateLaunch } from '../agent/agent.js';

export type SimLogger = (level: 'info' | 'warn' | 'error', msg: string) => void;

/** A duration in ms: fixed, or uniformly random in [min, max]. */
export type SimDuration = number | [number, number];

export interface SimOptions {
  /** http://127.0.0.1:5050 (https, ws and wss work too). */
  masterUrl: string;
  /** The agents' shared secret. */
  secret: string;
  /** How many agents. */
  agents: number;
  /** Hostnames are `<prefix><first + i>`; default `sim-` and 0 (several sim processes need distinct ranges). */
  hostnamePrefix?: string;
  firstIndex?: number;
  /** Per agent; default cpus 8, mem 32768, disk 102400, ports [[31000, 32000]]. */
  resources?: Partial<Resources>;
  /**
   * Agent n gets `region: region-<n % regions>`, `zone: zone-<n % zones>`, `rack: rack-<n % racks>`
   * (defaults 2, 6, 60); 0 leaves the attribute out. `attributes` are added to every agent.
   */
  regions?: number;
  zones?: number;
  racks?: number;
  attributes?: Attributes;
  /** How long a task runs before it ends; default forever. */
  runTimeMs?: SimDuration;
  /** Share of tasks (0..1) that end in TASK_FAILED (exit 1) instead: after their run time, or `failAfterMs` when they run forever. */
  failureRate?: number;
  /** Default 1000. */
  failAfterMs?: SimDuration;
  /** STARTING → RUNNING; default 0. */
  launchDelayMs?: SimDuration;
  /** TASK_KILLING → TASK_KILLED after a kill; default 0 (the task obeys SIGTERM at once). */
  killDelayMs?: SimDuration;
  /** Resend unacknowledged updates this often; default 10 s (as the real agent). */
  statusRetryMs?: number;
  /** Reconnect backoff, doubled from min up to max; default 500 ms → 10 s. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Links being opened at once (a burst of 10,000 upgrades would overflow the master's accept queue); default 200. */
  connectConcurrency?: number;
  /** Seed for the failure draws and random durations; default 1. */
  seed?: number;
  /** Agent version announced at registration; default `sim`. */
  version?: string;
  log?: SimLogger;
  /** Every update an agent sends for the first time. */
  onStatus?: (update: StatusUpdate, hostname: string) => void;
}

export interface SimCounters {
  /** Agents registered now. */
  registered: number;
  /** Registrations answered, re-registrations included. */
  registrations: number;
  /** Links that closed after registering. */
  disconnects: number;
  /** Upgrades refused for a wrong secret. */
  authFailures: number;
  launched: number;
  running: number;
  finished: number;
  failed: number;
  killed: number;
  /** Status updates sent (first sends) and sent again (resends). */
  updates: number;
  resent: number;
  acks: number;
  heartbeats: number;
  /** Messages over the agents' links: received from the master, and sent to it (heartbeats included). */
  messagesIn: number;
  messagesOut: number;
}

export interface SimAgentInfo {
  index: number;
  hostname: string;
  agentId: string | undefined;
  registered: boolean;
  attributes: Attributes;
  resources: Resources;
  /** Tasks not terminal-and-acknowledged. */
  tasks: number;
}

export interface SimHandle {
  readonly counters: Readonly<SimCounters>;
  /** The agents as they are now. */
  agents(): SimAgentInfo[];
  /** Resolves once every agent has registered at least once; rejects when the master refuses the secret. */
  registered(timeoutMs?: number): Promise<void>;
  /** Closes every link (the master sees the agents disconnect) and stops all timers. */
  close(): Promise<void>;
}

interface SimTask {
  id: string;
  frameworkId: string;
  resources: Resources;
  state: TaskState;
  /** Sent and not acknowledged yet, oldest first. */
  pending: Array<{ update: StatusUpdate; sentAt: number }>;
  timer: NodeJS.Timeout | undefined;
  killRequested: boolean;
  fails: boolean;
}

const DEFAULT_RESOURCES: Resources = { cpus: 8, mem: 32768, disk: 102_400, ports: [[31000, 32000]] };
const REGISTER_TIMEOUT_MS = 30_000;
/** Finished-and-acknowledged tasks an agent remembers, to answer a late kill as the real agent does. */
const REMEMBER_DONE = 64;

/** base64 of 16 random bytes, as the real agent's uuids, cut from a pool: one randomBytes call per 4,096 ids. */
const UUID_POOL = 16 * 4096;
let uuidPool = Buffer.alloc(0);
let uuidAt = UUID_POOL;
function newUuid(): string {
  if (uuidAt >= uuidPool.length) {
    uuidPool = randomBytes(UUID_POOL);
    uuidAt = 0;
  }
  uuidAt += 16;
  return uuidPool.toString('base64', uuidAt - 16, uuidAt);
}

/** A small seeded PRNG (mulberry32): the same seed gives the same failures and durations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function agentWsUrl(masterUrl: string): string {
  const u = new URL(masterUrl);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`unsupported master URL ${masterUrl}: use http(s)://host:port`);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v1/agent`;
  u.search = '';
  u.hash = '';
  return u.toString();
}

/** The attributes of agent `n` (its global index). */
export function simAttributes(n: number, opts: Pick<SimOptions, 'regions' | 'zones' | 'racks' | 'attributes'> = {}): Attributes {
  const out: Attributes = {};
  const regions = opts.regions ?? 2;
  const zones = opts.zones ?? 6;
  const racks = opts.racks ?? 60;
  if (regions > 0) out.region = `region-${n % regions}`;
  if (zones > 0) out.zone = `zone-${n % zones}`;
  if (racks > 0) out.rack = `rack-${String(n % racks).padStart(String(racks - 1).length, '0')}`;
  return { ...out, ...opts.attributes };
}

function checkOptions(o: SimOptions): void {
  const problems: string[] = [];
  if (!Number.isInteger(o.agents) || o.agents < 1) problems.push('agents must be a whole number of at least 1');
  if (!o.secret) problems.push('secret is required');
  if (o.failureRate !== undefined && !(o.failureRate >= 0 && o.failureRate <= 1)) problems.push('failureRate must be between 0 and 1');
  const dur = (name: string, d: SimDuration | undefined) => {
    if (d === undefined) return;
    const [a, b] = typeof d === 'number' ? [d, d] : d;
    if (!(Number.isFinite(a) && Number.isFinite(b) && a >= 0 && b >= a)) problems.push(`${name} must be ms >= 0, or [min, max] with min <= max`);
  };
  dur('runTimeMs', o.runTimeMs);
  dur('failAfterMs', o.failAfterMs);
  dur('launchDelayMs', o.launchDelayMs);
  dur('killDelayMs', o.killDelayMs);
  for (const k of ['regions', 'zones', 'racks', 'firstIndex'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) problems.push(`${k} must be a whole number >= 0`);
  }
  if (problems.length) throw new Error(`simulated agents: ${problems.join('; ')}`);
}

class Semaphore {
  private free: number;
  private waiting: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** State shared by all agents of one sim. */
class SimGroup {
  readonly counters: SimCounters = {
    registered: 0,
    registrations: 0,
    disconnects: 0,
    authFailures: 0,
    launched: 0,
    running: 0,
    finished: 0,
    failed: 0,
    killed: 0,
    updates: 0,
    resent: 0,
    acks: 0,
    heartbeats: 0,
    messagesIn: 0,
    messagesOut: 0,
  };
  readonly wsUrl: string;
  readonly random: () => number;
  readonly connects: Semaphore;
  readonly log: SimLogger;
  closed = false;
  authError: Error | undefined;
  everRegistered = 0;
  private waiters: Array<() => void> = [];

  constructor(readonly opts: SimOptions) {
    this.wsUrl = agentWsUrl(opts.masterUrl);
    this.random = prng(opts.seed ?? 1);
    this.connects = new Semaphore(opts.connectConcurrency ?? 200);
    this.log = opts.log ?? (() => {});
  }

  duration(d: SimDuration | undefined, fallback: number): number {
    if (d === undefined) return fallback;
    if (typeof d === 'number') return d;
    return d[0] + Math.floor(this.random() * (d[1] - d[0] + 1));
  }

  /** Something a waiter of registered() may care about happened. */
  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  changed(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }

  private quiet = new Map<string, { at: number; more: number }>();

  /** A warning many agents would repeat together (the master is down): once per 10 s per kind, with a count. */
  warnMany(kind: string, msg: string): void {
    const now = Date.now();
    const q = this.quiet.get(kind);
    if (q && now - q.at < 10_000) {
      q.more++;
      return;
    }
    this.log('warn', q?.more ? `${msg} (and ${q.more} more like it)` : msg);
    this.quiet.set(kind, { at: now, more: 0 });
  }
}

class SimAgent {
  agentId: string | undefined;
  ws: WebSocket | undefined;
  isRegistered = false;
  readonly tasks = new Map<string, SimTask>();
  /** Terminal and acknowledged: taskId → how it ended. */
  private readonly done = new Map<string, { state: TaskState; frameworkId: string }>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private registerTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private everRegistered = false;
  private holdsSlot = false;
  /** The link's TCP socket, corked for the rest of a turn once something is sent. */
  private socket: Socket | undefined;
  private corked = false;
  /** Status updates on their way, as the real agent sends them (StatusOutbox). */
  private readonly outbox = new StatusOutbox((msg) => this.send(msg));

  constructor(
    private readonly g: SimGroup,
    readonly index: number,
    readonly hostname: string,
    readonly resources: Resources,
    readonly attributes: Attributes,
  ) {}

  info(): SimAgentInfo {
    return {
      index: this.index,
      hostname: this.hostname,
      agentId: this.agentId,
      registered: this.isRegistered,
      attributes: this.attributes,
      resources: this.resources,
      tasks: this.tasks.size,
    };
  }

  // ---------------------------------------------------------------------------------------
  // link

  async connect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.g.closed) return;
    await this.g.connects.acquire();
    this.holdsSlot = true;
    if (this.g.closed) return this.releaseSlot();
    let authFailed: number | undefined;
    const ws = new WebSocket(this.g.wsUrl, {
      headers: { Authorization: `Bearer ${this.g.opts.secret}` },
      handshakeTimeout: 30_000,
      perMessageDeflate: false,
      maxPayload: 64 * 1024 * 1024,
    });
    this.ws = ws;
    this.socket = undefined;
    ws.on('upgrade', (res) => {
      if (this.ws === ws) this.socket = res.socket;
    });
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      if (status === 401 || status === 403) authFailed = status;
      else this.g.log('warn', `${this.hostname}: the master answered the agent link with HTTP ${status}`);
      ws.terminate();
    });
    ws.on('open', () => {
      if (this.ws !== ws) return;
      // as the real agent: a master that does not answer the registration gets a new link
      this.registerTimer = setTimeout(() => {
        this.g.log('warn', `${this.hostname}: the master did not answer the registration; reconnecting`);
        ws.terminate();
      }, REGISTER_TIMEOUT_MS);
      this.sendRaw({
        type: 'register',
        ...(this.agentId ? { agentId: this.agentId } : {}),
        hostname: this.hostname,
        resources: this.resources,
        attributes: this.attributes,
        isolators: ['sim'],
        version: this.g.opts.version ?? 'sim',
        tasks: this.taskReports(),
        accepts: ['launches'],
      });
    });
    ws.on('message', (data: WebSocket.RawData) => {
      if (this.ws !== ws) return;
      this.g.counters.messagesIn++;
      const raw = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      const msg = parseMasterMessage(raw);
      if (!msg) {
        this.g.log('warn', `${this.hostname}: ignored a malformed message from the master: ${raw.slice(0, 200)}`);
        return;
      }
      this.onMessage(ws, msg);
    });
    ws.on('error', (err) => {
      if (authFailed === undefined && this.ws === ws && !this.g.closed) this.g.warnMany('link', `${this.hostname}: link to master: ${err.message}`);
    });
    ws.on('close', (code) => {
      if (code === CLOSE.UNAUTHORIZED) authFailed ??= 401;
      this.onClose(ws, authFailed);
    });
  }

  private releaseSlot(): void {
    if (!this.holdsSlot) return;
    this.holdsSlot = false;
    this.g.connects.release();
  }

  private onClose(ws: WebSocket, authFailed: number | undefined): void {
    if (this.ws !== ws) return;
    this.releaseSlot();
    const was = this.isRegistered;
    this.ws = undefined;
    this.isRegistered = false;
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.registerTimer);
    if (was) {
      this.g.counters.registered--;
      this.g.counters.disconnects++;
    }
    if (this.g.closed) return;
    if (authFailed !== undefined) {
      this.g.counters.authFailures++;
      this.g.authError ??= new Error(`the master at ${this.g.wsUrl} refused the agent secret (HTTP ${authFailed})`);
      this.g.wake();
      // a wrong secret stays wrong: the sim stops, as `yagura agent` does
      return;
    }
    const min = this.g.opts.reconnectMinMs ?? 500;
    const max = this.g.opts.reconnectMaxMs ?? 10_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    if (was) this.g.warnMany('closed', `${this.hostname}: link to master closed; reconnecting in ${(delay / 1000).toFixed(1)} s`);
    // jitter, so that agents dropped together do not all come back in the same millisecond
    this.reconnectTimer = setTimeout(() => void this.connect(), Math.round(delay * (0.5 + this.g.random() / 2)));
  }

  close(): Promise<void> {
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.registerTimer);
    for (const t of this.tasks.values()) clearTimeout(t.timer);
    const ws = this.ws;
    if (!ws) return Promise.resolve();
    return new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1001, 'simulated agent stopping');
    });
  }

  private sendRaw(msg: AgentToMaster): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    // what one turn sends (STARTING and RUNNING of every task just launched) leaves in one write
    const socket = this.socket;
    if (socket && !this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    ws.send(JSON.stringify(msg));
    this.g.counters.messagesOut++;
    return true;
  }

  /** Only on a registered link: the master ignores everything else before `register`. */
  private send(msg: AgentToMaster): boolean {
    return this.isRegistered ? this.sendRaw(msg) : false;
  }

  private taskReports(): AgentTaskReport[] {
    return [...this.tasks.values()].map((t) => ({ taskId: t.id, frameworkId: t.frameworkId, state: t.state, resources: t.resources }));
  }

  private onMessage(ws: WebSocket, msg: MasterToAgent): void {
    if (msg.type !== 'registered' && msg.type !== 'refused' && !this.isRegistered) {
      this.g.log('warn', `${this.hostname}: ignored ${msg.type} before registration`);
      return;
    }
    switch (msg.type) {
      case 'registered':
        this.outbox.batches = msg.batches === true;
        return this.onRegistered(ws, msg.agentId, msg.heartbeatIntervalMs);
      case 'refused':
        // e.g. marked gone: a restarted agent with a fresh work directory joins as a new agent
        this.g.log('error', `${this.hostname}: the master refused the registration: ${msg.message}; rejoining as a new agent`);
        this.agentId = undefined;
        for (const t of this.tasks.values()) clearTimeout(t.timer);
        this.tasks.clear();
        ws.close(1000, 'refused');
        return;
      case 'launch':
        return this.launch(msg.task);
      case 'launches':
        for (const task of msg.tasks) this.launch(task);
        return;
      case 'kill':
        return this.kill(msg.taskId, msg.gracePeriodMs);
      case 'ack':
        return this.ack(msg.taskId, msg.uuid);
      case 'acks':
        for (const a of msg.acks) this.ack(a.taskId, a.uuid);
        return;
      case 'files.request':
        this.send({ type: 'files.reply', reqId: msg.reqId, ok: false, status: 404, message: 'a simulated agent keeps no sandbox files' });
        return;
      case 'files.tail':
        this.send({ type: 'files.end', streamId: msg.streamId, message: 'a simulated agent keeps no sandbox files' });
        return;
      case 'files.untail':
        return;
    }
  }

  private onRegistered(ws: WebSocket, agentId: string, heartbeatIntervalMs: number): void {
    if (this.agentId && this.agentId !== agentId) this.g.log('warn', `${this.hostname}: the master assigned a new agent id ${agentId} (was ${this.agentId})`);
    this.agentId = agentId;
    clearTimeout(this.registerTimer);
    if (!this.isRegistered) this.g.counters.registered++;
    this.isRegistered = true;
    this.g.counters.registrations++;
    this.attempt = 0;
    this.releaseSlot();
    if (!this.everRegistered) {
      this.everRegistered = true;
      this.g.everRegistered++;
      this.g.wake();
    }
    const hb = Math.min(5 * 60_000, Math.max(100, heartbeatIntervalMs));
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      if (this.ws !== ws) return;
      if (this.sendRaw({ type: 'heartbeat' })) this.g.counters.heartbeats++;
    }, hb);
    // everything not acknowledged yet goes again, oldest first (per task; tasks are independent)
    for (const t of this.tasks.values()) for (const p of t.pending) this.sendUpdate(p, p.sentAt > 0);
  }

  // ---------------------------------------------------------------------------------------
  // status updates

  private emit(task: SimTask, state: TaskState, extra: { reason?: StatusReason; message?: string; exitCode?: number } = {}): void {
    if (isTerminal(task.state)) return;
    task.state = state;
    const update: StatusUpdate = {
      uuid: newUuid(),
      taskId: task.id,
      frameworkId: task.frameworkId,
      agentId: this.agentId ?? '',
      state,
      ...(extra.reason ? { reason: extra.reason } : {}),
      ...(extra.message !== undefined ? { message: extra.message } : {}),
      ...(extra.exitCode !== undefined ? { exitCode: extra.exitCode } : {}),
      timestamp: Date.now(),
    };
    const p = { update, sentAt: 0 };
    task.pending.push(p);
    const c = this.g.counters;
    if (state === 'TASK_RUNNING') c.running++;
    else if (state === 'TASK_FINISHED') c.finished++;
    else if (state === 'TASK_FAILED') c.failed++;
    else if (state === 'TASK_KILLED') c.killed++;
    if (isTerminal(state)) {
      clearTimeout(task.timer);
      task.timer = undefined;
    }
    this.sendUpdate(p, false);
    this.g.opts.onStatus?.(update, this.hostname);
  }

  private sendUpdate(p: { update: StatusUpdate; sentAt: number }, again: boolean): void {
    const update = this.agentId && p.update.agentId !== this.agentId ? { ...p.update, agentId: this.agentId } : p.update;
    if (this.sendStatus(update)) {
      p.sentAt = Date.now();
      if (again) this.g.counters.resent++;
      else this.g.counters.updates++;
    }
  }

  /** An update about a task this agent keeps no record of: sent once, never resent. */
  private sendTransient(taskId: string, frameworkId: string, state: TaskState, reason: StatusReason | undefined, message: string): void {
    this.sendStatus({ uuid: newUuid(), taskId, frameworkId, agentId: this.agentId ?? '', state, ...(reason ? { reason } : {}), message, timestamp: Date.now() });
  }

  private sendStatus(update: StatusUpdate): boolean {
    if (!this.isRegistered) return false;
    return this.outbox.add(update);
  }

  /** Resend what waited longer than `olderThanMs` for its ack. */
  resendPending(olderThanMs: number, now: number): void {
    if (!this.isRegistered) return;
    for (const t of this.tasks.values()) for (const p of t.pending) if (now - p.sentAt >= olderThanMs) this.sendUpdate(p, true);
  }

  private ack(taskId: string, uuid: string): void {
    const task = this.tasks.get(taskId);
    if (!task) return;
    const i = task.pending.findIndex((p) => p.update.uuid === uuid);
    if (i < 0) return;
    const [acked] = task.pending.splice(i, 1);
    this.g.counters.acks++;
    if (isTerminal(acked!.update.state)) {
      // the master has the final word: nothing earlier needs resending, and the task is done
      this.tasks.delete(taskId);
      this.done.set(taskId, { state: acked!.update.state, frameworkId: task.frameworkId });
      if (this.done.size > REMEMBER_DONE) this.done.delete(this.done.keys().next().value!);
    }
  }

  // ---------------------------------------------------------------------------------------
  // tasks

  private launch(spec: LaunchSpec): void {
    const raw = spec as unknown as Record<string, unknown>;
    const problem = validateLaunch(raw);
    if (problem) {
      const taskId = typeof raw.taskId === 'string' ? raw.taskId : '';
      this.g.log('warn', `${this.hostname}: refused launch of ${taskId || '(no id)'}: ${problem}`);
      if (taskId) this.sendTransient(taskId, typeof raw.frameworkId === 'string' ? raw.frameworkId : '', 'TASK_ERROR', 'REASON_TASK_INVALID', problem);
      return;
    }
    if (this.tasks.has(spec.taskId)) return; // a repeated launch: the task is already known
    this.done.delete(spec.taskId);
    const o = this.g.opts;
    const task: SimTask = {
      id: spec.taskId,
      frameworkId: spec.frameworkId,
      resources: spec.resources,
      state: 'TASK_STAGING',
      pending: [],
      timer: undefined,
      killRequested: false,
      fails: (o.failureRate ?? 0) > 0 && this.g.random() < o.failureRate!,
    };
    this.tasks.set(task.id, task);
    this.g.counters.launched++;
    this.emit(task, 'TASK_STARTING');
    const delay = this.g.duration(o.launchDelayMs, 0);
    if (delay === 0) this.start(task);
    else task.timer = setTimeout(() => this.start(task), delay);
  }

  private start(task: SimTask): void {
    task.timer = undefined;
    if (task.killRequested || isTerminal(task.state)) return;
    this.emit(task, 'TASK_RUNNING');
    const o = this.g.opts;
    const end = (state: 'TASK_FINISHED' | 'TASK_FAILED') => () => {
      task.timer = undefined;
      if (task.killRequested) return;
      if (state === 'TASK_FINISHED') this.emit(task, state, { message: 'Command exited with status 0', exitCode: 0 });
      else this.emit(task, state, { message: 'Command exited with status 1', exitCode: 1 });
    };
    if (task.fails) {
      const after = o.runTimeMs !== undefined ? this.g.duration(o.runTimeMs, 0) : this.g.duration(o.failAfterMs, 1000);
      task.timer = setTimeout(end('TASK_FAILED'), after);
    } else if (o.runTimeMs !== undefined) {
      task.timer = setTimeout(end('TASK_FINISHED'), this.g.duration(o.runTimeMs, 0));
    }
  }

  private kill(taskId: string, _gracePeriodMs: number | undefined): void {
    const task = this.tasks.get(taskId);
    if (!task) {
      const done = this.done.get(taskId);
      // finished and acknowledged: remind the master how it ended, as the real agent does
      if (done) this.sendTransient(taskId, done.frameworkId, done.state, undefined, 'task already terminal');
      else this.sendTransient(taskId, '', 'TASK_DROPPED', 'REASON_TASK_UNKNOWN', 'unknown task');
      return;
    }
    if (isTerminal(task.state) || task.killRequested) return;
    task.killRequested = true;
    clearTimeout(task.timer);
    this.emit(task, 'TASK_KILLING');
    const delay = this.g.duration(this.g.opts.killDelayMs, 0);
    const killed = () => {
      task.timer = undefined;
      this.emit(task, 'TASK_KILLED', { message: 'Command terminated by signal SIGTERM', exitCode: 143 });
    };
    if (delay === 0) killed();
    else task.timer = setTimeout(killed, delay);
  }
}

/**
 * Start `opts.agents` simulated agents. They connect in the background (at most
 * `connectConcurrency` upgrades at a time); `registered()` waits for all of them.
 */
export function startSimAgents(opts: SimOptions): SimHandle {
  checkOptions(opts);
  const g = new SimGroup(opts);
  const resources: Resources = { ...DEFAULT_RESOURCES, ...opts.resources };
  const first = opts.firstIndex ?? 0;
  const prefix = opts.hostnamePrefix ?? 'sim-';
  const agents: SimAgent[] = [];
  for (let i = 0; i < opts.agents; i++) {
    const n = first + i;
    agents.push(new SimAgent(g, n, `${prefix}${n}`, resources, simAttributes(n, opts)));
  }
  for (const a of agents) void a.connect();
  const retryMs = opts.statusRetryMs ?? 10_000;
  // one sweep for all agents instead of a timer each
  const retry = setInterval(() => {
    const now = Date.now();
    for (const a of agents) a.resendPending(retryMs, now);
  }, Math.max(50, Math.floor(retryMs / 2)));

  return {
    counters: g.counters,
    agents: () => agents.map((a) => a.info()),
    async registered(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (g.authError) throw g.authError;
        if (g.everRegistered >= agents.length) return;
        if (g.closed) throw new Error('the simulated agents were closed');
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`only ${g.everRegistered} of ${agents.length} simulated agents registered within ${timeoutMs} ms`);
        await Promise.race([g.changed(), new Promise((r) => setTimeout(r, Math.min(left, 1000)).unref())]);
      }
    },
    async close() {
      if (g.closed) return;
      g.closed = true;
      clearInterval(retry);
      g.wake();
      await Promise.all(agents.map((a) => a.close()));
    },
  };
}
