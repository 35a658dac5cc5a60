// The catalog: find packages in the repositories, render them with the user's options, install
// them as services (through the same path as POST /v2/apps) or jobs (as POST /v1/jobs), and find
// and remove what was installed by its DCOS_PACKAGE_* labels — the labels are the only record
// of an installation, as in Cosmos, so an app deleted through Marathon is no longer "installed".
//
// Rendering: options = defaults of config.json, then the user's options (merged per key);
// they are validated against config.json; the template sees them plus `resource`. The rendered
// definition must be valid for its framework; nothing is created until every part is valid.

import type { DeploymentView, ErrorDetail } from '../../protocol/types.js';
import { conflict, invalid, notFound } from '../api/errors.js';
import type { AppWriter } from '../api/marathon/apps.js';
import type { Master } from '../master/master.js';
import type { Logger } from '../master/types.js';
import { parseConstraints } from '../core/constraints.js';
import { normalizeApp, type AppDefinition } from '../frameworks/services/app-definition.js';
import { parsePathId } from '../frameworks/services/paths.js';
import type { ServicesFramework } from '../frameworks/services/services.js';
import { parseMetronomeJob, type JobDefinition } from '../frameworks/jobs/definition.js';
import type { JobsFramework } from '../frameworks/jobs/jobs.js';
import { renderTemplate, TemplateError } from './mustache.js';
import { Repositories, type RepositoryRecord } from './repositories.js';
import { defaultsOf, merge, validate } from './schema.js';
import { compareVersions, kindOf, loadPackageTree, readIndex, type PackageKind, type UniversePackage } from './universe.js';

export const LABEL = {
  name: 'DCOS_PACKAGE_NAME',
  version: 'DCOS_PACKAGE_VERSION',
  release: 'DCOS_PACKAGE_RELEASE',
  options: 'DCOS_PACKAGE_OPTIONS',
  source: 'DCOS_PACKAGE_SOURCE',
  metadata: 'DCOS_PACKAGE_METADATA',
  framework: 'DCOS_PACKAGE_IS_FRAMEWORK',
  /** Yagura: ties the app and the job of one installation together (the app id, or the job id). */
  instance: 'YAGURA_PACKAGE_INSTANCE',
} as const;

export interface CatalogDeps {
  master: Master;
  services: ServicesFramework;
  jobs: JobsFramework;
  apps: AppWriter;
  /** The built-in repository's directory (packages/<name>/<revision>/…). */
  builtinDir: string;
  fetchTimeoutMs?: number;
  log?: Logger;
}

export interface Resolved {
  pkg: UniversePackage;
  repo: RepositoryRecord;
}

export interface Rendered extends Resolved {
  options: Record<string, unknown>;
  userOptions: Record<string, unknown>;
  marathonJson?: Record<string, unknown>;
  metronomeJson?: Record<string, unknown>;
  app?: AppDefinition;
  job?: JobDefinition;
  instance: string;
}

export interface Installed {
  /** The app id, or the job id for a job-only package. */
  appId: string;
  kind: PackageKind;
  name: string;
  version: string;
  appIds: string[];
  jobIds: string[];
  labels: Record<string, string>;
}

export interface InstallRequest {
  packageName: string;
  packageVersion?: string;
  options?: Record<string, unknown>;
  appId?: string;
  /** Yagura: Marathon constraint triples appended to the rendered app's `constraints` (service packages only). */
  constraints?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64');
const prefix = (at: string, details: ErrorDetail[]): ErrorDetail[] => details.map((d) => ({ path: `${at}${d.path === '/' ? '' : d.path}`, errors: d.errors }));

/** The package as describe shows it, without the templates. */
export function packageDefinition(pkg: UniversePackage): Record<string, unknown> {
  const { marathon: _m, metronome: _j, config: _c, resource: _r, ...rest } = pkg;
  return { ...rest, kind: kindOf(pkg) };
}

/** The images a tile shows. */
function imagesOf(pkg: UniversePackage): Record<string, unknown> {
  return isObject(pkg.resource) && isObject(pkg.resource.images) ? pkg.resource.images : {};
}

export class Catalog {
  readonly repositories: Repositories;
  private readonly builtin: UniversePackage[];
  readonly builtinProblems: ErrorDetail[];

  constructor(private readonly deps: CatalogDeps) {
    const tree = loadPackageTree(deps.builtinDir);
    let read: { packages: UniversePackage[]; skipped: ErrorDetail[] };
    try {
      read = readIndex(tree);
    } catch (err) {
      read = { packages: [], skipped: tree.packages.length ? [{ path: 'packages', errors: [(err as Error).message] }] : [] };
    }
    /** Built-in packages that could not be read (a defect of this build; tests require none). */
    this.builtinProblems = [...tree.problems, ...read.skipped];
    for (const p of this.builtinProblems) deps.log?.('error', `built-in package ${p.path} left out: ${p.errors.join('; ')}`);
    this.builtin = read.packages;
    this.repositories = new Repositories({ master: deps.master, builtin: () => this.builtin, ...(deps.fetchTimeoutMs !== undefined ? { fetchTimeoutMs: deps.fetchTimeoutMs } : {}) });
  }

  /** The built-in repository as a Universe v4 index. */
  builtinIndex(): { packages: UniversePackage[] } {
    return { packages: this.builtin };
  }

  /** Every package name with the versions of the first repository that has it. */
  private byName(): Map<string, Resolved[]> {
    const out = new Map<string, Resolved[]>();
    for (const { repo, packages } of this.repositories.sources()) {
      const here = new Map<string, Resolved[]>();
      for (const pkg of packages) {
        if (out.has(pkg.name)) continue;
        const list = here.get(pkg.name) ?? [];
        list.push({ pkg, repo });
        here.set(pkg.name, list);
      }
      for (const [name, list] of here) out.set(name, list.sort((a, b) => b.pkg.releaseVersion - a.pkg.releaseVersion || compareVersions(b.pkg.version, a.pkg.version)));
    }
    return out;
  }

  search(query: string | undefined): Array<Record<string, unknown>> {
    const q = (query ?? '').trim().toLowerCase();
    const results: Array<Record<string, unknown>> = [];
    for (const [name, versions] of this.byName()) {
      const { pkg: latest, repo } = versions[0]!;
      const hay = [name, latest.description, ...latest.tags].join('\n').toLowerCase();
      if (q && !q.split(/\s+/).every((w) => hay.includes(w))) continue;
      results.push({
        name,
        currentVersion: latest.version,
        versions: Object.fromEntries(versions.map((v) => [v.pkg.version, String(v.pkg.releaseVersion)])),
        description: latest.description,
        framework: latest.framework,
        tags: latest.tags,
        selected: latest.selected,
        kind: kindOf(latest),
        repository: repo.name,
        images: imagesOf(latest),
      });
    }
    return results.sort((a, b) => Number(b.selected) - Number(a.selected) || String(a.name).localeCompare(String(b.name)));
  }

  /** Every version of a package, newest first, from the first repository that has it. */
  private knownVersions(name: string): Resolved[] {
    const versions = this.byName().get(name);
    if (!versions) throw notFound(`Package [${name}] not found`, [{ path: '/packageName', errors: ['no repository has this package'] }]);
    return versions;
  }

  resolve(name: unknown, version?: unknown): Resolved {
    const packageName = requireName(name);
    if (version !== undefined && version !== null && typeof version !== 'string') throw invalid('packageVersion must be a string', [{ path: '/packageVersion', errors: ['must be a string'] }]);
    const versions = this.knownVersions(packageName);
    if (version === undefined || version === null) return versions[0]!;
    const found = versions.find((v) => v.pkg.version === version);
    if (!found) {
      throw notFound(`Version [${version}] of package [${name}] not found`, [
        { path: '/packageVersion', errors: [`available: ${versions.map((v) => v.pkg.version).join(', ')}`] },
      ]);
    }
    return found;
  }

  describe(name: unknown, version?: unknown): Record<string, unknown> {
    const { pkg, repo } = this.resolve(name, version);
    return { ...pkg, kind: kindOf(pkg), repository: repo.name };
  }

  listVersions(name: unknown): Record<string, string> {
    return Object.fromEntries(this.knownVersions(requireName(name)).map((v) => [v.pkg.version, String(v.pkg.releaseVersion)]));
  }

  render(req: InstallRequest): Rendered {
    const resolved = this.resolve(req.packageName, req.packageVersion);
    const { pkg, repo } = resolved;
    if (req.options !== undefined && !isObject(req.options)) throw invalid('options must be a JSON object', [{ path: '/options', errors: ['must be a JSON object'] }]);
    if (req.appId !== undefined && (typeof req.appId !== 'string' || !req.appId)) throw invalid('appId must be a non-empty string', [{ path: '/appId', errors: ['must be a non-empty string'] }]);
    const extra = placementConstraints(req.constraints, !!pkg.marathon);
    const userOptions = req.options ?? {};
    const schema = pkg.config ?? {};
    const defaults = defaultsOf(schema);
    const options = merge(isObject(defaults) ? defaults : {}, userOptions);
    const problems = validate(schema, options);
    if (problems.length) throw invalid(`Options are not valid for package [${pkg.name}] ${pkg.version}`, problems);

    const scope = { ...options, resource: pkg.resource ?? {} };
    const labels: Record<string, string> = {
      [LABEL.name]: pkg.name,
      [LABEL.version]: pkg.version,
      [LABEL.release]: String(pkg.releaseVersion),
      [LABEL.options]: b64(userOptions),
      [LABEL.source]: repo.uri,
      [LABEL.metadata]: b64({ packagingVersion: pkg.packagingVersion, name: pkg.name, version: pkg.version, maintainer: pkg.maintainer, description: pkg.description, tags: pkg.tags, selected: pkg.selected, framework: pkg.framework }),
      [LABEL.framework]: String(pkg.framework),
    };
    const out: Rendered = { ...resolved, options, userOptions, instance: '' };

    if (pkg.marathon) {
      const json = renderJson(pkg.marathon.v2AppMustacheTemplate, scope, '/marathon/v2AppMustacheTemplate');
      if (req.appId !== undefined) json.id = req.appId;
      const parsedId = parsePathId(json.id);
      if (parsedId.error !== undefined || parsedId.id === undefined) {
        throw invalid(`The rendered app has no valid id`, [{ path: req.appId !== undefined ? '/appId' : '/marathonJson/id', errors: [parsedId.error ?? 'is required'] }]);
      }
      out.instance = parsedId.id;
      json.labels = { ...(isObject(json.labels) ? json.labels : {}), ...labels, [LABEL.instance]: parsedId.id };
      const own = Array.isArray(json.constraints) ? json.constraints : json.constraints === undefined || json.constraints === null ? [] : undefined;
      if (extra.length && own) json.constraints = [...own, ...extra];
      const r = normalizeApp(json);
      if (!r.ok) {
        // an error in an appended constraint is the request's, at its index there
        const moved = (d: ErrorDetail): ErrorDetail | undefined => {
          const m = /^\/constraints\/(\d+)(\/.*)?$/.exec(d.path);
          const i = m && own && extra.length ? Number(m[1]) - own.length : -1;
          return i >= 0 ? { path: `/constraints/${i}${m![2] ?? ''}`, errors: d.errors } : undefined;
        };
        throw invalid(`Package [${pkg.name}] rendered an invalid app`, r.errors.map((d) => moved(d) ?? prefix('/marathonJson', [d])[0]!));
      }
      out.marathonJson = json;
      out.app = r.app;
    }
    if (pkg.metronome) {
      const json = renderJson(pkg.metronome.v1JobMustacheTemplate, scope, '/metronome/v1JobMustacheTemplate');
      if (req.appId !== undefined && !pkg.marathon) json.id = req.appId;
      if (!out.instance) out.instance = typeof json.id === 'string' ? json.id : '';
      json.labels = { ...(isObject(json.labels) ? json.labels : {}), ...labels, [LABEL.instance]: out.instance };
      const r = parseMetronomeJob(json);
      if (!r.ok) {
        const details = prefix('/metronomeJson', r.details);
        if (req.appId !== undefined && !pkg.marathon) for (const d of details) if (d.path === '/metronomeJson/id') d.path = '/appId';
        throw invalid(`Package [${pkg.name}] rendered an invalid job`, details);
      }
      out.metronomeJson = json;
      out.job = r.value;
    }
    return out;
  }

  async install(req: InstallRequest, origin: string): Promise<Record<string, unknown>> {
    const r = this.render(req);
    const { services, jobs, apps } = this.deps;
    if (r.app && services.getApp(r.app.id)) {
      throw conflict(`An app with id [${r.app.id}] already exists`, [{ path: '/appId', errors: ['an app with this id exists: choose another appId'] }]);
    }
    if (r.job && jobs.getJob(r.job.id)) {
      throw conflict(`A job with id [${r.job.id}] already exists`, [{ path: r.app ? '/metronomeJson/id' : '/appId', errors: ['a job with this id exists: choose another id'] }]);
    }
    let deployment: DeploymentView | undefined;
    if (r.app) deployment = await apps.create(r.app, origin);
    if (r.job) {
      try {
        await jobs.createJob(r.job);
      } catch (err) {
        // nothing half-installed: the app goes again if its job could not be created
        if (r.app) await apps.remove(r.app.id, origin).catch(() => undefined);
        throw err;
      }
    }
    return {
      packageName: r.pkg.name,
      packageVersion: r.pkg.version,
      appId: r.instance,
      kind: kindOf(r.pkg),
      ...(r.job ? { jobId: r.job.id } : {}),
      ...(deployment ? { deploymentId: deployment.id } : {}),
      ...(r.pkg.postInstallNotes !== undefined ? { postInstallNotes: r.pkg.postInstallNotes } : {}),
    };
  }

  /** Everything installed from a package, one entry per installation. */
  installed(): Installed[] {
    const out = new Map<string, Installed>();
    const add = (labels: Record<string, string>, id: string, which: 'appIds' | 'jobIds') => {
      const name = labels[LABEL.name];
      if (!name) return;
      const instance = labels[LABEL.instance] ?? id;
      const key = `${name}\u0000${instance}`;
      const entry = out.get(key) ?? { appId: instance, kind: which === 'appIds' ? 'service' : 'job', name, version: labels[LABEL.version] ?? '', appIds: [], jobIds: [], labels };
      if (which === 'appIds') entry.kind = 'service';
      entry[which].push(id);
      out.set(key, entry);
    };
    for (const rec of this.deps.services.listApps()) add(rec.def.labels, rec.def.id, 'appIds');
    for (const rec of this.deps.jobs.listJobs()) add(rec.def.labels, rec.def.id, 'jobIds');
    return [...out.values()].sort((a, b) => a.name.localeCompare(b.name) || a.appId.localeCompare(b.appId));
  }

  list(filter: { packageName?: unknown; appId?: unknown }): Array<Record<string, unknown>> {
    const appId = typeof filter.appId === 'string' ? normalizeId(filter.appId) : undefined;
    return this.installed()
      .filter((i) => (typeof filter.packageName !== 'string' || i.name === filter.packageName) && (appId === undefined || normalizeId(i.appId) === appId))
      .map((i) => {
        let definition: Record<string, unknown>;
        let resource: unknown = {};
        try {
          const { pkg } = this.resolve(i.name, i.version);
          definition = packageDefinition(pkg);
          resource = pkg.resource ?? {};
        } catch {
          definition = decodeLabel(i.labels[LABEL.metadata]) ?? { name: i.name, version: i.version };
        }
        return { appId: i.appId, kind: i.kind, apps: i.appIds, jobs: i.jobIds, packageInformation: { packageDefinition: definition, resourceDefinition: resource } };
      });
  }

  async uninstall(req: { packageName?: unknown; appId?: unknown; all?: unknown }, origin: string): Promise<Array<Record<string, unknown>>> {
    if (typeof req.packageName !== 'string' || !req.packageName) throw invalid('packageName is required', [{ path: '/packageName', errors: ['is required (a string)'] }]);
    if (req.appId !== undefined && typeof req.appId !== 'string') throw invalid('appId must be a string', [{ path: '/appId', errors: ['must be a string'] }]);
    if (req.all !== undefined && typeof req.all !== 'boolean') throw invalid('all must be true or false', [{ path: '/all', errors: ['must be a boolean'] }]);
    const name = req.packageName;
    const appId = typeof req.appId === 'string' ? normalizeId(req.appId) : undefined;
    let found = this.installed().filter((i) => i.name === name);
    if (appId !== undefined) found = found.filter((i) => normalizeId(i.appId) === appId);
    if (found.length === 0) {
      throw notFound(appId !== undefined ? `Package [${name}] with id [${req.appId as string}] is not installed` : `Package [${name}] is not installed`, [
        { path: appId !== undefined ? '/appId' : '/packageName', errors: ['not installed'] },
      ]);
    }
    if (found.length > 1 && req.all !== true) {
      throw conflict(`Multiple installations of package [${name}]: ${found.map((f) => f.appId).join(', ')}. Give the appId, or all: true`, [
        { path: '/appId', errors: ['several installations; say which'] },
      ]);
    }
    const results: Array<Record<string, unknown>> = [];
    for (const i of found) {
      for (const id of i.jobIds) await this.deps.jobs.deleteJob(id, { stopCurrentJobRuns: true });
      for (const id of i.appIds) await this.deps.apps.remove(id, origin);
      let notes: string | undefined;
      try {
        notes = this.resolve(i.name, i.version).pkg.postUninstallNotes;
      } catch {
        notes = undefined;
      }
      results.push({ packageName: i.name, packageVersion: i.version, appId: i.appId, kind: i.kind, ...(notes !== undefined ? { postUninstallNotes: notes } : {}) });
    }
    return results;
  }
}

/**
 * Yagura's placement extension of install and render: `constraints`, Marathon triples such as
 * `[["hostname", "CLUSTER", "node-1"]]`, appended to the rendered app's own. Only the array form
 * (2 or 3 strings each); the operators and values are checked as POST /v2/apps checks them.
 */
function placementConstraints(input: unknown, service: boolean): string[][] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw invalid('constraints must be an array of [field, operator, value?]', [{ path: '/constraints', errors: ['must be an array of [field, operator, value?]'] }]);
  const shape = input.flatMap((c: unknown, i) =>
    Array.isArray(c) && c.length >= 2 && c.length <= 3 && c.every((part) => typeof part === 'string')
      ? []
      : [{ path: `/constraints/${i}`, errors: ['must be [field, operator] or [field, operator, value], all strings'] }],
  );
  if (shape.length) throw invalid('constraints are not valid', shape);
  const { errors } = parseConstraints(input, '/constraints');
  if (errors.length) throw invalid('constraints are not valid', errors);
  if (!service && input.length) {
    throw invalid('Only a service package can be placed with constraints', [{ path: '/constraints', errors: ['this package installs a job: constraints apply to services only'] }]);
  }
  return input as string[][];
}

function requireName(name: unknown): string {
  if (typeof name !== 'string' || !name) throw invalid('packageName is required', [{ path: '/packageName', errors: ['is required (a string)'] }]);
  return name;
}

/** App ids are absolute (`/kv`), job ids are not; a caller may write either for an app. */
function normalizeId(id: string): string {
  return id.replace(/^\/+/, '');
}

function decodeLabel(v: string | undefined): Record<string, unknown> | undefined {
  if (!v) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(v, 'base64').toString('utf8'));
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function renderJson(template64: string, scope: Record<string, unknown>, at: string): Record<string, unknown> {
  const template = Buffer.from(template64, 'base64').toString('utf8');
  let text: string;
  try {
    text = renderTemplate(template, scope);
  } catch (err) {
    if (err instanceof TemplateError) throw invalid(`The package's template cannot be rendered: ${err.message}`, [{ path: at, errors: [err.message] }]);
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalid(`The package's template did not render valid JSON: ${(err as Error).message}`, [{ path: at, errors: ['renders invalid JSON with these options'] }]);
  }
  if (!isObject(json)) throw invalid('The package\'s template did not render a JSON object', [{ path: at, errors: ['renders something other than a JSON object'] }]);
  return json;
}

