// Metronome's /v1/jobs API as the dashboard uses it: commands (run now, stop a run, remove) and
// the reads the stream does not carry (the retained run history, a run's output, the
// definition). Live state (status, next run, active runs, counters) comes from the store.
import type { JobRunStatus, JobRunView } from '../../protocol/types.js';
import type { Api } from '../state/api.js';

/** A job definition as Metronome prints and takes it. */
export type JobDefinition = Record<string, unknown> & { id?: string };

/** One task of a run as the API prints it: one per attempt, oldest first. */
export interface RunTask {
  id: string;
  status: string;
  startedAt: string | null;
  completedAt: string | null;
  agentId?: string;
  hostname?: string;
  exitCode?: number;
  message?: string;
}

/** A run as GET /v1/jobs/{id}/runs[/{runId}] prints it (times are ISO strings). */
export interface RunJson {
  id: string;
  jobId: string;
  status: JobRunStatus;
  createdAt: string;
  completedAt: string | null;
  tasks: RunTask[];
  trigger: JobRunView['trigger'];
  scheduleId?: string;
  scheduledAt?: string;
  startedAt?: string;
  finishedAt?: string;
  durationSeconds?: number;
  attempts: number;
  agentId?: string;
  hostname?: string;
  exitCode?: number;
  reason?: string;
  waiting?: string;
  skipped?: boolean;
  stdout?: string;
  stderr?: string;
}

/** The tails of a finished run's last task, kept by the master (up to 64 KiB each). */
export interface RunOutput {
  stdout?: string;
  stderr?: string;
}

/** `prod.backup` → `/v1/jobs/prod.backup`; Chronos names may hold spaces and `#`. */
export function jobPath(id: string): string {
  return `/v1/jobs/${encodeURIComponent(id)}`;
}

const runPath = (jobId: string, runId: string) => `${jobPath(jobId)}/runs/${encodeURIComponent(runId)}`;

const ms = (iso: string | null | undefined): number | undefined => {
  if (!iso) return undefined;
  const at = Date.parse(iso);
  return Number.isFinite(at) ? at : undefined;
};

/** The REST shape in the stream's shape, so one component shows runs from either source. */
export function runViewOf(r: RunJson): JobRunView {
  const scheduledAt = ms(r.scheduledAt);
  const startedAt = ms(r.startedAt);
  const finishedAt = ms(r.finishedAt ?? r.completedAt);
  const view: JobRunView = {
    id: r.id,
    jobId: r.jobId,
    status: r.status,
    trigger: r.trigger,
    createdAt: ms(r.createdAt) ?? 0,
    attempts: r.attempts ?? r.tasks?.length ?? 0,
    taskIds: (r.tasks ?? []).map((t) => t.id),
  };
  if (r.scheduleId !== undefined) view.scheduleId = r.scheduleId;
  if (scheduledAt !== undefined) view.scheduledAt = scheduledAt;
  if (startedAt !== undefined) view.startedAt = startedAt;
  if (finishedAt !== undefined) view.finishedAt = finishedAt;
  if (r.durationSeconds !== undefined) view.durationMs = Math.round(r.durationSeconds * 1000);
  if (r.agentId !== undefined) view.agentId = r.agentId;
  if (r.hostname !== undefined) view.hostname = r.hostname;
  if (r.exitCode !== undefined) view.exitCode = r.exitCode;
  if (r.reason !== undefined) view.reason = r.reason;
  if (r.waiting !== undefined) view.waiting = r.waiting;
  if (r.skipped) view.skipped = true;
  return view;
}

export function isFinishedRun(run: Pick<JobRunView, 'status'>): boolean {
  return run.status === 'SUCCESS' || run.status === 'FAILED';
}

/** Newest first, as the master orders them: by slot (or creation), then creation, then id. */
export function newestRunFirst(a: JobRunView, b: JobRunView): number {
  return (b.scheduledAt ?? b.createdAt) - (a.scheduledAt ?? a.createdAt) || b.createdAt - a.createdAt || b.id.localeCompare(a.id);
}

/**
 * The retained history (from REST, fetched once) merged with the runs the stream carries (live):
 * where both know a run, the stream's copy is the newer one.
 */
export function mergeRuns(history: readonly JobRunView[], live: Iterable<JobRunView>, jobId: string): JobRunView[] {
  const byId = new Map<string, JobRunView>();
  for (const run of history) if (run.jobId === jobId) byId.set(run.id, run);
  for (const run of live) if (run.jobId === jobId) byId.set(run.id, run);
  return [...byId.values()].sort(newestRunFirst);
}

/** Every retained run of a job, active and finished, newest first (without output). */
export async function listRuns(api: Api, jobId: string, signal?: AbortSignal): Promise<JobRunView[]> {
  const runs = await api.request<RunJson[]>(`${jobPath(jobId)}/runs?all=true`, { signal });
  return (runs ?? []).map(runViewOf).sort(newestRunFirst);
}

/** One run with its output tails (present once the run has finished). */
export async function getRunOutput(api: Api, jobId: string, runId: string, signal?: AbortSignal): Promise<RunOutput & { run: JobRunView }> {
  const r = await api.request<RunJson>(runPath(jobId, runId), { signal });
  return { run: runViewOf(r), ...(r.stdout !== undefined ? { stdout: r.stdout } : {}), ...(r.stderr !== undefined ? { stderr: r.stderr } : {}) };
}

/** Starts a run now, whatever the schedule says; the run's progress arrives over the stream. */
export async function runJobNow(api: Api, jobId: string): Promise<JobRunView> {
  return runViewOf(await api.request<RunJson>(`${jobPath(jobId)}/runs`, { method: 'POST', body: {} }));
}

/** Kills the run's task; the run ends FAILED with reason `stopped`. */
export function stopRun(api: Api, jobId: string, runId: string): Promise<unknown> {
  return api.request(`${runPath(jobId, runId)}/actions/stop`, { method: 'POST', body: {} });
}

/** The definition with its schedules, as Metronome prints it. */
export function getJob(api: Api, jobId: string, signal?: AbortSignal): Promise<JobDefinition> {
  return api.request<JobDefinition>(`${jobPath(jobId)}?embed=schedules`, { signal });
}

/** Removes the job and its history; active runs are stopped when asked to (else a 409). */
export function removeJob(api: Api, jobId: string, options: { stopCurrentJobRuns?: boolean } = {}): Promise<unknown> {
  return api.request(`${jobPath(jobId)}${options.stopCurrentJobRuns ? '?stopCurrentJobRuns=true' : ''}`, { method: 'DELETE' });
}
