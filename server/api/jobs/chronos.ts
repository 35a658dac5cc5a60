// Chronos-compatible REST API under /v1/scheduler: the same jobs as /v1/jobs, in Chronos' JSON.
// Chronos answers writes with 204; invalid input is a 422 with paths like every Yagura API
// (Chronos itself sent a bare 400).

import type { FastifyInstance } from 'fastify';
import { badRequest, invalid, isRecord } from '../errors.js';
import { parseChronosJob, toChronosJob, type JobDefinition } from '../../frameworks/jobs/definition.js';
import { isFinished, type JobsFramework } from '../../frameworks/jobs/jobs.js';
import { toDot } from '../../frameworks/jobs/graph.js';

export function registerChronosApi(http: FastifyInstance, jobs: JobsFramework, now: () => number): void {
  const chronosJson = (def: JobDefinition) => {
    const s = jobs.stats(def.id);
    return toChronosJob(def, {
      successCount: s.successCount,
      errorCount: s.failureCount,
      errorsSinceLastSuccess: s.errorsSinceLastSuccess,
      ...(s.lastSuccessAt !== undefined ? { lastSuccessAt: s.lastSuccessAt } : {}),
      ...(s.lastFailureAt !== undefined ? { lastErrorAt: s.lastFailureAt } : {}),
    });
  };

  const add = (endpoint: 'iso8601' | 'dependency') => async (req: { body: unknown }, reply: { code(n: number): unknown }) => {
    if (!isRecord(req.body)) throw badRequest('body must be a JSON object');
    const r = parseChronosJob(req.body, endpoint, now());
    if (!r.ok) throw invalid('Object is not valid', r.details);
    await jobs.upsertJob(r.value);
    reply.code(204);
    return null;
  };
  http.post('/v1/scheduler/iso8601', add('iso8601'));
  http.post('/v1/scheduler/dependency', add('dependency'));

  http.get('/v1/scheduler/jobs', async () => jobs.listJobs().map((j) => chronosJson(j.def)));

  http.get('/v1/scheduler/jobs/search', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const has = (text: string | undefined, term: string | undefined) => term === undefined || (text ?? '').toLowerCase().includes(term.toLowerCase());
    return jobs
      .listJobs()
      .map((j) => chronosJson(j.def))
      .filter((j) => {
        const name = j.name as string;
        const command = j.command as string;
        return has(name, q.name) && has(command, q.command) && (q.any === undefined || has(name, q.any) || has(command, q.any));
      });
  });

  http.put('/v1/scheduler/job/:name', async (req, reply) => {
    const { name } = req.params as { name: string };
    await jobs.runNow(name);
    reply.code(204);
    return null;
  });

  http.delete('/v1/scheduler/job/:name', async (req, reply) => {
    const { name } = req.params as { name: string };
    await jobs.deleteJob(name, { stopCurrentJobRuns: true });
    reply.code(204);
    return null;
  });

  http.delete('/v1/scheduler/task/kill/:name', async (req, reply) => {
    const { name } = req.params as { name: string };
    jobs.requireJob(name);
    for (const r of jobs.activeRunsOf(name)) await jobs.stopRun(name, r.id);
    reply.code(204);
    return null;
  });

  http.get('/v1/scheduler/graph/dot', async (_req, reply) => {
    const dot = toDot(
      jobs.listJobs().map((j) => {
        const last = jobs.runsOf(j.def.id).find((r) => isFinished(r) && !r.skipped);
        return { id: j.def.id, parents: j.def.dependencies, last: last ? (last.status === 'SUCCESS' ? 'success' : 'failure') : undefined };
      }),
    );
    reply.header('content-type', 'text/plain; charset=utf-8');
    return dot;
  });
}
