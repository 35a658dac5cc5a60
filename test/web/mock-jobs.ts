// Builders for the job and run views the dashboard's job tests need.
import type { JobRunView, JobView } from '../../protocol/types.js';

export const NOW = Date.parse('2026-01-01T12:00:00Z');

export function mockJob(overrides: Partial<JobView> & { id: string }): JobView {
  return {
    origin: 'metronome',
    cmd: 'echo hi',
    cpus: 0.5,
    mem: 64,
    disk: 0,
    labels: {},
    schedules: [],
    dependencies: [],
    disabled: false,
    status: 'idle',
    activeRuns: 0,
    successCount: 0,
    failureCount: 0,
    skippedCount: 0,
    ...overrides,
  };
}

export function mockRun(overrides: Partial<JobRunView> & { id: string; jobId: string }): JobRunView {
  return {
    status: 'SUCCESS',
    trigger: 'manual',
    createdAt: NOW - 60_000,
    attempts: 1,
    taskIds: [`${overrides.jobId}_${overrides.id}.1`],
    ...overrides,
  };
}

/** A run as GET /v1/jobs/{id}/runs prints it. */
export function runJson(run: JobRunView, output: { stdout?: string; stderr?: string } = {}): Record<string, unknown> {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    id: run.id,
    jobId: run.jobId,
    status: run.status,
    createdAt: iso(run.createdAt),
    completedAt: iso(run.finishedAt) ?? null,
    tasks: run.taskIds.map((id) => ({ id, status: 'TASK_FINISHED', startedAt: iso(run.startedAt) ?? null, completedAt: iso(run.finishedAt) ?? null })),
    trigger: run.trigger,
    ...(run.startedAt !== undefined ? { startedAt: iso(run.startedAt) } : {}),
    ...(run.finishedAt !== undefined ? { finishedAt: iso(run.finishedAt) } : {}),
    ...(run.durationMs !== undefined ? { durationSeconds: run.durationMs / 1000 } : {}),
    attempts: run.attempts,
    ...(run.agentId ? { agentId: run.agentId, hostname: run.hostname } : {}),
    ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
    ...(run.reason !== undefined ? { reason: run.reason } : {}),
    ...(run.skipped ? { skipped: true } : {}),
    ...output,
  };
}
