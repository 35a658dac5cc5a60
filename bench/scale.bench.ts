// Issue #8, row 5: the master with 10,000 agents and 100,000 tasks — its RSS (target ≤ 1 GiB)
// and the time to serialize a full dashboard snapshot (target ≤ 300 ms). The cluster is the one
// of the placement run (scale-harness.ts); the agents live in another process, so this
// process's memory is the master's.
//   npx tsx bench/scale.bench.ts

import { pathToFileURL } from 'node:url';
import type { BenchResult } from './allocator.bench.js';
import { scaleRun } from './scale-harness.js';

const RSS_TARGET_MIB = 1024;
const SNAPSHOT_TARGET_MS = 300;

export async function runMasterScaleBench(): Promise<BenchResult[]> {
  const f = await scaleRun();
  process.stderr.write(
    `  master-scale: rss ${f.rssMiB} MiB after gc (peak ${f.peakRssMiB} MiB, heap ${f.heapMiB} MiB); snapshot of ${f.snapshotMiB} MiB serialized in ${f.snapshotMs.toFixed(0)} ms; ` +
      `a dashboard's hello → snapshot parsed ${f.streamSnapshotMs.toFixed(0)} ms\n`,
  );
  const scale = `${f.agents / 1000}k agents and ${f.tasks / 1000}k tasks`;
  return [
    { name: `master RSS with ${scale} (vs the 1 GiB target)`, value: f.rssMiB, unit: 'MiB', baseline: RSS_TARGET_MIB, ratio: Math.round((f.rssMiB / RSS_TARGET_MIB) * 100) / 100 },
    {
      name: `full dashboard snapshot (${f.snapshotMiB} MiB) serialized, ${scale} (vs the 300 ms target)`,
      value: Math.round(f.snapshotMs * 10) / 10,
      unit: 'ms',
      baseline: SNAPSHOT_TARGET_MS,
      ratio: Math.round((f.snapshotMs / SNAPSHOT_TARGET_MS) * 100) / 100,
    },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await runMasterScaleBench()) console.log(`${r.name}: ${r.value} ${r.unit}; baseline ${r.baseline} ${r.unit}; ratio ${r.ratio}×`);
}
