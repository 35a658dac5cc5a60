// Resource isolation: cgroups (v1 or v2, detected) when the agent is root and they are
// writable, otherwise a POSIX fallback that only watches memory. Each task gets
// `yagura/<agent name>/<task id>` in every controller used.

import { readFileSync, writeFileSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Resources } from '../../protocol/types.js';
import type { CgroupPlan } from './executor.js';
import { isRoot } from './host.js';

const MiB = 1024 * 1024;
const CFS_PERIOD_US = 100_000;
const CONTROLLERS = ['cpu', 'memory', 'pids'] as const;
type Controller = (typeof CONTROLLERS)[number];

export interface CgroupLayout {
  version: 1 | 2;
  /** v1: mount point of each controller found. v2: the unified mount for each available controller. */
  mounts: Partial<Record<Controller, string>>;
}

/**
 * v1 when any of cpu/memory/pids is mounted as a v1 hierarchy (this includes the hybrid
 * layout, where a cgroup2 tree at /sys/fs/cgroup/unified holds no useful controller);
 * otherwise v2 when a cgroup2 mount offers them.
 */
export function detectCgroupLayout(mountsText?: string): CgroupLayout | null {
  let text = mountsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mounts', 'utf8');
    } catch {
      return null;
    }
  }
  const lines = text.split('\n').map((l) => l.split(' ')).filter((f) => f.length >= 4);
  const v1: Partial<Record<Controller, string>> = {};
  for (const f of lines) {
    if (f[2] !== 'cgroup') continue;
    const opts = f[3]!.split(',');
    for (const c of CONTROLLERS) if (opts.includes(c) && !v1[c]) v1[c] = unescapeMount(f[1]!);
  }
  if (v1.cpu || v1.memory || v1.pids) return { version: 1, mounts: v1 };
  const v2mounts = lines.filter((f) => f[2] === 'cgroup2').map((f) => unescapeMount(f[1]!));
  v2mounts.sort((a, b) => (a === '/sys/fs/cgroup' ? -1 : b === '/sys/fs/cgroup' ? 1 : 0));
  for (const m of v2mounts) {
    let controllers: string[];
    try {
      controllers = readFileSync(path.join(m, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    } catch {
      continue;
    }
    const mounts: Partial<Record<Controller, string>> = {};
    for (const c of CONTROLLERS) if (controllers.includes(c)) mounts[c] = m;
    if (Object.keys(mounts).length > 0) return { version: 2, mounts };
  }
  return null;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** What a task's cgroups are, as checkpointed: enough to find them again after a restart. */
export interface CgroupRecord {
  version: 1 | 2;
  dirs: Partial<Record<Controller, string>>;
  memLimitBytes?: number;
}

async function writeCg(dir: string, file: string, value: string): Promise<void> {
  await fsp.writeFile(path.join(dir, file), value);
}

/** cgroupfs lives in the kernel's memory: a write there is one short system call that never waits for a disk. */
function writeCgSync(dir: string, file: string, value: string): void {
  writeFileSync(path.join(dir, file), value);
}

async function readCg(dir: string, file: string): Promise<string | null> {
  try {
    return await fsp.readFile(path.join(dir, file), 'utf8');
  } catch {
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class TaskCgroups {
  constructor(readonly record: CgroupRecord) {}

  get hasMemory(): boolean {
    return this.record.dirs.memory !== undefined;
  }

  private uniqueDirs(): string[] {
    return [...new Set(Object.values(this.record.dirs).filter((d): d is string => typeof d === 'string'))];
  }

  /** Moves the process into every cgroup of the task (synchronous: see writeCgSync). */
  addProcess(pid: number): void {
    for (const dir of this.uniqueDirs()) writeCgSync(dir, 'cgroup.procs', String(pid));
  }

  async procs(): Promise<number[]> {
    const all = new Set<number>();
    for (const dir of this.uniqueDirs()) {
      const text = await readCg(dir, 'cgroup.procs');
      for (const l of (text ?? '').split('\n')) if (/^\d+$/.test(l.trim())) all.add(Number(l.trim()));
    }
    return [...all];
  }

  /**
   * Number of OOM kills inside the cgroup, or null when the kernel does not say. Read directly
   * (cgroupfs, see writeCgSync): the monitor asks this of every running task twice a second, and
   * through the thread pool each read is four queued operations.
   */
  async oomKills(): Promise<number | null> {
    const dir = this.record.dirs.memory;
    if (!dir) return null;
    let text: string | null;
    try {
      text = readFileSync(path.join(dir, this.record.version === 1 ? 'memory.oom_control' : 'memory.events'), 'utf8');
    } catch {
      text = null;
    }
    const m = text ? /^oom_kill (\d+)$/m.exec(text) : null;
    return m ? Number(m[1]) : null;
  }

  /** How often usage hit the limit (v1 memory.failcnt, v2 memory.events max). */
  async limitHits(): Promise<number> {
    const dir = this.record.dirs.memory;
    if (!dir) return 0;
    if (this.record.version === 1) return Number((await readCg(dir, 'memory.failcnt'))?.trim() ?? 0) || 0;
    const m = /^max (\d+)$/m.exec((await readCg(dir, 'memory.events')) ?? '');
    return m ? Number(m[1]) : 0;
  }

  /** pids.max and how many forks it refused (pids.events "max"); null without the pids controller. */
  async pidsLimitHits(): Promise<{ max: string; hits: number } | null> {
    const dir = this.record.dirs.pids;
    if (!dir) return null;
    const hits = Number(/^max (\d+)$/m.exec((await readCg(dir, 'pids.events')) ?? '')?.[1] ?? 0) || 0;
    return { max: ((await readCg(dir, 'pids.max')) ?? '').trim(), hits };
  }

  async peakMemoryBytes(): Promise<number> {
    const dir = this.record.dirs.memory;
    if (!dir) return 0;
    const files = this.record.version === 1 ? ['memory.max_usage_in_bytes', 'memory.usage_in_bytes'] : ['memory.peak', 'memory.current'];
    for (const f of files) {
      const v = Number((await readCg(dir, f))?.trim());
      if (Number.isFinite(v) && v > 0) return v;
    }
    return 0;
  }

  async killAll(): Promise<void> {
    for (const pid of await this.procs()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** Kills what is left inside and removes the cgroups; they must be empty to go. */
  async destroy(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const left = await this.procs();
      if (left.length === 0) break;
      await this.killAll();
      await sleep(50);
    }
    for (const dir of this.uniqueDirs()) await removeCgroupDir(dir);
  }
}

async function removeCgroupDir(dir: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    try {
      await fsp.rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw err;
      await sleep(50);
    }
  }
  throw new Error(`cgroup ${dir} is still busy`);
}

export interface IsolationOptions {
  /** false forces the POSIX fallback. */
  cgroups: boolean;
  /** Directory name of this agent under yagura/; distinct per agent on one machine. */
  agentName: string;
  pidsMax: number;
  logger: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** Test hook: a mounts table instead of /proc/self/mounts. */
  mountsText?: string;
}

export class Isolation {
  private constructor(
    readonly layout: CgroupLayout | null,
    /** yagura/<agent> in each controller that is in use. */
    readonly agentDirs: Partial<Record<Controller, string>>,
    readonly isolators: string[],
    private readonly pidsMax: number,
  ) {}

  get cgroupVersion(): 1 | 2 | null {
    return this.layout && Object.keys(this.agentDirs).length > 0 ? this.layout.version : null;
  }

  /** True when memory is enforced by a cgroup; otherwise the agent polls RSS (posix/mem). */
  get memoryByCgroup(): boolean {
    return this.agentDirs.memory !== undefined;
  }

  static async create(opts: IsolationOptions): Promise<Isolation> {
    const posixOnly = (why: string | null): Isolation => {
      if (why) opts.logger('warn', `cgroups not used: ${why}; falling back to posix isolation (memory watched, cpu not enforced)`);
      return new Isolation(null, {}, ['posix/cpu', 'posix/mem'], opts.pidsMax);
    };
    if (!opts.cgroups) return posixOnly(null);
    if (!isRoot()) return posixOnly('the agent does not run as root');
    const layout = detectCgroupLayout(opts.mountsText);
    if (!layout) return posixOnly('no cgroup hierarchy with cpu, memory or pids found');
    const agentDirs: Partial<Record<Controller, string>> = {};
    try {
      if (layout.version === 1) {
        for (const c of CONTROLLERS) {
          const mount = layout.mounts[c];
          if (!mount) continue;
          const dir = path.join(mount, 'yagura', opts.agentName);
          try {
            await fsp.mkdir(dir, { recursive: true });
            agentDirs[c] = dir;
          } catch (err) {
            opts.logger('warn', `cgroup ${c} not usable: ${(err as Error).message}`);
          }
        }
      } else {
        const mount = Object.values(layout.mounts)[0]!;
        const want = CONTROLLERS.filter((c) => layout.mounts[c]);
        const chain = [mount, path.join(mount, 'yagura'), path.join(mount, 'yagura', opts.agentName)];
        for (const dir of chain) {
          await fsp.mkdir(dir, { recursive: true });
          for (const c of want) {
            // Fails (EBUSY) where the parent holds processes itself; what got enabled is read back below.
            await writeCg(dir, 'cgroup.subtree_control', `+${c}`).catch(() => undefined);
          }
        }
        const enabled = ((await readCg(chain[2]!, 'cgroup.subtree_control')) ?? '').trim().split(/\s+/);
        for (const c of want) if (enabled.includes(c)) agentDirs[c] = chain[2]!;
      }
    } catch (err) {
      return posixOnly((err as Error).message);
    }
    if (Object.keys(agentDirs).length === 0) return posixOnly('no cgroup controller could be set up');
    const isolators: string[] = [];
    isolators.push(agentDirs.cpu ? 'cgroups/cpu' : 'posix/cpu');
    isolators.push(agentDirs.memory ? 'cgroups/mem' : 'posix/mem');
    if (agentDirs.pids) isolators.push('cgroups/pids');
    return new Isolation(layout, agentDirs, isolators, opts.pidsMax);
  }

  /**
   * The task's cgroups with its limits, as a plan the launcher carries out (directories, limit
   * files, then the wrapper's pid into each cgroup.procs); null under the POSIX fallback.
   */
  plan(taskId: string, res: Resources): { cgroups: TaskCgroups; plan: CgroupPlan } | null {
    const version = this.cgroupVersion;
    if (version === null) return null;
    const dirs: Partial<Record<Controller, string>> = {};
    for (const c of CONTROLLERS) {
      const base = this.agentDirs[c];
      if (base) dirs[c] = path.join(base, taskId);
    }
    const memBytes = res.mem > 0 ? Math.floor(res.mem * MiB) : undefined;
    const record: CgroupRecord = { version, dirs, ...(memBytes ? { memLimitBytes: memBytes } : {}) };
    const unique = [...new Set(Object.values(dirs))] as string[];
    const writes: CgroupPlan['writes'] = [];
    const w = (dir: string, file: string, value: string, ifExists = false) => writes.push([path.join(dir, file), value, ifExists]);
    const shares = Math.max(2, Math.round(res.cpus * 1024));
    const quota = res.cpus > 0 ? Math.max(1000, Math.round(res.cpus * CFS_PERIOD_US)) : undefined;
    if (version === 1) {
      if (dirs.cpu) {
        w(dirs.cpu, 'cpu.shares', String(shares));
        // cpu.cfs_period_us starts at 100 ms (CFS_PERIOD_US) in every new cgroup
        if (quota !== undefined) w(dirs.cpu, 'cpu.cfs_quota_us', String(quota));
      }
      if (dirs.memory && memBytes) {
        w(dirs.memory, 'memory.limit_in_bytes', String(memBytes));
        // Without this, swap would let a task use more than it was given.
        w(dirs.memory, 'memory.memsw.limit_in_bytes', String(memBytes), true);
      }
    } else {
      if (dirs.cpu) {
        // The usual shares→weight mapping (runc, systemd): [2, 262144] onto [1, 10000].
        const weight = Math.min(10000, Math.max(1, Math.round(1 + ((shares - 2) * 9999) / 262142)));
        w(dirs.cpu, 'cpu.weight', String(weight));
        if (quota !== undefined) w(dirs.cpu, 'cpu.max', `${quota} ${CFS_PERIOD_US}`);
      }
      if (dirs.memory && memBytes) {
        w(dirs.memory, 'memory.max', String(memBytes));
        w(dirs.memory, 'memory.swap.max', '0', true);
      }
    }
    if (dirs.pids) w(dirs.pids, 'pids.max', String(this.pidsMax));
    return { cgroups: new TaskCgroups(record), plan: { mkdirs: unique, writes, procs: unique.map((d) => path.join(d, 'cgroup.procs')) } };
  }

  /** Task cgroups directories currently under this agent's directories. */
  async listTaskCgroups(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const base of new Set(Object.values(this.agentDirs))) {
      let names: string[] = [];
      try {
        names = (await fsp.readdir(base!, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
      } catch {
        continue;
      }
      for (const n of names) out.set(n, [...(out.get(n) ?? []), path.join(base!, n)]);
    }
    return out;
  }

  /** Removes task cgroups left behind by a crash, except those of tasks still alive. */
  async cleanupOrphans(keep: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const [taskId, dirs] of await this.listTaskCgroups()) {
      if (keep.has(taskId)) continue;
      const rec: CgroupRecord = { version: this.layout!.version, dirs: {} };
      for (const c of CONTROLLERS) {
        const base = this.agentDirs[c];
        if (base && dirs.includes(path.join(base, taskId))) rec.dirs[c] = path.join(base, taskId);
      }
      await new TaskCgroups(rec).destroy().catch(() => undefined);
      removed.push(taskId);
    }
    return removed;
  }

  /** Removes yagura/<agent> (and yagura/ when empty); only succeeds once no task cgroup is left. */
  async removeAgentDirs(): Promise<void> {
    for (const dir of new Set(Object.values(this.agentDirs))) {
      await fsp.rmdir(dir!).catch(() => undefined);
      if (this.layout?.version === 1) await fsp.rmdir(path.dirname(dir!)).catch(() => undefined);
    }
  }
}
