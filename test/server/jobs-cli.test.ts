// `yagura job …` against a live master with a real agent: add (create, then update), list,
// show, run, history, remove; a Chronos-shaped file; errors on stderr with a non-zero exit.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servicesCluster, type ServicesCluster } from '../support/services.js';
import { waitFor } from '../support/cluster.js';
import { yagura } from '../support/cli.js';



describe('yagura job', { timeout: 120_000 }, () => {
  let c: ServicesCluster;
  let dir: string;
  let common: string[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'yagura-jobs-cli-'));
    c = await servicesCluster();
    await c.addAgent('cli-jobs');
    common = ['--master', c.m.url, '--token', c.m.adminToken];
  });

  after(async () => {
    await c.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds, lists, shows, runs, reports history and removes a job', async () => {
    const file = join(dir, 'report.json');
    const spec = { id: 'cli.report', description: 'first', run: { cmd: 'echo report-output', cpus: 0.1, mem: 32 }, schedules: [{ id: 'daily', cron: '0 3 * * *' }] };
    writeFileSync(file, JSON.stringify(spec));
    const added = await yagura(['job', 'add', file, ...common]);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout, 'job cli.report created\n');

    // the same file again, changed: an update, not a 409
    writeFileSync(file, JSON.stringify({ ...spec, description: 'second' }));
    const updated = await yagura(['job', 'add', file, ...common]);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.stdout, 'job cli.report updated\n');

    const [list, show] = await Promise.all([yagura(['job', 'list', ...common]), yagura(['job', 'show', 'cli.report', ...common])]);
    assert.equal(list.code, 0, list.stderr);
    const row = list.stdout.split('\n').find((l) => l.startsWith('cli.report'));
    assert.ok(row, list.stdout);
    assert.match(row, /0 3 \* \* \* UTC/);
    assert.match(row, /echo report-output$/);

    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^description: {2}second$/m);
    assert.match(show.stdout, /^daily +0 3 \* \* \* +UTC +ALLOW +true +\d{4}-\d{2}-\d{2}T03:00:00\.000Z$/m);

    const run = await yagura(['job', 'run', 'cli.report', ...common]);
    assert.equal(run.code, 0, run.stderr);
    const runId = /^run (\d{14}[a-z0-9]{5}) of cli\.report created/.exec(run.stdout)?.[1];
    assert.ok(runId, run.stdout);
    await waitFor(async () => {
      const res = await fetch(`${c.m.url}/v1/jobs/cli.report/runs/${runId}`, { headers: { authorization: `Bearer ${c.m.adminToken}` } });
      return ((await res.json()) as { status: string }).status === 'SUCCESS';
    }, 20_000, 'the run to succeed');
    const [history, json] = await Promise.all([yagura(['job', 'history', 'cli.report', ...common]), yagura(['job', 'history', 'cli.report', '--json', ...common])]);
    assert.equal(history.code, 0, history.stderr);
    const line = history.stdout.split('\n').find((l) => l.startsWith(runId));
    assert.ok(line, history.stdout);
    assert.match(line, /SUCCESS .* 1 +0 +completed$/);

    const runs = JSON.parse(json.stdout) as Array<{ id: string; stdout?: string }>;
    assert.equal(runs[0]!.id, runId);
    assert.equal(runs[0]!.stdout, 'report-output\n');

    const removed = await yagura(['job', 'remove', 'cli.report', ...common]);
    assert.equal(removed.code, 0, removed.stderr);
    const gone = await yagura(['job', 'show', 'cli.report', ...common]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^yagura job: 404: Job 'cli\.report' does not exist/);
    assert.equal(gone.stdout, '');
  });

  it('sends a Chronos-shaped file to the Chronos API', async () => {
    const file = join(dir, 'chronos.json');
    writeFileSync(file, JSON.stringify({ name: 'cli_chronos', command: 'echo c', schedule: 'R/2030-01-01T00:00:00Z/PT1H', epsilon: 'PT5M' }));
    const added = await yagura(['job', 'add', file, ...common]);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout, 'chronos job cli_chronos saved\n');
    const show = await yagura(['job', 'show', 'cli_chronos', '--json', ...common]);
    const job = JSON.parse(show.stdout) as { schedules: Array<{ iso8601: string; startingDeadlineSeconds: number }> };
    assert.equal(job.schedules[0]!.iso8601, 'R/2030-01-01T00:00:00Z/PT1H');
    assert.equal(job.schedules[0]!.startingDeadlineSeconds, 300);
  });

  it('reports bad input on stderr with a non-zero exit, and has help', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ id: 'cli.bad', run: { cmd: 'x' }, schedules: [{ id: 's', cron: 'not a cron' }] }));
    // independent calls: run them side by side
    const [r, missing, usage, unknown, runUnknown, help] = await Promise.all([
      yagura(['job', 'add', bad, ...common]),
      yagura(['job', 'add', join(dir, 'nope.json'), ...common]),
      yagura(['job', 'show', ...common]),
      yagura(['job', 'explode', ...common]),
      yagura(['job', 'run', 'no.such', ...common]),
      yagura(['job', '--help']),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /422: Object is not valid\n {2}\/schedules\/0\/cron: invalid cron: /);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nope\.json/);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /show needs a job id/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown job subcommand 'explode'/);
    assert.equal(runUnknown.code, 1);
    assert.match(runUnknown.stderr, /404/);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: yagura job add FILE \| list \| show ID \| run ID \| history ID \| remove ID/);
    assert.match(help.stdout, /--stop-runs/);
  });
});
