// `npm run bench`: every benchmark, each against a baseline measured in the same run.
// Prints one table; nothing here runs in `npm test`.

import { cpus, totalmem } from 'node:os';
import { runAllocatorBench, type BenchResult } from './allocator.bench.js';
import { runLaunchBench } from './launch.bench.js';
import { runJobsBench } from './jobs.bench.js';
import { runPlacementBench } from './placement.bench.js';
import { runMarathonBench } from './marathon.bench.js';

const suites: Array<[string, () => Promise<BenchResult[]>]> = [
  ['allocator', runAllocatorBench],
  ['placement', runPlacementBench],
  ['marathon', runMarathonBench],
  ['launch', runLaunchBench],
  ['jobs', runJobsBench],
];

const only = process.argv[2];
const rows: BenchResult[] = [];
for (const [name, run] of suites) {
  if (only && only !== name) continue;
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
