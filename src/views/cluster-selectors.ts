import { isTerminal } from '../../protocol/types.js';
import type { AgentState, AgentView, ServiceStatus, ServiceView, TaskState, TaskView } from '../../protocol/types.js';
import { serviceOf } from '../state/labels.js';
import { memoize } from '../state/memo.js';

type Agents = ReadonlyMap<string, AgentView>;
type Tasks = ReadonlyMap<string, TaskView>;
type Services = ReadonlyMap<string, ServiceView>;

// Each selector is a factory: every view instance gets its own one-entry memo.

export const agentsByHostname = () =>
  memoize((agents: Agents): AgentView[] =>
    [...agents.values()].sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id)),
  );

export const hostnames = () =>
  memoize((agents: Agents): ReadonlyMap<string, string> => new Map([...agents.values()].map((a) => [a.id, a.hostname])));

/** Tasks still holding resources, per agent: what "Tasks" on a node means. */
export const activeTaskCounts = () =>
  memoize((tasks: Tasks): ReadonlyMap<string, number> => {
    const counts = new Map<string, number>();
    for (const task of tasks.values()) {
      if (!isTerminal(task.state)) counts.set(task.agentId, (counts.get(task.agentId) ?? 0) + 1);
    }
    return counts;
  });

/** Live tasks first, then the most recently changed. */
export const tasksByActivity = () =>
  memoize((tasks: Tasks): TaskView[] =>
    [...tasks.values()].sort(
      (a, b) =>
        Number(isTerminal(a.state)) - Number(isTerminal(b.state)) || b.updatedAt - a.updatedAt || a.id.localeCompare(b.id),
    ),
  );

export const servicesById = () => memoize((services: Services): ServiceView[] => [...services.values()].sort((a, b) => a.id.localeCompare(b.id)));

export function countBy<T, K extends string>(items: Iterable<T>, key: (item: T) => K): Map<K, number> {
  const counts = new Map<K, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

export const taskStateCounts = () => memoize((tasks: Tasks): Map<TaskState, number> => countBy(tasks.values(), (t) => t.state));
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

export function matchesTask(task: TaskView, query: TaskQuery): boolean {
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
  memoize((tasks: readonly TaskView[], state: string, agent: string, service: string, q: string): readonly TaskView[] =>
    !state && !agent && !service && !q ? tasks : tasks.filter((task) => matchesTask(task, { state, agent, service, q })),
  );
