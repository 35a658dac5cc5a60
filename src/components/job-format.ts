// How jobs and runs read on screen: status words and tones, schedules, durations, times ahead.
import { html } from 'lit';
import type { JobRunView, JobView } from '../../protocol/types.js';
import { formatDateTime } from './format.js';
import type { ChipSpec } from './states.js';

/** What a job is doing, in one word: Disabled, Waiting, Running, Scheduled or Idle. */
export type JobState = 'Disabled' | 'Waiting' | 'Running' | 'Scheduled' | 'Idle';
export const JOB_STATES: readonly JobState[] = ['Running', 'Waiting', 'Scheduled', 'Idle', 'Disabled'];

/** How its latest run that ran ended. */
export type JobOutcome = 'Succeeded' | 'Failed' | 'Never run';
export const JOB_OUTCOMES: readonly JobOutcome[] = ['Succeeded', 'Failed', 'Never run'];

export function jobState(job: JobView): JobState {
  if (job.disabled) return 'Disabled';
  if (job.waiting) return 'Waiting';
  if (job.status === 'running') return 'Running';
  if (job.status === 'scheduled') return 'Scheduled';
  return 'Idle';
}

const STATE_TONES: Record<JobState, ChipSpec['tone']> = {
  Running: 'pending',
  Waiting: 'warn',
  Scheduled: 'neutral',
  Idle: 'neutral',
  Disabled: 'neutral',
};

export function jobStateChip(state: JobState): ChipSpec {
  return { label: state, tone: STATE_TONES[state], token: `job-${state.toLowerCase()}` };
}

export function jobOutcome(job: JobView): JobOutcome {
  return job.lastRunStatus === 'SUCCESS' ? 'Succeeded' : job.lastRunStatus === 'FAILED' ? 'Failed' : 'Never run';
}

export function outcomeChip(outcome: JobOutcome): ChipSpec {
  const tone = outcome === 'Succeeded' ? 'ok' : outcome === 'Failed' ? 'error' : 'neutral';
  return { label: outcome, tone, token: `job-outcome-${outcome === 'Never run' ? 'none' : outcome.toLowerCase()}` };
}

/** When the latest run that ran ended (the time that goes with `lastRunStatus`). */
export function lastRunAt(job: JobView): number | undefined {
  return job.lastRunStatus === 'SUCCESS' ? job.lastSuccessAt : job.lastRunStatus === 'FAILED' ? job.lastFailureAt : undefined;
}

/** The earliest armed slot over the job's enabled schedules. */
export function nextRunAt(job: JobView): number | undefined {
  let next: number | undefined;
  for (const s of job.schedules) if (s.enabled && s.nextRunAt !== undefined && (next === undefined || s.nextRunAt < next)) next = s.nextRunAt;
  return next;
}

/** A run's status as a word: Queued, Starting, Running, Succeeded, Failed, Skipped. */
export function runStatusChip(run: Pick<JobRunView, 'status' | 'skipped' | 'waiting'>): ChipSpec {
  if (run.skipped) return { label: 'Skipped', tone: 'warn', token: 'run-skipped' };
  switch (run.status) {
    case 'INITIAL':
      return run.waiting ? { label: 'Waiting', tone: 'warn', token: 'run-waiting' } : { label: 'Queued', tone: 'pending', token: 'run-queued' };
    case 'STARTING':
      return { label: 'Starting', tone: 'pending', token: 'run-starting' };
    case 'ACTIVE':
      return { label: 'Running', tone: 'pending', token: 'run-running' };
    case 'SUCCESS':
      return { label: 'Succeeded', tone: 'ok', token: 'run-succeeded' };
    default:
      return { label: 'Failed', tone: 'error', token: 'run-failed' };
  }
}

/** "850 ms", "12.4 s", "3 min 4 s", "2 h 5 min", "3 d 4 h". */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? Math.round(seconds * 10) / 10 : Math.round(seconds)} s`;
  const total = Math.round(seconds);
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes} min${total % 60 ? ` ${total % 60} s` : ''}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

/** "in 5 s", "in 3 min", "in 2 h", "in 4 d"; "due now" for a slot that is (about to be) due. */
export function formatIn(at: number, now: number): string {
  const seconds = Math.floor((at - now) / 1000);
  if (seconds < 1) return 'due now';
  if (seconds < 60) return `in ${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `in ${hours} h`;
  return `in ${Math.floor(hours / 24)} d`;
}

/** "in 3 min", with the absolute time in the title and a machine-readable datetime. */
export function timeUntil(at: number | undefined, now: number) {
  if (at === undefined || !Number.isFinite(at)) return html`<span class="muted">—</span>`;
  return html`<time datetime=${new Date(at).toISOString()} title=${formatDateTime(at)}>${formatIn(at, now)}</time>`;
}

/** `/jobs/prod.backup`: the dashboard's page of a job. */
export const jobHref = (id: string) => `/jobs/${encodeURIComponent(id)}`;

/** `/jobs/prod.backup?run=…`: a job's page with one run's output open. */
export const runHref = (jobId: string, runId: string) => `${jobHref(jobId)}?run=${encodeURIComponent(runId)}`;
