// Wire types shared by the master, the agents and the dashboard.
// No DOM and no Node types here: protocol/tsconfig.json keeps this folder neutral.

import type { CompactTasks } from './compact-tasks.js';

export const TASK_STATES = [
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_UNREACHABLE',
  'TASK_GONE',
  'TASK_DROPPED',
  'TASK_UNKNOWN',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const TERMINAL_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_GONE',
  'TASK_DROPPED',
]);

export function isTerminal(state: TaskState): boolean {
  return TERMINAL_TASK_STATES.has(state);
}

/** Inclusive port range [begin, end]. */
export type Range = [number, number];

/** Unreserved resources of an agent or a task. mem and disk are MiB. */
export interface Resources {
  cpus: number;
  mem: number;
  disk: number;
  ports: Range[];
}

export type Attributes = Record<string, string>;

export type AgentState = 'ACTIVE' | 'UNREACHABLE' | 'DRAINING' | 'DRAINED' | 'GONE';

export interface AgentView {
  id: string;
  hostname: string;
  state: AgentState;
  /** Total resources the agent announced. */
  resources: Resources;
  /** Resources held by tasks that are not terminal. */
  allocated: Resources;
  attributes: Attributes;
  /** Active isolators, e.g. ["cgroups/cpu", "cgroups/mem", "cgroups/pids"] or ["posix/cpu", "posix/mem"]. */
  isolators: string[];
  version: string;
  registeredAt: number;
  lastSeenAt: number;
  /** When the agent went UNREACHABLE (ms since epoch), if it is. */
  unreachableAt?: number;
}

export type StatusReason =
  | 'REASON_COMMAND_EXECUTOR_FAILED'
  | 'REASON_CONTAINER_LIMITATION_MEMORY'
  | 'REASON_CONTAINER_LIMITATION'
  | 'REASON_CONTAINER_LAUNCH_FAILED'
  | 'REASON_EXECUTOR_TERMINATED'
  | 'REASON_AGENT_REMOVED'
  | 'REASON_AGENT_UNREACHABLE'
  | 'REASON_AGENT_RESTARTED'
  | 'REASON_AGENT_DRAINING'
  | 'REASON_FRAMEWORK_REMOVED'
  | 'REASON_RECONCILIATION'
  | 'REASON_TASK_KILLED_DURING_LAUNCH'
  | 'REASON_TASK_INVALID'
  | 'REASON_TASK_UNKNOWN'
  | 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED'
  | 'REASON_FETCHER_FAILED'
  | 'REASON_SLAVE_REMOVED';

export interface CommandSpec {
  /** Shell command (shell: true) or the executable (shell: false, with args). */
  value: string;
  shell: boolean;
  args?: string[];
  env: Record<string, string>;
  uris: Array<{ value: string; extract?: boolean; executable?: boolean; cache?: boolean; outputFile?: string }>;
  /** Run as this user; when absent the agent picks (unprivileged when it runs as root). */
  user?: string;
}

export interface TaskView {
  id: string;
  name: string;
  frameworkId: string;
  agentId: string;
  state: TaskState;
  resources: Resources;
  command: CommandSpec;
  labels: Record<string, string>;
  reason?: StatusReason;
  message?: string;
  exitCode?: number;
  healthy?: boolean;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  endedAt?: number;
  /** Last status update uuid applied (base64). */
  statusUuid?: string;
}

export interface FrameworkView {
  id: string;
  name: string;
  user: string;
  roles: string[];
  principal?: string;
  /** Subscribed and its connection open. */
  connected: boolean;
  /** Not torn down. */
  active: boolean;
  builtin: boolean;
  failoverTimeoutSeconds: number;
  registeredAt: number;
  suppressed: boolean;
  hostname?: string;
  webuiUrl?: string;
}

// ---------------------------------------------------------------------------
// Services (Marathon-style apps) and their deployments

/** Marathon's status words for an app. */
export type ServiceStatus = 'Running' | 'Deploying' | 'Suspended' | 'Delayed' | 'Waiting';

export interface ServiceView {
  /** A Marathon path id, e.g. /prod/web. */
  id: string;
  /** ISO timestamp of the current definition. */
  version: string;
  /** Target instance count. */
  instances: number;
  cpus: number;
  mem: number;
  disk: number;
  cmd?: string;
  labels: Record<string, string>;
  status: ServiceStatus;
  tasksStaged: number;
  tasksRunning: number;
  tasksHealthy: number;
  tasksUnhealthy: number;
  /** The app has health checks (so tasksHealthy is meaningful). */
  healthChecked: boolean;
  deployments: string[];
  /** Why launches are not happening, when they are not ("no agent can …", "delayed until …"). */
  waiting?: string;
  delayedUntil?: number;
  lastTaskFailure?: { taskId: string; state: TaskState; message: string; timestamp: number };
}

export type DeploymentActionName = 'StartApplication' | 'ScaleApplication' | 'RestartApplication' | 'StopApplication';

export interface DeploymentView {
  id: string;
  version: string;
  affectedApps: string[];
  steps: Array<Array<{ action: DeploymentActionName; app: string }>>;
  /** 1-based, as Marathon counts; 0 before the first step starts. */
  currentStep: number;
  status: 'running' | 'success' | 'failed' | 'canceled';
  startedAt: number;
  endedAt?: number;
  message?: string;
}

// ---------------------------------------------------------------------------
// Jobs (Metronome / Chronos-style batch jobs) and their runs

export type JobRunStatus = 'INITIAL' | 'STARTING' | 'ACTIVE' | 'SUCCESS' | 'FAILED';

export interface JobView {
  /** Metronome id (prod.backup) or Chronos name. */
  id: string;
  /** The API that wrote the definition last. */
  origin: 'metronome' | 'chronos';
  description?: string;
  cmd?: string;
  cpus: number;
  mem: number;
  disk: number;
  labels: Record<string, string>;
  schedules: Array<{
    id: string;
    kind: 'cron' | 'iso8601';
    expr: string;
    timezone: string;
    enabled: boolean;
    concurrencyPolicy: 'ALLOW' | 'FORBID';
    nextRunAt?: number;
  }>;
  /** Parent job ids: it runs after all of them succeeded. */
  dependencies: string[];
  disabled: boolean;
  status: 'idle' | 'scheduled' | 'running';
  activeRuns: number;
  successCount: number;
  /** Failed runs that ran (skipped slots are counted apart). */
  failureCount: number;
  skippedCount: number;
  lastSuccessAt?: number;
  lastFailureAt?: number;
  lastRunStatus?: 'SUCCESS' | 'FAILED';
  p50DurationMs?: number;
  p95DurationMs?: number;
  /** Why its oldest pending run is not launched. */
  waiting?: string;
}

export interface JobRunView {
  /** Metronome style: UTC yyyyMMddHHmmss + 5 characters. */
  id: string;
  jobId: string;
  status: JobRunStatus;
  trigger: 'schedule' | 'manual' | 'dependency';
  scheduleId?: string;
  /** The schedule slot it was created for. */
  scheduledAt?: number;
  createdAt: number;
  /** When its first task was launched. */
  startedAt?: number;
  finishedAt?: number;
  /** finishedAt - startedAt. */
  durationMs?: number;
  attempts: number;
  /** One task per attempt, oldest first. */
  taskIds: string[];
  agentId?: string;
  hostname?: string;
  exitCode?: number;
  /** Why it ended ("completed", "exit code 1", "deadline …", "stopped", "missed: …"). */
  reason?: string;
  /** Why it is not running yet. */
  waiting?: string;
  /** A slot recorded without running (missed, or FORBID): status FAILED, never launched. */
  skipped?: boolean;
}

// ---------------------------------------------------------------------------
// Dashboard stream (WS /api/v1/stream)

export type EntityKind = 'agent' | 'task' | 'framework' | 'service' | 'deployment' | 'job' | 'jobRun';

/** One numbered change of cluster state. `put` carries the whole object, `patch` only changed fields. */
export type ClusterEvent =
  | { seq: number; at: number; kind: 'agent'; op: 'put'; id: string; data: AgentView }
  | { seq: number; at: number; kind: 'agent'; op: 'patch'; id: string; data: Partial<AgentView> }
  | { seq: number; at: number; kind: 'agent'; op: 'delete'; id: string }
  | { seq: number; at: number; kind: 'task'; op: 'put'; id: string; data: TaskView }
  | { seq: number; at: number; kind: 'task'; op: 'patch'; id: string; data: Partial<TaskView> }
  | { seq: number; at: number; kind: 'task'; op: 'delete'; id: string }
  | { seq: number; at: number; kind: 'framework'; op: 'put'; id: string; data: FrameworkView }
  | { seq: number; at: number; kind: 'framework'; op: 'patch'; id: string; data: Partial<FrameworkView> }
  | { seq: number; at: number; kind: 'framework'; op: 'delete'; id: string }
  | { seq: number; at: number; kind: 'service'; op: 'put'; id: string; data: ServiceView }
  | { seq: number; at: number; kind: 'service'; op: 'patch'; id: string; data: Partial<ServiceView> }
  | { seq: number; at: number; kind: 'service'; op: 'delete'; id: string }
  | { seq: number; at: number; kind: 'deployment'; op: 'put'; id: string; data: DeploymentView }
  | { seq: number; at: number; kind: 'deployment'; op: 'patch'; id: string; data: Partial<DeploymentView> }
  | { seq: number; at: number; kind: 'deployment'; op: 'delete'; id: string }
  | { seq: number; at: number; kind: 'job'; op: 'put'; id: string; data: JobView }
  | { seq: number; at: number; kind: 'job'; op: 'patch'; id: string; data: Partial<JobView> }
  | { seq: number; at: number; kind: 'job'; op: 'delete'; id: string }
  | { seq: number; at: number; kind: 'jobRun'; op: 'put'; id: string; data: JobRunView }
  | { seq: number; at: number; kind: 'jobRun'; op: 'patch'; id: string; data: Partial<JobRunView> }
  | { seq: number; at: number; kind: 'jobRun'; op: 'delete'; id: string };

export interface ClusterSnapshot {
  /** Identifies one run of the master; a new epoch means sequence numbers restarted. */
  epoch: string;
  /** The sequence number of the last event included in this snapshot. */
  seq: number;
  agents: AgentView[];
  tasks: TaskView[];
  frameworks: FrameworkView[];
  services: ServiceView[];
  /** Deployments in progress. */
  deployments: DeploymentView[];
  jobs?: JobView[];
  /** Active runs, and the latest finished run of each job. */
  jobRuns?: JobRunView[];
}

/** Client to server. The first message must be `hello` (unless auth came in Sec-WebSocket-Protocol). */
/**
 * A task as the dashboard stream carries it: what lists, counts, filters and alerts read. The
 * rest of a task (command, environment, labels, ports, disk) never changes while it lives and is
 * most of its bytes; the task page reads it once with GET /api/v1/tasks/{id}.
 */
export interface TaskSummary {
  id: string;
  name: string;
  frameworkId: string;
  agentId: string;
  state: TaskState;
  cpus: number;
  mem: number;
  /** The service (Marathon app id) it is an instance of: its YAGURA_APP_ID label. */
  service?: string;
  reason?: StatusReason;
  message?: string;
  exitCode?: number;
  healthy?: boolean;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  endedAt?: number;
}

/** The fields of TaskSummary that a change of a living task can touch (TaskView's names too). */
export const TASK_SUMMARY_CHANGES = ['state', 'reason', 'message', 'exitCode', 'healthy', 'updatedAt', 'startedAt', 'endedAt'] as const;

/** A task's summary; `service` is its YAGURA_APP_ID label (the services framework's). */
export function taskSummary(t: TaskView): TaskSummary {
  const s: TaskSummary = {
    id: t.id,
    name: t.name,
    frameworkId: t.frameworkId,
    agentId: t.agentId,
    state: t.state,
    cpus: t.resources.cpus,
    mem: t.resources.mem,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
  const service = t.labels.YAGURA_APP_ID;
  if (service) s.service = service;
  if (t.reason !== undefined) s.reason = t.reason;
  if (t.message !== undefined) s.message = t.message;
  if (t.exitCode !== undefined) s.exitCode = t.exitCode;
  if (t.healthy !== undefined) s.healthy = t.healthy;
  if (t.startedAt !== undefined) s.startedAt = t.startedAt;
  if (t.endedAt !== undefined) s.endedAt = t.endedAt;
  return s;
}

/** A ClusterEvent as the dashboard stream carries it: tasks as summaries; `at` only in the verbose encoding. */
export type StreamEvent =
  | OptionalAt<Exclude<ClusterEvent, { kind: 'task' }>>
  | { seq: number; at?: number; kind: 'task'; op: 'put'; id: string; data: TaskSummary }
  | { seq: number; at?: number; kind: 'task'; op: 'patch'; id: string; data: Partial<TaskSummary> }
  | { seq: number; at?: number; kind: 'task'; op: 'delete'; id: string };

type OptionalAt<E> = E extends unknown ? Omit<E, 'at'> & { at?: number } : never;

/** The dashboard's snapshot: the cluster with tasks as summaries. */
export interface StreamSnapshot extends Omit<ClusterSnapshot, 'tasks'> {
  tasks: TaskSummary[];
}

/** The snapshot a `compact` client gets: the tasks as one table (protocol/compact-tasks.ts). */
export interface CompactStreamSnapshot extends Omit<ClusterSnapshot, 'tasks'> {
  compactTasks: CompactTasks;
}

/**
 * The compact encoding of a batch of events, asked for with `compact: true` in hello (the
 * dashboard does): a JSON array `[seq, event, event, …]` where `seq` is the first event's
 * sequence number and event i has `seq + i` (a batch never has gaps). Each event is
 * `[code, id]` (delete) or `[code, id, data]` (put, patch); the code is the kind's letter
 * (COMPACT_KINDS) and the operation's sign: `+` put, `~` patch, `-` delete — e.g.
 * `[812,["t~","web.1",{"state":"TASK_RUNNING","updatedAt":1700000000000}]]`. The epoch is that
 * of the snapshot or resume that began the connection. Other messages are the objects below.
 */
export type CompactEvents = [number, ...Array<[string, string] | [string, string, unknown]>];

export const COMPACT_KINDS: Record<EntityKind, string> = { agent: 'a', task: 't', framework: 'f', service: 's', deployment: 'd', job: 'j', jobRun: 'r' };
export const COMPACT_OPS: Record<'put' | 'patch' | 'delete', string> = { put: '+', patch: '~', delete: '-' };

export type StreamClientMessage =
  /** `compact`: events come as CompactEvents arrays instead of `events` objects, and the snapshot's tasks as a CompactTasks table. */
  | { type: 'hello'; token?: string; epoch?: string; seq?: number; compact?: boolean }
  | { type: 'ping' };

export type StreamServerMessage =
  | ({ type: 'snapshot' } & StreamSnapshot)
  | ({ type: 'snapshot' } & CompactStreamSnapshot)
  | { type: 'events'; epoch: string; events: StreamEvent[] }
  | { type: 'heartbeat'; epoch: string; seq: number; at: number }
  | { type: 'error'; message: string };

/** WebSocket close codes used by Yagura. */
export const CLOSE = {
  /** Authentication missing or wrong. */
  UNAUTHORIZED: 4401,
  /** Authenticated but not allowed. */
  FORBIDDEN: 4403,
  /** The client could not keep up; its queue hit the bound. */
  TOO_SLOW: 4408,
  /** A message that is not valid JSON or not a known type. */
  BAD_MESSAGE: 4400,
  /** A message larger than the limit. */
  TOO_BIG: 1009,
  /** Replaced by a newer connection of the same peer. */
  REPLACED: 4409,
} as const;

// ---------------------------------------------------------------------------
// Agent link (WS /api/v1/agent). The agent authenticates with
// `Authorization: Bearer <agent secret>` on the upgrade request.

export interface StatusUpdate {
  /** Unique per update (base64 of 16 random bytes); duplicates are acknowledged and ignored. */
  uuid: string;
  taskId: string;
  frameworkId: string;
  agentId: string;
  state: TaskState;
  reason?: StatusReason;
  message?: string;
  exitCode?: number;
  healthy?: boolean;
  /** ms since epoch, when the agent observed it. */
  timestamp: number;
}

export interface AgentTaskReport {
  taskId: string;
  frameworkId: string;
  state: TaskState;
  resources: Resources;
}

export interface LaunchSpec {
  taskId: string;
  frameworkId: string;
  name: string;
  command: CommandSpec;
  resources: Resources;
  labels: Record<string, string>;
  /** Grace period between SIGTERM and SIGKILL. */
  killGracePeriodMs: number;
  /** Checks the agent runs against the task; the task is healthy when all of them pass. */
  healthChecks?: HealthCheckSpec[];
}

/**
 * A health check the agent executes (Marathon's `healthChecks`, normalized: MESOS_HTTP → HTTP,
 * MESOS_TCP → TCP …). Failures during `gracePeriodSeconds` (counted from the task's start, until
 * its first success) are ignored. After `maxConsecutiveFailures` failures in a row the agent
 * kills the task (TASK_KILLED, healthy: false); 0 means never kill.
 */
export interface HealthCheckSpec {
  protocol: 'HTTP' | 'HTTPS' | 'TCP' | 'COMMAND';
  /** HTTP(S): the request path, default "/". */
  path?: string;
  /** Which of the task's ports (index into its PORT0… list). */
  portIndex?: number;
  /** A fixed port, instead of portIndex. */
  port?: number;
  /** COMMAND: a shell command run in the task's sandbox with its environment; exit 0 = healthy. */
  command?: string;
  gracePeriodSeconds: number;
  intervalSeconds: number;
  timeoutSeconds: number;
  maxConsecutiveFailures: number;
  /** Delay before the first check. */
  delaySeconds?: number;
  /** HTTP: treat 1xx as healthy too (Marathon's ignoreHttp1xx). */
  ignoreHttp1xx?: boolean;
}

export type FilesOp = 'browse' | 'read' | 'download';

export interface FileEntry {
  path: string;
  size: number;
  mode: string;
  mtime: number;
  isDir: boolean;
}

/** The most status updates in one `updates` message, and acks in one `acks` message. */
export const MAX_BATCH = 1000;

export type AgentToMaster =
  | {
      type: 'register';
      /** Present when the agent registered before (from its checkpoint). */
      agentId?: string;
      hostname: string;
      resources: Resources;
      attributes: Attributes;
      isolators: string[];
      version: string;
      /** Every task the agent knows of that is not terminal-and-acknowledged. */
      tasks: AgentTaskReport[];
      /** Messages beyond the base protocol this agent takes: `launches`. An older master ignores it. */
      accepts?: string[];
    }
  | { type: 'heartbeat' }
  | { type: 'status'; update: StatusUpdate }
  /**
   * Several updates in one message (at most MAX_BATCH), in the order they were made; sent only
   * to a master whose `registered` said `batches: true`. Answered with `acks`.
   */
  | { type: 'updates'; updates: StatusUpdate[] }
  | { type: 'files.reply'; reqId: string; ok: true; entries?: FileEntry[]; data?: string; offset?: number; size?: number; eof?: boolean }
  | { type: 'files.reply'; reqId: string; ok: false; status: 400 | 404; message: string }
  /** Tail output; data is UTF-8 text (possibly a partial line). */
  | { type: 'files.chunk'; streamId: string; data: string; offset: number }
  | { type: 'files.end'; streamId: string; message?: string };

export type MasterToAgent =
  /** `batches`: this master takes `updates` (many status updates in one message) and answers them with `acks`. */
  | { type: 'registered'; agentId: string; heartbeatIntervalMs: number; batches?: boolean }
  /** `gone`: the agent was marked GONE; it must kill its tasks and not come back under its id. */
  | { type: 'refused'; message: string; gone?: boolean }
  | { type: 'launch'; task: LaunchSpec }
  /**
   * The tasks of one accept on one agent, in one message (at most MAX_BATCH), to an agent whose
   * `register` said it `accepts` `launches`; each is handled as a `launch` of its own.
   */
  | { type: 'launches'; tasks: LaunchSpec[] }
  | { type: 'kill'; taskId: string; gracePeriodMs?: number }
  | { type: 'ack'; taskId: string; uuid: string }
  /** Acknowledges updates that came in `updates` messages: many at once (at most MAX_BATCH). */
  | { type: 'acks'; acks: Array<{ taskId: string; uuid: string }> }
  /**
   * Read the task's sandbox. `path` is relative to the sandbox root ("" or "/" is the root).
   * read: `data` is base64 of at most `length` bytes from `offset`; a negative offset reads from the end.
   */
  | { type: 'files.request'; reqId: string; op: FilesOp; taskId: string; path: string; offset?: number; length?: number }
  | { type: 'files.tail'; streamId: string; taskId: string; path: string; offset?: number }
  | { type: 'files.untail'; streamId: string };

// ---------------------------------------------------------------------------
// Errors

export interface ErrorDetail {
  path: string;
  errors: string[];
}

export interface ErrorBody {
  message: string;
  details: ErrorDetail[];
}
