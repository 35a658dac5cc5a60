// Drag-and-drop launch against a real `yagura up` and a second agent: a catalog tile dragged
// with the mouse onto the Services list installs the package anywhere and it becomes healthy;
// dragged onto a node's row it installs pinned there (hostname:CLUSTER) and runs on that node;
// a drop by touch on a drained node is refused with the reason and installs nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser, startAgent, startCluster, stopAgent, type Browser, type Cluster } from './harness.js';

/** Generous: a wait fails only when the thing never happens. */
const WAIT = { timeout: 90_000 };
const PACKAGE = 'hello-world';

// Tasks run as `nobody` with the agent's PATH; shims in root's home would fail for it.
process.env.PATH = (process.env.PATH ?? '')
  .split(':')
  .filter((dir) => dir && !dir.startsWith('/root/'))
  .join(':');

async function api<T>(cluster: Cluster, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${cluster.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${cluster.token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function until<T>(check: () => Promise<T | undefined | false>, what: string): Promise<T> {
  const deadline = Date.now() + WAIT.timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface Agent {
  id: string;
  hostname: string;
  state: string;
}

/** Presses the mouse on `from`, moves in steps onto `to`, and lets go. */
async function mouseDrag(page: Page, from: Locator, to: Locator): Promise<void> {
  const a = (await from.boundingBox())!;
  await page.mouse.move(a.x + a.width / 3, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(a.x + a.width / 3 + 12, a.y + a.height / 2 + 12, { steps: 3 });
  await to.scrollIntoViewIfNeeded();
  const b = (await to.boundingBox())!;
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
  await page.mouse.up();
}

describe('drag-and-drop launch, against a real master', () => {
  let cluster: Cluster;
  let browser: Browser;
  let page: Page;
  let other: ChildProcess;
  let local: Agent;
  const foreign: string[] = [];

  const tile = () => page.locator('yg-catalog-tray yg-package-tile').filter({ has: page.locator('h2', { hasText: new RegExp(`^${PACKAGE}$`) }) });
  const dialog = () => page.locator('yg-deploy-launcher yg-install-dialog md-dialog[open]');
  const row = (hostname: string) => page.locator('yg-agent-table tr.row').filter({ has: page.locator('a.link', { hasText: new RegExp(`^${hostname}$`) }) });

  before(async () => {
    cluster = await startCluster({ args: ['--attributes', 'region:eu-west-1;zone:eu-west-1a'] });
    other = startAgent(cluster, 'node-b', 'region:us-east-1;zone:us-east-1b', '33001-34000');
    const list = await until(async () => {
      const { body } = await api<{ agents: Agent[] }>(cluster, '/api/v1/agents');
      return body.agents.length === 2 && body.agents;
    }, 'two agents');
    local = list.find((a) => a.hostname !== 'node-b')!;
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('request', (request) => {
      if (!request.url().startsWith(cluster.url) && !request.url().startsWith('data:')) foreign.push(request.url());
    });
    await page.goto(`${cluster.url}/services#token=${encodeURIComponent(cluster.token)}`);
    await page.locator('yg-app .app-bar [role="status"]', { hasText: 'Live' }).waitFor(WAIT);
  });
  after(async () => {
    await browser?.close();
    if (other) await stopAgent(other);
    await cluster?.stop();
  });

  it('drags a tile onto the Services list: the dialog opens, Install deploys it anywhere, and it turns healthy', async () => {
    await tile().waitFor(WAIT);
    const drop = page.locator('yg-services-view .drop');
    await mouseDrag(page, tile(), drop);
    await dialog().waitFor(WAIT);
    await page.locator('yg-deploy-launcher yg-install-dialog md-filled-button', { hasText: 'Install' }).click();
    // The new service is in the list at once, and the dialog follows it to healthy.
    await page.locator(`yg-service-table a[href="/services/${encodeURIComponent(`/${PACKAGE}`)}"]`).waitFor(WAIT);
    await page.locator('yg-deploy-launcher yg-install-dialog [role="status"]', { hasText: 'is running and healthy' }).waitFor(WAIT);
    const { body } = await api<{ app: { constraints: string[][]; labels: Record<string, string> } }>(cluster, `/v2/apps/${PACKAGE}`);
    assert.deepEqual(body.app.constraints, []);
    assert.equal(body.app.labels.DCOS_PACKAGE_NAME, PACKAGE);
    await page.locator('yg-deploy-launcher yg-install-dialog md-text-button', { hasText: 'Close' }).click();
    await dialog().waitFor({ state: 'detached', ...WAIT });
  });

  it('drags a tile onto a node: installed with hostname:CLUSTER, it runs on that node', async () => {
    await page.locator('yg-app nav a', { hasText: 'Nodes' }).click();
    await row('node-b').waitFor(WAIT);
    await tile().waitFor(WAIT);
    await mouseDrag(page, tile(), row('node-b'));
    await dialog().waitFor(WAIT);
    const notes = page.locator('yg-deploy-launcher yg-install-dialog .notice');
    assert.match((await notes.textContent()) ?? '', /Placement: runs only on node node-b \(constraint hostname:CLUSTER:node-b\)/);
    // /hello-world exists already: the name is made free for this one.
    const name = page.locator('yg-deploy-launcher yg-install-dialog yg-schema-form md-outlined-text-field[label="name"] input');
    assert.equal(await name.inputValue(), `${PACKAGE}-node-b`);
    await page.locator('yg-deploy-launcher yg-install-dialog md-filled-button', { hasText: 'Install' }).click();
    await page.locator('yg-deploy-launcher yg-install-dialog [role="status"]', { hasText: 'is running' }).waitFor(WAIT);
    const { body } = await api<{ app: { constraints: string[][]; tasks: Array<{ host: string; state: string }> } }>(cluster, `/v2/apps/${PACKAGE}-node-b?embed=app.tasks`);
    assert.deepEqual(body.app.constraints, [['hostname', 'CLUSTER', 'node-b']]);
    assert.ok(body.app.tasks.length > 0 && body.app.tasks.every((t) => t.host === 'node-b'), JSON.stringify(body.app.tasks));
    await page.locator('yg-deploy-launcher yg-install-dialog md-text-button', { hasText: 'Close' }).click();
    await page.locator('yg-deploy-launcher .notice', { hasText: `Deploying /${PACKAGE}-node-b on node node-b` }).waitFor(WAIT);
  });

  it('refuses a drop by touch on a drained node, with the reason, and installs nothing', async () => {
    const drained = await api(cluster, `/api/v1/agents/${encodeURIComponent(local.id)}/drain`, { method: 'POST', body: {} });
    assert.ok(drained.status < 300, JSON.stringify(drained.body));
    await row(local.hostname).locator('yg-state-chip', { hasText: /DRAIN/ }).waitFor(WAIT);
    // A finger: down on the tile's handle, along to the row, up (Chrome makes pointer events of it).
    const handle = tile().locator('[data-drag-handle]');
    const a = (await handle.boundingBox())!;
    const b = (await row(local.hostname).boundingBox())!;
    const cdp = await browser.context.newCDPSession(page);
    const at = (x: number, y: number) => [{ x: Math.round(x), y: Math.round(y), id: 1 }];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(a.x + a.width / 2, a.y + a.height / 2) });
    for (let i = 1; i <= 8; i++) {
      const t = i / 8;
      await cdp.send('Input.dispatchTouchEvent', {
        type: 'touchMove',
        touchPoints: at(a.x + a.width / 2 + (b.x + b.width / 2 - a.x - a.width / 2) * t, a.y + a.height / 2 + (b.y + b.height / 2 - a.y - a.height / 2) * t),
      });
    }
    const ghost = page.locator('.yg-drag-ghost .status');
    assert.match((await ghost.textContent()) ?? '', new RegExp(`^${local.hostname} is (draining|drained): it takes no new tasks$`));
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await page.locator('yg-deploy-launcher .notice[role="alert"]', { hasText: `${PACKAGE} cannot be deployed on node ${local.hostname}` }).waitFor(WAIT);
    assert.equal(await dialog().count(), 0, 'no dialog');
    const { body } = await api<{ apps: Array<{ id: string }> }>(cluster, '/v2/apps');
    assert.deepEqual(body.apps.map((x) => x.id).sort(), [`/${PACKAGE}`, `/${PACKAGE}-node-b`]);
  });

  it('asked no other origin', () => {
    assert.deepEqual(foreign, []);
  });
});
