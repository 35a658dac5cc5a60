// Jobs end to end: real processes on a real in-process agent, driven over the Metronome and
// Chronos APIs. Run now, output in history, ON_FAILURE retries until the deadline, NEVER,
// stop, deadline kill, waiting reasons, and Chronos dependencies (once per completion of all parents).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { servicesCluster, type ServicesCluster } from '../support/services.js';
import { waitFor } from '../support/cluster.js';

type Json = any;

describe('jobs on a real agent', { timeout: 120_000 }, () => {
  let c: ServicesCluster;
  let call: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Json }>;

  const runToEnd = (jobId: string, runId: string): Promise<Json> =>
    waitFor(
      async () => {
        const r = await call('GET', `/v1/jobs/${encodeURIComponent(jobId)}/runs/${runId}`);
        return r.status === 200 && (r.body.status === 'SUCCESS' || r.body.status === 'FAILED') && r.body;
      },
      30_000,
      `run ${runId} of ${jobId} to end`,
    );

  const runNow = async (jobId: string): Promise<Json> => {
    const r = await call('POST', `/v1/jobs/${encodeURIComponent(jobId)}/runs`, {});
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };

  before(async () => {
    c = await servicesCluster();
    await c.addAgent('jobs-node', { attributes: { rack: 'r1' }, resources: { cpus: 4, mem: 2048, disk: 1000 } });
    await waitFor(() => c.m.master.listAgents().length === 1, 10_000, 'agent');
    call = async (method, path, body) => {
      const res = await fetch(`${c.m.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${c.m.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
  });

  after(async () => {
    await c.dispose();
  });

  it('a run now succeeds and its output is in the history', async () => {
    const created = await call('POST', '/v1/jobs', {
      id: 'e2e.hello',
      run: { cmd: 'echo "hello from $YAGURA_JOB_ID run $YAGURA_RUN_ID"; echo "to stderr" >&2', cpus: 0.1, mem: 32, placement: { constraints: [{ attribute: 'rack', operator: 'IS', value: 'r1' }] } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const run = await runNow('e2e.hello');
    assert.match(run.id, /^\d{14}[a-z0-9]{5}$/);
    assert.equal(run.status, 'INITIAL');

    const done = await runToEnd('e2e.hello', run.id);
    assert.equal(done.status, 'SUCCESS');
    assert.equal(done.reason, 'completed');
    assert.equal(done.exitCode, 0);
    assert.equal(done.hostname, 'jobs-node');
    assert.equal(done.tasks.length, 1);
    assert.equal(done.tasks[0].status, 'TASK_FINISHED');
    assert.equal(done.stdout, `hello from e2e.hello run ${run.id}\n`);
    assert.match(done.stderr, /^to stderr\n/);
    assert.equal(typeof done.durationSeconds, 'number');

    const job = await call('GET', '/v1/jobs/e2e.hello?embed=history&embed=historySummary&embed=activeRuns');
    assert.equal(job.body.activeRuns.length, 0);
    assert.equal(job.body.history.successCount, 1);
    assert.equal(job.body.history.failureCount, 0);
    assert.equal(job.body.history.failedFinishedRuns.length, 0);
    const entry = job.body.history.successfulFinishedRuns[0];
    assert.equal(entry.id, run.id);
    assert.deepEqual(entry.tasks, [done.tasks[0].id]);
    assert.equal(entry.stdout, done.stdout);
    assert.equal(job.body.historySummary.successCount, 1);
    assert.notEqual(job.body.historySummary.lastSuccessAt, null);
    assert.equal(typeof job.body.historySummary.p50DurationSeconds, 'number');
    assert.equal(typeof job.body.historySummary.p95DurationSeconds, 'number');
    // the task carries the job and run labels
    const task = c.m.master.getTask(done.tasks[0].id)!;
    assert.equal(task.labels.YAGURA_JOB_ID, 'e2e.hello');
    assert.equal(task.labels.YAGURA_RUN_ID, run.id);
  });

  it('ON_FAILURE retries with backoff (attempts visible) and ends FAILED after activeDeadlineSeconds', async () => {
    const created = await call('POST', '/v1/jobs', {
      id: 'e2e.flaky',
      run: { cmd: 'echo "attempt $YAGURA_RUN_ATTEMPT"; exit 3', cpus: 0.1, mem: 32, restart: { policy: 'ON_FAILURE', activeDeadlineSeconds: 4 } },
    });
    assert.equal(created.status, 201);
    const run = await runNow('e2e.flaky');
    // while it retries, the run says so
    const retrying = await waitFor(async () => {
      const r = await call('GET', `/v1/jobs/e2e.flaky/runs/${run.id}`);
      return r.body.attempts >= 1 && r.body.status === 'INITIAL' && r.body.waiting && r.body;
    }, 15_000, 'a retry to be pending');
    assert.match(retrying.waiting, /attempt 1 failed \(exit code 3\)|waiting for offers \(attempt 2\)/);

    const done = await runToEnd('e2e.flaky', run.id);
    assert.equal(done.status, 'FAILED');
    assert.ok(done.tasks.length >= 2, `retried: ${done.tasks.length} attempt(s)`);
    assert.equal(new Set(done.tasks.map((t: Json) => t.id)).size, done.tasks.length, 'one task per attempt');
    const last = done.tasks[done.tasks.length - 1];
    for (const t of done.tasks.slice(0, -1)) {
      assert.equal(t.status, 'TASK_FAILED');
      assert.equal(t.exitCode, 3);
    }
    // the last attempt either failed on its own or was still starting when the deadline killed it
    assert.ok(last.status === 'TASK_FAILED' || last.status === 'TASK_KILLED', last.status);
    // backoff: each retry waited at least 1 s, then 2 s, after the previous attempt ended
    for (let i = 1; i < done.tasks.length; i++) {
      const prevEnd = Date.parse(done.tasks[i - 1].completedAt);
      const next = Date.parse(done.tasks[i].startedAt);
      assert.ok(next - prevEnd >= 1000 * 2 ** (i - 1) - 50, `attempt ${i + 1} started ${next - prevEnd} ms after attempt ${i} ended`);
    }
    assert.match(done.reason, /^deadline: activeDeadlineSeconds \(4s\)/);
    assert.ok(Date.parse(done.completedAt) - Date.parse(done.createdAt) >= 4000, 'it ends at the deadline, not before');
    if (last.status === 'TASK_FAILED') assert.equal(done.stdout, `attempt ${done.tasks.length}\n`, 'the output of the last attempt');
    const summary = (await call('GET', '/v1/jobs/e2e.flaky?embed=historySummary')).body.historySummary;
    assert.equal(summary.failureCount, 1);
  });

  it('NEVER does not retry', async () => {
    await call('POST', '/v1/jobs', { id: 'e2e.once', run: { cmd: 'exit 2', cpus: 0.1, mem: 32, restart: { policy: 'NEVER' } } });
    const run = await runNow('e2e.once');
    const done = await runToEnd('e2e.once', run.id);
    assert.equal(done.status, 'FAILED');
    assert.equal(done.tasks.length, 1);
    assert.equal(done.exitCode, 2);
    assert.equal(done.reason, 'failed: exit code 2');
    const tasks = c.m.master.listTasks().filter((t) => t.labels.YAGURA_JOB_ID === 'e2e.once');
    assert.equal(tasks.length, 1);
  });

  it('stop kills the task of an active run; activeDeadlineSeconds kills a run that takes too long', async () => {
    await call('POST', '/v1/jobs', { id: 'e2e.sleeper', run: { cmd: 'sleep 60', cpus: 0.1, mem: 32, taskKillGracePeriodSeconds: 1 } });
    const run = await runNow('e2e.sleeper');
    await waitFor(async () => (await call('GET', `/v1/jobs/e2e.sleeper/runs/${run.id}`)).body.status === 'ACTIVE', 15_000, 'ACTIVE');
    const active = await call('GET', '/v1/jobs/e2e.sleeper/runs');
    assert.deepEqual(active.body.map((r: Json) => r.id), [run.id]);
    const stop = await call('POST', `/v1/jobs/e2e.sleeper/runs/${run.id}/actions/stop`, {});
    assert.equal(stop.status, 200);
    const stopped = await runToEnd('e2e.sleeper', run.id);
    assert.equal(stopped.status, 'FAILED');
    assert.equal(stopped.reason, 'stopped');
    assert.equal(c.m.master.getTask(stopped.tasks[0].id)!.state, 'TASK_KILLED');

    await call('POST', '/v1/jobs', { id: 'e2e.overtime', run: { cmd: 'sleep 60', cpus: 0.1, mem: 32, taskKillGracePeriodSeconds: 1, restart: { policy: 'ON_FAILURE', activeDeadlineSeconds: 3 } } });
    const slow = await runNow('e2e.overtime');
    await waitFor(async () => (await call('GET', `/v1/jobs/e2e.overtime/runs/${slow.id}`)).body.status === 'ACTIVE', 15_000, 'ACTIVE before the deadline');
    const killed = await runToEnd('e2e.overtime', slow.id);
    assert.equal(killed.status, 'FAILED');
    assert.match(killed.reason, /^deadline/);
    assert.equal(killed.tasks.length, 1, 'the deadline is not retried');
    assert.equal(c.m.master.getTask(killed.tasks[0].id)!.state, 'TASK_KILLED');
  });

  it('a run whose offers never fit says why', async () => {
    await call('POST', '/v1/jobs', { id: 'e2e.huge', run: { cmd: 'true', cpus: 64, mem: 32 } });
    await call('POST', '/v1/jobs', { id: 'e2e.docker', run: { docker: { image: 'busybox' }, cmd: 'true', cpus: 0.1, mem: 32 } });
    const huge = await runNow('e2e.huge');
    const docker = await runNow('e2e.docker');
    const waitingHuge = await waitFor(async () => {
      const r = await call('GET', `/v1/jobs/e2e.huge/runs/${huge.id}`);
      return /no agent can take it/.test(r.body.waiting ?? '') && r.body;
    }, 10_000, 'waiting reason');
    assert.match(waitingHuge.waiting, /not enough free cpus/);
    assert.equal(waitingHuge.status, 'INITIAL');
    const waitingDocker = await waitFor(async () => {
      const r = await call('GET', `/v1/jobs/e2e.docker/runs/${docker.id}`);
      return /no agent can take it/.test(r.body.waiting ?? '') && r.body;
    }, 10_000, 'docker waiting reason');
    assert.match(waitingDocker.waiting, /Docker/);
    assert.match(c.m.master.snapshot().jobs!.find((j) => j.id === 'e2e.huge')!.waiting!, /not enough free cpus/);
    for (const [id, r] of [['e2e.huge', huge], ['e2e.docker', docker]] as const) {
      await call('POST', `/v1/jobs/${id}/runs/${r.id}/actions/stop`, {});
      assert.equal((await runToEnd(id, r.id)).reason, 'stopped');
    }
  });

  it('a Chronos dependent job runs after both parents succeeded, once per completion of all parents', async () => {
    const far = 'R/2030-01-01T00:00:00Z/P1D';
    for (const name of ['pa', 'pb']) {
      const r = await call('POST', '/v1/scheduler/iso8601', { name, command: `echo ${name}`, schedule: far, cpus: 0.1, mem: 32, disk: 0 });
      assert.equal(r.status, 204, JSON.stringify(r.body));
    }
    const child = await call('POST', '/v1/scheduler/dependency', { name: 'child', command: 'echo child', parents: ['pa', 'pb'], cpus: '0.1', mem: 32, disk: 0 });
    assert.equal(child.status, 204, JSON.stringify(child.body));
    const lastRun = async (id: string) => (await call('GET', `/v1/jobs/${id}/runs?all=true`)).body[0];
    const childRuns = async () => (await call('GET', '/v1/jobs/child/runs?all=true')).body as Json[];

    assert.equal((await call('PUT', '/v1/scheduler/job/pa')).status, 204);
    await runToEnd('pa', (await lastRun('pa')).id);
    assert.equal((await childRuns()).length, 0, 'one parent is not enough');

    assert.equal((await call('PUT', '/v1/scheduler/job/pb')).status, 204);
    await runToEnd('pb', (await lastRun('pb')).id);
    const runs = await waitFor(async () => {
      const r = await childRuns();
      return r.length > 0 && r;
    }, 10_000, 'child run');
    assert.equal(runs.length, 1);
    assert.equal(runs[0].trigger, 'dependency');
    const done = await runToEnd('child', runs[0].id);
    assert.equal(done.status, 'SUCCESS');
    assert.equal(done.stdout, 'child\n');

    // pa again: pb has not completed since, so the child does not run again
    await call('PUT', '/v1/scheduler/job/pa');
    await waitFor(async () => (await call('GET', '/v1/jobs/pa?embed=historySummary')).body.historySummary.successCount === 2, 15_000, 'pa twice');
    assert.equal((await childRuns()).length, 1);

    const list = (await call('GET', '/v1/scheduler/jobs')).body as Json[];
    const chronosChild = list.find((j) => j.name === 'child');
    assert.deepEqual(chronosChild.parents, ['pa', 'pb']);
    assert.equal(chronosChild.successCount, 1);
    assert.equal(chronosChild.errorCount, 0);
    assert.match(chronosChild.lastSuccess, /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(list.find((j) => j.name === 'pa').successCount, 2);
    const dot = await fetch(`${c.m.url}/v1/scheduler/graph/dot`, { headers: { authorization: `Bearer ${c.m.adminToken}` } }).then((r) => r.text());
    assert.match(dot, /"pa" -> "child";/);
    assert.match(dot, /"pb" -> "child";/);
    assert.match(dot, /"child" \[style=filled color=green\];/);

    // a parent with dependents cannot go
    assert.equal((await call('DELETE', '/v1/scheduler/job/pa')).status, 409);
  });
});
