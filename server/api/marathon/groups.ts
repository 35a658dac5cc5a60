// /v2/groups: the tree of apps. A group exists when an app lives in it, or when it was created
// through this API (then it is kept, empty or not, with its own dependencies, as Marathon does).
// Writes become one deployment for every app they change, in dependency order.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DeploymentView } from '../../../protocol/types.js';
import { appToJson, isUpgrade, type AppDefinition } from '../../frameworks/services/app-definition.js';
import { dependencyOrder, flattenApps, groupToJson, normalizeGroup, type GroupDefinition } from '../../frameworks/services/group-definition.js';
import { isAncestor, parentOf, parsePathId, ROOT } from '../../frameworks/services/paths.js';
import type { ServicesFramework } from '../../frameworks/services/services.js';
import type { Master } from '../../master/master.js';
import { conflict, invalid, isRecord, notFound } from '../errors.js';
import { flag, idFromSegments, requireBody, uriOf, wildcard, type Ctx } from './common.js';
import { appInfoJson, deploymentResult, parseEmbeds } from './json.js';

const GROUPS = 'marathon_groups';

interface GroupDoc {
  id: string;
  dependencies: string[];
  version: string;
}

const inside = (group: string, id: string): boolean => group === id || isAncestor(group, id);

/** Groups created through the API, persisted with the master's commits. */
export class GroupStore {
  private docs = new Map<string, GroupDoc>();

  constructor(
    private master: Master,
    private services: ServicesFramework,
  ) {
    for (const { data } of master.loadDocs<GroupDoc>(GROUPS)) this.docs.set(data.id, data);
  }

  put(doc: GroupDoc): void {
    this.docs.set(doc.id, doc);
    this.master.putDoc(GROUPS, doc.id, doc);
  }

  /** Forget the group and every group inside it. */
  removeUnder(id: string): void {
    for (const k of [...this.docs.keys()]) {
      if (!inside(id, k)) continue;
      this.docs.delete(k);
      this.master.deleteDoc(GROUPS, k);
    }
  }

  /**
   * Group dependencies for planning a deployment that changes `changed`: only those that name
   * an app, or a group holding one, since a dependency on nothing would void the whole order.
   */
  dependencies(changed: string[]): Record<string, string[]> {
    // most clusters have no group dependencies: then every POST need not gather every app id
    let any = false;
    for (const d of this.docs.values()) if (d.dependencies.length > 0) any = true;
    if (!any) return {};
    const apps = new Set([...this.services.listApps().map((a) => a.def.id), ...changed]);
    const names = (dep: string) => apps.has(dep) || [...apps].some((a) => isAncestor(dep, a));
    const out: Record<string, string[]> = {};
    for (const d of this.docs.values()) {
      const deps = d.dependencies.filter(names);
      if (deps.length) out[d.id] = deps;
    }
    return out;
  }

  hasGroup(id: string): boolean {
    if (id === ROOT || this.docs.has(id)) return true;
    return this.services.listApps().some((a) => isAncestor(id, a.def.id));
  }

  /** The whole tree as it is now: explicit groups, and the groups apps imply. */
  tree(): GroupDefinition {
    const nodes = new Map<string, GroupDefinition>();
    const node = (id: string): GroupDefinition => {
      let g = nodes.get(id);
      if (g) return g;
      const doc = this.docs.get(id);
      g = { id, apps: [], groups: [], dependencies: doc ? [...doc.dependencies] : [] };
      if (doc) g.version = doc.version;
      nodes.set(id, g);
      if (id !== ROOT) node(parentOf(id)).groups.push(g);
      return g;
    };
    node(ROOT);
    for (const id of this.docs.keys()) node(id);
    for (const a of this.services.listApps()) node(parentOf(a.def.id)).apps.push(a.def);
    const finish = (g: GroupDefinition): string => {
      g.apps.sort((a, b) => a.id.localeCompare(b.id));
      g.groups.sort((a, b) => a.id.localeCompare(b.id));
      // a group's version is its own last change or its newest app's, whichever is later
      const versions = [g.version ?? '', ...g.apps.map((a) => a.version ?? ''), ...g.groups.map(finish)];
      const latest = versions.reduce((a, b) => (b > a ? b : a), '');
      if (latest) g.version = latest;
      return latest;
    };
    finish(nodes.get(ROOT)!);
    return nodes.get(ROOT)!;
  }

  find(id: string): GroupDefinition | undefined {
    const walk = (g: GroupDefinition): GroupDefinition | undefined => {
      if (g.id === id) return g;
      for (const s of g.groups) if (inside(s.id, id)) return walk(s);
      return undefined;
    };
    return walk(this.tree());
  }
}

type Change = { id: string; to: AppDefinition | null };

export function registerGroups(http: FastifyInstance, ctx: Ctx): void {
  const { master, services, events, groups } = ctx;

  const show = (req: FastifyRequest, g: GroupDefinition): Record<string, unknown> => {
    const embed = parseEmbeds((req.query as Record<string, unknown>).embed, ['group.apps.']);
    return groupToJson(g, (a) => {
      const rec = services.getApp(a.id);
      return rec ? appInfoJson(master, services, rec, embed) : appToJson(a);
    });
  };

  http.get('/v2/groups', async (req) => show(req, groups.tree()));
  http.get('/v2/groups/*', async (req) => {
    const segments = wildcard(req);
    // Marathon's /v2/groups/{id}/versions: Yagura keeps no group history, only the current one
    if (segments[segments.length - 1] === 'versions' && segments.length >= 1) {
      const g = groups.find(idFromSegments(segments.slice(0, -1), 'read', 'Group'));
      if (g) return g.version ? [g.version] : [];
    }
    const id = idFromSegments(segments, 'read', 'Group');
    const g = groups.find(id);
    if (!g) throw notFound(`Group '${id}' does not exist`);
    return show(req, g);
  });

  /** Cycles are an error; dependencies outside the document are met by what already runs. */
  const checkDependencies = (g: GroupDefinition): void => {
    const outside = new Set<string>();
    const visit = (x: GroupDefinition): void => {
      for (const d of x.dependencies) if (!inside(g.id, d)) outside.add(d);
      for (const a of x.apps) for (const d of a.dependencies) if (!inside(g.id, d)) outside.add(d);
      x.groups.forEach(visit);
    };
    visit(g);
    // stand-ins appended after the real subgroups, so error paths into the document stay right
    const stubs = [...outside].map((id): GroupDefinition => ({ id, apps: [], groups: [], dependencies: [] }));
    const r = dependencyOrder(flattenApps(g), [{ ...g, groups: [...g.groups, ...stubs] }]);
    if (!r.ok) throw invalid('Object is not valid', r.errors);
  };

  /** Marathon's 409 for apps a deployment holds, checked before anything is written. */
  const checkLocks = (changes: Change[], force: boolean): void => {
    if (force) return;
    const busy = new Set<string>();
    for (const c of changes) for (const d of services.deploymentsOf(c.id)) if (d.status === 'running') busy.add(d.id);
    if (busy.size) {
      throw conflict(`App is locked by one or more deployments. Override with the option '?force=true'.`, [
        { path: '/', errors: [...busy].map((id) => `deployment ${id} is in progress`) },
      ]);
    }
  };

  const remember = (g: GroupDefinition, version: string): void => {
    const visit = (x: GroupDefinition): void => {
      if (x.id !== ROOT) groups.put({ id: x.id, dependencies: [...x.dependencies], version });
      x.groups.forEach(visit);
    };
    visit(g);
  };

  const finish = async (req: FastifyRequest, changes: Change[], force: boolean): Promise<DeploymentView> => {
    const defs = changes.map((c) => c.to ?? services.getApp(c.id)?.def).filter((x): x is AppDefinition => !!x);
    const d = await services.deploy(changes, { force, groupDependencies: groups.dependencies(changes.map((c) => c.id)) });
    for (const def of defs) events.apiPost(req.ip, uriOf(req), appToJson(def));
    return d;
  };

  const appsUnder = (id: string): AppDefinition[] => services.listApps().map((a) => a.def).filter((d) => isAncestor(id, d.id));

  /** An app of the document may not take the id of a group that stays, nor nest under an app. */
  const checkPlaces = (g: GroupDefinition, staying: (id: string) => boolean): void => {
    for (const a of flattenApps(g)) {
      if (!services.getApp(a.id) && groups.hasGroup(a.id) && staying(a.id)) {
        throw conflict(`An app with id [${a.id}] conflicts with the group of the same id.`, [{ path: '/', errors: [`${a.id} is a group`] }]);
      }
    }
    const visit = (x: GroupDefinition): void => {
      if (x.id !== ROOT && services.getApp(x.id)) throw conflict(`Group ${x.id} conflicts with the app of the same id.`, [{ path: '/', errors: [`${x.id} is an app`] }]);
      x.groups.forEach(visit);
    };
    visit(g);
  };

  const create = async (req: FastifyRequest, base: string) => {
    const body = requireBody(req.body);
    const input = { ...body, id: body.id ?? base };
    const r = normalizeGroup(input, { base });
    if (!r.ok) throw invalid('Object is not valid', r.errors);
    const g = r.group;
    if (groups.hasGroup(g.id)) throw conflict(`Group ${g.id} is already created. Use PUT to change this group.`, [{ path: '/id', errors: ['exists'] }]);
    checkDependencies(g);
    checkPlaces(g, () => true);
    const changes = flattenApps(g).map((a) => ({ id: a.id, to: a }));
    checkLocks(changes, flag(req, 'force'));
    remember(g, new Date().toISOString());
    return finish(req, changes, flag(req, 'force'));
  };

  http.post('/v2/groups', async (req, reply) => {
    const d = await create(req, ROOT);
    reply.code(201);
    return deploymentResult(d);
  });
  http.post('/v2/groups/*', async (req, reply) => {
    const d = await create(req, idFromSegments(wildcard(req), 'write', 'Group'));
    reply.code(201);
    return deploymentResult(d);
  });

  const update = async (req: FastifyRequest, id: string) => {
    const body = requireBody(req.body);
    const force = flag(req, 'force');

    if (body.scaleBy !== undefined && body.scaleBy !== null) {
      if (typeof body.scaleBy !== 'number' || !Number.isFinite(body.scaleBy) || body.scaleBy < 0) {
        throw invalid('Object is not valid', [{ path: '/scaleBy', errors: ['must be a number >= 0'] }]);
      }
      if (!groups.hasGroup(id)) throw notFound(`Group '${id}' does not exist`);
      const factor = body.scaleBy;
      const changes = appsUnder(id).map((a) => ({ id: a.id, to: { ...a, instances: Math.ceil(a.instances * factor - 1e-9) } }));
      checkLocks(changes, force);
      return finish(req, changes, force);
    }
    if (body.version !== undefined && body.version !== null) {
      throw invalid('Object is not valid', [{ path: '/version', errors: ['rolling a group back to a version is not supported: PUT the group definition instead'] }]);
    }
    if (body.id !== undefined && body.id !== null) {
      const given = parsePathId(body.id, parentOf(id));
      if (given.id !== undefined && given.id !== id) {
        throw invalid('Object is not valid', [{ path: '/id', errors: [`the id in the body (${given.id}) does not match the URL (${id})`] }]);
      }
    }
    const r = normalizeGroup({ ...body, id }, { base: parentOf(id) });
    if (!r.ok) throw invalid('Object is not valid', r.errors);
    const g = r.group;

    // Marathon's GroupUpdate: `apps` and `groups`, when given, are the whole new content of
    // their group; when absent, what is there stays.
    const current = groups.find(id);
    const changes: Change[] = [];
    const removedGroups: string[] = [];
    const walk = (raw: Record<string, unknown>, want: GroupDefinition, have: GroupDefinition | undefined): void => {
      if ((raw.dependencies === undefined || raw.dependencies === null) && have) want.dependencies = [...have.dependencies];
      for (const a of want.apps) {
        const existing = services.getApp(a.id)?.def;
        if (!existing || existing.instances !== a.instances || isUpgrade(existing, a)) changes.push({ id: a.id, to: a });
      }
      if (have && Array.isArray(raw.apps)) {
        for (const a of have.apps) if (!want.apps.some((x) => x.id === a.id)) changes.push({ id: a.id, to: null });
      }
      if (have && Array.isArray(raw.groups)) {
        for (const s of have.groups) {
          if (want.groups.some((x) => x.id === s.id)) continue;
          removedGroups.push(s.id);
          for (const a of flattenApps(s)) changes.push({ id: a.id, to: null });
        }
      }
      const rawGroups = Array.isArray(raw.groups) ? raw.groups : [];
      want.groups.forEach((s, i) => {
        const rs = rawGroups[i];
        walk(isRecord(rs) ? rs : {}, s, have?.groups.find((x) => x.id === s.id));
      });
    };
    walk(body, g, current);
    checkDependencies(g);
    checkPlaces(g, (appId) => !removedGroups.some((rg) => inside(rg, appId)));
    checkLocks(changes, force);
    for (const rg of removedGroups) groups.removeUnder(rg);
    remember(g, new Date().toISOString());
    return finish(req, changes, force);
  };

  http.put('/v2/groups', async (req) => deploymentResult(await update(req, ROOT)));
  http.put('/v2/groups/*', async (req) => deploymentResult(await update(req, idFromSegments(wildcard(req), 'write', 'Group'))));

  const remove = async (req: FastifyRequest, id: string) => {
    if (!groups.hasGroup(id)) throw notFound(`Group '${id}' does not exist`);
    const force = flag(req, 'force');
    const doomed = appsUnder(id);
    const changes = doomed.map((a) => ({ id: a.id, to: null }));
    checkLocks(changes, force);
    groups.removeUnder(id);
    return deploymentResult(await finish(req, changes, force));
  };
  http.delete('/v2/groups', async (req) => remove(req, ROOT));
  http.delete('/v2/groups/*', async (req) => remove(req, idFromSegments(wildcard(req), 'read', 'Group')));
}
