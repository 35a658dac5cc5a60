// The master loop: it owns the timers, the agent links and the scheduler connections, feeds
// the pure core (task state machine, allocator), persists every change, and only then acks,
// answers and publishes. Changes made in one turn of the event loop are committed together
// (group commit), so a burst of status updates costs one fsync, not one each.

import { randomBytes, randomUUID } from 'node:crypto';
import {
  isTerminal,
  MAX_BATCH,
  type AgentTaskReport,
  type AgentToMaster,
  type AgentView,
  type ClusterSnapshot,
  type DeploymentView,
  type FrameworkView,
  type JobRunView,
  type JobView,
  type ServiceView,
  type LaunchSpec,
  type MasterToAgent,
  type Resources,
  type StatusReason,
  type StatusUpdate,
  type TaskState,
  type TaskView,
} from '../../protocol/types.js';
import type { CompactTaskSource } from '../../protocol/compact-tasks.js';
import { Allocator } from '../core/allocator.js';
import { addResources, containsResources, emptyResources, fromMilli, normalizeRanges, subtractResources, toMilli } from '../core/resources.js';
import { applyStatusUpdate } from '../core/task-state.js';
import { ApiError, conflict, notFound } from '../api/errors.js';
import type { AgentRecord, FrameworkRecord, Store, TaskRecord } from '../store/store.js';
import { EventLog, type EventInput } from './event-log.js';
import type { AgentConnection, FrameworkInput, Logger, Offer, SchedulerConnection, TaskLaunch, TaskStatus } from './types.js';
import { CompactTaskCache } from './compact-cache.js';

export interface MasterOptions {
  store: Store;
  version: string;
  now?: () => number;
  log?: Logger;
  /** How often agents heartbeat. */
  heartbeatIntervalMs?: number;
  /** Missed heartbeats before an agent is UNREACHABLE. */
  maxMissedHeartbeats?: number;
  /**
   * An agent UNREACHABLE for longer than this is marked GONE: its tasks become TASK_GONE and it is
   * refused if it returns. 0 = never. Default one day.
   */
  agentGoneAfterMs?: number;
  allocationIntervalMs?: number;
  /** Finished tasks kept per framework, oldest dropped first (Mesos' max_completed_tasks_per_framework). */
  maxCompletedTasksPerFramework?: number;
  offerTimeoutMs?: number;
  eventLogCapacity?: number;
  /** How often unacknowledged updates are re-sent to their framework. */
  frameworkAckRetryMs?: number;
  /** Called when the store fails: the master cannot go on without losing acknowledged state. */
  onFatal?: (err: unknown) => void;
}

type RegisterMessage = Extract<AgentToMaster, { type: 'register' }>;

interface SnapshotViews {
  services: () => ServiceView[];
  deployments: () => DeploymentView[];
  jobs: () => JobView[];
  jobRuns: () => JobRunView[];
}

interface AgentLink {
  conn: AgentConnection;
  /** The agent takes `launches` (several tasks in one message). */
  launches: boolean;
}

interface FrameworkLink {
  conn: SchedulerConnection;
  streamId: string;
}

interface FileWaiter {
  agentId: string;
  resolve(reply: Extract<AgentToMaster, { type: 'files.reply' }>): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

interface TailSubscriber {
  agentId: string;
  onChunk(data: string, offset: number): void;
  onEnd(message?: string): void;
}

/**
 * What happens after the next commit, in order: a function; a status for the task's framework;
 * an ack for an agent's update.
 */
type AfterCommit = (() => void) | { status: TaskStatus } | { agentId: string; taskId: string; uuid: string; batched: boolean };

const DEFAULT_KILL_GRACE_MS = 3000;
const taskInfoPath = (i: number) => `/accept/operations/launch/task_infos/${i}`;
/** One day: longer than any repair of a link or a machine that is coming back. */
export const DEFAULT_AGENT_GONE_AFTER_MS = 24 * 60 * 60 * 1000;
/**
 * The agents' longest reconnect delay (agent.ts, reconnectMaxMs): while the master was down an
 * agent's retries spread out to this, so after a restart it may take this long to try again.
 */
const AGENT_RECONNECT_MAX_MS = 10_000;

export class Master {
  readonly epoch = randomUUID();
  readonly events: EventLog;
  readonly startedAt: number;
  readonly version: string;

  private readonly store: Store;
  private readonly now: () => number;
  private readonly log: Logger;
  readonly heartbeatIntervalMs: number;
  private readonly maxMissedHeartbeats: number;
  private readonly agentGoneAfterMs: number;
  private readonly allocationIntervalMs: number;
  private readonly offerTimeoutMs: number;
  private readonly frameworkAckRetryMs: number;
  private readonly onFatal: (err: unknown) => void;

  private readonly agents = new Map<string, AgentRecord>();
  private readonly frameworks = new Map<string, FrameworkRecord>();
  private readonly tasks = new Map<string, TaskRecord>();
  /** Task ids per framework (all states), for frameworks that look at their own tasks often. */
  private readonly tasksByFramework = new Map<string, Set<string>>();
  /** Bumped on every task change, so readers can cache what they derive from tasks. */
  private taskChanges = 0;
  /** The dashboard snapshot's task table, kept in chunks (compact-cache.ts). */
  private readonly compactTasks = new CompactTaskCache();
  /** Per framework that watches its tasks (watchTasks): ids changed since it last looked. */
  private readonly taskWatches = new Map<string, Set<string>>();
  /** Non-terminal task ids per agent, so agent-wide operations do not scan every task. */
  private readonly tasksByAgent = new Map<string, Set<string>>();
  /**
   * Agents that were reachable when the last master stopped and have not re-registered with this
   * one: they get the agents' reconnect delay on top of the heartbeat timeout (as Mesos'
   * agent_reregister_timeout), so a master restart alone never makes their tasks UNREACHABLE.
   */
  private readonly awaitingReregistration = new Set<string>();
  private readonly offers = new Map<string, Offer>();
  private readonly allocator: Allocator;
  private readonly agentLinks = new Map<string, AgentLink>();
  private readonly frameworkLinks = new Map<string, FrameworkLink>();
  private offerCounter = 0;
  private readonly offerPrefix = `${this.epoch.slice(0, 8)}-O`;

  // group commit
  private dirtyAgents = new Set<string>();
  private dirtyFrameworks = new Set<string>();
  /** Task ids changed since the last commit → whether the whole record must be written (else only its status fields). */
  private dirtyTasks = new Map<string, boolean>();
  private deletedTasks = new Set<string>();
  /** Terminal task ids per framework, oldest first: the history that is kept, and what goes first. */
  private completed = new Map<string, Set<string>>();
  private readonly maxCompleted: number;
  private pendingEvents: EventInput[] = [];
  /** The events of the commit in flight (writeAsync): made, not yet in the log. */
  private eventsInFlight = 0;
  private dirtyMeta: Record<string, string> = {};
  /** Framework documents to write with the next commit, keyed collection + NUL + id (last write wins). */
  private dirtyDocs = new Map<string, { collection: string; id: string; data: unknown }>();
  private views: SnapshotViews = { services: () => [], deployments: () => [], jobs: () => [], jobRuns: () => [] };
  private weights: Record<string, number> = {};
  private afterCommit: AfterCommit[] = [];
  private commitWaiters: Array<{ resolve(): void; reject(e: unknown): void }> = [];
  private flushScheduled = false;
  /** Agents to offer on the next turn (offerNow). */
  private offerSoon = new Set<string>();
  private offerSoonScheduled = false;
  /** A commit is in flight (Store.writeAsync): the next one starts when it has ended. */
  private committing = false;
  /** Its documents, which the store does not have yet (getDoc reads them from here). */
  private committingDocs: Map<string, { collection: string; id: string; data: unknown }> | undefined;
  private allocationScheduled = false;

  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  private fileWaiters = new Map<string, FileWaiter>();
  private tails = new Map<string, TailSubscriber>();

  constructor(opts: MasterOptions) {
    this.store = opts.store;
    this.version = opts.version;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
    this.heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 5000;
    this.maxMissedHeartbeats = opts.maxMissedHeartbeats ?? 3;
    this.agentGoneAfterMs = opts.agentGoneAfterMs ?? DEFAULT_AGENT_GONE_AFTER_MS;
    this.allocationIntervalMs = opts.allocationIntervalMs ?? 1000;
    this.offerTimeoutMs = opts.offerTimeoutMs ?? 60_000;
    this.maxCompleted = opts.maxCompletedTasksPerFramework ?? 1000;
    this.frameworkAckRetryMs = opts.frameworkAckRetryMs ?? 10_000;
    this.onFatal = opts.onFatal ?? ((err) => this.log('error', `store failure: ${String(err)}`));
    this.events = new EventLog(opts.eventLogCapacity ?? 10_000, this.now);
    this.allocator = new Allocator({ now: this.now });
    this.startedAt = this.now();
    this.recover();
  }

  /** Rebuild memory from the store. Nothing is connected yet: agents must re-register and
   * schedulers re-subscribe; both are judged by their timeouts from now. */
  private recover(): void {
    const { agents, frameworks, tasks } = this.store.load();
    const now = this.now();
    const weights = this.store.getMeta('role_weights');
    if (weights) {
      this.weights = JSON.parse(weights) as Record<string, number>;
      for (const [role, w] of Object.entries(this.weights)) this.allocator.setRoleWeight(role, w);
    }
    for (const f of frameworks) {
      const rec: FrameworkRecord = { ...f, connected: false };
      if (rec.active && !rec.builtin) rec.disconnectedAt = now;
      this.frameworks.set(rec.id, rec);
      if (rec.active) {
        this.allocator.addFramework(rec.id, rec.roles[0] ?? '*');
        // nobody is listening until it re-subscribes
        this.allocator.suppress(rec.id);
      }
    }
    for (const a of agents) {
      // lastSeenAt restarts at now: an agent gets the full heartbeat timeout to re-register
      this.agents.set(a.id, { ...a, lastSeenAt: now });
      if (a.state !== 'GONE') this.allocator.addAgent(a.id, a.resources, { active: false });
      if (a.state !== 'GONE' && a.state !== 'UNREACHABLE') this.awaitingReregistration.add(a.id);
    }
    for (const t of tasks) {
      Object.freeze(t);
      this.tasks.set(t.id, t);
      this.compactTasks.put(t);
      let own = this.tasksByFramework.get(t.frameworkId);
      if (!own) this.tasksByFramework.set(t.frameworkId, (own = new Set()));
      own.add(t.id);
      if (!isTerminal(t.state)) {
        this.indexTask(t);
        if (this.agents.get(t.agentId)?.state !== 'GONE') this.allocator.allocate(t.agentId, t.frameworkId, t.resources);
      }
    }
    // not written on every launch (see setAllocated): derived from the tasks again
    for (const a of this.agents.values()) {
      let total = emptyResources();
      for (const t of this.activeTasksOn(a.id)) total = addResources(total, t.resources);
      a.allocated = total;
    }
    const finished = tasks.filter((t) => isTerminal(t.state)).sort((a, b) => (a.endedAt ?? a.updatedAt) - (b.endedAt ?? b.updatedAt));
    for (const t of finished) this.noteCompleted(t);
    if (this.deletedTasks.size) this.scheduleFlush();
  }

  start(): void {
    // the agents' time to re-register starts when the master runs, not when it read its state
    const now = this.now();
    for (const id of this.awaitingReregistration) {
      const a = this.agents.get(id);
      if (a) a.lastSeenAt = now;
    }
    this.timers.push(setInterval(() => this.checkHeartbeats(), Math.max(50, Math.floor(this.heartbeatIntervalMs / 2))));
    this.timers.push(setInterval(() => this.allocate(), this.allocationIntervalMs));
    this.timers.push(setInterval(() => this.sweep(), 1000));
    this.timers.push(setInterval(() => this.compactTasks.prewrite(), 1000));
    this.timers.push(setInterval(() => this.resendPendingAcks(), this.frameworkAckRetryMs));
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.commit().catch(() => {});
    for (const w of this.fileWaiters.values()) {
      clearTimeout(w.timer);
      w.reject(new ApiError(503, 'master is stopping'));
    }
    this.fileWaiters.clear();
    for (const [, t] of this.tails) t.onEnd('master is stopping');
    this.tails.clear();
    for (const link of this.agentLinks.values()) link.conn.close(1001, 'master stopping');
    this.agentLinks.clear();
    for (const link of this.frameworkLinks.values()) link.conn.close();
    this.frameworkLinks.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  getAgent(id: string): AgentView | undefined {
    const a = this.agents.get(id);
    return a && toAgentView(a);
  }

  /** Without copying the agent: for serializing many tasks. */
  agentHostname(id: string): string | undefined {
    return this.agents.get(id)?.hostname;
  }

  listAgents(): AgentView[] {
    return [...this.agents.values()].map(toAgentView);
  }

  getTask(id: string): TaskView | undefined {
    const t = this.tasks.get(id);
    return t && toTaskView(t);
  }

  listTasks(): TaskView[] {
    return [...this.tasks.values()].map(toTaskView);
  }

  /**
   * Every task as the master holds it, for a reader that reads its summary fields at once and
   * keeps nothing (the stream's compact snapshot): no view is made. Records are replaced on
   * every change, never changed in place.
   */
  taskSources(): Iterable<CompactTaskSource> {
    return this.tasks.values();
  }

  /** Every task as the dashboard snapshot's compact table (JSON), from the chunks kept for it. */
  compactTasksJson(): string {
    return this.compactTasks.json();
  }

  /** One framework's tasks, in all states. */
  frameworkTasks(frameworkId: string): TaskView[] {
    const out: TaskView[] = [];
    for (const id of this.tasksByFramework.get(frameworkId) ?? []) {
      const t = this.tasks.get(id);
      if (t) out.push(toTaskView(t));
    }
    return out;
  }

  /**
   * From now on, note which tasks of the framework change (created, updated, pruned: committed
   * or not). The returned function hands over the ids noted since its last call, so a framework
   * can keep what it derives from its tasks up to date without looking at every task.
   */
  watchTasks(frameworkId: string): () => ReadonlySet<string> {
    const empty: ReadonlySet<string> = new Set();
    this.taskWatches.set(frameworkId, new Set());
    return () => {
      const ids = this.taskWatches.get(frameworkId);
      if (!ids || ids.size === 0) return empty;
      this.taskWatches.set(frameworkId, new Set());
      return ids;
    };
  }

  /** Where an agent is, for placement: its record's hostname and attributes, not copied. */
  agentPlace(id: string): { readonly hostname: string; readonly attributes: Readonly<Record<string, string>> } | undefined {
    return this.agents.get(id);
  }

  /** Changes whenever any task changes (committed or not): a cache key for derived data. */
  get taskChangeCount(): number {
    return this.taskChanges;
  }

  getFramework(id: string): FrameworkView | undefined {
    const f = this.frameworks.get(id);
    return f && toFrameworkView(f);
  }

  listFrameworks(): FrameworkView[] {
    return [...this.frameworks.values()].map(toFrameworkView);
  }

  listOffers(): Offer[] {
    return [...this.offers.values()];
  }

  /** Offered (outstanding) resources per agent, for state endpoints. */
  offeredOn(agentId: string): Resources {
    let r = emptyResources();
    for (const o of this.offers.values()) if (o.agentId === agentId) r = addResources(r, o.resources);
    return r;
  }

  /** Every agent's record, not copied: read them, never keep or change them. */
  agentRecords(): Iterable<Readonly<AgentView>> {
    return this.agents.values();
  }

  isAgentConnected(id: string): boolean {
    return this.agentLinks.has(id);
  }

  /** The cluster now; `withTasks` false leaves the tasks out (read them with `taskSources`). */
  snapshot(withTasks = true): ClusterSnapshot {
    return {
      epoch: this.epoch,
      seq: this.events.seq,
      agents: this.listAgents(),
      tasks: withTasks ? this.listTasks() : [],
      frameworks: this.listFrameworks(),
      services: this.views.services(),
      deployments: this.views.deployments(),
      jobs: this.views.jobs(),
      jobRuns: this.views.jobRuns(),
    };
  }

  // -------------------------------------------------------------------------------------------
  // For built-in frameworks: their documents and events share the master's commits and log.

  loadDocs<T>(collection: string): Array<{ id: string; data: T }> {
    return this.store.loadDocs<T>(collection);
  }

  /** One document, as it will be after the next commit (a pending write wins over the store). */
  getDoc<T>(collection: string, id: string): T | undefined {
    const key = `${collection}\u0000${id}`;
    const pending = this.dirtyDocs.get(key) ?? this.committingDocs?.get(key);
    if (pending) return pending.data === null ? undefined : (pending.data as T);
    return this.store.getDoc<T>(collection, id);
  }

  /** Written with the next commit, atomically with everything else changed in this turn. */
  putDoc(collection: string, id: string, data: unknown): void {
    this.dirtyDocs.set(`${collection}\u0000${id}`, { collection, id, data });
    this.scheduleFlush();
  }

  deleteDoc(collection: string, id: string): void {
    this.dirtyDocs.set(`${collection}\u0000${id}`, { collection, id, data: null });
    this.scheduleFlush();
  }

  /** Appended to the event log after the next commit, in order with the master's own events. */
  publish(event: EventInput): void {
    this.pendingEvents.push(event);
    this.scheduleFlush();
  }

  /** Run after the next commit (e.g. answering a request, notifying a subscriber). */
  afterNextCommit(fn: () => void): void {
    this.then(fn);
  }

  /** What the built-in frameworks contribute to snapshots; each provides its own part. */
  provideViews(views: Partial<SnapshotViews>): void {
    this.views = { ...this.views, ...views };
  }

  /** Resolves once every change made so far is durably committed (and its events published). */
  commit(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.commitWaiters.push({ resolve, reject });
      this.scheduleFlush();
    });
  }

  // -------------------------------------------------------------------------------------------
  // Persistence and publication

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * Group commit: everything changed since the last commit goes to the store in one transaction;
   * only once it is committed are the acks, answers and events of those changes let out. With a
   * store that commits off this thread (writeAsync), changes made while a commit is in flight
   * wait for the next one, which starts as soon as the one in flight has ended: the loop keeps
   * working while the disk syncs, and the slower the disk, the more each commit carries.
   */
  private flush(): void {
    this.flushScheduled = false;
    if (this.committing) return; // the commit in flight schedules the next when it ends
    const agents = [...this.dirtyAgents].map((id) => this.agents.get(id)).filter((a): a is AgentRecord => !!a);
    const frameworks = [...this.dirtyFrameworks].map((id) => this.frameworks.get(id)).filter((f): f is FrameworkRecord => !!f);
    const tasks: TaskRecord[] = [];
    const taskStatus: TaskRecord[] = [];
    for (const [id, whole] of this.dirtyTasks) {
      const t = this.tasks.get(id);
      if (t) (whole ? tasks : taskStatus).push(t);
    }
    const deleteTasks = [...this.deletedTasks];
    this.deletedTasks = new Set();
    const meta = this.dirtyMeta;
    this.dirtyMeta = {};
    const docMap = this.dirtyDocs;
    const docs = [...docMap.values()];
    this.dirtyDocs = new Map();
    const after = this.afterCommit;
    const events = this.pendingEvents;
    const waiters = this.commitWaiters;
    this.dirtyAgents = new Set();
    this.dirtyFrameworks = new Set();
    this.dirtyTasks = new Map();
    this.afterCommit = [];
    this.pendingEvents = [];
    this.commitWaiters = [];
    const writes = agents.length || frameworks.length || tasks.length || taskStatus.length || deleteTasks.length || docs.length || Object.keys(meta).length;
    const batch = { agents, frameworks, tasks, taskStatus, deleteTasks, meta, docs };
    if (writes && this.store.writeAsync) {
      this.committing = true;
      this.eventsInFlight = events.length;
      this.committingDocs = docMap;
      const ended = () => {
        this.committing = false;
        this.committingDocs = undefined;
        if (this.hasUncommitted()) this.scheduleFlush();
      };
      this.store.writeAsync(batch).then(
        () => {
          ended();
          this.committed(after, events, waiters);
        },
        (err: unknown) => {
          ended();
          for (const w of waiters) w.reject(err);
          this.onFatal(err);
        },
      );
      return;
    }
    try {
      if (writes) this.store.write(batch);
    } catch (err) {
      for (const w of waiters) w.reject(err);
      this.onFatal(err);
      return;
    }
    this.committed(after, events, waiters);
  }

  /**
   * How many events of changes already made in memory are not in the event log yet (waiting for
   * or in their commit): what the master shows now is the log's state after that many more.
   */
  eventsAhead(): number {
    return this.pendingEvents.length + this.eventsInFlight;
  }

  /** Anything changed or waiting since the last commit began. */
  private hasUncommitted(): boolean {
    return (
      this.dirtyAgents.size > 0 ||
      this.dirtyFrameworks.size > 0 ||
      this.dirtyTasks.size > 0 ||
      this.deletedTasks.size > 0 ||
      this.dirtyDocs.size > 0 ||
      Object.keys(this.dirtyMeta).length > 0 ||
      this.afterCommit.length > 0 ||
      this.pendingEvents.length > 0 ||
      this.commitWaiters.length > 0
    );
  }

  /** A commit has ended: let out what waited for it, in order. */
  private committed(after: AfterCommit[], events: EventInput[], waiters: Array<{ resolve(): void; reject(e: unknown): void }>): void {
    // acks for batched updates leave together, one message per agent
    let batchedAcks: Map<string, Array<{ taskId: string; uuid: string }>> | undefined;
    for (const item of after) {
      try {
        if (typeof item === 'function') item();
        else if ('status' in item) this.frameworkLinks.get(item.status.frameworkId)?.conn.update(item.status);
        else if (!item.batched) this.sendToAgent(item.agentId, { type: 'ack', taskId: item.taskId, uuid: item.uuid });
        else {
          batchedAcks ??= new Map();
          const list = batchedAcks.get(item.agentId);
          if (list) list.push({ taskId: item.taskId, uuid: item.uuid });
          else batchedAcks.set(item.agentId, [{ taskId: item.taskId, uuid: item.uuid }]);
        }
      } catch (err) {
        this.log('error', `after-commit action failed: ${String(err)}`);
      }
    }
    if (batchedAcks) {
      for (const [agentId, acks] of batchedAcks) {
        for (let i = 0; i < acks.length; i += MAX_BATCH) this.sendToAgent(agentId, { type: 'acks', acks: acks.length <= MAX_BATCH ? acks : acks.slice(i, i + MAX_BATCH) });
      }
    }
    this.eventsInFlight = 0;
    this.events.append(events);
    for (const w of waiters) w.resolve();
  }

  private then(fn: () => void): void {
    this.afterCommit.push(fn);
    this.scheduleFlush();
  }

  private putAgent(a: AgentRecord, changed?: Partial<AgentView>): void {
    this.agents.set(a.id, a);
    this.dirtyAgents.add(a.id);
    this.pendingEvents.push(
      changed ? { kind: 'agent', op: 'patch', id: a.id, data: changed } : { kind: 'agent', op: 'put', id: a.id, data: toAgentView(a) },
    );
    this.scheduleFlush();
  }

  private putFramework(f: FrameworkRecord, changed?: Partial<FrameworkView>): void {
    this.frameworks.set(f.id, f);
    this.dirtyFrameworks.add(f.id);
    this.pendingEvents.push(
      changed
        ? { kind: 'framework', op: 'patch', id: f.id, data: changed }
        : { kind: 'framework', op: 'put', id: f.id, data: toFrameworkView(f) },
    );
    this.scheduleFlush();
  }

  /** `statusOnly`: of the record, only TASK_STATUS_FIELDS (store.ts) changed, so only those are written. */
  private putTask(t: TaskRecord, changed?: Partial<TaskView>, statusOnly = false): void {
    // never changed in place (it may be its own view, shared with every reader)
    Object.freeze(t);
    this.tasks.set(t.id, t);
    this.compactTasks.put(t);
    this.taskChanges++;
    let own = this.tasksByFramework.get(t.frameworkId);
    if (!own) this.tasksByFramework.set(t.frameworkId, (own = new Set()));
    own.add(t.id);
    this.dirtyTasks.set(t.id, !statusOnly || this.dirtyTasks.get(t.id) === true);
    this.taskWatches.get(t.frameworkId)?.add(t.id);
    if (changed === undefined) this.pendingEvents.push({ kind: 'task', op: 'put', id: t.id, data: toTaskView(t) });
    else if (hasKeys(changed)) this.pendingEvents.push({ kind: 'task', op: 'patch', id: t.id, data: changed });
    if (isTerminal(t.state)) this.noteCompleted(t);
    this.scheduleFlush();
  }

  /** Keeps the newest finished tasks of each framework; older ones leave memory, the store and the dashboards. */
  private noteCompleted(t: TaskRecord): void {
    let q = this.completed.get(t.frameworkId);
    if (!q) this.completed.set(t.frameworkId, (q = new Set()));
    q.add(t.id);
    while (q.size > this.maxCompleted) {
      const oldest = q.values().next().value as string;
      q.delete(oldest);
      const old = this.tasks.get(oldest);
      if (!old || !isTerminal(old.state)) continue;
      if (old.pendingAck) {
        // its framework has not acknowledged the end yet: keep it until it has
        q.add(oldest);
        break;
      }
      this.tasks.delete(oldest);
      this.compactTasks.delete(oldest);
      this.tasksByFramework.get(old.frameworkId)?.delete(oldest);
      this.unindexTask(old);
      this.dirtyTasks.delete(oldest);
      this.deletedTasks.add(oldest);
      this.taskWatches.get(old.frameworkId)?.add(oldest);
      this.pendingEvents.push({ kind: 'task', op: 'delete', id: oldest });
    }
  }

  private indexTask(t: TaskRecord): void {
    let set = this.tasksByAgent.get(t.agentId);
    if (!set) this.tasksByAgent.set(t.agentId, (set = new Set()));
    set.add(t.id);
  }

  private unindexTask(t: TaskRecord): void {
    this.tasksByAgent.get(t.agentId)?.delete(t.id);
  }

  private activeTasksOn(agentId: string): TaskRecord[] {
    const ids = this.tasksByAgent.get(agentId);
    if (!ids) return [];
    const out: TaskRecord[] = [];
    for (const id of ids) {
      const t = this.tasks.get(id);
      if (t && !isTerminal(t.state)) out.push(t);
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Agents

  /** A new agent link delivered its `register`. Answers `registered` (after commit) or `refused`. */
  registerAgent(conn: AgentConnection, msg: RegisterMessage): string | undefined {
    const now = this.now();
    const existing = msg.agentId ? this.agents.get(msg.agentId) : undefined;
    if (existing?.state === 'GONE') {
      conn.send({ type: 'refused', gone: true, message: `agent ${existing.id} was marked gone; start it with a fresh work directory to join as a new agent` });
      conn.close(4403, 'agent gone');
      return undefined;
    }
    const id = existing?.id ?? msg.agentId ?? `${randomUUID()}-S0`;
    const previous = this.agentLinks.get(id);
    if (previous && previous.conn !== conn) previous.conn.close(4409, 'replaced by a newer connection');
    this.agentLinks.set(id, { conn, launches: msg.accepts?.includes('launches') === true });
    this.awaitingReregistration.delete(id);

    let agent: AgentRecord;
    if (existing) {
      this.rescindOffersOn(id);
      const state = existing.state === 'UNREACHABLE' ? (existing.drain ? 'DRAINING' : 'ACTIVE') : existing.state;
      const { unreachableAt: _unreachableAt, ...kept } = existing; // not `delete`: see acknowledge()
      agent = {
        ...kept,
        hostname: msg.hostname,
        resources: msg.resources,
        attributes: msg.attributes,
        isolators: msg.isolators,
        version: msg.version,
        state,
        lastSeenAt: now,
      };
      this.allocator.removeAgent(id);
    } else {
      agent = {
        id,
        hostname: msg.hostname,
        state: 'ACTIVE',
        resources: msg.resources,
        allocated: emptyResources(),
        attributes: msg.attributes,
        isolators: msg.isolators,
        version: msg.version,
        registeredAt: now,
        lastSeenAt: now,
      };
    }
    this.allocator.addAgent(id, agent.resources, { active: agent.state === 'ACTIVE' });
    // what the master believes runs there holds resources until reconciliation says otherwise
    for (const t of this.activeTasksOn(id)) this.allocator.allocate(id, t.frameworkId, t.resources);
    this.putAgent(agent);
    this.then(() => conn.send({ type: 'registered', agentId: id, heartbeatIntervalMs: this.heartbeatIntervalMs, batches: true }));
    this.reconcileAgent(agent, msg.tasks);
    this.recomputeAllocated(id);
    this.log('info', `agent ${id} (${msg.hostname}) ${existing ? 're-registered' : 'registered'}`);
    this.triggerAllocation();
    return id;
  }

  /** Compare what the agent runs with what the master wants; settle both sides. */
  private reconcileAgent(agent: AgentRecord, reported: AgentTaskReport[]): void {
    const seen = new Set<string>();
    for (const r of reported) {
      seen.add(r.taskId);
      const t = this.tasks.get(r.taskId);
      const wanted =
        t &&
        t.agentId === agent.id &&
        !isTerminal(t.state) &&
        !t.killRequested &&
        this.frameworks.get(t.frameworkId)?.active === true &&
        agent.state !== 'DRAINING' &&
        agent.state !== 'DRAINED';
      if (!wanted) {
        if (!isTerminal(r.state)) {
          this.log('info', `agent ${agent.id} runs task ${r.taskId} that is not wanted; killing it`);
          const grace = t?.killGracePeriodMs ?? agent.drain?.gracePeriodMs;
          this.then(() => this.sendToAgent(agent.id, { type: 'kill', taskId: r.taskId, ...(grace !== undefined ? { gracePeriodMs: grace } : {}) }));
        }
        continue;
      }
      if (t.state === 'TASK_UNREACHABLE' && !isTerminal(r.state)) {
        // back from a partition: the agent's own (unacked) updates follow, this restores the view now
        this.applyMasterUpdate(t, r.state, 'REASON_RECONCILIATION', 'agent re-registered');
      }
    }
    for (const t of this.activeTasksOn(agent.id)) {
      if (seen.has(t.id)) continue;
      this.applyMasterUpdate(t, 'TASK_LOST', 'REASON_RECONCILIATION', 'task was not found on its agent when the agent re-registered');
    }
    // kills that were asked for while the agent was away
    for (const t of this.activeTasksOn(agent.id)) {
      if (t.killRequested && seen.has(t.id)) {
        this.then(() => this.sendToAgent(agent.id, { type: 'kill', taskId: t.id, gracePeriodMs: t.killGracePeriodMs ?? DEFAULT_KILL_GRACE_MS }));
      }
    }
    this.maybeFinishDrain(agent.id);
  }

  agentMessage(agentId: string, conn: AgentConnection, msg: AgentToMaster): void {
    const link = this.agentLinks.get(agentId);
    if (!link || link.conn !== conn) return; // a replaced or dropped link
    const agent = this.agents.get(agentId);
    if (!agent) return;
    agent.lastSeenAt = this.now();
    switch (msg.type) {
      case 'heartbeat':
        return;
      case 'status':
        this.agentStatus(agentId, msg.update, false);
        return;
      case 'updates':
        for (const u of msg.updates) this.agentStatus(agentId, u, true);
        return;
      case 'files.reply': {
        const w = this.fileWaiters.get(msg.reqId);
        if (!w || w.agentId !== agentId) return;
        clearTimeout(w.timer);
        this.fileWaiters.delete(msg.reqId);
        w.resolve(msg);
        return;
      }
      case 'files.chunk': {
        const s = this.tails.get(msg.streamId);
        if (s && s.agentId === agentId) s.onChunk(msg.data, msg.offset);
        return;
      }
      case 'files.end': {
        const s = this.tails.get(msg.streamId);
        if (s && s.agentId === agentId) {
          this.tails.delete(msg.streamId);
          s.onEnd(msg.message);
        }
        return;
      }
      case 'register':
        // a second register on a live link is a re-registration
        this.registerAgent(conn, msg);
        return;
    }
  }

  agentDisconnected(agentId: string, conn: AgentConnection): void {
    const link = this.agentLinks.get(agentId);
    if (!link || link.conn !== conn) return;
    this.agentLinks.delete(agentId);
    // no offers for an agent we cannot reach; it has the heartbeat timeout to come back
    this.allocator.setAgentActive(agentId, false);
    this.rescindOffersOn(agentId);
    for (const [reqId, w] of this.fileWaiters) {
      if (w.agentId !== agentId) continue;
      clearTimeout(w.timer);
      this.fileWaiters.delete(reqId);
      w.reject(new ApiError(503, 'the agent disconnected'));
    }
    for (const [streamId, s] of this.tails) {
      if (s.agentId !== agentId) continue;
      this.tails.delete(streamId);
      s.onEnd('the agent disconnected');
    }
    this.log('info', `agent ${agentId} disconnected`);
  }

  private sendToAgent(agentId: string, msg: MasterToAgent): boolean {
    const link = this.agentLinks.get(agentId);
    if (!link) return false;
    link.conn.send(msg);
    return true;
  }

  /** `batched`: it came in an `updates` message, and its ack goes out in an `acks` message. */
  private agentStatus(agentId: string, update: StatusUpdate, batched: boolean): void {
    const t = this.tasks.get(update.taskId);
    if (!t || t.agentId !== agentId) {
      this.log('warn', `status ${update.state} for unknown task ${update.taskId} from agent ${agentId}`);
      this.ack(agentId, update, batched, false);
      if (!isTerminal(update.state)) this.sendToAgent(agentId, { type: 'kill', taskId: update.taskId });
      return;
    }
    if (t.statusUuid === update.uuid) {
      this.ack(agentId, update, batched, false); // a resend whose ack was lost
      return;
    }
    const res = applyStatusUpdate(t, update, this.now());
    if (!res.ok) {
      if (res.duplicate) {
        this.ack(agentId, update, batched, false);
        return;
      }
      this.log('warn', `rejected status for ${t.id}: ${res.error}`);
      this.ack(agentId, update, batched, false);
      if (isTerminal(t.state) && !isTerminal(update.state)) this.sendToAgent(agentId, { type: 'kill', taskId: t.id });
      return;
    }
    this.commitTaskUpdate(t, res.task, res.becameTerminal, 'SOURCE_EXECUTOR');
    this.ack(agentId, update, batched, true);
  }

  /**
   * Acknowledge an agent's update: after the next commit when it changed something (then the
   * agent may forget it), else at once. Batched acks always wait for the end of the turn, so
   * that they leave together.
   */
  private ack(agentId: string, update: StatusUpdate, batched: boolean, afterCommit: boolean): void {
    if (!batched && !afterCommit) {
      this.sendToAgent(agentId, { type: 'ack', taskId: update.taskId, uuid: update.uuid });
      return;
    }
    this.afterCommit.push({ agentId, taskId: update.taskId, uuid: update.uuid, batched });
    this.scheduleFlush();
  }

  /** A status the master itself decides (unreachable, lost, gone, reconciliation). */
  private applyMasterUpdate(t: TaskRecord, state: TaskState, reason: StatusReason, message: string): void {
    const update: StatusUpdate = {
      uuid: randomBytes(16).toString('base64'),
      taskId: t.id,
      frameworkId: t.frameworkId,
      agentId: t.agentId,
      state,
      reason,
      message,
      timestamp: this.now(),
    };
    const res = applyStatusUpdate(t, update, this.now());
    if (!res.ok) {
      this.log('warn', `master update of ${t.id} to ${state} rejected: ${res.error}`);
      return;
    }
    this.commitTaskUpdate(t, res.task, res.becameTerminal, 'SOURCE_MASTER');
  }

  private commitTaskUpdate(before: TaskRecord, after: TaskView, becameTerminal: boolean, source: TaskStatus['source']): void {
    const fw = this.frameworks.get(after.frameworkId);
    const needsAck = !!fw && !fw.builtin && fw.active;
    // the update's view, plus what only the record has: a field the update cleared (reason,
    // message, exit code) stays cleared, as task-state.ts means it to
    const { pendingAck: _ack, ...rest }: TaskRecord = after;
    const rec: TaskRecord = rest;
    if (before.killRequested !== undefined) rec.killRequested = before.killRequested;
    if (before.killGracePeriodMs !== undefined) rec.killGracePeriodMs = before.killGracePeriodMs;
    if (before.healthChecks !== undefined) rec.healthChecks = before.healthChecks;
    if (needsAck) rec.pendingAck = after.statusUuid;
    this.putTask(rec, diffTask(before, rec), true);
    if (becameTerminal) {
      this.unindexTask(rec);
      const agent = this.agents.get(rec.agentId);
      if (agent && agent.state !== 'GONE') this.allocator.recover(rec.agentId, rec.frameworkId, rec.resources);
      this.recomputeAllocated(rec.agentId);
      this.triggerAllocation();
    }
    this.afterCommit.push({ status: toStatus(rec, source, needsAck) });
    if (becameTerminal) this.maybeFinishDrain(rec.agentId);
  }

  private recomputeAllocated(agentId: string): void {
    const agent = this.agents.get(agentId);
    if (!agent) return;
    let total = emptyResources();
    for (const t of this.activeTasksOn(agentId)) total = addResources(total, t.resources);
    if (JSON.stringify(total) !== JSON.stringify(agent.allocated)) this.setAllocated(agent, total);
  }

  /**
   * What the agent's tasks hold, as the master believes. Derived from the tasks (and recomputed
   * when the master starts), so it is published but not written: a launch does not rewrite the
   * agent's row. Changed in place, as lastSeenAt is.
   */
  private setAllocated(agent: AgentRecord, allocated: Resources): void {
    agent.allocated = allocated;
    this.pendingEvents.push({ kind: 'agent', op: 'patch', id: agent.id, data: { allocated } });
    this.scheduleFlush();
  }

  private checkHeartbeats(): void {
    const now = this.now();
    const limit = this.heartbeatIntervalMs * this.maxMissedHeartbeats;
    for (const a of [...this.agents.values()]) {
      if (a.state === 'GONE') continue;
      if (now - a.lastSeenAt <= limit + (this.awaitingReregistration.has(a.id) ? AGENT_RECONNECT_MAX_MS : 0)) continue;
      this.awaitingReregistration.delete(a.id);
      if (a.state !== 'UNREACHABLE') this.markUnreachable(a);
      // unreachableAt is stored, so the time counts across a master restart; lastSeenAt restarts
      // with the master, so an agent whose retries spread out while it was away still gets the
      // heartbeat timeout and the agents' longest reconnect delay to come back first
      else if (this.agentGoneAfterMs > 0 && now - (a.unreachableAt ?? now) >= this.agentGoneAfterMs && now - a.lastSeenAt > limit + AGENT_RECONNECT_MAX_MS) {
        this.log('warn', `agent ${a.id} (${a.hostname}) unreachable for more than ${Math.round(this.agentGoneAfterMs / 1000)} s: GONE`);
        this.markAgentGone(a.id);
      }
    }
  }

  private markUnreachable(a: AgentRecord): void {
    const now = this.now();
    this.log('warn', `agent ${a.id} (${a.hostname}) missed ${this.maxMissedHeartbeats} heartbeats: UNREACHABLE`);
    const link = this.agentLinks.get(a.id);
    if (link) {
      this.agentLinks.delete(a.id);
      link.conn.close(4408, 'missed heartbeats');
    }
    this.allocator.setAgentActive(a.id, false);
    this.rescindOffersOn(a.id);
    this.putAgent({ ...a, state: 'UNREACHABLE', unreachableAt: now }, { state: 'UNREACHABLE', unreachableAt: now });
    for (const t of this.activeTasksOn(a.id)) {
      this.applyMasterUpdate(t, 'TASK_UNREACHABLE', 'REASON_AGENT_UNREACHABLE', `agent ${a.hostname} is unreachable`);
    }
  }

  drainAgent(agentId: string, opts: { gracePeriodMs?: number; markGone?: boolean } = {}): void {
    const a = this.agents.get(agentId);
    if (!a) throw notFound(`agent ${agentId} not found`, [{ path: '/agent_id', errors: ['unknown agent'] }]);
    if (a.state === 'GONE') throw conflict(`agent ${agentId} is gone`);
    const drain = { markGone: opts.markGone ?? false, ...(opts.gracePeriodMs !== undefined ? { gracePeriodMs: opts.gracePeriodMs } : {}) };
    const state = a.state === 'UNREACHABLE' ? 'UNREACHABLE' : 'DRAINING';
    this.putAgent({ ...a, state, drain }, { state });
    this.allocator.setAgentActive(agentId, false);
    this.rescindOffersOn(agentId);
    for (const t of this.activeTasksOn(agentId)) this.requestKill(t, opts.gracePeriodMs);
    this.maybeFinishDrain(agentId);
  }

  private maybeFinishDrain(agentId: string): void {
    const a = this.agents.get(agentId);
    if (!a || a.state !== 'DRAINING') return;
    if (this.activeTasksOn(agentId).length > 0) return;
    if (a.drain?.markGone) {
      this.markAgentGone(agentId);
      return;
    }
    this.putAgent({ ...a, state: 'DRAINED' }, { state: 'DRAINED' });
  }

  reactivateAgent(agentId: string): void {
    const a = this.agents.get(agentId);
    if (!a) throw notFound(`agent ${agentId} not found`, [{ path: '/agent_id', errors: ['unknown agent'] }]);
    if (a.state !== 'DRAINING' && a.state !== 'DRAINED') throw conflict(`agent ${agentId} is ${a.state}, not draining or drained`);
    const next: AgentRecord = { ...a, state: 'ACTIVE' };
    delete next.drain;
    this.putAgent(next, { state: 'ACTIVE' });
    if (this.agentLinks.has(agentId)) this.allocator.setAgentActive(agentId, true);
    this.triggerAllocation();
  }

  markAgentGone(agentId: string): void {
    const a = this.agents.get(agentId);
    if (!a) throw notFound(`agent ${agentId} not found`, [{ path: '/agent_id', errors: ['unknown agent'] }]);
    if (a.state === 'GONE') return;
    this.rescindOffersOn(agentId);
    const link = this.agentLinks.get(agentId);
    for (const t of this.activeTasksOn(agentId)) {
      // tell the agent to stop them, in case it is still alive on the other side
      if (link) link.conn.send({ type: 'kill', taskId: t.id });
      this.applyMasterUpdate(t, 'TASK_GONE', 'REASON_AGENT_REMOVED', `agent ${a.hostname} was marked gone`);
    }
    this.putAgent({ ...a, state: 'GONE' }, { state: 'GONE' });
    this.allocator.removeAgent(agentId);
    for (const f of this.frameworkLinks.values()) this.then(() => f.conn.failure(agentId));
    if (link) {
      this.agentLinks.delete(agentId);
      this.then(() => {
        link.conn.send({ type: 'refused', gone: true, message: 'agent was marked gone' });
        link.conn.close(4403, 'agent gone');
      });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Frameworks

  /** Subscribe (or re-subscribe after failover). Resolves after the framework is committed. */
  async subscribe(input: FrameworkInput, conn: SchedulerConnection, streamId: string): Promise<FrameworkView> {
    const now = this.now();
    let f = input.id ? this.frameworks.get(input.id) : undefined;
    if (f && !f.active) throw new ApiError(403, `framework ${f.id} has been removed`, [{ path: '/subscribe/framework_info/id', errors: ['removed framework'] }]);
    if (f && this.frameworkLinks.has(f.id)) {
      throw conflict(`framework ${f.id} is already subscribed on another connection`, [
        { path: '/subscribe/framework_info/id', errors: ['already subscribed; close the other subscription first'] },
      ]);
    }
    const id = f?.id ?? input.id ?? `${randomUUID()}-0000`;
    const role = input.roles[0] ?? '*';
    const record: FrameworkRecord = {
      id,
      name: input.name,
      user: input.user,
      roles: input.roles.length ? input.roles : ['*'],
      connected: true,
      active: true,
      builtin: input.builtin ?? false,
      failoverTimeoutSeconds: input.failoverTimeoutSeconds,
      registeredAt: f?.registeredAt ?? now,
      suppressed: f?.suppressed ?? false,
      ...(input.principal !== undefined ? { principal: input.principal } : {}),
      ...(input.hostname !== undefined ? { hostname: input.hostname } : {}),
      ...(input.webuiUrl !== undefined ? { webuiUrl: input.webuiUrl } : {}),
    };
    if (f) {
      this.allocator.removeFramework(id);
    }
    this.allocator.addFramework(id, role, { suppressed: record.suppressed });
    for (const t of this.tasks.values()) {
      if (t.frameworkId === id && !isTerminal(t.state) && this.agents.get(t.agentId)?.state !== 'GONE') {
        this.allocator.allocate(t.agentId, id, t.resources);
      }
    }
    this.frameworkLinks.set(id, { conn, streamId });
    this.putFramework(record);
    await this.commit();
    conn.subscribed(id);
    // updates the framework has not acknowledged yet are owed to it again
    for (const t of this.tasks.values()) {
      if (t.frameworkId === id && t.pendingAck) conn.update(toStatus(t, 'SOURCE_AGENT', true));
    }
    this.triggerAllocation();
    return toFrameworkView(record);
  }

  /** The subscription's connection ended. The framework stays for its failover timeout. */
  disconnect(frameworkId: string, conn: SchedulerConnection): void {
    // stop() closes every subscription; those closes must not write to a store about to close
    if (this.stopped) return;
    const link = this.frameworkLinks.get(frameworkId);
    if (!link || link.conn !== conn) return;
    this.frameworkLinks.delete(frameworkId);
    const f = this.frameworks.get(frameworkId);
    if (!f || !f.active) return;
    this.rescindOffersOf(frameworkId, false);
    this.allocator.suppress(frameworkId);
    const now = this.now();
    this.putFramework({ ...f, connected: false, disconnectedAt: now }, { connected: false });
  }

  /** Checks that a call comes from the current subscription of the framework. */
  checkStream(frameworkId: string, streamId: string | undefined): FrameworkRecord {
    const f = this.frameworks.get(frameworkId);
    if (!f || !f.active) throw notFound(`framework ${frameworkId} is not subscribed`, [{ path: '/framework_id', errors: ['unknown framework'] }]);
    // a built-in framework lives inside the master: its stream id is no secret, and no HTTP caller speaks for it
    if (f.builtin) throw new ApiError(403, `framework ${frameworkId} is built into Yagura and takes no scheduler calls`, [{ path: '/framework_id', errors: ['built-in framework'] }]);
    const link = this.frameworkLinks.get(frameworkId);
    if (!link) throw new ApiError(403, `framework ${frameworkId} is not subscribed`);
    if (link.streamId !== streamId) {
      throw new ApiError(400, 'the Mesos-Stream-Id header does not match the subscription of this framework', [
        { path: 'Mesos-Stream-Id', errors: ['stale or missing stream id'] },
      ]);
    }
    return f;
  }

  teardown(frameworkId: string): void {
    const f = this.frameworks.get(frameworkId);
    if (!f || !f.active) throw notFound(`framework ${frameworkId} not found`);
    // removing one would leave a master that refuses to start again (its framework is gone for good)
    if (f.builtin) throw new ApiError(403, `framework ${frameworkId} is built into Yagura and cannot be torn down; remove its apps or jobs instead`, [{ path: '/framework_id', errors: ['built-in framework'] }]);
    this.removeFramework(f, 'torn down');
  }

  private removeFramework(f: FrameworkRecord, why: string): void {
    this.log('info', `framework ${f.id} (${f.name}) removed: ${why}`);
    this.rescindOffersOf(f.id, false);
    for (const t of this.tasks.values()) {
      if (t.frameworkId === f.id && !isTerminal(t.state)) this.requestKill(t);
    }
    this.allocator.removeFramework(f.id);
    const link = this.frameworkLinks.get(f.id);
    this.frameworkLinks.delete(f.id);
    if (link) this.then(() => link.conn.close());
    const now = this.now();
    this.putFramework({ ...f, active: false, connected: false, removedAt: now }, { active: false, connected: false });
  }

  suppress(frameworkId: string): void {
    const f = this.requireActiveFramework(frameworkId);
    this.allocator.suppress(frameworkId);
    if (!f.suppressed) this.putFramework({ ...f, suppressed: true }, { suppressed: true });
  }

  revive(frameworkId: string): void {
    const f = this.requireActiveFramework(frameworkId);
    this.allocator.revive(frameworkId);
    if (f.suppressed) this.putFramework({ ...f, suppressed: false }, { suppressed: false });
    this.triggerAllocation();
  }

  private requireActiveFramework(frameworkId: string): FrameworkRecord {
    const f = this.frameworks.get(frameworkId);
    if (!f || !f.active) throw notFound(`framework ${frameworkId} not found`, [{ path: '/framework_id', errors: ['unknown framework'] }]);
    return f;
  }

  decline(frameworkId: string, offerIds: string[], refuseSeconds?: number): void {
    this.requireActiveFramework(frameworkId);
    const offers = this.ownOffers(frameworkId, offerIds, '/decline/offer_ids');
    for (const o of offers) {
      this.offers.delete(o.id);
      this.allocator.recover(o.agentId, frameworkId, o.resources);
      this.allocator.filter(frameworkId, o.agentId, refuseSeconds);
    }
  }

  private ownOffers(frameworkId: string, offerIds: string[], path: string): Offer[] {
    const out: Offer[] = [];
    const missing: Array<{ path: string; errors: string[] }> = [];
    offerIds.forEach((id, i) => {
      const o = this.offers.get(id);
      if (!o || o.frameworkId !== frameworkId) missing.push({ path: `${path}/${i}`, errors: [`offer ${id} is unknown, rescinded or not yours`] });
      else out.push(o);
    });
    if (missing.length) throw notFound('unknown offer', missing);
    return out;
  }

  /**
   * Launch tasks on offers (all on one agent). Validated as a whole: on any error nothing
   * changes and the offers stay outstanding. Resolves after the tasks are committed; the
   * launch messages go to the agent right after the commit.
   */
  async accept(frameworkId: string, offerIds: string[], launches: TaskLaunch[], refuseSeconds?: number): Promise<TaskView[]> {
    this.requireActiveFramework(frameworkId);
    const offers = this.ownOffers(frameworkId, offerIds, '/accept/offer_ids');
    if (offers.length === 0) throw new ApiError(400, 'accept needs at least one offer id', [{ path: '/accept/offer_ids', errors: ['empty'] }]);
    const agentId = offers[0]!.agentId;
    if (offers.some((o) => o.agentId !== agentId)) {
      throw new ApiError(400, 'offers of different agents cannot be accepted together', [{ path: '/accept/offer_ids', errors: ['offers span agents'] }]);
    }
    let offered = emptyResources();
    for (const o of offers) offered = addResources(offered, o.resources);
    const problems: Array<{ path: string; errors: string[] }> = [];
    const ids = new Set<string>();
    // what the launches use, summed in the allocator's fixed point, ports normalized once
    let cpus = 0;
    let mem = 0;
    let disk = 0;
    const ports: Array<[number, number]> = [];
    for (let i = 0; i < launches.length; i++) {
      const l = launches[i]!;
      if (l.agentId !== agentId) problems.push({ path: `${taskInfoPath(i)}/agent_id`, errors: [`must be the offers' agent ${agentId}`] });
      const existing = this.tasks.get(l.taskId);
      if ((existing && !isTerminal(existing.state)) || ids.has(l.taskId)) {
        problems.push({ path: `${taskInfoPath(i)}/task_id`, errors: [`task id ${l.taskId} is already in use`] });
      }
      if (existing && existing.frameworkId !== frameworkId) {
        problems.push({ path: `${taskInfoPath(i)}/task_id`, errors: [`task id ${l.taskId} belongs to another framework`] });
      }
      ids.add(l.taskId);
      if (l.resources.cpus <= 0 && l.resources.mem <= 0) problems.push({ path: `${taskInfoPath(i)}/resources`, errors: ['a task needs some cpus or mem'] });
      cpus += toMilli(l.resources.cpus);
      mem += toMilli(l.resources.mem);
      disk += toMilli(l.resources.disk);
      for (const r of l.resources.ports) ports.push(r);
    }
    const used: Resources = { cpus: fromMilli(cpus), mem: fromMilli(mem), disk: fromMilli(disk), ports: normalizeRanges(ports) };
    if (problems.length === 0 && !containsResources(offered, used)) {
      problems.push({ path: '/accept/operations', errors: ['the tasks need more resources than the offers hold (or ports outside them)'] });
    }
    if (problems.length) throw new ApiError(422, 'invalid launch', problems);

    const now = this.now();
    for (const o of offers) this.offers.delete(o.id);
    const remainder = subtractResources(offered, used);
    this.allocator.recover(agentId, frameworkId, remainder);
    this.allocator.filter(frameworkId, agentId, refuseSeconds);
    const created: TaskRecord[] = [];
    for (const l of launches) {
      const t: TaskRecord = {
        id: l.taskId,
        name: l.name,
        frameworkId,
        agentId,
        state: 'TASK_STAGING',
        resources: l.resources,
        command: l.command,
        labels: l.labels,
        createdAt: now,
        updatedAt: now,
        ...(l.killGracePeriodMs !== undefined ? { killGracePeriodMs: l.killGracePeriodMs } : {}),
        ...(l.healthChecks?.length ? { healthChecks: l.healthChecks } : {}),
      };
      this.indexTask(t);
      this.putTask(t);
      created.push(t);
    }
    // what the agent holds grows by exactly what was launched: no need to sum all its tasks again
    const agent = this.agents.get(agentId);
    if (agent && launches.length > 0) {
      this.setAllocated(agent, addResources(agent.allocated, used));
    }
    await this.commit();
    const link = this.agentLinks.get(agentId);
    if (!link) {
      // the agent went away between offer and accept: the launches never reached it
      for (const t of created) this.applyMasterUpdate(t, 'TASK_DROPPED', 'REASON_AGENT_UNREACHABLE', 'the agent disconnected before the launch reached it');
    } else if (link.launches && created.length > 1) {
      // one message for the accept's tasks on this agent
      for (let i = 0; i < created.length; i += MAX_BATCH) {
        link.conn.send({ type: 'launches', tasks: created.slice(i, i + MAX_BATCH).map((t) => launchSpec(t, frameworkId)) });
      }
    } else {
      for (const t of created) link.conn.send({ type: 'launch', task: launchSpec(t, frameworkId) });
    }
    return created.map(toTaskView);
  }

  kill(frameworkId: string, taskId: string, gracePeriodMs?: number): void {
    const t = this.tasks.get(taskId);
    if (!t || t.frameworkId !== frameworkId) {
      throw notFound(`task ${taskId} not found for framework ${frameworkId}`, [{ path: '/kill/task_id', errors: ['unknown task'] }]);
    }
    if (isTerminal(t.state)) {
      // Mesos answers a kill of a finished task with its terminal state again
      const status = toStatus(t, 'SOURCE_MASTER', false);
      this.then(() => this.frameworkLinks.get(frameworkId)?.conn.update(status));
      return;
    }
    this.requestKill(t, gracePeriodMs);
  }

  /** Operator kill (CLI, dashboard): any framework's task. */
  killTask(taskId: string, gracePeriodMs?: number): TaskView {
    const t = this.tasks.get(taskId);
    if (!t) throw notFound(`task ${taskId} not found`, [{ path: '/task_id', errors: ['unknown task'] }]);
    if (!isTerminal(t.state)) this.requestKill(t, gracePeriodMs);
    return toTaskView(t);
  }

  private requestKill(t: TaskRecord, gracePeriodMs?: number): void {
    const grace = gracePeriodMs ?? t.killGracePeriodMs ?? DEFAULT_KILL_GRACE_MS;
    const rec: TaskRecord = { ...t, killRequested: true, killGracePeriodMs: grace };
    this.putTask(rec, {}, true);
    const agent = this.agents.get(t.agentId);
    if (agent?.state === 'GONE') {
      this.applyMasterUpdate(rec, 'TASK_GONE', 'REASON_AGENT_REMOVED', 'the agent is gone');
      return;
    }
    this.then(() => this.sendToAgent(t.agentId, { type: 'kill', taskId: t.id, gracePeriodMs: grace }));
  }

  acknowledge(frameworkId: string, taskId: string, uuid: string): void {
    const t = this.tasks.get(taskId);
    if (!t || t.frameworkId !== frameworkId) {
      throw notFound(`task ${taskId} not found for framework ${frameworkId}`, [{ path: '/acknowledge/task_id', errors: ['unknown task'] }]);
    }
    if (t.pendingAck !== uuid) return; // an old or repeated ack changes nothing
    // a copy without the field, not `delete`: deleting a property that is not the last one makes
    // V8 turn the object into a slow dictionary, bigger and slower to read, and every task of a
    // framework that acknowledges its updates passes through here
    const { pendingAck: _ack, ...rec } = t;
    this.putTask(rec, {}, true);
  }

  /** Explicit (ids given) or implicit (none: every non-terminal task of the framework). */
  reconcile(frameworkId: string, taskIds: string[]): TaskStatus[] {
    this.requireActiveFramework(frameworkId);
    const now = this.now();
    const out: TaskStatus[] = [];
    if (taskIds.length === 0) {
      for (const t of this.tasks.values()) {
        if (t.frameworkId === frameworkId && !isTerminal(t.state)) out.push({ ...toStatus(t, 'SOURCE_MASTER', false), reason: 'REASON_RECONCILIATION', timestamp: now });
      }
    } else {
      for (const id of taskIds) {
        const t = this.tasks.get(id);
        if (t && t.frameworkId === frameworkId) out.push({ ...toStatus(t, 'SOURCE_MASTER', false), reason: 'REASON_RECONCILIATION', timestamp: now });
        else out.push({ taskId: id, frameworkId, agentId: '', state: 'TASK_UNKNOWN', source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION', message: 'task is unknown to the master', timestamp: now });
      }
    }
    const link = this.frameworkLinks.get(frameworkId);
    if (link) for (const s of out) link.conn.update(s);
    return out;
  }

  private resendPendingAcks(): void {
    for (const t of this.tasks.values()) {
      if (!t.pendingAck) continue;
      const link = this.frameworkLinks.get(t.frameworkId);
      if (link) link.conn.update(toStatus(t, 'SOURCE_AGENT', true));
    }
  }

  /** Role weights for the allocator's DRF (default 1). */
  roleWeights(): Record<string, number> {
    return { ...this.weights };
  }

  setRoleWeights(weights: Array<{ role: string; weight: number }>): void {
    for (const { role, weight } of weights) {
      this.allocator.setRoleWeight(role, weight);
      this.weights[role] = weight;
    }
    this.dirtyMeta.role_weights = JSON.stringify(this.weights);
    this.scheduleFlush();
  }

  // -------------------------------------------------------------------------------------------
  // Offers

  triggerAllocation(): void {
    if (this.allocationScheduled || this.stopped) return;
    this.allocationScheduled = true;
    setImmediate(() => {
      this.allocationScheduled = false;
      this.allocate();
    });
  }

  /**
   * Lift a framework's decline filters on these agents and offer them on the next turn (to
   * whichever framework the allocator's order gives them), not at the next cycle. For the
   * built-in services framework, whose GROUP_BY apps wait for agents it declined a moment ago.
   */
  offerNow(frameworkId: string, agentIds: Iterable<string>): void {
    this.requireActiveFramework(frameworkId);
    for (const id of agentIds) {
      this.allocator.filter(frameworkId, id, 0);
      this.offerSoon.add(id);
    }
    if (this.offerSoonScheduled || this.offerSoon.size === 0) return;
    this.offerSoonScheduled = true;
    setImmediate(() => {
      this.offerSoonScheduled = false;
      const ids = this.offerSoon;
      this.offerSoon = new Set();
      this.allocate(ids);
    });
  }

  /** A cycle over every agent, or over `agentIds` alone. */
  allocate(agentIds?: Iterable<string>): void {
    if (this.stopped) return;
    const allocations = agentIds ? this.allocator.allocateAgents(agentIds) : this.allocator.allocateCycle();
    if (allocations.length === 0) return;
    const now = this.now();
    const byFramework = new Map<string, Offer[]>();
    for (const a of allocations) {
      const agent = this.agents.get(a.agentId);
      const link = this.frameworkLinks.get(a.frameworkId);
      if (!agent || !link || !this.agentLinks.has(a.agentId)) {
        this.allocator.recover(a.agentId, a.frameworkId, a.resources);
        continue;
      }
      const offer: Offer = {
        id: `${this.offerPrefix}${++this.offerCounter}`,
        frameworkId: a.frameworkId,
        agentId: a.agentId,
        hostname: agent.hostname,
        resources: a.resources,
        attributes: agent.attributes,
        createdAt: now,
        expiresAt: now + this.offerTimeoutMs,
      };
      this.offers.set(offer.id, offer);
      let list = byFramework.get(a.frameworkId);
      if (!list) byFramework.set(a.frameworkId, (list = []));
      list.push(offer);
    }
    for (const [fid, list] of byFramework) this.frameworkLinks.get(fid)?.conn.offers(list);
  }

  private rescindOffersOn(agentId: string): void {
    for (const o of [...this.offers.values()]) if (o.agentId === agentId) this.rescind(o, true);
  }

  private rescindOffersOf(frameworkId: string, notify: boolean): void {
    for (const o of [...this.offers.values()]) if (o.frameworkId === frameworkId) this.rescind(o, notify);
  }

  private rescind(o: Offer, notify: boolean): void {
    this.offers.delete(o.id);
    if (this.agents.get(o.agentId)?.state !== 'GONE') this.allocator.recover(o.agentId, o.frameworkId, o.resources);
    if (notify) this.frameworkLinks.get(o.frameworkId)?.conn.rescind(o.id);
  }

  /** Timeouts: expired offers, frameworks past their failover timeout. */
  private sweep(): void {
    const now = this.now();
    let recovered = false;
    for (const o of [...this.offers.values()]) {
      if (o.expiresAt <= now) {
        this.rescind(o, true);
        recovered = true;
      }
    }
    for (const f of [...this.frameworks.values()]) {
      if (!f.active || f.builtin || this.frameworkLinks.has(f.id)) continue;
      const since = f.disconnectedAt ?? this.startedAt;
      if (now - since >= f.failoverTimeoutSeconds * 1000) this.removeFramework(f, 'failover timeout expired');
    }
    if (recovered) this.triggerAllocation();
  }

  // -------------------------------------------------------------------------------------------
  // Sandbox files, proxied over the agent link

  async files(taskId: string, op: 'browse' | 'read' | 'download', path: string, offset?: number, length?: number) {
    const t = this.tasks.get(taskId);
    if (!t) throw notFound(`task ${taskId} not found`);
    if (!this.agentLinks.has(t.agentId)) throw new ApiError(503, `the agent of task ${taskId} is not connected`);
    const reqId = randomUUID();
    return new Promise<Extract<AgentToMaster, { type: 'files.reply' }>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fileWaiters.delete(reqId);
        reject(new ApiError(503, 'the agent did not answer in time'));
      }, 15_000);
      this.fileWaiters.set(reqId, { agentId: t.agentId, resolve, reject, timer });
      this.sendToAgent(t.agentId, {
        type: 'files.request',
        reqId,
        op,
        taskId,
        path,
        ...(offset !== undefined ? { offset } : {}),
        ...(length !== undefined ? { length } : {}),
      });
    });
  }

  /** Follow a sandbox file. Returns a function that stops following. */
  tail(taskId: string, path: string, offset: number | undefined, onChunk: (data: string, offset: number) => void, onEnd: (message?: string) => void): () => void {
    const t = this.tasks.get(taskId);
    if (!t) throw notFound(`task ${taskId} not found`);
    if (!this.agentLinks.has(t.agentId)) throw new ApiError(503, `the agent of task ${taskId} is not connected`);
    const streamId = randomUUID();
    this.tails.set(streamId, { agentId: t.agentId, onChunk, onEnd });
    this.sendToAgent(t.agentId, { type: 'files.tail', streamId, taskId, path, ...(offset !== undefined ? { offset } : {}) });
    return () => {
      if (this.tails.delete(streamId)) this.sendToAgent(t.agentId, { type: 'files.untail', streamId });
    };
  }
}

// ---------------------------------------------------------------------------------------------

function toAgentView(a: AgentRecord): AgentView {
  const { drain: _drain, ...view } = a;
  return view;
}

/**
 * The view of a task record, made once per record and frozen: records are replaced on every
 * change, never changed in place, so reads of 100,000 tasks (snapshots, the services tick)
 * share the views instead of copying every task each time. A record with none of the fields
 * only the master keeps (most of them: a service's task without health checks or a kill grace
 * period, once acknowledged) is its own view, frozen when it is put: no copy, and no entry in
 * the map below. Copying every record was ~4% of the master's time while placing.
 */
const taskViews = new WeakMap<TaskRecord, TaskView>();

function isOwnView(t: TaskRecord): boolean {
  return t.killRequested === undefined && t.killGracePeriodMs === undefined && t.pendingAck === undefined && t.healthChecks === undefined;
}

function toTaskView(t: TaskRecord): TaskView {
  if (isOwnView(t)) return t;
  let view = taskViews.get(t);
  if (!view) {
    const { killRequested: _k, killGracePeriodMs: _g, pendingAck: _p, healthChecks: _h, ...rest } = t;
    view = Object.freeze(rest);
    taskViews.set(t, view);
  }
  return view;
}

function toFrameworkView(f: FrameworkRecord): FrameworkView {
  const { removedAt: _r, disconnectedAt: _d, ...view } = f;
  return view;
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

function toStatus(t: TaskRecord | TaskView, source: TaskStatus['source'], withUuid: boolean): TaskStatus {
  const s: TaskStatus = {
    taskId: t.id,
    frameworkId: t.frameworkId,
    agentId: t.agentId,
    state: t.state,
    source,
    timestamp: t.updatedAt,
    labels: t.labels,
  };
  if (t.reason !== undefined) s.reason = t.reason;
  if (t.message !== undefined) s.message = t.message;
  if (t.exitCode !== undefined) s.exitCode = t.exitCode;
  if (t.healthy !== undefined) s.healthy = t.healthy;
  if (withUuid && t.statusUuid) s.uuid = t.statusUuid;
  return s;
}

const TASK_VIEW_FIELDS: Array<keyof TaskView> = ['state', 'reason', 'message', 'exitCode', 'healthy', 'updatedAt', 'startedAt', 'endedAt', 'statusUuid'];

/** Only the fields a status update can change, and only those that did: what the stream sends. */
function diffTask(before: TaskView, after: TaskView): Partial<TaskView> {
  const out: Record<string, unknown> = {};
  // a cleared field goes out as null: JSON has no undefined, and the client deletes it
  for (const k of TASK_VIEW_FIELDS) if (before[k] !== after[k]) out[k] = after[k] === undefined ? null : after[k];
  return out as Partial<TaskView>;
}

/** What an agent is told to run. */
export function launchSpec(t: TaskRecord, frameworkId: string): LaunchSpec {
  return {
    taskId: t.id,
    frameworkId,
    name: t.name,
    command: t.command,
    resources: t.resources,
    labels: t.labels,
    killGracePeriodMs: t.killGracePeriodMs ?? DEFAULT_KILL_GRACE_MS,
    ...(t.healthChecks ? { healthChecks: t.healthChecks } : {}),
  };
}
