import { isTerminal } from '../../protocol/types.js';
import type { AgentState, AgentView, ServiceStatus, ServiceView, TaskState, TaskSummary } from '../../protocol/types.js';
import type { ClusterState } from '../state/cluster-state.js';
import { changedIds, forEachChange } from '../state/id-map.js';
import type { Readable } from '../state/readable.js';
import { compareHostnames, serviceOf } from '../state/labels.js';
import { memoize } from '../state/memo.js';

type Agents = ReadonlyMap<string, AgentView>;
type Tasks = ReadonlyMap<string, TaskSummary>;
type Services = ReadonlyMap<string, ServiceView>;

// Each selector is a factory with a one-entry memo. The ones over the whole store that take no
// query (sorted agents and tasks, counts per agent, hostnames) are shared by every view: a
// view that is opened again (or another view over the same data) finds the last result and
// only moves what changed since, instead of sorting 100,000 tasks anew.

/** Agents by hostname (then id): a strict order, so a changed agent can be moved, not the list re-sorted. */
const byHostname = (a: AgentView, b: AgentView) => compareHostnames(a.hostname, b.hostname) || compareIds(a.id, b.id);

const sharedAgentsByHostname = sortedValues(byHostname);
export const agentsByHostname = () => sharedAgentsByHostname;

/** Agent id → hostname; keeps its identity while no agent comes, goes or is renamed. */
export const hostnames = () => sharedHostnames;
const sharedHostnames = (() => {
  let last: { agents: Agents; names: ReadonlyMap<string, string> } | undefined;
  return (agents: Agents): ReadonlyMap<string, string> => {
    if (last?.agents === agents) return last.names;
    let renamed = !last;
    if (last) forEachChange(last.agents, agents, (_id, before, after) => (renamed ||= before?.hostname !== after?.hostname));
    const names = renamed || !last ? new Map([...agents.values()].map((a) => [a.id, a.hostname])) : last.names;
    last = { agents, names };
    return names;
  };
})();

/** Tasks still holding resources, per agent: what "Tasks" on a node means. Updated from the changed tasks. */
const sharedActiveTaskCounts = countsOf<TaskSummary>((task) => (isTerminal(task.state) ? undefined : task.agentId));
export const activeTaskCounts = () => sharedActiveTaskCounts;

/** Live tasks first, then the most recently changed (then by id: a strict order). */
const byActivity = (a: TaskSummary, b: TaskSummary) =>
  Number(isTerminal(a.state)) - Number(isTerminal(b.state)) || b.updatedAt - a.updatedAt || compareIds(a.id, b.id);

/** byActivity's first keys as one number (ascending): live before ended, then newest change first. */
const activityRank = (t: TaskSummary) => (isTerminal(t.state) ? ENDED_RANK - t.updatedAt : -t.updatedAt);
const ENDED_RANK = 2 ** 52;

/** Live tasks first, then the most recently changed. A change moves its task; the list is not sorted again. */
const sharedTasksByActivity = sortedValues(byActivity, activityRank, (a, b) => compareIds(a.id, b.id));
export const tasksByActivity = () => sharedTasksByActivity;

/** How to run work when the page is idle; the default is requestIdleCallback, waiting at most `timeoutMs`. */
export type IdleScheduler = (work: () => void, timeoutMs: number) => () => void;

const browserIdle: IdleScheduler = (work, timeoutMs) => {
  if (typeof requestIdleCallback === 'function') {
    const handle = requestIdleCallback(() => work(), { timeout: timeoutMs });
    return () => cancelIdleCallback(handle);
  }
  const handle = setTimeout(work, 0);
  return () => clearTimeout(handle);
};

/**
 * Keeps the shared whole-store selectors (agents by hostname, hostnames, tasks per agent, tasks
 * by activity) current in idle time while the cluster changes, at most once per `everyMs`. A
 * view that opens finds them made and moves only what changed since, instead of sorting and
 * counting 100,000 tasks in the task that opens it; and their history (id-map.ts) never runs
 * out while no view reads them.
 */
export class SharedSelectorWarmer {
  #unsubscribe: (() => void) | undefined;
  #cancel: (() => void) | undefined;
  #last = -Infinity;

  constructor(
    private readonly cluster: Readable<ClusterState>,
    private readonly options: { idle?: IdleScheduler; now?: () => number; everyMs?: number; warm?: (state: ClusterState) => void } = {},
  ) {}

  start(): void {
    this.stop();
    this.#unsubscribe = this.cluster.subscribe(() => this.#schedule());
    this.#schedule();
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #schedule(): void {
    if (this.#cancel || !this.cluster.value.loaded) return;
    const now = this.options.now ?? Date.now;
    const wait = Math.max(0, this.#last + (this.options.everyMs ?? 1000) - now());
    const idle = this.options.idle ?? browserIdle;
    const run = () => {
      this.#cancel = undefined;
      this.#last = now();
      (this.options.warm ?? warmSharedSelectors)(this.cluster.value);
    };
    if (wait === 0) this.#cancel = idle(run, 2000);
    else {
      const timer = setTimeout(() => (this.#cancel = idle(run, 2000)), wait);
      this.#cancel = () => clearTimeout(timer);
    }
  }
}

/** Brings every shared whole-store selector up to date with `state`. */
export function warmSharedSelectors(state: ClusterState): void {
  sharedAgentsByHostname(state.agents);
  sharedHostnames(state.agents);
  sharedActiveTaskCounts(state.tasks);
  sharedTasksByActivity(state.tasks);
}

export const servicesById = () => memoize((services: Services): ServiceView[] => [...services.values()].sort((a, b) => a.id.localeCompare(b.id)));

export function countBy<T, K extends string>(items: Iterable<T>, key: (item: T) => K): Map<K, number> {
  const counts = new Map<K, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

export const taskStateCounts = () => countsOf<TaskSummary, TaskState>((t) => t.state) as (tasks: Tasks) => ReadonlyMap<TaskState, number>;
export const agentStateCounts = () => memoize((agents: Agents): Map<AgentState, number> => countBy(agents.values(), (a) => a.state));
export const serviceStatusCounts = () =>
  memoize((services: Services): Map<ServiceStatus, number> => countBy(services.values(), (s) => s.status));

/** A filter over a sorted task list, keeping the list's identity while nothing it reads changes. */
export interface TaskQuery {
  state: string;
  agent: string;
  service: string;
  q: string;
}

export function matchesTask(task: TaskSummary, query: TaskQuery): boolean {
  if (query.state === 'active' ? isTerminal(task.state) : query.state !== '' && task.state !== query.state) return false;
  if (query.agent && task.agentId !== query.agent) return false;
  if (query.service && serviceOf(task) !== query.service) return false;
  if (query.q) {
    const q = query.q.toLowerCase();
    if (!task.id.toLowerCase().includes(q) && !task.name.toLowerCase().includes(q)) return false;
  }
  return true;
}

export const filterTasks = () =>
  memoize((tasks: readonly TaskSummary[], state: string, agent: string, service: string, q: string): readonly TaskSummary[] =>
    !state && !agent && !service && !q ? tasks : tasks.filter((task) => matchesTask(task, { state, agent, service, q })),
  );

// ---------------------------------------------------------------------------------------------
// Derived data that follows a map's versions: with an IdMap that knows what changed since the
// last call, only the changed entries are looked at (100,000 tasks, a handful of changes).

/** Code-unit order: total, and much cheaper than localeCompare for the tie-breaks of 100,000 rows. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reuse the last result when changes touch fewer than 1 in this many entries. */
const INCREMENTAL_BELOW = 8;

function recentChanges<V>(prev: ReadonlyMap<string, V> | undefined, next: ReadonlyMap<string, V>): ReadonlySet<string> | undefined {
  if (!prev) return undefined;
  const changed = changedIds(prev, next);
  return changed && changed.size * INCREMENTAL_BELOW <= next.size + INCREMENTAL_BELOW ? changed : undefined;
}

/** First index whose entry is not before `value` in `order`. */
function lowerBound<V>(list: readonly V[], value: V, order: (a: V, b: V) => number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (order(list[mid]!, value) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The values of a map sorted by `order`, which must be strict (no two entries equal). A new
 * version of the map moves its changed entries: each old value is found by binary search and
 * dropped, each new one inserted where it belongs, all in one copy of the list.
 */
export function sortedValues<V>(
  order: (a: V, b: V) => number,
  rank?: (value: V) => number,
  /** With `rank`: `order` for two values of the same rank, if cheaper. */
  tie: (a: V, b: V) => number = order,
): (map: ReadonlyMap<string, V>) => readonly V[] {
  let last: { map: ReadonlyMap<string, V>; list: readonly V[] } | undefined;
  return (map) => {
    if (last?.map === map) return last.list;
    const changed = recentChanges(last?.map, map);
    const list = (changed && last && moved(last.list, last.map, map, changed, order)) || sortAll([...map.values()], order, rank, tie);
    last = { map, list };
    return list;
  };
}

/**
 * Sorts by `order`. With `rank` (a number per value that orders as `order` does wherever two
 * ranks differ), the ranks are computed once and compared as numbers, and `tie` (by default
 * `order`) settles only values of the same rank.
 */
function sortAll<V>(values: V[], order: (a: V, b: V) => number, rank: ((value: V) => number) | undefined, tie: (a: V, b: V) => number): V[] {
  if (!rank) return values.sort(order);
  const ranks = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) ranks[i] = rank(values[i]!);
  const index = new Uint32Array(values.length);
  for (let i = 0; i < index.length; i++) index[i] = i;
  const sorted = Array.from(index.sort((a, b) => ranks[a]! - ranks[b]! || tie(values[a]!, values[b]!)), (i) => values[i]!);
  return sorted;
}

function moved<V>(list: readonly V[], prev: ReadonlyMap<string, V>, next: ReadonlyMap<string, V>, changed: ReadonlySet<string>, order: (a: V, b: V) => number): V[] | undefined {
  const removed = new Set<number>();
  const inserts: V[] = [];
  for (const id of changed) {
    const before = prev.get(id);
    if (before !== undefined) {
      const at = lowerBound(list, before, order);
      if (list[at] !== before) return undefined; // not where the order says: start over
      removed.add(at);
    }
    const after = next.get(id);
    if (after !== undefined) inserts.push(after);
  }
  inserts.sort(order);
  const skip = [...removed].sort((a, b) => a - b);
  const out: V[] = new Array(list.length - skip.length + inserts.length);
  let o = 0;
  let i = 0;
  let r = 0;
  const copyTo = (end: number) => {
    for (; i < end; i++) {
      if (r < skip.length && skip[r] === i) r++;
      else out[o++] = list[i]!;
    }
  };
  for (const value of inserts) {
    copyTo(lowerBound(list, value, order));
    out[o++] = value;
  }
  copyTo(list.length);
  return out;
}

/**
 * How many entries fall in each group (`groupOf` undefined: in none). A new version of the map
 * adjusts the counts by its changed entries, and the result keeps its identity when they do not
 * move any count.
 */
export function countsOf<V, K = string>(groupOf: (value: V) => K | undefined): (map: ReadonlyMap<string, V>) => ReadonlyMap<K, number> {
  let last: { map: ReadonlyMap<string, V>; counts: ReadonlyMap<K, number> } | undefined;
  return (map) => {
    if (last?.map === map) return last.counts;
    const changed = recentChanges(last?.map, map);
    let counts: ReadonlyMap<K, number>;
    if (changed && last) {
      const delta = new Map<K, number>();
      const add = (key: K | undefined, n: number) => key !== undefined && delta.set(key, (delta.get(key) ?? 0) + n);
      for (const id of changed) {
        const before = last.map.get(id);
        const after = map.get(id);
        if (before !== undefined) add(groupOf(before), -1);
        if (after !== undefined) add(groupOf(after), 1);
      }
      counts = last.counts;
      for (const [key, n] of delta) {
        if (n === 0) continue;
        if (counts === last.counts) counts = new Map(last.counts);
        const total = (counts.get(key) ?? 0) + n;
        if (total === 0) (counts as Map<K, number>).delete(key);
        else (counts as Map<K, number>).set(key, total);
      }
    } else {
      const full = new Map<K, number>();
      for (const value of map.values()) {
        const key = groupOf(value);
        if (key !== undefined) full.set(key, (full.get(key) ?? 0) + 1);
      }
      counts = full;
    }
    last = { map, counts };
    return counts;
  };
}
