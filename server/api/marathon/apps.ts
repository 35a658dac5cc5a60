// /v2/apps: list, create, replace, patch, delete, restart, tasks and versions. App ids contain
// slashes, so everything under /v2/apps/ is one wildcard route per method; the known suffixes
// (/restart, /tasks[/ID], /versions[/V]) are split off the end, as Marathon's routes do.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTerminal, type DeploymentView, type ErrorDetail } from '../../../protocol/types.js';
import { mergeApp, normalizeApp, appToJson, type AppDefinition, type AppResult } from '../../frameworks/services/app-definition.js';
import { parentOf, parsePathId } from '../../frameworks/services/paths.js';
import { badRequest, conflict, invalid, isRecord, notFound } from '../errors.js';
import { flag, idFromSegments, query, requireBody, uriOf, wildcard, type Ctx } from './common.js';
import { appInfoJson, appInfoText, deploymentResult, labelsMatch, parseEmbeds, parseLabelSelector, taskToJson, type AppEmbed } from './json.js';

type Sub = { kind: 'app' } | { kind: 'restart' } | { kind: 'tasks' } | { kind: 'task'; taskId: string } | { kind: 'versions' } | { kind: 'version'; version: string };

/** Splits /prod/web/tasks/x into the app id segments and what is asked of it. */
function splitPath(segments: string[]): { idSegments: string[]; sub: Sub } {
  const n = segments.length;
  const last = segments[n - 1];
  const prev = segments[n - 2];
  // a suffix needs an app in front of it: /v2/apps/tasks is the app /tasks
  if (n >= 2 && last === 'restart') return { idSegments: segments.slice(0, -1), sub: { kind: 'restart' } };
  if (n >= 2 && last === 'tasks') return { idSegments: segments.slice(0, -1), sub: { kind: 'tasks' } };
  if (n >= 2 && last === 'versions') return { idSegments: segments.slice(0, -1), sub: { kind: 'versions' } };
  if (n >= 3 && prev === 'tasks') return { idSegments: segments.slice(0, -2), sub: { kind: 'task', taskId: last! } };
  if (n >= 3 && prev === 'versions') return { idSegments: segments.slice(0, -2), sub: { kind: 'version', version: last! } };
  return { idSegments: segments, sub: { kind: 'app' } };
}

function unwrap(r: AppResult): AppDefinition {
  if (!r.ok) throw invalid('Object is not valid', r.errors);
  return r.app;
}

/** A rollback body: `{version}` and at most the id beside it (Marathon refuses anything else with it). */
function rollbackVersion(body: Record<string, unknown>): string | undefined {
  if (body.version === undefined || body.version === null) return undefined;
  const others = Object.keys(body).filter((k) => k !== 'version' && k !== 'id' && body[k] !== undefined && body[k] !== null);
  if (typeof body.version !== 'string') throw invalid('Object is not valid', [{ path: '/version', errors: ['must be a string (an ISO timestamp from /versions)'] }]);
  if (others.length) {
    throw invalid('Object is not valid', [{ path: '/version', errors: [`a rollback takes only the version (and id); remove ${others.join(', ')}`] }]);
  }
  return body.version;
}

/** An app may not take the id of a group, nor sit under another app. */
function checkPlace({ services, groups }: Ctx, id: string): void {
  if (groups.hasGroup(id)) throw conflict(`An app with id [${id}] conflicts with the group of the same id.`, [{ path: '/id', errors: ['a group has this id'] }]);
  for (let p = parentOf(id); p !== '/'; p = parentOf(p)) {
    if (services.getApp(p)) throw conflict(`An app with id [${id}] cannot be created inside the app ${p}.`, [{ path: '/id', errors: [`${p} is an app, not a group`] }]);
  }
}

/** Creating and removing whole apps for other parts of the master (the catalog), as the API does. */
export interface AppWriter {
  /** 409 when the id is taken by an app or a group, or sits under an app. */
  create(def: AppDefinition, origin: string): Promise<DeploymentView>;
  /** Forced: cancels a deployment that holds the app. */
  remove(id: string, origin: string): Promise<DeploymentView>;
}

export function appWriter(ctx: Ctx): AppWriter {
  const { services, events, groups } = ctx;
  return {
    async create(def, origin) {
      if (services.getApp(def.id)) throw conflict(`An app with id [${def.id}] already exists.`, [{ path: '/id', errors: ['an app with this id exists'] }]);
      checkPlace(ctx, def.id);
      const d = await services.deploy([{ id: def.id, to: def }], { groupDependencies: groups.dependencies([def.id]) });
      events.apiPost(origin, `/v2/apps${def.id}`, appToJson(services.getApp(def.id)?.def ?? def));
      return d;
    },
    async remove(id, origin) {
      const rec = services.requireApp(id);
      // as Cosmos did (DELETE …?force=true): an uninstall wins over the app's running deployment
      const d = await services.deploy([{ id, to: null }], { force: true, groupDependencies: groups.dependencies([id]) });
      events.apiPost(origin, `/v2/apps${id}`, appToJson(rec.def));
      return d;
    },
  };
}

export function registerApps(http: FastifyInstance, ctx: Ctx): void {
  const { master, services, events, groups } = ctx;
  const place = (id: string): void => checkPlace(ctx, id);

  const written = (req: FastifyRequest, defs: AppDefinition[]) => {
    // the stored definition carries the version the write was given
    for (const d of defs) events.apiPost(req.ip, uriOf(req), appToJson(services.getApp(d.id)?.def ?? d));
  };

  const deploy = async (changes: Array<{ id: string; to: AppDefinition | null }>, force: boolean): Promise<DeploymentView> =>
    services.deploy(changes, { force, groupDependencies: groups.dependencies(changes.map((c) => c.id)) });

  http.get('/v2/apps', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    let apps = services.listApps();
    const id = query(req, 'id');
    const cmd = query(req, 'cmd');
    const label = query(req, 'label');
    if (id) apps = apps.filter((a) => a.def.id.includes(id));
    if (cmd) apps = apps.filter((a) => a.def.cmd?.includes(cmd));
    if (label) {
      const sel = parseLabelSelector(label);
      apps = apps.filter((a) => labelsMatch(a.def.labels, sel));
    }
    const embed = parseEmbeds(q.embed, ['apps.', 'app.']);
    // as text: each definition's part is written once (appInfoText), not at every read
    reply.type('application/json; charset=utf-8');
    return `{"apps":[${apps.map((a) => appInfoText(master, services, a, embed)).join(',')}]}`;
  });

  http.post('/v2/apps', async (req, reply) => {
    if (Array.isArray(req.body)) throw badRequest('POST /v2/apps takes one app; use PUT /v2/apps or /v2/groups for several');
    const def = unwrap(normalizeApp(requireBody(req.body)));
    if (services.getApp(def.id)) {
      throw conflict(`An app with id [${def.id}] already exists.`, [{ path: '/id', errors: ['an app with this id exists'] }]);
    }
    place(def.id);
    const d = await deploy([{ id: def.id, to: def }], flag(req, 'force'));
    written(req, [def]);
    const rec = services.requireApp(def.id);
    reply.code(201).header('Location', `/v2/apps${def.id}`);
    return { ...appInfoJson(master, services, rec, new Set()), deployments: [{ id: d.id }] };
  });

  // Several apps at once, created or updated, in one deployment (Marathon's PUT/PATCH /v2/apps).
  const bulk = async (req: FastifyRequest, partial: boolean) => {
    if (!Array.isArray(req.body)) throw badRequest('the body must be a JSON array of apps', [{ path: '/', errors: ['expected an array'] }]);
    const errors: ErrorDetail[] = [];
    const changes: Array<{ id: string; to: AppDefinition }> = [];
    req.body.forEach((item, i) => {
      const at = (p: string) => `/${i}${p === '/' ? '' : p}`;
      if (!isRecord(item)) {
        errors.push({ path: `/${i}`, errors: ['must be a JSON object'] });
        return;
      }
      const given = parsePathId(item.id);
      const existing = given.id !== undefined ? services.getApp(given.id) : undefined;
      const r = existing && partial ? mergeApp(existing.def, item) : normalizeApp(item);
      if (!r.ok) errors.push(...r.errors.map((e) => ({ path: at(e.path), errors: e.errors })));
      else if (changes.some((c) => c.id === r.app.id)) errors.push({ path: `/${i}/id`, errors: [`${r.app.id} is listed twice`] });
      else changes.push({ id: r.app.id, to: r.app });
    });
    if (errors.length) throw invalid('Object is not valid', errors);
    for (const c of changes) if (!services.getApp(c.id)) place(c.id);
    const d = await deploy(changes, flag(req, 'force'));
    written(req, changes.map((c) => c.to));
    return deploymentResult(d);
  };
  http.put('/v2/apps', async (req) => bulk(req, flag(req, 'partialUpdate') || query(req, 'partialUpdate') === undefined));
  http.patch('/v2/apps', async (req) => bulk(req, true));

  http.get('/v2/apps/*', async (req) => {
    const { idSegments, sub } = splitPath(wildcard(req));
    const id = idFromSegments(idSegments, 'read');
    const rec = services.requireApp(id);
    switch (sub.kind) {
      case 'app': {
        const q = req.query as Record<string, unknown>;
        const asked = parseEmbeds(q.embed, ['app.', 'apps.']);
        const embed: Set<AppEmbed> = asked.size ? asked : new Set(['tasks', 'counts', 'deployments', 'lastTaskFailure', 'readiness']);
        return { app: appInfoJson(master, services, rec, embed) };
      }
      case 'tasks':
        return { tasks: services.tasksOf(id).filter((t) => !isTerminal(t.state)).map((t) => taskToJson(master, t, rec.def.healthChecks.length)) };
      case 'versions':
        return { versions: services.versions(id) };
      case 'version': {
        const def = services.version(id, sub.version);
        if (!def) throw notFound(`App '${id}' does not exist in version ${sub.version}`, [{ path: '/version', errors: ['unknown version'] }]);
        return appToJson(def);
      }
      default:
        throw notFound(`no route GET ${uriOf(req)}`);
    }
  });

  const replace = async (req: FastifyRequest, reply: FastifyReply, partialDefault: boolean) => {
    const { idSegments, sub } = splitPath(wildcard(req));
    if (sub.kind !== 'app') throw notFound(`no route ${req.method} ${uriOf(req)}`);
    const id = idFromSegments(idSegments, 'write');
    const body = requireBody(req.body);
    const existing = services.getApp(id);
    if (req.method === 'PATCH' && !existing) services.requireApp(id);
    const force = flag(req, 'force');

    const rollback = rollbackVersion(body);
    if (rollback !== undefined) {
      if (!existing) services.requireApp(id);
      const old = services.version(id, rollback);
      if (!old) throw notFound(`App '${id}' does not exist in version ${rollback}`, [{ path: '/version', errors: ['unknown version'] }]);
      const to = { ...old };
      delete to.version;
      const d = await deploy([{ id, to }], force);
      written(req, [to]);
      return deploymentResult(d);
    }

    if (body.id !== undefined && body.id !== null) {
      const given = parsePathId(body.id, parentOf(id));
      if (given.error !== undefined) throw invalid('Object is not valid', [{ path: '/id', errors: [given.error] }]);
      if (given.id !== id) throw invalid('Object is not valid', [{ path: '/id', errors: [`the id in the body (${given.id}) does not match the URL (${id})`] }]);
    }
    const partial = query(req, 'partialUpdate') === undefined ? partialDefault : flag(req, 'partialUpdate');
    const def = existing && partial ? unwrap(mergeApp(existing.def, body)) : unwrap(normalizeApp({ ...body, id: body.id ?? id }, { base: parentOf(id) }));
    if (!existing) place(id);
    const d = await deploy([{ id, to: def }], force);
    written(req, [def]);
    if (!existing) reply.code(201).header('Location', `/v2/apps${id}`);
    return deploymentResult(d);
  };
  // Marathon ≥ 1.5: PUT is a partial update unless ?partialUpdate=false
  http.put('/v2/apps/*', async (req, reply) => replace(req, reply, true));
  http.patch('/v2/apps/*', async (req, reply) => replace(req, reply, true));

  http.post('/v2/apps/*', async (req) => {
    const { idSegments, sub } = splitPath(wildcard(req));
    if (sub.kind !== 'restart') throw notFound(`no route POST ${uriOf(req)}`);
    const id = idFromSegments(idSegments, 'read');
    const rec = services.requireApp(id);
    const to = { ...rec.def };
    delete to.version;
    const d = await deploy([{ id, to }], flag(req, 'force'));
    written(req, [to]);
    return deploymentResult(d);
  });

  http.delete('/v2/apps/*', async (req) => {
    const { idSegments, sub } = splitPath(wildcard(req));
    const id = idFromSegments(idSegments, 'read');
    const rec = services.requireApp(id);
    const scale = flag(req, 'scale');
    const wipe = flag(req, 'wipe');
    if (scale && wipe) throw badRequest('scale and wipe cannot be combined', [{ path: '?wipe', errors: ['only without scale'] }]);
    switch (sub.kind) {
      case 'app': {
        const d = await deploy([{ id, to: null }], flag(req, 'force'));
        written(req, [rec.def]);
        return deploymentResult(d);
      }
      case 'tasks': {
        const host = query(req, 'host');
        const targets = services
          .tasksOf(id)
          .filter((t) => !isTerminal(t.state))
          .filter((t) => !host || master.getAgent(t.agentId)?.hostname === host);
        const r = await services.killInstances(id, targets.map((t) => t.id), { scale, wipe });
        if (r.deployment) return deploymentResult(r.deployment);
        return { tasks: r.killed.map((t) => taskToJson(master, t, rec.def.healthChecks.length)) };
      }
      case 'task': {
        const t = services.tasksOf(id).find((x) => x.id === sub.taskId && !isTerminal(x.state));
        if (!t) throw notFound(`Task '${sub.taskId}' does not exist`, [{ path: '/taskId', errors: ['unknown task of this app'] }]);
        const r = await services.killInstances(id, [t.id], { scale, wipe });
        if (r.deployment) return deploymentResult(r.deployment);
        return { task: taskToJson(master, r.killed[0]!, rec.def.healthChecks.length) };
      }
      default:
        throw notFound(`no route DELETE ${uriOf(req)}`);
    }
  });
}
