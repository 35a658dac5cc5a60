// `yagura app …` and `yagura deployment …` against a live master with a real agent.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../support/cluster.js';
import { startCluster, type MarathonCluster } from '../support/marathon-cluster.js';
import { yagura } from '../support/cli.js';



describe('yagura app / deployment', { timeout: 180_000 }, () => {
  let c: MarathonCluster;
  let common: string[];
  let file: string;
  const app = (env: Record<string, string>, extra: Record<string, unknown> = {}) => ({ id: '/cli/app', cmd: 'sleep 600', cpus: 0.05, mem: 16, instances: 1, env, ...extra });

  before(async () => {
    c = await startCluster([{ hostname: 'cli-node' }]);
    common = ['--master', c.m.url, '--token', c.m.adminToken];
    file = join(c.dir, 'app.json');
  });
  after(async () => c?.dispose());

  it('deploys a file, lists, shows and scales', async () => {
    writeFileSync(file, JSON.stringify(app({ STAGE: 'one' })));
    const created = await yagura(['app', 'deploy', file, ...common]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^created \/cli\/app: deployment [0-9a-f-]{36} started/);
    await c.appUntil('/cli/app', (a) => a.tasksRunning === 1 && a.deployments.length === 0, 'running');

    const list = await yagura(['app', 'list', ...common]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ID\s+INSTANCES\s+HEALTHY/);
    assert.match(list.stdout, /\/cli\/app\s+1\/1\s+-\s+0\.05\s+16 MiB\s+Running/);

    const show = await yagura(['app', 'show', 'cli/app', ...common]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^id:\s+\/cli\/app$/m);
    assert.match(show.stdout, /instances:\s+1 running, 0 staged of 1/);
    assert.match(show.stdout, /cli_app\.\S+\s+cli-node\s+\d+\s+TASK_RUNNING/);
    const json = await yagura(['app', 'show', '/cli/app', '--json', ...common]);
    assert.equal(JSON.parse(json.stdout).env.STAGE, 'one');

    const scale = await yagura(['app', 'scale', '/cli/app', '2', ...common]);
    assert.equal(scale.code, 0, scale.stderr);
    assert.match(scale.stdout, /scaling \/cli\/app to 2: deployment/);
    await c.appUntil('/cli/app', (a) => a.tasksRunning === 2 && a.deployments.length === 0, 'two running');
  });

  it('updates from the same file, restarts and rolls back', async () => {
    writeFileSync(file, JSON.stringify(app({ STAGE: 'two' }, { instances: 2 })));
    const updated = await yagura(['app', 'deploy', file, ...common]);
    assert.equal(updated.code, 0, updated.stderr);
    assert.match(updated.stdout, /^updated \/cli\/app: deployment/);
    const two = await c.appUntil('/cli/app', (a) => a.env.STAGE === 'two' && a.deployments.length === 0 && a.tasks.every((t: any) => t.version === a.version), 'updated');

    const restart = await yagura(['app', 'restart', '/cli/app', ...common]);
    assert.equal(restart.code, 0, restart.stderr);
    const restarted = await c.appUntil('/cli/app', (a) => a.version !== two.version && a.deployments.length === 0 && a.tasksRunning === 2 && a.tasks.every((t: any) => t.version === a.version), 'restarted');
    assert.ok(restarted.tasks.every((t: any) => !two.tasks.some((o: any) => o.id === t.id)), 'new instances');

    // to a given version first (the restart kept STAGE=two, so the one before it would change nothing)
    const versions = (await c.api('GET', '/v2/apps/cli/app/versions')).body.versions as string[];
    const first = versions[versions.length - 1]!;
    const back = await yagura(['app', 'rollback', '/cli/app', first, ...common]);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, new RegExp(`rolling /cli/app back to ${first.replace(/[.]/g, '\\.')}`));
    const rolled = await c.appUntil('/cli/app', (a) => a.env.STAGE === 'one' && a.deployments.length === 0, 'rolled back to one');
    assert.equal(rolled.instances, 1);

    // without a version: the one before the current, here the restart's
    const previous = await yagura(['app', 'rollback', 'cli/app', ...common]);
    assert.equal(previous.code, 0, previous.stderr);
    await c.appUntil('/cli/app', (a) => a.env.STAGE === 'two' && a.deployments.length === 0, 'rolled back to the version before');
  });

  it('lists and cancels deployments, deploys a group file, removes apps', async () => {
    const stuck = join(c.dir, 'stuck.json');
    writeFileSync(stuck, JSON.stringify({ id: '/cli/stuck', cmd: 'sleep 600', cpus: 64, mem: 16 }));
    assert.equal((await yagura(['app', 'deploy', stuck, ...common])).code, 0);
    const list = await yagura(['deployment', 'list', ...common]);
    assert.equal(list.code, 0, list.stderr);
    const line = list.stdout.split('\n').find((l) => l.includes('/cli/stuck'));
    assert.ok(line, list.stdout);
    assert.match(line, /^([0-9a-f-]{36})\s+\/cli\/stuck\s+StartApplication \/cli\/stuck\s+1\/1/);
    const id = line.split(/\s+/)[0]!;
    const cancel = await yagura(['deployment', 'cancel', id, ...common]);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /rolling back with deployment/);
    // rolling back a creation removes the app
    await waitFor(async () => (await c.api('GET', '/v2/apps/cli/stuck')).status === 404, 10_000, 'stuck app rolled back');

    assert.equal((await yagura(['app', 'deploy', stuck, ...common])).code, 0);
    const again = (await c.api('GET', '/v2/deployments')).body.find((d: any) => d.affectedApps.includes('/cli/stuck'));
    const stop = await yagura(['deployment', 'cancel', again.id, '--force', ...common]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /stopped/);
    assert.equal((await c.api('GET', '/v2/apps/cli/stuck')).status, 200);

    const group = join(c.dir, 'group.json');
    writeFileSync(group, JSON.stringify({ id: '/cli/batch', apps: [{ id: 'a', cmd: 'sleep 600', cpus: 0.05, mem: 16 }] }));
    const g = await yagura(['app', 'deploy', group, ...common]);
    assert.equal(g.code, 0, g.stderr);
    assert.match(g.stdout, /^group \/cli\/batch: deployment/);
    await c.appUntil('/cli/batch/a', (a) => a.tasksRunning === 1, 'group app running');

    const removed = await Promise.all(['/cli/app', '/cli/stuck', 'cli/batch/a'].map((target) => yagura(['app', 'remove', target, '--force', ...common])));
    for (const rm of removed) {
      assert.equal(rm.code, 0, rm.stderr);
      assert.match(rm.stdout, /^removing \/cli\//);
    }
    await waitFor(async () => ((await c.api('GET', '/v2/apps')).body.apps as unknown[]).length === 0, 15_000, 'all removed');
  });

  it('reports errors on stderr with a non-zero exit, and has --help', async () => {
    const invalid = join(c.dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ id: '/cli/bad', cmd: 'x', cpus: -1 }));
    const notJson = join(c.dir, 'not.json');
    writeFileSync(notJson, '{ "id": ');
    const viewerToken = c.m.auth.createToken('viewer', 'cli viewer');
    // independent runs: in parallel, each CLI start costs a second
    const [missing, bad, noFile, broken, badCount, unknown, noId, viewer, appHelp, deploymentHelp] = await Promise.all([
      yagura(['app', 'show', '/no/such', ...common]),
      yagura(['app', 'deploy', invalid, ...common]),
      yagura(['app', 'deploy', join(c.dir, 'nope.json'), ...common]),
      yagura(['app', 'deploy', notJson, ...common]),
      yagura(['app', 'scale', '/cli/app', 'many', ...common]),
      yagura(['app', 'frobnicate', ...common]),
      yagura(['deployment', 'cancel', ...common]),
      yagura(['app', 'restart', '/cli/app', '--master', c.m.url, '--token', viewerToken]),
      yagura(['app', '--help']),
      yagura(['deployment', '--help']),
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /404: App '\/no\/such' does not exist/);
    assert.equal(missing.stdout, '');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /422: .*\n\s+\/cpus: must be >= 0/);
    assert.equal(noFile.code, 1);
    assert.match(noFile.stderr, /cannot read/);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /not valid JSON/);
    assert.equal(badCount.code, 2);
    assert.match(badCount.stderr, /whole number/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown app subcommand 'frobnicate'/);
    assert.equal(noId.code, 2);
    assert.match(noId.stderr, /cancel needs a deployment id/);
    assert.equal(viewer.code, 1);
    assert.match(viewer.stderr, /403/);
    for (const [cmd, h] of [['app', appHelp], ['deployment', deploymentHelp]] as const) {
      assert.equal(h.code, 0);
      assert.match(h.stdout, new RegExp(`^usage: yagura ${cmd} `));
      assert.match(h.stdout, /--force/);
    }
  });
});
