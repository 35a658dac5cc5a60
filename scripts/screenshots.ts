// Screenshots of every view against a running cluster: `npx tsx scripts/screenshots.ts [outDir]`.
// Starts `yagura up` plus two more agents, launches a few bare tasks through the Mesos scheduler
// API and deploys services through Marathon's /v2/apps, then photographs each view at desktop
// and phone widths, light and dark. Run `npm run build` first: the master serves dist/.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser, ROOT, startCluster } from '../test/e2e/harness.js';
import { commandTask, SchedulerClient } from '../test/support/mesos-client.js';

const out = resolve(process.argv[2] ?? join(ROOT, 'docs', 'screenshots'));
/** `YG_SHOTS=jobs,job` photographs only those views (the cluster is set up all the same). */
const only = (process.env.YG_SHOTS ?? '').split(',').filter(Boolean);
mkdirSync(out, { recursive: true });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Tasks run as `nobody` and inherit the agent's PATH: shims under root's home (pyenv) would be
// found first and fail, so the cluster gets a PATH of system directories only.
process.env.PATH = (process.env.PATH ?? '').split(':').filter((dir) => dir && !dir.startsWith('/root')).join(':');

// The local agent sits in us-east-1, the other two in eu-west: the nodes map has two regions.
const cluster = await startCluster({ args: ['--attributes', 'region:us-east-1;zone:us-east-1a'] });
const secret = readFileSync(join(cluster.dataDir, 'agent-secret'), 'utf8').trim();
// All agents share this machine's loopback, so each gets its own port range.
const extra = [
  ['eu-west-1a-r1', 'region:eu-west;zone:eu-west-1a;rack:r1', '32001-33000'],
  ['eu-west-1b-r4', 'region:eu-west;zone:eu-west-1b;rack:r4', '33001-34000'],
].map(([host, attrs, ports]) =>
  spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', 'agent', '--master', cluster.url, '--secret', secret, '--hostname', host!, '--attributes', attrs!, '--work-dir', join(cluster.dataDir, host!), '--resources', `cpus:8;mem:16384;disk:100000;ports:[${ports}]`, '--kill-tasks-on-exit', '--quiet'], { cwd: ROOT, stdio: 'ignore' }),
);

async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`${cluster.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${cluster.token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

interface App {
  id: string;
  version: string;
  tasksRunning: number;
  instances: number;
  deployments: Array<{ id: string }>;
  tasks?: Array<{ id: string; state: string; version: string | null }>;
}

async function waitRunning(id: string, count: number): Promise<App> {
  for (let i = 0; i < 150; i++) {
    const { app } = await api<{ app: App }>(`/v2/apps${id}?embed=app.tasks`);
    if (app.tasksRunning >= count) return app;
    await sleep(200);
  }
  throw new Error(`${id} did not reach ${count} running instances`);
}

/**
 * A full-page picture as a tall window would show it: long lists are virtualized (only rows
 * in the window exist) and the phone's navigation bar sticks to the window's bottom edge.
 */
async function shoot(page: Page, path: string, width: number, height: number): Promise<void> {
  // Some heights follow the window (vh); a few rounds settle on the page's own height.
  let tall = height;
  for (let round = 0; round < 4; round++) {
    const full = Number(await page.evaluate('document.documentElement.scrollHeight'));
    if (full <= tall) break;
    tall = full;
    await page.setViewportSize({ width, height: tall });
    await page.waitForTimeout(300);
  }
  await page.screenshot({ path, fullPage: true });
  await page.setViewportSize({ width, height });
}

/** Moves within the single-page app, so the page keeps what it sampled since it opened. */
async function go(page: Page, path: string): Promise<void> {
  await page.evaluate(`history.pushState(null, '', ${JSON.stringify(path)}); dispatchEvent(new PopStateEvent('popstate'))`);
  await page.waitForTimeout(700);
}

try {
  let agents: Array<{ id: string }> = [];
  for (let i = 0; i < 100 && agents.length < 3; i++) {
    agents = (await api<{ agents: Array<{ id: string }> }>('/api/v1/agents')).agents;
    await sleep(200);
  }

  // A few bare tasks from an external framework, ending in different states.
  const fw = await SchedulerClient.subscribe({ master: cluster.url, token: cluster.token, autoAck: true }, { user: 'root', name: 'demo', roles: ['*'] });
  const offers = await fw.offersOf(agents.map((a) => a.id), 20_000);
  const plan: Array<[string, string, number, number]> = [
    ['cache-1', 'sleep 3600', 1, 1024],
    ['report-nightly', 'true', 0.2, 64],
    ['etl-import', 'echo "importing"; echo "etl-import: source table missing" >&2; exit 3', 0.2, 128],
    ['batch-resize', 'sleep 3600', 2, 2048],
    ['to-be-killed', 'sleep 3600', 0.1, 32],
  ];
  for (const [i, offer] of offers.entries()) {
    const mine = plan.filter((_, j) => j % offers.length === i);
    await fw.accept([offer.id.value], mine.map(([id, cmd, cpus, mem]) => commandTask(offer, id, { command: cmd, cpus, mem })), 0);
  }
  // From here on the demo framework wants nothing: it must not sit on offers the services need.
  fw.stream.onEvent((e) => {
    if (e.type === 'OFFERS') void fw.decline(e.offers.offers.map((o: { id: { value: string } }) => o.id.value), 3600);
  });
  await fw.suppress();
  await sleep(2500);
  await fw.kill('to-be-killed');

  // Services through Marathon's API: a group tree, a health-checked web server, a chatty
  // worker, one that cannot be placed and one that keeps failing.
  await api('/v2/apps', {
    method: 'POST',
    body: {
      id: '/prod/web',
      cmd: 'python3 -m http.server $PORT0',
      instances: 2,
      cpus: 0.1,
      mem: 64,
      portDefinitions: [{ port: 0, name: 'http' }],
      // TCP, not HTTP: as `nobody` the server cannot list a sandbox under the data directory
      // (mode 700), so GET / answers 404 here.
      healthChecks: [{ protocol: 'TCP', portIndex: 0, gracePeriodSeconds: 30, intervalSeconds: 5, timeoutSeconds: 3, maxConsecutiveFailures: 3 }],
      labels: { team: 'storefront', tier: 'frontend' },
    },
  });
  await api('/v2/apps', {
    method: 'POST',
    body: {
      id: '/prod/api',
      cmd: 'i=0; while true; do i=$((i+1)); echo "GET /v1/orders 200 $(( $(od -An -N1 -tu1 /dev/urandom) % 40 + 3 ))ms request=$i"; if [ $((i % 7)) -eq 0 ]; then echo "slow upstream: inventory took 1200ms" >&2; fi; sleep 0.5; done',
      instances: 1,
      cpus: 0.25,
      mem: 128,
      env: { LOG_LEVEL: 'info', UPSTREAM: 'http://inventory.internal' },
      labels: { team: 'storefront' },
    },
  });
  await api('/v2/apps', { method: 'POST', body: { id: '/batch/reindex', cmd: 'sleep 3600', instances: 1, cpus: 64, mem: 256 } });
  await api('/v2/apps', { method: 'POST', body: { id: '/batch/flaky-sync', cmd: 'echo "syncing"; sleep 3; echo "upstream refused the connection" >&2; exit 1', instances: 1, cpus: 0.1, mem: 32, backoffSeconds: 5 } });
  await waitRunning('/prod/web', 2);
  await waitRunning('/prod/api', 1);
  // A second version of /prod/api, for the versions tab; its new instance is the one shown.
  await api('/v2/apps/prod/api', { method: 'PUT', body: { env: { LOG_LEVEL: 'debug', UPSTREAM: 'http://inventory.internal' } } });
  let apiTask: string | undefined;
  for (let i = 0; i < 150 && !apiTask; i++) {
    const { app } = await api<{ app: App }>('/v2/apps/prod/api?embed=app.tasks');
    if (app.deployments.length === 0) apiTask = app.tasks?.find((t) => t.version === app.version && t.state === 'TASK_RUNNING')?.id;
    await sleep(200);
  }
  if (!apiTask) throw new Error('the new version of /prod/api did not start');

  // Jobs through Metronome's API: a small ETL pipeline (one branch fails, so what follows it
  // never runs), a nightly backup with some history, and a long one that is running.
  const job = (id: string, cmd: string, extra: Record<string, unknown> = {}) =>
    api('/v1/jobs', { method: 'POST', body: { id, run: { cmd, cpus: 0.1, mem: 32, disk: 0 }, ...extra } });
  await job('etl.extract', 'echo "extracting orders for $(date -u +%F)"; sleep 2; echo "extracted 1284 rows"', {
    description: "Pulls yesterday's orders from the shop database",
    schedules: [{ id: 'quarter-hourly', cron: '*/15 * * * *', timezone: 'Europe/Berlin' }],
  });
  await job('etl.clean', 'echo "cleaning 1284 rows"; echo "3 rows without a customer id, dropped" >&2', { dependencies: [{ id: 'etl.extract' }] });
  await job('etl.audit', 'echo "checking totals against the ledger"; echo "totals differ by 12.50 EUR on 2 orders" >&2; exit 2', { dependencies: [{ id: 'etl.extract' }] });
  await job('etl.load', 'echo "loading into the warehouse"', { dependencies: [{ id: 'etl.clean' }, { id: 'etl.audit' }] });
  await job('etl.report', 'echo "report sent"', { description: 'Mails the daily sales report', dependencies: [{ id: 'etl.load' }] });
  await job('backup.db', 'echo "dumping orders"; sleep 1; echo "dump written: 42 MiB"', {
    description: 'Nightly database dump',
    schedules: [{ id: 'nightly', cron: '0 2 * * *', timezone: 'UTC' }],
  });
  await job('tools.reindex', 'echo "reindexing"; sleep 3600', { description: 'Rebuilds the search index (on demand)' });
  const runNow = (id: string) => api<{ id: string }>(`/v1/jobs/${id}/runs`, { method: 'POST', body: {} });
  interface JobRun {
    id: string;
    status: string;
  }
  const finished = async (id: string, count: number): Promise<JobRun[]> => {
    for (let i = 0; i < 150; i++) {
      const runs = await api<JobRun[]>(`/v1/jobs/${id}/runs?all=true`);
      const done = runs.filter((r) => r.status === 'SUCCESS' || r.status === 'FAILED');
      if (done.length >= count) return done;
      await sleep(200);
    }
    throw new Error(`${id} did not finish ${count} runs`);
  };
  await runNow('backup.db');
  await finished('backup.db', 1);
  await runNow('backup.db');
  await runNow('etl.extract');
  await runNow('tools.reindex');
  await finished('etl.clean', 1);
  const auditRun = (await finished('etl.audit', 1))[0]!.id;
  await finished('backup.db', 2);

  // The catalog (needs the /package API): one package installed, for its page's installed list.
  const catalogPackage = await api<{ packages: Array<{ name: string }> }>('/package/search', { method: 'POST', body: {} })
    .then((r) => (r.packages.find((p) => p.name === 'hello-world') ?? r.packages[0])?.name)
    .catch((error: unknown) => console.warn(`no catalog screenshots: ${String(error)}`));
  if (catalogPackage) await api('/package/install', { method: 'POST', body: { packageName: catalogPackage } }).catch((e: unknown) => console.warn(`catalog install: ${String(e)}`));
  await sleep(2500);

  const browser = await launchBrowser();
  try {
    for (const scheme of ['light', 'dark'] as const) {
      for (const [width, height] of [[1280, 800], [360, 760]] as const) {
        const page = await browser.context.newPage();
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize({ width, height });
        await page.goto(`${cluster.url}/#token=${encodeURIComponent(cluster.token)}`);
        await page.locator('yg-app .app-bar [role="status"]', { hasText: 'Live' }).waitFor({ timeout: 20_000 });
        // Some live changes while the page is open, for the activity feed and the sparkline.
        await sleep(5500);
        await api('/v2/apps/prod/web?force=true', { method: 'PUT', body: { instances: 3 } });
        await sleep(5500);
        await api('/v2/apps/prod/web?force=true', { method: 'PUT', body: { instances: 2 } });
        await sleep(5500);
        const shots: Array<[string, string]> = [
          ['overview', '/'],
          ['nodes', '/nodes'],
          ['nodes-map', '/nodes?view=map'],
          ['node', `/nodes/${encodeURIComponent(agents[0]!.id)}`],
          ['tasks', '/tasks'],
          ['services', '/services'],
          ['service', `/services/${encodeURIComponent('/prod/web')}`],
          ['service-waiting', `/services/${encodeURIComponent('/batch/reindex')}`],
          ['service-versions', `/services/${encodeURIComponent('/prod/api')}?tab=versions`],
          ['service-new', '/services/new'],
          ['task', `/tasks/${encodeURIComponent(apiTask)}`],
          ['jobs', '/jobs'],
          ['jobs-graph', '/jobs?view=graph'],
          ['job', `/jobs/etl.audit?run=${encodeURIComponent(auditRun)}`],
          ['job-dependencies', '/jobs/etl.clean?tab=dependencies'],
          ...(catalogPackage
            ? [
                ['catalog', '/catalog'],
                ['package', `/catalog/${encodeURIComponent(catalogPackage)}`],
                ['package-install', `/catalog/${encodeURIComponent(catalogPackage)}?install=1`],
              ]
            : []),
          ['settings', '/settings'],
        ].filter(([name]) => !only.length || only.includes(name!)) as Array<[string, string]>;
        for (const [name, path] of shots) {
          await go(page, path);
          if (name === 'task') await page.locator('yg-log-viewer pre', { hasText: 'request=' }).waitFor({ timeout: 20_000 });
          if (name === 'service-versions') await page.locator('yg-json-diff .diff').waitFor({ timeout: 20_000 });
          if (name === 'job') await page.locator('yg-run-history pre', { hasText: 'totals differ' }).waitFor({ timeout: 20_000 });
          if (name === 'catalog') await page.locator('yg-package-tile').first().waitFor({ timeout: 20_000 });
          if (name === 'nodes-map') await page.locator('yg-node-map path.land').waitFor({ timeout: 20_000 });
          if (name === 'package') await page.locator('yg-package-view #installed-title', { hasText: 'Installed (' }).waitFor({ timeout: 20_000 });
          if (name === 'package-install') await page.locator('yg-install-dialog yg-schema-form').waitFor({ timeout: 20_000 });
          await page.waitForTimeout(500);
          // A dialog is photographed as the window shows it: it is as tall as the window.
          if (name === 'package-install') await page.screenshot({ path: join(out, `${name}-${width}-${scheme}.png`) });
          else await shoot(page, join(out, `${name}-${width}-${scheme}.png`), width, height);
        }
        // A catalog tile dragged from the tray over a node's row and over a region of the map,
        // photographed mid-drag (Escape ends it without a drop).
        const drags: Array<[string, string, string]> = [
          ['drag-node', '/nodes', 'yg-agent-table tr.row'],
          ['drag-map', '/nodes?view=map', 'yg-node-map .yg-region[data-region="eu-west"]'],
        ];
        for (const [name, path, target] of drags.filter(([n]) => !only.length || only.includes(n))) {
          await go(page, path);
          const tile = page.locator('yg-catalog-tray yg-package-tile').first();
          await tile.waitFor({ timeout: 20_000 });
          if (name === 'drag-map') await page.locator('yg-node-map path.land').waitFor({ timeout: 20_000 });
          const from = (await tile.boundingBox())!;
          await page.mouse.move(from.x + from.width / 3, from.y + from.height / 2);
          await page.mouse.down();
          await page.mouse.move(from.x + from.width / 3 + 12, from.y + from.height / 2 + 12, { steps: 3 });
          const to = page.locator(target).first();
          await to.scrollIntoViewIfNeeded();
          const box = (await to.boundingBox())!;
          await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 10 });
          await page.waitForTimeout(400);
          await page.screenshot({ path: join(out, `${name}-${width}-${scheme}.png`) });
          await page.keyboard.press('Escape');
          await page.mouse.up();
        }
        await page.close();
      }
    }
  } finally {
    await browser.close();
  }
  fw.close();
  console.log(`screenshots in ${out}`);
} finally {
  for (const a of extra) a.kill('SIGTERM');
  await sleep(1500);
  await cluster.stop();
}
