// End-to-end harness: a real `yagura up` in its own process group and a real Chromium.
// Everything started here is stopped by the returned handles, and as a last resort when the
// test process exits, so a failing test leaves no master, agent or task behind.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROME_FLAGS, chromePath } from '../support/chrome.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

export interface Cluster {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** The admin token from `<dataDir>/admin-token`. */
  token: string;
  dataDir: string;
  /** SIGTERM to the whole process group, SIGKILL after a grace period, then removes dataDir. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Start the local agent too (default true). */
  agents?: boolean;
  /** Extra arguments for `yagura up`. */
  args?: string[];
}

const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A port that was free a moment ago: the kernel picks it, we release it for the child. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveExit) => child.once('exit', () => resolveExit()));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolveDelay) => setTimeout(resolveDelay, ms));
}

async function killGroup(child: ChildProcess): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    liveGroups.delete(pgid);
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited(child), new Promise<void>((done) => (timer = setTimeout(done, STOP_GRACE_MS)))]);
  clearTimeout(timer);
  // Whatever is left of the group (a leader that ignored SIGTERM, or children that outlived
  // it) is killed outright. ESRCH just means nobody is left.
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // group is empty
  }
  await exited(child);
  liveGroups.delete(pgid);
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'yagura-e2e-'));
  const args = [
    '--import',
    'tsx',
    'server/main.ts',
    'up',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--data-dir',
    dataDir,
    ...(options.agents === false ? ['--no-agent'] : []),
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, YAGURA_DATA_DIR: dataDir },
  });
  if (child.pid !== undefined) liveGroups.add(child.pid);

  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await killGroup(child);
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`yagura up exited (${child.exitCode ?? child.signalCode}) before it was healthy`);
      }
      try {
        const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
        if (health.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`GET /health did not answer 200 within ${STARTUP_TIMEOUT_MS / 1000} s`);
      await delay(100);
    }
    const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    if (!token) throw new Error(`${dataDir}/admin-token is empty`);
    return { url, token, dataDir, stop };
  } catch (error) {
    await stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n--- yagura up output (last 20 kB) ---\n${output}`);
  }
}

export interface Browser {
  context: BrowserContext;
  /** Closes Chromium and removes its profile. */
  close(): Promise<void>;
}

/** A headless Chromium with a fresh profile (no service worker, cache or storage from before). */
export async function launchBrowser(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'yagura-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromePath(),
      headless: true,
      args: CHROME_FLAGS,
      viewport: { width: 1280, height: 800 },
    });
    return {
      context,
      async close() {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}

/** Opens `path`, types the token into the login form, and waits until the stream is live. */
export async function logIn(page: Page, cluster: Cluster, path: string, timeout = 45_000): Promise<void> {
  await page.goto(`${cluster.url}${path}`);
  const login = page.locator('yg-app yg-login');
  await login.locator('input').fill(cluster.token);
  await login.locator('md-filled-button').click();
  await page.locator('yg-app .app-bar [role="status"]', { hasText: 'Live' }).waitFor({ timeout });
}

/** One more agent for `cluster`, in its own process group; it kills its tasks when stopped. */
export function startAgent(cluster: Cluster, hostname: string, attributes: string, ports: string, resources = 'cpus:4;mem:4096;disk:10000'): ChildProcess {
  const secret = readFileSync(join(cluster.dataDir, 'agent-secret'), 'utf8').trim();
  const args = ['--import', 'tsx', 'server/main.ts', 'agent', '--master', cluster.url, '--secret', secret, '--hostname', hostname, '--attributes', attributes];
  args.push('--work-dir', join(cluster.dataDir, hostname), '--resources', `${resources};ports:[${ports}]`, '--kill-tasks-on-exit', '--quiet');
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'ignore', detached: true });
  if (child.pid !== undefined) liveGroups.add(child.pid);
  return child;
}

/** SIGTERM to the agent's group, SIGKILL after a grace period. */
export async function stopAgent(child: ChildProcess): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    liveGroups.delete(pgid);
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }, STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
  liveGroups.delete(pgid);
}
