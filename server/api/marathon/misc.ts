// /v2/tasks, /v2/deployments, /v2/queue, /v2/info, /v2/leader, /ping and the /v2/events stream.

import { hostname as osHostname } from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isTerminal, type TaskView } from '../../../protocol/types.js';
import { APP_ID_LABEL, SERVICES_FRAMEWORK_ID } from '../../frameworks/services/services.js';
import { badRequest, isRecord, notFound } from '../errors.js';
import { flag, queryAll, requireBody, type Ctx } from './common.js';
import { deploymentResult, deploymentToJson, isServiceTask, queueEntryToJson, taskToJson } from './json.js';

const STATUS: Record<string, ReadonlySet<TaskView['state']>> = {
  running: new Set(['TASK_RUNNING']),
  staging: new Set(['TASK_STAGING', 'TASK_STARTING']),
  killing: new Set(['TASK_KILLING']),
};

export function registerMisc(http: FastifyInstance, ctx: Ctx): void {
  const { master, services, events } = ctx;

  const checksOf = (t: TaskView): number => services.getApp(t.labels[APP_ID_LABEL] ?? '')?.def.healthChecks.length ?? 0;

  http.get('/v2/tasks', async (req) => {
    const statuses = [...queryAll(req, 'status'), ...queryAll(req, 'status[]')].map((s) => s.toLowerCase());
    for (const s of statuses) {
      if (!STATUS[s]) throw badRequest(`unknown task status ${s}`, [{ path: '?status', errors: [`one of ${Object.keys(STATUS).join(', ')}`] }]);
    }
    const tasks = master
      .listTasks()
      .filter((t) => isServiceTask(t) && !isTerminal(t.state))
      .filter((t) => statuses.length === 0 || statuses.some((s) => STATUS[s]!.has(t.state)));
    return { tasks: tasks.map((t) => taskToJson(master, t, checksOf(t))) };
  });

  http.post('/v2/tasks/delete', async (req) => {
    const body = requireBody(req.body);
    if (!Array.isArray(body.ids) || body.ids.some((x) => typeof x !== 'string')) {
      throw badRequest('the body must be {"ids": ["<task id>", …]}', [{ path: '/ids', errors: ['must be an array of task ids'] }]);
    }
    const scale = flag(req, 'scale');
    const wipe = flag(req, 'wipe');
    if (scale && wipe) throw badRequest('scale and wipe cannot be combined', [{ path: '?wipe', errors: ['only without scale'] }]);
    const byApp = new Map<string, string[]>();
    const unknown: Array<{ path: string; errors: string[] }> = [];
    for (const [i, id] of (body.ids as string[]).entries()) {
      const t = master.getTask(id);
      if (!isServiceTask(t) || isTerminal(t.state)) {
        unknown.push({ path: `/ids/${i}`, errors: [`unknown task ${id}`] });
        continue;
      }
      const app = t.labels[APP_ID_LABEL]!;
      byApp.set(app, [...(byApp.get(app) ?? []), id]);
    }
    if (unknown.length) throw notFound('Some task ids are not tasks of any app', unknown);
    // started together so that no scheduling turn sees a kill without its scale-down
    const results = await Promise.all([...byApp].map(([app, ids]) => services.killInstances(app, ids, { scale, wipe })));
    if (scale) {
      const last = results.map((r) => r.deployment).filter((d) => d !== undefined).pop();
      if (last) return deploymentResult(last);
    }
    return { tasks: results.flatMap((r) => r.killed).map((t) => taskToJson(master, t, checksOf(t))) };
  });

  http.get('/v2/deployments', async () => services.listDeployments().filter((d) => d.status === 'running').map(deploymentToJson));

  http.delete('/v2/deployments/:id', async (req, reply) => {
    const id = (req.params as { id: string }).id;
    if (!services.listDeployments().some((d) => d.id === id && d.status === 'running')) {
      throw notFound(`DeploymentPlan ${id} does not exist`, [{ path: '/id', errors: ['no such running deployment'] }]);
    }
    const force = flag(req, 'force');
    const rollback = await services.cancelDeployment(id, { force });
    if (!rollback) {
      reply.code(202);
      return reply.send();
    }
    return deploymentResult(rollback);
  });

  http.get('/v2/queue', async () => {
    const now = Date.now();
    return { queue: services.queueEntries().map((q) => queueEntryToJson(services, q, now)).filter(isRecord) };
  });

  const address = (req: FastifyRequest): { host: string; port: number } => {
    const a = http.server.address();
    if (a && typeof a === 'object') return { host: a.address, port: a.port };
    const [host, port] = (req.headers.host ?? '127.0.0.1:5050').split(':');
    return { host: host ?? '127.0.0.1', port: Number(port ?? 5050) };
  };

  http.get('/v2/info', async (req) => {
    const { host, port } = address(req);
    const fw = master.getFramework(SERVICES_FRAMEWORK_ID);
    return {
      name: 'yagura',
      version: master.version,
      buildref: '',
      elected: true,
      leader: `${host}:${port}`,
      frameworkId: SERVICES_FRAMEWORK_ID,
      marathon_config: {
        master: `${host}:${port}`,
        failover_timeout: fw?.failoverTimeoutSeconds ?? 0,
        framework_name: fw?.name ?? 'services',
        ha: false,
        checkpoint: true,
        local_port_min: 10000,
        local_port_max: 20000,
        executor: '//cmd',
        hostname: osHostname(),
        webui_url: null,
        mesos_role: '*',
        task_launch_timeout: 300000,
        task_reservation_timeout: 20000,
        reconciliation_initial_delay: 15000,
        reconciliation_interval: 600000,
        mesos_user: fw?.user ?? 'root',
        leader_proxy_connection_timeout_ms: 5000,
        leader_proxy_read_timeout_ms: 10000,
        mesos_leader_ui_url: `http://${host}:${port}/`,
        features: [],
      },
      zookeeper_config: { zk: null, zk_timeout: 0, zk_connection_timeout: 0, zk_session_timeout: 0, zk_max_versions: 50 },
      event_subscriber: null,
      http_config: { http_port: port, https_port: 0 },
    };
  });

  http.get('/v2/leader', async (req) => {
    const { host, port } = address(req);
    return { leader: `${host}:${port}` };
  });

  http.get('/ping', async (_req, reply) => reply.type('text/plain; charset=utf-8').send('pong'));

  http.get('/v2/events', async (req, reply) => {
    const types = [...queryAll(req, 'event_type'), ...queryAll(req, 'event_type[]')];
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store',
      connection: 'keep-alive',
      // proxies in front (nginx) must not hold events back
      'x-accel-buffering': 'no',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // a comment first, so that clients see the stream open even when their filter is narrow
    res.write(': yagura event stream\n\n');
    const detach = events.add(res, types, req.ip);
    res.on('close', detach);
    res.on('error', detach);
  });
}
