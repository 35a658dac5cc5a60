// A service's whole life through the dashboard, against a real `yagura up`: log in, create it
// from the form, watch it run, scale it, read a task's log live, kill a task and see it
// replaced, remove it. Everything is done as a user does it: typing and clicking.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser, startCluster, type Browser, type Cluster } from './harness.js';

/** Generous: a wait that fails only when the thing never happens, not when it is slow. */
const WAIT = { timeout: 45_000 };
const APP = '/e2e/web';

// Tasks run as `nobody` with the agent's PATH. Version-manager shims in root's home (pyenv's
// `python3`) come first on some machines and fail for `nobody`; the system python is meant.
process.env.PATH = (process.env.PATH ?? '')
  .split(':')
  .filter((dir) => dir && !dir.startsWith('/root/'))
  .join(':');

interface MarathonTask {
  id: string;
  state: string;
  ports: number[];
}

async function marathon<T>(cluster: Cluster, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${cluster.url}${path}`, { headers: { authorization: `Bearer ${cluster.token}` } });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function appTasks(cluster: Cluster): Promise<MarathonTask[]> {
  const { status, body } = await marathon<{ app: { tasks?: MarathonTask[] } }>(cluster, `/v2/apps${APP}?embed=app.tasks`);
  assert.equal(status, 200);
  return body.app.tasks ?? [];
}

/** An md text field's own input (or textarea): Playwright types into it like a person. */
function input(scope: Locator, label: string): Locator {
  return scope.locator(`md-outlined-text-field[label="${label}"]`).locator('input, textarea');
}

/** Polls until `check` holds; fails with `what` when it never does. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT.timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function rowsIn(page: Page, state: string): Promise<number> {
  return page.locator('yg-service-view yg-task-row').filter({ has: page.locator('yg-state-chip', { hasText: state }) }).count();
}

describe('services through the dashboard, against a real master', () => {
  let cluster: Cluster;
  let browser: Browser;
  let page: Page;
  let marathonThere = false;

  before(async () => {
    cluster = await startCluster();
    // The Marathon API is built by another part of the project; say so plainly if it is missing.
    marathonThere = (await marathon(cluster, '/v2/info')).status === 200;
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });
  after(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  it('logs in with a typed token', async () => {
    await page.goto(`${cluster.url}/services`);
    const login = page.locator('yg-app yg-login');
    await login.locator('input').fill(cluster.token);
    await login.locator('md-filled-button').click();
    await page.locator('yg-app .app-bar [role="status"]', { hasText: 'Live' }).waitFor(WAIT);
    assert.equal(new URL(page.url()).pathname, '/services');
    await page.locator('yg-services-view yg-service-table', { hasText: 'No services yet' }).waitFor(WAIT);
  });

  it('creates a service from the form and watches it become Running', async (t) => {
    if (!marathonThere) return t.skip('GET /v2/info is not 200: the Marathon API is not there');
    await page.locator('yg-services-view md-filled-button', { hasText: 'Create service' }).click();
    await page.waitForURL(/\/services\/new$/);
    const form = page.locator('yg-service-edit-view yg-app-form');
    await input(form, 'Service ID').fill(APP);
    await input(form, 'Command').fill('python3 -m http.server $PORT0');
    await input(form, 'Instances').fill('1');
    await input(form, 'CPUs').fill('0.1');
    await input(form, 'Memory').fill('32');
    // The JSON view follows the form.
    const json = JSON.parse(await form.locator('textarea#json').inputValue()) as Record<string, unknown>;
    assert.deepEqual([json.id, json.cmd, json.instances, json.cpus, json.mem], [APP, 'python3 -m http.server $PORT0', 1, 0.1, 32]);
    await form.locator('md-filled-button', { hasText: 'Create service' }).click();

    await page.waitForURL((url) => url.pathname === `/services/${encodeURIComponent(APP)}`, WAIT);
    await page.locator('yg-service-view header yg-state-chip', { hasText: 'Running' }).waitFor(WAIT);
    await page.locator('yg-service-view dl', { hasText: '1 running of 1' }).waitFor(WAIT);
  });

  it('scales it to 2 from the Scale dialog', async (t) => {
    if (!marathonThere) return t.skip('the Marathon API is not there');
    await page.locator('yg-service-view header md-filled-tonal-button', { hasText: 'Scale' }).click();
    const dialog = page.locator('yg-service-view yg-scale-dialog');
    await input(dialog, 'Instances').fill('2');
    await dialog.locator('md-filled-button', { hasText: 'Scale' }).click();
    await page.locator('yg-service-view dl', { hasText: '2 running of 2' }).waitFor(WAIT);
    await until(async () => (await rowsIn(page, 'RUNNING')) === 2, 'two RUNNING rows in the task list');
  });

  let opened = '';

  it('opens one of its tasks and sees its log output live', async (t) => {
    if (!marathonThere) return t.skip('the Marathon API is not there');
    const link = page.locator('yg-service-view yg-task-row a.name').first();
    await link.click();
    await page.waitForURL(/\/tasks\/[^/]+$/, WAIT);
    opened = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    await page.locator('yg-task-view header yg-state-chip', { hasText: 'RUNNING' }).waitFor(WAIT);

    // http.server logs each request on stderr: make some while the page watches.
    const viewer = page.locator('yg-task-view yg-log-viewer');
    await viewer.locator('md-primary-tab', { hasText: 'stderr' }).click();
    await viewer.locator('.status', { hasText: 'Live' }).waitFor(WAIT);
    const task = (await appTasks(cluster)).find((x) => x.id === opened);
    assert.ok(task, `task ${opened} is one of ${APP}'s`);
    const marker = `/seen-live-${Date.now()}`;
    // RUNNING means the process started; the server binds its port a moment later.
    await until(async () => {
      try {
        return (await fetch(`http://127.0.0.1:${task.ports[0]}${marker}`)).status === 404;
      } catch {
        return false;
      }
    }, 'the task to answer HTTP (404: nothing is at that path)');
    await viewer.locator('pre.log', { hasText: `GET ${marker} HTTP/1.1` }).waitFor(WAIT);

    // And a second request appears without reloading: the tail is live.
    await fetch(`http://127.0.0.1:${task.ports[0]}${marker}-again`);
    await viewer.locator('pre.log', { hasText: `GET ${marker}-again HTTP/1.1` }).waitFor(WAIT);
  });

  it('kills that task and sees a replacement start', async (t) => {
    if (!marathonThere) return t.skip('the Marathon API is not there');
    await page.locator('yg-task-view header md-filled-tonal-button', { hasText: 'Kill task' }).click();
    await page.locator('yg-task-view yg-confirm-dialog md-filled-button', { hasText: 'Kill' }).click();
    await page.locator('yg-task-view header yg-state-chip', { hasText: 'KILLED' }).waitFor(WAIT);

    await page.goBack();
    await page.waitForURL((url) => url.pathname === `/services/${encodeURIComponent(APP)}`, WAIT);
    const killed = page.locator('yg-service-view yg-task-row', { hasText: opened });
    await killed.locator('yg-state-chip', { hasText: 'KILLED' }).waitFor(WAIT);
    await page.locator('yg-service-view dl', { hasText: '2 running of 2' }).waitFor(WAIT);
    const running = (await appTasks(cluster)).filter((x) => x.state === 'TASK_RUNNING').map((x) => x.id);
    assert.equal(running.length, 2);
    assert.ok(!running.includes(opened), 'a new task replaced the killed one');
    for (const id of running) {
      await page.locator('yg-service-view yg-task-row', { hasText: id }).locator('yg-state-chip', { hasText: 'RUNNING' }).waitFor(WAIT);
    }
  });

  it('removes the service after confirming', async (t) => {
    if (!marathonThere) return t.skip('the Marathon API is not there');
    await page.locator('yg-service-view header md-text-button', { hasText: 'Remove' }).click();
    await page.locator('yg-service-view yg-confirm-dialog md-filled-button', { hasText: 'Remove' }).click();
    await page.waitForURL((url) => url.pathname === '/services', WAIT);
    await page.locator('yg-services-view yg-service-table', { hasText: 'No services yet' }).waitFor(WAIT);
    assert.equal((await marathon(cluster, `/v2/apps${APP}`)).status, 404);
  });
});
