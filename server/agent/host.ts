// Facts about the machine: users, resources, the agent's version.

import { execFileSync } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import type { Resources } from '../../protocol/types.js';

export interface UserInfo {
  name: string;
  uid: number;
  gid: number;
}

/** Looks a user up in /etc/passwd, then through `id` (NSS: LDAP and friends). */
export function lookupUser(name: string): UserInfo | null {
  if (!name || /[\s:]/.test(name)) return null;
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 4 && f[0] === name) return { name, uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    // no /etc/passwd: fall through to id(1)
  }
  try {
    const uid = Number(execFileSync('id', ['-u', '--', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', '--', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { name, uid, gid };
  } catch {
    // unknown user
  }
  if (/^\d+$/.test(name)) return { name, uid: Number(name), gid: Number(name) };
  return null;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

const MiB = 1024 * 1024;

/**
 * What the agent offers when not told otherwise. Some memory and disk stay back for the
 * operating system and the agent itself, as Mesos does.
 */
export async function detectResources(workDir: string): Promise<Resources> {
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const totalMem = Math.floor(os.totalmem() / MiB);
  const memReserve = totalMem >= 2048 ? 1024 : Math.floor(totalMem / 2);
  let disk = 0;
  try {
    const st = await fsp.statfs(workDir);
    const totalDisk = Math.floor((st.blocks * st.bsize) / MiB);
    const diskReserve = Math.min(5 * 1024, Math.floor(totalDisk / 10));
    disk = Math.max(0, totalDisk - diskReserve);
  } catch {
    disk = 0;
  }
  return { cpus, mem: Math.max(0, totalMem - memReserve), disk, ports: [[31000, 32000]] };
}

let cachedVersion: string | undefined;
export function agentVersion(): string {
  if (cachedVersion) return cachedVersion;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    cachedVersion = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    cachedVersion = '0.0.0';
  }
  return cachedVersion;
}

/** Absolute path of a program on a fixed system PATH; tasks may set their own PATH. */
export function findProgram(name: string): string | null {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const p = `${dir}/${name}`;
    try {
      accessSync(p, fsConstants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}
