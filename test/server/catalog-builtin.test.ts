// The built-in repository on a real agent: every package installs with its defaults and becomes
// healthy (services) or runs successfully (jobs), its code fetched from the master through
// master.yagura; one installs with options that change what it does; uninstall removes it all.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { servicesCluster, type ServicesCluster } from '../support/services.js';
import { waitFor } from '../support/cluster.js';

interface SearchHit {
  name: string;
  kind: 'service' | 'job';
  currentVersion: string;
  images: Record<string, string>;
}

describe('the built-in repository', () => {
  let c: ServicesCluster;
  let hits: SearchHit[] = [];
  const installed: Array<{ name: string; appId: string; kind: string }> = [];

  const post = async (path: string, body: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${c.m.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${c.m.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  };
  const page = async (appId: string, path = ''): Promise<{ status: number; text: string }> => {
    const res = await fetch(`${c.m.url}/service${appId}/${path}`, { headers: { Authorization: `Bearer ${c.m.adminToken}` } });
    return { status: res.status, text: await res.text() };
  };

  before(async () => {
    c = await servicesCluster();
    await c.addAgent('builtin-1', { resources: { cpus: 8, mem: 8192, disk: 8000 } });
    hits = (await post('/package/search', {})).json.packages;
  });
  after(async () => {
    await c.dispose();
  });

  it('ships at least 8 valid packages, at least 2 of them jobs, each with icons and notes', async () => {
    assert.deepEqual(c.m.catalog.builtinProblems, [], 'every built-in package reads cleanly');
    assert.ok(hits.length >= 8, `${hits.length} packages`);
    assert.ok(hits.filter((h) => h.kind === 'job').length >= 2, 'at least two jobs');
    for (const h of hits) {
      for (const size of ['icon-small', 'icon-medium', 'icon-large']) {
        assert.match(h.images[size] ?? '', /^data:image\/(svg\+xml|png);base64,/, `${h.name} ${size} is inlined`);
      }
      const d = (await post('/package/describe', { packageName: h.name })).json.package;
      assert.ok(d.config?.properties, `${h.name} has an options schema`);
      assert.ok(d.postInstallNotes, `${h.name} has post-install notes`);
      if (h.kind === 'service') {
        assert.match(d.postInstallNotes, /\/service\//, `${h.name} says how to open it`);
        const app = (await post('/package/render', { packageName: h.name })).json.marathonJson;
        assert.ok(app.healthChecks?.length > 0, `${h.name} has a health check`);
      }
    }
  });

  it('installs every package with its defaults: services become healthy and answer, jobs run successfully', async () => {
    for (const h of hits) {
      const r = await post('/package/install', { packageName: h.name });
      assert.equal(r.status, 200, `${h.name}: ${JSON.stringify(r.json)}`);
      installed.push({ name: h.name, appId: r.json.appId, kind: r.json.kind });
    }
    for (const i of installed.filter((x) => x.kind === 'service')) {
      const target = c.m.services.getApp(i.appId)!.def.instances;
      await waitFor(
        () => {
          const v = c.m.services.serviceView(i.appId);
          return v && v.tasksHealthy >= target && v.tasksRunning >= target;
        },
        90_000,
        `${i.name} healthy (${JSON.stringify(c.m.services.serviceView(i.appId)?.waiting ?? c.m.services.tasksOf(i.appId).map((t) => `${t.state} ${t.message ?? ''}`))})`,
      );
      const res = await page(i.appId);
      assert.equal(res.status, 200, `${i.name} answers through /service${i.appId}/`);
    }
    for (const i of installed.filter((x) => x.kind === 'job')) {
      const run = await c.m.jobs.runNow(i.appId);
      const done = await waitFor(
        () => {
          const r = c.m.jobs.getRun(i.appId, run.id);
          return r && (r.status === 'SUCCESS' || r.status === 'FAILED') && r;
        },
        90_000,
        `${i.name} run finished`,
      );
      assert.equal(done.status, 'SUCCESS', `${i.name}: ${JSON.stringify({ reason: done.reason, exitCode: done.exitCode, stderr: done.stderr, stdout: done.stdout })}`);
      assert.ok((done.stdout ?? '').trim().length > 0, `${i.name} printed what it did`);
    }
  });

  it('installs hello-world with options that change what it does, and an older version', async () => {
    const r = await post('/package/install', {
      packageName: 'hello-world',
      packageVersion: '1.0.0',
      appId: '/demo/custom-hello',
      options: { hello: { greeting: 'Greetings from the options' } },
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.packageVersion, '1.0.0');
    await waitFor(() => c.m.services.serviceView('/demo/custom-hello')?.tasksHealthy === 1, 60_000, 'custom hello-world healthy');
    const res = await page('/demo/custom-hello');
    assert.match(res.text, /Greetings from the options/);
    const plain = installed.find((i) => i.name === 'hello-world')!;
    assert.doesNotMatch((await page(plain.appId)).text, /Greetings from the options/, 'the default install says something else');
    installed.push({ name: 'hello-world', appId: r.json.appId, kind: 'service' });
  });

  it('uninstall removes every app, task and job it created', async () => {
    const taskIds = installed.filter((i) => i.kind === 'service').flatMap((i) => c.m.services.tasksOf(i.appId).map((t) => t.id));
    assert.ok(taskIds.length >= installed.filter((i) => i.kind === 'service').length);
    for (const i of installed) {
      const r = await post('/package/uninstall', { packageName: i.name, appId: i.appId });
      assert.equal(r.status, 200, `${i.name}: ${JSON.stringify(r.json)}`);
    }
    await waitFor(() => installed.every((i) => !c.m.services.getApp(i.appId) && !c.m.jobs.getJob(i.appId)), 30_000, 'apps and jobs gone');
    await waitFor(() => taskIds.every((id) => c.m.master.getTask(id)?.state === 'TASK_KILLED'), 30_000, 'every instance killed');
    assert.deepEqual((await post('/package/list', {})).json.packages, []);
    assert.equal(c.m.services.listApps().length, 0);
    assert.equal(c.m.jobs.listJobs().length, 0);
  });
});
