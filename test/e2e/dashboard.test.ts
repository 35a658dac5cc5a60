import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { AgentView } from '../../protocol/types.js';
import { launchBrowser, startCluster, type Browser, type Cluster } from './harness.js';
import { commandTask, SchedulerClient } from '../support/mesos-client.js';

/** Generous: a wait that fails only when the thing never happens, not when it is slow. */
const WAIT = { timeout: 30_000 };

/** The local agent as the master knows it, once it has registered. */
async function localAgent(cluster: Cluster): Promise<AgentView> {
  const deadline = Date.now() + WAIT.timeout;
  for (;;) {
    const res = await fetch(`${cluster.url}/api/v1/agents`, { headers: { authorization: `Bearer ${cluster.token}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { agents: AgentView[] };
    const active = body.agents.find((agent) => agent.state === 'ACTIVE');
    if (active) return active;
    if (Date.now() > deadline) throw new Error(`no ACTIVE agent registered: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function openNodes(page: Page): Promise<void> {
  await page.locator('yg-app nav a', { hasText: 'Nodes' }).click();
  await page.waitForURL(/\/nodes$/);
}

describe('dashboard against a real master', () => {
  let cluster: Cluster;
  let agent: AgentView;

  before(async () => {
    cluster = await startCluster();
    agent = await localAgent(cluster);
  });
  after(async () => {
    await cluster?.stop();
  });

  it('logs in from the #token= link and lists the local agent live in Nodes', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      const origins = new Set<string>();
      page.on('request', (request) => origins.add(new URL(request.url()).origin));
      await page.goto(`${cluster.url}/#token=${encodeURIComponent(cluster.token)}`);
      await page.locator('yg-app .app-bar [role="status"]', { hasText: 'Live' }).waitFor(WAIT);
      assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address');

      await openNodes(page);
      const row = page.locator('yg-agent-table tr.row', { hasText: agent.hostname });
      await row.waitFor(WAIT);
      assert.equal((await row.locator('yg-state-chip').textContent())?.trim(), 'ACTIVE');

      // A reload keeps the session: the token stayed in this browser's storage.
      await page.reload();
      await page.locator('yg-agent-table tr.row', { hasText: agent.hostname }).waitFor(WAIT);
      assert.deepEqual([...origins], [new URL(cluster.url).origin], 'fonts, icons and code are all self-hosted');
    } finally {
      await browser.close();
    }
  });

  it('shows a task launched by a framework live, and its state change', async () => {
    const browser = await launchBrowser();
    const fw = await SchedulerClient.subscribe({ master: cluster.url, token: cluster.token, autoAck: true }, { user: 'root', name: 'e2e', roles: ['*'] });
    try {
      const page = await browser.context.newPage();
      await page.goto(`${cluster.url}/tasks#token=${encodeURIComponent(cluster.token)}`);
      await page.locator('yg-app .app-bar [role="status"]', { hasText: 'Live' }).waitFor(WAIT);

      const [offer] = await fw.offersOf([agent.id], WAIT.timeout);
      const accepted = await fw.accept([offer.id.value], [commandTask(offer, 'e2e-sleeper', { cpus: 0.1, mem: 32, command: 'sleep 600' })], 0);
      assert.equal(accepted.status, 202, accepted.text);
      const row = page.locator('yg-task-list yg-task-row', { hasText: 'e2e-sleeper' });
      await row.locator('yg-state-chip', { hasText: 'RUNNING' }).waitFor(WAIT);

      const killed = await fw.kill('e2e-sleeper');
      assert.equal(killed.status, 202, killed.text);
      await row.locator('yg-state-chip', { hasText: 'KILLED' }).waitFor(WAIT);
    } finally {
      fw.close();
      await browser.close();
    }
  });

  it('shows the login form for a wrong token, and signs in with the right one typed in', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${cluster.url}/nodes#token=not-a-real-token`);
      const login = page.locator('yg-app yg-login');
      await login.locator('[role="alert"]').waitFor(WAIT);
      // Strings, not functions: this project compiles without DOM types.
      assert.equal(await page.evaluate("localStorage.getItem('yagura.token')"), null, 'the refused token is forgotten');

      await login.locator('input').fill(cluster.token);
      await login.locator('md-filled-button').click();
      await page.locator('yg-agent-table tr.row', { hasText: agent.hostname }).waitFor(WAIT);
      assert.equal(new URL(page.url()).pathname, '/nodes');
    } finally {
      await browser.close();
    }
  });
});

describe('dashboard offline', () => {
  it('opens from the service worker when the master is gone', async () => {
    const cluster = await startCluster({ agents: false });
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${cluster.url}/#token=${encodeURIComponent(cluster.token)}`);
      await page.locator('yg-app .app-bar [role="status"]', { hasText: 'Live' }).waitFor(WAIT);
      // Installed means precached: from here on the shell needs no network.
      await page.evaluate('navigator.serviceWorker.ready.then(() => true)');

      await cluster.stop();
      await browser.context.setOffline(true);
      const response = await page.goto(`${cluster.url}/tasks`);
      assert.ok(response, 'the navigation got a response');
      assert.equal(response.fromServiceWorker(), true, 'the page came from the service worker');
      await page.locator('yg-app yg-tasks-view h1', { hasText: 'Tasks' }).waitFor(WAIT);
      await page.locator('yg-app .app-bar [role="status"]', { hasText: 'Reconnecting' }).waitFor(WAIT);
    } finally {
      await browser.close();
      await cluster.stop();
    }
  });
});
