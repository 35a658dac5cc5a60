import { COMPACT_KINDS, COMPACT_OPS } from '../../protocol/types.js';
import type {
  AgentView,
  CompactEvents,
  DeploymentView,
  EntityKind,
  FrameworkView,
  JobRunView,
  JobView,
  ServiceView,
  StreamEvent,
  StreamSnapshot,
  TaskSummary,
} from '../../protocol/types.js';
import { IdMap } from './id-map.js';

/**
 * The dashboard's normalized copy of the cluster. Immutable: applying events gives a new state
 * in which only the changed objects (and the maps holding them) have new identities, so Lit's
 * identity checks and keyed `repeat` re-render just the rows that changed. The maps are IdMaps
 * (id-map.ts): a change copies a bucket, not 100,000 entries, and a map knows which ids changed
 * against its recent versions (`changedIds`), for derived data that updates incrementally.
 * Tasks are summaries (protocol TaskSummary); a task's page reads the rest over REST.
 */
export interface ClusterState {
  /** The master run these sequence numbers belong to; undefined before the first snapshot. */
  readonly epoch: string | undefined;
  /** Sequence number of the last event applied. */
  readonly seq: number;
  readonly agents: ReadonlyMap<string, AgentView>;
  readonly tasks: ReadonlyMap<string, TaskSummary>;
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
  agents: IdMap.empty<AgentView>(),
  tasks: IdMap.empty<TaskSummary>(),
  frameworks: IdMap.empty<FrameworkView>(),
  services: IdMap.empty<ServiceView>(),
  deployments: IdMap.empty<DeploymentView>(),
  jobs: IdMap.empty<JobView>(),
  jobRuns: IdMap.empty<JobRunView>(),
  loaded: false,
});

export function fromSnapshot(snapshot: StreamSnapshot): ClusterState {
  return {
    epoch: snapshot.epoch,
    seq: snapshot.seq,
    agents: IdMap.byId(snapshot.agents),
    tasks: IdMap.byId(snapshot.tasks),
    frameworks: IdMap.byId(snapshot.frameworks),
    services: IdMap.byId(snapshot.services ?? []),
    deployments: IdMap.byId(snapshot.deployments ?? []),
    jobs: IdMap.byId(snapshot.jobs ?? []),
    jobRuns: IdMap.byId(snapshot.jobRuns ?? []),
    loaded: true,
  };
}

type Collection = 'agents' | 'tasks' | 'frameworks' | 'services' | 'deployments' | 'jobs' | 'jobRuns';

const COLLECTION: Record<EntityKind, Collection> = {
  agent: 'agents',
  task: 'tasks',
  framework: 'frameworks',
  service: 'services',
  deployment: 'deployments',
  job: 'jobs',
  jobRun: 'jobRuns',
};

const KIND_OF_LETTER = new Map(Object.entries(COMPACT_KINDS).map(([kind, letter]) => [letter, kind as EntityKind]));
const OP_OF_SIGN = new Map(Object.entries(COMPACT_OPS).map(([op, sign]) => [sign, op as StreamEvent['op']]));

/**
 * The events of a compact batch (protocol CompactEvents: `[firstSeq, [code, id, data?], …]`).
 * Throws on a malformed batch: the caller starts over with a snapshot.
 */
export function decodeCompact(batch: CompactEvents): StreamEvent[] {
  const first = batch[0];
  if (typeof first !== 'number') throw new Error('a compact batch starts with its sequence number');
  const out: StreamEvent[] = new Array(batch.length - 1);
  for (let i = 1; i < batch.length; i++) {
    const e = batch[i] as [string, string, unknown?];
    const code = e[0];
    const kind = KIND_OF_LETTER.get(code[0]!);
    const op = OP_OF_SIGN.get(code.slice(1));
    if (!kind || !op || typeof e[1] !== 'string') throw new Error(`unknown event ${String(code)}`);
    out[i - 1] = (op === 'delete' ? { seq: first + i - 1, kind, op, id: e[1] } : { seq: first + i - 1, kind, op, id: e[1], data: e[2] }) as StreamEvent;
  }
  return out;
}

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

function asIdMap<V>(map: ReadonlyMap<string, V>): IdMap<V> {
  return map instanceof IdMap ? (map as IdMap<V>) : IdMap.from(map);
}

/**
 * Applies events in order. Events at or below `state.seq` are already reflected (the snapshot
 * or an earlier batch included them) and are skipped, which makes a resume that overlaps
 * harmless. A patch for an unknown id is dropped: without a `put` there is no whole object.
 */
export function applyEvents(state: ClusterState, events: readonly StreamEvent[]): ClusterState {
  // Per collection, the new value of each id touched in this batch (undefined: deleted).
  const changes: Partial<Record<Collection, Map<string, unknown>>> = {};
  const current = (name: Collection, id: string): unknown => {
    const pending = changes[name];
    return pending?.has(id) ? pending.get(id) : (state[name] as ReadonlyMap<string, unknown>).get(id);
  };
  const set = (name: Collection, id: string, value: unknown) => (changes[name] ??= new Map()).set(id, value);

  let seq = state.seq;
  for (const event of events) {
    if (event.seq <= seq) continue;
    seq = event.seq;
    const name = COLLECTION[event.kind];
    switch (event.op) {
      case 'put':
        set(name, event.id, event.data);
        break;
      case 'patch': {
        const existing = current(name, event.id) as object | undefined;
        if (existing === undefined) break;
        const next = patched(existing, event.data as Partial<typeof existing>);
        if (next !== existing) set(name, event.id, next);
        break;
      }
      case 'delete':
        if (current(name, event.id) !== undefined) set(name, event.id, undefined);
        break;
    }
  }

  if (seq === state.seq) return state;
  const next = { ...state, seq } as { -readonly [K in keyof ClusterState]: ClusterState[K] };
  for (const [name, pending] of Object.entries(changes) as Array<[Collection, Map<string, unknown>]>) {
    const base = asIdMap(state[name] as ReadonlyMap<string, unknown>);
    const updated = base.with(pending);
    if (updated !== base) (next as Record<Collection, ReadonlyMap<string, unknown>>)[name] = updated;
  }
  return next;
}
