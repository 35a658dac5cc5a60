// The package catalog (Cosmos' /package API) as the dashboard uses it: search, describe, render,
// install, uninstall, the installed list and the repositories. Every call is a POST with a JSON
// body. Search results are kept in a small module-level cache, so the catalog opens at once on
// a second visit (and a later offline cache can persist them).
import { ContextConsumer } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Api } from '../state/api.js';
import { apiContext } from '../state/context.js';

export type PackageKind = 'service' | 'job';

export interface PackageImages {
  'icon-small'?: string;
  'icon-medium'?: string;
  'icon-large'?: string;
  screenshots?: string[];
}

/** One entry of a search answer. */
export interface PackageSummary {
  name: string;
  currentVersion: string;
  /** Version → release version. */
  versions: Record<string, string>;
  description: string;
  framework: boolean;
  tags: string[];
  selected: boolean;
  kind: PackageKind;
  repository: string;
  images?: PackageImages;
}

export interface PackageLicense {
  name: string;
  url?: string;
}

/** A JSON Schema, as far as the options form reads it. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  additionalProperties?: boolean | JsonSchema;
  [key: string]: unknown;
}

/** What describe answers: the package without the parts only the server needs. */
export interface PackageDefinition {
  packagingVersion: string;
  name: string;
  version: string;
  releaseVersion: string | number;
  maintainer?: string;
  description: string;
  tags: string[];
  selected: boolean;
  preInstallNotes?: string;
  postInstallNotes?: string;
  postUninstallNotes?: string;
  licenses?: PackageLicense[];
  website?: string;
  framework: boolean;
  kind: PackageKind;
  repository?: string;
  config?: JsonSchema;
  resource?: { images?: PackageImages; assets?: unknown };
  marathon?: { v2AppMustacheTemplate: string };
  metronome?: { v1JobMustacheTemplate: string };
}

export interface InstallRequest {
  packageName: string;
  packageVersion?: string;
  options?: Record<string, unknown>;
  appId?: string;
}

export interface InstallResult {
  packageName: string;
  packageVersion: string;
  /** The Marathon app id (service) or the job id (job). */
  appId: string;
  kind: PackageKind;
  postInstallNotes?: string;
  deploymentId?: string;
}

export interface UninstallResult {
  packageName: string;
  packageVersion: string;
  appId: string;
  kind: PackageKind;
  postUninstallNotes?: string;
}

/** The definition install would create: `marathonJson` for a service, `metronomeJson` for a job. */
export interface RenderResult {
  marathonJson?: Record<string, unknown>;
  metronomeJson?: Record<string, unknown>;
}

/** An app or job that was installed from a package. */
export interface InstalledPackage {
  appId: string;
  kind: PackageKind;
  packageInformation: {
    packageDefinition: PackageDefinition;
    resourceDefinition?: { images?: PackageImages; assets?: unknown };
  };
}

export interface Repository {
  name: string;
  uri: string;
  builtIn?: boolean;
  /** ISO time or epoch milliseconds of the last successful fetch. */
  lastRefreshedAt?: string | number;
  /** Why the last refresh failed (the cached index is still used). */
  error?: string;
  packages?: number;
}

const post = <T>(api: Api, path: string, body: object, signal?: AbortSignal) => api.request<T>(path, { method: 'POST', body, signal });

// --- search, with its cache -------------------------------------------------------------------

export interface CachedSearch {
  packages: readonly PackageSummary[];
  /** When the master answered, epoch ms. */
  at: number;
}

const MAX_CACHED_QUERIES = 32;
const searches = new Map<string, CachedSearch>();

const cacheKey = (query: string) => query.trim().toLowerCase();

/** The search answers this page has seen, newest last; what an offline cache would persist. */
export const catalogCache = {
  get(query = ''): CachedSearch | undefined {
    return searches.get(cacheKey(query));
  },
  entries(): Array<[string, CachedSearch]> {
    return [...searches.entries()];
  },
  /** Seeds the cache (from storage, or a test). */
  put(query: string, entry: CachedSearch): void {
    const key = cacheKey(query);
    searches.delete(key);
    searches.set(key, entry);
    while (searches.size > MAX_CACHED_QUERIES) searches.delete(searches.keys().next().value!);
  },
  clear(): void {
    searches.clear();
  },
};

/** Selected packages first, then by name; the order the master promises, kept if it did not. */
export function catalogOrder(packages: readonly PackageSummary[]): PackageSummary[] {
  return [...packages].sort((a, b) => Number(b.selected) - Number(a.selected) || a.name.localeCompare(b.name));
}

export async function searchPackages(api: Api, query = '', signal?: AbortSignal): Promise<readonly PackageSummary[]> {
  const body = await post<{ packages?: PackageSummary[] }>(api, '/package/search', query.trim() ? { query: query.trim() } : {}, signal);
  const packages = catalogOrder(body.packages ?? []);
  catalogCache.put(query, { packages, at: Date.now() });
  return packages;
}

// --- one package ----------------------------------------------------------------------------

export async function describePackage(api: Api, packageName: string, packageVersion?: string, signal?: AbortSignal): Promise<PackageDefinition> {
  const body = await post<{ package: PackageDefinition }>(api, '/package/describe', { packageName, ...(packageVersion ? { packageVersion } : {}) }, signal);
  return body.package;
}

/** Versions, newest first (by release version), each with its release version. */
export async function listPackageVersions(api: Api, packageName: string, signal?: AbortSignal): Promise<Array<{ version: string; release: string }>> {
  const body = await post<{ results: Record<string, string> }>(api, '/package/list-versions', { packageName, includePackageVersions: true }, signal);
  return Object.entries(body.results ?? {})
    .map(([version, release]) => ({ version, release: String(release) }))
    .sort((a, b) => Number(b.release) - Number(a.release) || compareVersions(b.version, a.version));
}

/** "1.10.0" after "1.9.2": numeric where both parts are numbers. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const d = x !== '' && y !== '' && Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : x.localeCompare(y);
    if (d !== 0) return d;
  }
  return 0;
}

export function renderPackage(api: Api, request: InstallRequest, signal?: AbortSignal): Promise<RenderResult> {
  return post<RenderResult>(api, '/package/render', request, signal);
}

export function installPackage(api: Api, request: InstallRequest): Promise<InstallResult> {
  return post<InstallResult>(api, '/package/install', request);
}

export async function uninstallPackage(api: Api, request: { packageName: string; appId?: string; all?: boolean }): Promise<UninstallResult[]> {
  const body = await post<{ results?: UninstallResult[] }>(api, '/package/uninstall', request);
  return body.results ?? [];
}

export async function listInstalled(api: Api, filter: { packageName?: string; appId?: string } = {}, signal?: AbortSignal): Promise<InstalledPackage[]> {
  const body = await post<{ packages?: InstalledPackage[] }>(api, '/package/list', filter, signal);
  return body.packages ?? [];
}

// --- repositories -----------------------------------------------------------------------------

type Repositories = { repositories?: Repository[] };
const repositoriesOf = (body: Repositories) => body.repositories ?? [];

export async function listRepositories(api: Api, signal?: AbortSignal): Promise<Repository[]> {
  return repositoriesOf(await post<Repositories>(api, '/package/repository/list', {}, signal));
}

/** The master fetches and checks the index first: nothing is added when that fails (502). */
export async function addRepository(api: Api, repository: { name: string; uri: string; index?: number }): Promise<Repository[]> {
  const result = repositoriesOf(await post<Repositories>(api, '/package/repository/add', repository));
  searches.clear();
  return result;
}

export async function deleteRepository(api: Api, which: { name?: string; uri?: string }): Promise<Repository[]> {
  const result = repositoriesOf(await post<Repositories>(api, '/package/repository/delete', which));
  searches.clear();
  return result;
}

/** Refetches one repository, or all without a name; a failure keeps the cached index and sets `error`. */
export async function refreshRepositories(api: Api, name?: string): Promise<Repository[]> {
  const result = repositoriesOf(await post<Repositories>(api, '/package/repository/refresh', name ? { name } : {}));
  searches.clear();
  return result;
}

/**
 * Swaps a repository with its neighbour. Cosmos has no "move": one of the two is deleted and
 * added again at the other's place. When one of them is the built-in repository, that one is
 * re-added: its index is not fetched, so adding it back cannot fail. Otherwise the one moved is
 * re-added (the master fetches its index again); should that fail, it is put back where it was.
 */
export async function moveRepository(api: Api, repositories: readonly Repository[], name: string, direction: -1 | 1): Promise<Repository[]> {
  const from = repositories.findIndex((r) => r.name === name);
  const to = from + direction;
  if (from < 0 || to < 0 || to >= repositories.length) return [...repositories];
  // Moving A past B is moving B past A the other way.
  const [mover, target] = repositories[to]!.builtIn && !repositories[from]!.builtIn ? [repositories[to]!, from] : [repositories[from]!, to];
  const original = repositories.indexOf(mover);
  await deleteRepository(api, { name: mover.name });
  try {
    return await addRepository(api, { name: mover.name, uri: mover.uri, index: target });
  } catch (error) {
    await addRepository(api, { name: mover.name, uri: mover.uri, index: original }).catch(() => undefined);
    throw error;
  }
}

// --- icons ------------------------------------------------------------------------------------

/**
 * A package image the page may load: a `data:image/…` URI or a same-origin URL. Anything else
 * would be a request to another origin, so it is not loaded (the caller draws a fallback).
 */
export function safeImageUrl(url: string | undefined, origin = globalThis.location?.origin): string | undefined {
  if (!url) return undefined;
  const trimmed = url.trim();
  if (/^data:image\/(png|gif|jpeg|webp|svg\+xml)[;,]/i.test(trimmed)) return trimmed;
  if (!origin) return undefined;
  try {
    const resolved = new URL(trimmed, origin);
    return resolved.origin === origin && (resolved.protocol === 'http:' || resolved.protocol === 'https:') ? resolved.href : undefined;
  } catch {
    return undefined;
  }
}

/** The best icon for a size, largest first for big tiles. */
export function iconOf(images: PackageImages | undefined, size: 'small' | 'medium' | 'large' = 'medium'): string | undefined {
  if (!images) return undefined;
  const order: Array<keyof PackageImages> =
    size === 'large' ? ['icon-large', 'icon-medium', 'icon-small'] : size === 'medium' ? ['icon-medium', 'icon-large', 'icon-small'] : ['icon-small', 'icon-medium', 'icon-large'];
  for (const key of order) {
    const url = safeImageUrl(images[key] as string | undefined);
    if (url) return url;
  }
  return undefined;
}

// --- where an installed package lives in the dashboard -----------------------------------------

export const packageHref = (name: string, version?: string) =>
  `/catalog/${encodeURIComponent(name)}${version ? `?version=${encodeURIComponent(version)}` : ''}`;

export const jobHref = (id: string) => `/jobs/${encodeURIComponent(id)}`;

/** The service's own web interface through the master's proxy: `/prod/web` → `/service/prod/web/`. */
export const serviceProxyHref = (appId: string) => `/service/${appId.split('/').filter(Boolean).map(encodeURIComponent).join('/')}/`;

// --- the repository list, for the settings page -----------------------------------------------

/**
 * The repositories and the commands on them, for a page: it reads the API from context, loads
 * the list when its host connects, and runs one command at a time. Errors of `add` that name a
 * field (409 name or URI taken) are kept by field.
 */
export class RepositoriesController implements ReactiveController {
  repositories: Repository[] = [];
  loading = false;
  loaded = false;
  loadError = '';
  busy = false;
  error = '';
  fieldErrors: Record<string, string> = {};
  /** What the last command did, for a polite status line. */
  status = '';

  readonly #host: ReactiveControllerHost;
  readonly #describe: (error: unknown) => string;
  #api: Api | undefined;
  #generation = 0;

  /** `describe` turns a failure into the sentence shown (the views' errorText). */
  constructor(host: ReactiveControllerHost & HTMLElement, describe: (error: unknown) => string) {
    this.#host = host;
    this.#describe = describe;
    host.addController(this);
    new ContextConsumer(host, {
      context: apiContext,
      subscribe: true,
      callback: (api) => {
        const first = !this.#api;
        this.#api = api;
        if (first && api) void this.load();
      },
    });
  }

  hostConnected(): void {
    if (this.#api && !this.loading) void this.load();
  }

  async load(): Promise<void> {
    const api = this.#api;
    if (!api) return;
    const generation = ++this.#generation;
    this.loading = true;
    this.#host.requestUpdate();
    try {
      const list = await listRepositories(api);
      if (generation !== this.#generation) return;
      this.repositories = list;
      this.loadError = '';
      this.loaded = true;
    } catch (error) {
      if (generation !== this.#generation) return;
      this.loadError = this.#describe(error);
    } finally {
      if (generation === this.#generation) {
        this.loading = false;
        this.#host.requestUpdate();
      }
    }
  }

  add(name: string, uri: string, index?: number): Promise<boolean> {
    return this.#run(`Added ${name}.`, (api) => addRepository(api, { name, uri, ...(index === undefined ? {} : { index }) }));
  }

  remove(name: string): Promise<boolean> {
    return this.#run(`Removed ${name}.`, (api) => deleteRepository(api, { name }));
  }

  refresh(name?: string): Promise<boolean> {
    return this.#run(name ? `Refreshed ${name}.` : 'Refreshed all repositories.', (api) => refreshRepositories(api, name));
  }

  move(name: string, direction: -1 | 1): Promise<boolean> {
    return this.#run(`Moved ${name} ${direction < 0 ? 'up' : 'down'}.`, (api) => moveRepository(api, this.repositories, name, direction));
  }

  async #run(done: string, command: (api: Api) => Promise<Repository[]>): Promise<boolean> {
    const api = this.#api;
    if (!api || this.busy) return false;
    this.busy = true;
    this.error = '';
    this.fieldErrors = {};
    this.status = '';
    this.#host.requestUpdate();
    // A load that started before this command would overwrite its answer with an older list.
    this.#generation++;
    try {
      this.repositories = await command(api);
      this.loaded = true;
      this.loadError = '';
      this.status = done;
      return true;
    } catch (error) {
      this.error = this.#describe(error);
      const details = (error as { body?: { details?: Array<{ path: string; errors: string[] }> } }).body?.details ?? [];
      this.fieldErrors = Object.fromEntries(
        details.filter((d) => d.path === '/name' || d.path === '/uri').map((d) => [d.path.slice(1), d.errors.join('; ')]),
      );
      // The list may have changed half-way (a failed move): show what the master has now.
      if (!this.loading) void this.load();
      return false;
    } finally {
      this.busy = false;
      this.#host.requestUpdate();
    }
  }
}
