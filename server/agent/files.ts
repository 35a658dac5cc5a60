// Read access to task sandboxes for the master's /files API. The agent runs as root and
// the sandbox belongs to the task, so every path is resolved (symlinks included) and must
// stay inside the sandbox; only regular files are read, never FIFOs or devices.

import { promises as fsp, constants as fsConstants, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { FileEntry } from '../../protocol/types.js';

export const READ_CAP = 1024 * 1024;
export const DOWNLOAD_CAP = 8 * 1024 * 1024;
export const TAIL_DEFAULT_BACKLOG = 64 * 1024;
const TAIL_CHUNK = 64 * 1024;

export class FilesError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

export interface Resolved {
  /** Real path of the sandbox root. */
  root: string;
  /** Real path of the target. */
  real: string;
  /** Path relative to the sandbox root, '/'-separated, '' for the root itself. */
  rel: string;
}

export async function resolveInSandbox(sandbox: string, requested: string): Promise<Resolved> {
  if (typeof requested !== 'string' || requested.includes('\0')) throw new FilesError(400, 'invalid path');
  // "" and "/" name the sandbox root; any other absolute path is refused rather than re-rooted.
  if (requested === '/') requested = '';
  if (path.isAbsolute(requested)) throw new FilesError(400, 'path must be relative to the sandbox');
  if (requested.split(/[\\/]/).some((s) => s === '..')) throw new FilesError(400, 'path escapes the sandbox');
  let root: string;
  try {
    root = await fsp.realpath(sandbox);
  } catch {
    throw new FilesError(404, 'sandbox not found');
  }
  let real: string;
  try {
    real = await fsp.realpath(path.join(root, requested));
  } catch {
    throw new FilesError(404, 'not found');
  }
  if (real !== root && !real.startsWith(root + path.sep)) throw new FilesError(400, 'path escapes the sandbox');
  return { root, real, rel: path.relative(root, real).split(path.sep).join('/') };
}

export function modeString(mode: number): string {
  const type =
    (mode & fsConstants.S_IFMT) === fsConstants.S_IFDIR
      ? 'd'
      : (mode & fsConstants.S_IFMT) === fsConstants.S_IFLNK
        ? 'l'
        : (mode & fsConstants.S_IFMT) === fsConstants.S_IFIFO
          ? 'p'
          : (mode & fsConstants.S_IFMT) === fsConstants.S_IFSOCK
            ? 's'
            : (mode & fsConstants.S_IFMT) === fsConstants.S_IFCHR
              ? 'c'
              : (mode & fsConstants.S_IFMT) === fsConstants.S_IFBLK
                ? 'b'
                : '-';
  const bits = 'rwxrwxrwx';
  let s = '';
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? bits[i] : '-';
  return type + s;
}

function entryOf(rel: string, st: import('node:fs').Stats): FileEntry {
  return { path: rel, size: st.size, mode: modeString(st.mode), mtime: Math.round(st.mtimeMs), isDir: st.isDirectory() };
}

export async function browse(sandbox: string, requested: string): Promise<FileEntry[]> {
  const { real, rel } = await resolveInSandbox(sandbox, requested);
  const st = await fsp.stat(real);
  if (!st.isDirectory()) return [entryOf(rel, st)];
  const names = (await fsp.readdir(real)).sort();
  const out: FileEntry[] = [];
  for (const name of names) {
    try {
      // lstat: a symlink is listed as such, without revealing what it points at.
      out.push(entryOf(rel ? `${rel}/${name}` : name, await fsp.lstat(path.join(real, name))));
    } catch {
      // vanished while listing
    }
  }
  return out;
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root + path.sep);
}

/**
 * Opens a resolved path and checks what was really opened: the task may swap a directory for
 * a symlink between the realpath and the open.
 */
async function openRegular(r: { root: string; real: string }): Promise<{ fh: fsp.FileHandle; size: number }> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(r.real, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FilesError(code === 'ENOENT' ? 404 : 400, code === 'ENOENT' ? 'not found' : 'cannot open');
  }
  try {
    const opened = await fsp.readlink(`/proc/self/fd/${fh.fd}`).catch(() => r.real);
    if (!inside(r.root, opened)) throw new FilesError(400, 'path escapes the sandbox');
    const st = await fh.stat();
    if (!st.isFile()) throw new FilesError(400, st.isDirectory() ? 'is a directory' : 'not a regular file');
    return { fh, size: st.size };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

export interface ReadResult {
  data: string;
  offset: number;
  size: number;
  eof: boolean;
}

export async function readFileRange(sandbox: string, requested: string, offset?: number, length?: number): Promise<ReadResult> {
  if (offset !== undefined && !Number.isInteger(offset)) throw new FilesError(400, 'offset must be an integer');
  if (length !== undefined && (!Number.isInteger(length) || length < 0)) throw new FilesError(400, 'length must be a non-negative integer');
  const { fh, size } = await openRegular(await resolveInSandbox(sandbox, requested));
  try {
    const start = offset === undefined ? 0 : offset < 0 ? Math.max(0, size + offset) : Math.min(offset, size);
    const want = Math.min(length ?? READ_CAP, READ_CAP, size - start);
    const buf = Buffer.alloc(Math.max(0, want));
    const { bytesRead } = want > 0 ? await fh.read(buf, 0, want, start) : { bytesRead: 0 };
    return { data: buf.subarray(0, bytesRead).toString('base64'), offset: start, size, eof: start + bytesRead >= size };
  } finally {
    await fh.close();
  }
}

export async function downloadFile(sandbox: string, requested: string): Promise<ReadResult> {
  const { fh, size } = await openRegular(await resolveInSandbox(sandbox, requested));
  try {
    if (size > DOWNLOAD_CAP) throw new FilesError(400, 'too large, use read with offset');
    const buf = Buffer.alloc(size);
    const { bytesRead } = size > 0 ? await fh.read(buf, 0, size, 0) : { bytesRead: 0 };
    return { data: buf.subarray(0, bytesRead).toString('base64'), offset: 0, size, eof: true };
  } finally {
    await fh.close();
  }
}

/** Length of the prefix of `buf` that ends on a whole UTF-8 character. */
export function utf8CompleteLength(buf: Buffer): number {
  let i = buf.length - 1;
  let cont = 0;
  while (i >= 0 && cont < 3 && (buf[i]! & 0xc0) === 0x80) {
    i--;
    cont++;
  }
  if (i < 0) return buf.length;
  const b = buf[i]!;
  const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  return buf.length - i >= need ? buf.length : i;
}

export interface TailSink {
  chunk(data: string, offset: number): void;
  end(message?: string): void;
  /** False while the link is congested: the tail waits instead of queueing more. */
  writable(): boolean;
}

/** Follows a file: the backlog from `offset`, then whatever is appended, until closed. */
export class Tail {
  private pos = 0;
  private closed = false;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private again = false;
  private target: Resolved | undefined;

  constructor(
    private readonly sandbox: string,
    private readonly requested: string,
    private readonly offset: number | undefined,
    private readonly sink: TailSink,
    private readonly pollMs = 500,
  ) {}

  async start(): Promise<void> {
    try {
      const target = await resolveInSandbox(this.sandbox, this.requested);
      const { fh, size } = await openRegular(target);
      await fh.close();
      this.target = target;
      const off = this.offset;
      this.pos = off === undefined ? Math.max(0, size - TAIL_DEFAULT_BACKLOG) : off < 0 ? Math.max(0, size + off) : Math.min(off, size);
    } catch (err) {
      if (!this.closed) this.sink.end(err instanceof FilesError ? err.message : (err as Error).message);
      this.closed = true;
      return;
    }
    // Untailed while the file was being opened.
    if (this.closed) return;
    try {
      this.watcher = watch(this.target.real, { persistent: false }, () => this.poke());
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      // polling alone
    }
    this.timer = setInterval(() => this.poke(), this.pollMs);
    this.timer.unref();
    this.poke();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
  }

  private poke(): void {
    if (this.closed) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.pump()
      .catch((err: Error) => {
        if (!this.closed) {
          this.close();
          this.sink.end(err.message);
        }
      })
      .finally(() => {
        this.busy = false;
        if (this.again && !this.closed) {
          this.again = false;
          this.poke();
        }
      });
  }

  private async pump(): Promise<void> {
    let opened: { fh: fsp.FileHandle; size: number };
    try {
      opened = await openRegular(this.target!);
    } catch (err) {
      this.close();
      this.sink.end(err instanceof FilesError && err.status === 404 ? 'file removed' : (err as Error).message);
      return;
    }
    const { fh, size } = opened;
    try {
      // Truncated (a rotated log): start over from its beginning.
      if (size < this.pos) this.pos = 0;
      while (!this.closed && this.pos < size && this.sink.writable()) {
        const want = Math.min(TAIL_CHUNK, size - this.pos);
        const buf = Buffer.alloc(want);
        const { bytesRead } = await fh.read(buf, 0, want, this.pos);
        if (bytesRead === 0) break;
        let n = utf8CompleteLength(buf.subarray(0, bytesRead));
        // A lone partial character at the end waits for its remaining bytes, unless nothing else can be sent.
        if (n === 0) {
          if (this.pos + bytesRead < size) n = bytesRead;
          else break;
        }
        this.sink.chunk(buf.subarray(0, n).toString('utf8'), this.pos);
        this.pos += n;
      }
    } finally {
      await fh.close();
    }
  }
}
