// Sandbox garbage collection. Only sandboxes of tasks that are terminal and acknowledged
// (checkpoint `done`), or that have no checkpoint at all, are ever removed; first those
// older than the age limit, then the oldest while all sandboxes together exceed the disk cap.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { type Layout, type TaskCheckpoint, readJson, sandboxDir, taskMetaDir } from './checkpoint.js';

export interface GcOptions {
  maxAgeMs: number;
  maxDiskBytes: number;
  now: number;
  /** Tasks the agent is running or still reporting on: never touched. */
  active: ReadonlySet<string>;
}

export interface GcResult {
  removed: string[];
  /** Bytes held by all sandboxes after the collection. */
  totalBytes: number;
}

/** Apparent bytes under a directory, without following symlinks. */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await diskUsage(p);
    else {
      try {
        total += (await fsp.lstat(p)).size;
      } catch {
        // vanished
      }
    }
  }
  return total;
}

interface Candidate {
  taskId: string;
  endedAt: number;
  bytes: number;
}

export async function collectSandboxes(l: Layout, opts: GcOptions): Promise<GcResult> {
  const ids = new Set<string>();
  for (const dir of [l.sandboxesDir, l.tasksMetaDir]) {
    try {
      for (const e of await fsp.readdir(dir, { withFileTypes: true })) if (e.isDirectory()) ids.add(e.name);
    } catch {
      // not created yet
    }
  }
  const candidates: Candidate[] = [];
  let total = 0;
  for (const taskId of ids) {
    const bytes = await diskUsage(sandboxDir(l, taskId));
    total += bytes;
    if (opts.active.has(taskId)) continue;
    const cp = await readJson<TaskCheckpoint>(path.join(taskMetaDir(l, taskId), 'task.json'));
    if (cp && !cp.done) continue;
    let endedAt = cp?.endedAt;
    if (endedAt === undefined) {
      try {
        endedAt = (await fsp.stat(sandboxDir(l, taskId))).mtimeMs;
      } catch {
        endedAt = 0;
      }
    }
    candidates.push({ taskId, endedAt, bytes });
  }
  candidates.sort((a, b) => a.endedAt - b.endedAt);
  const removed: string[] = [];
  const remove = async (c: Candidate): Promise<void> => {
    await fsp.rm(sandboxDir(l, c.taskId), { recursive: true, force: true });
    await fsp.rm(taskMetaDir(l, c.taskId), { recursive: true, force: true });
    removed.push(c.taskId);
    total -= c.bytes;
  };
  const kept: Candidate[] = [];
  for (const c of candidates) {
    if (opts.now - c.endedAt > opts.maxAgeMs) await remove(c);
    else kept.push(c);
  }
  for (const c of kept) {
    if (total <= opts.maxDiskBytes) break;
    await remove(c);
  }
  return { removed, totalBytes: total };
}
