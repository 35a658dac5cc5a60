// Yagura's views in Mesos' JSON shapes: the v1 protobuf-as-JSON messages (mesos.proto,
// master.proto, scheduler.proto) and the older /master/state document. Field names, nesting and
// units follow Mesos so that existing framework libraries and tools parse them unchanged.

import { isTerminal, type AgentView, type Attributes, type FrameworkView, type Resources, type TaskView } from '../../../protocol/types.js';
import { formatRanges, normalizeRanges, roundScalar, toMesosResources, type MesosResource } from '../../core/resources.js';
import type { Offer, TaskStatus } from '../../master/types.js';

export type Json = Record<string, unknown>;

/** What SUBSCRIBE told us that FrameworkView does not keep (kept in memory only). */
export interface FrameworkExtras {
  capabilities: Array<{ type: string }>;
  labels?: Array<{ key: string; value?: string }>;
  checkpoint?: boolean;
  /** The framework used the deprecated `role` field rather than `roles`. */
  legacyRole?: boolean;
}

/** The drain settings an operator asked for (AgentView only says DRAINING/DRAINED). */
export interface DrainConfig {
  markGone: boolean;
  maxGracePeriodMs?: number;
}

export const id = (value: string): { value: string } => ({ value });

/** Mesos TimeInfo / DurationInfo. */
export const nanos = (ms: number): { nanoseconds: number } => ({ nanoseconds: Math.round(ms * 1e6) });

export const seconds = (ms: number): number => ms / 1000;

/** Unreserved resources; with an allocation role as MULTI_ROLE frameworks expect on offers. */
export function mesosResources(r: Resources, allocationRole?: string): MesosResource[] {
  const list = toMesosResources(r, '*');
  if (allocationRole === undefined) return list;
  return list.map((res) => ({ ...res, allocation_info: { role: allocationRole } }));
}

export function mesosAttributes(a: Attributes): Json[] {
  return Object.entries(a).map(([name, value]) => ({ name, type: 'TEXT', text: { value } }));
}

/** The /master/state flavour: `{cpus, mem, disk, gpus, ports: "[a-b, c-d]"}`. */
export function stateResources(r: Resources): Json {
  const out: Json = { cpus: roundScalar(r.cpus), mem: roundScalar(r.mem), disk: roundScalar(r.disk), gpus: 0 };
  const ports = normalizeRanges(r.ports);
  if (ports.length > 0) out.ports = formatRanges(ports);
  return out;
}

export function labelsOf(labels: Record<string, string>): Array<{ key: string; value: string }> {
  return Object.entries(labels).map(([key, value]) => ({ key, value }));
}

function statusMessage(s: { message?: string; exitCode?: number }): string | undefined {
  if (s.message !== undefined) return s.message;
  // the command executor's wording, which frameworks sometimes parse
  if (s.exitCode !== undefined) return `Command exited with status ${s.exitCode}`;
  return undefined;
}

/** mesos.v1.TaskStatus. `uuid` only when the update must be acknowledged. */
export function mesosStatus(s: TaskStatus): Json {
  const out: Json = { task_id: id(s.taskId), state: s.state, source: s.source };
  if (s.reason !== undefined) out.reason = s.reason;
  const message = statusMessage(s);
  if (message !== undefined) out.message = message;
  if (s.agentId) out.agent_id = id(s.agentId);
  out.timestamp = seconds(s.timestamp);
  if (s.uuid !== undefined) out.uuid = s.uuid;
  if (s.healthy !== undefined) out.healthy = s.healthy;
  if (s.labels && Object.keys(s.labels).length > 0) out.labels = { labels: labelsOf(s.labels) };
  return out;
}

/** The latest status of a task, as the operator API reports it (no history is kept). */
export function taskStatusOf(t: TaskView, uuid = true): TaskStatus {
  return {
    taskId: t.id,
    frameworkId: t.frameworkId,
    agentId: t.agentId,
    state: t.state,
    source: t.reason === 'REASON_RECONCILIATION' || t.reason === 'REASON_AGENT_REMOVED' || t.reason === 'REASON_AGENT_UNREACHABLE' ? 'SOURCE_MASTER' : 'SOURCE_EXECUTOR',
    timestamp: t.updatedAt,
    ...(t.reason !== undefined ? { reason: t.reason } : {}),
    ...(t.message !== undefined ? { message: t.message } : {}),
    ...(t.exitCode !== undefined ? { exitCode: t.exitCode } : {}),
    ...(t.healthy !== undefined ? { healthy: t.healthy } : {}),
    ...(uuid && t.statusUuid !== undefined ? { uuid: t.statusUuid } : {}),
  };
}

/** mesos.v1.Task. */
export function mesosTask(t: TaskView): Json {
  const out: Json = {
    name: t.name,
    task_id: id(t.id),
    framework_id: id(t.frameworkId),
    agent_id: id(t.agentId),
    state: t.state,
    resources: mesosResources(t.resources),
    // a task that never reported (STAGING) has no status yet, as in Mesos
    statuses: t.statusUuid !== undefined ? [mesosStatus(taskStatusOf(t))] : [],
  };
  if (Object.keys(t.labels).length > 0) out.labels = { labels: labelsOf(t.labels) };
  if (t.command.user !== undefined) out.user = t.command.user;
  return out;
}

/** mesos.v1.Offer. */
export function mesosOffer(o: Offer, role: string): Json {
  return {
    id: id(o.id),
    framework_id: id(o.frameworkId),
    agent_id: id(o.agentId),
    hostname: o.hostname,
    resources: mesosResources(o.resources, role),
    attributes: mesosAttributes(o.attributes),
    executor_ids: [],
    allocation_info: { role },
  };
}

/** The port an AgentInfo carries: Mesos' default. Yagura agents dial in and listen on nothing. */
export const AGENT_PORT = 5051;

export function mesosAgentInfo(a: AgentView): Json {
  return {
    hostname: a.hostname,
    port: AGENT_PORT,
    resources: mesosResources(a.resources),
    attributes: mesosAttributes(a.attributes),
    id: id(a.id),
  };
}

/** Agents Mesos lists as registered: not partitioned away, not gone. */
export function isRegisteredAgent(a: AgentView): boolean {
  return a.state !== 'UNREACHABLE' && a.state !== 'GONE';
}

export function drainInfo(a: AgentView, config: DrainConfig | undefined): Json | undefined {
  if (a.state !== 'DRAINING' && a.state !== 'DRAINED') return undefined;
  const cfg: Json = { mark_gone: config?.markGone ?? false };
  if (config?.maxGracePeriodMs !== undefined) {
    const ms = config.maxGracePeriodMs;
    cfg.max_grace_period = { seconds: Math.floor(ms / 1000), nanos: Math.round((ms % 1000) * 1e6) };
  }
  return { state: a.state, config: cfg };
}

/** master.Response.GetAgents.Agent. */
export function mesosAgent(a: AgentView, connected: boolean, offered: Resources, drain: DrainConfig | undefined): Json {
  const out: Json = {
    agent_info: mesosAgentInfo(a),
    active: connected && a.state === 'ACTIVE',
    deactivated: a.state === 'DRAINING' || a.state === 'DRAINED',
    version: a.version,
    registered_time: nanos(a.registeredAt),
    total_resources: mesosResources(a.resources),
    allocated_resources: mesosResources(a.allocated),
    offered_resources: mesosResources(offered),
    capabilities: [],
  };
  const di = drainInfo(a, drain);
  if (di) out.drain_info = di;
  return out;
}

/** mesos.v1.FrameworkInfo. */
export function mesosFrameworkInfo(f: FrameworkView, extras: FrameworkExtras | undefined): Json {
  const out: Json = {
    user: f.user,
    name: f.name,
    id: id(f.id),
    failover_timeout: f.failoverTimeoutSeconds,
    checkpoint: extras?.checkpoint ?? false,
  };
  if (extras?.legacyRole) out.role = f.roles[0] ?? '*';
  else out.roles = f.roles;
  if (f.hostname !== undefined) out.hostname = f.hostname;
  if (f.principal !== undefined) out.principal = f.principal;
  if (f.webuiUrl !== undefined) out.webui_url = f.webuiUrl;
  out.capabilities = extras?.capabilities ?? (extras?.legacyRole ? [] : [{ type: 'MULTI_ROLE' }]);
  if (extras?.labels && extras.labels.length > 0) out.labels = { labels: extras.labels };
  return out;
}

/** Mesos calls a framework active while it is subscribed and not torn down. */
export const frameworkActive = (f: FrameworkView): boolean => f.active && f.connected;

/** master.Response.GetFrameworks.Framework. Without `live`, the shape events carry (no offers or resources). */
export function mesosFramework(
  f: FrameworkView,
  extras: FrameworkExtras | undefined,
  live?: { offers: Offer[]; allocated: Resources; offered: Resources },
): Json {
  const out: Json = {
    framework_info: mesosFrameworkInfo(f, extras),
    active: frameworkActive(f),
    connected: f.connected,
    recovered: false,
    registered_time: nanos(f.registeredAt),
  };
  if (live) {
    const role = f.roles[0] ?? '*';
    out.offers = live.offers.map((o) => mesosOffer(o, role));
    out.inverse_offers = [];
    out.allocated_resources = mesosResources(live.allocated);
    out.offered_resources = mesosResources(live.offered);
  }
  return out;
}

/** Split tasks as GET_TASKS does. */
export function splitTasks(tasks: TaskView[]): { tasks: TaskView[]; unreachable: TaskView[]; completed: TaskView[] } {
  const out = { tasks: [] as TaskView[], unreachable: [] as TaskView[], completed: [] as TaskView[] };
  for (const t of tasks) {
    if (isTerminal(t.state)) out.completed.push(t);
    else if (t.state === 'TASK_UNREACHABLE') out.unreachable.push(t);
    else out.tasks.push(t);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The /master/state document (Mesos' v0 JSON)

/** A task as /master/state lists it. */
export function stateTask(t: TaskView, role: string): Json {
  const out: Json = {
    id: t.id,
    name: t.name,
    framework_id: t.frameworkId,
    executor_id: '',
    slave_id: t.agentId,
    state: t.state,
    resources: stateResources(t.resources),
    role,
    statuses: t.statusUuid !== undefined ? [{ state: t.state, timestamp: seconds(t.updatedAt) }] : [],
  };
  if (Object.keys(t.labels).length > 0) out.labels = labelsOf(t.labels);
  if (t.command.user !== undefined) out.user = t.command.user;
  return out;
}

export function stateOffer(o: Offer): Json {
  return {
    id: o.id,
    framework_id: o.frameworkId,
    slave_id: o.agentId,
    resources: stateResources(o.resources),
  };
}
