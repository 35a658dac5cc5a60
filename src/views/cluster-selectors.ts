import { isTerminal } from '../../protocol/types.js';
import type { AgentView, TaskView } from '../../protocol/types.js';
import { memoize } from '../state/memo.js';

type Agents = ReadonlyMap<string, AgentView>;
type Tasks = ReadonlyMap<string, TaskView>;

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
