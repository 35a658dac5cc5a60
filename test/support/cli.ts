// Runs the real `yagura` command line as a child process, as a user would.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './processes.js';

const exec = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `yagura <args>` with no token or master from the environment unless given in `env`. */
export async function yagura(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', join(ROOT, 'server', 'main.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, YAGURA_TOKEN: '', YAGURA_MASTER: '', ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}
