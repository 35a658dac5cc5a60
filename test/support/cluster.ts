// In-process master for server tests: build() on port 0 in a temporary data directory.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { build, type BuildOptions, type Yagura } from '../../server/app.js';
import type { AgentToMaster, MasterToAgent, Resources, StreamServerMessage } from '../../protocol/types.js';
import type { AgentConnection } from '../../server/master/types.js';

export interface TestMaster extends Yagura {
  url: string;
  /** Close and remove the data directory. */
  dispose(): Promise<void>;
}

export async function startMaster(opts: Partial<BuildOptions> = {}): Promise<TestMaster> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'yagura-test-'));
  const app = await build({ port: 0, ...opts, dataDir });
  const url = await app.listen();
  return Object.assign(app, {
    url,
    async dispose() {
      await app.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

export const smallResources = (): Resources => ({ cpus: 4, mem: 4096, disk: 10_000, ports: [[31000, 31100]] });

/** An agent connection that lives inside the test process; records what the master sends. */
export function fakeAgentConnection(): AgentConnection & { sent: MasterToAgent[]; closed?: { code: number; reason: string } } {
  const conn = {
    sent: [] as MasterToAgent[],
    closed: undefined as { code: number; reason: string } | undefined,
    send(msg: MasterToAgent) {
      conn.sent.push(msg);
    },
    close(code: number, reason: string) {
      conn.closed = { code, reason };
    },
  };
  return conn;
}

export function registerMessage(hostname: string, extra: Partial<Extract<AgentToMaster, { type: 'register' }>> = {}): Extract<AgentToMaster, { type: 'register' }> {
  return { type: 'register', hostname, resources: smallResources(), attributes: {}, isolators: [], version: 'test', tasks: [], ...extra };
}

/** A dashboard-stream client that queues what it receives. */
export class StreamClient {
  readonly ws: WebSocket;
  readonly messages: StreamServerMessage[] = [];
  closeCode: number | undefined;
  private waiters: Array<() => void> = [];

  constructor(url: string, opts: { protocols?: string[]; origin?: string } = {}) {
    this.ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/stream`, opts.protocols ?? [], opts.origin ? { origin: opts.origin } : {});
    this.ws.on('message', (raw) => {
      this.messages.push(JSON.parse(raw.toString()) as StreamServerMessage);
      this.wake();
    });
    this.ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
    this.ws.on('error', () => this.wake());
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** Wait until `pred` holds over everything received so far. */
  async until<T>(pred: (msgs: StreamServerMessage[]) => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred(this.messages);
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out; received ${JSON.stringify(this.messages).slice(0, 500)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async closed(timeoutMs = 5000): Promise<number> {
    await this.until(() => this.closeCode !== undefined, timeoutMs);
    return this.closeCode!;
  }

  close(): void {
    this.ws.terminate();
  }
}

export async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
