// Marathon groups: a tree of apps with dependencies between apps and groups. Pure, no I/O.

import type { ErrorDetail } from '../../../protocol/types.js';
import { Problems, isRecord } from '../../api/errors.js';
import { normalizeApp, pointer, type AppDefinition } from './app-definition.js';
import { ROOT, baseName, isAncestor, parentOf, parsePathId } from './paths.js';

export interface GroupDefinition {
  id: string;
  apps: AppDefinition[];
  groups: GroupDefinition[];
  /** Absolute ids of apps or groups that every app in this group waits for. */
  dependencies: string[];
  version?: string;
}

export type GroupResult = { ok: true; group: GroupDefinition } | { ok: false; errors: ErrorDetail[] };

const given = (v: unknown): boolean => v !== undefined && v !== null;

/** Prefixes an error path found inside a nested document with where that document sits. */
function nest(at: string, path: string): string {
  if (path === '/' || path === '') return at === '' ? '/' : at;
  return at + path;
}

/**
 * A group as POSTed or PUT: ids of apps and groups inside may be relative to their group
 * ("web" in group /prod is /prod/web), and must name direct children of it. Errors come at
 * pointers into the given document: /apps/1/cpus, /groups/0/apps/0/id …
 */
export function normalizeGroup(input: unknown, opts: { base?: string } = {}): GroupResult {
  if (!isRecord(input)) return { ok: false, errors: [{ path: '/', errors: ['must be a JSON object'] }] };
  const p = new Problems();
  const group = readGroup(p, input, opts.base ?? ROOT, '', undefined);
  checkDuplicateIds(p, group);
  return p.empty ? { ok: true, group } : { ok: false, errors: p.details() };
}

function readGroup(p: Problems, input: Record<string, unknown>, base: string, at: string, parent: string | undefined): GroupDefinition {
  let id = base;
  const idAt = pointer(at || '/', 'id');
  if (!given(input.id)) p.add(idAt, 'is required');
  else {
    const r = parsePathId(input.id, base);
    if (r.error !== undefined) p.add(idAt, r.error);
    else if (parent !== undefined && (r.id === ROOT || parentOf(r.id) !== parent)) {
      p.add(idAt, notChild(r.id, parent));
    } else id = r.id;
  }

  const apps: AppDefinition[] = [];
  const appsIn = input.apps;
  if (given(appsIn) && !Array.isArray(appsIn)) p.add(pointer(at || '/', 'apps'), 'must be an array');
  if (Array.isArray(appsIn)) {
    appsIn.forEach((a, i) => {
      const appAt = `${at}/apps/${i}`;
      const r = normalizeApp(a, { base: id });
      if (!r.ok) {
        for (const d of r.errors) for (const e of d.errors) p.add(nest(appAt, d.path), e);
        return;
      }
      if (parentOf(r.app.id) !== id) p.add(`${appAt}/id`, notChild(r.app.id, id));
      else apps.push(r.app);
    });
  }

  const groups: GroupDefinition[] = [];
  const groupsIn = input.groups;
  if (given(groupsIn) && !Array.isArray(groupsIn)) p.add(pointer(at || '/', 'groups'), 'must be an array');
  if (Array.isArray(groupsIn)) {
    groupsIn.forEach((g, i) => {
      const groupAt = `${at}/groups/${i}`;
      if (!isRecord(g)) p.add(groupAt, 'must be an object');
      else groups.push(readGroup(p, g, id, groupAt, id));
    });
  }

  // Pods are a different kind of run spec; dropping them silently would lose the user's work.
  if (Array.isArray(input.pods) && input.pods.length > 0) p.add(`${at}/pods`, 'pods are not supported: define apps instead');

  // As for apps, a relative dependency names a sibling: resolve it against the enclosing group.
  const dependencies: string[] = [];
  const depsIn = input.dependencies;
  if (given(depsIn) && !Array.isArray(depsIn)) p.add(`${at}/dependencies`, 'must be an array');
  if (Array.isArray(depsIn)) {
    depsIn.forEach((d, i) => {
      const r = parsePathId(d, parentOf(id));
      if (r.error !== undefined) p.add(`${at}/dependencies/${i}`, r.error);
      else if (r.id === id || isAncestor(r.id, id)) p.add(`${at}/dependencies/${i}`, `a group cannot depend on itself or on a group that contains it (${r.id})`);
      else if (!dependencies.includes(r.id)) dependencies.push(r.id);
    });
  }

  const group: GroupDefinition = { id, apps, groups, dependencies };
  if (given(input.version)) {
    if (typeof input.version === 'string') group.version = input.version;
    else p.add(`${at}/version`, 'must be a string');
  }
  return group;
}

function notChild(id: string, group: string): string {
  const name = baseName(id) || 'name';
  return `${id} is not a direct child of group ${group}: use a relative id such as "${name}", or ${group === ROOT ? '' : group}/${name}`;
}

/** An id names one thing: two apps, or an app and a group, may not share it anywhere in the tree. */
function checkDuplicateIds(p: Problems, root: GroupDefinition): void {
  const seen = new Map<string, string>();
  const visit = (g: GroupDefinition, at: string): void => {
    const mine = at === '' ? '/' : at;
    const first = seen.get(g.id);
    if (first !== undefined) p.add(pointer(mine, 'id'), `${g.id} is already used by ${first}`);
    else seen.set(g.id, mine);
    g.apps.forEach((a, i) => {
      const appAt = `${at}/apps/${i}`;
      const prev = seen.get(a.id);
      if (prev !== undefined) p.add(`${appAt}/id`, `${a.id} is already used by ${prev}`);
      else seen.set(a.id, appAt);
    });
    g.groups.forEach((s, i) => visit(s, `${at}/groups/${i}`));
  };
  visit(root, '');
}

/** Every app in the tree, depth first: a group's own apps before those of its subgroups. */
export function flattenApps(g: GroupDefinition): AppDefinition[] {
  const out: AppDefinition[] = [];
  const visit = (x: GroupDefinition): void => {
    out.push(...x.apps);
    x.groups.forEach(visit);
  };
  visit(g);
  return out;
}

/** The group with this id in the tree, if any. */
export function findGroup(g: GroupDefinition, id: string): GroupDefinition | undefined {
  if (g.id === id) return g;
  if (!isAncestor(g.id, id)) return undefined;
  for (const s of g.groups) {
    const found = findGroup(s, id);
    if (found) return found;
  }
  return undefined;
}

export type DependencyOrderResult = { ok: true; order: string[][] } | { ok: false; errors: ErrorDetail[] };

/**
 * Start order of `apps`: waves of app ids, each wave depending only on earlier ones.
 *
 * A dependency on an app id is that app; on a group id, every app of `apps` inside that group.
 * A group's own dependencies apply to every app in it. A dependency on an app or group that
 * exists in `groups` but is not (and holds none) of `apps` is satisfied, so passing the whole
 * root group with only the apps being deployed works; one that names nothing is an error.
 *
 * Error paths point into `groups` when the app (or group dependency) is found there: relative
 * to the group itself when one group is given, under /groups/k when several are. Apps found in
 * no group are addressed as /apps/i (their index in `apps`).
 */
export function dependencyOrder(apps: AppDefinition[], groups: GroupDefinition[] = []): DependencyOrderResult {
  const p = new Problems();
  const appAt = new Map<string, string>();
  const groupAt = new Map<string, string>();
  const single = groups.length === 1;
  const walk = (g: GroupDefinition, at: string): void => {
    if (!groupAt.has(g.id)) groupAt.set(g.id, at);
    g.apps.forEach((a, i) => {
      if (!appAt.has(a.id)) appAt.set(a.id, `${at}/apps/${i}`);
    });
    g.groups.forEach((s, i) => walk(s, `${at}/groups/${i}`));
  };
  groups.forEach((g, k) => walk(g, single ? '' : `/groups/${k}`));

  const ids = new Set<string>();
  apps.forEach((a, i) => {
    if (!appAt.has(a.id)) appAt.set(a.id, `/apps/${i}`);
    if (ids.has(a.id)) p.add(`/apps/${i}/id`, `${a.id} is listed twice`);
    ids.add(a.id);
  });

  // An app or group of `groups` that holds none of `apps` is outside this ordering: already
  // running, or deployed separately. Depending on it is satisfied, not an error.
  const resolve = (dep: string): string[] | undefined => {
    if (ids.has(dep)) return [dep];
    const inside = [...ids].filter((id) => isAncestor(dep, id));
    if (inside.length > 0 || groupAt.has(dep) || appAt.has(dep)) return inside;
    return undefined;
  };

  /** from → (to → pointer of the dependency entry that made the edge). */
  const edges = new Map<string, Map<string, string>>();
  for (const id of ids) edges.set(id, new Map());
  const addEdges = (from: string, dep: string, at: string): void => {
    const targets = resolve(dep);
    if (targets === undefined) {
      p.add(at, `unknown dependency ${dep}: no app or group has this id`);
      return;
    }
    const out = edges.get(from)!;
    for (const t of targets) if (t !== from && !out.has(t)) out.set(t, at);
  };
  for (const a of apps) {
    a.dependencies.forEach((dep, j) => addEdges(a.id, dep, `${appAt.get(a.id)}/dependencies/${j}`));
  }
  const groupDeps = (g: GroupDefinition): void => {
    const members = flattenApps(g).filter((a) => ids.has(a.id));
    g.dependencies.forEach((dep, j) => {
      const at = `${groupAt.get(g.id)}/dependencies/${j}`;
      if (members.length === 0) {
        if (resolve(dep) === undefined) p.add(at, `unknown dependency ${dep}: no app or group has this id`);
        return;
      }
      for (const m of members) addEdges(m.id, dep, at);
    });
    g.groups.forEach(groupDeps);
  };
  groups.forEach(groupDeps);
  if (!p.empty) return { ok: false, errors: p.details() };

  // Kahn's algorithm, one wave at a time.
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const [from, out] of edges) {
    waiting.set(from, out.size);
    for (const to of out.keys()) {
      const list = dependents.get(to);
      if (list) list.push(from);
      else dependents.set(to, [from]);
    }
  }
  const order: string[][] = [];
  let wave = [...ids].filter((id) => waiting.get(id) === 0).sort();
  const done = new Set<string>();
  while (wave.length > 0) {
    order.push(wave);
    const next: string[] = [];
    for (const id of wave) {
      done.add(id);
      for (const d of dependents.get(id) ?? []) {
        const n = waiting.get(d)! - 1;
        waiting.set(d, n);
        if (n === 0) next.push(d);
      }
    }
    wave = next.sort();
  }
  if (done.size === ids.size) return { ok: true, order };

  // Every app left waits on another app left, so following its dependencies must loop.
  const left = [...ids].filter((id) => !done.has(id)).sort();
  const explored = new Set<string>();
  for (const startId of left) {
    if (explored.has(startId)) continue;
    const trail: string[] = [];
    const onTrail = new Map<string, number>();
    let cur = startId;
    while (!explored.has(cur)) {
      explored.add(cur);
      onTrail.set(cur, trail.length);
      trail.push(cur);
      cur = [...edges.get(cur)!.keys()].filter((t) => !done.has(t)).sort()[0]!;
    }
    const loopStart = onTrail.get(cur);
    if (loopStart === undefined) continue; // ran into a loop reported already
    const cycle = trail.slice(loopStart);
    // Start the cycle at its smallest id, so the same cycle reads the same whatever the input order.
    const first = cycle.indexOf([...cycle].sort()[0]!);
    const ring = [...cycle.slice(first), ...cycle.slice(0, first)];
    const at = edges.get(ring[0]!)!.get(ring[1 % ring.length]!)!;
    p.add(at, `dependency cycle: ${[...ring, ring[0]].join(' → ')}`);
  }
  return { ok: false, errors: p.details() };
}

/** The group as Marathon's GET /v2/groups prints it; `embedApps` prints each app. */
export function groupToJson(g: GroupDefinition, embedApps: (a: AppDefinition) => Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: g.id,
    apps: g.apps.map(embedApps),
    groups: g.groups.map((s) => groupToJson(s, embedApps)),
    // Marathon ≥ 1.4 lists pods in every group; clients iterate it without checking.
    pods: [],
    dependencies: [...g.dependencies],
  };
  if (g.version !== undefined) out.version = g.version;
  return out;
}
