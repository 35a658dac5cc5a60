// Issue #8, row 5: the master with 10,000 agents and 100,000 tasks — its RSS (target ≤ 1 GiB)
// and the time to serialize a full dashboard snapshot as the stream hub does (target ≤ 300 ms). The cluster is the one
// of the placement run (scale-harness.ts); the agents live in another process, so this
// process's memory is the master's.
//   npx tsx bench/scale.bench.ts

import { pathToFileURL } from 'node:url';
import { atMost, type BenchResult } from './table.js';
import { scaleRun } from './scale-harness.js';

export async function runMasterScaleBench(): Promise<BenchResult[]> {
  const f = await scaleRun();
  process.stderr.write(
    `  master-scale: rss ${f.rssMiB} MiB after gc (peak ${f.peakRssMiB} MiB, heap ${f.heapMiB} MiB); the stream's snapshot (${f.hubSnapshotMiB} MiB) ${f.hubSnapshotMs.toFixed(0)} ms, ` +
      `cold ${f.hubSnapshotColdMs.toFixed(0)} ms; JSON.stringify of whole tasks (${f.snapshotMiB} MiB) ${f.snapshotMs.toFixed(0)} ms; a dashboard's hello → snapshot parsed ${f.streamSnapshotMs.toFixed(0)} ms\n`,
  );
  const scale = `${f.agents / 1000}k agents and ${f.tasks / 1000}k tasks`;
  return [
    // no baseline in the same run: held to the target alone
    { name: `master RSS after GC with ${scale}`, value: f.rssMiB, unit: 'MiB', target: [atMost(1024, '1 GiB')] },
    {
      name: `full dashboard snapshot as the stream serializes it (the tasks as one compact table), ${scale} (vs JSON.stringify of the whole tasks)`,
      value: Math.round(f.hubSnapshotMs * 10) / 10,
      unit: 'ms',
      baseline: Math.round(f.snapshotMs * 10) / 10,
      ratio: Math.round((f.hubSnapshotMs / f.snapshotMs) * 100) / 100,
      target: [atMost(300)],
    },
    { name: `the same snapshot, the first one after the start, ${scale}`, value: Math.round(f.hubSnapshotColdMs * 10) / 10, unit: 'ms', target: [atMost(300)] },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await runMasterScaleBench()) console.log(`${r.name}: ${r.value} ${r.unit}`);
}
