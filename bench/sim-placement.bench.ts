// Issue #8, row 1: 100,000 instances (1,000 Marathon apps × 100, each with a constraint) placed
// onto 10,000 simulated agents through the real master, against the placement loop alone over
// the same agent table. See scale-harness.ts for the setup.
//   npx tsx bench/sim-placement.bench.ts

import { pathToFileURL } from 'node:url';
import { atLeast, ratioAtLeast, type BenchResult } from './table.js';
import { APPS, AGENTS, scaleRun } from './scale-harness.js';

export async function runSimPlacementBench(): Promise<BenchResult[]> {
  const f = await scaleRun();
  const value = Math.round(f.tasks / (f.runningMs / 1000));
  const baseline = Math.round(f.tasks / (f.baselineMs / 1000));
  process.stderr.write(
    `  sim-placement: ${f.agents} agents registered in ${(f.registerMs / 1000).toFixed(1)} s (not timed); ${APPS} POST /v2/apps took ${(f.postMs / 1000).toFixed(1)} s; ` +
      `${f.tasks} launched (committed) ${(f.launchedMs / 1000).toFixed(1)} s = ${Math.round(f.tasks / (f.launchedMs / 1000))}/s and TASK_RUNNING ${(f.runningMs / 1000).toFixed(1)} s = ${value}/s ` +
      `after the first POST; placement loop alone ${f.baselineMs.toFixed(0)} ms = ${baseline}/s; the agents sent ${f.updates} updates (${f.resent} resent)\n`,
  );
  return [
    {
      name: `${f.tasks / 1000}k instances (${APPS} apps with constraints) onto ${AGENTS / 1000}k simulated agents, first POST /v2/apps to all TASK_RUNNING (vs the OfferPool loop alone)`,
      value,
      unit: 'placements/s',
      baseline,
      ratio: Math.round((value / baseline) * 1000) / 1000,
      // issue #8, row 1: ≥ 5,000/s and ≥ 0.25× the placement loop alone
      target: [atLeast(5000), ratioAtLeast(0.25)],
    },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await runSimPlacementBench()) console.log(`${r.name}: ${r.value} ${r.unit}; baseline ${r.baseline} ${r.unit}; ratio ${r.ratio}×`);
}
