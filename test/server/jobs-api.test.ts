// The jobs REST APIs without agents: Metronome and Chronos shapes, schedules, embeds, and every
// kind of bad input (4xx with the path, and nothing changes).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMaster, type TestMaster } from '../support/cluster.js';

type Json = any;

describe('jobs API', { timeout: 60_000 }, () => {
  let m: TestMaster;
  let call: (method: string, path: string, body?: unknown, token?: string) => Promise<{ status: number; body: Json; text: string }>;

  before(async () => {
    m = await startMaster();
    call = async (method, path, body, token = m.adminToken) => {
      const res = await fetch(`${m.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, body: parsed, text };
    };
  });

  after(async () => {
    await m.dispose();
  });

  /** Everything both APIs show; a rejected write must leave it exactly as it was. */
  const everything = async () => JSON.stringify([(await call('GET', '/v1/jobs?embed=schedules&embed=history')).body, (await call('GET', '/v1/scheduler/jobs')).body]);

  const rejects = async (method: string, path: string, body: unknown, status: number, at: string, error: RegExp) => {
    const before = await everything();
    const r = await call(method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    assert.equal(typeof r.body.message, 'string');
    const detail = (r.body.details as Array<{ path: string; errors: string[] }>).find((d) => d.path === at);
    assert.ok(detail, `no detail at ${at}: ${JSON.stringify(r.body.details)}`);
    assert.ok(detail.errors.some((e) => error.test(e)), `${at}: ${JSON.stringify(detail.errors)} does not match ${error}`);
    assert.equal(await everything(), before, 'nothing changed');
  };

  const base = { run: { cmd: 'echo hi', cpus: 0.1, mem: 32 } };

  it('creates, reads, replaces and deletes a Metronome job with defaults filled', async () => {
    const r = await call('POST', '/v1/jobs', {
      id: 'prod.backup',
      description: 'nightly',
      labels: { team: 'ops' },
      run: { cmd: 'backup.sh', env: { A: '1' }, artifacts: [{ uri: 'http://example.invalid/x.tgz' }] },
      schedules: [{ id: 'nightly', cron: '0 2 * * *', timezone: 'Europe/Berlin' }],
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.run.cpus, 1);
    assert.equal(r.body.run.mem, 128);
    assert.equal(r.body.run.disk, 0);
    assert.deepEqual(r.body.run.restart, { policy: 'NEVER' });
    assert.deepEqual(r.body.run.artifacts, [{ uri: 'http://example.invalid/x.tgz', extract: true, executable: false, cache: false }]);
    const s = r.body.schedules[0];
    assert.equal(s.startingDeadlineSeconds, 900);
    assert.equal(s.concurrencyPolicy, 'ALLOW');
    assert.equal(s.enabled, true);
    assert.equal(s.timezone, 'Europe/Berlin');
    // 02:00 in Berlin is 00:00 or 01:00 UTC
    assert.match(s.nextRunAt, /T0[01]:00:00\.000Z$/);

    const dup = await call('POST', '/v1/jobs', { id: 'prod.backup', ...base });
    assert.equal(dup.status, 409);

    const got = await call('GET', '/v1/jobs/prod.backup?embed=schedules&embed=activeRuns&embed=historySummary');
    assert.equal(got.body.description, 'nightly');
    assert.deepEqual(got.body.activeRuns, []);
    assert.deepEqual(got.body.historySummary, { successCount: 0, failureCount: 0, skippedCount: 0, lastSuccessAt: null, lastFailureAt: null, p50DurationSeconds: null, p95DurationSeconds: null });
    assert.equal(got.body.schedules.length, 1);

    // PUT without schedules keeps them; with schedules replaces them
    const put = await call('PUT', '/v1/jobs/prod.backup', { id: 'prod.backup', description: 'changed', run: { cmd: 'backup.sh --all' } });
    assert.equal(put.status, 200, put.text);
    assert.equal((await call('GET', '/v1/jobs/prod.backup')).body.description, 'changed');
    assert.equal((await call('GET', '/v1/jobs/prod.backup/schedules')).body.length, 1);
    await rejects('PUT', '/v1/jobs/prod.backup', { id: 'prod.other', ...base }, 422, '/id', /prod\.backup/);
    assert.equal((await call('PUT', '/v1/jobs/no.such', { id: 'no.such', ...base })).status, 404);

    // the job is on the dashboard stream's snapshot
    assert.equal(m.master.snapshot().jobs!.find((j) => j.id === 'prod.backup')!.status, 'scheduled');
    assert.equal((await call('DELETE', '/v1/jobs/prod.backup')).status, 200);
    assert.equal((await call('GET', '/v1/jobs/prod.backup')).status, 404);
    assert.equal(m.master.snapshot().jobs!.some((j) => j.id === 'prod.backup'), false);
  });

  it('manages schedules on their own endpoints', async () => {
    assert.equal((await call('POST', '/v1/jobs', { id: 'sched.owner', ...base })).status, 201);
    const created = await call('POST', '/v1/jobs/sched.owner/schedules', { id: 'hourly', cron: '0 * * * *', concurrencyPolicy: 'FORBID' });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.concurrencyPolicy, 'FORBID');
    assert.match(created.body.nextRunAt, /:00:00\.000Z$/);
    assert.equal((await call('POST', '/v1/jobs/sched.owner/schedules', { id: 'hourly', cron: '0 * * * *' })).status, 409);
    const put = await call('PUT', '/v1/jobs/sched.owner/schedules/hourly', { cron: '30 * * * *', enabled: false });
    assert.equal(put.status, 200, put.text);
    const one = await call('GET', '/v1/jobs/sched.owner/schedules/hourly');
    assert.equal(one.body.cron, '30 * * * *');
    assert.equal(one.body.enabled, false);
    assert.equal(one.body.nextRunAt, undefined, 'a disabled schedule is not armed');
    await rejects('PUT', '/v1/jobs/sched.owner/schedules/hourly', { cron: 'every hour' }, 422, '/cron', /^invalid cron: /);
    await rejects('POST', '/v1/jobs/sched.owner/schedules', { id: 'tz', cron: '* * * * *', timezone: 'Mars/Olympus' }, 422, '/timezone', /unknown time zone/);
    assert.equal((await call('DELETE', '/v1/jobs/sched.owner/schedules/hourly')).status, 200);
    assert.equal((await call('GET', '/v1/jobs/sched.owner/schedules/hourly')).status, 404);
    assert.equal((await call('DELETE', '/v1/jobs/sched.owner/schedules/hourly')).status, 404);
    assert.equal((await call('GET', '/v1/jobs/no.such/schedules')).status, 404);
  });

  it('rejects invalid Metronome jobs with the path of each problem', async () => {
    await rejects('POST', '/v1/jobs', { id: 'bad.cron', ...base, schedules: [{ id: 'x1', cron: '61 * * * *' }] }, 422, '/schedules/0/cron', /^invalid cron: /);
    await rejects('POST', '/v1/jobs', { id: 'bad.tz', ...base, schedules: [{ id: 'x1', cron: '* * * * *', timezone: 'Europe/Atlantis' }] }, 422, '/schedules/0/timezone', /unknown time zone/);
    await rejects('POST', '/v1/jobs', { id: 'bad.cpus', run: { cmd: 'x', cpus: -1 } }, 422, '/run/cpus', /at least 0\.01/);
    await rejects('POST', '/v1/jobs', { id: 'bad.mem', run: { cmd: 'x', mem: 'lots' } }, 422, '/run/mem', /number/);
    await rejects('POST', '/v1/jobs', { id: 'Bad_Id', ...base }, 422, '/id', /lowercase/);
    await rejects('POST', '/v1/jobs', { id: 'bad.cmd', run: { cpus: 1 } }, 422, '/run', /cmd or args/);
    await rejects('POST', '/v1/jobs', { id: 'bad.both', run: { cmd: 'a', args: ['b'] } }, 422, '/run', /not both/);
    await rejects('POST', '/v1/jobs', { id: 'bad.policy', run: { cmd: 'a', restart: { policy: 'ALWAYS' } } }, 422, '/run/restart/policy', /NEVER or ON_FAILURE/);
    await rejects('POST', '/v1/jobs', { id: 'bad.op', run: { cmd: 'a', placement: { constraints: [{ attribute: 'rack', operator: 'UNIQUE' }] } } }, 422, '/run/placement/constraints/0/operator', /unknown operator/);
    await rejects('POST', '/v1/jobs', { id: 'bad.sched', ...base, schedules: [{ id: 'x1', cron: '* * * * *', concurrencyPolicy: 'REPLACE' }] }, 422, '/schedules/0/concurrencyPolicy', /ALLOW or FORBID/);
    await rejects('POST', '/v1/jobs', { id: 'bad.dup', ...base, schedules: [{ id: 'x1', cron: '* * * * *' }, { id: 'x1', cron: '0 * * * *' }] }, 422, '/schedules/1/id', /twice/);
    await rejects('POST', '/v1/jobs', { id: 'bad.parent', ...base, dependencies: [{ id: 'nowhere' }] }, 422, '/dependencies/0/id', /unknown job 'nowhere'/);
    const malformed = await fetch(`${m.url}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${m.adminToken}`, 'content-type': 'application/json' }, body: '{"id": ' });
    assert.equal(malformed.status, 400);
  });

  it('rejects a dependency cycle, and deleting a job others depend on', async () => {
    assert.equal((await call('POST', '/v1/jobs', { id: 'cyc.a', ...base })).status, 201);
    assert.equal((await call('POST', '/v1/jobs', { id: 'cyc.b', ...base, dependencies: [{ id: 'cyc.a' }] })).status, 201);
    assert.equal((await call('POST', '/v1/jobs', { id: 'cyc.c', ...base, dependencies: [{ id: 'cyc.b' }] })).status, 201);
    await rejects('PUT', '/v1/jobs/cyc.a', { id: 'cyc.a', ...base, dependencies: [{ id: 'cyc.c' }] }, 422, '/dependencies', /cycle: cyc\.a → cyc\.c → cyc\.b → cyc\.a/);
    await rejects('PUT', '/v1/jobs/cyc.a', { id: 'cyc.a', ...base, dependencies: [{ id: 'cyc.a' }] }, 422, '/dependencies/0/id', /itself/);
    await rejects('DELETE', '/v1/jobs/cyc.b', undefined, 409, '/id', /cyc\.c/);
    // Chronos, same graph
    await rejects('POST', '/v1/scheduler/dependency', { name: 'cyc.a', command: 'x', parents: ['cyc.c'] }, 422, '/parents', /cycle/);
    await rejects('POST', '/v1/scheduler/dependency', { name: 'orphan', command: 'x', parents: ['cyc.a', 'ghost'] }, 422, '/parents/1', /unknown job 'ghost'/);
    assert.equal((await call('DELETE', '/v1/jobs/cyc.c')).status, 200);
    assert.equal((await call('DELETE', '/v1/jobs/cyc.b')).status, 200);
  });

  it('runs: unknown job or run is a 404; an active run blocks a delete unless stopCurrentJobRuns', async () => {
    assert.equal((await call('POST', '/v1/jobs/no.such/runs', {})).status, 404);
    assert.equal((await call('PUT', '/v1/scheduler/job/no-such')).status, 404);
    assert.equal((await call('GET', '/v1/jobs/no.such/runs')).status, 404);
    assert.equal((await call('POST', '/v1/jobs', { id: 'runs.wait', ...base })).status, 201);
    assert.equal((await call('GET', '/v1/jobs/runs.wait/runs/20260101000000abcde')).status, 404);
    const run = await call('POST', '/v1/jobs/runs.wait/runs', {});
    assert.equal(run.status, 201);
    assert.equal(run.body.status, 'INITIAL');
    assert.equal(run.body.jobId, 'runs.wait');
    assert.deepEqual(run.body.tasks, []);
    assert.equal(run.body.trigger, 'manual');
    const active = await call('GET', '/v1/jobs/runs.wait/runs');
    assert.deepEqual(active.body.map((r: Json) => r.id), [run.body.id]);
    // no agent: the run waits for offers and says so
    assert.equal(active.body[0].waiting, 'waiting for offers');
    assert.equal((await call('DELETE', '/v1/jobs/runs.wait')).status, 409);
    assert.equal((await call('DELETE', '/v1/jobs/runs.wait?stopCurrentJobRuns=true')).status, 200);
    assert.equal((await call('GET', '/v1/jobs/runs.wait')).status, 404);
  });

  it('speaks Chronos: add, list, search, run, delete, graph', async () => {
    const bad = [
      [{ name: 'c1', command: 'x', schedule: 'R/2026-13-01T00:00:00Z/PT1H' }, '/schedule', /^invalid ISO 8601 schedule: /],
      [{ name: 'c1', command: 'x', schedule: 'R/2026-01-01T00:00:00Z/PT1H', epsilon: 'soon' }, '/epsilon', /invalid ISO 8601 duration/],
      [{ name: 'c1', command: 'x', schedule: 'R/2026-01-01T00:00:00Z/1H' }, '/schedule', /^invalid ISO 8601 schedule: /],
      [{ name: 'c1', command: 'x', schedule: 'R/2026-01-01T00:00:00Z/PT1H', scheduleTimeZone: 'Nowhere/Special' }, '/scheduleTimeZone', /unknown time zone/],
      [{ name: 'c1', command: 'x' }, '/schedule', /required/],
      [{ name: 'bad/name', command: 'x', schedule: 'R/2026-01-01T00:00:00Z/PT1H' }, '/name', /letters/],
      [{ name: 'c1', command: 'x', schedule: 'R/2026-01-01T00:00:00Z/PT1H', constraints: [['rack', 'CLUSTER', 'r1']] }, '/constraints/0/1', /EQUALS, LIKE or UNLIKE/],
    ] as const;
    for (const [body, path, error] of bad) await rejects('POST', '/v1/scheduler/iso8601', body, 422, path, error);

    const add = await call('POST', '/v1/scheduler/iso8601', {
      name: 'SAMPLE_JOB1',
      command: "echo 'FOO'",
      schedule: 'R10/2030-10-01T05:52:00Z/PT2S',
      epsilon: 'PT15M',
      owner: 'bob@example.com',
      retries: 1,
      constraints: [['rack', 'EQUALS', 'rack-1']],
      environmentVariables: [{ name: 'JVMOPTS', value: '-Xmx1000m' }],
    });
    assert.equal(add.status, 204, add.text);
    const list = (await call('GET', '/v1/scheduler/jobs')).body as Json[];
    const j = list.find((x) => x.name === 'SAMPLE_JOB1');
    assert.equal(j.schedule, 'R10/2030-10-01T05:52:00Z/PT2S');
    assert.equal(j.epsilon, 'PT15M');
    assert.equal(j.retries, 1);
    assert.equal(j.owner, 'bob@example.com');
    assert.equal(j.successCount, 0);
    assert.equal(j.lastSuccess, '');
    assert.deepEqual(j.constraints, [['rack', 'EQUALS', 'rack-1']]);
    assert.deepEqual(j.environmentVariables, [{ name: 'JVMOPTS', value: '-Xmx1000m' }]);
    assert.equal(j.cpus, 0.1);
    assert.equal(j.disk, 256);
    // the same job through the Metronome API
    const met = await call('GET', '/v1/jobs/SAMPLE_JOB1?embed=schedules');
    assert.equal(met.status, 200);
    assert.deepEqual(met.body.run.restart, { policy: 'ON_FAILURE' });
    assert.equal(met.body.run.maxAttempts, 2);
    assert.deepEqual(met.body.run.placement.constraints, [{ attribute: 'rack', operator: 'IS', value: 'rack-1' }]);
    assert.equal(met.body.schedules[0].startingDeadlineSeconds, 900);
    assert.equal(met.body.schedules[0].concurrencyPolicy, 'FORBID');
    assert.equal(met.body.schedules[0].nextRunAt, '2030-10-01T05:52:00.000Z');

    // POST again replaces (Chronos semantics)
    assert.equal((await call('POST', '/v1/scheduler/iso8601', { name: 'SAMPLE_JOB1', command: 'echo BAR', schedule: 'R/2030-10-01T05:52:00Z/PT1H', disabled: true })).status, 204);
    const search = (await call('GET', '/v1/scheduler/jobs/search?name=sample')).body as Json[];
    assert.deepEqual(search.map((x) => x.command), ['echo BAR']);
    assert.equal(search[0].disabled, true);
    assert.equal((await call('GET', '/v1/scheduler/jobs/search?command=nothing-like-this')).body.length, 0);
    assert.equal((await call('GET', '/v1/jobs/SAMPLE_JOB1/schedules')).body[0].enabled, false);

    assert.equal((await call('PUT', '/v1/scheduler/job/SAMPLE_JOB1')).status, 204);
    const runs = (await call('GET', '/v1/jobs/SAMPLE_JOB1/runs')).body as Json[];
    assert.equal(runs.length, 1);
    assert.equal(runs[0].trigger, 'manual');

    const dot = await call('GET', '/v1/scheduler/graph/dot');
    assert.equal(dot.status, 200);
    assert.match(dot.text, /^digraph G \{\n/);
    assert.match(dot.text, /"SAMPLE_JOB1" \[style=filled color=gray\];/);

    assert.equal((await call('DELETE', '/v1/scheduler/job/SAMPLE_JOB1')).status, 204);
    assert.equal((await call('GET', '/v1/jobs/SAMPLE_JOB1')).status, 404);
    assert.equal((await call('DELETE', '/v1/scheduler/job/SAMPLE_JOB1')).status, 404);
  });

  it('needs a token, and an admin one to change anything', async () => {
    const anon = await fetch(`${m.url}/v1/jobs`);
    assert.equal(anon.status, 401);
    const viewer = (await call('POST', '/api/v1/tokens', { role: 'viewer', name: 'jobs-viewer' })).body.token as string;
    assert.equal((await call('GET', '/v1/jobs', undefined, viewer)).status, 200);
    assert.equal((await call('GET', '/v1/scheduler/jobs', undefined, viewer)).status, 200);
    assert.equal((await call('POST', '/v1/jobs', { id: 'viewer.job', ...base }, viewer)).status, 403);
    assert.equal((await call('POST', '/v1/scheduler/iso8601', { name: 'v', command: 'x', schedule: 'R/2030-01-01T00:00:00Z/P1D' }, viewer)).status, 403);
    assert.equal((await call('GET', '/v1/jobs/viewer.job')).status, 404);
  });
});
