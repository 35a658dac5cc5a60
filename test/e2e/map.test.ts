// The nodes map against a real `yagura up` and two more agents placed by region, by zone and by
// lat/lon: Leaflet and the outlines load only when the map is opened (not with the first page),
// every marker shows its zone's nodes, a click opens the node, no request leaves the origin, and
// with the master stopped and the browser offline the map still renders from the service
// worker and the kept snapshot.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { Page } from 'playwright-core';
import { launchBrowser, startAgent, startCluster, stopAgent, type Browser, type Cluster } from './harness.js';

const WAIT = { timeout: 45_000 };

interface Agent {
  id: string;
  hostname: string;
}

async function agentList(cluster: Cluster): Promise<Agent[]> {
  const res = await fetch(`${cluster.url}/api/v1/agents`, { headers: { authorization: `Bearer ${cluster.token}` } });
  return ((await res.json()) as { agents: Agent[] }).agents;
}

const marker = (page: Page, zone: string) => page.locator(`yg-node-map .leaflet-marker-icon.yg-zone[data-zone="${zone}"]`);

describe('the nodes map, against a real master', () => {
  let cluster: Cluster;
  let browser: Browser;
  let page: Page;
  const extra: ChildProcess[] = [];
  const requests: string[] = [];
  let byHost: Map<string, Agent>;

  before(async () => {
    cluster = await startCluster({ args: ['--attributes', 'region:eu-west-1;zone:eu-west-1a'] });
    extra.push(startAgent(cluster, 'dublin-b', 'region:eu-west-1;zone:eu-west-1b', '33001-33100', 'cpus:2;mem:2048;disk:1000'));
    extra.push(startAgent(cluster, 'tokyo-lab', 'zone:tokyo-lab;lat:35.68;lon:139.76', '33101-33200', 'cpus:2;mem:2048;disk:1000'));
    const deadline = Date.now() + WAIT.timeout;
    let list: Agent[] = [];
    while ((list = await agentList(cluster)).length < 3) {
      if (Date.now() > deadline) throw new Error(`3 agents did not register: ${JSON.stringify(list)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    byHost = new Map(list.map((a) => [a.hostname, a]));
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('request', (request) => requests.push(request.url()));
  });
  after(async () => {
    await browser?.close();
    for (const child of extra) await stopAgent(child);
    await cluster?.stop();
  });

  it('loads Leaflet and the outlines only when the map is opened', async () => {
    await page.goto(`${cluster.url}/nodes#token=${encodeURIComponent(cluster.token)}`);
    await page.locator('yg-app .app-bar [role="status"]', { hasText: 'Live' }).waitFor(WAIT);
    await page.locator('yg-agent-table tr.row').nth(2).waitFor(WAIT);
    const lazy = /\/assets\/(yg-node-map|world-land)-[\w-]+\.js$/;
    assert.deepEqual(requests.filter((u) => lazy.test(u)), [], 'not with the first page, nor with the node list');
    await page.locator('yg-nodes-view md-primary-tab', { hasText: 'Map' }).click();
    await page.waitForURL(/\/nodes\?view=map$/);
    await page.locator('yg-node-map path.land').waitFor(WAIT);
    assert.equal(requests.filter((u) => /\/assets\/yg-node-map-[\w-]+\.js$/.test(u)).length, 1);
    assert.equal(requests.filter((u) => /\/assets\/world-land-[\w-]+\.js$/.test(u)).length, 1);
  });

  it('shows a marker per zone with its node count, placed by region or lat/lon, and opens a node', async () => {
    await marker(page, 'tokyo-lab').waitFor(WAIT);
    assert.equal(await page.locator('yg-node-map .leaflet-marker-icon.yg-zone').count(), 3);
    for (const zone of ['eu-west-1a', 'eu-west-1b', 'tokyo-lab']) {
      assert.equal((await marker(page, zone).locator('.count').textContent())?.trim(), '1', zone);
      assert.match((await marker(page, zone).getAttribute('aria-label')) ?? '', /1 active\. Opens /);
    }
    // Tokyo lies east of Dublin, and Dublin's two zones are side by side.
    const tokyo = (await marker(page, 'tokyo-lab').boundingBox())!;
    const a = (await marker(page, 'eu-west-1a').boundingBox())!;
    const b = (await marker(page, 'eu-west-1b').boundingBox())!;
    assert.ok(tokyo.x > a.x + 100, `tokyo at ${tokyo.x}, dublin at ${a.x}`);
    assert.ok(Math.hypot(a.x - b.x, a.y - b.y) > 40, 'the two zones do not overlap');
    assert.equal(await page.locator('yg-node-map img.leaflet-tile').count(), 0, 'no tiles: the bundled outlines');
    await marker(page, 'tokyo-lab').click();
    await page.waitForURL(new RegExp(`/nodes/${encodeURIComponent(byHost.get('tokyo-lab')!.id)}$`));
    await page.locator('yg-node-view h1', { hasText: 'tokyo-lab' }).waitFor(WAIT);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith(cluster.url) && !u.startsWith('data:')),
      [],
      'no request to any other origin',
    );
  });

  it('renders the nodes with the master stopped and the browser offline', async () => {
    await page.goBack();
    await marker(page, 'eu-west-1b').waitFor(WAIT);
    assert.equal(await page.evaluate('navigator.serviceWorker.ready.then((r) => !!r.active)'), true);
    // The page keeps its last snapshot in IndexedDB (src/state/offline-cache.ts) a moment after it changes.
    await page.waitForFunction(
      `(async () => {
        if (!(await indexedDB.databases()).some((d) => d.name === 'yagura')) return false;
        const db = await new Promise((resolve, reject) => {
          const open = indexedDB.open('yagura');
          open.onsuccess = () => resolve(open.result);
          open.onerror = () => reject(open.error);
        });
        try {
          if (!db.objectStoreNames.contains('kv')) return false;
          const record = await new Promise((resolve, reject) => {
            const get = db.transaction('kv').objectStore('kv').get('cluster');
            get.onsuccess = () => resolve(get.result);
            get.onerror = () => reject(get.error);
          });
          return !!record && record.state.agents.size >= 3;
        } finally {
          db.close();
        }
      })()`,
      undefined,
      { ...WAIT, polling: 250 },
    );
    await cluster.stop();
    await browser.context.setOffline(true);
    const response = await page.reload();
    assert.equal(response?.fromServiceWorker(), true, 'the page came from the service worker');
    await page.locator('yg-node-map path.land').waitFor(WAIT);
    for (const zone of ['eu-west-1a', 'eu-west-1b', 'tokyo-lab']) await marker(page, zone).waitFor(WAIT);
    await page.locator('yg-offline-banner .banner').waitFor(WAIT);
  });
});
