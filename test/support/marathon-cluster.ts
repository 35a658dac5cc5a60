// A master with real in-process agents, a Marathon API client and an SSE reader, for the
// marathon-* tests.

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../server/agent/agent.js';
import type { Resources } from '../../protocol/types.js';
import { startMaster, waitFor, type TestMaster } from './cluster.js';

export interface AgentSpec {
  hostname: string;
  resources?: Partial<Resources>;
  attributes?: Record<string, string>;
}

/**
 * Ports free right now, as single-port ranges. Other suites run agents on this machine at the
 * same time; fixed ranges would collide with theirs.
 */
export async function freePorts(count: number): Promise<Array<[number, number]>> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '0.0.0.0', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port).sort((a, b) => a - b);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports.map((p) => [p, p]);
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface MarathonCluster {
  m: TestMaster;
  agents: Agent[];
  dir: string;
  api<T = any>(method: string, path: string, body?: unknown, opts?: { token?: string; raw?: string; headers?: Record<string, string> }): Promise<ApiResponse<T>>;
  /** Waits until GET /v2/apps/{id} satisfies `pred`. */
  appUntil(id: string, pred: (app: any) => boolean, what?: string, timeoutMs?: number): Promise<any>;
  /** Waits until no deployment is running. */
  settled(timeoutMs?: number): Promise<void>;
  dispose(): Promise<void>;
}

export async function startCluster(agentSpecs: AgentSpec[]): Promise<MarathonCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'yagura-marathon-'));
  // tasks run as nobody: their sandboxes must be reachable (python's http.server lists its cwd)
  chmodSync(dir, 0o755);
  const m = await startMaster({ dataDir: join(dir, 'master'), master: { allocationIntervalMs: 50, heartbeatIntervalMs: 200, maxMissedHeartbeats: 10 }, servicesTickMs: 100 });
  const agents: Agent[] = [];
  try {
    for (const [i, spec] of agentSpecs.entries()) {
      const agent = new Agent({
        masterUrl: m.url,
        secret: m.agentSecret,
        workDir: join(dir, `agent-${i}`),
        hostname: spec.hostname,
        attributes: spec.attributes ?? {},
        resources: { cpus: 2, mem: 1024, disk: 1024, ports: await freePorts(8), ...spec.resources },
        logger: () => {},
      });
      agents.push(agent);
      await agent.start();
    }
    await waitFor(() => m.master.listAgents().filter((a) => a.state === 'ACTIVE').length === agentSpecs.length, 10_000, 'agents registered');
  } catch (err) {
    for (const a of agents) await a.shutdown();
    await m.dispose();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const api: MarathonCluster['api'] = async (method, path, body, opts = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? m.adminToken}`, ...opts.headers };
    const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${m.url}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed as any, text, headers: res.headers };
  };

  return {
    m,
    agents,
    dir,
    api,
    async appUntil(id, pred, what = `app ${id}`, timeoutMs = 20_000) {
      return waitFor(
        async () => {
          const r = await api('GET', `/v2/apps${id}`);
          return r.status === 200 && pred(r.body.app) ? r.body.app : undefined;
        },
        timeoutMs,
        what,
      );
    },
    async settled(timeoutMs = 20_000) {
      await waitFor(async () => ((await api('GET', '/v2/deployments')).body as unknown[]).length === 0, timeoutMs, 'deployments finished');
    },
    async dispose() {
      for (const a of agents) await a.shutdown();
      await m.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SseEvent {
  type: string;
  data: any;
}

/** Reads /v2/events; keeps every event received, in order. */
export class SseClient {
  readonly events: SseEvent[] = [];
  comments = 0;
  status = 0;
  private controller = new AbortController();
  private waiters: Array<() => void> = [];
  private done: Promise<void>;
  ended = false;

  constructor(url: string, token: string, query = '') {
    this.done = this.run(`${url}/v2/events${query}`, token);
  }

  private async run(url: string, token: string): Promise<void> {
    try {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: this.controller.signal });
      this.status = res.status;
      this.wake();
      if (!res.body) return;
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (frame.startsWith(':')) {
            this.comments++;
            continue;
          }
          let type = 'message';
          const data: string[] = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          this.events.push({ type, data: JSON.parse(data.join('\n')) });
        }
        this.wake();
      }
    } catch {
      // aborted, or cut off by the server
    } finally {
      this.ended = true;
      this.wake();
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async until<T>(pred: (events: SseEvent[]) => T | undefined | false, what = 'events', timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred(this.events);
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${this.events.map((e) => e.type).join(', ')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}
