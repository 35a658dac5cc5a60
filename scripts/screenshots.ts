// Screenshots of every view against a running cluster: `npx tsx scripts/screenshots.ts [outDir]`.
// Starts `yagura up` plus two more agents, launches tasks that end in different states through
// the Mesos scheduler API, then photographs each view at desktop and phone widths, light and dark.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { launchBrowser, ROOT, startCluster } from '../test/e2e/harness.js';
import { commandTask, SchedulerClient } from '../test/support/mesos-client.js';

const out = resolve(process.argv[2] ?? join(ROOT, 'docs', 'screenshots'));
mkdirSync(out, { recursive: true });

const cluster = await startCluster();
const secret = readFileSync(join(cluster.dataDir, 'agent-secret'), 'utf8').trim();
const extra = [
  ['eu-west-1a-r1', 'region:eu-west;zone:eu-west-1a;rack:r1'],
  ['eu-west-1b-r4', 'region:eu-west;zone:eu-west-1b;rack:r4'],
].map(([host, attrs]) =>
  spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', 'agent', '--master', cluster.url, '--secret', secret, '--hostname', host!, '--attributes', attrs!, '--work-dir', join(cluster.dataDir, host!), '--resources', 'cpus:8;mem:16384;disk:100000;ports:[31000-32000]', '--kill-tasks-on-exit', '--quiet'], { cwd: ROOT, stdio: 'ignore' }),
);

const api = async <T>(path: string) => (await (await fetch(`${cluster.url}${path}`, { headers: { authorization: `Bearer ${cluster.token}` } })).json()) as T;
try {
  let agents: Array<{ id: string }> = [];
  for (let i = 0; i < 100 && agents.length < 3; i++) {
    agents = (await api<{ agents: Array<{ id: string }> }>('/api/v1/agents')).agents;
    await new Promise((r) => setTimeout(r, 200));
  }
  const fw = await SchedulerClient.subscribe({ master: cluster.url, token: cluster.token, autoAck: true }, { user: 'root', name: 'demo', roles: ['*'] });
  const offers = await fw.offersOf(agents.map((a) => a.id), 20_000);
  const plan: Array<[string, string, number, number]> = [
    ['web-frontend-1', 'sleep 3600', 0.5, 256],
    ['web-frontend-2', 'sleep 3600', 0.5, 256],
    ['cache-1', 'sleep 3600', 1, 1024],
    ['report-nightly', 'true', 0.2, 64],
    ['etl-import', 'exit 3', 0.2, 128],
    ['batch-resize', 'sleep 3600', 2, 2048],
    ['api-gateway', 'sleep 3600', 1, 512],
    ['to-be-killed', 'sleep 3600', 0.1, 32],
  ];
  for (const [i, offer] of offers.entries()) {
    const mine = plan.filter((_, j) => j % offers.length === i);
    await fw.accept([offer.id.value], mine.map(([id, cmd, cpus, mem]) => commandTask(offer, id, { command: cmd, cpus, mem })), 0);
  }
  await new Promise((r) => setTimeout(r, 2500));
  await fw.kill('to-be-killed');
  await new Promise((r) => setTimeout(r, 1500));

  const browser = await launchBrowser();
  try {
    for (const scheme of ['light', 'dark'] as const) {
      for (const [width, height] of [[1280, 800], [360, 760]] as const) {
        const page = await browser.context.newPage();
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize({ width, height });
        await page.goto(`${cluster.url}/#token=${encodeURIComponent(cluster.token)}`);
        await page.locator('yg-app .app-bar [role="status"]', { hasText: 'Live' }).waitFor({ timeout: 20_000 });
        for (const view of ['overview', 'nodes', 'tasks']) {
          await page.goto(`${cluster.url}/${view === 'overview' ? '' : view}`);
          await page.locator('yg-app .app-bar [role="status"]', { hasText: 'Live' }).waitFor({ timeout: 20_000 });
          await page.waitForTimeout(600);
          await page.screenshot({ path: join(out, `${view}-${width}-${scheme}.png`), fullPage: true });
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
  await new Promise((r) => setTimeout(r, 1500));
  await cluster.stop();
}
