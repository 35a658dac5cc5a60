// build(options) → a master that is fully wired but not listening. Tests start it on port 0;
// main.ts only reads argv and calls this.

import { mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Auth, AGENT_SECRET_FILE, newSecret, secretFile } from './api/auth.js';
import { createHttp } from './api/http.js';
import { attachSockets } from './api/sockets.js';
import { registerStatic } from './api/static.js';
import { registerArtifacts } from './api/artifacts.js';
import { StreamHub, type StreamOptions } from './api/stream.js';
import { registerMesosApis } from './api/mesos/index.js';
import { registerMarathonApi } from './api/marathon/index.js';
import { Master, type MasterOptions } from './master/master.js';
import { ServicesFramework } from './frameworks/services/services.js';
import { JobsFramework } from './frameworks/jobs/jobs.js';
import { registerJobsApi } from './api/jobs/index.js';
import { registerCatalogApi } from './api/catalog.js';
import { Catalog } from './catalog/catalog.js';
import type { Logger } from './master/types.js';
import { ROOT, VERSION } from './version.js';
import { SqliteStore } from './store/sqlite.js';

export { ROOT, VERSION };
export const BUILTIN_CATALOG = join(ROOT, 'server', 'catalog', 'builtin');

export interface BuildOptions {
  dataDir: string;
  host?: string;
  port?: number;
  /** Default true. May only be false on a loopback bind. */
  auth?: boolean;
  /** Agents' shared secret; default: the data directory's `agent-secret` file (created on first start). */
  agentSecret?: string;
  /** The built dashboard; default `<repo>/dist`. */
  distDir?: string;
  allowedOrigins?: string[];
  master?: Partial<Omit<MasterOptions, 'store' | 'version'>>;
  stream?: StreamOptions;
  bodyLimit?: number;
  log?: Logger;
  /** How often the services framework re-evaluates time-based rules (backoff, unreachable). */
  servicesTickMs?: number;
  /** How often at most the services framework asks for agents with room (default 100 ms). */
  servicesOfferNowEveryMs?: number;
  /** Finished runs kept per job (default 50). */
  jobHistory?: number;
  /** Read-only directories served from the artifact store under /artifacts/<prefix>/ (`catalog` is the built-in repository's code). */
  artifactMounts?: Record<string, string>;
  /** The built-in package repository (packages/ and artifacts/); default `<repo>/server/catalog/builtin`. */
  catalogDir?: string;
}

export interface Yagura {
  master: Master;
  services: ServicesFramework;
  jobs: JobsFramework;
  catalog: Catalog;
  http: FastifyInstance;
  hub: StreamHub;
  adminToken: string;
  agentSecret: string;
  dataDir: string;
  auth: Auth;
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

export async function build(opts: BuildOptions): Promise<Yagura> {
  const host = opts.host ?? '127.0.0.1';
  const authEnabled = opts.auth ?? true;
  if (!authEnabled && !isLoopback(host)) {
    throw new Error(`refusing to bind ${host} without authentication: only a loopback address may run with auth disabled`);
  }
  const log: Logger = opts.log ?? (() => {});
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const store = new SqliteStore(join(opts.dataDir, 'yagura.db'));
  const auth = new Auth(store, authEnabled);
  const adminToken = auth.ensureAdminToken(opts.dataDir);
  const agentSecret = opts.agentSecret ?? secretFile(opts.dataDir, AGENT_SECRET_FILE, () => newSecret('ygs_')).value;
  const master = new Master({
    store,
    version: VERSION,
    log,
    onFatal: (err) => {
      log('error', `the store failed; stopping rather than lose acknowledged state: ${String(err)}`);
      process.exit(70);
    },
    ...opts.master,
  });
  const services = new ServicesFramework({
    master,
    log,
    ...(opts.servicesTickMs !== undefined ? { tickMs: opts.servicesTickMs } : {}),
    ...(opts.servicesOfferNowEveryMs !== undefined ? { offerNowEveryMs: opts.servicesOfferNowEveryMs } : {}),
  });
  const allowedOrigins = opts.allowedOrigins ?? [];
  const http = createHttp({ master, auth, agentSecret, allowedOrigins, log, ...(opts.bodyLimit !== undefined ? { bodyLimit: opts.bodyLimit } : {}) });
  registerMesosApis(http, { master });
  const catalogDir = opts.catalogDir ?? BUILTIN_CATALOG;
  await registerArtifacts(http, { dir: join(opts.dataDir, 'artifacts'), mounts: { catalog: join(catalogDir, 'artifacts'), ...opts.artifactMounts } });
  const marathon = registerMarathonApi(http, { master, services });
  const jobs = new JobsFramework({ master, log, ...(opts.jobHistory !== undefined ? { historyLimit: opts.jobHistory } : {}) });
  await registerJobsApi(http, { master, jobs });
  const catalog = new Catalog({ master, services, jobs, apps: marathon.apps, builtinDir: catalogDir, log });
  registerCatalogApi(http, catalog);
  await registerStatic(http, opts.distDir ?? join(ROOT, 'dist'));
  const hub = new StreamHub(master, auth, opts.stream);
  const sockets = attachSockets(http.server, { master, auth, hub, agentSecret, allowedOrigins, log, serviceUpgrade: marathon.upgrade });
  master.start();
  await services.start();

  let closed = false;
  return {
    master,
    services,
    jobs,
    catalog,
    http,
    hub,
    adminToken,
    agentSecret,
    dataDir: opts.dataDir,
    auth,
    async listen() {
      await http.listen({ host, port: opts.port ?? 5050 });
      const addr = http.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : opts.port;
      return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    },
    async close() {
      if (closed) return;
      closed = true;
      services.stop();
      hub.close();
      sockets.close();
      await master.stop();
      await http.close();
      store.close();
    },
  };
}
