// Helpers for services tests: real in-process agents and Marathon app definitions.

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../server/agent/agent.js';
import { normalizeApp, type AppDefinition } from '../../server/frameworks/services/app-definition.js';
import type { Resources } from '../../protocol/types.js';
import { startMaster, type TestMaster } from './cluster.js';
import { killCheckpointedTasks, removeAgentCgroups } from './processes.js';
import type { BuildOptions } from '../../server/app.js';

export function app(json: Record<string, unknown>): AppDefinition {
  const r = normalizeApp(json);
  if (!r.ok) throw new Error(`invalid app in test: ${JSON.stringify(r.errors)}`);
  return r.app;
}

export interface ServicesCluster {
  m: TestMaster;
  dir: string;
  agents: Map<string, Agent>;
  addAgent(hostname: string, opts?: { attributes?: Record<string, string>; resources?: Partial<Resources> }): Promise<Agent>;
  dispose(): Promise<void>;
}

export async function servicesCluster(opts: Partial<BuildOptions> = {}, dir = mkdtempSync(join(tmpdir(), 'yagura-svc-'))): Promise<ServicesCluster> {
  // tasks run as nobody and need to walk to their sandboxes and meta directories
  chmodSync(dir, 0o711);
  const m = await startMaster({
    dataDir: join(dir, 'master'),
    // 200 ms × 10: a lost agent shows within 2 s, and a stall of the test process is not one
    master: { allocationIntervalMs: 50, heartbeatIntervalMs: 200, maxMissedHeartbeats: 10, ...opts.master },
    servicesTickMs: 100,
    ...opts,
  });
  const agents = new Map<string, Agent>();
  // every agent ever started here, by work dir: a test may stop one (its tasks go on, as
  // across a restart) or replace it in `agents`, and dispose must still clean up after it
  const workDirs = new Map<string, string>();
  // agents share this machine's ports: each hostname gets its own range
  const portBase = new Map<string, number>();
  return {
    m,
    dir,
    agents,
    async addAgent(hostname, o = {}) {
      const base = (h: string) => {
        if (!portBase.has(h)) portBase.set(h, 31000 + portBase.size * 200);
        return portBase.get(h)!;
      };
      const workDir = join(dir, `agent-${hostname}`);
      const a = new Agent({
        masterUrl: m.url,
        secret: m.agentSecret,
        workDir,
        hostname,
        attributes: o.attributes ?? {},
        resources: { cpus: 4, mem: 2048, disk: 1000, ports: [[base(hostname), base(hostname) + 199]], ...o.resources },
        reconnectMinMs: 100,
        reconnectMaxMs: 300,
        logger: () => {},
      });
      workDirs.set(workDir, hostname);
      await a.start();
      agents.set(hostname, a);
      return a;
    },
    async dispose() {
      for (const a of agents.values()) await a.shutdown().catch(() => {});
      // What no running agent shut down (one the test stopped, or a failed shutdown) would
      // run on and keep its cgroups, which no agent removes once the work dir is gone.
      for (const [workDir, hostname] of workDirs) {
        killCheckpointedTasks(workDir);
        await removeAgentCgroups(hostname, workDir);
      }
      await m.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
