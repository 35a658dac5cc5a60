// The agent's on-disk state. Everything the agent must remember across its own crash lives
// here, written atomically, before the master is told anything.
//
// <workDir>/meta/agent.json                  { agentId, hostname, registeredAt }
// <workDir>/meta/tasks/<taskId>/task.json    TaskCheckpoint (spec, pid, state, pending updates …)
// <workDir>/meta/tasks/<taskId>/exit         written by the task's wrapper: exit status or "unreleased"
// <workDir>/sandboxes/<taskId>/              the task's working directory (stdout, stderr, artifacts)
// <workDir>/cache/<sha256 of the URI>         cached artifacts (URIs with cache: true)

import { randomBytes } from 'node:crypto';
import { promises as fsp, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import type { LaunchSpec, StatusUpdate, TaskState } from '../../protocol/types.js';
import type { UserInfo } from './host.js';
import type { CgroupRecord } from './isolators.js';

export interface Layout {
  workDir: string;
  metaDir: string;
  tasksMetaDir: string;
  sandboxesDir: string;
  /** The artifact cache of `cache: true` URIs. */
  cacheDir: string;
  agentFile: string;
}

export function layoutOf(workDir: string): Layout {
  const abs = path.resolve(workDir);
  const metaDir = path.join(abs, 'meta');
  return {
    workDir: abs,
    metaDir,
    tasksMetaDir: path.join(metaDir, 'tasks'),
    sandboxesDir: path.join(abs, 'sandboxes'),
    cacheDir: path.join(abs, 'cache'),
    agentFile: path.join(metaDir, 'agent.json'),
  };
}

export function taskMetaDir(l: Layout, taskId: string): string {
  return path.join(l.tasksMetaDir, taskId);
}

export function sandboxDir(l: Layout, taskId: string): string {
  return path.join(l.sandboxesDir, taskId);
}

/** Task ids become directory and cgroup names, so they must be one harmless path segment. */
export function isSafeTaskId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= 200 && /^[A-Za-z0-9_.:@+-]+$/.test(id) && id !== '.' && id !== '..';
}

export interface PendingUpdate {
  /** Agent-wide order of creation, so resends keep the order the agent observed. */
  seq: number;
  update: StatusUpdate;
}

export interface TaskCheckpoint {
  spec: LaunchSpec;
  /** Who the task runs as; null when the agent does not switch users. */
  user: UserInfo | null;
  /** The wrapper's pid, which is also the task's process group id. */
  pid?: number;
  /** Field 22 of /proc/<pid>/stat, to tell the wrapper from a later process that reused its pid. */
  pidStartTime?: number;
  /** True once the wrapper was told to run the command. */
  released?: boolean;
  /** The state of the latest status update the agent generated. */
  state: TaskState;
  killRequested: boolean;
  killGracePeriodMs?: number;
  cgroups?: CgroupRecord;
  /** Status updates not yet acknowledged by the master, oldest first. */
  pending: PendingUpdate[];
  /** Terminal and acknowledged: only the sandbox remains, for the GC. */
  done: boolean;
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  exitCode?: number;
  /** Health last reported to the master (absent until the checks first settled it). */
  healthy?: boolean;
  /** Per health check: it has succeeded once, so the grace period no longer hides its failures. */
  healthFirstSuccess?: boolean[];
  /** Set when the health checks killed the task: the message of its final update. */
  healthKill?: string;
}

export interface AgentMeta {
  agentId: string;
  hostname: string;
  registeredAt: number;
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
    await fh.sync();
  } catch {
    // some file systems refuse fsync on directories; the rename is still atomic
  } finally {
    await fh?.close();
  }
}

/**
 * Write-temp, fsync, rename, fsync the directory. The temp name is random and opened with
 * O_EXCL so a symlink planted in a directory a task can write to is never followed.
 */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const fh = await fsp.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value));
}

export async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

export type ExitRecord = { kind: 'status'; status: number } | { kind: 'unreleased' } | { kind: 'none' };

/**
 * Reads the wrapper's exit file. The task user can write in that directory, so the file is
 * opened without following links and without blocking (a FIFO must not hang the agent).
 */
export async function readExitFile(file: string): Promise<ExitRecord> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
    const st = await fh.stat();
    if (!st.isFile()) return { kind: 'none' };
    const buf = Buffer.alloc(32);
    const { bytesRead } = await fh.read(buf, 0, 32, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8').trim();
    if (text === 'unreleased') return { kind: 'unreleased' };
    if (/^\d{1,3}$/.test(text) && Number(text) <= 255) return { kind: 'status', status: Number(text) };
    return { kind: 'none' };
  } catch {
    return { kind: 'none' };
  } finally {
    await fh?.close();
  }
}
