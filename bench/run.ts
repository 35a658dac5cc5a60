// `npm run bench`: every benchmark, each against a baseline measured in the same run, N runs
// (default 5) and one table of the medians (bench/table.ts). Nothing here runs in `npm test`.
//
//   npm run bench                              every suite, 5 runs
//   npm run bench stream                       one suite (several: `sim-placement,master-scale` or space-separated)
//   npm run bench -- --runs 1 stream           a quick look
//
// Each run of a suite is a fresh child process, so one run's memory, sockets and JIT state do
// not reach the next (the master-scale RSS is the master's alone); sim-placement and
// master-scale share one child, and so one cluster, per run. The runs go round by round (every
// suite once, then again), so load from elsewhere on the machine falls on every suite alike.
// With --runs above 1, the suites that can take a median of their own (placement, stream,
// render) measure once per run (INNER_RUNS).

import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdown, summarize, type BenchResult, type RowRuns } from './table.js';

const HERE = dirname(fileURLToPath(import.meta.url));

interface Suite {
  name: string;
  /** Module under bench/ and its exported runner. */
  module: string;
  run: string;
  /** Suites with the same group run in one child process per run (they share a cluster). */
  group?: string;
  /** Reads the built dashboard (dist/): the runner builds it first when it is missing. */
  needsBuild?: boolean;
}

const SUITES: Suite[] = [
  { name: 'allocator', module: './allocator.bench.js', run: 'runAllocatorBench' },
  { name: 'placement', module: './placement.bench.js', run: 'runPlacementBench' },
  { name: 'marathon', module: './marathon.bench.js', run: 'runMarathonBench' },
  { name: 'launch', module: './launch.bench.js', run: 'runLaunchBench' },
  { name: 'jobs', module: './jobs.bench.js', run: 'runJobsBench' },
  // the dashboard's tasks view in headless Chromium (bench/render/page.mts)
  { name: 'render', module: './render.bench.js', run: 'runRenderBench' },
  // the dashboard stream through the real path (status update → commit → hub → sockets)
  { name: 'stream', module: './stream.bench.js', run: 'runStreamBench' },
  // GET /v2/apps and the state document, idle and while sim agents are being placed onto
  { name: 'api-reads', module: './api-reads.bench.js', run: 'runApiReadsBench' },
  // these two share one cluster of 10,000 simulated agents and 100,000 tasks (bench/scale-harness.ts)
  { name: 'sim-placement', module: './sim-placement.bench.js', run: 'runSimPlacementBench', group: 'scale' },
  { name: 'master-scale', module: './scale.bench.js', run: 'runMasterScaleBench', group: 'scale' },
  // the built dashboard (dist/) in Chromium against 10,000 simulated agents and 100,000 tasks
  { name: 'dashboard-scale', module: './dashboard-scale.bench.js', run: 'runDashboardScaleBench', needsBuild: true },
];

type ChildMessage = { type: 'rows'; suite: string; rows: BenchResult[] } | { type: 'error'; suite: string; message: string };

async function runSuite(s: Suite): Promise<BenchResult[]> {
  const mod = (await import(s.module)) as Record<string, () => Promise<BenchResult[]>>;
  const fn = mod[s.run];
  if (typeof fn !== 'function') throw new Error(`${s.module} has no ${s.run}()`);
  return fn();
}

/** In a child: run the named suites once, send their rows to the parent, exit. */
async function child(names: string[]): Promise<never> {
  const send = (msg: ChildMessage) =>
    new Promise<void>((resolve) => {
      if (process.send) process.send(msg, () => resolve());
      else {
        console.log(JSON.stringify(msg));
        resolve();
      }
    });
  for (const name of names) {
    const s = SUITES.find((x) => x.name === name)!;
    try {
      await send({ type: 'rows', suite: name, rows: await runSuite(s) });
    } catch (err) {
      await send({ type: 'error', suite: name, message: (err as Error).stack ?? String(err) });
    }
  }
  // the suites' servers, browsers and timers are closed; anything left must not hold the run up
  process.exit(0);
}

/**
 * Suites that repeat their measurement inside one run (a median of 5 of their own) do it once
 * per run when this runner repeats them; set the variable to have both.
 */
const INNER_RUNS = ['BENCH_RUNS', 'BENCH_RENDER_RUNS', 'BENCH_STREAM_RUNS'];

/** One run of a group of suites in a fresh process. */
let current: ChildProcess | undefined;

function runChild(names: string[], runs: number, onMessage: (msg: ChildMessage) => void): Promise<void> {
  const env = { ...process.env };
  if (runs > 1) for (const v of INNER_RUNS) env[v] ??= '1';
  return new Promise((resolve) => {
    const c = (current = fork(fileURLToPath(import.meta.url), ['--child', names.join(',')], {
      cwd: join(HERE, '..'),
      env,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }));
    const seen = new Set<string>();
    c.on('message', (raw) => {
      const msg = raw as ChildMessage;
      seen.add(msg.suite);
      onMessage(msg);
    });
    c.once('exit', (code, signal) => {
      for (const n of names) if (!seen.has(n)) onMessage({ type: 'error', suite: n, message: `the run's process exited (${signal ?? code}) before the suite reported` });
      resolve();
    });
  });
}

function parseArgs(argv: string[]): { runs: number; only: string[] | undefined } {
  let runs = 5;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--runs' || a.startsWith('--runs=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      runs = Number(v);
      if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs takes a whole number ≥ 1, not ${v}`);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}; usage: npm run bench -- [--runs N] [suite[,suite…]]`);
    else names.push(...a.split(',').filter(Boolean));
  }
  for (const n of names) {
    if (!SUITES.some((s) => s.name === n)) throw new Error(`no suite ${n}; the suites: ${SUITES.map((s) => s.name).join(', ')}`);
  }
  return { runs, only: names.length ? names : undefined };
}

async function main(): Promise<void> {
  const { runs, only } = parseArgs(process.argv.slice(2));
  const chosen = SUITES.filter((s) => !only || only.includes(s.name));
  // consecutive suites of one group share a process
  const units: string[][] = [];
  for (const s of chosen) {
    const last = units.at(-1);
    const lastGroup = last && SUITES.find((x) => x.name === last[0])!.group;
    if (s.group && lastGroup === s.group) last!.push(s.name);
    else units.push([s.name]);
  }

  if (chosen.some((s) => s.needsBuild) && !process.env.BENCH_DIST && !existsSync(join(HERE, '..', 'dist', 'index.html'))) {
    process.stderr.write('the dashboard is not built (dist/): npm run build…\n');
    execFileSync('npm', ['run', 'build'], { cwd: join(HERE, '..'), stdio: ['ignore', 'inherit', 'inherit'] });
  }

  const started = Date.now();
  const load0 = loadavg()[0]!;
  const rows = new Map<string, RowRuns>();
  const failures: string[] = [];
  let runsDone = 0;

  /** The table of what has been gathered: at the end, or the rows so far when stopped. */
  const report = (stoppedBy?: string) => {
    const minutes = (Date.now() - started) / 60_000;
    // in suite order, each suite's rows in the order it returned them
    const ordered = chosen.flatMap((s) => [...rows.values()].filter((r) => r.suite === s.name));
    const cpu = cpus()[0]?.model ?? 'unknown cpu';
    const runsText = stoppedBy ? `stopped by ${stoppedBy} in run ${runsDone + 1} of ${runs}: medians of the runs each row got` : `median of ${runs} run${runs > 1 ? 's' : ''}`;
    console.log(
      `\nnode ${process.version} · ${cpus().length} cores (${cpu}) · ${Math.round(totalmem() / 2 ** 30)} GiB · ` +
        `${runsText} · load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} · ${minutes.toFixed(1)} min\n`,
    );
    if (ordered.length) console.log(markdown(ordered.map(summarize)));
    else console.log('(no rows yet)');
    if (failures.length) {
      console.log(`\n${failures.length} run(s) failed and are left out of the medians:`);
      for (const f of failures) console.log(`- ${f}`);
      process.exitCode = 1;
    }
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      current?.kill('SIGKILL');
      report(signal);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }

  for (let run = 1; run <= runs; run++) {
    for (const unit of units) {
      process.stderr.write(`run ${run}/${runs}: ${unit.join(', ')}… (${((Date.now() - started) / 60_000).toFixed(1)} min so far)\n`);
      await runChild(unit, runs, (msg) => {
        if (msg.type === 'error') {
          failures.push(`${msg.suite}, run ${run}: ${msg.message.split('\n').slice(0, 3).join(' / ')}`);
          process.stderr.write(`  ${msg.suite} failed: ${msg.message}\n`);
          return;
        }
        for (const r of msg.rows) {
          const key = `${msg.suite}\u0000${r.name}`;
          let acc = rows.get(key);
          if (!acc) {
            acc = { suite: msg.suite, name: r.name, unit: r.unit, target: r.target, values: [], baselines: [] };
            rows.set(key, acc);
          }
          acc.values.push(r.value);
          acc.baselines.push(r.baseline);
        }
      });
    }
    runsDone = run;
  }
  report();
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) await child(process.argv[childAt + 1]!.split(','));
else await main();
