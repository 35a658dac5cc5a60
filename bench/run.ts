// `npm run bench`: every benchmark, each against a baseline measured in the same run.
// Prints one table; nothing here runs in `npm test`.

import { cpus, totalmem } from 'node:os';
import { runAllocatorBench, type BenchResult } from './allocator.bench.js';
import { runLaunchBench } from './launch.bench.js';
import { runJobsBench } from './jobs.bench.js';
import { runPlacementBench } from './placement.bench.js';
import { runMarathonBench } from './marathon.bench.js';
import { runRenderBench } from './render.bench.js';
import { runSimPlacementBench } from './sim-placement.bench.js';
import { runMasterScaleBench } from './scale.bench.js';
import { runStreamBench } from './stream.bench.js';

const suites: Array<[string, () => Promise<BenchResult[]>]> = [
  ['allocator', runAllocatorBench],
  ['placement', runPlacementBench],
  ['marathon', runMarathonBench],
  ['launch', runLaunchBench],
  ['jobs', runJobsBench],
  // the dashboard's tasks view in headless Chromium (bench/render/page.mts)
  ['render', runRenderBench],
  // the dashboard stream through the real path (status update → commit → hub → sockets)
  ['stream', runStreamBench],
  // these two share one cluster of 10,000 simulated agents and 100,000 tasks (bench/scale-harness.ts)
  ['sim-placement', runSimPlacementBench],
  ['master-scale', runMasterScaleBench],
];

// one suite, or several separated by commas (sim-placement,master-scale)
const only = process.argv[2]?.split(',');
const rows: BenchResult[] = [];
for (const [name, run] of suites) {
  if (only && !only.includes(name)) continue;
  process.stderr.write(`running ${name}…\n`);
  rows.push(...(await run()));
}

const cpu = cpus()[0]?.model ?? 'unknown cpu';
console.log(`\nnode ${process.version} · ${cpus().length} cores (${cpu}) · ${Math.round(totalmem() / 2 ** 30)} GiB\n`);
const table = [['benchmark', 'yagura', 'baseline', 'ratio'], ...rows.map((r) => [r.name, `${r.value} ${r.unit}`, `${r.baseline} ${r.unit}`, `${r.ratio}×`])];
const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
for (const [i, row] of table.entries()) {
  console.log(`| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`);
  if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
}
