// The Yagura agent: dials the master, registers, runs tasks it is told to launch, reports
// their status until acknowledged, and survives its own restart without losing a task.
// See README.md in this folder for the process model, checkpoint layout and recovery rules.

import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { promises as fsp, constants as fsConstants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import type {
  AgentTaskReport,
  AgentToMaster,
  HealthCheckSpec,
  LaunchSpec,
  MasterToAgent,
  Resources,
  StatusReason,
  StatusUpdate,
  TaskState,
} from '../../protocol/types.js';
import { CLOSE, MAX_BATCH, isTerminal } from '../../protocol/types.js';
import {
  type AgentMeta,
  type ExitRecord,
  type Layout,
  type PendingUpdate,
  type TaskCheckpoint,
  CheckpointStore,
  isSafeTaskId,
  layoutOf,
  readExitFile,
  readJson,
  sandboxDir,
  taskMetaDir,
  writeJsonAtomic,
} from './checkpoint.js';
import { LauncherPool, NATIVE_LAUNCHER, type LauncherKind, type Wrapper, buildTaskEnv, expandPorts, launcherCount, launcherKind, nativeLauncherBuilt } from './executor.js';
import { FetchCache, extractArchives, fetchUris, originOf } from './fetcher.js';
import { FilesError, Tail, browse, downloadFile, readFileRange } from './files.js';
import { collectSandboxes } from './gc.js';
import { type HealthCheckResult, HealthMonitor } from './health.js';
import { type UserInfo, agentVersion, detectResources, findProgram, isRoot, lookupUser } from './host.js';
import { Isolation, TaskCgroups } from './isolators.js';
import { groupRss, isSameProcessAlive, readStat, signalGroup, signalName } from './proc.js';

export type AgentLogger = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface AgentOptions {
  /** http://127.0.0.1:5050 → dial ws://127.0.0.1:5050/api/v1/agent (https → wss). */
  masterUrl: string;
  secret: string;
  /** Checkpoints and sandboxes; created if missing. */
  workDir: string;
  /** Default os.hostname(); several agents on one machine need distinct hostnames and workDirs. */
  hostname?: string;
  attributes?: Record<string, string>;
  /** Overrides detection. */
  resources?: Partial<Resources>;
  /** Default 'nobody' when running as root, else null (= current user). null disables switching. */
  runAsUser?: string | null;
  /** Default true: use cgroups when the machine allows; false forces the POSIX fallback. */
  cgroups?: boolean;
  /** GC of terminal tasks' sandboxes; default 7 days. */
  sandboxMaxAgeMs?: number;
  /** GC when sandboxes exceed this; default 2 GiB (oldest terminal first). */
  sandboxMaxDiskBytes?: number;
  logger?: AgentLogger;
  /** Exit the process (status 78) when the master refuses the secret, instead of retrying. */
  exitOnAuthFailure?: boolean;
  /** pids.max of each task's cgroup; default 4096. */
  pidsMax?: number;
  /** Resend unacknowledged status updates this often while connected; default 10 s. */
  statusRetryMs?: number;
  /** Reconnect backoff: first delay, doubled up to the cap; default 500 ms → 10 s. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Sandbox GC period; default 1 hour. */
  gcIntervalMs?: number;
  /** Period of liveness (recovered tasks), OOM and RSS checks; default 500 ms. */
  monitorIntervalMs?: number;
  /**
   * Running tasks whose memory cgroup one monitor check reads for OOM kills, in turn; default
   * 100. With more tasks than that, each is read every ceil(tasks / 100) checks.
   */
  oomChecksPerTick?: number;
  /** The task launcher: default build/yagura-launcher where it was built, else node (launcherKind in executor.ts). */
  launcher?: LauncherKind;
  /** Per-URI fetch timeout; default 10 minutes. */
  fetchTimeoutMs?: number;
  /** Size cap of the artifact cache (`<workDir>/cache`, URIs with `cache: true`); default 1 GiB. */
  fetchCacheMaxBytes?: number;
}

/** Emitted as `healthCheck` after every finished check run. */
export interface HealthCheckEvent extends HealthCheckResult {
  taskId: string;
}

const MiB = 1024 * 1024;
const DAY = 24 * 60 * 60 * 1000;
const DEFAULT_GRACE_MS = 3000;
const REGISTER_TIMEOUT_MS = 30_000;
const TAIL_CONGESTED_BYTES = 4 * MiB;
export const AUTH_FAILURE_EXIT_CODE = 78;
/** `yagura agent` exits with this once the master refused it as GONE (EX_NOPERM). */
export const GONE_EXIT_CODE = 77;

interface WrapperExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The agent saw the wrapper exit as its parent (not a recovered task). */
  own: boolean;
}

type Phase = 'preparing' | 'running' | 'finishing' | 'terminal';

class TaskRun {
  phase: Phase = 'preparing';
  child: Wrapper | undefined;
  /** The launcher went away while the wrapper lived: its exit is learned from /proc, as for a recovered task. */
  watchByProc = false;
  cgroups: TaskCgroups | null = null;
  /** Set when the memory limit was hit; the task then fails with REASON_CONTAINER_LIMITATION_MEMORY. */
  limitation: { usedBytes: number } | undefined;
  peakRss = 0;
  killTimer: NodeJS.Timeout | undefined;
  lastSent = new Map<string, number>();
  /** Updates made but not yet on disk: never sent, not even by a resend, until they are. */
  unsaved = new Set<string>();
  /** Set when the wrapper was spawned but could not be started properly. */
  launchError: string | undefined;
  health: HealthMonitor | undefined;
  /** Aborts fetching when the task is killed (or the agent stops) before it starts. */
  readonly abort = new AbortController();
  readonly exited: Promise<WrapperExit>;
  resolveExit!: (e: WrapperExit) => void;
  readonly finished: Promise<void>;
  resolveFinished!: () => void;

  constructor(
    readonly id: string,
    public cp: TaskCheckpoint,
    readonly meta: string,
    readonly sandbox: string,
    readonly recovered: boolean,
  ) {
    this.exited = new Promise((r) => (this.resolveExit = r));
    this.finished = new Promise((r) => (this.resolveFinished = r));
  }

  get exitFile(): string {
    return path.join(this.meta, 'exit');
  }
}

function masterWsUrl(masterUrl: string): string {
  const u = new URL(masterUrl);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`unsupported master URL ${masterUrl}`);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v1/agent`;
  u.search = '';
  u.hash = '';
  return u.toString();
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const optNum = (v: unknown): boolean => v === undefined || (typeof v === 'number' && Number.isFinite(v));

/** An agent's cgroup directory name (see Agent.cgroupName). */
export function agentCgroupName(hostname: string, workDir: string): string {
  const n = hostname.replace(/[^A-Za-z0-9_.-]/g, '_');
  const base = n === '.' || n === '..' || n === '' ? 'agent' : n;
  return `${base}-${createHash('sha256').update(path.resolve(workDir)).digest('hex').slice(0, 8)}`;
}

/** Shape check of what the master sent; the launch spec itself is checked by validateLaunch. */
export function parseMasterMessage(raw: string): MasterToAgent | null {
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isObj(m) || typeof m.type !== 'string') return null;
  const str = (k: string): boolean => typeof m[k] === 'string';
  switch (m.type) {
    case 'registered':
      return str('agentId') && (m.agentId as string).length > 0 && typeof m.heartbeatIntervalMs === 'number' && m.heartbeatIntervalMs > 0 ? (m as MasterToAgent) : null;
    case 'refused':
      return str('message') ? (m as MasterToAgent) : null;
    case 'launch':
      return isObj(m.task) ? (m as MasterToAgent) : null;
    case 'launches':
      return Array.isArray(m.tasks) && m.tasks.length <= MAX_BATCH && m.tasks.every(isObj) ? (m as MasterToAgent) : null;
    case 'kill':
      return str('taskId') && optNum(m.gracePeriodMs) ? (m as MasterToAgent) : null;
    case 'ack':
      return str('taskId') && str('uuid') ? (m as MasterToAgent) : null;
    case 'acks':
      return Array.isArray(m.acks) && m.acks.every((a) => isObj(a) && typeof a.taskId === 'string' && typeof a.uuid === 'string') ? (m as MasterToAgent) : null;
    case 'files.request':
      return str('reqId') && ['browse', 'read', 'download'].includes(m.op as string) && str('taskId') && str('path') && optNum(m.offset) && optNum(m.length)
        ? (m as MasterToAgent)
        : null;
    case 'files.tail':
      return str('streamId') && str('taskId') && str('path') && optNum(m.offset) ? (m as MasterToAgent) : null;
    case 'files.untail':
      return str('streamId') ? (m as MasterToAgent) : null;
    default:
      return null;
  }
}

/** Why a launch spec cannot run, or null when it can. */
export function validateLaunch(t: Record<string, unknown>): string | null {
  if (!isSafeTaskId(t.taskId)) return 'taskId must be 1-200 characters of A-Z a-z 0-9 _ . : @ + -';
  if (typeof t.frameworkId !== 'string') return 'frameworkId must be a string';
  if (t.name !== undefined && typeof t.name !== 'string') return 'name must be a string';
  const c = t.command;
  if (!isObj(c)) return 'command is required';
  if (typeof c.value !== 'string' || c.value.length === 0) return 'command.value must be a non-empty string';
  if (typeof c.shell !== 'boolean') return 'command.shell must be a boolean';
  if (c.args !== undefined && !(Array.isArray(c.args) && c.args.every((a) => typeof a === 'string'))) return 'command.args must be strings';
  if (c.env !== undefined && !(isObj(c.env) && Object.values(c.env).every((v) => typeof v === 'string'))) return 'command.env values must be strings';
  if (c.env !== undefined && Object.keys(c.env as object).some((k) => !k || k.includes('=') || k.includes('\0'))) return 'command.env has an invalid name';
  if (c.user !== undefined && typeof c.user !== 'string') return 'command.user must be a string';
  if (c.uris !== undefined && !(Array.isArray(c.uris) && c.uris.every((u) => isObj(u) && typeof u.value === 'string'))) return 'command.uris must be objects with a value';
  const r = t.resources;
  if (!isObj(r)) return 'resources are required';
  for (const k of ['cpus', 'mem', 'disk'] as const) {
    if (r[k] !== undefined && !(typeof r[k] === 'number' && Number.isFinite(r[k]) && (r[k] as number) >= 0)) return `resources.${k} must be a non-negative number`;
  }
  if (
    r.ports !== undefined &&
    !(
      Array.isArray(r.ports) &&
      r.ports.every(
        (p) => Array.isArray(p) && p.length === 2 && Number.isInteger(p[0]) && Number.isInteger(p[1]) && p[0] >= 0 && p[0] <= p[1] && p[1] <= 65535,
      )
    )
  ) {
    return 'resources.ports must be ranges [begin, end] within 0-65535';
  }
  if (!optNum(t.killGracePeriodMs) || (typeof t.killGracePeriodMs === 'number' && t.killGracePeriodMs < 0)) return 'killGracePeriodMs must be a non-negative number';
  if (t.healthChecks !== undefined) {
    if (!Array.isArray(t.healthChecks)) return 'healthChecks must be an array';
    for (const [i, hc] of t.healthChecks.entries()) {
      const problem = validateHealthCheck(hc);
      if (problem) return `healthChecks[${i}]: ${problem}`;
    }
  }
  return null;
}

const HEALTH_PROTOCOLS = new Set(['HTTP', 'HTTPS', 'TCP', 'COMMAND']);

function validateHealthCheck(hc: unknown): string | null {
  if (!isObj(hc)) return 'must be an object';
  if (typeof hc.protocol !== 'string' || !HEALTH_PROTOCOLS.has(hc.protocol)) return 'protocol must be HTTP, HTTPS, TCP or COMMAND';
  if (hc.protocol === 'COMMAND' && (typeof hc.command !== 'string' || hc.command.length === 0)) return 'command must be a non-empty string';
  if (hc.path !== undefined && (typeof hc.path !== 'string' || /[\s\0]/.test(hc.path))) return 'path must be a string without whitespace';
  if (hc.portIndex !== undefined && !(Number.isInteger(hc.portIndex) && (hc.portIndex as number) >= 0)) return 'portIndex must be a non-negative integer';
  if (hc.port !== undefined && !(Number.isInteger(hc.port) && (hc.port as number) >= 1 && (hc.port as number) <= 65535)) return 'port must be 1-65535';
  for (const k of ['gracePeriodSeconds', 'delaySeconds'] as const) {
    if (!optNum(hc[k]) || (hc[k] as number) < 0) return `${k} must be a non-negative number`;
  }
  for (const k of ['intervalSeconds', 'timeoutSeconds'] as const) {
    if (!optNum(hc[k]) || (hc[k] as number) <= 0) return `${k} must be a positive number`;
  }
  if (hc.maxConsecutiveFailures !== undefined && !(Number.isInteger(hc.maxConsecutiveFailures) && (hc.maxConsecutiveFailures as number) >= 0)) {
    return 'maxConsecutiveFailures must be a non-negative integer';
  }
  if (hc.ignoreHttp1xx !== undefined && typeof hc.ignoreHttp1xx !== 'boolean') return 'ignoreHttp1xx must be a boolean';
  return null;
}

/** Marathon's defaults for what the master left out, except the first delay (0 here). */
function normalizeHealthCheck(hc: HealthCheckSpec): HealthCheckSpec {
  return {
    protocol: hc.protocol,
    ...(hc.protocol === 'HTTP' || hc.protocol === 'HTTPS' ? { path: hc.path ?? '/' } : {}),
    ...(hc.protocol !== 'COMMAND' ? (hc.port !== undefined ? { port: hc.port } : { portIndex: hc.portIndex ?? 0 }) : {}),
    ...(hc.protocol === 'COMMAND' ? { command: hc.command! } : {}),
    gracePeriodSeconds: hc.gracePeriodSeconds ?? 300,
    intervalSeconds: hc.intervalSeconds ?? 60,
    timeoutSeconds: hc.timeoutSeconds ?? 20,
    maxConsecutiveFailures: hc.maxConsecutiveFailures ?? 3,
    delaySeconds: hc.delaySeconds ?? 0,
    ...(hc.ignoreHttp1xx ? { ignoreHttp1xx: true } : {}),
  };
}

/** Fills the optional parts of a validated spec so the rest of the agent can rely on them. */
function normalizeSpec(t: Record<string, unknown>): LaunchSpec {
  const s = t as unknown as LaunchSpec;
  const r = s.resources as Partial<Resources>;
  return {
    taskId: s.taskId,
    frameworkId: s.frameworkId,
    name: s.name ?? s.taskId,
    command: {
      value: s.command.value,
      shell: s.command.shell,
      ...(s.command.args ? { args: s.command.args } : {}),
      env: s.command.env ?? {},
      uris: s.command.uris ?? [],
      ...(s.command.user !== undefined ? { user: s.command.user } : {}),
    },
    resources: { cpus: r.cpus ?? 0, mem: r.mem ?? 0, disk: r.disk ?? 0, ports: r.ports ?? [] },
    labels: isObj(s.labels) ? s.labels : {},
    killGracePeriodMs: s.killGracePeriodMs ?? DEFAULT_GRACE_MS,
    ...(s.healthChecks?.length ? { healthChecks: s.healthChecks.map(normalizeHealthCheck) } : {}),
  };
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await fsp.lchown(dir, uid, gid);
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await chownTree(p, uid, gid);
    else await fsp.lchown(p, uid, gid);
  }
}

function defaultLogger(level: 'info' | 'warn' | 'error', msg: string): void {
  process.stderr.write(`${new Date().toISOString()} agent ${level}: ${msg}\n`);
}

export class Agent extends EventEmitter {
  private readonly opts: AgentOptions;
  private readonly l: Layout;
  private readonly log: AgentLogger;
  private readonly hostname: string;
  private readonly wsUrl: string;
  private _agentId: string | undefined;
  private _isolators: string[] = [];
  private isolation: Isolation | undefined;
  private resources: Resources = { cpus: 0, mem: 0, disk: 0, ports: [] };
  private defaultUser: UserInfo | null = null;
  private switchUsers = false;
  private mvPath = '/bin/mv';
  private readonly tasks = new Map<string, TaskRun>();
  private seq = 0;

  private ws: WebSocket | undefined;
  private registered = false;
  /** Status updates on their way; `outbox.batches`: the master's `registered` said it takes `updates` batches (and answers with `acks`). */
  private readonly outbox = new StatusOutbox((msg) => this.send(msg));
  private started = false;
  private stopped = false;
  /** shutdown() is killing the tasks: new launches are dropped instead of started. */
  private shuttingDown = false;
  /** The master refused this agent as GONE: it kills its tasks and does not dial again. */
  private gone = false;
  private attempt = 0;
  private lastPong = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private registerTimer: NodeJS.Timeout | undefined;
  private monitorTimer: NodeJS.Timeout | undefined;
  /** Where the next monitor check's OOM reads start among the running tasks (monitorTick). */
  private oomCursor = 0;
  private gcTimer: NodeJS.Timeout | undefined;
  private readonly tails = new Map<string, Tail>();
  private fetchCache: FetchCache | undefined;
  /** Checkpoints with group commit (see CheckpointStore). */
  private readonly store: CheckpointStore;
  /** The helper processes that fork the task wrappers (see executor.ts). */
  private readonly launcher: LauncherPool;

  constructor(opts: AgentOptions) {
    super();
    this.opts = opts;
    this.l = layoutOf(opts.workDir);
    this.log = opts.logger ?? defaultLogger;
    this.hostname = opts.hostname ?? os.hostname();
    this.wsUrl = masterWsUrl(opts.masterUrl);
    this.store = new CheckpointStore(this.l, this.log);
    this.launcher = new LauncherPool(this.log, launcherCount(), opts.launcher ?? launcherKind());
  }

  get agentId(): string | undefined {
    return this._agentId;
  }

  get isolators(): string[] {
    return [...this._isolators];
  }

  /** 1 or 2 when tasks are put into cgroups, null under the POSIX fallback (or before start). */
  get cgroupVersion(): 1 | 2 | null {
    return this.isolation?.cgroupVersion ?? null;
  }

  /** True once `registered` arrived on the current link. */
  get connected(): boolean {
    return this.registered;
  }

  /**
   * The agent's cgroup directory name: hostname plus a hash of the work directory, so two agents
   * on one machine never share (and never clean up) each other's task cgroups, while the same
   * agent restarted on the same work directory finds its own again.
   */
  get cgroupName(): string {
    return agentCgroupName(this.hostname, this.opts.workDir);
  }

  // -------------------------------------------------------------------------
  // lifecycle

  async start(): Promise<void> {
    if (this.started) throw new Error('agent already started');
    this.started = true;
    const l = this.l;
    await fsp.mkdir(l.workDir, { recursive: true, mode: 0o755 });
    await fsp.mkdir(l.tasksMetaDir, { recursive: true, mode: 0o711 });
    await fsp.mkdir(l.sandboxesDir, { recursive: true, mode: 0o711 });

    const wanted = this.opts.runAsUser === undefined ? (isRoot() ? 'nobody' : null) : this.opts.runAsUser;
    if (wanted !== null && !isRoot()) {
      this.log('warn', `runAsUser ${wanted} ignored: only root can switch users; tasks run as the agent's user`);
    } else if (wanted !== null) {
      const u = lookupUser(wanted);
      if (!u) throw new Error(`runAsUser ${JSON.stringify(wanted)} does not exist`);
      this.defaultUser = u;
      this.switchUsers = true;
      await this.makeTraversable();
    }
    this.mvPath = findProgram('mv') ?? '/bin/mv';
    this.fetchCache = new FetchCache(l.cacheDir, this.opts.fetchCacheMaxBytes ?? 1024 * MiB);
    await this.fetchCache.init();

    this._agentId = (await readJson<AgentMeta>(l.agentFile))?.agentId;
    const overrides = Object.fromEntries(Object.entries(this.opts.resources ?? {}).filter(([, v]) => v !== undefined));
    this.resources = { ...(await detectResources(l.workDir)), ...overrides };
    this.isolation = await Isolation.create({
      cgroups: this.opts.cgroups ?? true,
      agentName: this.cgroupName,
      pidsMax: this.opts.pidsMax ?? 4096,
      logger: this.log,
    });
    this._isolators = this.isolation.isolators;
    this.log('info', `isolation: ${this._isolators.join(', ')}`);
    if (this.launcher.kind === 'native') this.log('info', `task launcher: ${NATIVE_LAUNCHER}`);
    else if (nativeLauncherBuilt()) this.log('info', 'task launcher: node (chosen)');
    else this.log('warn', `task launcher: node, as ${NATIVE_LAUNCHER} is not built (scripts/build-launcher.sh needs a C compiler); each task costs more CPU to start`);
    // a started agent launches at once: the launcher is up (or, failing that, starts again on first use)
    const launcherUp = await Promise.race([this.launcher.warmUp(), new Promise<false>((r) => setTimeout(r, 10_000, false).unref())]);
    if (!launcherUp) this.log('warn', 'the task launcher did not come up; it is started again for the first launch');

    await this.recover();
    await this.collectGarbage().catch((err: Error) => this.log('warn', `sandbox gc: ${err.message}`));
    this.scheduleMonitor();
    this.gcTimer = setInterval(() => {
      this.collectGarbage().catch((err: Error) => this.log('warn', `sandbox gc: ${err.message}`));
    }, this.opts.gcIntervalMs ?? 60 * 60 * 1000);
    this.gcTimer.unref();
    this.connect();
  }

  /** Closes the link and stops watching; tasks keep running, as across a real agent restart. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of [this.reconnectTimer, this.registerTimer, this.monitorTimer]) clearTimeout(t);
    for (const t of [this.heartbeatTimer, this.retryTimer, this.gcTimer]) clearInterval(t);
    for (const tail of this.tails.values()) tail.close();
    this.tails.clear();
    for (const task of this.tasks.values()) {
      clearTimeout(task.killTimer);
      task.health?.stop();
      task.abort.abort();
      // A wrapper still waiting for its go-ahead exits without running anything.
      if (task.child && !task.cp.released) task.child.abandon();
    }
    // Its exit closes every wrapper's fd 3 as the agent's own exit would; released tasks go on.
    this.launcher.close();
    const ws = this.ws;
    this.ws = undefined;
    this.registered = false;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const done = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 2000);
        ws.once('close', () => {
          clearTimeout(done);
          resolve();
        });
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1001, 'agent stopping');
      });
    }
    await this.store.close();
    // Its own cgroup goes too when no task's is left in it (rmdir fails while one is); the next
    // start makes it again. Tasks that go on keep it.
    await this.isolation?.removeAgentDirs();
  }

  /** Kills every task, reports them, then stops. */
  async shutdown(): Promise<void> {
    if (!this.started || this.stopped) return this.stop();
    this.shuttingDown = true;
    const waits: Promise<void>[] = [];
    for (const task of [...this.tasks.values()]) {
      if (task.phase === 'terminal') continue;
      waits.push(task.finished);
      if (task.cp.killRequested) {
        // Already being killed (perhaps with a long grace): finish it now.
        if (task.cp.pid) this.forceKill(task);
      } else {
        void this.kill(task.id, undefined).catch((err: Error) => this.log('error', `kill ${task.id}: ${err.message}`));
      }
    }
    await Promise.all(waits);
    await this.stop();
  }

  /** Runs the sandbox GC now; returns the ids whose sandboxes were removed. */
  async collectGarbage(now = Date.now()): Promise<string[]> {
    // Records of finished tasks leave the checkpoint journal before their directories can go,
    // so that recovery never brings a collected task back.
    await this.store.compact();
    const { removed } = await collectSandboxes(this.l, {
      maxAgeMs: this.opts.sandboxMaxAgeMs ?? 7 * DAY,
      maxDiskBytes: this.opts.sandboxMaxDiskBytes ?? 2 * 1024 * MiB,
      now,
      active: new Set(this.tasks.keys()),
    });
    if (removed.length) this.log('info', `sandbox gc removed ${removed.join(', ')}`);
    return removed;
  }

  /** Tasks the agent reports to the master (not terminal-and-acknowledged). */
  taskReports(): AgentTaskReport[] {
    return [...this.tasks.values()].map((t) => ({
      taskId: t.id,
      frameworkId: t.cp.spec.frameworkId,
      state: t.cp.state,
      resources: t.cp.spec.resources,
    }));
  }

  private async makeTraversable(): Promise<void> {
    // The task user must be able to walk down to its sandbox; mkdtemp-style 0700 dirs would stop it.
    const st = await fsp.stat(this.l.workDir);
    if ((st.mode & 0o001) === 0) {
      await fsp.chmod(this.l.workDir, (st.mode & 0o7777) | 0o011);
      this.log('info', `made ${this.l.workDir} traversable for the task user`);
    }
    for (let dir = path.dirname(this.l.workDir); ; dir = path.dirname(dir)) {
      const s = await fsp.stat(dir).catch(() => null);
      if (s && (s.mode & 0o001) === 0 && s.uid !== this.defaultUser?.uid) {
        this.log('warn', `${dir} is not traversable by others: tasks running as ${this.defaultUser?.name} cannot reach their sandboxes`);
      }
      if (dir === path.dirname(dir)) break;
    }
  }

  // -------------------------------------------------------------------------
  // link

  private connect(): void {
    if (this.stopped) return;
    this.reconnectTimer = undefined;
    let authFailedStatus: number | undefined;
    const ws = new WebSocket(this.wsUrl, {
      headers: { Authorization: `Bearer ${this.opts.secret}` },
      handshakeTimeout: 10_000,
      maxPayload: 64 * MiB,
    });
    this.ws = ws;
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      if (status === 401 || status === 403) authFailedStatus = status;
      else this.log('warn', `master at ${this.wsUrl} answered the agent link with HTTP ${status}`);
      ws.terminate();
    });
    ws.on('open', () => {
      if (this.ws !== ws) return;
      this.lastPong = Date.now();
      this.sendRaw({
        type: 'register',
        ...(this._agentId ? { agentId: this._agentId } : {}),
        hostname: this.hostname,
        resources: this.resources,
        attributes: this.opts.attributes ?? {},
        isolators: this._isolators,
        version: agentVersion(),
        tasks: this.taskReports(),
        accepts: ['launches'],
      });
      this.registerTimer = setTimeout(() => {
        this.log('warn', 'master did not answer the registration; reconnecting');
        ws.terminate();
      }, REGISTER_TIMEOUT_MS);
    });
    ws.on('message', (data: WebSocket.RawData) => {
      if (this.ws !== ws) return;
      try {
        this.onMessage(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
      } catch (err) {
        this.log('error', `handling a master message: ${(err as Error).message}`);
      }
    });
    ws.on('pong', () => {
      this.lastPong = Date.now();
    });
    ws.on('error', (err) => {
      if (authFailedStatus === undefined && this.ws === ws) this.log('warn', `link to master: ${err.message}`);
    });
    ws.on('close', (code) => {
      if (code === CLOSE.UNAUTHORIZED) authFailedStatus ??= 401;
      this.onClose(ws, authFailedStatus);
    });
  }

  private onClose(ws: WebSocket, authFailedStatus: number | undefined): void {
    if (this.ws !== ws) return;
    const wasRegistered = this.registered;
    this.ws = undefined;
    this.registered = false;
    clearTimeout(this.registerTimer);
    clearInterval(this.heartbeatTimer);
    clearInterval(this.retryTimer);
    for (const tail of this.tails.values()) tail.close();
    this.tails.clear();
    if (wasRegistered) this.emit('disconnected');
    if (this.stopped || this.gone) return;
    const delay = Math.min(this.opts.reconnectMaxMs ?? 10_000, (this.opts.reconnectMinMs ?? 500) * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    if (authFailedStatus !== undefined) {
      this.log(
        'error',
        `authentication failed: the master at ${this.wsUrl} refused the agent secret (HTTP ${authFailedStatus}); ` +
          (this.opts.exitOnAuthFailure ? 'exiting' : `retrying in ${(delay / 1000).toFixed(1)} s`),
      );
      this.emit('authFailed', authFailedStatus);
      if (this.opts.exitOnAuthFailure) {
        void this.stop().finally(() => process.exit(AUTH_FAILURE_EXIT_CODE));
        return;
      }
    } else if (wasRegistered) {
      this.log('warn', `link to master closed; reconnecting in ${(delay / 1000).toFixed(1)} s`);
    }
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private sendRaw(msg: AgentToMaster): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  /** Sends only on a registered link: the master ignores everything else before `register`. */
  private send(msg: AgentToMaster): boolean {
    return this.registered ? this.sendRaw(msg) : false;
  }

  private sendStatus(update: StatusUpdate): boolean {
    if (!this.registered) return false;
    return this.outbox.add(update);
  }

  private onMessage(raw: string): void {
    const msg = parseMasterMessage(raw);
    if (!msg) {
      this.log('warn', `ignored a malformed message from the master: ${raw.slice(0, 200)}`);
      return;
    }
    if (msg.type !== 'registered' && msg.type !== 'refused' && !this.registered) {
      this.log('warn', `ignored ${msg.type} before registration`);
      return;
    }
    const fail = (what: string) => (err: Error) => this.log('error', `${what}: ${err.message}`);
    switch (msg.type) {
      case 'registered':
        this.outbox.batches = msg.batches === true;
        void this.onRegistered(msg.agentId, msg.heartbeatIntervalMs).catch(fail('registration'));
        break;
      case 'refused':
        this.log('error', `master refused the registration: ${msg.message}`);
        this.ws?.close(1000, 'refused');
        if (msg.gone) void this.onGone().catch(fail('stopping the gone agent'));
        break;
      case 'launch':
        void this.launch(msg.task as unknown as Record<string, unknown>).catch(fail('launch'));
        break;
      case 'launches':
        for (const task of msg.tasks) void this.launch(task as unknown as Record<string, unknown>).catch(fail('launch'));
        break;
      case 'kill':
        void this.kill(msg.taskId, msg.gracePeriodMs).catch(fail(`kill ${msg.taskId}`));
        break;
      case 'ack':
        void this.ack(msg.taskId, msg.uuid).catch(fail(`ack ${msg.taskId}`));
        break;
      case 'acks':
        for (const a of msg.acks) void this.ack(a.taskId, a.uuid).catch(fail(`ack ${a.taskId}`));
        break;
      case 'files.request':
        void this.filesRequest(msg).catch(fail('files request'));
        break;
      case 'files.tail':
        void this.filesTail(msg.streamId, msg.taskId, msg.path, msg.offset).catch(fail('files tail'));
        break;
      case 'files.untail':
        this.tails.get(msg.streamId)?.close();
        this.tails.delete(msg.streamId);
        break;
    }
  }

  private async onRegistered(agentId: string, heartbeatIntervalMs: number): Promise<void> {
    const ws = this.ws;
    if (!ws) return;
    clearTimeout(this.registerTimer);
    if (this._agentId && this._agentId !== agentId) this.log('warn', `the master assigned a new agent id ${agentId} (was ${this._agentId})`);
    this._agentId = agentId;
    this.registered = true;
    this.attempt = 0;
    this.log('info', `registered with the master as ${agentId}`);
    const hb = Math.min(5 * 60_000, Math.max(100, heartbeatIntervalMs));
    const deadAfter = Math.max(3 * hb, 10_000);
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      if (this.ws !== ws) return;
      if (Date.now() - this.lastPong > deadAfter) {
        this.log('warn', 'master stopped answering pings; reconnecting');
        ws.terminate();
        return;
      }
      this.sendRaw({ type: 'heartbeat' });
      try {
        ws.ping();
      } catch {
        // closing already; 'close' follows
      }
    }, hb);
    this.resendPending(0);
    const retry = this.opts.statusRetryMs ?? 10_000;
    clearInterval(this.retryTimer);
    this.retryTimer = setInterval(() => this.resendPending(retry), retry);
    const meta: AgentMeta = { agentId, hostname: this.hostname, registeredAt: Date.now() };
    await writeJsonAtomic(this.l.agentFile, meta).catch((err: Error) => this.log('error', `saving the agent id: ${err.message}`));
    this.emit('registered', agentId);
  }

  /**
   * The master marked this agent GONE and told the frameworks its tasks are gone (TASK_GONE):
   * they have been replaced elsewhere, so none may keep running here. Kill them all and stop for
   * good under this id (started again on the same work directory, it is refused and stops again).
   */
  private async onGone(): Promise<void> {
    if (this.gone) return;
    this.gone = true;
    clearTimeout(this.reconnectTimer);
    this.log('error', 'the master marked this agent gone: killing its tasks and stopping; start it with a fresh work directory to join as a new agent');
    await this.shutdown();
    this.emit('gone');
  }

  /** Sends unacknowledged updates last sent more than `olderThanMs` ago, in the order they were made. */
  private resendPending(olderThanMs: number): void {
    const now = Date.now();
    const all: Array<[TaskRun, PendingUpdate]> = [];
    for (const t of this.tasks.values()) for (const p of t.cp.pending) all.push([t, p]);
    all.sort((a, b) => a[1].seq - b[1].seq);
    for (const [t, p] of all) {
      if (t.unsaved.has(p.update.uuid)) continue;
      if (olderThanMs > 0 && now - (t.lastSent.get(p.update.uuid) ?? 0) < olderThanMs) continue;
      this.sendUpdate(t, p);
    }
  }

  private sendUpdate(task: TaskRun, p: PendingUpdate): void {
    const update: StatusUpdate = { ...p.update, agentId: this._agentId ?? p.update.agentId };
    if (this.sendStatus(update)) task.lastSent.set(update.uuid, Date.now());
  }

  /** An update about a task the agent keeps no record of; sent once, never checkpointed. */
  private sendTransient(taskId: string, frameworkId: string, state: TaskState, reason: StatusReason | undefined, message: string): void {
    const update: StatusUpdate = {
      uuid: randomBytes(16).toString('base64'),
      taskId,
      frameworkId,
      agentId: this._agentId ?? '',
      state,
      ...(reason ? { reason } : {}),
      message,
      timestamp: Date.now(),
    };
    this.sendStatus(update);
    this.emit('status', update);
  }

  // -------------------------------------------------------------------------
  // status updates and checkpoints

  /**
   * Checkpoint the task. Group commit (CheckpointStore): every save asked for while the previous
   * write is on its way to disk goes into the next one, across all tasks: one append and one
   * fdatasync of the journal per batch, however many tasks it covers. Not `durable`: written
   * soon, not fsynced (an acknowledgement: losing it only means a resend).
   */
  private save(task: TaskRun, durable = true, view = true): Promise<void> {
    return this.store.save(task.id, task.cp, durable, view);
  }

  /** Checkpoints the update, then sends it; it is resent until acknowledged. */
  private async emitStatus(
    task: TaskRun,
    state: TaskState,
    extra: { reason?: StatusReason; message?: string; exitCode?: number; healthy?: boolean } = {},
  ): Promise<void> {
    if (task.phase === 'terminal') return;
    const now = Date.now();
    const update: StatusUpdate = {
      uuid: randomBytes(16).toString('base64'),
      taskId: task.id,
      frameworkId: task.cp.spec.frameworkId,
      agentId: this._agentId ?? '',
      state,
      ...(extra.reason ? { reason: extra.reason } : {}),
      ...(extra.message !== undefined ? { message: extra.message } : {}),
      ...(extra.exitCode !== undefined ? { exitCode: extra.exitCode } : {}),
      ...(extra.healthy !== undefined ? { healthy: extra.healthy } : {}),
      timestamp: now,
    };
    const pending: PendingUpdate = { seq: ++this.seq, update };
    task.cp.state = state;
    task.cp.pending.push(pending);
    if (extra.exitCode !== undefined) task.cp.exitCode = extra.exitCode;
    if (isTerminal(state)) {
      task.phase = 'terminal';
      task.cp.endedAt = now;
      clearTimeout(task.killTimer);
      task.health?.stop();
    }
    task.unsaved.add(update.uuid);
    // TASK_STARTING (with the pid) is followed at once by TASK_RUNNING or the task's end, whose
    // save rewrites task.json: until then the journal alone holds it.
    await this.save(task, true, state !== 'TASK_STARTING');
    task.unsaved.delete(update.uuid);
    if (this.stopped) return;
    this.sendUpdate(task, pending);
    this.emit('status', update);
    if (isTerminal(state)) task.resolveFinished();
  }

  private async ack(taskId: string, uuid: string): Promise<void> {
    const task = this.tasks.get(taskId);
    if (!task) return;
    const i = task.cp.pending.findIndex((p) => p.update.uuid === uuid);
    if (i < 0) return;
    const [acked] = task.cp.pending.splice(i, 1);
    task.lastSent.delete(uuid);
    if (isTerminal(acked!.update.state)) {
      // The master has the final word on this task: nothing earlier needs resending.
      task.cp.pending = [];
      task.cp.done = true;
      this.tasks.delete(taskId);
    }
    // Not fsynced unless the task is done: should the machine lose it, the update is just resent
    // and acknowledged again. A done task is forgotten (and its id may be launched again), so that is.
    await this.save(task, task.cp.done);
  }

  // -------------------------------------------------------------------------
  // launch

  private taskUser(spec: LaunchSpec): UserInfo | null {
    if (!this.switchUsers) return null;
    const name = spec.command.user;
    if (name === undefined || name === '' || name === this.defaultUser?.name) return this.defaultUser;
    const u = lookupUser(name);
    if (!u) throw new Error(`user ${JSON.stringify(name)} does not exist on this agent`);
    if (u.uid === 0) throw new Error('tasks may not run as root on this agent');
    return u;
  }

  private async launch(raw: Record<string, unknown>): Promise<void> {
    const problem = validateLaunch(raw);
    if (problem) {
      const taskId = typeof raw.taskId === 'string' ? raw.taskId : '';
      this.log('warn', `refused launch of ${taskId || '(no id)'}: ${problem}`);
      if (taskId) this.sendTransient(taskId, typeof raw.frameworkId === 'string' ? raw.frameworkId : '', 'TASK_ERROR', 'REASON_TASK_INVALID', problem);
      return;
    }
    const spec = normalizeSpec(raw);
    if (this.shuttingDown) {
      // a launch that arrives while the agent kills its tasks to stop would outlive it
      this.sendTransient(spec.taskId, spec.frameworkId, 'TASK_DROPPED', 'REASON_AGENT_RESTARTED', 'the agent is shutting down');
      return;
    }
    if (this.tasks.has(spec.taskId)) {
      this.log('warn', `launch of ${spec.taskId} ignored: the task is already known`);
      return;
    }
    const meta = taskMetaDir(this.l, spec.taskId);
    const sandbox = sandboxDir(this.l, spec.taskId);
    const cp: TaskCheckpoint = { spec, user: null, state: 'TASK_STAGING', killRequested: false, pending: [], done: false, createdAt: Date.now() };
    const task = new TaskRun(spec.taskId, cp, meta, sandbox, false);
    this.tasks.set(task.id, task);
    try {
      await this.runLaunch(task);
    } catch (err) {
      this.log('error', `launch of ${task.id} failed: ${(err as Error).stack ?? err}`);
      if (task.child && task.phase !== 'terminal') {
        task.child.abandon();
        signalGroup(task.child.pid, 'SIGKILL');
      }
      await task.cgroups?.destroy().catch(() => undefined);
      if (!this.stopped) await this.emitStatus(task, 'TASK_FAILED', { reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: (err as Error).message });
    }
  }

  /**
   * Makes the task's meta directory, fetches (if it has URIs) into a sandbox the agent makes,
   * then has the launcher make the sandbox (if not made yet) and the cgroups, fork the wrapper
   * and put it into its cgroups; checkpoints the pid with TASK_STARTING, and only then lets the
   * wrapper run the command and reports TASK_RUNNING.
   */
  private async runLaunch(task: TaskRun): Promise<void> {
    const spec = task.cp.spec;
    let user: UserInfo | null;
    try {
      user = this.taskUser(spec);
    } catch (err) {
      await fsp.mkdir(task.meta, { recursive: true, mode: 0o700 });
      await this.emitStatus(task, 'TASK_FAILED', { reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: (err as Error).message });
      return;
    }
    task.cp.user = user;
    const stdoutPath = path.join(task.sandbox, 'stdout');
    const stderrPath = path.join(task.sandbox, 'stderr');
    // Without anything to fetch, the launcher makes the meta directory and the sandbox, and
    // nothing happens before the wrapper is forked that a restarted agent could act on: the
    // first checkpoint holds its pid.
    const fetching = spec.command.uris.length > 0;
    if (fetching) {
      // A finished run of the same id: its leftovers must not mix with the new run.
      await fsp.rm(task.meta, { recursive: true, force: true });
      await fsp.rm(task.sandbox, { recursive: true, force: true });
      await fsp.mkdir(task.meta, { mode: 0o700 });
      if (user) {
        // The wrapper (task user) writes its exit file here; sticky, so it cannot replace the agent's task.json.
        await fsp.chown(task.meta, process.getuid!(), user.gid);
        await fsp.chmod(task.meta, 0o1770);
      }
      // Checkpointed before it fetches, so that an agent that dies meanwhile reports it failed when it comes back.
      await this.save(task);
      await fsp.mkdir(task.sandbox, { mode: 0o700 });
      const fetchOpts = {
        sandbox: task.sandbox,
        user,
        timeoutMs: this.opts.fetchTimeoutMs ?? 10 * 60_000,
        signal: task.abort.signal,
        ...(this.fetchCache ? { cache: this.fetchCache } : {}),
        auth: { origin: originOf(this.opts.masterUrl), token: this.opts.secret },
      };
      const fetchFailed = async (err: unknown): Promise<void> => {
        if (this.stopped) return;
        if (task.cp.killRequested) await this.emitStatus(task, 'TASK_KILLED', { message: 'Killed while fetching' });
        else await this.emitStatus(task, 'TASK_FAILED', { reason: 'REASON_FETCHER_FAILED', message: `Failed to fetch: ${(err as Error).message}` });
      };
      let archives;
      try {
        archives = await fetchUris(spec.command.uris, fetchOpts);
      } catch (err) {
        return fetchFailed(err);
      }
      // Made by the agent before the sandbox is the task user's; the launcher checks they still are these files.
      for (const p of [stdoutPath, stderrPath]) {
        await (await fsp.open(p, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_APPEND | fsConstants.O_NOFOLLOW, 0o644)).close();
      }
      if (user) {
        await chownTree(task.sandbox, user.uid, user.gid);
        await fsp.chmod(task.sandbox, 0o750);
      }
      try {
        await extractArchives(archives, fetchOpts);
      } catch (e) {
        return fetchFailed(e);
      }
    }
    if (this.stopped) return;
    if (task.cp.killRequested) return void (await this.emitStatus(task, 'TASK_KILLED', { message: 'Killed before it started' }));
    const cgroups = this.isolation!.plan(task.id, spec.resources);
    if (cgroups) {
      task.cgroups = cgroups.cgroups;
      task.cp.cgroups = cgroups.cgroups.record;
    }

    const env = buildTaskEnv({ spec, sandbox: task.sandbox, agentId: this._agentId ?? '', hostname: this.hostname, user: user?.name ?? null });
    let child: Wrapper;
    try {
      child = await this.launcher.spawn({
        spec,
        sandbox: task.sandbox,
        ...(fetching ? {} : { makeDirs: { meta: task.meta } }),
        ...(cgroups ? { cgroups: cgroups.plan } : {}),
        exitFile: task.exitFile,
        mvPath: this.mvPath,
        env,
        stdoutPath,
        stderrPath,
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      });
    } catch (e) {
      await task.cgroups?.destroy().catch((err: Error) => this.log('warn', `removing cgroups of ${task.id}: ${err.message}`));
      if (this.stopped) return;
      if (task.cp.killRequested) await this.emitStatus(task, 'TASK_KILLED', { message: 'Killed before it started' });
      else await this.emitStatus(task, 'TASK_FAILED', { reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: (e as Error).message });
      return;
    }
    void child.exited.then((e) => task.resolveExit({ ...e, own: true }));
    child.onLost = () => {
      task.watchByProc = true;
    };
    task.child = child;
    task.phase = 'running';
    const pid = child.pid;
    task.cp.pid = pid;
    if (child.startTime !== null) task.cp.pidStartTime = child.startTime;
    if (!task.cp.killRequested && !task.launchError && !this.stopped) {
      // The pid goes to disk with TASK_STARTING before the command may run: a crash after this point finds it.
      await this.emitStatus(task, 'TASK_STARTING');
    }
    if (task.cp.killRequested || task.launchError || this.stopped) {
      child.abandon();
    } else if (!child.release()) {
      task.launchError = 'the task launcher exited before the task was started';
      signalGroup(pid, 'SIGKILL');
    } else {
      task.cp.released = true;
      task.cp.startedAt = Date.now();
      await this.emitStatus(task, 'TASK_RUNNING');
      this.startHealth(task);
    }
    if (task.phase === 'running') await this.supervise(task);
  }

  private async supervise(task: TaskRun): Promise<void> {
    const exit = await task.exited;
    await this.finalize(task, exit);
  }

  // -------------------------------------------------------------------------
  // exit, kill, monitoring

  private async finalize(task: TaskRun, exit: WrapperExit): Promise<void> {
    if (this.stopped || task.phase === 'terminal' || task.phase === 'finishing') return;
    task.phase = 'finishing';
    clearTimeout(task.killTimer);
    task.health?.stop();
    const rec = await readExitFile(task.exitFile);
    let limitation = task.limitation;
    if (!limitation && task.cgroups?.hasMemory) {
      const ooms = await task.cgroups.oomKills();
      const sigkilled = (rec.kind === 'status' && rec.status === 128 + 9) || exit.signal === 'SIGKILL' || (rec.kind === 'none' && !exit.own);
      const hit = ooms !== null ? ooms > 0 : sigkilled && (await task.cgroups.limitHits()) > 0;
      if (hit) limitation = { usedBytes: await task.cgroups.peakMemoryBytes() };
    }
    // Whatever the task left behind goes with it. The group is only ours if its leader pid
    // was not reused; a live group keeps its id from being reused, so that check suffices.
    // The signal goes to the group id itself (no such group: nothing happens), not after a
    // scan of /proc: killing 1,000 tasks would read every process's stat 1,000 times.
    const pid = task.cp.pid;
    if (pid) {
      const st = await readStat(pid);
      const reused = st !== null && task.cp.pidStartTime !== undefined && st.startTime !== task.cp.pidStartTime;
      if (!reused) signalGroup(pid, 'SIGKILL');
    }
    const pids = task.cgroups ? await task.cgroups.pidsLimitHits().catch(() => null) : null;
    if (task.cgroups) await task.cgroups.destroy().catch((err: Error) => this.log('warn', `removing cgroups of ${task.id}: ${err.message}`));
    const outcome = this.describeExit(task, rec, exit, limitation, pids);
    if (this.stopped) return;
    await this.emitStatus(task, outcome.state, outcome);
  }

  private describeExit(
    task: TaskRun,
    rec: ExitRecord,
    exit: WrapperExit,
    limitation: { usedBytes: number } | undefined,
    pids: { max: string; hits: number } | null = null,
  ): { state: TaskState; reason?: StatusReason; message?: string; exitCode?: number; healthy?: boolean } {
    let status: number | undefined;
    let sig: string | undefined;
    let exitCode: number | undefined;
    const decode = (n: number): void => {
      exitCode = n;
      if (n > 128 && n <= 128 + 64) sig = signalName(n - 128);
      else status = n;
    };
    if (rec.kind === 'status') decode(rec.status);
    else if (rec.kind === 'none' && exit.own) {
      if (exit.signal) {
        sig = exit.signal;
        const n = (os.constants.signals as Record<string, number>)[exit.signal];
        if (n !== undefined) exitCode = 128 + n;
      } else if (exit.code !== null) decode(exit.code);
    }
    const withCode = exitCode !== undefined ? { exitCode } : {};
    const text = sig ? `Command terminated by signal ${sig}` : status !== undefined ? `Command exited with status ${status}` : undefined;
    if (task.launchError) return { state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: task.launchError };
    if (limitation) {
      const used = Math.round(limitation.usedBytes / MiB);
      return {
        state: 'TASK_FAILED',
        reason: 'REASON_CONTAINER_LIMITATION_MEMORY',
        message: `Memory limit exceeded: requested ${task.cp.spec.resources.mem} MiB, used ${used} MiB`,
        ...withCode,
      };
    }
    if (task.cp.healthKill !== undefined && task.cp.killRequested) return { state: 'TASK_KILLED', message: task.cp.healthKill, healthy: false, ...withCode };
    if (task.cp.killRequested) return { state: 'TASK_KILLED', message: text ?? 'Task killed', ...withCode };
    if (rec.kind === 'unreleased') {
      return { state: 'TASK_FAILED', reason: 'REASON_AGENT_RESTARTED', message: 'The agent restarted before the task was started' };
    }
    if (status === 0) return { state: 'TASK_FINISHED', message: text!, ...withCode };
    if (text && pids && pids.hits > 0) {
      // a failed fork is the likeliest reason it failed: say so (a fork bomb, a runaway pool)
      return { state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LIMITATION', message: `Process limit reached: at most ${pids.max} processes (pids.max), ${pids.hits} fork${pids.hits === 1 ? '' : 's'} refused; ${text}`, ...withCode };
    }
    if (text) return { state: 'TASK_FAILED', message: text, ...withCode };
    return { state: 'TASK_FAILED', reason: 'REASON_AGENT_RESTARTED', message: 'Task exited while the agent was down; exit status unknown' };
  }

  /** `healthKill`: the health checks gave up on the task; the message of its final update. */
  private async kill(taskId: string, gracePeriodMs: number | undefined, healthKill?: string): Promise<void> {
    const task = this.tasks.get(taskId);
    if (!task) {
      if (!isSafeTaskId(taskId)) return this.sendTransient(taskId, '', 'TASK_DROPPED', 'REASON_TASK_UNKNOWN', 'unknown task');
      const cp = await readJson<TaskCheckpoint>(path.join(taskMetaDir(this.l, taskId), 'task.json'));
      if (cp?.done) {
        // Finished and acknowledged long ago: remind the master how it ended.
        this.sendTransient(taskId, cp.spec.frameworkId, cp.state, undefined, 'task already terminal');
      } else {
        this.sendTransient(taskId, '', 'TASK_DROPPED', 'REASON_TASK_UNKNOWN', 'unknown task');
      }
      return;
    }
    if (task.phase === 'terminal' || task.phase === 'finishing' || task.cp.killRequested) return;
    task.cp.killRequested = true;
    task.health?.stop();
    const grace = gracePeriodMs ?? task.cp.spec.killGracePeriodMs ?? DEFAULT_GRACE_MS;
    task.cp.killGracePeriodMs = grace;
    if (healthKill !== undefined) {
      task.cp.healthKill = healthKill;
      task.cp.healthy = false;
      await this.emitStatus(task, 'TASK_KILLING', { message: healthKill, healthy: false });
    } else {
      await this.emitStatus(task, 'TASK_KILLING');
    }
    // Still preparing: runLaunch sees killRequested and ends the task itself.
    if (task.phase === 'running' && task.cp.pid) await this.signalTask(task, grace);
    else if (task.phase === 'preparing') task.abort.abort();
  }

  private async signalTask(task: TaskRun, graceMs: number): Promise<void> {
    const pid = task.cp.pid!;
    if ((task.recovered || task.watchByProc) && task.cp.pidStartTime !== undefined && !(await isSameProcessAlive(pid, task.cp.pidStartTime))) return;
    signalGroup(pid, 'SIGTERM');
    clearTimeout(task.killTimer);
    task.killTimer = setTimeout(() => this.forceKill(task), graceMs);
  }

  private forceKill(task: TaskRun): void {
    if (task.phase === 'terminal' || !task.cp.pid) return;
    signalGroup(task.cp.pid, 'SIGKILL');
    void task.cgroups?.killAll();
  }

  // -------------------------------------------------------------------------
  // health checks

  private startHealth(task: TaskRun): void {
    const checks = task.cp.spec.healthChecks;
    if (!checks?.length || task.health || this.stopped || task.phase !== 'running' || task.cp.killRequested) return;
    const user = task.cp.user;
    task.health = new HealthMonitor(
      {
        checks,
        ports: expandPorts(task.cp.spec.resources.ports ?? []),
        startedAt: task.cp.startedAt ?? Date.now(),
        reported: task.cp.healthy,
        firstSuccess: task.cp.healthFirstSuccess ?? [],
        sandbox: task.sandbox,
        env: buildTaskEnv({ spec: task.cp.spec, sandbox: task.sandbox, agentId: this._agentId ?? '', hostname: this.hostname, user: user?.name ?? null }),
        user,
        cgroups: task.cgroups,
      },
      (r) => this.onHealthResult(task, r),
    );
    task.health.start();
  }

  private onHealthResult(task: TaskRun, r: HealthCheckResult): void {
    this.emit('healthCheck', { taskId: task.id, ...r } satisfies HealthCheckEvent);
    if (this.stopped || task.phase !== 'running' || task.cp.killRequested) return;
    const fail = (err: Error) => this.log('error', `health of ${task.id}: ${err.message}`);
    // Once per streak: a check that keeps failing with maxConsecutiveFailures 0 would fill the log.
    if (!r.ok && !r.ignored && r.consecutiveFailures === 1) this.log('warn', `task ${task.id}: health check ${r.index} failed: ${r.detail}`);
    if (r.firstSuccess) {
      const seen = task.cp.healthFirstSuccess ?? [];
      seen[r.index] = true;
      task.cp.healthFirstSuccess = seen;
    }
    let saved = false;
    if (r.changed && r.healthy !== undefined && task.cp.state === 'TASK_RUNNING') {
      task.cp.healthy = r.healthy;
      saved = true;
      void this.emitStatus(task, task.cp.state, { reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED', healthy: r.healthy }).catch(fail);
    }
    if (r.kill !== undefined) {
      this.log('warn', `task ${task.id}: ${r.kill}`);
      void this.kill(task.id, undefined, r.kill).catch(fail);
    } else if (r.firstSuccess && !saved) {
      void this.save(task);
    }
  }

  private scheduleMonitor(): void {
    if (this.stopped) return;
    this.monitorTimer = setTimeout(() => {
      this.monitorTick()
        .catch((err: Error) => this.log('warn', `monitor: ${err.message}`))
        .finally(() => this.scheduleMonitor());
    }, this.opts.monitorIntervalMs ?? 500);
    this.monitorTimer.unref();
  }

  private async monitorTick(): Promise<void> {
    const running = [...this.tasks.values()].filter((t) => t.phase === 'running' && t.cp.pid);
    for (const t of running) {
      if (!t.recovered && !t.watchByProc) continue;
      if (!(await isSameProcessAlive(t.cp.pid!, t.cp.pidStartTime ?? -1))) {
        t.resolveExit({ code: null, signal: null, own: false });
      } else if (t.recovered && t.cp.state === 'TASK_STARTING' && !t.cp.killRequested) {
        // The agent died between the go-ahead and TASK_RUNNING; an unreleased wrapper would be gone by now.
        t.cp.released = true;
        t.cp.startedAt ??= Date.now();
        await this.emitStatus(t, 'TASK_RUNNING');
        this.startHealth(t);
      }
    }
    // An OOM kill that ends the command is found when the wrapper exits (finalize); this finds
    // one inside a task that goes on. A read takes 10–20 µs here, so a check reads a share of
    // the tasks, in turn, rather than all of them: 1,000 tasks read twice a second took 2–3% of
    // a core on the agent's thread.
    const oomWatched = running.filter((t) => t.cgroups?.hasMemory && !t.limitation);
    const reads = Math.min(oomWatched.length, Math.max(1, this.opts.oomChecksPerTick ?? 100));
    const from = this.oomCursor % Math.max(1, oomWatched.length);
    this.oomCursor = oomWatched.length ? (from + reads) % oomWatched.length : 0;
    for (let k = 0; k < reads; k++) {
      const t = oomWatched[(from + k) % oomWatched.length]!;
      if (!t.cgroups?.hasMemory || t.limitation || t.phase !== 'running') continue;
      const ooms = await t.cgroups.oomKills();
      if (ooms !== null && ooms > 0) {
        // Like Mesos: one OOM kill inside the container ends the whole task.
        t.limitation = { usedBytes: await t.cgroups.peakMemoryBytes() };
        this.log('warn', `task ${t.id} hit its memory limit; killing it`);
        this.forceKill(t);
      }
    }
    if (this.isolation && !this.isolation.memoryByCgroup) {
      const watched = running.filter((t) => t.phase === 'running' && !t.limitation && t.cp.spec.resources.mem > 0);
      if (watched.length === 0) return;
      const rss = await groupRss(new Set(watched.map((t) => t.cp.pid!)));
      for (const t of watched) {
        const used = rss.get(t.cp.pid!) ?? 0;
        t.peakRss = Math.max(t.peakRss, used);
        if (used > t.cp.spec.resources.mem * MiB) {
          t.limitation = { usedBytes: t.peakRss };
          this.log('warn', `task ${t.id} uses ${Math.round(used / MiB)} MiB of ${t.cp.spec.resources.mem} MiB; killing it`);
          this.forceKill(t);
        }
      }
    }
  }

  // -------------------------------------------------------------------------
  // recovery

  private async recover(): Promise<void> {
    // task.json, or the checkpoint journal where that is newer (the machine crashed)
    const { checkpoints, unreadable } = await this.store.recover();
    for (const id of unreadable) this.log('warn', `task ${id}: no readable checkpoint; leaving it to the sandbox GC`);
    const dead: TaskRun[] = [];
    for (const [id, cp] of checkpoints) {
      const meta = taskMetaDir(this.l, id);
      if (cp.done) continue;
      for (const p of cp.pending) this.seq = Math.max(this.seq, p.seq);
      const task = new TaskRun(id, cp, meta, sandboxDir(this.l, id), true);
      if (cp.cgroups) task.cgroups = new TaskCgroups(cp.cgroups);
      this.tasks.set(id, task);
      if (isTerminal(cp.state)) {
        // The final update is made; it only waits for its acknowledgement.
        task.phase = 'terminal';
        task.resolveFinished();
        continue;
      }
      if (!cp.pid) {
        task.phase = 'running';
        dead.push(task);
        continue;
      }
      if (cp.pidStartTime !== undefined && (await isSameProcessAlive(cp.pid, cp.pidStartTime))) {
        task.phase = 'running';
        this.log('info', `recovered task ${id} (pid ${cp.pid})`);
        void this.supervise(task).catch((err: Error) => this.log('error', `task ${id}: ${err.message}`));
        if (cp.killRequested) await this.signalTask(task, cp.killGracePeriodMs ?? cp.spec.killGracePeriodMs ?? DEFAULT_GRACE_MS);
        else if (cp.state === 'TASK_RUNNING') this.startHealth(task);
      } else {
        task.phase = 'running';
        dead.push(task);
      }
    }
    for (const task of dead) {
      if (!task.cp.pid) {
        // Never spawned: the agent died while fetching or preparing.
        await this.emitStatus(
          task,
          task.cp.killRequested ? 'TASK_KILLED' : 'TASK_FAILED',
          task.cp.killRequested ? { message: 'Killed before it started' } : { reason: 'REASON_AGENT_RESTARTED', message: 'The agent restarted before the task was started' },
        );
      } else {
        await this.finalize(task, { code: null, signal: null, own: false });
      }
    }
    if (this.isolation) {
      const keep = new Set([...this.tasks.values()].filter((t) => t.phase === 'running').map((t) => t.id));
      const removed = await this.isolation.cleanupOrphans(keep);
      if (removed.length) this.log('info', `removed leftover cgroups of ${removed.join(', ')}`);
    }
  }

  // -------------------------------------------------------------------------
  // files

  private async filesRequest(m: Extract<MasterToAgent, { type: 'files.request' }>): Promise<void> {
    const fail = (status: 400 | 404, message: string) => this.send({ type: 'files.reply', reqId: m.reqId, ok: false, status, message });
    if (!isSafeTaskId(m.taskId)) return void fail(404, 'unknown task');
    const sandbox = sandboxDir(this.l, m.taskId);
    try {
      if (m.op === 'browse') {
        const entries = await browse(sandbox, m.path);
        this.send({ type: 'files.reply', reqId: m.reqId, ok: true, entries });
      } else {
        const r = m.op === 'read' ? await readFileRange(sandbox, m.path, m.offset, m.length) : await downloadFile(sandbox, m.path);
        this.send({ type: 'files.reply', reqId: m.reqId, ok: true, data: r.data, offset: r.offset, size: r.size, eof: r.eof });
      }
    } catch (err) {
      if (err instanceof FilesError) fail(err.status, err.message);
      else if ((err as NodeJS.ErrnoException).code === 'ENOENT') fail(404, 'not found');
      else fail(400, (err as Error).message);
    }
  }

  private async filesTail(streamId: string, taskId: string, p: string, offset: number | undefined): Promise<void> {
    this.tails.get(streamId)?.close();
    this.tails.delete(streamId);
    if (!isSafeTaskId(taskId)) {
      this.send({ type: 'files.end', streamId, message: 'unknown task' });
      return;
    }
    const ws = this.ws;
    const tail = new Tail(sandboxDir(this.l, taskId), p, offset, {
      chunk: (data, off) => {
        if (this.ws === ws) this.send({ type: 'files.chunk', streamId, data, offset: off });
      },
      end: (message) => {
        if (this.tails.get(streamId) === tail) this.tails.delete(streamId);
        if (this.ws === ws) this.send({ type: 'files.end', streamId, ...(message ? { message } : {}) });
      },
      writable: () => (ws?.bufferedAmount ?? 0) < TAIL_CONGESTED_BYTES,
    });
    this.tails.set(streamId, tail);
    await tail.start();
  }
}

/**
 * Status updates on their way to the master. To a master that takes batches, the updates of one
 * turn of the loop leave together in one `updates` message (in the order they were made, at most
 * MAX_BATCH each); else each on its own. Used by the agent and by the simulated agents.
 */
export class StatusOutbox {
  batches = false;
  private queue: StatusUpdate[] = [];

  constructor(private readonly send: (msg: AgentToMaster) => boolean) {}

  add(update: StatusUpdate): boolean {
    if (!this.batches) return this.send({ type: 'status', update });
    if (this.queue.length === 0) setImmediate(() => this.flush());
    this.queue.push(update);
    return true;
  }

  private flush(): void {
    const updates = this.queue;
    this.queue = [];
    if (!this.batches) {
      for (const update of updates) this.send({ type: 'status', update });
      return;
    }
    for (let i = 0; i < updates.length; i += MAX_BATCH) this.send({ type: 'updates', updates: updates.slice(i, i + MAX_BATCH) });
  }
}
