// What a test's agents leave on the machine once the test is over. An agent removes a task's
// cgroups when the task ends, and its own directory (yagura/<hostname>-<hash of the work dir>)
// when it stops holding none; an agent killed with SIGKILL, or stopped while its tasks go on
// (as across a restart), cannot, and each run would leave empty directories under
// /sys/fs/cgroup/*/yagura/ for good. These helpers end the test's own tasks and remove the
// test agent's cgroups, nothing else: tasks are found through the agent's checkpoints (pid and
// start time, so a reused pid is never signalled), and cgroups are only ever rmdir'ed, bottom
// up, under that one agent's directory, so the kernel itself refuses any that still holds a
// process. yagura/ itself stays: every agent on the machine shares it.

import { readdirSync, readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { agentCgroupName } from '../../server/agent/agent.js';
import { detectCgroupLayout } from '../../server/agent/isolators.js';

/** The agent's own cgroup directory in each hierarchy in use here; none without cgroups. */
export function agentCgroupDirs(hostname: string, workDir: string): string[] {
  const layout = detectCgroupLayout();
  if (!layout) return [];
  const name = agentCgroupName(hostname, workDir);
  // under v2 every controller names the same mount
  return [...new Set(Object.values(layout.mounts))].map((m) => path.join(m!, 'yagura', name));
}

function startTime(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return null;
  }
}

/**
 * SIGKILLs the process group of every task checkpointed in an agent work directory whose
 * wrapper is still the process the agent started (same pid and start time).
 */
export function killCheckpointedTaskGroups(workDir: string): void {
  const tasksDir = path.join(workDir, 'meta', 'tasks');
  let ids: string[];
  try {
    ids = readdirSync(tasksDir);
  } catch {
    return; // no work dir, or no task ever launched
  }
  for (const id of ids) {
    try {
      const cp = JSON.parse(readFileSync(path.join(tasksDir, id, 'task.json'), 'utf8')) as { pid?: number; pidStartTime?: number };
      if (cp.pid && cp.pidStartTime !== undefined && startTime(cp.pid) === cp.pidStartTime) process.kill(-cp.pid, 'SIGKILL');
    } catch {
      // no checkpoint, or already gone
    }
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * rmdir of a cgroup after its children; true once it is gone. EBUSY (a process just killed
 * is still on its way out) is retried until the deadline; anything else (not root, say) is
 * left alone.
 */
function removeCgroup(dir: string, deadline: number): boolean {
  let children: string[];
  try {
    children = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
  let ok = true;
  for (const c of children) ok = removeCgroup(c, deadline) && ok;
  if (!ok) return false;
  for (;;) {
    try {
      rmdirSync(dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (code !== 'EBUSY' || Date.now() >= deadline) return false;
    }
    sleepSync(20);
  }
}

/**
 * Removes the agent's cgroup directory and the task cgroups beneath it, in every hierarchy,
 * once the test has ended its tasks (the agent's shutdown, or killCheckpointedTaskGroups after
 * a SIGKILL). Quiet when there is nothing to remove (no cgroups, not root, already gone);
 * returns what could not be removed, and warns about it, so a leak shows in the test output.
 */
export function removeAgentCgroupTree(hostname: string, workDir: string, waitMs = 3000): string[] {
  const deadline = Date.now() + waitMs;
  const left = agentCgroupDirs(hostname, workDir).filter((d) => !removeCgroup(d, deadline));
  if (left.length > 0) process.emitWarning(`test agent cgroups left behind (still in use?): ${left.join(', ')}`);
  return left;
}
