// POST /api/v1: the Mesos v1 operator API. Read calls answer from the master's state; the
// mutating ones (DRAIN_AGENT, REACTIVATE_AGENT, MARK_AGENT_GONE, TEARDOWN) need an admin token
// and are answered after commit. SUBSCRIBE streams the cluster event log in Mesos' event shapes.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTerminal, type AgentView, type ClusterEvent, type FrameworkView, type TaskView } from '../../../protocol/types.js';
import { addResources, emptyResources } from '../../core/resources.js';
import type { Master } from '../../master/master.js';
import { ApiError, badRequest, isRecord } from '../errors.js';
import { requireAdmin } from '../http.js';
import { Deferred, jsonStream } from '../json-stream.js';
import {
  id,
  isRegisteredAgent,
  mesosAgent,
  mesosFramework,
  mesosFrameworkInfo,
  mesosResources,
  mesosStatus,
  mesosTask,
  splitTasks,
  taskStatusOf,
  type DrainConfig,
  type FrameworkExtras,
  type Json,
} from './convert.js';
import { masterInfo } from './master-info.js';
import { Reader, checkId } from './parse.js';
import { RecordIOStream } from './recordio.js';

export interface OperatorApiDeps {
  master: Master;
  extras: Map<string, FrameworkExtras>;
  drains: Map<string, DrainConfig>;
  heartbeatIntervalMs: number;
}

interface Cluster {
  agents: AgentView[];
  tasks: TaskView[];
  frameworks: FrameworkView[];
}

/** master.proto call types that Yagura does not implement. */
const UNSUPPORTED = new Set([
  'GET_LOGGING_LEVEL', 'SET_LOGGING_LEVEL', 'LIST_FILES', 'READ_FILE', 'READ_LOG', 'GET_OPERATIONS',
  'RESERVE_RESOURCES', 'UNRESERVE_RESOURCES', 'CREATE_VOLUMES',
  'DESTROY_VOLUMES', 'GROW_VOLUME', 'SHRINK_VOLUME', 'GET_MAINTENANCE_STATUS', 'GET_MAINTENANCE_SCHEDULE',
  'UPDATE_MAINTENANCE_SCHEDULE', 'START_MAINTENANCE', 'STOP_MAINTENANCE', 'DEACTIVATE_AGENT',
  'GET_QUOTA', 'UPDATE_QUOTA', 'SET_QUOTA', 'REMOVE_QUOTA',
]);

const READS = new Set([
  'GET_HEALTH', 'GET_FLAGS', 'GET_VERSION', 'GET_METRICS', 'GET_MASTER', 'GET_STATE', 'GET_AGENTS',
  'GET_FRAMEWORKS', 'GET_EXECUTORS', 'GET_TASKS', 'GET_ROLES', 'GET_WEIGHTS', 'SUBSCRIBE',
]);
const WRITES = new Set(['DRAIN_AGENT', 'REACTIVATE_AGENT', 'MARK_AGENT_GONE', 'TEARDOWN', 'UPDATE_WEIGHTS']);

export function registerOperatorApi(app: FastifyInstance, deps: OperatorApiDeps, mirror: Mirror): void {
  const { master } = deps;

  app.post('/api/v1', { config: { viewerMay: true } }, async (req, reply) => {
    const call = req.body;
    if (!isRecord(call)) throw badRequest('a call is a JSON object', [{ path: '', errors: ['must be an object'] }]);
    const type = call.type;
    if (typeof type !== 'string') throw badRequest('the call has no type', [{ path: '/type', errors: ['is required (a string)'] }]);
    if (UNSUPPORTED.has(type)) {
      throw new ApiError(422, `unsupported call ${type}`, [{ path: '/type', errors: [`${type} is not supported by Yagura`] }]);
    }
    if (!READS.has(type) && !WRITES.has(type)) {
      throw badRequest(`unknown call type ${type.slice(0, 64)}`, [{ path: '/type', errors: ['unknown call type'] }]);
    }
    if (WRITES.has(type)) {
      requireAdmin(req);
      await write(type, call);
      await master.commit();
      return reply.code(200).send();
    }
    if (type === 'SUBSCRIBE') return mirror.subscribe(req, reply);
    // written a chunk of tasks per turn (GET_STATE and GET_TASKS of 100,000 tasks are tens of
    // megabytes): the master goes on between the chunks
    return reply.type('application/json; charset=utf-8').send(jsonStream({ type, [type.toLowerCase()]: read(type, req) }));
  });

  function read(type: string, req: FastifyRequest): Json {
    const now = Date.now();
    switch (type) {
      case 'GET_HEALTH':
        return { healthy: true };
      case 'GET_VERSION':
        return { version_info: { version: master.version } };
      case 'GET_FLAGS':
        return { flags: [{ name: 'version', value: master.version }, { name: 'heartbeat_interval', value: `${deps.heartbeatIntervalMs}ms` }] };
      case 'GET_MASTER':
        return { master_info: masterInfo(master, req), start_time: master.startedAt / 1000, elected_time: master.startedAt / 1000 };
      case 'GET_METRICS':
        return { metrics: metrics(master, now) };
      case 'GET_STATE':
        return getState(live(), master, deps, true);
      case 'GET_AGENTS':
        return getAgents(master.listAgents(), master, deps, true);
      case 'GET_FRAMEWORKS':
        return getFrameworks(master.listFrameworks(), master.listTasks(), master, deps);
      case 'GET_EXECUTORS':
        return { executors: [], orphan_executors: [] };
      case 'GET_TASKS':
        return getTasks(master.listTasks(), true);
      case 'GET_ROLES':
        return getRoles(master.listFrameworks(), master.listTasks());
      case 'GET_WEIGHTS':
        return { weight_infos: Object.entries(master.roleWeights()).map(([role, weight]) => ({ role, weight })) };
      default:
        throw badRequest(`unknown call type ${type}`, [{ path: '/type', errors: ['unknown call type'] }]);
    }
  }

  function live(): Cluster {
    return { agents: master.listAgents(), tasks: master.listTasks(), frameworks: master.listFrameworks() };
  }

  async function write(type: string, call: Record<string, unknown>): Promise<void> {
    const r = new Reader();
    const key = type.toLowerCase();
    const body = r.obj(call[key], `/${key}`, true);
    if (type === 'UPDATE_WEIGHTS') {
      const infos = body?.weight_infos;
      const problems: Array<{ path: string; errors: string[] }> = [];
      const list: Array<{ role: string; weight: number }> = [];
      if (!Array.isArray(infos)) problems.push({ path: '/update_weights/weight_infos', errors: ['must be an array of {role, weight}'] });
      else
        infos.forEach((w: unknown, i) => {
          const p = `/update_weights/weight_infos/${i}`;
          if (!isRecord(w)) return problems.push({ path: p, errors: ['must be an object'] });
          if (typeof w.role !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(w.role) || w.role === '.' || w.role === '..') problems.push({ path: `${p}/role`, errors: ['must be a role name'] });
          else if (typeof w.weight !== 'number' || !(w.weight > 0) || !Number.isFinite(w.weight)) problems.push({ path: `${p}/weight`, errors: ['must be a number > 0'] });
          else list.push({ role: w.role, weight: w.weight });
          return undefined;
        });
      if (problems.length) throw new ApiError(400, 'invalid UPDATE_WEIGHTS', problems);
      master.setRoleWeights(list);
      return;
    }
    if (type === 'TEARDOWN') {
      const fid = body && r.id(body, 'framework_id', `/${key}`, true);
      r.done(type);
      master.teardown(fid!);
      return;
    }
    const agentId = body && r.id(body, 'agent_id', `/${key}`, true);
    checkId(r, agentId, `/${key}/agent_id/value`);
    let drain: DrainConfig | undefined;
    if (type === 'DRAIN_AGENT' && body) {
      const grace = r.duration(body.max_grace_period, '/drain_agent/max_grace_period');
      drain = { markGone: r.bool(body, 'mark_gone', '/drain_agent') ?? false, ...(grace !== undefined ? { maxGracePeriodMs: grace } : {}) };
    }
    r.done(type);
    const aid = agentId!;
    switch (type) {
      case 'DRAIN_AGENT':
        master.drainAgent(aid, { markGone: drain!.markGone, ...(drain!.maxGracePeriodMs !== undefined ? { gracePeriodMs: drain!.maxGracePeriodMs } : {}) });
        deps.drains.set(aid, drain!);
        return;
      case 'REACTIVATE_AGENT':
        master.reactivateAgent(aid);
        deps.drains.delete(aid);
        return;
      case 'MARK_AGENT_GONE':
        master.markAgentGone(aid);
        return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Responses

function allocatedByFramework(tasks: TaskView[]): Map<string, ReturnType<typeof emptyResources>> {
  const out = new Map<string, ReturnType<typeof emptyResources>>();
  for (const t of tasks) {
    if (isTerminal(t.state)) continue;
    out.set(t.frameworkId, addResources(out.get(t.frameworkId) ?? emptyResources(), t.resources));
  }
  return out;
}

/**
 * `items.map(render)`; in an answer written as a stream (`streamed`), a Deferred of them instead,
 * written a chunk per turn (server/api/json-stream.ts), with `texts` kept across answers.
 */
function list<T extends object>(streamed: boolean, items: T[], render: (item: T) => Json, texts?: WeakMap<T, string>): Json[] | Deferred<T> {
  return streamed ? new Deferred(items, render, texts) : items.map(render);
}

function getAgents(agents: AgentView[], master: Master, deps: OperatorApiDeps, streamed: boolean): Json {
  // rendered now, as their offers and links change: only their texts are written later
  const rendered = agents.filter(isRegisteredAgent).map((a) => mesosAgent(a, master.isAgentConnected(a.id), master.offeredOn(a.id), deps.drains.get(a.id)));
  return {
    agents: streamed ? new Deferred(rendered) : rendered,
    recovered_agents: [],
  };
}

function getFrameworks(frameworks: FrameworkView[], tasks: TaskView[], master: Master, deps: OperatorApiDeps): Json {
  const offers = master.listOffers();
  const allocated = allocatedByFramework(tasks);
  const render = (f: FrameworkView) => {
    const own = offers.filter((o) => o.frameworkId === f.id);
    let offered = emptyResources();
    for (const o of own) offered = addResources(offered, o.resources);
    return mesosFramework(f, deps.extras.get(f.id), { offers: own, allocated: allocated.get(f.id) ?? emptyResources(), offered });
  };
  return {
    frameworks: frameworks.filter((f) => f.active).map(render),
    completed_frameworks: frameworks.filter((f) => !f.active).map(render),
    recovered_frameworks: [],
  };
}

/**
 * Each task's text in GET_TASKS and GET_STATE, kept by its record, as the state document's
 * (server/api/mesos/state.ts): the master's task views are frozen and replaced on change. Only
 * a streamed answer uses it; the SUBSCRIBE mirror's state is rendered afresh.
 */
const mesosTaskTexts = new WeakMap<TaskView, string>();

function getTasks(tasks: TaskView[], streamed: boolean): Json {
  const split = splitTasks(tasks);
  return {
    pending_tasks: [],
    tasks: list(streamed, split.tasks, mesosTask, mesosTaskTexts),
    unreachable_tasks: list(streamed, split.unreachable, mesosTask, mesosTaskTexts),
    completed_tasks: list(streamed, split.completed, mesosTask, mesosTaskTexts),
    orphan_tasks: [],
  };
}

function getState(c: Cluster, master: Master, deps: OperatorApiDeps, streamed: boolean): Json {
  return {
    get_tasks: getTasks(c.tasks, streamed),
    get_executors: { executors: [], orphan_executors: [] },
    get_frameworks: getFrameworks(c.frameworks, c.tasks, master, deps),
    get_agents: getAgents(c.agents, master, deps, streamed),
  };
}

function getRoles(frameworks: FrameworkView[], tasks: TaskView[]): Json {
  const allocated = allocatedByFramework(tasks);
  const roles = new Map<string, { frameworks: string[]; resources: ReturnType<typeof emptyResources> }>();
  for (const f of frameworks) {
    if (!f.active) continue;
    for (const role of f.roles) {
      const entry = roles.get(role) ?? { frameworks: [], resources: emptyResources() };
      entry.frameworks.push(f.id);
      // a framework's tasks count against its first role: Yagura allocates to one role per framework
      if (role === f.roles[0]) entry.resources = addResources(entry.resources, allocated.get(f.id) ?? emptyResources());
      roles.set(role, entry);
    }
  }
  return {
    roles: [...roles].map(([name, e]) => ({
      name,
      weight: 1,
      frameworks: e.frameworks.map(id),
      allocated: mesosResources(e.resources),
      resources: mesosResources(e.resources),
    })),
  };
}


function metrics(master: Master, now: number): Json[] {
  const agents = master.listAgents();
  const tasks = master.listTasks();
  const frameworks = master.listFrameworks();
  const count = (pred: (t: TaskView) => boolean) => tasks.filter(pred).length;
  const m: Record<string, number> = {
    'master/uptime_secs': (now - master.startedAt) / 1000,
    'master/elected': 1,
    'master/slaves_active': agents.filter((a) => a.state === 'ACTIVE' && master.isAgentConnected(a.id)).length,
    'master/slaves_inactive': agents.filter((a) => isRegisteredAgent(a) && !(a.state === 'ACTIVE' && master.isAgentConnected(a.id))).length,
    'master/slaves_unreachable': agents.filter((a) => a.state === 'UNREACHABLE').length,
    'master/frameworks_active': frameworks.filter((f) => f.active && f.connected).length,
    'master/frameworks_connected': frameworks.filter((f) => f.connected).length,
    'master/frameworks_disconnected': frameworks.filter((f) => f.active && !f.connected).length,
    'master/outstanding_offers': master.listOffers().length,
    'master/event_queue_seq': master.events.seq,
  };
  for (const s of ['STAGING', 'STARTING', 'RUNNING', 'KILLING', 'FINISHED', 'FAILED', 'KILLED', 'ERROR', 'LOST', 'UNREACHABLE', 'GONE', 'DROPPED'] as const) {
    m[`master/tasks_${s.toLowerCase()}`] = count((t) => t.state === `TASK_${s}`);
  }
  return Object.entries(m).map(([name, value]) => ({ name, value }));
}

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE

/**
 * The cluster as the SUBSCRIBE streams know it, kept by applying the event log while someone is
 * subscribed, so that a subscriber's snapshot and the events after it meet exactly at one
 * sequence number, and so that each event can be rendered with the whole object.
 *
 * Kept only while there are subscribers: with none, the master's hundreds of thousands of
 * events would be applied to a copy of every task for no one. The first subscriber loads it from
 * the master's memory, which may be ahead of the log: the events of those changes, when they
 * reach the log, are already in it and are skipped (Master.eventsAhead).
 */
export class Mirror {
  private state: { agents: Map<string, AgentView>; tasks: Map<string, TaskView>; frameworks: Map<string, FrameworkView> } | undefined;
  /** Events still to come that the loaded state already holds. */
  private skip = 0;
  private subscribers = new Set<(event: Json) => void>();

  constructor(
    private readonly master: Master,
    private readonly deps: OperatorApiDeps,
  ) {
    master.events.subscribe((batch) => this.apply(batch));
  }

  /** Whether the mirror holds a copy of the cluster now (only while someone is subscribed). */
  get loaded(): boolean {
    return this.state !== undefined;
  }

  private load(): NonNullable<Mirror['state']> {
    const state = {
      agents: new Map(this.master.listAgents().map((a) => [a.id, a])),
      tasks: new Map(this.master.listTasks().map((t) => [t.id, t])),
      frameworks: new Map(this.master.listFrameworks().map((f) => [f.id, f])),
    };
    this.skip = this.master.eventsAhead();
    this.state = state;
    return state;
  }

  subscribe(req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const stream = new RecordIOStream();
    const sub = this.attach((e) => stream.send(e));
    stream.send({ type: 'SUBSCRIBED', subscribed: { get_state: sub.state, heartbeat_interval_seconds: this.deps.heartbeatIntervalMs / 1000 } });
    stream.onClose(() => sub.detach());
    stream.open(req, reply, {}, { ms: this.deps.heartbeatIntervalMs, event: { type: 'HEARTBEAT' } });
    return reply;
  }

  /** A new subscriber: the GET_STATE it starts from, and `send` for every Mesos event after it. */
  attach(send: (event: Json) => void): { state: Json; detach(): void } {
    const { agents, tasks, frameworks } = this.state ?? this.load();
    const cluster: Cluster = { agents: [...agents.values()], tasks: [...tasks.values()], frameworks: [...frameworks.values()] };
    const state = getState(cluster, this.master, this.deps, false);
    this.subscribers.add(send);
    return {
      state,
      detach: () => {
        this.subscribers.delete(send);
        if (this.subscribers.size === 0) this.state = undefined;
      },
    };
  }

  private apply(batch: readonly ClusterEvent[]): void {
    const state = this.state;
    if (!state) return;
    const skipped = Math.min(this.skip, batch.length);
    this.skip -= skipped;
    const out: Json[] = [];
    for (let i = skipped; i < batch.length; i++) {
      const rendered = this.step(state, batch[i]!);
      if (rendered) out.push(rendered);
    }
    if (out.length === 0) return;
    for (const send of this.subscribers) for (const e of out) send(e);
  }

  /** Applies one event and returns the Mesos event it amounts to, if any. */
  private step(state: NonNullable<Mirror['state']>, ev: ClusterEvent): Json | undefined {
    switch (ev.kind) {
      case 'agent': {
        const before = state.agents.get(ev.id);
        if (ev.op === 'delete') {
          state.agents.delete(ev.id);
          return before && isRegisteredAgent(before) ? { type: 'AGENT_REMOVED', agent_removed: { agent_id: id(ev.id) } } : undefined;
        }
        const after = ev.op === 'put' ? ev.data : before ? { ...before, ...ev.data } : undefined;
        if (!after) return undefined;
        state.agents.set(ev.id, after);
        const listed = isRegisteredAgent(after);
        // a re-registration is a put; Mesos announces those as AGENT_ADDED too
        if (listed && (ev.op === 'put' || !before || !isRegisteredAgent(before))) {
          return {
            type: 'AGENT_ADDED',
            agent_added: { agent: mesosAgent(after, this.master.isAgentConnected(after.id), emptyResources(), this.deps.drains.get(after.id)) },
          };
        }
        if (!listed && before && isRegisteredAgent(before)) return { type: 'AGENT_REMOVED', agent_removed: { agent_id: id(ev.id) } };
        return undefined;
      }
      case 'task': {
        const before = state.tasks.get(ev.id);
        if (ev.op === 'delete') {
          state.tasks.delete(ev.id);
          return undefined;
        }
        if (ev.op === 'put') {
          state.tasks.set(ev.id, ev.data);
          return { type: 'TASK_ADDED', task_added: { task: mesosTask(ev.data) } };
        }
        if (!before) return undefined;
        const after = { ...before, ...ev.data };
        state.tasks.set(ev.id, after);
        if (!('state' in ev.data) && !('statusUuid' in ev.data) && !('healthy' in ev.data)) return undefined;
        return {
          type: 'TASK_UPDATED',
          task_updated: { framework_id: id(after.frameworkId), status: mesosStatus(taskStatusOf(after)), state: after.state },
        };
      }
      case 'framework': {
        const before = state.frameworks.get(ev.id);
        if (ev.op === 'delete') {
          state.frameworks.delete(ev.id);
          return before ? this.removed(before) : undefined;
        }
        const after = ev.op === 'put' ? ev.data : before ? { ...before, ...ev.data } : undefined;
        if (!after) return undefined;
        state.frameworks.set(ev.id, after);
        if (!after.active) return before?.active === false ? undefined : this.removed(after);
        const framework = mesosFramework(after, this.deps.extras.get(after.id));
        return before ? { type: 'FRAMEWORK_UPDATED', framework_updated: { framework } } : { type: 'FRAMEWORK_ADDED', framework_added: { framework } };
      }
    }
  }

  private removed(f: FrameworkView): Json {
    return { type: 'FRAMEWORK_REMOVED', framework_removed: { framework_info: mesosFrameworkInfo(f, this.deps.extras.get(f.id)) } };
  }
}
