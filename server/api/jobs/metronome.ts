// Metronome (DC/OS Jobs) REST API: /v1/jobs, their runs and schedules, in Metronome's JSON.
//
// Departures from Metronome, on purpose:
// - a finished run stays readable at /v1/jobs/{id}/runs/{runId} (with its output tails) until
//   history retention drops it; Metronome answers 404 once a run has finished;
// - GET /v1/jobs/{id}/runs lists active runs as Metronome does; `?all=true` adds the history;
// - schedules may be FORBID (Metronome's schema only allows ALLOW) and carry `nextRunAt`.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, invalid, isRecord, notFound, Problems } from '../errors.js';
import { isoTime, parseMetronomeJob, parseMetronomeSchedule, toMetronomeJob, toMetronomeSchedule, type JobDefinition } from '../../frameworks/jobs/definition.js';
import { isFinished, type JobsFramework, type RunRecord } from '../../frameworks/jobs/jobs.js';

type Params = { id: string; runId: string; scheduleId: string };

const EMBEDS = new Set(['activeRuns', 'history', 'historySummary', 'schedules']);

export function registerMetronomeApi(http: FastifyInstance, jobs: JobsFramework): void {
  const embedsOf = (req: FastifyRequest): Set<string> => {
    const raw = (req.query as Record<string, unknown>).embed;
    const list = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean);
    const bad = list.filter((e) => !EMBEDS.has(e));
    if (bad.length) throw badRequest(`unknown embed ${bad.join(', ')}`, [{ path: '?embed', errors: [`use ${[...EMBEDS].join(', ')}`] }]);
    return new Set(list);
  };

  const jobJson = (id: string, embeds: Set<string>, withOutput = false): Record<string, unknown> => {
    const job = jobs.requireJob(id);
    const out: Record<string, unknown> = toMetronomeJob(job.def);
    if (embeds.has('schedules')) out.schedules = schedulesJson(jobs, job.def);
    if (embeds.has('activeRuns')) out.activeRuns = jobs.activeRunsOf(id).map((r) => runJson(r, false));
    if (embeds.has('history') || embeds.has('historySummary')) {
      const s = jobs.stats(id);
      const summary = {
        successCount: s.successCount,
        failureCount: s.failureCount,
        skippedCount: s.skippedCount,
        lastSuccessAt: s.lastSuccessAt !== undefined ? isoTime(s.lastSuccessAt) : null,
        lastFailureAt: s.lastFailureAt !== undefined ? isoTime(s.lastFailureAt) : null,
        p50DurationSeconds: s.p50DurationMs !== undefined ? s.p50DurationMs / 1000 : null,
        p95DurationSeconds: s.p95DurationMs !== undefined ? s.p95DurationMs / 1000 : null,
      };
      if (embeds.has('historySummary')) out.historySummary = summary;
      if (embeds.has('history')) {
        const finished = jobs.runsOf(id).filter(isFinished);
        out.history = {
          ...summary,
          successfulFinishedRuns: finished.filter((r) => r.status === 'SUCCESS').map((r) => historyJson(r, withOutput)),
          failedFinishedRuns: finished.filter((r) => r.status === 'FAILED').map((r) => historyJson(r, withOutput)),
        };
      }
    }
    return out;
  };

  http.get('/v1/jobs', async (req) => {
    const embeds = embedsOf(req);
    return jobs.listJobs().map((j) => jobJson(j.def.id, embeds));
  });

  http.post('/v1/jobs', async (req, reply) => {
    const def = parseJob(req.body);
    await jobs.createJob(def);
    reply.code(201);
    return jobJson(def.id, new Set(def.schedules.length ? ['schedules'] : []));
  });

  http.get('/v1/jobs/:id', async (req) => {
    const { id } = req.params as Params;
    return jobJson(id, embedsOf(req), true);
  });

  http.put('/v1/jobs/:id', async (req) => {
    const { id } = req.params as Params;
    const body = req.body;
    if (!isRecord(body)) throw badRequest('body must be a JSON object');
    if (body.id !== undefined && body.id !== id) throw invalid('Object is not valid', [{ path: '/id', errors: [`must be '${id}', the job in the URL`] }]);
    const existing = jobs.requireJob(id);
    const def = parseJob({ ...body, id });
    // a spec without schedules keeps the job's schedules (they have their own endpoints)
    const keep: JobDefinition = body.schedules === undefined ? { ...def, schedules: existing.def.schedules } : def;
    await jobs.replaceJob(keep);
    return jobJson(id, new Set(keep.schedules.length ? ['schedules'] : []));
  });

  http.delete('/v1/jobs/:id', async (req) => {
    const { id } = req.params as Params;
    const q = req.query as Record<string, string | undefined>;
    const json = jobJson(id, new Set());
    await jobs.deleteJob(id, { stopCurrentJobRuns: q.stopCurrentJobRuns === 'true' });
    return json;
  });

  // runs
  http.get('/v1/jobs/:id/runs', async (req) => {
    const { id } = req.params as Params;
    jobs.requireJob(id);
    const all = (req.query as Record<string, string | undefined>).all === 'true';
    return (all ? jobs.runsOf(id) : jobs.activeRunsOf(id)).map((r) => runJson(r, false));
  });

  http.post('/v1/jobs/:id/runs', async (req, reply) => {
    const { id } = req.params as Params;
    const run = await jobs.runNow(id);
    reply.code(201);
    return runJson(run, false);
  });

  http.get('/v1/jobs/:id/runs/:runId', async (req) => {
    const { id, runId } = req.params as Params;
    return runJson(jobs.requireRun(id, runId), true);
  });

  const stop = async (req: FastifyRequest) => {
    const { id, runId } = req.params as Params;
    return runJson(await jobs.stopRun(id, runId), false);
  };
  http.post('/v1/jobs/:id/runs/:runId/actions/stop', stop);
  // Metronome's RAML spells it in the singular
  http.post('/v1/jobs/:id/runs/:runId/action/stop', stop);

  // schedules
  http.get('/v1/jobs/:id/schedules', async (req) => {
    const { id } = req.params as Params;
    return schedulesJson(jobs, jobs.requireJob(id).def);
  });

  http.post('/v1/jobs/:id/schedules', async (req, reply) => {
    const { id } = req.params as Params;
    jobs.requireJob(id);
    const spec = parseSchedule(req.body);
    await jobs.putSchedule(id, spec, 'create');
    reply.code(201);
    return toMetronomeSchedule(spec, jobs.nextRunAt(id, spec.id));
  });

  http.get('/v1/jobs/:id/schedules/:scheduleId', async (req) => {
    const { id, scheduleId } = req.params as Params;
    const s = jobs.requireJob(id).def.schedules.find((x) => x.id === scheduleId);
    if (!s) throw notFoundSchedule(scheduleId);
    return toMetronomeSchedule(s, jobs.nextRunAt(id, s.id));
  });

  http.put('/v1/jobs/:id/schedules/:scheduleId', async (req) => {
    const { id, scheduleId } = req.params as Params;
    jobs.requireJob(id);
    const body = req.body;
    if (!isRecord(body)) throw badRequest('body must be a JSON object');
    if (body.id !== undefined && body.id !== scheduleId) throw invalid('Object is not valid', [{ path: '/id', errors: [`must be '${scheduleId}', the schedule in the URL`] }]);
    const spec = parseSchedule({ ...body, id: scheduleId });
    await jobs.putSchedule(id, spec, 'replace');
    return toMetronomeSchedule(spec, jobs.nextRunAt(id, spec.id));
  });

  http.delete('/v1/jobs/:id/schedules/:scheduleId', async (req) => {
    const { id, scheduleId } = req.params as Params;
    await jobs.deleteSchedule(id, scheduleId);
    return {};
  });
}

function parseJob(body: unknown): JobDefinition {
  if (!isRecord(body)) throw badRequest('body must be a JSON object');
  const r = parseMetronomeJob(body);
  if (!r.ok) throw invalid('Object is not valid', r.details);
  return r.value;
}

function parseSchedule(body: unknown) {
  if (!isRecord(body)) throw badRequest('body must be a JSON object');
  const p = new Problems();
  const spec = parseMetronomeSchedule(body, '', p);
  // a schedule posted on its own has paths relative to itself: /cron, /timezone
  p.throwIfAny();
  return spec!;
}

function notFoundSchedule(id: string) {
  return notFound(`Schedule '${id}' does not exist`, [{ path: '/scheduleId', errors: ['unknown schedule'] }]);
}

function schedulesJson(jobs: JobsFramework, def: JobDefinition): Array<Record<string, unknown>> {
  return def.schedules.map((s) => toMetronomeSchedule(s, jobs.nextRunAt(def.id, s.id)));
}

export function runJson(r: RunRecord, withOutput: boolean): Record<string, unknown> {
  const last = r.attempts[r.attempts.length - 1];
  return {
    id: r.id,
    jobId: r.jobId,
    status: r.status,
    createdAt: isoTime(r.createdAt),
    completedAt: r.finishedAt !== undefined ? isoTime(r.finishedAt) : null,
    tasks: r.attempts.map((a) => ({
      id: a.taskId,
      status: a.state,
      startedAt: a.startedAt !== undefined ? isoTime(a.startedAt) : null,
      completedAt: a.endedAt !== undefined ? isoTime(a.endedAt) : null,
      agentId: a.agentId,
      hostname: a.hostname,
      ...(a.exitCode !== undefined ? { exitCode: a.exitCode } : {}),
      ...(a.message ? { message: a.message } : {}),
    })),
    trigger: r.trigger,
    ...(r.scheduleId !== undefined ? { scheduleId: r.scheduleId } : {}),
    ...(r.scheduledAt !== undefined ? { scheduledAt: isoTime(r.scheduledAt) } : {}),
    ...(r.startedAt !== undefined ? { startedAt: isoTime(r.startedAt) } : {}),
    ...(r.finishedAt !== undefined ? { finishedAt: isoTime(r.finishedAt) } : {}),
    ...(r.finishedAt !== undefined && r.startedAt !== undefined ? { durationSeconds: (r.finishedAt - r.startedAt) / 1000 } : {}),
    attempts: r.attempts.length,
    ...(last ? { agentId: last.agentId, hostname: last.hostname } : {}),
    ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.waiting !== undefined ? { waiting: r.waiting } : {}),
    ...(r.skipped ? { skipped: true } : {}),
    ...(withOutput && r.stdout !== undefined ? { stdout: r.stdout } : {}),
    ...(withOutput && r.stderr !== undefined ? { stderr: r.stderr } : {}),
  };
}

/** A finished run as Metronome's history lists it, with Yagura's extra fields. */
function historyJson(r: RunRecord, withOutput: boolean): Record<string, unknown> {
  return {
    id: r.id,
    createdAt: isoTime(r.createdAt),
    finishedAt: isoTime(r.finishedAt ?? r.createdAt),
    tasks: r.attempts.map((a) => a.taskId),
    status: r.status,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
    ...(r.finishedAt !== undefined && r.startedAt !== undefined ? { durationSeconds: (r.finishedAt - r.startedAt) / 1000 } : {}),
    ...(r.scheduledAt !== undefined ? { scheduledAt: isoTime(r.scheduledAt) } : {}),
    ...(r.skipped ? { skipped: true } : {}),
    ...(withOutput && r.stdout !== undefined ? { stdout: r.stdout } : {}),
    ...(withOutput && r.stderr !== undefined ? { stderr: r.stderr } : {}),
  };
}
