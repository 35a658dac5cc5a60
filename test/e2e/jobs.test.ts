// A job through the dashboard, against a real `yagura up`: log in, see jobs created through the
// Metronome API with their schedule and dependency, run one now from its page, and watch the
// run go live to a successful end with its output, and its dependent job run after it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchBrowser, logIn, startCluster, type Browser, type Cluster } from './harness.js';

/** Generous: a wait that fails only when the thing never happens, not when it is slow. */
const WAIT = { timeout: 45_000 };
const JOB = 'e2e.hello';
const CHILD = 'e2e.after';

interface Run {
  id: string;
  status: string;
  trigger: string;
  exitCode?: number;
  stdout?: string;
}

async function call<T>(cluster: Cluster, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${cluster.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${cluster.token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** The row of a job in the jobs table. */
function jobRow(page: Page, id: string) {
  return page.locator('yg-jobs-view yg-job-table tbody tr.row').filter({ has: page.locator('td.title a', { hasText: id }) });
}

describe('jobs through the dashboard, against a real master', () => {
  let cluster: Cluster;
  let browser: Browser;
  let page: Page;
  let runId = '';

  before(async () => {
    cluster = await startCluster();
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });
  after(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  it('logs in with a typed token and says there are no jobs yet', async () => {
    await logIn(page, cluster, '/jobs', WAIT.timeout);
    assert.equal(new URL(page.url()).pathname, '/jobs');
    await page.locator('yg-jobs-view yg-job-table', { hasText: 'No jobs yet' }).waitFor(WAIT);
  });

  it('shows jobs created through the API, live, with schedule and dependency', async () => {
    const created = await call(cluster, '/v1/jobs', {
      method: 'POST',
      body: {
        id: JOB,
        description: 'Says hello',
        run: { cmd: 'echo hello-from-job; echo a-warning >&2', cpus: 0.1, mem: 32, disk: 0 },
        // Far from now, so only Run now starts it during the test.
        schedules: [{ id: 'yearly', cron: '0 0 1 1 *', timezone: 'UTC' }],
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const child = await call(cluster, '/v1/jobs', {
      method: 'POST',
      body: { id: CHILD, run: { cmd: 'echo after-the-parent', cpus: 0.1, mem: 32, disk: 0 }, dependencies: [{ id: JOB }] },
    });
    assert.equal(child.status, 201, JSON.stringify(child.body));

    const row = jobRow(page, JOB);
    await row.waitFor(WAIT);
    await row.locator('td[data-label="Status"]', { hasText: 'Scheduled' }).waitFor(WAIT);
    await row.locator('td[data-label="Schedule"]', { hasText: '0 0 1 1 *' }).waitFor(WAIT);
    await row.locator('td[data-label="Next run"] time').waitFor(WAIT);
    await row.locator('td[data-label="Last run"]', { hasText: 'Never run' }).waitFor(WAIT);
    await jobRow(page, CHILD).locator('td[data-label="Schedule"]', { hasText: `after ${JOB}` }).waitFor(WAIT);

    // The dependency graph draws the two, parent before child.
    await page.locator('yg-jobs-view md-primary-tab', { hasText: 'Dependency graph' }).click();
    await page.waitForURL(/\/jobs\?view=graph$/, WAIT);
    const graph = page.locator('yg-jobs-view yg-job-graph');
    await graph.locator(`svg a[href="/jobs/${CHILD}"]`).waitFor(WAIT);
    assert.match((await graph.locator(`svg a[href="/jobs/${CHILD}"]`).getAttribute('aria-label')) ?? '', new RegExp(`runs after ${JOB.replace('.', '\\.')}`));
    await page.locator('yg-jobs-view md-primary-tab', { hasText: 'List' }).click();
    await page.waitForURL(/\/jobs$/, WAIT);
  });

  it('runs the job now from its page and sees the run succeed with its output, live', async () => {
    await jobRow(page, JOB).locator('td.title a').click();
    await page.waitForURL((url) => url.pathname === `/jobs/${JOB}`, WAIT);
    await page.locator('yg-job-view h1', { hasText: JOB }).waitFor(WAIT);
    await page.locator('yg-job-view yg-run-history', { hasText: 'No runs yet' }).waitFor(WAIT);

    await page.locator('yg-job-view header md-filled-tonal-button', { hasText: 'Run now' }).click();
    // The page opens the new run at its own address.
    await page.waitForURL((url) => url.pathname === `/jobs/${JOB}` && url.searchParams.has('run'), WAIT);
    runId = new URL(page.url()).searchParams.get('run')!;
    const history = page.locator('yg-job-view yg-run-history');
    const row = history.locator('tbody tr.row').filter({ has: page.locator('.run-id', { hasText: runId }) });
    await row.waitFor(WAIT);
    await row.locator('td[data-label="Status"]', { hasText: 'Succeeded' }).waitFor(WAIT);
    await row.locator('td[data-label="Exit code"]', { hasText: '0' }).waitFor(WAIT);
    assert.match(await row.locator('td[data-label="Duration"]').innerText(), /\d+(\.\d+)? (ms|s)/);
    const output = history.locator(`#output-${runId}`);
    await output.locator('pre', { hasText: 'hello-from-job' }).waitFor(WAIT);
    await output.locator('pre', { hasText: 'a-warning' }).waitFor(WAIT);

    // The master agrees.
    const run = await call<Run>(cluster, `/v1/jobs/${JOB}/runs/${runId}`);
    assert.equal(run.status, 200);
    assert.equal(run.body.status, 'SUCCESS');
    assert.equal(run.body.trigger, 'manual');
    assert.equal(run.body.stdout, 'hello-from-job\n');
  });

  it('sees the outcome in the list, and the dependent job run after it', async () => {
    await page.locator('yg-job-view nav.crumbs a', { hasText: 'Jobs' }).click();
    await page.waitForURL((url) => url.pathname === '/jobs', WAIT);
    await jobRow(page, JOB).locator('td[data-label="Last run"]', { hasText: 'Succeeded' }).waitFor(WAIT);
    await jobRow(page, JOB).locator('td[data-label="Runs"]', { hasText: '1 ok' }).waitFor(WAIT);
    await jobRow(page, CHILD).locator('td[data-label="Last run"]', { hasText: 'Succeeded' }).waitFor(WAIT);
    const runs = await call<Run[]>(cluster, `/v1/jobs/${CHILD}/runs?all=true`);
    assert.deepEqual(
      runs.body.map((r) => [r.status, r.trigger]),
      [['SUCCESS', 'dependency']],
    );
  });
});
