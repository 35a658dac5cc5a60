// S6: property-based fuzzing (fast-check) of every JSON API route (every POST/PUT/PATCH of the
// route table but the /service/ proxy) and of every client→server socket message. Inputs are
// real definitions with mutations, arbitrary JSON, malformed bytes and wrong content types.
// Properties: no 5xx, the process alive, the documented error body on every 4xx, no prototype
// pollution, and a rejected input changes nothing (no new event, the same API state).
// YAGURA_FAULTS_LONG=1 runs many more inputs; YAGURA_FUZZ_SEED=<n> replays one run;
// YAGURA_FUZZ_RUNS=<n> sets the inputs per route and socket; YAGURA_FUZZ_ROUTES=<regex over
// "METHOD /url"> fuzzes only the matching routes.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CLOSE } from '../../protocol/types.js';
import { call, figures, firstDifference, LONG, startSeeded, waitFor, WsProbe, type Seeded } from './support.js';

const RUNS_PER_ROUTE = Number(process.env.YAGURA_FUZZ_RUNS ?? (LONG ? 100 : 12));
const RUNS_PER_SOCKET = Number(process.env.YAGURA_FUZZ_RUNS ?? (LONG ? 200 : 40));
const SEED = process.env.YAGURA_FUZZ_SEED ? Number(process.env.YAGURA_FUZZ_SEED) : Date.now() % 2 ** 31;
const MIB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Inputs

const app = { id: '/fuzz/app', cmd: 'sleep 1000', cpus: 0.01, mem: 16, disk: 0, instances: 1, env: { A: '1' }, labels: { l: 'v' } };
const richApp = {
  id: '/fuzz/rich',
  cmd: 'python3 -m http.server $PORT0',
  cpus: 0.01,
  mem: 16,
  disk: 0,
  instances: 0,
  user: 'nobody',
  env: { A: '1', SECRET: { secret: 's' } },
  secrets: { s: { source: '/x' } },
  labels: { owner: 'fuzz' },
  constraints: [['hostname', 'UNIQUE'], ['rack', 'GROUP_BY', '2']],
  portDefinitions: [{ port: 0, protocol: 'tcp', name: 'http', labels: { VIP_0: '/fuzz:80' } }],
  requirePorts: false,
  healthChecks: [{ protocol: 'MESOS_HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 5, intervalSeconds: 10, timeoutSeconds: 2, maxConsecutiveFailures: 3 }],
  readinessChecks: [{ name: 'ready', protocol: 'HTTP', path: '/', portName: 'http', intervalSeconds: 30, timeoutSeconds: 10, httpStatusCodesForReady: [200] }],
  upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0.2 },
  unreachableStrategy: { inactiveAfterSeconds: 300, expungeAfterSeconds: 600 },
  killSelection: 'YOUNGEST_FIRST',
  backoffSeconds: 1,
  backoffFactor: 1.15,
  maxLaunchDelaySeconds: 300,
  taskKillGracePeriodSeconds: 5,
  fetch: [{ uri: 'http://127.0.0.1:1/x.tgz', extract: true, executable: false, cache: false }],
  dependencies: ['/fault/web'],
  acceptedResourceRoles: ['*'],
  container: { type: 'MESOS', volumes: [] },
};
const job = {
  id: 'fuzz.job',
  description: 'fuzz',
  labels: { a: 'b' },
  run: {
    cmd: 'true',
    cpus: 0.1,
    mem: 32,
    disk: 0,
    env: { A: '1' },
    artifacts: [{ uri: 'http://127.0.0.1:1/a', extract: false }],
    maxLaunchDelay: 3600,
    restart: { policy: 'NEVER', activeDeadlineSeconds: 60 },
    user: 'nobody',
  },
  schedules: [{ id: 's', cron: '0 3 1 1 *', timezone: 'UTC', startingDeadlineSeconds: 60, concurrencyPolicy: 'ALLOW', enabled: true }],
};
const schedule = { id: 'fz', cron: '0 3 1 1 *', timezone: 'Europe/Berlin', startingDeadlineSeconds: 30, concurrencyPolicy: 'FORBID', enabled: true };
const chronos = {
  name: 'fuzz-chronos',
  command: 'echo hi',
  schedule: 'R/2031-01-01T00:00:00Z/P1D',
  scheduleTimeZone: 'UTC',
  epsilon: 'PT60S',
  cpus: 0.1,
  mem: 32,
  disabled: false,
  owner: 'ops@example.com',
  retries: 2,
  environmentVariables: [{ name: 'A', value: '1' }],
  uris: [],
};
const frameworkInfo = { user: 'nobody', name: 'fuzz', roles: ['*'], failover_timeout: 0, capabilities: [{ type: 'MULTI_ROLE' }] };
const fid = { value: 'no-such-framework' };
const agentId = { value: 'no-such-agent' };
const taskInfo = {
  name: 't',
  task_id: { value: 'fuzz-task' },
  agent_id: agentId,
  resources: [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31001 }] } },
  ],
  command: { value: 'sleep 1', shell: true, environment: { variables: [{ name: 'A', value: '1' }] }, uris: [{ value: 'http://127.0.0.1:1/u' }] },
  labels: { labels: [{ key: 'k', value: 'v' }] },
};
const schedulerCalls = [
  { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo } },
  { type: 'ACCEPT', framework_id: fid, accept: { offer_ids: [{ value: 'o' }], operations: [{ type: 'LAUNCH', launch: { task_infos: [taskInfo] } }], filters: { refuse_seconds: 5 } } },
  { type: 'DECLINE', framework_id: fid, decline: { offer_ids: [{ value: 'o' }], filters: { refuse_seconds: 5 } } },
  { type: 'KILL', framework_id: fid, kill: { task_id: { value: 't' }, agent_id: agentId, kill_policy: { grace_period: { nanoseconds: 1e9 } } } },
  { type: 'ACKNOWLEDGE', framework_id: fid, acknowledge: { agent_id: agentId, task_id: { value: 't' }, uuid: 'AAAAAAAAAAAAAAAAAAAAAA==' } },
  { type: 'RECONCILE', framework_id: fid, reconcile: { tasks: [{ task_id: { value: 't' }, agent_id: agentId }] } },
  { type: 'REVIVE', framework_id: fid, revive: { roles: ['*'] } },
  { type: 'SUPPRESS', framework_id: fid, suppress: { roles: ['*'] } },
  { type: 'TEARDOWN', framework_id: fid },
  { type: 'REQUEST', framework_id: fid, requests: [{ agent_id: agentId, resources: [] }] },
];
const operatorCalls = [
  { type: 'GET_STATE' },
  { type: 'GET_TASKS' },
  { type: 'GET_METRICS', get_metrics: { timeout: { nanoseconds: 1e9 } } },
  { type: 'DRAIN_AGENT', drain_agent: { agent_id: agentId, max_grace_period: { seconds: 10 }, mark_gone: false } },
  { type: 'REACTIVATE_AGENT', reactivate_agent: { agent_id: agentId } },
  { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: agentId } },
  { type: 'TEARDOWN', teardown: { framework_id: fid } },
  { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'fuzz', weight: 2 }] } },
];

interface Target {
  path: string;
  seeds: unknown[];
  /** GETs (or operator calls) that show what this route can change. */
  views: Array<[string, string, unknown?]>;
}

const V2 = [['GET', '/v2/apps?embed=apps.tasks'], ['GET', '/v2/groups'], ['GET', '/v2/deployments']] as Array<[string, string]>;
const JOBS = [['GET', '/v1/jobs?embed=schedules&embed=activeRuns&embed=history'], ['GET', '/v1/scheduler/jobs']] as Array<[string, string]>;
const MESOS = [['POST', '/api/v1', { type: 'GET_STATE' }], ['POST', '/api/v1', { type: 'GET_WEIGHTS' }]] as Array<[string, string, unknown]>;
const REST = [['GET', '/api/v1/tokens'], ['GET', '/api/v1/agents'], ['GET', '/api/v1/tasks']] as Array<[string, string]>;
const CATALOG = [['POST', '/package/list', {}], ['POST', '/package/repository/list', {}], ['GET', '/v2/apps']] as Array<[string, string, unknown]>;

/** Where each route's fuzz goes and what it starts from; routes not listed get `{}` and every view. */
function targetOf(method: string, url: string): Target {
  const key = `${method} ${url}`;
  const t = (path: string, seeds: unknown[], views: Target['views']): Target => ({ path, seeds, views });
  switch (key) {
    case 'POST /api/v1/agents/:id/drain':
      return t('/api/v1/agents/no-such-agent/drain', [{ gracePeriodSeconds: 10, markGone: false }], REST);
    case 'POST /api/v1/agents/:id/reactivate':
      return t('/api/v1/agents/no-such-agent/reactivate', [{}], REST);
    case 'POST /api/v1/agents/:id/gone':
      return t('/api/v1/agents/no-such-agent/gone', [{}], REST);
    case 'POST /api/v1/tasks/:id/kill':
      return t('/api/v1/tasks/no-such-task/kill', [{ gracePeriodSeconds: 1 }], REST);
    case 'POST /api/v1/tokens':
      return t('/api/v1/tokens', [{ role: 'viewer', name: 'fuzz' }], REST);
    case 'PUT /artifacts/*':
      return t('/artifacts/fuzz/file.txt', [{ a: 1 }], [['GET', '/artifacts']]);
    case 'POST /v2/apps':
      return t('/v2/apps', [app, richApp], V2);
    case 'PUT /v2/apps':
    case 'PATCH /v2/apps':
      return t('/v2/apps', [[{ id: '/fault/web', instances: 1, labels: { tier: 'web' } }], [{ ...richApp, id: '/fault/web' }]], V2);
    case 'PUT /v2/apps/*':
    case 'PATCH /v2/apps/*':
      return t('/v2/apps/fault/web', [{ cmd: 'sleep 3600', instances: 1, labels: { tier: 'web' } }, { ...richApp, id: '/fault/web' }, { version: '2020-01-01T00:00:00.000Z' }], V2);
    case 'POST /v2/apps/*':
      return t('/v2/apps/fault/web/restart', [{}, { force: true }], V2);
    case 'POST /v2/groups':
    case 'PUT /v2/groups':
      return t('/v2/groups', [{ id: '/fuzzgroup', apps: [{ ...app, id: 'a', instances: 0 }], groups: [{ id: 'sub', apps: [] }], dependencies: [] }, { scaleBy: 1 }], V2);
    case 'POST /v2/groups/*':
    case 'PUT /v2/groups/*':
      return t('/v2/groups/fault', [{ id: '/fault', apps: [{ id: 'web', cmd: 'sleep 3600', cpus: 0.1, mem: 32, instances: 1, labels: { tier: 'web' } }] }, { scaleBy: 2 }], V2);
    case 'POST /v2/tasks/delete':
      return t('/v2/tasks/delete', [{ ids: ['no-such-task'] }], V2);
    case 'POST /v1/jobs':
      return t('/v1/jobs', [job], JOBS);
    case 'PUT /v1/jobs/:id':
      return t('/v1/jobs/fault.nightly', [{ ...job, id: 'fault.nightly' }], JOBS);
    case 'POST /v1/jobs/:id/runs':
      return t('/v1/jobs/no.such.job/runs', [{}], JOBS);
    case 'POST /v1/jobs/:id/runs/:runId/actions/stop':
    case 'POST /v1/jobs/:id/runs/:runId/action/stop':
      return t(`/v1/jobs/fault.nightly/runs/no-such-run/${url.includes('actions') ? 'actions' : 'action'}/stop`, [{}], JOBS);
    case 'POST /v1/jobs/:id/schedules':
      return t('/v1/jobs/fault.nightly/schedules', [schedule], JOBS);
    case 'PUT /v1/jobs/:id/schedules/:scheduleId':
      return t('/v1/jobs/fault.nightly/schedules/nightly', [{ ...schedule, id: 'nightly' }], JOBS);
    case 'POST /v1/scheduler/iso8601':
      return t('/v1/scheduler/iso8601', [chronos], JOBS);
    case 'POST /v1/scheduler/dependency':
      return t('/v1/scheduler/dependency', [{ ...chronos, name: 'fuzz-child', schedule: undefined, parents: ['fault-chronos'] }], JOBS);
    case 'PUT /v1/scheduler/job/:name':
      return t('/v1/scheduler/job/no-such-job', [{}], JOBS);
    case 'POST /api/v1/scheduler':
      return t('/api/v1/scheduler', schedulerCalls, MESOS);
    case 'POST /api/v1':
      return t('/api/v1', operatorCalls, MESOS);
    case 'POST /package/search':
      return t('/package/search', [{ query: 'hello' }], CATALOG);
    case 'POST /package/describe':
      return t('/package/describe', [{ packageName: 'hello-world' }], CATALOG);
    case 'POST /package/list-versions':
      return t('/package/list-versions', [{ packageName: 'hello-world', includePackageVersions: true }], CATALOG);
    case 'POST /package/render':
      return t('/package/render', [{ packageName: 'hello-world', options: { service: { name: 'fuzz' } } }], CATALOG);
    case 'POST /package/install':
      return t('/package/install', [{ packageName: 'hello-world', options: { service: { name: 'fuzz' } }, appId: '/fuzz-pkg' }], CATALOG);
    case 'POST /package/uninstall':
      return t('/package/uninstall', [{ packageName: 'hello-world', appId: '/no-such-app', all: false }], CATALOG);
    case 'POST /package/list':
      return t('/package/list', [{ packageName: 'hello-world' }], CATALOG);
    case 'POST /package/repository/add':
      // unreachable on purpose: fuzzing must not fetch from anywhere but this machine
      return t('/package/repository/add', [{ name: 'fuzz', uri: 'http://127.0.0.1:1/repo.json', index: 0 }], CATALOG);
    case 'POST /package/repository/delete':
      return t('/package/repository/delete', [{ name: 'no-such-repo' }], CATALOG);
    default:
      return t(url.replace(/:[A-Za-z_]+/g, 'x').replace(/\*/g, 'x'), [{}], [...V2, ...JOBS, ...MESOS, ...REST]);
  }
}

/** Paths (key lists) of every value inside `v`, the root included. */
function pathsOf(v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...pathsOf(x, [...prefix, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...pathsOf(x, [...prefix, k]));
  return out;
}

/** Sets an own, enumerable key, `__proto__` included (plain assignment would set the prototype). */
function setOwn(o: Record<string | number, unknown>, k: string | number, v: unknown): void {
  // an array's `length` cannot be redefined (a random key hit it and the generator threw); such
  // a key would not survive JSON anyway
  if (Object.getOwnPropertyDescriptor(o, k)?.configurable === false) return;
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

const nasty = fc.constantFrom<unknown>(
  null, true, false, 0, -1, -0.5, 1.5, 1e308, -1e308, 2 ** 53 + 1, 1e-320, '', ' ', '0', '-1', 'NaN', 'Infinity', 'true', 'null',
  '../../../etc/passwd', '/', '//', '/..', '\\', '\u0000', '\u202e', '💥'.repeat(50), 'x'.repeat(70_000), '$(touch /tmp/pwned)', '`id`',
  '%2e%2e%2f', '__proto__', 'constructor', '{"a":1}', [], [[]], [null], {}, { '': '' }, [1, 'a', {}],
  { $ne: 1 }, '2020-13-45T99:99:99Z', 'P-1D', 'R-1/2020-01-01T00:00:00Z/P1D', '* * * * * * *', 'Mars/Phobos',
);
const leaf = fc.oneof({ weight: 3, arbitrary: nasty }, { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) });
const keyArb = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'id', 'type', ''), fc.string({ maxLength: 12 }));
const mutation = fc.record({ at: fc.nat(), op: fc.constantFrom('replace', 'replace', 'delete', 'add'), value: leaf, key: keyArb });

function mutate(seed: unknown, muts: Array<{ at: number; op: string; value: unknown; key: string }>): unknown {
  let doc = structuredClone(seed);
  for (const mut of muts) {
    // constants are shared between inputs: insert copies, never the constant itself
    const m = { ...mut, value: structuredClone(mut.value) };
    const paths = pathsOf(doc);
    const path = paths[m.at % paths.length]!;
    if (path.length === 0) {
      if (m.op === 'add' && doc && typeof doc === 'object') setOwn(doc as Record<string, unknown>, m.key, m.value);
      else if (m.op === 'replace') doc = m.value;
      continue;
    }
    let parent: any = doc;
    for (const k of path.slice(0, -1)) parent = parent[k];
    const last = path[path.length - 1]!;
    if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (m.op === 'add' && parent[last] && typeof parent[last] === 'object' && !Array.isArray(parent[last])) {
      setOwn(parent[last], m.key, m.value);
    } else {
      setOwn(parent, last, m.value);
    }
  }
  return doc;
}

interface Input {
  kind: string;
  body: string | Uint8Array;
  contentType: string | undefined;
}

/** Gives an input a short printable form, so that fast-check's report stays readable. */
function printable(i: Input): Input {
  return Object.assign(i, { [fc.toStringMethod]: () => describeInput(i) });
}

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'text/plain',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
      'application/vnd.dcos.package.install-request+json;charset=utf-8;version=v1',
      'application/recordio',
      'application/x-protobuf',
      undefined,
    ),
  },
);

function inputsFor(seeds: unknown[]): fc.Arbitrary<Input> {
  const seedArb = fc.constantFrom(...seeds);
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  return fc.oneof<Array<fc.WeightedArbitrary<Input>>>(
    { weight: 6, arbitrary: fc.tuple(seedArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), contentType).map(([s, m, ct]) => ({ kind: 'mutated', body: JSON.stringify(mutate(s, m)) ?? '', contentType: ct })) },
    { weight: 1, arbitrary: fc.tuple(seedArb, contentType).map(([s, ct]) => ({ kind: 'seed', body: JSON.stringify(s), contentType: ct })) },
    { weight: 2, arbitrary: fc.tuple(fc.jsonValue({ maxDepth: 4 }), contentType).map(([v, ct]) => ({ kind: 'json', body: JSON.stringify(v) ?? 'null', contentType: ct })) },
    { weight: 1, arbitrary: fc.tuple(fc.uint8Array({ maxLength: 300 }), contentType).map(([b, ct]) => ({ kind: 'bytes', body: b, contentType: ct })) },
    {
      weight: 1,
      arbitrary: fc.tuple(seedArb, fc.nat(), contentType).map(([s, n, ct]) => {
        const text = JSON.stringify(s);
        return { kind: 'truncated', body: text.slice(0, n % Math.max(1, text.length)), contentType: ct };
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom('', ' ', 'null', '[]', '"x"', '1e999', '-0', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', deep(20_000), `{"a":${deep(5000)}}`, '\ufeff{}', '{"a":1,"a":2}', '{"a":"\\ud800"}'), contentType).map(([b, ct]) => ({ kind: 'special', body: b, contentType: ct })),
    },
  ).map(printable);
}

// ---------------------------------------------------------------------------------------------
// The environment: a seeded master, reset when an accepted input leaves it busy

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Env {
  s!: Seeded;
  resets = 0;

  async start(): Promise<void> {
    this.s = await startSeeded();
  }

  /** After an accepted input: wait until nothing moves any more, or start over. */
  async settle(): Promise<void> {
    // long enough for a dropped agent to turn UNREACHABLE: startSeeded gives it 25 × 200 ms
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline) {
      const seq = this.s.m.master.events.seq;
      await sleep(50);
      const deployments = (await this.s.api('GET', '/v2/deployments')).body;
      // a scheduler whose stream closed is removed by the master's sweep (every second) after its failover timeout
      const master = this.s.m.master;
      const closing = master.listFrameworks().some((f) => !f.builtin && f.active && !f.connected);
      // an agent whose link dropped turns UNREACHABLE after its missed heartbeats
      const dropping = master.listAgents().some((a) => !master.isAgentConnected(a.id) && a.state !== 'UNREACHABLE' && a.state !== 'GONE');
      if (seq === master.events.seq && Array.isArray(deployments) && deployments.length === 0 && !closing && !dropping) {
        await sleep(50);
        if (seq === this.s.m.master.events.seq) return;
      }
    }
    await this.reset();
  }

  async reset(): Promise<void> {
    this.resets++;
    await this.s.dispose();
    await this.start();
  }

  async view(t: Target): Promise<string> {
    const parts: unknown[] = [this.s.m.master.events.seq, this.s.m.auth.list(), this.s.m.master.roleWeights()];
    for (const [method, path, body] of t.views) {
      const r = await this.s.api(method, path, body !== undefined ? { body } : {});
      // the catalog's artifacts are files of the checkout, mounted read-only: only the store's own count
      const shown = path === '/artifacts' ? r.body?.artifacts?.filter((a: { path: string }) => !a.path.startsWith('catalog/')) : r.body;
      parts.push(r.status, stripVolatile(shown));
    }
    return JSON.stringify(parts);
  }
}

function stripVolatile(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripVolatile);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!/^(lastSeenAt|last_seen|now|start_time|elected_time|timestamp|nextRunAt|uptime)$/i.test(k)) out[k] = stripVolatile(x);
    return out;
  }
  return v;
}

function describeInput(i: Input): string {
  const text = typeof i.body === 'string' ? i.body : `bytes ${Buffer.from(i.body).toString('hex')}`;
  return `${i.kind} (${i.contentType ?? 'no content type'}): ${text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text}`;
}

// ---------------------------------------------------------------------------------------------

describe('S6: fuzzing the JSON APIs and socket messages', { timeout: LONG ? 3_600_000 : 300_000 }, () => {
  const env = new Env();
  const totals = { inputs: 0, accepted: 0, rejected: 0, serverErrors: 0 };
  before(() => env.start());
  after(() => env.s?.dispose());

  it('answers every JSON route without a 5xx, with the error body, and changes nothing when it refuses', async () => {
    const only = process.env.YAGURA_FUZZ_ROUTES ? new RegExp(process.env.YAGURA_FUZZ_ROUTES) : undefined;
    const routes = env.s.m.http.routeTable.filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method) && !r.url.startsWith('/service/') && (!only || only.test(`${r.method} ${r.url}`)));
    const byStatus = new Map<number, number>();
    let routeCount = 0;
    for (const r of routes) {
      const target = targetOf(r.method, r.url);
      routeCount++;
      const t0 = Date.now();
      // what the route's views show now; a refused input must leave it exactly so
      let baseline = await env.view(target);
      await fc.assert(
        fc.asyncProperty(inputsFor(target.seeds), async (input) => {
          const res = await call(env.s.m.url, r.method, target.path, {
            token: env.s.m.adminToken,
            raw: input.body,
            headers: input.contentType === undefined ? { 'content-type': '' } : { 'content-type': input.contentType },
          });
          totals.inputs++;
          byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
          const where = `${r.method} ${target.path} ← ${describeInput(input)}`;
          if (res.status >= 500) {
            totals.serverErrors++;
            assert.fail(`${res.status} ${res.text.slice(0, 300)} for ${where}`);
          }
          assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false, `prototype polluted by ${where}`);
          if (res.status >= 400) {
            totals.rejected++;
            if (res.status !== 404 || res.text) {
              assert.equal(typeof res.body?.message, 'string', `error body of ${res.status} for ${where}: ${res.text.slice(0, 200)}`);
              assert.ok(Array.isArray(res.body?.details), `error details of ${res.status} for ${where}: ${res.text.slice(0, 200)}`);
            }
            const now = await env.view(target);
            if (now !== baseline) {
              const seq = (JSON.parse(baseline) as [number])[0];
              const events = env.s.m.master.events.since(seq) ?? [];
              assert.fail(
                `state changed by a refused (${res.status}) ${where}: ${firstDifference(JSON.parse(baseline), JSON.parse(now))}; events since: ${events.map((e) => `${e.kind} ${e.op} ${e.id}`).join(', ')}`,
              );
            }
          } else {
            totals.accepted++;
            await env.settle();
            baseline = await env.view(target);
          }
        }),
        { numRuns: RUNS_PER_ROUTE, seed: SEED + routeCount, endOnFailure: true, includeErrorInReport: true },
      );
      assert.equal((await call(env.s.m.url, 'GET', '/health')).status, 200, `alive after fuzzing ${r.method} ${r.url}`);
      if (process.env.YAGURA_FUZZ_DEBUG) figures(`  ${r.method} ${r.url}: ${Date.now() - t0} ms, ${env.resets} resets so far`);
    }
    const statuses = [...byStatus.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ');
    figures(`S6: ${routeCount} JSON routes × ${RUNS_PER_ROUTE} inputs = ${totals.inputs} requests (seed ${SEED}): ${totals.serverErrors} server errors, ${totals.rejected} refused with state unchanged, ${totals.accepted} accepted; statuses ${statuses}; ${env.resets} resets`);
  });

  it('survives fuzzed first messages on the dashboard stream and log tail sockets', async () => {
    await env.reset(); // a cluster as seeded: the HTTP fuzz may have restarted the seeded task
    const hello = (token: string) => [{ type: 'hello', token }, { type: 'hello', token, epoch: env.s.m.master.epoch, seq: 0 }, { type: 'ping' }];
    const tail = `/files/tasks/${encodeURIComponent(env.s.taskId)}/tail?path=stdout`;
    const counts = { data: 0, closed: new Map<number, number>() };
    let n = 0;
    for (const [path, proof] of [['/api/v1/stream', (m: any) => m.type === 'snapshot' || m.type === 'events'], [tail, (m: any) => m.type === 'chunk']] as const) {
      const seeds = [...hello(env.s.m.adminToken), ...hello(env.s.viewer), ...hello('yga_wrong')];
      await fc.assert(
        fc.asyncProperty(socketInputs(seeds), async (input) => {
          n++;
          const seq = env.s.m.master.events.seq;
          const p = new WsProbe(`${env.s.m.url}${path}`, { protocols: ['yagura.v1'] });
          try {
            assert.equal(await p.opened(), 'open');
            p.send(input.body);
            const parsed = safeParse(input.body);
            const authentic = parsed && typeof parsed === 'object' && parsed.type === 'hello' && (parsed.token === env.s.m.adminToken || parsed.token === env.s.viewer);
            if (authentic) {
              // let the server show it is still fine: a tail sends a chunk, the stream a snapshot unless it resumed with nothing missed
              const got = await p.until(proof, 10_000).catch(() => undefined);
              if (got) counts.data++;
              else if (p.closeCode !== undefined) assert.ok([CLOSE.BAD_MESSAGE, CLOSE.TOO_BIG].includes(p.closeCode as 4400 | 1009), `closed ${p.closeCode} after ${describeInput(input)}`);
            } else {
              const code = await p.closed();
              counts.closed.set(code, (counts.closed.get(code) ?? 0) + 1);
              assert.ok([CLOSE.UNAUTHORIZED, CLOSE.BAD_MESSAGE, CLOSE.TOO_BIG].includes(code as 4401), `close code ${code} after ${describeInput(input)} on ${path}`);
              assert.equal(p.messages.filter(proof).length, 0, `data without auth after ${describeInput(input)}`);
            }
          } finally {
            p.close();
          }
          assert.equal(env.s.m.master.events.seq, seq, 'a socket message changed the cluster');
          assert.equal((await call(env.s.m.url, 'GET', '/health')).status, 200);
        }),
        { numRuns: RUNS_PER_SOCKET, seed: SEED, endOnFailure: true, includeErrorInReport: true },
      );
    }
    const closed = [...counts.closed.entries()].map(([c, k]) => `${c}×${k}`).join(' ');
    figures(`S6: ${n} fuzzed first messages on the stream and tail sockets: 0 crashes, ${counts.data} authenticated, the others closed (${closed}) before any data; state unchanged`);
  });

  it('survives fuzzed agent messages: refused ones close the link and change nothing', async () => {
    await env.reset();
    const register = { type: 'register', hostname: 'fuzz-agent', resources: { cpus: 0, mem: 0, disk: 0, ports: [] }, attributes: { rack: 'r9' }, isolators: ['cgroups/mem'], version: 'fuzz', tasks: [] };
    const later = [
      { type: 'heartbeat' },
      { type: 'status', update: { uuid: 'AAAAAAAAAAAAAAAAAAAAAA==', taskId: env.s.taskId, frameworkId: 'yagura-services', agentId: 'x', state: 'TASK_FAILED', reason: 'REASON_AGENT_REMOVED', message: 'm', exitCode: 1, healthy: false, timestamp: 1 } },
      { type: 'files.reply', reqId: 'r', ok: true, entries: [{ path: 'p', size: 1, mode: 'm', mtime: 0, isDir: false }], data: 'AA==', offset: 0, size: 1, eof: true },
      { type: 'files.reply', reqId: 'r', ok: false, status: 404, message: 'no' },
      { type: 'files.chunk', streamId: 's', data: 'x', offset: 0 },
      { type: 'files.end', streamId: 's', message: 'bye' },
    ];
    let agentsBefore = env.s.m.master.listAgents().length;
    /** Valid registrations since agentsBefore was counted; `validTotal` over the whole run. */
    let registered = 0;
    let validTotal = 0;
    let resets = env.resets;
    let refusedFirst = 0;
    // first messages: anything but a valid register closes the link and adds no agent
    await fc.assert(
      fc.asyncProperty(socketInputs([register, ...later]), async (input) => {
        const seq = env.s.m.master.events.seq;
        const agents = env.s.m.master.listAgents().length;
        const p = new WsProbe(`${env.s.m.url}/api/v1/agent`, { headers: { authorization: `Bearer ${env.s.m.agentSecret}` } });
        try {
          assert.equal(await p.opened(), 'open');
          p.send(input.body);
          const got = await p.until((m) => m.type === 'registered' || m.type === 'refused');
          if (got?.type === 'registered') {
            registered++;
            validTotal++;
            p.close();
            await env.settle();
            if (env.resets !== resets) {
              // a new seeded master: count from it
              resets = env.resets;
              agentsBefore = env.s.m.master.listAgents().length;
              registered = 0;
            }
          } else {
            refusedFirst++;
            assert.ok([CLOSE.BAD_MESSAGE, CLOSE.TOO_BIG, 4403].includes((p.closeCode ?? (await p.closed())) as 4400), `close ${p.closeCode} after ${describeInput(input)}`);
            assert.equal(env.s.m.master.listAgents().length, agents, `an agent appeared after ${describeInput(input)}`);
            assert.equal(env.s.m.master.events.seq, seq, `state changed by ${describeInput(input)}`);
          }
        } finally {
          p.close();
        }
        assert.equal((await call(env.s.m.url, 'GET', '/health')).status, 200);
      }),
      { numRuns: RUNS_PER_SOCKET, seed: SEED, endOnFailure: true, includeErrorInReport: true },
    );

    // the master now (settle may have started a new seeded one)
    const master = env.s.m.master;
    const eventsSince = (seq: number) => (master.events.since(seq) ?? []).map((e) => `${e.kind} ${e.op} ${e.id} ${'data' in e ? JSON.stringify(e.data).slice(0, 200) : ''}`).join('; ');
    const strays = env.s.m.master.listAgents().length - agentsBefore - registered;
    assert.equal(strays, 0, 'only valid registrations added agents');
    // later messages from a registered agent that runs nothing: none may change the cluster
    const processed: string[] = [];
    const original = master.agentMessage.bind(master);
    master.agentMessage = (id, conn, msg) => {
      if (id === link?.id && msg.type !== 'heartbeat') processed.push(JSON.stringify(msg));
      original(id, conn, msg);
    };
    let link: { p: WsProbe; id: string; beat: NodeJS.Timeout } | undefined;
    let refusedLater = 0;
    let acceptedLater = 0;
    try {
      await fc.assert(
        fc.asyncProperty(socketInputs(later), async (input) => {
          if (!link || link.p.closeCode !== undefined) {
            if (link) clearInterval(link.beat);
            const p = new WsProbe(`${env.s.m.url}/api/v1/agent`, { headers: { authorization: `Bearer ${env.s.m.agentSecret}` } });
            await p.opened();
            p.send({ ...register, ...(link ? { agentId: link.id } : {}) });
            const r = await p.until((m) => m.type === 'registered');
            assert.ok(r, 'the fuzz agent registers');
            // it heartbeats like a real agent, or it would turn UNREACHABLE under the test
            link = { p, id: r.agentId, beat: setInterval(() => p.send({ type: 'heartbeat' }), 50) };
            await env.settle();
          }
          const parsed = safeParse(input.body);
          if (parsed && typeof parsed === 'object' && parsed.type === 'register') return; // a re-registration is meant to change things
          const seq = master.events.seq;
          const tasks = JSON.stringify(master.listTasks());
          const mark = processed.length;
          const heartbeat = parsed && typeof parsed === 'object' && parsed.type === 'heartbeat';
          link.p.send(input.body);
          // handled once the master has applied it (or a heartbeat after it, for a heartbeat), refused once the link closed
          const outcome = heartbeat
            ? 'processed'
            : await waitFor(() => (processed.slice(mark).includes(JSON.stringify(parsed)) ? 'processed' : link!.p.closeCode !== undefined ? 'closed' : undefined), 10_000, 'the message to be handled');
          if (outcome === 'closed') {
            refusedLater++;
            assert.ok([CLOSE.BAD_MESSAGE, CLOSE.TOO_BIG].includes(link.p.closeCode as 4400), `close ${link.p.closeCode} after ${describeInput(input)}`);
          } else acceptedLater++;
          assert.equal(master.events.seq, seq, `state changed by ${describeInput(input)}: ${eventsSince(seq)}`);
          assert.equal(JSON.stringify(master.listTasks()), tasks, `tasks changed by ${describeInput(input)}`);
          assert.equal((await call(env.s.m.url, 'GET', '/health')).status, 200);
        }),
        { numRuns: RUNS_PER_SOCKET, seed: SEED, endOnFailure: true, includeErrorInReport: true },
      );
    } finally {
      master.agentMessage = original;
      if (link) clearInterval(link.beat);
      link?.p.close();
    }
    assert.equal(env.s.m.master.getTask(env.s.taskId)?.state, 'TASK_RUNNING', "the seeded task was not touched by another agent's messages");
    figures(
      `S6: ${validTotal + refusedFirst} fuzzed first agent messages (${validTotal} valid registrations, ${refusedFirst} closed without adding an agent); ${refusedLater + acceptedLater} later messages (${refusedLater} closed 4400, ${acceptedLater} handled): state unchanged`,
    );
  });
});

function safeParse(body: string | Uint8Array): any {
  if (typeof body !== 'string') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Socket payloads: mutated real messages, arbitrary JSON, bytes, and frames near the limits. */
function socketInputs(seeds: unknown[]): fc.Arbitrary<Input> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([s, m]) => ({ kind: 'mutated', body: JSON.stringify(mutate(s, m)) ?? 'null', contentType: 'ws' })) },
    { weight: 2, arbitrary: fc.constantFrom(...seeds).map((s) => ({ kind: 'seed', body: JSON.stringify(s), contentType: 'ws' })) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ kind: 'json', body: JSON.stringify(v) ?? 'null', contentType: 'ws' })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => ({ kind: 'bytes', body: b, contentType: 'ws binary' })) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '[]', '"hello"', '{"type":null}', '{"type":"__proto__"}', '{"__proto__":{"type":"hello"}}', 'x'.repeat(MIB)).map((b) => ({ kind: 'special', body: b, contentType: 'ws' })) },
  ).map(printable);
}
