// The built-in `jobs` framework: Metronome/Chronos-style batch jobs run through the master's
// offer interface, like any scheduler. Definitions, per-job state (schedule slots dispatched,
// parent completions consumed, counters) and runs are documents committed with the master's
// own changes, so a run, the slot that created it and the task launched for it commit together.
//
// Time: every due moment (schedule slots, retry backoffs, run deadlines) sits in one DueQueue
// with one timer. The clock is injectable so that restart and missed-slot logic is testable
// without waiting for real minutes.

import { randomBytes } from 'node:crypto';
import { isTerminal, type JobRunStatus, type JobRunView, type JobView, type TaskState } from '../../../protocol/types.js';
import { ApiError, conflict, invalid, notFound } from '../../api/errors.js';
import { placeInstances, type PlacementOffer } from '../../core/placement.js';
import { subtractResources } from '../../core/resources.js';
import type { Master } from '../../master/master.js';
import type { Logger, Offer, SchedulerConnection, TaskLaunch, TaskStatus } from '../../master/types.js';
import { compileSchedule, type JobDefinition, type ScheduleSpec } from './definition.js';
import { dependencyProblems } from './graph.js';
import { nextSlots, slotsBetween, type Schedule } from './schedule.js';
import { DueQueue, realClock, type JobsClock } from './timers.js';

export const JOBS_FRAMEWORK_ID = 'yagura-jobs';
export const JOB_ID_LABEL = 'YAGURA_JOB_ID';
export const RUN_ID_LABEL = 'YAGURA_RUN_ID';

const JOBS = 'jobs';
const STATE = 'job_state';
const RUNS = 'job_runs';
/** Output kept per stream of a finished run. */
export const TAIL_BYTES = 64 * 1024;
const TAIL_FETCH_TIMEOUT_MS = 5000;
const DURATION_WINDOW = 200;
/** Missed slots looked at after a restart; older ones are summarised in one entry. */
const MISSED_SCAN_LIMIT = 100_000;

const REASON_TEXT: Record<string, string> = {
  InsufficientCpus: 'not enough free cpus',
  InsufficientMemory: 'not enough free memory',
  InsufficientDisk: 'not enough free disk',
  InsufficientPorts: 'the required ports are not free',
  UnfulfilledConstraint: 'the placement constraints rule it out',
  UnfulfilledCapability: 'no agent offers the container runtime it needs (Docker)',
};

export interface JobRecord {
  def: JobDefinition;
  createdAt: number;
  updatedAt: number;
}

export interface JobStats {
  successCount: number;
  failureCount: number;
  skippedCount: number;
  errorsSinceLastSuccess: number;
  lastSuccessAt?: number;
  lastFailureAt?: number;
  /** Durations (ms) of the latest finished runs that ran, oldest first. */
  durations: number[];
}

interface JobState {
  /** Per schedule id: the last slot dispatched (or the moment the schedule was armed). */
  slots: Record<string, { lastSlot: number; runId?: string; fingerprint: string }>;
  /** Per parent: the parent's successSeq this job's last dependency run consumed. */
  consumed: Record<string, number>;
  /** Successful completions so far; children compare it with what they consumed. */
  successSeq: number;
  stats: JobStats;
}

export interface Attempt {
  taskId: string;
  agentId: string;
  hostname: string;
  state: TaskState;
  launchedAt: number;
  startedAt?: number;
  /** Set once the framework has handled the attempt's end. */
  endedAt?: number;
  exitCode?: number;
  message?: string;
}

export interface RunRecord {
  id: string;
  jobId: string;
  status: JobRunStatus;
  trigger: JobRunView['trigger'];
  scheduleId?: string;
  scheduledAt?: number;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  attempts: Attempt[];
  /** When the next attempt may launch (ON_FAILURE backoff). */
  nextAttemptAt?: number;
  /** No further attempt fits before activeDeadlineSeconds: the deadline will end the run. */
  outOfTime?: boolean;
  /** A kill the framework asked for, and why. */
  stopping?: 'stopped' | 'deadline';
  /** Decided outcome, applied once the output is fetched (persisted: a restart finishes it). */
  ending?: { status: 'SUCCESS' | 'FAILED'; reason: string };
  exitCode?: number;
  reason?: string;
  waiting?: string;
  skipped?: boolean;
  stdout?: string;
  stderr?: string;
  /** Which parent runs triggered it (dependency runs). */
  parents?: Record<string, number>;
}

export interface JobsOptions {
  master: Master;
  clock?: JobsClock;
  log?: Logger;
  /** Finished runs kept per job (default 50). */
  historyLimit?: number;
}

export const isFinished = (r: RunRecord): boolean => r.status === 'SUCCESS' || r.status === 'FAILED';

export class JobsFramework implements SchedulerConnection {
  readonly master: Master;
  readonly historyLimit: number;
  private readonly clock: JobsClock;
  private readonly log: Logger;
  private readonly due: DueQueue;

  private jobs = new Map<string, JobRecord>();
  private states = new Map<string, JobState>();
  private runs = new Map<string, RunRecord>();
  private runsByJob = new Map<string, Set<string>>();
  private compiled = new Map<string, Schedule | undefined>();
  /** Children of each job (reverse of dependencies). */
  private children = new Map<string, Set<string>>();
  /** Runs that may launch now. */
  private pending = new Set<string>();
  private heldOffers = new Map<string, Offer>();
  private published = new Map<string, string>();
  private subscribedOnce = false;
  private tickScheduled = false;
  private stopped = false;

  constructor(opts: JobsOptions) {
    this.master = opts.master;
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? (() => {});
    this.historyLimit = opts.historyLimit ?? 50;
    this.due = new DueQueue(this.clock, (key, at) => this.onDue(key, at));
    for (const { data } of this.master.loadDocs<JobRecord>(JOBS)) {
      this.jobs.set(data.def.id, data);
      this.indexJob(data.def);
    }
    for (const { id, data } of this.master.loadDocs<JobState>(STATE)) this.states.set(id, data);
    for (const { data } of this.master.loadDocs<RunRecord>(RUNS)) {
      if (!this.jobs.has(data.jobId)) continue;
      this.runs.set(data.id, data);
      this.runIds(data.jobId).add(data.id);
    }
    for (const job of this.jobs.values()) this.published.set(`job ${job.def.id}`, JSON.stringify(this.jobView(job)));
    for (const r of this.runs.values()) this.published.set(`run ${r.id}`, JSON.stringify(runView(r)));
    this.master.provideViews({
      jobs: () => [...this.jobs.values()].map((j) => this.jobView(j)),
      jobRuns: () => this.snapshotRuns(),
    });
  }

  /** Subscribe, then catch up: missed slots, runs whose tasks ended while nobody listened. */
  async start(): Promise<void> {
    await this.master.subscribe(
      { id: JOBS_FRAMEWORK_ID, name: 'jobs', user: 'root', roles: ['*'], failoverTimeoutSeconds: 365 * 24 * 3600, builtin: true },
      this,
      `builtin-${JOBS_FRAMEWORK_ID}`,
    );
    this.recoverRuns();
    const now = this.clock.now();
    for (const job of this.jobs.values()) for (const s of job.def.schedules) this.armSchedule(job.def, s, now, true);
    await this.master.commit();
    this.scheduleTick();
  }

  stop(): void {
    this.stopped = true;
    this.due.stop();
  }

  // -------------------------------------------------------------------------------------------
  // SchedulerConnection

  subscribed(): void {
    this.subscribedOnce = true;
    this.scheduleTick();
  }

  offers(offers: Offer[]): void {
    for (const o of offers) this.heldOffers.set(o.id, o);
    this.scheduleTick();
  }

  rescind(offerId: string): void {
    this.heldOffers.delete(offerId);
  }

  update(status: TaskStatus): void {
    if (this.stopped) return;
    const run = this.runs.get(status.labels?.[RUN_ID_LABEL] ?? '');
    if (!run || isFinished(run)) return;
    const att = run.attempts.find((a) => a.taskId === status.taskId);
    if (!att || att.endedAt !== undefined) return;
    att.state = status.state;
    if (status.state === 'TASK_RUNNING') {
      att.startedAt ??= status.timestamp;
      if (!run.ending && run.status !== 'ACTIVE') run.status = 'ACTIVE';
    }
    if (isTerminal(status.state)) {
      this.attemptEnded(run, att, status.state, status.exitCode, status.message, status.timestamp);
      return;
    }
    this.saveRun(run);
  }

  failure(): void {
    this.scheduleTick();
  }

  error(message: string): void {
    this.log('error', `jobs framework: ${message}`);
  }

  close(): void {
    // the master is stopping (or removed us): nothing may write after this
    this.heldOffers.clear();
    this.stop();
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  listJobs(): JobRecord[] {
    return [...this.jobs.values()].sort((a, b) => a.def.id.localeCompare(b.def.id));
  }

  getJob(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  requireJob(id: string): JobRecord {
    const j = this.jobs.get(id);
    if (!j) throw notFound(`Job '${id}' does not exist`, [{ path: '/id', errors: ['unknown job'] }]);
    return j;
  }

  /** Retained runs, newest first. */
  runsOf(jobId: string): RunRecord[] {
    return [...this.runIds(jobId)].map((id) => this.runs.get(id)!).sort(newestFirst);
  }

  activeRunsOf(jobId: string): RunRecord[] {
    return this.runsOf(jobId).filter((r) => !isFinished(r));
  }

  getRun(jobId: string, runId: string): RunRecord | undefined {
    const r = this.runs.get(runId);
    return r && r.jobId === jobId ? r : undefined;
  }

  requireRun(jobId: string, runId: string): RunRecord {
    this.requireJob(jobId);
    const r = this.getRun(jobId, runId);
    if (!r) throw notFound(`JobRun '${runId}' of job '${jobId}' does not exist`, [{ path: '/runId', errors: ['unknown run'] }]);
    return r;
  }

  stats(jobId: string): JobStats & { p50DurationMs?: number; p95DurationMs?: number } {
    const s = this.state(jobId).stats;
    const sorted = [...s.durations].sort((a, b) => a - b);
    return {
      ...s,
      ...(sorted.length ? { p50DurationMs: percentile(sorted, 0.5), p95DurationMs: percentile(sorted, 0.95) } : {}),
    };
  }

  nextRunAt(jobId: string, scheduleId: string): number | undefined {
    return this.due.at(slotKey(jobId, scheduleId));
  }

  dependentsOf(jobId: string): string[] {
    return [...(this.children.get(jobId) ?? [])].sort();
  }

  jobViewOf(id: string): JobView | undefined {
    const j = this.jobs.get(id);
    return j && this.jobView(j);
  }

  /** Pending timers, for tests: one for the whole queue, not one per schedule. */
  get armedEntries(): number {
    return this.due.size;
  }

  // -------------------------------------------------------------------------------------------
  // Changes; each resolves after it is committed.

  async createJob(def: JobDefinition): Promise<JobRecord> {
    if (this.jobs.has(def.id)) throw conflict(`Job with id '${def.id}' already exists`, [{ path: '/id', errors: ['a job with this id exists'] }]);
    return this.putJob(def);
  }

  /** Replace an existing job's definition (schedules included). */
  async replaceJob(def: JobDefinition): Promise<JobRecord> {
    this.requireJob(def.id);
    return this.putJob(def);
  }

  /** Create or replace (Chronos POST semantics). */
  async upsertJob(def: JobDefinition): Promise<JobRecord> {
    return this.putJob(def);
  }

  private async putJob(def: JobDefinition): Promise<JobRecord> {
    this.checkDependencies(def);
    const now = this.clock.now();
    const prev = this.jobs.get(def.id);
    const rec: JobRecord = { def, createdAt: prev?.createdAt ?? now, updatedAt: now };
    const state = this.state(def.id);
    // a new parent's earlier successes are not this job's to run for
    const consumed: Record<string, number> = {};
    for (const p of def.dependencies) consumed[p] = state.consumed[p] ?? this.state(p).successSeq;
    state.consumed = consumed;
    if (prev) this.unindexJob(prev.def);
    for (const s of prev?.def.schedules ?? []) {
      if (!def.schedules.some((n) => n.id === s.id)) {
        this.due.delete(slotKey(def.id, s.id));
        delete state.slots[s.id];
      }
    }
    this.jobs.set(def.id, rec);
    this.indexJob(def);
    for (const s of def.schedules) this.armSchedule(def, s, now, false);
    this.master.putDoc(JOBS, def.id, rec);
    this.saveState(def.id);
    this.publishJob(def.id);
    await this.master.commit();
    return rec;
  }

  async putSchedule(jobId: string, spec: ScheduleSpec, mode: 'create' | 'replace'): Promise<ScheduleSpec> {
    const job = this.requireJob(jobId);
    const exists = job.def.schedules.some((s) => s.id === spec.id);
    if (mode === 'create' && exists) throw conflict(`Schedule '${spec.id}' of job '${jobId}' already exists`, [{ path: '/id', errors: ['a schedule with this id exists'] }]);
    if (mode === 'replace' && !exists) throw notFound(`Schedule '${spec.id}' does not exist`, [{ path: '/id', errors: ['unknown schedule'] }]);
    const schedules = exists ? job.def.schedules.map((s) => (s.id === spec.id ? spec : s)) : [...job.def.schedules, spec];
    await this.putJob({ ...job.def, schedules });
    return spec;
  }

  async deleteSchedule(jobId: string, scheduleId: string): Promise<void> {
    const job = this.requireJob(jobId);
    if (!job.def.schedules.some((s) => s.id === scheduleId)) throw notFound(`Schedule '${scheduleId}' does not exist`, [{ path: '/id', errors: ['unknown schedule'] }]);
    await this.putJob({ ...job.def, schedules: job.def.schedules.filter((s) => s.id !== scheduleId) });
  }

  async deleteJob(id: string, opts: { stopCurrentJobRuns?: boolean } = {}): Promise<void> {
    const job = this.requireJob(id);
    const dependents = this.dependentsOf(id);
    if (dependents.length) {
      throw conflict(`Job '${id}' cannot be deleted: other jobs depend on it`, [{ path: '/id', errors: dependents.map((d) => `job '${d}' depends on it`) }]);
    }
    const active = this.activeRunsOf(id);
    if (active.length && !opts.stopCurrentJobRuns) {
      throw conflict(`Job '${id}' has active runs; stop them first or pass stopCurrentJobRuns=true`, [{ path: '/id', errors: active.map((r) => `run ${r.id} is ${r.status}`) }]);
    }
    for (const r of active) {
      const live = liveAttempt(r);
      if (live) this.killTask(live.taskId, job.def);
      this.pending.delete(r.id);
    }
    for (const s of job.def.schedules) this.due.delete(slotKey(id, s.id));
    for (const runId of this.runIds(id)) {
      this.due.delete(retryKey(runId));
      this.due.delete(deadlineKey(runId));
      this.runs.delete(runId);
      this.master.deleteDoc(RUNS, runId);
      if (this.published.delete(`run ${runId}`)) this.master.publish({ kind: 'jobRun', op: 'delete', id: runId });
    }
    this.runsByJob.delete(id);
    this.unindexJob(job.def);
    this.jobs.delete(id);
    this.states.delete(id);
    for (const s of job.def.schedules) this.compiled.delete(slotKey(id, s.id));
    this.master.deleteDoc(JOBS, id);
    this.master.deleteDoc(STATE, id);
    this.published.delete(`job ${id}`);
    this.master.publish({ kind: 'job', op: 'delete', id });
    await this.master.commit();
  }

  async runNow(jobId: string): Promise<RunRecord> {
    this.requireJob(jobId);
    const run = this.newRun(jobId, { trigger: 'manual' });
    // the run as it was committed: the tick may launch it before the commit ends (the store
    // writes on another thread), and the answer describes what this request created
    const created: RunRecord = { ...run, attempts: [...run.attempts] };
    await this.master.commit();
    return created;
  }

  async stopRun(jobId: string, runId: string): Promise<RunRecord> {
    const run = this.requireRun(jobId, runId);
    if (!isFinished(run) && !run.ending) this.halt(run, 'stopped');
    await this.master.commit();
    return run;
  }

  // -------------------------------------------------------------------------------------------
  // Schedules

  /**
   * Put the schedule's next slot in the queue. On start (`recovering`), slots missed while the
   * master was down are handled first: the latest runs if it is within the starting deadline,
   * every other one is recorded as a skipped run.
   */
  private armSchedule(def: JobDefinition, s: ScheduleSpec, now: number, recovering: boolean): void {
    const key = slotKey(def.id, s.id);
    this.due.delete(key);
    const schedule = compileSchedule(s);
    this.compiled.set(key, schedule);
    const state = this.state(def.id);
    const fp = fingerprint(s);
    let slot = state.slots[s.id];
    if (!slot || slot.fingerprint !== fp) {
      // a new or changed schedule starts from now: its past is not owed
      slot = { lastSlot: now, fingerprint: fp };
      state.slots[s.id] = slot;
      this.saveState(def.id);
    }
    if (!schedule || !s.enabled || def.disabled) return;
    if (recovering && slot.lastSlot < now) {
      const missed = slotsBetween(schedule, slot.lastSlot, now, MISSED_SCAN_LIMIT).filter((t) => t > slot!.lastSlot && t <= now);
      if (missed.length) this.catchUp(def, s, missed, now);
    }
    const next = nextSlots(schedule, Math.max(state.slots[s.id]!.lastSlot, recovering ? now : slot.lastSlot), 1)[0];
    if (next !== undefined) this.due.set(key, next);
  }

  private catchUp(def: JobDefinition, s: ScheduleSpec, missed: number[], now: number): void {
    const latest = missed[missed.length - 1]!;
    const runnable = now - latest <= s.startingDeadlineSeconds * 1000;
    const skipped = runnable ? missed.slice(0, -1) : missed;
    // more than the history keeps would only push out real runs: record the latest ones
    const keep = skipped.slice(-this.historyLimit);
    const dropped = skipped.length - keep.length;
    keep.forEach((slot, i) => {
      let reason = 'missed: master was down';
      if (!runnable && slot === latest) reason += ` (the starting deadline of ${s.startingDeadlineSeconds}s had passed at restart)`;
      if (i === 0 && dropped > 0) reason += ` (${dropped} earlier missed slot(s) not listed)`;
      this.recordSkipped(def.id, s.id, slot, reason);
    });
    if (dropped > 0) this.state(def.id).stats.skippedCount += dropped;
    if (runnable) this.dispatchSlot(def.id, s.id, latest);
    else this.markSlot(def.id, s.id, latest, undefined);
  }

  private onDue(key: string, at: number): void {
    if (this.stopped) return;
    try {
      const [kind, a, b] = key.split('\u0000');
      if (kind === 'slot') this.slotDue(a!, b!, at);
      else if (kind === 'retry') this.retryDue(a!);
      else if (kind === 'deadline') this.deadlineDue(a!);
    } catch (err) {
      this.log('error', `jobs: ${key.replace(/\u0000/g, ' ')} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }

  private slotDue(jobId: string, scheduleId: string, slot: number): void {
    const job = this.jobs.get(jobId);
    const s = job?.def.schedules.find((x) => x.id === scheduleId);
    const schedule = this.compiled.get(slotKey(jobId, scheduleId));
    if (!job || !s || !schedule) return;
    const now = this.clock.now();
    if (now - slot > s.startingDeadlineSeconds * 1000) {
      this.recordSkipped(jobId, scheduleId, slot, `missed: dispatched ${Math.round((now - slot) / 1000)}s late, past the starting deadline of ${s.startingDeadlineSeconds}s`);
    } else this.dispatchSlot(jobId, scheduleId, slot);
    const next = nextSlots(schedule, slot, 1)[0];
    if (next !== undefined) this.due.set(slotKey(jobId, scheduleId), next);
    this.publishJob(jobId);
  }

  /** A slot becomes a run (or a skipped entry under FORBID); its mark commits with it. */
  private dispatchSlot(jobId: string, scheduleId: string, slot: number): void {
    const s = this.jobs.get(jobId)!.def.schedules.find((x) => x.id === scheduleId)!;
    if (s.concurrencyPolicy === 'FORBID' && this.activeRunsOf(jobId).length > 0) {
      this.recordSkipped(jobId, scheduleId, slot, 'concurrencyPolicy FORBID: a run of this job was still active');
      return;
    }
    this.newRun(jobId, { trigger: 'schedule', scheduleId, scheduledAt: slot });
  }

  private markSlot(jobId: string, scheduleId: string, slot: number, runId: string | undefined): void {
    const state = this.state(jobId);
    const cur = state.slots[scheduleId];
    if (!cur) return;
    state.slots[scheduleId] = { ...cur, lastSlot: Math.max(cur.lastSlot, slot), ...(runId ? { runId } : {}) };
    this.saveState(jobId);
  }

  private recordSkipped(jobId: string, scheduleId: string, slot: number, reason: string): void {
    const now = this.clock.now();
    const run: RunRecord = {
      id: this.newRunId(),
      jobId,
      status: 'FAILED',
      trigger: 'schedule',
      scheduleId,
      scheduledAt: slot,
      createdAt: now,
      finishedAt: now,
      attempts: [],
      reason,
      skipped: true,
    };
    this.runs.set(run.id, run);
    this.runIds(jobId).add(run.id);
    this.markSlot(jobId, scheduleId, slot, run.id);
    this.state(jobId).stats.skippedCount++;
    this.saveState(jobId);
    this.saveRun(run);
    this.prune(jobId);
    this.publishJob(jobId);
  }

  // -------------------------------------------------------------------------------------------
  // Runs

  private newRun(jobId: string, o: { trigger: RunRecord['trigger']; scheduleId?: string; scheduledAt?: number; parents?: Record<string, number> }): RunRecord {
    const def = this.jobs.get(jobId)!.def;
    const now = this.clock.now();
    const run: RunRecord = {
      id: this.newRunId(),
      jobId,
      status: 'INITIAL',
      trigger: o.trigger,
      ...(o.scheduleId !== undefined ? { scheduleId: o.scheduleId } : {}),
      ...(o.scheduledAt !== undefined ? { scheduledAt: o.scheduledAt } : {}),
      ...(o.parents ? { parents: o.parents } : {}),
      createdAt: now,
      attempts: [],
      waiting: 'waiting for offers',
    };
    this.runs.set(run.id, run);
    this.runIds(jobId).add(run.id);
    if (o.scheduleId !== undefined && o.scheduledAt !== undefined) this.markSlot(jobId, o.scheduleId, o.scheduledAt, run.id);
    const deadline = def.run.restart.activeDeadlineSeconds;
    if (deadline !== undefined) this.due.set(deadlineKey(run.id), now + deadline * 1000);
    this.pending.add(run.id);
    this.saveRun(run);
    this.publishJob(jobId);
    this.scheduleTick();
    return run;
  }

  private retryDue(runId: string): void {
    const run = this.runs.get(runId);
    if (!run || isFinished(run) || run.ending || run.stopping) return;
    delete run.nextAttemptAt;
    run.waiting = `waiting for offers (attempt ${run.attempts.length + 1})`;
    this.pending.add(run.id);
    this.saveRun(run);
    this.publishJob(run.jobId);
    this.scheduleTick();
  }

  private deadlineDue(runId: string): void {
    const run = this.runs.get(runId);
    if (!run || isFinished(run) || run.ending) return;
    this.halt(run, 'deadline');
  }

  /** Stop a run: kill its task (it ends when the task does), or end it now if none runs. */
  private halt(run: RunRecord, why: 'stopped' | 'deadline'): void {
    run.stopping = why;
    this.pending.delete(run.id);
    this.due.delete(retryKey(run.id));
    const live = liveAttempt(run);
    if (live) {
      this.killTask(live.taskId, this.jobs.get(run.jobId)?.def);
      this.saveRun(run);
      return;
    }
    this.endRun(run, 'FAILED', this.stopReason(run));
  }

  private stopReason(run: RunRecord): string {
    if (run.stopping === 'deadline') {
      const d = this.jobs.get(run.jobId)?.def.run.restart.activeDeadlineSeconds;
      return `deadline: activeDeadlineSeconds (${d ?? '?'}s) passed after ${run.attempts.length} attempt(s)`;
    }
    return 'stopped';
  }

  private attemptEnded(run: RunRecord, att: Attempt, state: TaskState, exitCode: number | undefined, message: string | undefined, at: number): void {
    att.state = state;
    att.endedAt = at;
    if (exitCode !== undefined) att.exitCode = exitCode;
    if (message) att.message = message;
    if (run.ending) return this.saveRun(run);
    if (state === 'TASK_FINISHED') return this.endRun(run, 'SUCCESS', 'completed');
    if (run.stopping) return this.endRun(run, 'FAILED', this.stopReason(run));
    const def = this.jobs.get(run.jobId)?.def;
    const why = exitCode !== undefined && exitCode !== 0 ? `exit code ${exitCode}` : `${state}${message ? `: ${message}` : ''}`;
    const n = run.attempts.length;
    if (def && def.run.restart.policy === 'ON_FAILURE' && (def.run.maxAttempts === undefined || n < def.run.maxAttempts)) {
      const now = this.clock.now();
      const delay = Math.min(2 ** (n - 1), def.run.maxLaunchDelay) * 1000;
      const deadline = def.run.restart.activeDeadlineSeconds;
      const deadlineAt = deadline !== undefined ? run.createdAt + deadline * 1000 : undefined;
      run.status = 'INITIAL';
      if (deadlineAt !== undefined && now + delay >= deadlineAt) {
        // no attempt fits before the deadline any more; the deadline ends the run
        run.outOfTime = true;
        run.waiting = `attempt ${n} failed (${why}); the next would start after the deadline at ${new Date(deadlineAt).toISOString()}`;
      } else {
        run.nextAttemptAt = now + delay;
        run.waiting = `attempt ${n} failed (${why}); attempt ${n + 1} in ${delay / 1000}s`;
        this.due.set(retryKey(run.id), run.nextAttemptAt);
      }
      this.saveRun(run);
      this.publishJob(run.jobId);
      return;
    }
    this.endRun(run, 'FAILED', n > 1 ? `failed after ${n} attempts: ${why}` : `failed: ${why}`);
  }

  /** Decide a run's outcome; it is applied after the last task's output tails are fetched. */
  private endRun(run: RunRecord, status: 'SUCCESS' | 'FAILED', reason: string): void {
    if (run.ending || isFinished(run)) return;
    run.ending = { status, reason };
    this.pending.delete(run.id);
    this.due.delete(retryKey(run.id));
    this.due.delete(deadlineKey(run.id));
    this.saveRun(run);
    this.finishEnding(run);
  }

  private finishEnding(run: RunRecord): void {
    const last = run.attempts[run.attempts.length - 1];
    if (!last || !this.master.getTask(last.taskId) || !this.master.isAgentConnected(last.agentId)) {
      this.completeRun(run);
      return;
    }
    void this.fetchTails(last.taskId).then((tails) => {
      if (this.stopped || this.runs.get(run.id) !== run || isFinished(run)) return;
      Object.assign(run, tails);
      this.completeRun(run);
      void this.master.commit().catch(() => {});
    });
  }

  private async fetchTails(taskId: string): Promise<{ stdout?: string; stderr?: string }> {
    const one = async (file: 'stdout' | 'stderr'): Promise<string | undefined> => {
      try {
        const r = await this.master.files(taskId, 'read', file, -TAIL_BYTES, TAIL_BYTES);
        return r.ok ? Buffer.from(r.data ?? '', 'base64').toString('utf8') : undefined;
      } catch {
        return undefined;
      }
    };
    // an agent that does not answer must not hold the run (and its dependents) for long
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<[undefined, undefined]>((resolve) => {
      timer = setTimeout(() => resolve([undefined, undefined]), TAIL_FETCH_TIMEOUT_MS);
      timer.unref();
    });
    const [stdout, stderr] = await Promise.race([Promise.all([one('stdout'), one('stderr')]), giveUp]);
    clearTimeout(timer);
    return { ...(stdout !== undefined ? { stdout } : {}), ...(stderr !== undefined ? { stderr } : {}) };
  }

  private completeRun(run: RunRecord): void {
    const outcome = run.ending!;
    const now = this.clock.now();
    const last = run.attempts[run.attempts.length - 1];
    run.status = outcome.status;
    run.reason = outcome.reason;
    run.finishedAt = now;
    delete run.ending;
    delete run.waiting;
    delete run.nextAttemptAt;
    delete run.outOfTime;
    if (last?.exitCode !== undefined) run.exitCode = last.exitCode;
    const state = this.state(run.jobId);
    const st = state.stats;
    if (outcome.status === 'SUCCESS') {
      st.successCount++;
      st.lastSuccessAt = now;
      st.errorsSinceLastSuccess = 0;
      state.successSeq++;
    } else {
      st.failureCount++;
      st.lastFailureAt = now;
      st.errorsSinceLastSuccess++;
    }
    if (run.startedAt !== undefined) {
      st.durations.push(now - run.startedAt);
      if (st.durations.length > DURATION_WINDOW) st.durations.splice(0, st.durations.length - DURATION_WINDOW);
    }
    this.saveState(run.jobId);
    this.saveRun(run);
    this.prune(run.jobId);
    if (outcome.status === 'SUCCESS') this.triggerChildren(run.jobId);
    this.publishJob(run.jobId);
  }

  /** Children whose parents have all succeeded since they last ran get one run each. */
  private triggerChildren(jobId: string): void {
    for (const childId of this.children.get(jobId) ?? []) {
      const child = this.jobs.get(childId);
      if (!child || child.def.disabled) continue;
      const cs = this.state(childId);
      const seqs: Record<string, number> = {};
      let ready = true;
      for (const p of child.def.dependencies) {
        const seq = this.state(p).successSeq;
        seqs[p] = seq;
        if (seq <= (cs.consumed[p] ?? 0)) ready = false;
      }
      if (!ready) continue;
      cs.consumed = seqs;
      this.saveState(childId);
      this.newRun(childId, { trigger: 'dependency', parents: seqs });
    }
  }

  /** Keep the newest `historyLimit` finished runs of a job. */
  private prune(jobId: string): void {
    const finished = this.runsOf(jobId).filter(isFinished);
    for (const r of finished.slice(this.historyLimit)) {
      this.runs.delete(r.id);
      this.runIds(jobId).delete(r.id);
      this.master.deleteDoc(RUNS, r.id);
      if (this.published.delete(`run ${r.id}`)) this.master.publish({ kind: 'jobRun', op: 'delete', id: r.id });
    }
  }

  /** After a restart: runs whose tasks ended (or vanished) while nobody listened move on. */
  private recoverRuns(): void {
    for (const run of [...this.runs.values()]) {
      if (isFinished(run)) continue;
      const def = this.jobs.get(run.jobId)!.def;
      if (run.ending) {
        this.finishEnding(run);
        continue;
      }
      const deadline = def.run.restart.activeDeadlineSeconds;
      if (deadline !== undefined) this.due.set(deadlineKey(run.id), run.createdAt + deadline * 1000);
      const live = liveAttempt(run);
      if (live) {
        const t = this.master.getTask(live.taskId);
        if (!t) this.attemptEnded(run, live, 'TASK_LOST', undefined, 'the master has no record of this task', this.clock.now());
        else if (isTerminal(t.state)) this.attemptEnded(run, live, t.state, t.exitCode, t.message, t.updatedAt);
        else if (run.stopping) this.killTask(live.taskId, def);
        continue;
      }
      if (run.stopping) this.endRun(run, 'FAILED', this.stopReason(run));
      else if (run.nextAttemptAt !== undefined) this.due.set(retryKey(run.id), run.nextAttemptAt);
      else if (!run.outOfTime) this.pending.add(run.id);
    }
  }

  private killTask(taskId: string, def: JobDefinition | undefined): void {
    const grace = def?.run.taskKillGracePeriodSeconds;
    try {
      this.master.kill(JOBS_FRAMEWORK_ID, taskId, grace !== undefined ? grace * 1000 : undefined);
    } catch (err) {
      this.log('warn', `kill of ${taskId} failed: ${String(err)}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Launching

  scheduleTick(): void {
    if (this.tickScheduled || this.stopped) return;
    this.tickScheduled = true;
    setImmediate(() => {
      this.tickScheduled = false;
      if (this.stopped) return;
      try {
        this.tick();
      } catch (err) {
        this.log('error', `jobs tick failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    });
  }

  private tick(): void {
    if (!this.subscribedOnce) return;
    const ready = [...this.pending].map((id) => this.runs.get(id)!).filter((r) => r && !isFinished(r) && !r.ending);
    ready.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    // the master's record is the truth: a restart keeps a framework suppressed until it revives
    const suppressed = this.master.getFramework(JOBS_FRAMEWORK_ID)?.suppressed ?? false;
    if (ready.length && suppressed) this.master.revive(JOBS_FRAMEWORK_ID);
    const offers: PlacementOffer[] = [...this.heldOffers.values()].map((o) => ({
      offerId: o.id,
      agentId: o.agentId,
      hostname: o.hostname,
      attributes: o.attributes,
      resources: o.resources,
    }));
    const launches = new Map<string, Array<{ run: RunRecord; launch: TaskLaunch }>>();
    if (offers.length) {
      for (const run of ready) {
        const def = this.jobs.get(run.jobId)!.def;
        const result = placeInstances(
          offers,
          { cpus: def.run.cpus, mem: def.run.mem, disk: def.run.disk, ports: [], constraints: def.run.constraints, ...(def.run.docker ? { requires: ['docker'] } : {}) },
          [],
          1,
        );
        const p = result.placements[0];
        if (!p) {
          const reasons = Object.entries(result.reasonCounts).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0));
          const text = reasons.length
            ? `waiting: no agent can take it — ${reasons.map(([r, n]) => `${REASON_TEXT[r] ?? r} (${n} offer${n === 1 ? '' : 's'})`).join('; ')}`
            : 'waiting for offers';
          if (run.waiting !== text) {
            run.waiting = text;
            this.saveRun(run);
            this.publishJob(run.jobId);
          }
          continue;
        }
        const offer = offers.find((o) => o.offerId === p.offerId)!;
        offer.resources = subtractResources(offer.resources, p.resources);
        const launch = this.taskLaunch(def, run, p.agentId, p.resources);
        const list = launches.get(p.offerId) ?? [];
        list.push({ run, launch });
        launches.set(p.offerId, list);
        const now = this.clock.now();
        run.attempts.push({ taskId: launch.taskId, agentId: p.agentId, hostname: p.hostname, state: 'TASK_STAGING', launchedAt: now });
        run.startedAt ??= now;
        run.status = 'STARTING';
        delete run.waiting;
        this.pending.delete(run.id);
        // the attempt commits with the task the master creates for it, in this same turn
        this.saveRun(run);
        this.publishJob(run.jobId);
      }
    }
    for (const [offerId, list] of launches) {
      this.heldOffers.delete(offerId);
      this.master
        .accept(
          JOBS_FRAMEWORK_ID,
          [offerId],
          list.map((l) => l.launch),
          0,
        )
        .catch((err: unknown) => {
          this.log('warn', `launch on offer ${offerId} failed: ${err instanceof ApiError ? `${err.message} ${JSON.stringify(err.details)}` : String(err)}`);
          if (this.stopped) return;
          for (const { run, launch } of list) {
            if (this.master.getTask(launch.taskId)) continue;
            run.attempts = run.attempts.filter((a) => a.taskId !== launch.taskId);
            if (!run.attempts.length) delete run.startedAt;
            if (!isFinished(run) && !run.ending) {
              run.status = 'INITIAL';
              if (run.stopping) this.endRun(run, 'FAILED', this.stopReason(run));
              else this.pending.add(run.id);
            }
            this.saveRun(run);
          }
          this.scheduleTick();
        });
    }
    const unused = [...this.heldOffers.keys()];
    this.heldOffers.clear();
    const waiting = this.pending.size > 0;
    if (unused.length) {
      try {
        this.master.decline(JOBS_FRAMEWORK_ID, unused, waiting ? 1 : 5);
      } catch (err) {
        this.log('warn', `decline failed: ${String(err)}`);
      }
    }
    if (!waiting && !this.master.getFramework(JOBS_FRAMEWORK_ID)?.suppressed) this.master.suppress(JOBS_FRAMEWORK_ID);
  }

  private taskLaunch(def: JobDefinition, run: RunRecord, agentId: string, resources: TaskLaunch['resources']): TaskLaunch {
    const attempt = run.attempts.length + 1;
    const taskId = `${def.id.replace(/[^A-Za-z0-9._-]/g, '_')}_${run.id}.${attempt}`;
    const env: Record<string, string> = {
      ...def.run.env,
      YAGURA_JOB_ID: def.id,
      YAGURA_RUN_ID: run.id,
      YAGURA_RUN_ATTEMPT: String(attempt),
      ...(def.origin === 'chronos' ? { CHRONOS_JOB_NAME: def.id, ...(def.chronos?.owner ? { CHRONOS_JOB_OWNER: def.chronos.owner } : {}) } : {}),
    };
    const uris = def.run.artifacts.map((a) => ({ value: a.uri, extract: a.extract, executable: a.executable, cache: a.cache }));
    const command =
      def.run.cmd !== undefined
        ? { value: def.run.cmd, shell: true, env, uris }
        : { value: def.run.args?.[0] ?? 'true', shell: false, args: def.run.args?.slice(1) ?? [], env, uris };
    const grace = def.run.taskKillGracePeriodSeconds;
    return {
      taskId,
      name: def.id,
      agentId,
      resources,
      command: { ...command, ...(def.run.user ? { user: def.run.user } : {}) },
      labels: { ...def.labels, [JOB_ID_LABEL]: def.id, [RUN_ID_LABEL]: run.id },
      ...(grace !== undefined ? { killGracePeriodMs: grace * 1000 } : {}),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Documents, indexes and views

  private state(jobId: string): JobState {
    let s = this.states.get(jobId);
    if (!s) {
      s = { slots: {}, consumed: {}, successSeq: 0, stats: { successCount: 0, failureCount: 0, skippedCount: 0, errorsSinceLastSuccess: 0, durations: [] } };
      this.states.set(jobId, s);
    }
    return s;
  }

  private saveState(jobId: string): void {
    if (this.jobs.has(jobId)) this.master.putDoc(STATE, jobId, this.state(jobId));
  }

  private saveRun(run: RunRecord): void {
    this.master.putDoc(RUNS, run.id, run);
    this.publishDiff(`run ${run.id}`, 'jobRun', run.id, runView(run));
  }

  private publishJob(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (job) this.publishDiff(`job ${jobId}`, 'job', jobId, this.jobView(job));
  }

  /** `put` the first time, then `patch` with only the fields that changed (null: removed). */
  private publishDiff(key: string, kind: 'job' | 'jobRun', id: string, view: JobView | JobRunView): void {
    const json = JSON.stringify(view);
    const before = this.published.get(key);
    if (before === json) return;
    this.published.set(key, json);
    if (!before) {
      if (kind === 'job') this.master.publish({ kind, op: 'put', id, data: view as JobView });
      else this.master.publish({ kind, op: 'put', id, data: view as JobRunView });
      return;
    }
    const old = JSON.parse(before) as Record<string, unknown>;
    const patch: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(view)) if (JSON.stringify(old[k]) !== JSON.stringify(v)) patch[k] = v;
    for (const k of Object.keys(old)) if (!(k in view)) patch[k] = null;
    if (kind === 'job') this.master.publish({ kind, op: 'patch', id, data: patch as Partial<JobView> });
    else this.master.publish({ kind, op: 'patch', id, data: patch as Partial<JobRunView> });
  }

  private runIds(jobId: string): Set<string> {
    let s = this.runsByJob.get(jobId);
    if (!s) this.runsByJob.set(jobId, (s = new Set()));
    return s;
  }

  private indexJob(def: JobDefinition): void {
    for (const p of def.dependencies) {
      let c = this.children.get(p);
      if (!c) this.children.set(p, (c = new Set()));
      c.add(def.id);
    }
  }

  private unindexJob(def: JobDefinition): void {
    for (const p of def.dependencies) this.children.get(p)?.delete(def.id);
  }

  /** Unknown parents and cycles are a 422 naming the entry or the cycle. */
  private checkDependencies(def: JobDefinition): void {
    if (!def.dependencies.length) return;
    const parentsOf = (id: string) => (id === def.id ? def.dependencies : this.jobs.get(id)?.def.dependencies);
    const chronos = def.origin === 'chronos';
    const problems = dependencyProblems(def.id, def.dependencies, parentsOf, chronos ? '/parents' : '/dependencies', (i) => (chronos ? `/parents/${i}` : `/dependencies/${i}/id`));
    if (problems.length) throw invalid('Object is not valid', problems);
  }

  /** Metronome's shape: the UTC time to the second, then 5 random characters. */
  private newRunId(): string {
    const stamp = new Date(this.clock.now()).toISOString().replace(/[-:T]/g, '').slice(0, 14);
    for (;;) {
      let suffix = '';
      for (const b of randomBytes(5)) suffix += 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36];
      const id = `${stamp}${suffix}`;
      if (!this.runs.has(id)) return id;
    }
  }

  private jobView(job: JobRecord): JobView {
    const def = job.def;
    const st = this.stats(def.id);
    const active = [...this.runIds(def.id)].map((id) => this.runs.get(id)!).filter((r) => r && !isFinished(r));
    const lastFinished = this.latestFinished(def.id);
    const oldestWaiting = active.filter((r) => r.waiting).sort((a, b) => a.createdAt - b.createdAt)[0];
    const schedules = def.schedules.map((s) => {
      const next = this.nextRunAt(def.id, s.id);
      return {
        id: s.id,
        kind: s.kind,
        expr: s.expr,
        timezone: s.timezone,
        enabled: s.enabled,
        concurrencyPolicy: s.concurrencyPolicy,
        ...(next !== undefined ? { nextRunAt: next } : {}),
      };
    });
    return {
      id: def.id,
      origin: def.origin,
      ...(def.description !== undefined ? { description: def.description } : {}),
      ...(def.run.cmd !== undefined ? { cmd: def.run.cmd } : def.run.args ? { cmd: def.run.args.join(' ') } : {}),
      cpus: def.run.cpus,
      mem: def.run.mem,
      disk: def.run.disk,
      labels: def.labels,
      schedules,
      dependencies: def.dependencies,
      disabled: def.disabled === true,
      status: active.length ? 'running' : schedules.some((s) => s.nextRunAt !== undefined) ? 'scheduled' : 'idle',
      activeRuns: active.length,
      successCount: st.successCount,
      failureCount: st.failureCount,
      skippedCount: st.skippedCount,
      ...(st.lastSuccessAt !== undefined ? { lastSuccessAt: st.lastSuccessAt } : {}),
      ...(st.lastFailureAt !== undefined ? { lastFailureAt: st.lastFailureAt } : {}),
      ...(lastFinished ? { lastRunStatus: lastFinished.status as 'SUCCESS' | 'FAILED' } : {}),
      ...(st.p50DurationMs !== undefined ? { p50DurationMs: st.p50DurationMs } : {}),
      ...(st.p95DurationMs !== undefined ? { p95DurationMs: st.p95DurationMs } : {}),
      ...(oldestWaiting?.waiting ? { waiting: oldestWaiting.waiting } : {}),
    };
  }

  private latestFinished(jobId: string): RunRecord | undefined {
    let best: RunRecord | undefined;
    for (const id of this.runIds(jobId)) {
      const r = this.runs.get(id)!;
      if (r && isFinished(r) && !r.skipped && (!best || newestFirst(r, best) < 0)) best = r;
    }
    return best;
  }

  private snapshotRuns(): JobRunView[] {
    const out: JobRunView[] = [];
    for (const jobId of this.jobs.keys()) {
      let latest: RunRecord | undefined;
      for (const id of this.runIds(jobId)) {
        const r = this.runs.get(id)!;
        if (!isFinished(r)) out.push(runView(r));
        else if (!latest || newestFirst(r, latest) < 0) latest = r;
      }
      if (latest) out.push(runView(latest));
    }
    return out;
  }
}

export function runView(r: RunRecord): JobRunView {
  const last = r.attempts[r.attempts.length - 1];
  return {
    id: r.id,
    jobId: r.jobId,
    status: r.status,
    trigger: r.trigger,
    ...(r.scheduleId !== undefined ? { scheduleId: r.scheduleId } : {}),
    ...(r.scheduledAt !== undefined ? { scheduledAt: r.scheduledAt } : {}),
    createdAt: r.createdAt,
    ...(r.startedAt !== undefined ? { startedAt: r.startedAt } : {}),
    ...(r.finishedAt !== undefined ? { finishedAt: r.finishedAt } : {}),
    ...(r.finishedAt !== undefined && r.startedAt !== undefined ? { durationMs: r.finishedAt - r.startedAt } : {}),
    attempts: r.attempts.length,
    taskIds: r.attempts.map((a) => a.taskId),
    ...(last ? { agentId: last.agentId, hostname: last.hostname } : {}),
    ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.waiting !== undefined ? { waiting: r.waiting } : {}),
    ...(r.skipped ? { skipped: true } : {}),
  };
}

function liveAttempt(r: RunRecord): Attempt | undefined {
  const last = r.attempts[r.attempts.length - 1];
  return last && last.endedAt === undefined ? last : undefined;
}

function newestFirst(a: RunRecord, b: RunRecord): number {
  return (b.scheduledAt ?? b.createdAt) - (a.scheduledAt ?? a.createdAt) || b.createdAt - a.createdAt || b.id.localeCompare(a.id);
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function fingerprint(s: ScheduleSpec): string {
  return `${s.kind}|${s.expr}|${s.timezone}|${s.enabled}`;
}

const slotKey = (jobId: string, scheduleId: string) => `slot\u0000${jobId}\u0000${scheduleId}`;
const retryKey = (runId: string) => `retry\u0000${runId}`;
const deadlineKey = (runId: string) => `deadline\u0000${runId}`;
