// The jobs APIs (Metronome /v1/jobs, Chronos /v1/scheduler) on the master's fastify instance.
// Registering them also starts the jobs framework and stops it when the server closes, so that
// build() needs a single line for jobs.

import type { FastifyInstance } from 'fastify';
import type { Master } from '../../master/master.js';
import type { JobsFramework } from '../../frameworks/jobs/jobs.js';
import { registerChronosApi } from './chronos.js';
import { registerMetronomeApi } from './metronome.js';

export interface JobsApiDeps {
  master: Master;
  jobs: JobsFramework;
}

export async function registerJobsApi(http: FastifyInstance, deps: JobsApiDeps): Promise<JobsFramework> {
  const { jobs } = deps;
  registerMetronomeApi(http, jobs);
  registerChronosApi(http, jobs, () => Date.now());
  http.addHook('onClose', async () => jobs.stop());
  await jobs.start();
  return jobs;
}
