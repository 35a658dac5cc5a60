// Persistence behind an interface, so that a replicated store can serve several masters later.
// The embedded default is SQLite (sqlite.ts). Entities are stored as JSON documents keyed by id;
// the few columns the master queries by are kept beside them.

import type { AgentView, FrameworkView, HealthCheckSpec, TaskView } from '../../protocol/types.js';

export type TokenRole = 'admin' | 'viewer';

export interface TokenRecord {
  /** sha256 hex of the token; the token itself is never stored. */
  hash: string;
  role: TokenRole;
  name: string;
  createdAt: number;
}

/** What the master keeps of a framework across restarts. */
export interface FrameworkRecord extends FrameworkView {
  /** Terminal: torn down or failed over past its timeout. Kept for history. */
  removedAt?: number;
  /** ms since epoch when the scheduler last disconnected (for the failover timeout). */
  disconnectedAt?: number;
}

export interface AgentRecord extends AgentView {
  /** Draining: the grace period to give tasks, and whether to mark the agent gone once drained. */
  drain?: { gracePeriodMs?: number; markGone: boolean };
}

export interface TaskRecord extends TaskView {
  /** A kill was requested and must be carried out (also after an agent returns). */
  killRequested?: boolean;
  killGracePeriodMs?: number;
  /** The framework has not acknowledged this status uuid yet. */
  pendingAck?: string;
  healthChecks?: HealthCheckSpec[];
}

/**
 * The fields of a task record that change while it lives (status updates, kills, acks). A
 * status write stores only these; everything else is written once, when the task is created.
 */
export const TASK_STATUS_FIELDS = [
  'state',
  'reason',
  'message',
  'exitCode',
  'healthy',
  'statusUuid',
  'updatedAt',
  'startedAt',
  'endedAt',
  'pendingAck',
  'killRequested',
  'killGracePeriodMs',
] as const satisfies ReadonlyArray<keyof TaskRecord>;

export interface StoreWrite {
  agents?: AgentRecord[];
  frameworks?: FrameworkRecord[];
  /** Whole task records (new tasks, or any change outside TASK_STATUS_FIELDS). */
  tasks?: TaskRecord[];
  /**
   * Tasks whose whole record was written before and of which only TASK_STATUS_FIELDS changed
   * since: only those fields are written (the rest of the row stays as it was).
   */
  taskStatus?: TaskRecord[];
  deleteTasks?: string[];
  meta?: Record<string, string>;
  /** Framework documents (apps, deployments, jobs …); `data: null` deletes. */
  docs?: Array<{ collection: string; id: string; data: unknown }>;
}

export interface Store {
  /** Everything, for the master's start. */
  load(): { agents: AgentRecord[]; frameworks: FrameworkRecord[]; tasks: TaskRecord[] };
  /** Atomically and durably apply one batch of writes. Returns after the commit. */
  write(batch: StoreWrite): void;
  /**
   * The same, without making the caller wait: resolves after the commit. Batches commit in the
   * order given. Records are read (serialized) before it returns. Optional.
   */
  writeAsync?(batch: StoreWrite): Promise<void>;
  /** Every document of a collection, in id order. */
  loadDocs<T = unknown>(collection: string): Array<{ id: string; data: T }>;
  getDoc<T = unknown>(collection: string, id: string): T | undefined;
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  addToken(token: TokenRecord): void;
  findToken(hash: string): TokenRecord | undefined;
  listTokens(): TokenRecord[];
  deleteToken(hash: string): boolean;
  close(): void;
}
