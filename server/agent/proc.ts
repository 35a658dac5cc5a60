// Process facts read from /proc. Tasks outlive the agent, so the agent cannot rely on
// being their parent: identity is (pid, start time) and liveness is read from /proc.

import { promises as fsp } from 'node:fs';
import { constants as osConstants } from 'node:os';

export interface ProcStat {
  pid: number;
  /** One letter: R, S, D, Z, T, X … */
  state: string;
  ppid: number;
  pgrp: number;
  /** Field 6: the session id. */
  session: number;
  /** Field 22: clock ticks after boot. Together with the pid it names one process. */
  startTime: number;
}

/** Parses /proc/<pid>/stat. The command name may hold spaces and parentheses, hence the last ')'. */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  if (rest.length < 20) return null;
  const stat: ProcStat = {
    pid,
    state: rest[0]!,
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    session: Number(rest[3]),
    startTime: Number(rest[19]),
  };
  if (!Number.isFinite(stat.pid) || !Number.isFinite(stat.startTime)) return null;
  return stat;
}

export async function readStat(pid: number): Promise<ProcStat | null> {
  try {
    return parseStat(await fsp.readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

export async function processStartTime(pid: number): Promise<number | null> {
  return (await readStat(pid))?.startTime ?? null;
}

/**
 * True when `pid` still names the process that had `startTime`, and it has not exited.
 * A zombie counts as gone: where init does not reap orphans, exited wrappers stay zombies forever.
 */
export async function isSameProcessAlive(pid: number, startTime: number): Promise<boolean> {
  const st = await readStat(pid);
  return st !== null && st.startTime === startTime && st.state !== 'Z' && st.state !== 'X';
}

export async function listProcesses(): Promise<ProcStat[]> {
  let names: string[];
  try {
    names = await fsp.readdir('/proc');
  } catch {
    return [];
  }
  const out: ProcStat[] = [];
  await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      .map(async (n) => {
        const st = await readStat(Number(n));
        if (st) out.push(st);
      }),
  );
  return out;
}

async function rssBytes(pid: number): Promise<number> {
  try {
    const text = await fsp.readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Resident memory summed per process group, for the groups asked about; one /proc scan for all. */
export async function groupRss(pgids: ReadonlySet<number>): Promise<Map<number, number>> {
  const totals = new Map<number, number>();
  if (pgids.size === 0) return totals;
  for (const id of pgids) totals.set(id, 0);
  const procs = (await listProcesses()).filter((p) => pgids.has(p.pgrp) && p.state !== 'Z');
  const sizes = await Promise.all(procs.map((p) => rssBytes(p.pid)));
  procs.forEach((p, i) => totals.set(p.pgrp, (totals.get(p.pgrp) ?? 0) + sizes[i]!));
  return totals;
}

/** Signals a whole process group; false when no such group exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(osConstants.signals).map(([name, num]) => [num as number, name]),
);

export function signalName(signo: number): string {
  return SIGNAL_NAMES.get(signo) ?? `signal ${signo}`;
}

export function signalNumber(name: string): number | undefined {
  const n = (osConstants.signals as Record<string, number>)[name];
  return typeof n === 'number' ? n : undefined;
}
