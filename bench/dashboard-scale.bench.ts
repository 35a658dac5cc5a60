// Issue #8: the dashboard against a master with 10,000 simulated agents and 100,000 tasks, end to
// end in Chromium. The cluster is built as bench/scale-harness.ts builds it (a real master in
// this process, the agents in a child, 1,000 Marathon apps × 100 instances with constraints);
// the built dashboard (dist/, `npm run build`; BENCH_DIST for another build) is served by that
// master and opened at /tasks with a token, as an operator would.
//
//  - time to first data: navigation start → the first task rows on screen (the snapshot came over
//    the stream, was parsed, applied and rendered);
//  - the longest main-thread task after that (PerformanceObserver 'longtask'), while tasks keep
//    changing: BENCH_DASH_KILLS (100) tasks a second are killed over the REST API and their
//    services start replacements (each kill is ~8 events: KILLING, KILLED, the new task's put,
//    STARTING, RUNNING, agent and service changes, the pruned old task), for BENCH_DASH_WATCH_MS
//    (30 s) on the tasks page (scrolled now and then), then a tour of Overview, Services, Nodes
//    and Tasks (BENCH_DASH_TOUR_MS, 5 s each);
// (The time to serialize the snapshot is master-scale's row: bench/scale.bench.ts.)
// BENCH_DASH_PROFILE=<dir> writes a CPU profile of the page's main thread over the watch and the tour.
// BENCH_AGENTS, BENCH_APPS, BENCH_PER_APP make a smaller cluster for trial runs.
//   npx tsx bench/dashboard-scale.bench.ts      (after npm run build)

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import type { ClusterEvent } from '../protocol/types.js';
import { snapshotMessage, taskSummaryJson } from '../server/api/stream.js';
import { build, type Yagura } from '../server/app.js';
import { CHROME_FLAGS, chromePath } from '../test/support/chrome.mjs';
import { AGENTS, APPS, LAYOUT, PER_APP, RESOURCES, SimProcess, benchApps, postApps } from './scale-harness.js';
import { atMost, type BenchResult } from './table.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = process.env.BENCH_DIST ?? join(ROOT, 'dist');
const KILLS_PER_SECOND = Number(process.env.BENCH_DASH_KILLS ?? 100);
const WATCH_MS = Number(process.env.BENCH_DASH_WATCH_MS ?? 30_000);
const TOUR_MS = Number(process.env.BENCH_DASH_TOUR_MS ?? 5_000);
const PROFILE_DIR = process.env.BENCH_DASH_PROFILE;
const TIMEOUT_MS = 30 * 60_000;

const log = (s: string) => process.stderr.write(`  dashboard-scale: ${s}\n`);

export interface Cluster {
  app: Yagura;
  url: string;
  total: number;
  close(): Promise<void>;
}

/** The scale harness's cluster (its agents, apps and layout), kept running for the browser. */
export async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'yagura-bench-dash-'));
  const app = await build({ dataDir: dir, port: 0, distDir: DIST });
  const url = await app.listen();
  const sims = new SimProcess();
  const close = async () => {
    await sims.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    log(`registering ${AGENTS} simulated agents…`);
    await sims.start({ masterUrl: url, secret: app.agentSecret, agents: AGENTS, resources: RESOURCES, ...LAYOUT });
    const apps = benchApps(APPS, PER_APP);
    const total = APPS * PER_APP;
    let running = 0;
    let done: () => void = () => {};
    const allRunning = new Promise<void>((r) => (done = r));
    const unsubscribe = app.master.events.subscribe((events: readonly ClusterEvent[]) => {
      for (const e of events) if (e.kind === 'task' && e.op === 'patch' && e.data.state === 'TASK_RUNNING' && ++running === total) done();
    });
    log(`POST /v2/apps × ${APPS}, ${total} instances…`);
    const t0 = performance.now();
    await postApps(app, apps);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      allRunning,
      new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`only ${running} of ${total} running after ${TIMEOUT_MS / 60_000} min`)), TIMEOUT_MS))),
    ]).finally(() => {
      clearTimeout(timer);
      unsubscribe();
    });
    log(`all ${total} running after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return { app, url, total, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Kills `perSecond` running tasks a second over the REST API until stopped; their services replace them. */
function churn(c: Cluster, perSecond: number): { stop(): Promise<number> } {
  const headers = { authorization: `Bearer ${c.app.adminToken}`, 'content-type': 'application/json' };
  let ids: string[] = [];
  let stopped = false;
  let kills = 0;
  const refill = () => {
    ids = c.app.master.listTasks().filter((t) => t.state === 'TASK_RUNNING').map((t) => t.id);
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
  };
  const loop = (async () => {
    const tickMs = 100;
    const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
    while (!stopped) {
      const t0 = performance.now();
      if (ids.length < perTick) refill();
      await Promise.all(
        ids.splice(0, perTick).map(async (id) => {
          const res = await c.app.http.inject({ method: 'POST', url: `/api/v1/tasks/${encodeURIComponent(id)}/kill`, headers, payload: '{}' });
          if (res.statusCode === 200) kills++;
        }),
      );
      await new Promise((r) => setTimeout(r, Math.max(0, tickMs - (performance.now() - t0))));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return kills;
    },
  };
}

interface LongTask {
  start: number;
  duration: number;
}

/** Deep query through shadow roots, in the page. */
const FIRST_ROWS = `(() => {
  const app = document.querySelector('yg-app');
  const view = app?.shadowRoot?.querySelector('yg-tasks-view');
  const list = view?.shadowRoot?.querySelector('yg-task-list');
  return !!list?.shadowRoot?.querySelector('yg-task-row');
})()`;

async function longTasksSince(page: Page, since: number): Promise<LongTask[]> {
  return page.evaluate((t) => ((globalThis as unknown as { __longTasks: LongTask[] }).__longTasks ?? []).filter((x) => x.start >= t), since);
}

/** A click on the section's link in the app's navigation (client-side routing, no reload). */
async function visit(page: Page, path: string): Promise<void> {
  await page.evaluate(`(() => {
    const link = document.querySelector('yg-app')?.shadowRoot?.querySelector('nav a[href="${path}"]');
    if (!link) throw new Error('no link to ${path}');
    link.click();
  })()`);
}

export interface DashboardFigures {
  firstDataMs: number;
  longestMs: number;
  longestWatchMs: number;
  longestTourMs: number;
  longTasks: number;
  events: number;
  kills: number;
}

export async function measureDashboard(): Promise<DashboardFigures> {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`no built dashboard in ${DIST}: run npm run build (or set BENCH_DIST)`);
  // the master's timers are unref'd: keep the process alive while it waits
  const keepAlive = setInterval(() => {}, 60_000);
  const c = await startCluster();
  const profileDir = mkdtempSync(join(tmpdir(), 'yagura-bench-chromium-'));
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  try {
    const sample = c.app.master.listTasks()[0];
    if (sample) log(`a task in the snapshot: ${taskSummaryJson(sample)} (in full ${JSON.stringify(sample).length} B)`);
    log(`the snapshot a dashboard gets: ${(snapshotMessage(c.app.master, true).length / 2 ** 20).toFixed(1)} MiB`);

    let events = 0;
    const kinds = new Map<string, number>();
    const unsubscribe = c.app.master.events.subscribe((batch) => {
      events += batch.length;
      for (const e of batch) {
        const key = `${e.kind} ${e.op}${e.kind === 'task' && e.op !== 'delete' && e.data.state ? ` ${e.data.state}` : ''}`;
        kinds.set(key, (kinds.get(key) ?? 0) + 1);
      }
    });
    browser = await chromium.launch({ executablePath: chromePath(), headless: true, args: CHROME_FLAGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // before the dashboard's own code: the token (as a login leaves it) and the long-task observer
    await context.addInitScript({
      content: `localStorage.setItem('yagura.token', ${JSON.stringify(c.app.adminToken)});
        globalThis.__longTasks = [];
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) globalThis.__longTasks.push({ start: e.startTime, duration: e.duration });
        }).observe({ type: 'longtask', buffered: true });`,
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // the stream's connections: a dashboard cut off (4408) while it loads would start over
    const t00 = performance.now();
    const sockets: string[] = [];
    page.on('websocket', (ws) => {
      if (!ws.url().endsWith('/api/v1/stream')) return;
      const opened = ((performance.now() - t00) / 1000).toFixed(1);
      let first = '';
      ws.on('framereceived', (f) => {
        if (!first) first = `${((performance.now() - t00) / 1000).toFixed(1)} s (${(String(f.payload).length / 2 ** 20).toFixed(1)} MiB)`;
      });
      ws.on('close', () => sockets.push(`opened ${opened} s, first message ${first || 'none'}, closed ${((performance.now() - t00) / 1000).toFixed(1)} s`));
    });

    const cdp = PROFILE_DIR ? await context.newCDPSession(page) : undefined;
    const profile = async (name: string, restart: boolean) => {
      if (!cdp) return;
      const { profile: p } = await cdp.send('Profiler.stop');
      writeFileSync(join(PROFILE_DIR!, `dashboard-${name}.cpuprofile`), JSON.stringify(p));
      if (restart) await cdp.send('Profiler.start');
    };
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
      await cdp.send('Profiler.start');
    }
    log('opening /tasks…');
    // timed to the first rows below, not to the load event (a busy machine can take long for both)
    await page.goto(`${c.url}/tasks`, { waitUntil: 'commit', timeout: 300_000 });
    await page.waitForFunction(FIRST_ROWS, undefined, { timeout: 300_000, polling: 'raf' });
    const firstData = await page.evaluate(() => performance.now());
    log(`first task rows ${firstData.toFixed(0)} ms after navigation start${sockets.length ? `; stream connections that ended before: ${sockets.join('; ')}` : ''}`);
    await profile('load', true);
    const driver = churn(c, KILLS_PER_SECOND);
    const events0 = events;
    const t0 = performance.now();
    // the tasks page with changes flowing in; the operator scrolls now and then
    for (let k = 0; performance.now() - t0 < WATCH_MS; k++) {
      await page.mouse.move(640, 400);
      await page.mouse.wheel(0, k % 3 === 2 ? -2400 : 1200);
      await new Promise((r) => setTimeout(r, 2000));
    }
    const tourStart = await page.evaluate(() => performance.now());
    for (const path of TOUR_MS > 0 ? ['/', '/services', '/nodes', '/tasks'] : []) {
      await visit(page, path);
      await new Promise((r) => setTimeout(r, TOUR_MS));
    }
    const kills = await driver.stop();
    const seconds = (performance.now() - t0) / 1000;
    unsubscribe();
    await profile('after-load', false);
    const after = await longTasksSince(page, firstData);
    const watch = after.filter((x) => x.start < tourStart);
    const tour = after.filter((x) => x.start >= tourStart);
    const longest = (xs: LongTask[]) => xs.reduce((m, x) => Math.max(m, x.duration), 0);
    const top = [...after].sort((a, b) => b.duration - a.duration).slice(0, 5);
    log(
      `${kills} kills, ${events - events0} events in ${seconds.toFixed(0)} s (${Math.round((events - events0) / seconds)}/s); ` +
        `${after.length} long tasks after the first data, the longest ${top.map((x) => `${x.duration.toFixed(0)} ms at ${((x.start - firstData) / 1000).toFixed(1)} s`).join(', ')}; ` +
        `tour from ${((tourStart - firstData) / 1000).toFixed(1)} s`,
    );
    log(`events by kind: ${[...kinds].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    if (errors.length) log(`page errors: ${errors.slice(0, 3).join(' / ')}`);
    return {
      firstDataMs: firstData,
      longestMs: longest(after),
      longestWatchMs: longest(watch),
      longestTourMs: longest(tour),
      longTasks: after.length,
      events: events - events0,
      kills,
    };
  } finally {
    clearInterval(keepAlive);
    await browser?.close();
    rmSync(profileDir, { recursive: true, force: true });
    await c.close();
  }
}

export async function runDashboardScaleBench(): Promise<BenchResult[]> {
  const f = await measureDashboard();
  const scale = `${AGENTS / 1000}k agents and ${(APPS * PER_APP) / 1000}k tasks`;
  const round = (x: number) => Math.round(x * 10) / 10;
  return [
    { name: `dashboard in Chromium, ${scale}: time to first data (navigation to the first task rows)`, value: Math.round(f.firstDataMs), unit: 'ms' },
    {
      name: `dashboard in Chromium, ${scale}: longest main-thread task after the first data, tasks changing`,
      value: round(f.longestMs),
      unit: 'ms',
      target: [atMost(200)],
    },
    { name: 'dashboard: longest task on the tasks page (scrolling)', value: round(f.longestWatchMs), unit: 'ms' },
    { name: 'dashboard: longest task moving between Overview, Services, Nodes and Tasks', value: round(f.longestTourMs), unit: 'ms' },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await runDashboardScaleBench()) console.log(`${r.name}: ${r.value} ${r.unit}${r.baseline !== undefined ? `; baseline ${r.baseline} ${r.unit}; ratio ${r.ratio}` : ''}`);
}
