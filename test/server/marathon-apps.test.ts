// The Marathon REST API (/v2/apps, /v2/groups, /v2/tasks, /v2/deployments, /v2/queue, /v2/info)
// against a live master with two real agents: shapes Marathon clients read, and bad input that
// must change nothing.

import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isTerminal, type DeploymentView } from '../../protocol/types.js';
import { waitFor } from '../support/cluster.js';
import { startCluster, type MarathonCluster } from '../support/marathon-cluster.js';
import { appInfoJson, appInfoText, type AppEmbed } from '../../server/api/marathon/json.js';

/** A Marathon app definition as users write it (health check on the first port). */
const WEB = {
  id: '/prod/web',
  cmd: 'python3 -m http.server $PORT0',
  cpus: 0.1,
  mem: 32,
  instances: 2,
  env: { COLOR: 'blue' },
  labels: { tier: 'frontend', team: 'web' },
  constraints: [['hostname', 'UNIQUE']],
  // one instance per host on two hosts: a restart must take one down before starting one
  upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
  healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 10, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 5 }],
};

const sleeper = (id: string, extra: Record<string, unknown> = {}) => ({ id, cmd: 'sleep 600', cpus: 0.05, mem: 16, instances: 1, ...extra });

describe('Marathon /v2 API', { timeout: 180_000 }, () => {
  let c: MarathonCluster;
  let viewer: string;

  before(async () => {
    c = await startCluster([{ hostname: 'node-a' }, { hostname: 'node-b' }]);
    viewer = c.m.auth.createToken('viewer', 'marathon test viewer');
  });
  after(async () => c?.dispose());
  // each test starts from a settled cluster: a deployment of the test before may still be
  // finishing when ticks are slow (a cold, busy start)
  beforeEach(async () => {
    if (c) await waitFor(() => c.m.services.listDeployments().every((d) => d.status !== 'running'), 30_000, 'the earlier deployments to end');
  });

  it('creates an app from Marathon JSON: 201, tasks with hosts and ports, healthy counts, empty queue', async () => {
    const r = await c.api('POST', '/v2/apps', WEB);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('location'), '/v2/apps/prod/web');
    assert.equal(r.body.id, '/prod/web');
    assert.equal(r.body.instances, 2);
    assert.deepEqual(r.body.constraints, [['hostname', 'UNIQUE']]);
    assert.equal(r.body.healthChecks[0].portIndex, 0);
    assert.equal(typeof r.body.version, 'string');
    assert.equal(r.body.deployments.length, 1);
    const deploymentId = r.body.deployments[0].id as string;
    assert.match(deploymentId, /^[0-9a-f-]{36}$/);

    const app = await c.appUntil('/prod/web', (a) => a.tasksHealthy === 2 && a.deployments.length === 0, 'two healthy instances');
    assert.equal(app.tasksRunning, 2);
    assert.equal(app.tasksStaged, 0);
    assert.equal(app.tasksUnhealthy, 0);
    assert.deepEqual(app.versionInfo.lastConfigChangeAt, app.version);
    assert.deepEqual(app.tasks.map((t: any) => t.host).sort(), ['node-a', 'node-b'], 'UNIQUE hostname spreads the instances');
    for (const t of app.tasks) {
      assert.equal(t.appId, '/prod/web');
      assert.equal(t.state, 'TASK_RUNNING');
      assert.equal(t.version, app.version);
      assert.equal(t.slaveId, c.m.master.getTask(t.id)!.agentId);
      assert.deepEqual(t.ipAddresses, [{ ipAddress: '127.0.0.1', protocol: 'IPv4' }]);
      assert.deepEqual(t.servicePorts, []);
      assert.equal(t.healthCheckResults[0].alive, true);
      assert.ok(Date.parse(t.startedAt) >= Date.parse(t.stagedAt));
      // the port shown is the one the task listens on
      assert.equal(t.ports.length, 1);
      const res = await fetch(`http://127.0.0.1:${t.ports[0]}/`);
      assert.equal(res.status, 200);
      await res.text();
    }
    const queue = await c.api('GET', '/v2/queue');
    assert.deepEqual(queue.body, { queue: [] });
    assert.deepEqual((await c.api('GET', '/v2/deployments')).body, []);

    const tasks = await c.api('GET', '/v2/apps/prod/web/tasks');
    assert.deepEqual(tasks.body.tasks.map((t: any) => t.id).sort(), app.tasks.map((t: any) => t.id).sort());
    const all = await c.api('GET', '/v2/tasks?status=running');
    assert.ok(app.tasks.every((t: any) => all.body.tasks.some((x: any) => x.id === t.id)));
    assert.deepEqual((await c.api('GET', '/v2/tasks?status=staging')).body.tasks, []);

    const again = await c.api('POST', '/v2/apps', WEB);
    assert.equal(again.status, 409);
    assert.match(again.body.message, /already exists/);
    assert.deepEqual((await c.api('GET', '/v2/apps/prod/web/versions')).body.versions, [app.version], 'the refused POST made no version');
  });

  it('filters and embeds like Marathon', async () => {
    await c.api('POST', '/v2/apps', sleeper('/tools/cron', { labels: { tier: 'backend' } }));
    const byId = await c.api('GET', '/v2/apps?id=prod');
    assert.deepEqual(byId.body.apps.map((a: any) => a.id), ['/prod/web']);
    const byCmd = await c.api('GET', '/v2/apps?cmd=sleep');
    assert.deepEqual(byCmd.body.apps.map((a: any) => a.id), ['/tools/cron']);
    const eq = await c.api('GET', `/v2/apps?label=${encodeURIComponent('tier==frontend')}`);
    assert.deepEqual(eq.body.apps.map((a: any) => a.id), ['/prod/web']);
    const ne = await c.api('GET', `/v2/apps?label=${encodeURIComponent('tier!=frontend')}`);
    assert.deepEqual(ne.body.apps.map((a: any) => a.id), ['/tools/cron']);
    const both = await c.api('GET', `/v2/apps?label=${encodeURIComponent('tier,team==web')}`);
    assert.deepEqual(both.body.apps.map((a: any) => a.id), ['/prod/web']);
    const exists = await c.api('GET', '/v2/apps?label=team');
    assert.deepEqual(exists.body.apps.map((a: any) => a.id), ['/prod/web']);
    const inSet = await c.api('GET', `/v2/apps?label=${encodeURIComponent('tier in (backend, db)')}`);
    assert.deepEqual(inSet.body.apps.map((a: any) => a.id), ['/tools/cron']);
    assert.equal((await c.api('GET', `/v2/apps?label=${encodeURIComponent('tier==(')}`)).status, 400);

    const plain = await c.api('GET', '/v2/apps');
    const web = plain.body.apps.find((a: any) => a.id === '/prod/web');
    assert.equal(web.tasks, undefined, 'tasks only when embedded');
    assert.equal(web.tasksHealthy, 2, 'counts are always there');
    const embedded = await c.api('GET', '/v2/apps?embed=apps.tasks&embed=apps.taskStats');
    const withTasks = embedded.body.apps.find((a: any) => a.id === '/prod/web');
    assert.equal(withTasks.tasks.length, 2);
    assert.equal(withTasks.taskStats.totalSummary.stats.counts.healthy, 2);
    // the list is written as text with each definition's part kept: the very JSON of the object
    // form (taskStats left out: its lifetimes are counted to the millisecond of each call)
    for (const embeds of [[], ['tasks', 'readiness'], ['lastTaskFailure', 'counts', 'deployments']] as const) {
      for (const rec of c.m.services.listApps()) {
        const embed = new Set<AppEmbed>(embeds);
        assert.equal(appInfoText(c.m.master, c.m.services, rec, embed), JSON.stringify(appInfoJson(c.m.master, c.m.services, rec, embed)));
      }
    }
  });

  it('creates with PUT (201), changes several apps in one deployment, takes a DELETE with an empty JSON body', async () => {
    const put = await c.api('PUT', '/v2/apps/tools/put-made', { cmd: 'sleep 600', cpus: 0.05, mem: 16 });
    assert.equal(put.status, 201, put.text);
    assert.equal(put.headers.get('location'), '/v2/apps/tools/put-made');
    assert.deepEqual(Object.keys(put.body).sort(), ['deploymentId', 'version']);
    assert.equal((await c.api('GET', '/v2/apps/tools/put-made')).body.app.id, '/tools/put-made');
    await c.settled();
    // read in a list first: the definition's text is kept, and a change must not show the kept one
    assert.equal((await c.api('GET', '/v2/apps?id=/tools/put-made')).body.apps[0].instances, 1);

    const bulk = await c.api('PUT', '/v2/apps', [{ id: '/tools/put-made', instances: 2 }, sleeper('/tools/bulk-made')]);
    assert.equal(bulk.status, 200, bulk.text);
    const apps = (await c.api('GET', '/v2/apps?id=/tools/')).body.apps;
    assert.ok(apps.every((a: any) => a.deployments.length === 0 || a.deployments[0].id === bulk.body.deploymentId), 'one deployment for both');
    assert.equal(apps.find((a: any) => a.id === '/tools/put-made').instances, 2, 'an existing app is updated partially');
    assert.equal(apps.find((a: any) => a.id === '/tools/put-made').cmd, 'sleep 600');
    assert.ok(apps.some((a: any) => a.id === '/tools/bulk-made'));
    const badBulk = await c.api('PUT', '/v2/apps', [sleeper('/tools/ok'), { id: '/tools/bad', cmd: 'x', mem: -5 }]);
    assert.equal(badBulk.status, 422);
    assert.deepEqual(badBulk.body.details.map((d: any) => d.path), ['/1/mem']);
    assert.equal((await c.api('GET', '/v2/apps/tools/ok')).status, 404, 'nothing of a refused bulk change is applied');

    await c.settled();
    // Marathon clients send Content-Type: application/json on every request, bodies or not
    for (const id of ['/tools/put-made', '/tools/bulk-made']) {
      const del = await c.api('DELETE', `/v2/apps${id}`, undefined, { raw: '' });
      assert.equal(del.status, 200, del.text);
    }
    await waitFor(async () => (await c.api('GET', '/v2/apps/tools/bulk-made')).status === 404, 10_000, 'bulk apps removed');
  });

  it('refuses bad input with the offending path, and changes nothing', async () => {
    const state = async () => ({
      apps: (await c.api('GET', '/v2/apps')).body.apps.map((a: any) => `${a.id}@${a.version}:${a.instances}`),
      versions: (await c.api('GET', '/v2/apps/prod/web/versions')).body.versions,
      deployments: (await c.api('GET', '/v2/deployments')).body,
      groups: JSON.stringify((await c.api('GET', '/v2/groups')).body.groups.map((g: any) => g.id)),
    });
    const before = await state();
    const expect = async (method: string, path: string, body: unknown, status: number, at?: string, opts?: { raw?: string; token?: string }) => {
      const r = await c.api(method, path, body, opts);
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      assert.equal(typeof r.body.message, 'string');
      assert.ok(Array.isArray(r.body.details), `${method} ${path}: error shape`);
      if (at) assert.ok(r.body.details.some((d: any) => d.path === at), `${method} ${path}: no error at ${at}: ${r.text}`);
    };
    await expect('PUT', '/v2/apps/Bad_ID', { cmd: 'sleep 1' }, 422, '/id');
    await expect('POST', '/v2/apps', { id: '/bad/cpus', cmd: 'sleep 1', cpus: -1 }, 422, '/cpus');
    await expect('POST', '/v2/apps', { id: '/bad/constraint', cmd: 'sleep 1', constraints: [['hostname', 'BOGUS']] }, 422, '/constraints/0/1');
    await expect('POST', '/v2/apps', { id: '/bad/check', cmd: 'sleep 1', portDefinitions: [], healthChecks: [{ protocol: 'HTTP' }] }, 422, '/healthChecks/0');
    await expect('PUT', '/v2/apps/prod/web', { cpus: 'lots' }, 422, '/cpus');
    await expect('PUT', '/v2/apps/prod/web', { id: '/prod/other', cmd: 'x' }, 422, '/id');
    await expect('PATCH', '/v2/apps/no/such/app', { instances: 3 }, 404);
    await expect('GET', '/v2/apps/no/such/app', undefined, 404);
    await expect('GET', '/v2/apps/prod/web/versions/2001-01-01T00:00:00.000Z', undefined, 404);
    await expect('DELETE', '/v2/apps/prod/web/tasks/no-such-task', undefined, 404);
    await expect('POST', '/v2/tasks/delete', { ids: ['no-such-task'] }, 404, '/ids/0');
    await expect('DELETE', '/v2/deployments/00000000-0000-0000-0000-000000000000', undefined, 404);
    await expect(
      'POST',
      '/v2/groups',
      { id: '/cycle', apps: [sleeper('a', { dependencies: ['b'] }), sleeper('b', { dependencies: ['/cycle/c'] }), sleeper('c', { dependencies: ['a'] })] },
      422,
      '/apps/0/dependencies/0',
    );
    await expect('POST', '/v2/apps', undefined, 400, undefined, { raw: '{"id": "/x", ' });
    await expect('POST', '/v2/apps', [sleeper('/x')], 400);
    await expect('PUT', '/v2/apps/prod/web', { instances: 5 }, 403, undefined, { token: viewer });
    await expect('DELETE', '/v2/apps/prod/web', undefined, 403, undefined, { token: viewer });
    await expect('POST', '/v2/apps', sleeper('/prod'), 409, '/id'); // /prod is a group
    await expect('POST', '/v2/apps', sleeper('/prod/web/inner'), 409, '/id'); // inside an app
    assert.deepEqual(await state(), before);
    // a viewer may read everything
    assert.equal((await c.api('GET', '/v2/apps/prod/web', undefined, { token: viewer })).status, 200);
    assert.equal((await c.api('GET', '/v2/groups', undefined, { token: viewer })).status, 200);
  });

  it('scales with PUT/PATCH, locks during a deployment, keeps versions and rolls back', async () => {
    const v1 = (await c.api('GET', '/v2/apps/prod/web')).body.app.version as string;
    // three instances on two hosts with UNIQUE: one waits, and the queue says why
    const up = await c.api('PATCH', '/v2/apps/prod/web', { instances: 3 });
    assert.equal(up.status, 200, up.text);
    assert.deepEqual(Object.keys(up.body).sort(), ['deploymentId', 'version']);
    const q = await waitFor(async () => {
      const r = await c.api('GET', '/v2/queue');
      const e = r.body.queue[0];
      return e && e.processedOffersSummary.processedOffersCount > 0 && e;
    }, 10_000, 'a queued instance');
    assert.equal(q.app.id, '/prod/web');
    assert.equal(q.count, 1);
    assert.deepEqual(q.delay, { timeLeftSeconds: 0, overdue: true });
    assert.ok(q.processedOffersSummary.rejectSummaryLastOffers.some((s: any) => s.reason === 'UnfulfilledConstraint' && s.declined > 0));
    const deployments = (await c.api('GET', '/v2/deployments')).body;
    assert.equal(deployments.length, 1);
    assert.deepEqual(deployments[0].affectedApps, ['/prod/web']);
    assert.deepEqual(deployments[0].steps, [{ actions: [{ action: 'ScaleApplication', app: '/prod/web' }] }]);
    assert.deepEqual(deployments[0].currentActions, [{ action: 'ScaleApplication', app: '/prod/web', readinessCheckResults: [] }]);
    assert.equal(deployments[0].currentStep, 1);
    assert.equal(deployments[0].totalSteps, 1);
    assert.equal(deployments[0].id, up.body.deploymentId);

    const locked = await c.api('PUT', '/v2/apps/prod/web', { instances: 2 });
    assert.equal(locked.status, 409);
    assert.match(locked.body.message, /locked/);
    const forced = await c.api('PUT', '/v2/apps/prod/web?force=true', { instances: 2 });
    assert.equal(forced.status, 200, forced.text);
    await c.settled();
    assert.deepEqual((await c.api('GET', '/v2/queue')).body.queue, []);

    // a configuration change replaces the instances
    const green = await c.api('PATCH', '/v2/apps/prod/web', { env: { COLOR: 'green' } });
    assert.equal(green.status, 200);
    const changed = await c.appUntil('/prod/web', (a) => a.deployments.length === 0 && a.tasksHealthy === 2 && a.tasks.every((t: any) => t.version === a.version), 'rolled to green');
    assert.equal(changed.env.COLOR, 'green');
    assert.equal(changed.version, green.body.version);
    assert.equal(changed.tasks.length, 2);
    assert.equal(changed.versionInfo.lastConfigChangeAt, green.body.version);

    const versions = (await c.api('GET', '/v2/apps/prod/web/versions')).body.versions as string[];
    assert.equal(versions.length, 4, 'create, scale up, scale down, env change');
    assert.deepEqual(versions, [...versions].sort().reverse(), 'newest first');
    assert.equal(versions[versions.length - 1], v1);
    const old = await c.api('GET', `/v2/apps/prod/web/versions/${encodeURIComponent(v1)}`);
    assert.equal(old.body.env.COLOR, 'blue');
    assert.equal(old.body.version, v1);

    const back = await c.api('PUT', '/v2/apps/prod/web', { version: v1 });
    assert.equal(back.status, 200, back.text);
    const rolled = await c.appUntil('/prod/web', (a) => a.deployments.length === 0 && a.tasksHealthy === 2 && a.tasks.every((t: any) => t.version === a.version), 'rolled back');
    assert.equal(rolled.env.COLOR, 'blue');
    assert.equal(rolled.version, back.body.version);
    assert.equal((await c.api('GET', '/v2/apps/prod/web/versions')).body.versions.length, 5);
    assert.equal((await c.api('PUT', '/v2/apps/prod/web', { version: '2001-01-01T00:00:00.000Z' })).status, 404);
  });

  it('kills tasks, with and without scaling down, and restarts', async () => {
    const app = (await c.api('GET', '/v2/apps/prod/web')).body.app;
    const onB = app.tasks.find((t: any) => t.host === 'node-b');
    const killed = await c.api('DELETE', '/v2/apps/prod/web/tasks?host=node-b');
    assert.equal(killed.status, 200, killed.text);
    assert.deepEqual(killed.body.tasks.map((t: any) => t.id), [onB.id]);
    const replaced = await c.appUntil('/prod/web', (a) => a.tasksHealthy === 2 && !a.tasks.some((t: any) => t.id === onB.id), 'a replacement on node-b');
    assert.ok(replaced.tasks.some((t: any) => t.host === 'node-b'));
    assert.equal(replaced.instances, 2);

    const victim = replaced.tasks[0].id;
    const scaled = await c.api('DELETE', `/v2/apps/prod/web/tasks/${victim}?scale=true`);
    assert.equal(scaled.status, 200, scaled.text);
    assert.deepEqual(Object.keys(scaled.body).sort(), ['deploymentId', 'version']);
    const one = await c.appUntil('/prod/web', (a) => a.instances === 1 && a.tasks.length === 1 && a.deployments.length === 0, 'scaled to one');
    assert.notEqual(one.tasks[0].id, victim);

    const before = one.tasks[0].id;
    const restart = await c.api('POST', '/v2/apps/prod/web/restart');
    assert.equal(restart.status, 200, restart.text);
    const restarted = await c.appUntil('/prod/web', (a) => a.deployments.length === 0 && a.tasksHealthy === 1 && a.tasks.length === 1 && a.tasks[0].id !== before, 'restarted');
    assert.equal(restarted.version, restart.body.version);
    assert.equal(c.m.master.getTask(before)!.state, 'TASK_KILLED');
  });

  it('cancels deployments: rollback by default, a plain stop with force', async () => {
    // more cpus than any agent has: the deployment can never finish
    const r = await c.api('POST', '/v2/apps', sleeper('/big', { cpus: 50 }));
    assert.equal(r.status, 201);
    const stop = await c.api('DELETE', `/v2/deployments/${r.body.deployments[0].id}?force=true`);
    assert.equal(stop.status, 202);
    assert.deepEqual((await c.api('GET', '/v2/deployments')).body, []);
    assert.equal((await c.api('GET', '/v2/apps/big')).status, 200, 'a forced stop leaves the app as it is');

    const scale = await c.api('PATCH', '/v2/apps/big', { instances: 2 });
    const rollback = await c.api('DELETE', `/v2/deployments/${scale.body.deploymentId}`);
    assert.equal(rollback.status, 200, rollback.text);
    assert.deepEqual(Object.keys(rollback.body).sort(), ['deploymentId', 'version']);
    assert.notEqual(rollback.body.deploymentId, scale.body.deploymentId);
    assert.equal((await c.api('GET', '/v2/apps/big')).body.app.instances, 1, 'rolled back to one instance');
    await c.api('DELETE', '/v2/apps/big?force=true');
    await waitFor(async () => (await c.api('GET', '/v2/apps/big')).status === 404, 10_000, '/big removed');
  });

  it('deploys a group in dependency order, scales it and deletes it', async () => {
    const group = {
      id: '/shop',
      groups: [
        { id: '/shop/db', apps: [sleeper('/shop/db/pg')] },
        { id: '/shop/api', dependencies: ['/shop/db'], apps: [sleeper('/shop/api/rest'), sleeper('/shop/api/worker', { dependencies: ['/shop/api/rest'] })] },
      ],
    };
    const plans = new Map<string, DeploymentView>();
    const unsubscribe = c.m.master.events.subscribe((batch) => {
      for (const e of batch) if (e.kind === 'deployment' && e.op === 'put') plans.set(e.id, e.data);
    });
    const created = await c.api('POST', '/v2/groups', group);
    unsubscribe();
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(Object.keys(created.body).sort(), ['deploymentId', 'version']);
    const order = plans.get(created.body.deploymentId)!.steps.map((s) => s.map((a) => a.app));
    const step = (id: string) => order.findIndex((s) => s.includes(id));
    assert.ok(step('/shop/api/rest') < step('/shop/api/worker'), `worker after rest: ${JSON.stringify(order)}`);
    assert.ok(step('/shop/db/pg') < step('/shop/api/rest'), `the api group after the db group: ${JSON.stringify(order)}`);
    await c.settled();
    assert.equal((await c.api('POST', '/v2/groups', group)).status, 409);

    const shown = await c.api('GET', '/v2/groups/shop');
    assert.equal(shown.status, 200);
    assert.equal(shown.body.id, '/shop');
    assert.deepEqual(shown.body.groups.map((g: any) => g.id), ['/shop/api', '/shop/db']);
    assert.deepEqual(shown.body.groups[0].dependencies, ['/shop/db']);
    assert.deepEqual(shown.body.groups[0].apps.map((a: any) => a.id), ['/shop/api/rest', '/shop/api/worker']);
    assert.equal(shown.body.groups[0].apps[0].tasksRunning, 1);
    assert.deepEqual(shown.body.pods, []);
    const root = await c.api('GET', '/v2/groups');
    assert.ok(root.body.groups.some((g: any) => g.id === '/shop'));
    assert.ok(root.body.groups.some((g: any) => g.id === '/prod'));

    const scaled = await c.api('PUT', '/v2/groups/shop', { scaleBy: 2 });
    assert.equal(scaled.status, 200, scaled.text);
    await c.settled();
    const apps = (await c.api('GET', '/v2/apps?id=/shop')).body.apps;
    assert.deepEqual(apps.map((a: any) => [a.id, a.instances, a.tasksRunning]), [
      ['/shop/api/rest', 2, 2],
      ['/shop/api/worker', 2, 2],
      ['/shop/db/pg', 2, 2],
    ]);

    // PUT with `apps` replaces the group's apps: worker goes, cache comes
    const put = await c.api('PUT', '/v2/groups/shop/api', { apps: [sleeper('rest', { instances: 2 }), sleeper('cache')] });
    assert.equal(put.status, 200, put.text);
    await c.settled();
    assert.deepEqual((await c.api('GET', '/v2/apps?id=/shop/api')).body.apps.map((a: any) => a.id), ['/shop/api/cache', '/shop/api/rest']);
    assert.deepEqual((await c.api('GET', '/v2/groups/shop/api')).body.dependencies, ['/shop/db'], 'dependencies stay when not given');

    const taskIds = c.m.services.listApps().filter((a) => a.def.id.startsWith('/shop/')).flatMap((a) => c.m.services.tasksOf(a.def.id).map((t) => t.id));
    const del = await c.api('DELETE', '/v2/groups/shop');
    assert.equal(del.status, 200, del.text);
    await c.settled();
    assert.equal((await c.api('GET', '/v2/groups/shop')).status, 404);
    assert.deepEqual((await c.api('GET', '/v2/apps?id=/shop')).body.apps, []);
    await waitFor(() => taskIds.every((id) => isTerminal(c.m.master.getTask(id)!.state)), 10_000, 'group tasks ended');
  });

  it('answers /v2/info, /v2/leader and /ping', async () => {
    const info = await c.api('GET', '/v2/info');
    assert.equal(info.body.name, 'yagura');
    assert.equal(info.body.frameworkId, 'yagura-services');
    const port = Number(new URL(c.m.url).port);
    assert.equal(info.body.http_config.http_port, port);
    assert.equal(info.body.leader, `127.0.0.1:${port}`);
    assert.equal(info.body.elected, true);
    assert.equal(typeof info.body.marathon_config, 'object');
    assert.deepEqual((await c.api('GET', '/v2/leader')).body, { leader: `127.0.0.1:${port}` });
    const ping = await c.api('GET', '/ping');
    assert.equal(ping.status, 200);
    assert.equal(ping.text, 'pong');
    assert.match(ping.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal((await fetch(`${c.m.url}/ping`)).status, 401, 'only /health is public');
  });

  it('deletes an app and ends its tasks', async () => {
    const ids = c.m.services.tasksOf('/prod/web').filter((t) => !isTerminal(t.state)).map((t) => t.id);
    assert.ok(ids.length > 0);
    const r = await c.api('DELETE', '/v2/apps/prod/web');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body).sort(), ['deploymentId', 'version']);
    await waitFor(async () => (await c.api('GET', '/v2/apps/prod/web')).status === 404, 15_000, 'app gone');
    for (const id of ids) assert.equal(c.m.master.getTask(id)!.state, 'TASK_KILLED');
    assert.equal((await c.api('GET', '/v2/apps/prod/web/versions')).status, 404);
    assert.equal((await c.api('DELETE', '/v2/apps/prod/web')).status, 404);
  });
});
