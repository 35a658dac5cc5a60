import type {
  AgentView,
  ClusterEvent,
  ClusterSnapshot,
  DeploymentView,
  FrameworkView,
  JobRunView,
  JobView,
  ServiceView,
  TaskView,
} from '../../protocol/types.js';

/**
 * The dashboard's normalized copy of the cluster. Immutable: applying events gives a new state
 * in which only the changed objects (and the maps holding them) have new identities, so Lit's
 * identity checks and keyed `repeat` re-render just the rows that changed.
 */
export interface ClusterState {
  /** The master run these sequence numbers belong to; undefined before the first snapshot. */
  readonly epoch: string | undefined;
  /** Sequence number of the last event applied. */
  readonly seq: number;
  readonly agents: ReadonlyMap<string, AgentView>;
  readonly tasks: ReadonlyMap<string, TaskView>;
  readonly frameworks: ReadonlyMap<string, FrameworkView>;
  readonly services: ReadonlyMap<string, ServiceView>;
  readonly deployments: ReadonlyMap<string, DeploymentView>;
  readonly jobs: ReadonlyMap<string, JobView>;
  /** Active runs and recent finished ones, keyed by run id. */
  readonly jobRuns: ReadonlyMap<string, JobRunView>;
  /** False until a snapshot arrived: lets views tell "loading" from "empty". */
  readonly loaded: boolean;
}

export const EMPTY_CLUSTER: ClusterState = Object.freeze({
  epoch: undefined,
  seq: 0,
  agents: new Map(),
  tasks: new Map(),
  frameworks: new Map(),
  services: new Map(),
  deployments: new Map(),
  jobs: new Map(),
  jobRuns: new Map(),
  loaded: false,
});

function byId<T extends { id: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((item) => [item.id, item]));
}

export function fromSnapshot(snapshot: ClusterSnapshot): ClusterState {
  return {
    epoch: snapshot.epoch,
    seq: snapshot.seq,
    agents: byId(snapshot.agents),
    tasks: byId(snapshot.tasks),
    frameworks: byId(snapshot.frameworks),
    services: byId(snapshot.services ?? []),
    deployments: byId(snapshot.deployments ?? []),
    jobs: byId(snapshot.jobs ?? []),
    jobRuns: byId(snapshot.jobRuns ?? []),
    loaded: true,
  };
}

type Collection = 'agents' | 'tasks' | 'frameworks' | 'services' | 'deployments' | 'jobs' | 'jobRuns';

const COLLECTION: Record<ClusterEvent['kind'], Collection> = {
  agent: 'agents',
  task: 'tasks',
  framework: 'frameworks',
  service: 'services',
  deployment: 'deployments',
  job: 'jobs',
  jobRun: 'jobRuns',
};

/**
 * Merges a patch; returns the same object when no field actually changes. A `null` in a patch
 * means the field was cleared (JSON has no undefined), so the key is removed.
 */
function patched<T extends object>(current: T, patch: Partial<T>): T {
  const keys = Object.keys(patch) as Array<keyof T>;
  const changes = keys.some((key) => (patch[key] === null ? key in current : !Object.is(current[key], patch[key])));
  if (!changes) return current;
  const next = { ...current, ...patch } as Record<keyof T, unknown>;
  for (const key of keys) if (patch[key] === null) delete next[key];
  return next as T;
}

/**
 * Applies events in order. Events at or below `state.seq` are already reflected (the snapshot
 * or an earlier batch included them) and are skipped, which makes a resume that overlaps
 * harmless. A patch for an unknown id is dropped: without a `put` there is no whole object.
 */
export function applyEvents(state: ClusterState, events: readonly ClusterEvent[]): ClusterState {
  // Each map is copied at most once per batch, on its first change.
  const copies: Partial<Record<Collection, Map<string, unknown>>> = {};
  const writable = (name: Collection): Map<string, unknown> =>
    (copies[name] ??= new Map<string, unknown>(state[name]));
  const current = (name: Collection): ReadonlyMap<string, unknown> => copies[name] ?? state[name];

  let seq = state.seq;
  for (const event of events) {
    if (event.seq <= seq) continue;
    seq = event.seq;
    const name = COLLECTION[event.kind];
    switch (event.op) {
      case 'put':
        writable(name).set(event.id, event.data);
        break;
      case 'patch': {
        const existing = current(name).get(event.id) as object | undefined;
        if (existing === undefined) break;
        const next = patched(existing, event.data as Partial<typeof existing>);
        if (next !== existing) writable(name).set(event.id, next);
        break;
      }
      case 'delete':
        if (current(name).has(event.id)) writable(name).delete(event.id);
        break;
    }
  }

  if (seq === state.seq) return state;
  return {
    ...state,
    seq,
    agents: (copies.agents as Map<string, AgentView> | undefined) ?? state.agents,
    tasks: (copies.tasks as Map<string, TaskView> | undefined) ?? state.tasks,
    frameworks: (copies.frameworks as Map<string, FrameworkView> | undefined) ?? state.frameworks,
    services: (copies.services as Map<string, ServiceView> | undefined) ?? state.services,
    deployments: (copies.deployments as Map<string, DeploymentView> | undefined) ?? state.deployments,
    jobs: (copies.jobs as Map<string, JobView> | undefined) ?? state.jobs,
    jobRuns: (copies.jobRuns as Map<string, JobRunView> | undefined) ?? state.jobRuns,
  };
}
