// Puts a task's artifacts (CommandSpec.uris) into its sandbox before it starts.
//
// Downloads and copies are written by the agent into the sandbox while it is still owned
// by the agent, through O_EXCL handles; anything that reads on behalf of the task (a local
// file copy, extracting an archive) runs as the task's user, so a task cannot use the agent
// to read or write what its own user may not.

import { spawn } from 'node:child_process';
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
      let res: Response;
      try {
        const timeout = AbortSignal.timeout(opts.timeoutMs);
        res = await fetch(url, { signal: opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout, redirect: 'follow' });
      } catch (err) {
        throw new FetchError(`${uri.value}: ${(err as Error).message}`);
      }
      if (!res.ok || !res.body) throw new FetchError(`${uri.value}: HTTP ${res.status}`);
      const fh = await openExclusive(target);
      try {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) await fh.write(chunk);
      } catch (err) {
        throw new FetchError(`${uri.value}: ${(err as Error).message}`);
      } finally {
        await fh.close();
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
