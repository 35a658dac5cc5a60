// The dependency graph between jobs (Chronos `parents`, Metronome `dependencies`). Pure.

import type { ErrorDetail } from '../../../protocol/types.js';

/** The parents of a job id, or undefined for an unknown job. */
export type Parents = (jobId: string) => readonly string[] | undefined;

/**
 * Problems with giving `jobId` these parents, in a graph where the other jobs keep theirs:
 * unknown parents (one detail per entry) and a cycle (the path through it, e.g. a → b → a).
 */
export function dependencyProblems(jobId: string, parents: readonly string[], graph: Parents, pathPrefix: string, entryPath: (i: number) => string): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  parents.forEach((p, i) => {
    if (p === jobId) out.push({ path: entryPath(i), errors: [`a job cannot depend on itself (${p})`] });
    else if (!graph(p)) out.push({ path: entryPath(i), errors: [`unknown job '${p}'`] });
  });
  const seen = new Set<string>();
  parents.forEach((p, i) => {
    if (seen.has(p)) out.push({ path: entryPath(i), errors: [`'${p}' is listed twice`] });
    seen.add(p);
  });
  if (out.length) return out;
  const cycle = findCycle(jobId, parents, graph);
  if (cycle) out.push({ path: pathPrefix, errors: [`dependency cycle: ${cycle.join(' → ')}`] });
  return out;
}

/** A path jobId → … → jobId through parent links ("depends on"), if the new parents close one. */
function findCycle(jobId: string, parents: readonly string[], graph: Parents): string[] | undefined {
  // walk up from the new parents; meeting jobId again closes a cycle
  const via = new Map<string, string>();
  const queue: string[] = [];
  for (const p of parents) {
    if (via.has(p)) continue;
    via.set(p, jobId);
    queue.push(p);
  }
  for (let i = 0; i < queue.length; i++) {
    const cur = queue[i]!;
    for (const up of graph(cur) ?? []) {
      if (up === jobId) {
        const chain: string[] = [];
        for (let at = cur; at !== jobId; at = via.get(at)!) chain.push(at);
        return [jobId, ...chain.reverse(), jobId];
      }
      if (via.has(up)) continue;
      via.set(up, cur);
      queue.push(up);
    }
  }
  return undefined;
}

/** Graphviz dot of the whole graph, colour by the last run's outcome (as Chronos draws it). */
export function toDot(jobs: Array<{ id: string; parents: readonly string[]; last?: 'success' | 'failure' | undefined }>): string {
  const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = ['digraph G {'];
  for (const j of [...jobs].sort((a, b) => a.id.localeCompare(b.id))) {
    const color = j.last === 'success' ? 'green' : j.last === 'failure' ? 'red' : 'gray';
    lines.push(`  ${q(j.id)} [style=filled color=${color}];`);
  }
  for (const j of [...jobs].sort((a, b) => a.id.localeCompare(b.id))) for (const p of j.parents) lines.push(`  ${q(p)} -> ${q(j.id)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
