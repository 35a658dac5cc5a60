// Real `yagura master` and `yagura agent` processes for crash tests: each in its own process
// group, killable with SIGKILL, restartable on the same port and directories. Tasks that
// outlive their agent (as they must) are found through the agent's checkpoints and killed at
// the end, so a test leaves nothing running.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentCgroupName } from '../../server/agent/agent.js';
import { Isolation } from '../../server/agent/isolators.js';
import { parseStat, type ProcStat } from '../../server/agent/proc.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

const groups = new Set<number>();
process.on('exit', () => {
  for (const g of groups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export class YaguraProcess {
  child: ChildProcess;
  output = '';

  /**
   * `netns`: run inside that network namespace. nsenter execs node (same pid) and, unlike
   * `ip netns exec`, leaves /sys mounted as it is, so an agent there still finds its cgroups.
   */
  constructor(readonly args: string[], opts: { netns?: string } = {}) {
    const node = [process.execPath, '--import', 'tsx', join(ROOT, 'server', 'main.ts'), ...args];
    const [cmd, ...argv] = opts.netns ? ['nsenter', `--net=/run/netns/${opts.netns}`, '--', ...node] : node;
    this.child = spawn(cmd!, argv, {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, YAGURA_DEBUG: '' },
    });
    groups.add(this.child.pid!);
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.on('exit', () => groups.delete(this.child.pid!));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  exited(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((r) => this.child.once('exit', () => r()));
  }

  /** SIGKILL the process itself (not its group: a real crash leaves children alone). */
  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited();
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited();
    clearTimeout(t);
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }
}

export async function waitHealthy(url: string, proc: YaguraProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.alive) throw new Error(`yagura exited early:\n${proc.output}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`yagura at ${url} did not become healthy:\n${proc.output}`);
}

/** Kill every task process group recorded in an agent work directory's checkpoints. */
export function killCheckpointedTasks(workDir: string): void {
  const dir = join(workDir, 'meta', 'tasks');
  if (!existsSync(dir)) return;
  for (const id of readdirSync(dir)) {
    try {
      const cp = JSON.parse(readFileSync(join(dir, id, 'task.json'), 'utf8')) as { pid?: number; pidStartTime?: number };
      // only while the pid is still the wrapper the agent started: a reused pid is never signalled
      if (cp.pid && (cp.pidStartTime === undefined || startTime(cp.pid) === cp.pidStartTime)) process.kill(-cp.pid, 'SIGKILL');
    } catch {
      // no checkpoint or already gone
    }
  }
}

function startTime(pid: number): number | null {
  return procStatSync(pid)?.startTime ?? null;
}

/** /proc/<pid>/stat, parsed by the agent's own parser; null once the process is gone. */
export function procStatSync(pid: number): ProcStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** There and not a zombie (or dead): an orphaned wrapper may stay a zombie where init does not reap. */
export function runningProcess(pid: number): boolean {
  const s = procStatSync(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

/**
 * Removes the cgroups an agent left behind: those of its tasks (killing what is still in them)
 * and its own directory, as the agent's own crash recovery and shutdown do. An agent killed
 * with SIGKILL cannot, and each test run would leave some on the machine.
 */
export async function removeAgentCgroups(hostname: string, workDir: string): Promise<void> {
  const isolation = await Isolation.create({ cgroups: true, agentName: agentCgroupName(hostname, workDir), pidsMax: 1, logger: () => {} });
  await isolation.cleanupOrphans(new Set());
  await isolation.removeAgentDirs();
}

export function checkpointedPid(workDir: string, taskId: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(workDir, 'meta', 'tasks', taskId, 'task.json'), 'utf8')) as { pid?: number }).pid;
  } catch {
    return undefined;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
