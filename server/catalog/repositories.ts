// The ordered list of package repositories and the last index read from each.
//
// The list and every index read are documents in the master's store, so search and install keep
// working from the cached index while a repository is unreachable; a failed refresh keeps the
// old index and records the error. The built-in repository is read from disk at start and needs
// no cache. Order matters: for each package name, the first repository that has it wins.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isAbsolute } from 'node:path';
import type { Master } from '../master/master.js';
import { ApiError, conflict, notFound } from '../api/errors.js';
import { IndexError, readIndex, type UniversePackage } from './universe.js';

export const BUILTIN_URI = 'yagura:builtin';
export const BUILTIN_NAME = 'Built-in';

export interface RepositoryRecord {
  name: string;
  uri: string;
}

export interface RepositoryView extends RepositoryRecord {
  builtIn?: true;
  lastRefreshedAt?: string;
  error?: string;
  packages?: number;
}

interface CachedIndex {
  fetchedAt: number;
  packages: UniversePackage[];
  error?: string;
}

const COLLECTION = 'catalog';
const LIST_KEY = 'repositories';
const INDEX_COLLECTION = 'catalog.index';
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

export interface RepositoryOptions {
  master: Master;
  /** The built-in repository's index (already read from disk). */
  builtin: () => UniversePackage[];
  fetchTimeoutMs?: number;
}

const invalidUri = (message: string) => new ApiError(422, message, [{ path: '/uri', errors: [message] }]);

export class Repositories {
  private list: RepositoryRecord[];
  private readonly cache = new Map<string, CachedIndex>();

  constructor(private readonly opts: RepositoryOptions) {
    const m = opts.master;
    this.list = m.getDoc<RepositoryRecord[]>(COLLECTION, LIST_KEY) ?? [{ name: BUILTIN_NAME, uri: BUILTIN_URI }];
    for (const { id, data } of m.loadDocs<CachedIndex>(INDEX_COLLECTION)) this.cache.set(id, data);
  }

  views(): RepositoryView[] {
    return this.list.map((r) => {
      if (r.uri === BUILTIN_URI) return { ...r, builtIn: true, packages: this.opts.builtin().length };
      const c = this.cache.get(r.uri);
      return {
        ...r,
        ...(c && c.fetchedAt ? { lastRefreshedAt: new Date(c.fetchedAt).toISOString(), packages: c.packages.length } : {}),
        ...(c?.error ? { error: c.error } : {}),
      };
    });
  }

  /** Every package version of every repository, in repository order. */
  sources(): Array<{ repo: RepositoryRecord; packages: UniversePackage[] }> {
    return this.list.map((repo) => ({ repo, packages: repo.uri === BUILTIN_URI ? this.opts.builtin() : (this.cache.get(repo.uri)?.packages ?? []) }));
  }

  async add(name: unknown, uri: unknown, index: unknown): Promise<RepositoryView[]> {
    const problems: Array<{ path: string; errors: string[] }> = [];
    if (typeof name !== 'string' || !name.trim()) problems.push({ path: '/name', errors: ['is required (a non-empty string)'] });
    else if (name.length > 100) problems.push({ path: '/name', errors: ['must be at most 100 characters'] });
    if (typeof uri !== 'string' || !uri.trim()) problems.push({ path: '/uri', errors: ['is required (an http(s) or file URL)'] });
    if (index !== undefined && (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > this.list.length)) {
      problems.push({ path: '/index', errors: [`must be an integer from 0 to ${this.list.length}`] });
    }
    if (problems.length) throw new ApiError(422, 'Invalid repository', problems);
    const n = (name as string).trim();
    const u = (uri as string).trim();
    if (this.list.some((r) => r.name === n)) throw conflict(`Repository name [${n}] is already used`, [{ path: '/name', errors: ['a repository has this name'] }]);
    if (this.list.some((r) => r.uri === u)) throw conflict(`Repository URI [${u}] is already used`, [{ path: '/uri', errors: ['a repository has this URI'] }]);
    if (u !== BUILTIN_URI) {
      // read it first: a repository that cannot be read is not added
      const packages = await this.fetchIndex(u);
      this.cache.set(u, { fetchedAt: Date.now(), packages });
      this.opts.master.putDoc(INDEX_COLLECTION, u, this.cache.get(u));
    }
    const at = typeof index === 'number' ? index : this.list.length;
    this.list = [...this.list.slice(0, at), { name: n, uri: u }, ...this.list.slice(at)];
    this.save();
    await this.opts.master.commit();
    return this.views();
  }

  async remove(name: unknown, uri: unknown): Promise<RepositoryView[]> {
    if (name === undefined && uri === undefined) throw new ApiError(422, 'Name or URI is required', [{ path: '/name', errors: ['give the name or the uri of the repository'] }]);
    if (name !== undefined && typeof name !== 'string') throw new ApiError(422, 'Invalid repository', [{ path: '/name', errors: ['must be a string'] }]);
    if (uri !== undefined && typeof uri !== 'string') throw new ApiError(422, 'Invalid repository', [{ path: '/uri', errors: ['must be a string'] }]);
    const found = this.list.find((r) => (name === undefined || r.name === name) && (uri === undefined || r.uri === uri));
    if (!found) throw notFound(`Repository [${String(name ?? uri)}] is not present in the list`, [{ path: name !== undefined ? '/name' : '/uri', errors: ['no such repository'] }]);
    this.list = this.list.filter((r) => r !== found);
    this.save();
    if (found.uri !== BUILTIN_URI) {
      this.cache.delete(found.uri);
      this.opts.master.deleteDoc(INDEX_COLLECTION, found.uri);
    }
    await this.opts.master.commit();
    return this.views();
  }

  /** Re-reads one repository or all; a failure keeps the cached index and records the error. */
  async refresh(name?: unknown): Promise<RepositoryView[]> {
    if (name !== undefined && typeof name !== 'string') throw new ApiError(422, 'Invalid repository', [{ path: '/name', errors: ['must be a string'] }]);
    const targets = this.list.filter((r) => r.uri !== BUILTIN_URI && (name === undefined || r.name === name));
    if (name !== undefined && !this.list.some((r) => r.name === name)) throw notFound(`Repository [${name}] is not present in the list`, [{ path: '/name', errors: ['no such repository'] }]);
    await Promise.all(
      targets.map(async (r) => {
        const old = this.cache.get(r.uri);
        let next: CachedIndex;
        try {
          next = { fetchedAt: Date.now(), packages: await this.fetchIndex(r.uri) };
        } catch (err) {
          next = { fetchedAt: old?.fetchedAt ?? 0, packages: old?.packages ?? [], error: (err as Error).message };
        }
        this.cache.set(r.uri, next);
        this.opts.master.putDoc(INDEX_COLLECTION, r.uri, next);
      }),
    );
    await this.opts.master.commit();
    return this.views();
  }

  private save(): void {
    this.opts.master.putDoc(COLLECTION, LIST_KEY, this.list);
  }

  /** Reads and checks an index from an http(s) URL, a file: URL or an absolute path. */
  async fetchIndex(uri: string): Promise<UniversePackage[]> {
    let text: string;
    let url: URL | undefined;
    try {
      url = new URL(uri);
    } catch {
      url = undefined;
    }
    if (url && (url.protocol === 'http:' || url.protocol === 'https:')) {
      let res: Response;
      try {
        res = await fetch(url, {
          signal: AbortSignal.timeout(this.opts.fetchTimeoutMs ?? 15_000),
          headers: { Accept: 'application/vnd.dcos.universe.repo+json;charset=utf-8;version=v4,application/vnd.dcos.universe.repo+json;charset=utf-8;version=v3,application/json;q=0.9' },
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw invalidUri(`repository ${uri} is unreachable: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw invalidUri(`repository ${uri} answered ${res.status} ${res.statusText}`.trim());
      }
      const length = Number(res.headers.get('content-length') ?? 0);
      if (length > MAX_INDEX_BYTES) throw invalidUri(`repository ${uri} is larger than ${MAX_INDEX_BYTES} bytes`);
      try {
        text = await res.text();
      } catch (err) {
        throw invalidUri(`repository ${uri} could not be read: ${(err as Error).message}`);
      }
    } else if ((url && url.protocol === 'file:') || (!url && isAbsolute(uri))) {
      try {
        text = await readFile(url ? fileURLToPath(url) : uri, 'utf8');
      } catch (err) {
        throw invalidUri(`repository ${uri} could not be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    } else {
      throw invalidUri(`unsupported repository URI ${JSON.stringify(uri)}: use http(s)://, file:// or an absolute path`);
    }
    if (text.length > MAX_INDEX_BYTES) throw invalidUri(`repository ${uri} is larger than ${MAX_INDEX_BYTES} bytes`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw invalidUri(`repository ${uri} is not a Universe repository index: not JSON`);
    }
    try {
      return readIndex(raw).packages;
    } catch (err) {
      if (err instanceof IndexError) throw invalidUri(`repository ${uri} is ${err.message}`);
      throw err;
    }
  }
}
