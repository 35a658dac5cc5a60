// The dashboard's tasks view with 10,000 tasks in headless Chromium, against a plain DOM table
// of the same tasks in the same page:
//   - first render: setting the data → the end of the first frame that painted the rows;
//   - 1,000 task updates, one per frame (a task going STAGING → RUNNING, applied with the
//     store's own applyEvents), each timed from its start to the end of its frame's rendering;
//   - how many task rows each update re-renders.
//   npx tsx bench/render.bench.ts        (or `npm run bench render`)
//
// The page (bench/render/page.mts) imports the real view, list, row and store modules; esbuild
// bundles it here, minified and with Lit's production build, as `vite build` ships them. The
// medians are over RUNS runs after a warm-up run, the contenders alternating which goes first.
// Frames are not capped at 60 per second (--disable-frame-rate-limit), so a run takes as long as
// its work, not 1,000 × 16.7 ms; no measurement includes waiting for a vsync.
// The plain table lays out all its 10,000 rows again on every update (over half a second each on
// a 2-core machine), so it times every 10th of the same 1,000 updates and its total is that
// sample scaled to 1,000 (BENCH_RENDER_VANILLA_EVERY=1 times all of them: minutes per run).
// BENCH_RENDER_RUNS sets the runs (5); BENCH_RENDER_DEBUG=1 prints Chromium's main-thread
// counters (script, style, layout) per run.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { CHROME_FLAGS, chromePath } from '../test/support/chrome.mjs';
import type { BenchResult } from './allocator.bench.js';
import { TASKS, UPDATES } from './render/types.js';
import type { Contender, RenderBenchPage, RenderRun, RunOptions } from './render/types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RENDER_RUNS ?? 5);

const median = (xs: readonly number[]) => quantile(xs, 0.5);

function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function round(x: number): number {
  return x >= 100 ? Math.round(x) : Math.round(x * 100) / 100;
}

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Yagura render bench</title>
    <link rel="stylesheet" href="/theme.css" />
    <style>
      body { margin: 0; background: var(--md-sys-color-surface, #fff); }
      #stage { padding: 24px; }
      table.vanilla { width: 100%; table-layout: fixed; border-collapse: collapse; font: 0.875rem/1.25rem var(--yg-font, sans-serif); color: var(--md-sys-color-on-surface, #191c20); }
      table.vanilla th { height: 44px; padding: 0 16px; text-align: start; font-size: 0.75rem; font-weight: 500; border-bottom: 1px solid var(--md-sys-color-outline-variant, #c3c7cf); }
      table.vanilla td { height: 52px; padding: 0 16px; border-bottom: 1px solid var(--md-sys-color-outline-variant, #c3c7cf); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      table.vanilla .num { text-align: end; }
      table.vanilla .mono { font-family: var(--yg-font-mono, monospace); font-size: 0.8125rem; }
      table.vanilla a { color: var(--md-sys-color-primary, #36618e); text-decoration: none; }
      table.vanilla .chip { display: inline-block; height: 24px; padding: 0 10px; border-radius: 8px; font-size: 0.75rem; line-height: 24px; }
      table.vanilla .chip.ok { background: var(--yg-tone-ok-container, #c8f0c4); }
      table.vanilla .chip.pending { background: var(--yg-tone-pending-container, #d1e4ff); }
      table.vanilla .chip.neutral { background: var(--yg-tone-neutral-container, #e0e2ec); }
    </style>
  </head>
  <body>
    <main id="stage"></main>
    <script type="module" src="/bench.js"></script>
  </body>
</html>`;

/** The page's script: the real dashboard modules, bundled the way a production build is. */
async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [join(ROOT, 'bench', 'render', 'page.mts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    // Decorators as the dashboard compiles them (experimentalDecorators, no define semantics).
    tsconfig: join(ROOT, 'tsconfig.json'),
    logLevel: 'error',
  });
  return result.outputFiles[0]!.text;
}

/** Serves the page, its script and the dashboard's theme on a loopback port; close() stops it. */
async function serve(script: string) {
  const theme = readFileSync(join(ROOT, 'src', 'styles', 'theme.css'));
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://bench').pathname;
    const [type, body] =
      path === '/'
        ? ['text/html', PAGE]
        : path === '/bench.js'
          ? ['text/javascript', script]
          : path === '/theme.css'
            ? ['text/css', theme]
            : [undefined, undefined];
    if (!type) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface RenderFigures {
  runs: Record<Contender, RenderRun[]>;
  /** The plain table timed every VANILLA_EVERY-th update. */
  vanillaEvery: number;
}

/** The plain table's updates that are timed: every n-th of the 1,000 (1 = all; minutes each run). */
const VANILLA_EVERY = Number(process.env.BENCH_RENDER_VANILLA_EVERY ?? 10);

export async function measureRender(runs = RUNS, log: (line: string) => void = () => {}): Promise<RenderFigures> {
  if (!(UPDATES % VANILLA_EVERY === 0)) throw new Error(`BENCH_RENDER_VANILLA_EVERY must divide ${UPDATES}`);
  const site = await serve(await bundle());
  const browser = await chromium.launch({
    executablePath: chromePath(),
    headless: true,
    args: [...CHROME_FLAGS, '--disable-frame-rate-limit', '--disable-gpu-vsync', '--js-flags=--expose-gc'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(site.url);
    await page.waitForFunction("document.documentElement.dataset.ready === 'true'", undefined, { timeout: 30_000 }).catch(() => {
      throw new Error(`the bench page did not start${errors.length ? `: ${errors.join('; ')}` : ''}`);
    });
    // BENCH_RENDER_DEBUG=1: where each run's main-thread time went, from Chromium's own counters.
    const cdp = process.env.BENCH_RENDER_DEBUG ? await page.context().newCDPSession(page) : undefined;
    await cdp?.send('Performance.enable');
    const counters = async () => new Map((await cdp!.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const run = async (contender: Contender, options: RunOptions) => {
      const before = cdp && (await counters());
      const result = await page.evaluate(([c, o]) => (globalThis as unknown as { renderBench: RenderBenchPage }).renderBench.run(c, o), [contender, options] as const);
      if (before) {
        const after = await counters();
        const spent = (name: string) => `${name.replace(/Duration$/, '')} ${(((after.get(name) ?? 0) - (before.get(name) ?? 0)) * 1000).toFixed(0)} ms`;
        log(`    ${contender} main thread: ${['TaskDuration', 'ScriptDuration', 'RecalcStyleDuration', 'LayoutDuration'].map(spent).join(', ')}`);
      }
      return result;
    };
    const options = (c: Contender): RunOptions => ({ every: c === 'vanilla' ? VANILLA_EVERY : 1 });
    const out: Record<Contender, RenderRun[]> = { yagura: [], vanilla: [] };
    // Warm-up: the JIT, the style sheets and Chromium's caches, for both.
    await run('yagura', { every: 1, limit: 50 });
    await run('vanilla', { every: 1, limit: 5 });
    for (let i = 0; i < runs; i++) {
      const order: Contender[] = i % 2 === 0 ? ['yagura', 'vanilla'] : ['vanilla', 'yagura'];
      for (const c of order) {
        const r = await run(c, options(c));
        out[c].push(r);
        log(`  run ${i + 1} ${c}: first render ${r.firstRenderMs.toFixed(1)} ms, ${r.updateMs.length} updates ${sum(r.updateMs).toFixed(0)} ms`);
      }
    }
    if (errors.length) throw new Error(`errors in the bench page: ${errors.join('; ')}`);
    return { runs: out, vanillaEvery: VANILLA_EVERY };
  } finally {
    await browser.close();
    await site.close();
  }
}

/** All 1,000 updates' time: measured, or for a sampled run the sample's total scaled up. */
const updatesTotal = (r: RenderRun) => (sum(r.updateMs) * UPDATES) / r.updateMs.length;

/** Rows for the `npm run bench` table: medians over the runs (per-update quantiles pooled). */
export function renderResults(figures: RenderFigures): BenchResult[] {
  const { yagura, vanilla } = figures.runs;
  const row = (name: string, unit: string, mine: number, base: number): BenchResult => ({
    name,
    value: round(mine),
    unit,
    baseline: round(base),
    ratio: Math.round((mine / Math.max(base, 0.01)) * 100) / 100,
  });
  const pooled = (runs: RenderRun[]) => runs.flatMap((r) => r.updateMs);
  const sampled = figures.vanillaEvery > 1 ? ` (plain table: 1 in ${figures.vanillaEvery} timed)` : '';
  return [
    row(`tasks view, first render of ${TASKS / 1000}k tasks vs a plain table`, 'ms', median(yagura.map((r) => r.firstRenderMs)), median(vanilla.map((r) => r.firstRenderMs))),
    row(`tasks view, ${UPDATES.toLocaleString('en')} task updates one per frame, total${sampled}`, 'ms', median(yagura.map(updatesTotal)), median(vanilla.map(updatesTotal))),
    row('tasks view, one task update to painted, p50', 'ms', median(pooled(yagura)), median(pooled(vanilla))),
    row('tasks view, one task update to painted, p99', 'ms', quantile(pooled(yagura), 0.99), quantile(pooled(vanilla), 0.99)),
    row('tasks view, task rows re-rendered per update, p50', 'rows', median(yagura.flatMap((r) => r.rowsRendered)), median(vanilla.flatMap((r) => r.rowsRendered))),
  ];
}

export async function runRenderBench(): Promise<BenchResult[]> {
  return renderResults(await measureRender(RUNS, (line) => process.stderr.write(`${line}\n`)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await measureRender(RUNS, (line) => console.log(line));
  const { yagura, vanilla } = figures.runs;
  console.log(`\nrender: ${TASKS} tasks, ${UPDATES} updates, median of ${RUNS} runs (Chromium headless, 1280×800)`);
  for (const r of renderResults(figures)) console.log(`${r.name}: ${r.value} ${r.unit} (baseline ${r.baseline} ${r.unit}, ratio ${r.ratio})`);
  const rendered = yagura.flatMap((r) => r.rowsRendered);
  const attached = yagura.flatMap((r) => r.rowsAttached);
  const reasons: Record<string, number> = {};
  for (const r of yagura) for (const [k, n] of Object.entries(r.renderReasons)) reasons[k] = (reasons[k] ?? 0) + n;
  console.log(`yagura rows re-rendered per update: p50 ${median(rendered)}, max ${Math.max(...rendered)}; row elements added+removed per update: p50 ${median(attached)}, max ${Math.max(...attached)}`);
  console.log(`why rows re-rendered (changed property: count over ${yagura.length} × ${UPDATES} updates): ${JSON.stringify(reasons)}`);
  console.log(`rows in the DOM after the first render: yagura ${yagura[0]?.rowsInDom}, vanilla ${vanilla[0]?.rowsInDom}`);
}
