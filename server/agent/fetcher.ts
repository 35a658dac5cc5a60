// Puts a task's artifacts (CommandSpec.uris) into its sandbox before it starts.
//
// Downloads and copies are written by the agent into the sandbox while it is still owned
// by the agent, through O_EXCL handles; anything that reads on behalf of the task (a local
// file copy, extracting an archive) runs as the task's user, so a task cannot use the agent
// to read or write what its own user may not.
//
// http(s) URIs with `cache: true` are kept in the agent's artifact cache (see FetchCache) and
// copied into each sandbox. Requests to the master's own origin carry the agent secret (the
// master's artifact store); requests anywhere else, redirects included, never do.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandSpec } from '../../protocol/types.js';
import type { UserInfo } from './host.js';
import { findProgram } from './host.js';

export type FetchUri = CommandSpec['uris'][number];

export class FetchError extends Error {}

const ARCHIVE = /\.(tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz|tar|zip)$/i;

export function isArchive(name: string): boolean {
  return ARCHIVE.test(name);
}

function targetName(uri: FetchUri): string {
  if (uri.outputFile !== undefined) return uri.outputFile;
  let p: string;
  try {
    p = new URL(uri.value).pathname;
  } catch {
    p = uri.value;
  }
  let base = path.posix.basename(p);
  try {
    base = decodeURIComponent(base);
  } catch {
    // keep it encoded
  }
  return base || 'download';
}

/** The output path inside the sandbox; refuses anything that would land outside it. */
function resolveTarget(sandbox: string, name: string): string {
  if (!name || name.includes('\0') || path.isAbsolute(name) || name.split(/[\\/]/).some((s) => s === '..')) {
    throw new FetchError(`invalid output file name ${JSON.stringify(name)}`);
  }
  const target = path.resolve(sandbox, name);
  if (!target.startsWith(sandbox + path.sep)) throw new FetchError(`invalid output file name ${JSON.stringify(name)}`);
  return target;
}

function run(cmd: string, args: string[], opts: { cwd: string; user: UserInfo | null; stdout?: number; signal?: AbortSignal }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      stdio: ['ignore', opts.stdout ?? 'ignore', 'pipe'],
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', LC_ALL: 'C' },
      ...(opts.signal ? { signal: opts.signal, killSignal: 'SIGKILL' as const } : {}),
      ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (err.length < 4096) err += d.toString('utf8');
    });
    child.on('error', (e) => reject(new FetchError(`${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new FetchError(`${path.basename(cmd)} failed (${signal ?? `status ${code}`}): ${err.trim().slice(0, 500)}`));
    });
  });
}

async function openExclusive(target: string): Promise<fsp.FileHandle> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  try {
    return await fsp.open(target, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new FetchError(`${path.basename(target)} already exists in the sandbox`);
    throw err;
  }
}

export interface FetchOptions {
  sandbox: string;
  /** The task's user; null when the agent does not switch users. */
  user: UserInfo | null;
  timeoutMs: number;
  /** Aborts downloads and helper processes (the task was killed while fetching). */
  signal?: AbortSignal;
  /** Where `cache: true` http(s) URIs are kept; without it they are downloaded every time. */
  cache?: FetchCache;
  /** Sent as `Authorization: Bearer <token>` to this origin (the master's) and nowhere else. */
  auth?: { origin: string; token: string };
}

/** The http(s) origin of a master URL; ws(s) URLs name the same server. */
export function originOf(url: string): string {
  const u = new URL(url);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  else if (u.protocol === 'wss:') u.protocol = 'https:';
  return u.origin;
}

const MAX_REDIRECTS = 10;

/**
 * `master.yagura` names whichever master this agent is connected to (as `master.mesos` did on
 * DC/OS), so a package's artifact URIs work on every agent, however it reaches the master.
 */
export const MASTER_HOST = 'master.yagura';

function onMaster(url: URL, opts: FetchOptions): URL {
  if (url.hostname !== MASTER_HOST) return url;
  if (!opts.auth) throw new FetchError(`${url.href}: ${MASTER_HOST} names the master, and this agent has none`);
  return new URL(url.pathname + url.search, opts.auth.origin);
}

/**
 * GET with redirects followed by hand, so that the secret is attached per hop: only a hop
 * on the master's origin gets it, whatever origin the chain started or ends on.
 */
async function download(url: URL, opts: FetchOptions, label: string): Promise<Response> {
  url = onMaster(url, opts);
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  let current = url;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = {};
    if (opts.auth && current.origin === opts.auth.origin) headers.Authorization = `Bearer ${opts.auth.token}`;
    let res: Response;
    try {
      res = await fetch(current, { signal, redirect: 'manual', headers });
    } catch (err) {
      throw new FetchError(`${label}: ${(err as Error).message}`);
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel().catch(() => undefined);
      if (hop >= MAX_REDIRECTS) throw new FetchError(`${label}: too many redirects`);
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new FetchError(`${label}: bad redirect to ${JSON.stringify(location)}`);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new FetchError(`${label}: redirect to unsupported ${next.protocol} URL`);
      current = next;
      continue;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw new FetchError(`${label}: HTTP ${res.status}`);
    }
    return res;
  }
}

async function writeBody(res: Response, fh: fsp.FileHandle, label: string): Promise<void> {
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) await fh.write(chunk);
  } catch (err) {
    throw new FetchError(`${label}: ${(err as Error).message}`);
  }
}

/** Copies a file the agent owns into the sandbox, refusing to overwrite anything there. */
async function copyInto(src: string, target: string): Promise<void> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  try {
    // EXCL (O_CREAT|O_EXCL) also refuses a symlink at the target; FICLONE shares blocks where the file system can.
    await fsp.copyFile(src, target, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new FetchError(`${path.basename(target)} already exists in the sandbox`);
    throw err;
  }
}

/**
 * `<dir>/<sha256 of the URI>`: one file per cached http(s) URI, last use in its mtime.
 *
 * - Only complete, successful downloads enter it (written to a temp name, renamed at the end).
 * - Sandboxes get copies, never hard links: the sandbox is chowned to the task user and an
 *   executable URI is chmodded, and with a shared inode a task could rewrite what the next
 *   task receives.
 * - Least recently used entries go while the total exceeds `maxBytes`; an entry being copied
 *   is never removed, and one bigger than the whole cap does not stay.
 * - Concurrent launches of one URI share a single download.
 * - Only http(s) URIs are cached: a local path is read as the task's user, and a cache shared
 *   between users would hand one user's readable files to another.
 */
export class FetchCache {
  private readonly pins = new Map<string, number>();
  private readonly inflight = new Map<string, { done: Promise<void>; controller: AbortController; waiters: number }>();
  private clock = 0;
  private evicting: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  /** Creates the directory and drops temp files a crash left behind. */
  async init(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const name of await fsp.readdir(this.dir)) {
      if (name.startsWith('tmp-')) await fsp.rm(path.join(this.dir, name), { force: true });
    }
  }

  static key(uri: string): string {
    return createHash('sha256').update(uri).digest('hex');
  }

  entryPath(uri: string): string {
    return path.join(this.dir, FetchCache.key(uri));
  }

  /** The URIs whose entries are present now (by key), for tests and operators. */
  async keys(): Promise<string[]> {
    return (await fsp.readdir(this.dir).catch(() => [] as string[])).filter((n) => /^[0-9a-f]{64}$/.test(n));
  }

  /** Launches waiting for the download of this URI now (0 when none runs). */
  waiters(uri: string): number {
    return this.inflight.get(FetchCache.key(uri))?.waiters ?? 0;
  }

  /** Puts the URI's content at `target` (a new file), downloading it into the cache if needed. */
  async fetchInto(url: URL, uri: string, target: string, opts: FetchOptions): Promise<void> {
    const key = FetchCache.key(uri);
    const entry = path.join(this.dir, key);
    this.pins.set(key, (this.pins.get(key) ?? 0) + 1);
    try {
      for (let attempt = 0; ; attempt++) {
        if (!(await exists(entry))) await this.join(key, entry, url, uri, opts);
        try {
          await copyInto(entry, target);
          break;
        } catch (err) {
          // Gone between the download and the copy (removed by hand, say): download once more.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw err;
        }
      }
      await this.touch(entry);
    } finally {
      const n = (this.pins.get(key) ?? 1) - 1;
      if (n > 0) this.pins.set(key, n);
      else this.pins.delete(key);
    }
    await this.evict();
  }

  /** Waits for the shared download of `key`, starting it if none runs; aborting only this waiter's part. */
  private async join(key: string, entry: string, url: URL, uri: string, opts: FetchOptions): Promise<void> {
    let job = this.inflight.get(key);
    if (!job) {
      const controller = new AbortController();
      const shared: FetchOptions = { ...opts, signal: controller.signal };
      const done = this.downloadEntry(entry, url, uri, shared).finally(() => this.inflight.delete(key));
      job = { done, controller, waiters: 0 };
      this.inflight.set(key, job);
    }
    job.waiters++;
    const mine = job;
    const signal = opts.signal;
    try {
      if (!signal) return await mine.done;
      if (signal.aborted) throw new FetchError(`${uri}: aborted`);
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(new FetchError(`${uri}: aborted`));
        signal.addEventListener('abort', onAbort, { once: true });
        mine.done.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    } finally {
      mine.waiters--;
      // Nobody wants it any more (every task that asked was killed): stop downloading.
      if (mine.waiters === 0 && this.inflight.get(key) === mine) mine.controller.abort();
    }
  }

  private async downloadEntry(entry: string, url: URL, uri: string, opts: FetchOptions): Promise<void> {
    const res = await download(url, opts, uri);
    const tmp = path.join(this.dir, `tmp-${randomBytes(8).toString('hex')}`);
    const fh = await fsp.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o600);
    try {
      await writeBody(res, fh, uri);
      await fh.close();
      await fsp.rename(tmp, entry);
    } catch (err) {
      await fh.close().catch(() => undefined);
      await fsp.rm(tmp, { force: true });
      throw err;
    }
  }

  /** Marks an entry used now; strictly increasing, so uses within one clock tick keep their order. */
  private async touch(entry: string): Promise<void> {
    this.clock = Math.max(Date.now(), this.clock + 1);
    const t = new Date(this.clock);
    await fsp.utimes(entry, t, t).catch(() => undefined);
  }

  /** Removes least recently used entries until the cache fits; never one being copied. */
  evict(): Promise<void> {
    const run = this.evicting.then(async () => {
      const entries: Array<{ key: string; size: number; used: number }> = [];
      for (const key of await this.keys()) {
        const st = await fsp.stat(path.join(this.dir, key)).catch(() => null);
        if (st) entries.push({ key, size: st.size, used: st.mtimeMs });
      }
      let total = entries.reduce((n, e) => n + e.size, 0);
      // What can never fit goes first, so that it does not push out everything else.
      entries.sort((a, b) => Number(b.size > this.maxBytes) - Number(a.size > this.maxBytes) || a.used - b.used);
      for (const e of entries) {
        if (total <= this.maxBytes) break;
        if (this.pins.has(e.key)) continue;
        await fsp.rm(path.join(this.dir, e.key), { force: true });
        total -= e.size;
      }
    });
    this.evicting = run.catch(() => undefined);
    return run;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await fsp.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Downloads and copies every URI into the sandbox. Returns the archives to extract later. */
export async function fetchUris(uris: FetchUri[], opts: FetchOptions): Promise<Array<{ file: string; uri: FetchUri }>> {
  const toExtract: Array<{ file: string; uri: FetchUri }> = [];
  for (const uri of uris) {
    const target = resolveTarget(opts.sandbox, targetName(uri));
    let url: URL | null = null;
    try {
      url = new URL(uri.value);
    } catch {
      url = null;
    }
    if (url && (url.protocol === 'http:' || url.protocol === 'https:')) {
      if (uri.cache && opts.cache) {
        await opts.cache.fetchInto(url, uri.value, target, opts);
      } else {
        const res = await download(url, opts, uri.value);
        const fh = await openExclusive(target);
        try {
          await writeBody(res, fh, uri.value);
        } finally {
          await fh.close();
        }
      }
    } else if ((url && url.protocol === 'file:') || path.isAbsolute(uri.value)) {
      const src = url && url.protocol === 'file:' ? fileURLToPath(url) : uri.value;
      const fh = await openExclusive(target);
      try {
        if (opts.user) {
          // cat runs as the task's user: the agent never copies what that user may not read.
          await run('cat', ['--', src], { cwd: '/', user: opts.user, stdout: fh.fd, ...(opts.signal ? { signal: opts.signal } : {}) });
        } else {
          await fsp.copyFile(src, target);
        }
      } catch (err) {
        throw err instanceof FetchError ? err : new FetchError(`${uri.value}: ${(err as Error).message}`);
      } finally {
        await fh.close();
      }
    } else {
      throw new FetchError(`${uri.value}: unsupported URI (use http, https, file or an absolute path)`);
    }
    if (uri.executable) await fsp.chmod(target, 0o755);
    else if (uri.extract !== false && isArchive(target)) toExtract.push({ file: target, uri });
  }
  return toExtract;
}

/** Extracts archives into the sandbox as the task user (the sandbox already belongs to it). */
export async function extractArchives(archives: Array<{ file: string; uri: FetchUri }>, opts: FetchOptions): Promise<void> {
  for (const { file, uri } of archives) {
    if (/\.zip$/i.test(file)) {
      const unzip = findProgram('unzip');
      if (!unzip) throw new FetchError(`${uri.value}: unzip is not installed`);
      await run(unzip, ['-o', '-q', file, '-d', opts.sandbox], { cwd: opts.sandbox, user: opts.user, ...(opts.signal ? { signal: opts.signal } : {}) });
    } else {
      const tar = findProgram('tar');
      if (!tar) throw new FetchError(`${uri.value}: tar is not installed`);
      await run(tar, ['-x', '-f', file, '-C', opts.sandbox, '--no-same-owner'], { cwd: opts.sandbox, user: opts.user, ...(opts.signal ? { signal: opts.signal } : {}) });
    }
  }
}
