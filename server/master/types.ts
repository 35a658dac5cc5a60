// The master's in-process interfaces: how it talks to an agent link and to a scheduler
// (built-in frameworks and the HTTP scheduler API adapter use the same ones).

import type {
  Attributes,
  CommandSpec,
  HealthCheckSpec,
  MasterToAgent,
  Resources,
  StatusReason,
  TaskState,
} from '../../protocol/types.js';

export interface AgentConnection {
  send(msg: MasterToAgent): void;
  close(code: number, reason: string): void;
}

export interface Offer {
  id: string;
  frameworkId: string;
  agentId: string;
  hostname: string;
  resources: Resources;
  attributes: Attributes;
  createdAt: number;
  expiresAt: number;
}

/** A status update as a framework sees it. */
export interface TaskStatus {
  taskId: string;
  frameworkId: string;
  agentId: string;
  state: TaskState;
  source: 'SOURCE_MASTER' | 'SOURCE_AGENT' | 'SOURCE_EXECUTOR';
  reason?: StatusReason;
  message?: string;
  exitCode?: number;
  healthy?: boolean;
  /** Present when the update must be acknowledged. Reconciliation answers carry none. */
  uuid?: string;
  timestamp: number;
  labels?: Record<string, string>;
}

export interface SchedulerConnection {
  /** The master accepted the subscription (after it is committed). */
  subscribed(frameworkId: string): void;
  offers(offers: Offer[]): void;
  rescind(offerId: string): void;
  update(status: TaskStatus): void;
  /** An agent the framework had tasks on was removed. */
  failure(agentId: string): void;
  /** A fatal error: the master drops this subscription after sending it. */
  error(message: string): void;
  /** The master ends the subscription (teardown, or replaced). */
  close(): void;
}

export interface FrameworkInput {
  /** Set when re-subscribing after a failover. */
  id?: string;
  name: string;
  user: string;
  roles: string[];
  principal?: string;
  failoverTimeoutSeconds: number;
  hostname?: string;
  webuiUrl?: string;
  builtin?: boolean;
}

export interface TaskLaunch {
  taskId: string;
  name: string;
  agentId: string;
  resources: Resources;
  command: CommandSpec;
  labels: Record<string, string>;
  killGracePeriodMs?: number;
  healthChecks?: HealthCheckSpec[];
}

export type Logger = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
