// GET /master/state (also /state.json and /master/state.json): the Mesos master's state
// document, which dashboards, CLIs and service-discovery tools (mesos-dns and the like) poll.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTerminal, type FrameworkView, type TaskView } from '../../../protocol/types.js';
import { addResources, emptyResources } from '../../core/resources.js';
import type { Master } from '../../master/master.js';
import {
  AGENT_PORT,
  drainInfo,
  frameworkActive,
  isRegisteredAgent,
  seconds,
  stateOffer,
  stateResources,
  stateTask,
  type DrainConfig,
  type FrameworkExtras,
  type Json,
} from './convert.js';
import { endpointOf, pidOf } from './master-info.js';
import { Deferred, jsonStream } from '../json-stream.js';

export interface StateDeps {
  master: Master;
  extras: Map<string, FrameworkExtras>;
  drains: Map<string, DrainConfig>;
}

/** Mesos' --max_completed_tasks_per_framework default: the document stays bounded. */
const MAX_COMPLETED_TASKS = 1000;

/**
 * Each task's text in the state document, kept by its record, per role. The master's task views
 * are frozen and replaced on change, so a kept text is never stale, and it goes with its record:
 * a read writes afresh only the tasks that changed since the one before.
 */
const taskTextsByRole = new Map<string, WeakMap<TaskView, string>>();
function taskTexts(role: string): WeakMap<TaskView, string> {
  let texts = taskTextsByRole.get(role);
  if (!texts) taskTextsByRole.set(role, (texts = new WeakMap()));
  return texts;
}

export function registerStateRoutes(app: FastifyInstance, deps: StateDeps): void {
  // written a chunk of tasks per turn: a document of 100,000 tasks does not hold the master
  const handler = async (req: FastifyRequest, reply: FastifyReply) => reply.type('application/json; charset=utf-8').send(jsonStream(masterState(req, deps)));
  app.get('/master/state', handler);
  app.get('/master/state.json', handler);
  app.get('/state.json', handler);
  app.get('/master/health', async (_req, reply) => reply.code(200).send());
}

function masterState(req: FastifyRequest, { master, drains, extras }: StateDeps): Json {
  const ep = endpointOf(req);
  const pid = pidOf(ep);
  const agents = master.listAgents();
  const tasks = master.listTasks();
  const offers = master.listOffers();
  const registered = agents.filter(isRegisteredAgent);
  const activeAgent = (a: (typeof agents)[number]) => a.state === 'ACTIVE' && master.isAgentConnected(a.id);

  const tasksBy = new Map<string, TaskView[]>();
  for (const t of tasks) {
    const list = tasksBy.get(t.frameworkId);
    if (list) list.push(t);
    else tasksBy.set(t.frameworkId, [t]);
  }

  const renderFramework = (f: FrameworkView): Json => {
    const role = f.roles[0] ?? '*';
    const own = tasksBy.get(f.id) ?? [];
    const running = own.filter((t) => !isTerminal(t.state) && t.state !== 'TASK_UNREACHABLE');
    const unreachable = own.filter((t) => t.state === 'TASK_UNREACHABLE');
    const completed = own
      .filter((t) => isTerminal(t.state))
      .sort((a, b) => (b.endedAt ?? b.updatedAt) - (a.endedAt ?? a.updatedAt))
      .slice(0, MAX_COMPLETED_TASKS);
    const ownOffers = offers.filter((o) => o.frameworkId === f.id);
    let used = emptyResources();
    for (const t of running) used = addResources(used, t.resources);
    for (const t of unreachable) used = addResources(used, t.resources);
    let offered = emptyResources();
    for (const o of ownOffers) offered = addResources(offered, o.resources);
    const out: Json = {
      id: f.id,
      name: f.name,
      user: f.user,
      active: frameworkActive(f),
      connected: f.connected,
      recovered: false,
      role,
      roles: f.roles,
      registered_time: seconds(f.registeredAt),
      unregistered_time: 0,
      failover_timeout: f.failoverTimeoutSeconds,
      checkpoint: extras.get(f.id)?.checkpoint ?? false,
      capabilities: (extras.get(f.id)?.capabilities ?? []).map((c) => c.type),
      resources: stateResources(addResources(used, offered)),
      used_resources: stateResources(used),
      offered_resources: stateResources(offered),
      tasks: new Deferred(running, (t) => stateTask(t, role), taskTexts(role)),
      unreachable_tasks: new Deferred(unreachable, (t) => stateTask(t, role), taskTexts(role)),
      completed_tasks: new Deferred(completed, (t) => stateTask(t, role), taskTexts(role)),
      offers: ownOffers.map(stateOffer),
      executors: [],
      completed_executors: [],
    };
    if (f.hostname !== undefined) out.hostname = f.hostname;
    if (f.webuiUrl !== undefined) out.webui_url = f.webuiUrl;
    if (f.principal !== undefined) out.principal = f.principal;
    return out;
  };

  const frameworks = master.listFrameworks();
  return {
    version: master.version,
    build_time: seconds(master.startedAt),
    start_time: seconds(master.startedAt),
    elected_time: seconds(master.startedAt),
    id: master.epoch,
    pid,
    hostname: ep.hostname,
    leader: pid,
    leader_info: { id: master.epoch, pid, port: ep.port, hostname: ep.hostname, address: { hostname: ep.hostname, ip: ep.ip, port: ep.port } },
    activated_slaves: registered.filter(activeAgent).length,
    deactivated_slaves: registered.filter((a) => !activeAgent(a)).length,
    unreachable_slaves: agents.filter((a) => a.state === 'UNREACHABLE').length,
    slaves: new Deferred(registered.map((a) => {
      const offered = master.offeredOn(a.id);
      const out: Json = {
        id: a.id,
        hostname: a.hostname,
        port: AGENT_PORT,
        registered_time: seconds(a.registeredAt),
        resources: stateResources(a.resources),
        used_resources: stateResources(a.allocated),
        offered_resources: stateResources(offered),
        reserved_resources: {},
        unreserved_resources: stateResources(a.resources),
        attributes: { ...a.attributes },
        active: activeAgent(a),
        deactivated: a.state === 'DRAINING' || a.state === 'DRAINED',
        version: a.version,
        capabilities: [],
      };
      const di = drainInfo(a, drains.get(a.id));
      if (di) out.drain_info = di;
      return out;
    })),
    frameworks: frameworks.filter((f) => f.active).map(renderFramework),
    completed_frameworks: frameworks.filter((f) => !f.active).map(renderFramework),
    orphan_tasks: [],
    unregistered_frameworks: [],
  };
}
