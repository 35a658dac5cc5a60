// Shared by the mesos-*.test.ts files: a master on a free port in a temporary data directory,
// and a simulated agent that speaks the real agent WebSocket protocol. The simulated agent is
// for testing the master's side only; the real agent has its own end-to-end tests.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { AgentToMaster, LaunchSpec, MasterToAgent, Resources, TaskState } from '../../protocol/types.js';
import { build, type BuildOptions, type Yagura } from '../../server/app.js';

export interface TestMaster {
  app: Yagura;
  url: string;
  token: string;
  close(): Promise<void>;
}

/** A master and one connected agent, both stopped when the test ends. */
export async function cluster(
  t: { after(fn: () => unknown): void },
  opts: { master?: BuildOptions['master']; agent?: FakeAgentOptions } = {},
): Promise<{ m: TestMaster; agent: FakeAgent; closeLater(c: { close(): void }): void }> {
  const m = await startMaster(opts.master);
  const closables: Array<{ close(): void }> = [];
  t.after(async () => {
    for (const c of closables) c.close();
    await m.close();
  });
  const agent = await FakeAgent.connect(m, opts.agent);
  closables.push(agent);
  return { m, agent, closeLater: (c) => closables.push(c) };
}

export async function startMaster(master: BuildOptions['master'] = {}): Promise<TestMaster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'yagura-mesos-'));
  const app = await build({
    dataDir,
    port: 0,
    master: { heartbeatIntervalMs: 200, maxMissedHeartbeats: 10, allocationIntervalMs: 100, ...master },
  });
  const url = await app.listen();
  return {
    app,
    url,
    token: app.adminToken,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns something truthy; the deadline only bounds a failing test. */
export async function waitFor<T>(check: () => T | undefined | false | null, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface FakeAgentOptions {
  hostname?: string;
  resources?: Partial<Resources>;
  attributes?: Record<string, string>;
  /** When false, kills are recorded but only answered by finishKill(). */
  autoKill?: boolean;
}

const uuid = () => randomBytes(16).toString('base64');

/** An agent that registers, heartbeats, runs every launch to RUNNING and every kill to KILLED. */
export class FakeAgent {
  id = '';
  readonly launches: LaunchSpec[] = [];
  readonly kills: Array<{ taskId: string; gracePeriodMs?: number }> = [];
  readonly acks: Array<{ taskId: string; uuid: string }> = [];
  private ws!: WebSocket;
  private heartbeat: NodeJS.Timeout | undefined;
  private frameworks = new Map<string, string>();

  private constructor(private readonly opts: FakeAgentOptions) {}

  static async connect(master: TestMaster, opts: FakeAgentOptions = {}): Promise<FakeAgent> {
    const agent = new FakeAgent(opts);
    await agent.open(master);
    return agent;
  }

  private open(master: TestMaster): Promise<void> {
    const ws = new WebSocket(`${master.url.replace(/^http/, 'ws')}/api/v1/agent`, {
      headers: { Authorization: `Bearer ${master.app.agentSecret}` },
    });
    this.ws = ws;
    return new Promise((resolve, reject) => {
      ws.on('error', reject);
      ws.on('open', () => {
        const resources: Resources = { cpus: 4, mem: 4096, disk: 10240, ports: [[31000, 32000]], ...this.opts.resources };
        this.send({
          type: 'register',
          hostname: this.opts.hostname ?? 'fake-agent',
          resources,
          attributes: this.opts.attributes ?? { rack: 'r1' },
          isolators: [],
          version: 'fake-1',
          tasks: [],
        });
      });
      ws.on('message', (raw) => {
        const msg = JSON.parse(raw.toString()) as MasterToAgent;
        if (msg.type === 'registered') {
          this.id = msg.agentId;
          this.heartbeat = setInterval(() => this.send({ type: 'heartbeat' }), Math.max(20, Math.floor(msg.heartbeatIntervalMs / 3)));
          resolve();
        } else if (msg.type === 'refused') {
          reject(new Error(msg.message));
        } else {
          this.handle(msg);
        }
      });
      ws.on('close', () => this.stopHeartbeat());
    });
  }

  private handle(msg: MasterToAgent): void {
    switch (msg.type) {
      case 'launch':
        this.launches.push(msg.task);
        this.frameworks.set(msg.task.taskId, msg.task.frameworkId);
        this.status(msg.task.taskId, 'TASK_STARTING');
        this.status(msg.task.taskId, 'TASK_RUNNING');
        return;
      case 'kill':
        this.kills.push({ taskId: msg.taskId, ...(msg.gracePeriodMs !== undefined ? { gracePeriodMs: msg.gracePeriodMs } : {}) });
        if (this.opts.autoKill !== false) this.finishKill(msg.taskId);
        return;
      case 'ack':
        this.acks.push({ taskId: msg.taskId, uuid: msg.uuid });
        return;
      default:
        return;
    }
  }

  /** Reports a task state as the executor would. */
  status(taskId: string, state: TaskState, extra: { message?: string; exitCode?: number } = {}): void {
    this.send({
      type: 'status',
      update: { uuid: uuid(), taskId, frameworkId: this.frameworks.get(taskId) ?? '', agentId: this.id, state, timestamp: Date.now(), ...extra },
    });
  }

  finishKill(taskId: string): void {
    this.status(taskId, 'TASK_KILLED');
  }

  private send(msg: AgentToMaster): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  close(): void {
    this.stopHeartbeat();
    this.ws.terminate();
  }
}
