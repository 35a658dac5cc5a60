// Schedule dispatch lag with 10,000 armed schedules, 100 of them due within the same second.
//   npx tsx bench/jobs.bench.ts
//
// The jobs framework (real master, real SQLite store, no agents) gets 9,900 schedules due in
// the far future and 100 due 10 ms apart inside one second a few seconds ahead. Lag = the run's
// creation time minus its slot. The baseline, measured first in the same process, is 10,000
// plain setTimeout timers with the same due times: what one timer per schedule would give at
// best, without doing any of the work of a dispatch (a run document, its slot mark, the
// commit, the dashboard events). ratio = jobs / baseline. setTimeout may fire up to 1 ms early
// (it counts whole milliseconds), which shows as a negative baseline lag; the jobs queue waits
// that fraction out and is never early.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Master } from '../server/master/master.js';
import { SqliteStore } from '../server/store/sqlite.js';
import { JobsFramework } from '../server/frameworks/jobs/jobs.js';
import { parseChronosJob, parseMetronomeJob, type JobDefinition } from '../server/frameworks/jobs/definition.js';
import type { JobsClock } from '../server/frameworks/jobs/timers.js';
import type { BenchResult } from './allocator.bench.js';

const SCHEDULES = 10_000;
const DUE = 100;
/** How far ahead the due second is: setting up 10,000 schedules takes seconds on a busy machine. */
const LEAD_MS = Number(process.env.BENCH_JOBS_LEAD_MS ?? 10_000);

/** Wall time with sub-millisecond resolution, so a lag below 1 ms is not rounded to 0. */
const preciseNow = () => performance.timeOrigin + performance.now();

function dueTimes(): number[] {
  // the start of a second, far enough ahead for the setup to finish
  const second = Math.ceil((preciseNow() + LEAD_MS) / 1000) * 1000;
  return Array.from({ length: DUE }, (_, i) => second + i * 10);
}

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function baselineLags(): Promise<number[]> {
  const due = dueTimes();
  const lags: number[] = [];
  const far: NodeJS.Timeout[] = [];
  for (let i = 0; i < SCHEDULES - DUE; i++) far.push(setTimeout(() => {}, 3_600_000 + i));
  await new Promise<void>((resolve) => {
    let left = due.length;
    for (const at of due) {
      setTimeout(() => {
        lags.push(preciseNow() - at);
        if (--left === 0) resolve();
      }, at - preciseNow());
    }
  });
  for (const t of far) clearTimeout(t);
  return lags;
}

async function jobsLags(): Promise<{ lags: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'yagura-bench-jobs-'));
  const store = new SqliteStore(join(dir, 'yagura.db'));
  const master = new Master({ store, version: 'bench' });
  const clock: JobsClock = {
    now: preciseNow,
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  };
  const jobs = new JobsFramework({ master, clock });
  try {
    await jobs.start();
    const due = dueTimes();
    const defs: JobDefinition[] = [];
    for (let i = 0; i < SCHEDULES - DUE; i++) {
      const r = parseMetronomeJob({ id: `far.j${i}`, run: { cmd: 'true', cpus: 0.1, mem: 32 }, schedules: [{ id: 'daily', cron: `${i % 60} ${i % 24} * * *` }] });
      if (!r.ok) throw new Error(JSON.stringify(r.details));
      defs.push(r.value);
    }
    due.forEach((at, i) => {
      const r = parseChronosJob({ name: `due_${i}`, command: 'true', schedule: `R1/${new Date(at).toISOString()}/PT1H`, epsilon: 'PT60S' }, 'iso8601');
      if (!r.ok) throw new Error(JSON.stringify(r.details));
      defs.push(r.value);
    });
    // one commit for all of them: the creations are batched by the master's group commit
    await Promise.all(defs.map((d) => jobs.createJob(d)));
    if (preciseNow() > due[0]! - 200) throw new Error('setup took too long: the first slot is too close; raise BENCH_JOBS_LEAD_MS');
    if (jobs.armedEntries !== SCHEDULES) throw new Error(`armed ${jobs.armedEntries} schedules, expected ${SCHEDULES}`);
    await sleep(due[due.length - 1]! - preciseNow() + 300);
    const lags: number[] = [];
    for (let i = 0; i < DUE; i++) {
      const runs = jobs.runsOf(`due_${i}`);
      if (runs.length !== 1 || runs[0]!.scheduledAt === undefined) throw new Error(`due_${i} has ${runs.length} runs`);
      lags.push(runs[0]!.createdAt - runs[0]!.scheduledAt);
    }
    return { lags };
  } finally {
    jobs.stop();
    await master.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runJobsBench(): Promise<BenchResult[]> {
  const base = await baselineLags();
  const mine = await jobsLags();
  const row = (name: string, value: number, baseline: number): BenchResult => ({
    name,
    value: round(value),
    unit: 'ms',
    baseline: round(baseline),
    // a sub-0.01 ms baseline would make the ratio noise
    ratio: round(value / Math.max(baseline, 0.01)),
  });
  return [
    row(`dispatch lag p99, ${SCHEDULES / 1000}k schedules, ${DUE} due in 1 s`, quantile(mine.lags, 0.99), quantile(base, 0.99)),
    row(`dispatch lag p90, ${SCHEDULES / 1000}k schedules, ${DUE} due in 1 s`, quantile(mine.lags, 0.9), quantile(base, 0.9)),
  ];
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await runJobsBench()) console.log(`${r.name}: ${r.value} ${r.unit} (setTimeout baseline ${r.baseline} ${r.unit}, ratio ${r.ratio})`);
}
