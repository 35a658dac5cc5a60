// Shared by the fault and abuse suite (test/faults/security-*.test.ts): a master with a
// simulated agent and seeded state (an app with a running task, Metronome and Chronos jobs, an
// artifact, a viewer token), an HTTP helper that copes with streaming answers, and a
// fingerprint of everything the APIs show, so a test can prove that refused input changed nothing.

import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import type { AgentToMaster, MasterToAgent, TaskState } from '../../protocol/types.js';
import { startMaster, waitFor, type TestMaster } from '../support/cluster.js';
import type { BuildOptions } from '../../server/app.js';

export { waitFor, type TestMaster };

/** Quick by default; YAGURA_FAULTS_LONG=1 runs the long variant (more fuzz runs, bigger floods). */
export const LONG = process.env.YAGURA_FAULTS_LONG === '1';

export interface CallResult {
  status: number;
  text: string;
  body: any;
  headers: Headers;
}

export interface CallOptions {
  token?: string | undefined;
  /** A raw Authorization header (overrides token). */
  authorization?: string;
  body?: unknown;
  /** Sent as is (overrides body). */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

/**
 * One HTTP call. Streaming answers (SSE, RecordIO) are cut after their headers: the status is
 * what an auth or validation check decides.
 */
export async function call(base: string, method: string, path: string, opts: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = {};
  if (opts.authorization !== undefined) headers.authorization = opts.authorization;
  else if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let payload: string | Uint8Array | undefined = opts.raw;
  if (payload === undefined && opts.body !== undefined) payload = JSON.stringify(opts.body);
  if (payload !== undefined) headers['content-type'] = 'application/json';
  Object.assign(headers, opts.headers);
  const ac = new AbortController();
  const res = await fetch(`${base}${path}`, { method, headers, signal: ac.signal, ...(payload !== undefined ? { body: payload } : {}) });
  const type = res.headers.get('content-type') ?? '';
  if (/event-stream|recordio/.test(type) || res.headers.get('mesos-stream-id')) {
    ac.abort();
    return { status: res.status, text: '', body: undefined, headers: res.headers };
  }
  let text: string;
  if (res.headers.get('content-length') === null && res.body) {
    // a stream (operator SUBSCRIBE answers application/json without a length): its first chunk
    const reader = res.body.getReader();
    const first = await reader.read();
    ac.abort();
    text = first.value ? Buffer.from(first.value).toString('utf8') : '';
  } else {
    text = await res.text();
  }
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, text, body, headers: res.headers };
}

const uuid = () => randomBytes(16).toString('base64');

/**
 * An agent that speaks the real agent WebSocket protocol: runs every launch to RUNNING, every
 * kill to KILLED, and answers sandbox requests (browse, read, tail) with a fixed file, so that
 * an authorized /files call or tail visibly succeeds.
 */
export class FaultAgent {
  id = '';
  readonly launches: string[] = [];
  readonly received: MasterToAgent[] = [];
  private ws!: WebSocket;
  private heartbeat: NodeJS.Timeout | undefined;
  private frameworks = new Map<string, string>();

  static async connect(url: string, secret: string, hostname = '127.0.0.1'): Promise<FaultAgent> {
    const a = new FaultAgent();
    await a.open(url, secret, hostname);
    return a;
  }

  private open(url: string, secret: string, hostname: string): Promise<void> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/agent`, { headers: { Authorization: `Bearer ${secret}` } });
    this.ws = ws;
    return new Promise((resolve, reject) => {
      ws.on('error', reject);
      ws.on('open', () =>
        this.send({
          type: 'register',
          hostname,
          resources: { cpus: 8, mem: 16384, disk: 65536, ports: [[31000, 31999]] },
          attributes: { rack: 'r1' },
          isolators: [],
          version: 'fault-agent',
          tasks: [],
        }),
      );
      ws.on('message', (raw) => {
        const msg = JSON.parse(raw.toString()) as MasterToAgent;
        this.received.push(msg);
        if (msg.type === 'registered') {
          this.id = msg.agentId;
          this.heartbeat = setInterval(() => this.send({ type: 'heartbeat' }), Math.max(20, Math.floor(msg.heartbeatIntervalMs / 3)));
          resolve();
        } else if (msg.type === 'refused') reject(new Error(msg.message));
        else this.handle(msg);
      });
      ws.on('close', () => this.stopHeartbeat());
    });
  }

  private handle(msg: MasterToAgent): void {
    switch (msg.type) {
      case 'launch':
        this.launches.push(msg.task.taskId);
        this.frameworks.set(msg.task.taskId, msg.task.frameworkId);
        this.status(msg.task.taskId, 'TASK_STARTING');
        this.status(msg.task.taskId, 'TASK_RUNNING');
        return;
      case 'kill':
        this.status(msg.taskId, 'TASK_KILLED');
        return;
      case 'files.request':
        if (msg.op === 'browse') {
          this.send({ type: 'files.reply', reqId: msg.reqId, ok: true, entries: [{ path: 'stdout', size: 6, mode: '-rw-r--r--', mtime: 0, isDir: false }] });
        } else {
          this.send({ type: 'files.reply', reqId: msg.reqId, ok: true, data: Buffer.from('hello\n').toString('base64'), offset: 0, size: 6, eof: true });
        }
        return;
      case 'files.tail':
        this.send({ type: 'files.chunk', streamId: msg.streamId, data: 'hello\n', offset: 0 });
        return;
      default:
        return;
    }
  }

  status(taskId: string, state: TaskState): void {
    this.send({ type: 'status', update: { uuid: uuid(), taskId, frameworkId: this.frameworks.get(taskId) ?? '', agentId: this.id, state, timestamp: Date.now() } });
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

export interface Seeded {
  m: TestMaster;
  agent: FaultAgent;
  viewer: string;
  appId: string;
  taskId: string;
  jobId: string;
  scheduleId: string;
  chronosJob: string;
  artifact: string;
  api(method: string, path: string, opts?: CallOptions): Promise<CallResult>;
  dispose(): Promise<void>;
}

/** A master with one simulated agent and one of each kind of thing the APIs manage. */
export async function startSeeded(opts: Partial<BuildOptions> = {}): Promise<Seeded> {
  // 25 missed heartbeats (5 s): a loaded machine stalling the test's own event loop (CI runs
  // four fault files at once; 1.6 s was not always enough) must not turn the seeded agent
  // UNREACHABLE and look like a state change made by refused input
  const m = await startMaster({ master: { heartbeatIntervalMs: 200, maxMissedHeartbeats: 25, allocationIntervalMs: 50 }, servicesTickMs: 100, ...opts });
  let agent: FaultAgent | undefined;
  try {
    agent = await FaultAgent.connect(m.url, m.agentSecret);
    const api = (method: string, path: string, o: CallOptions = {}) => call(m.url, method, path, { token: m.adminToken, ...o });
    const must = async (r: Promise<CallResult>, what: string, ok = [200, 201, 204]) => {
      const res = await r;
      if (!ok.includes(res.status)) throw new Error(`seeding ${what}: ${res.status} ${res.text}`);
      return res;
    };
    const appId = '/fault/web';
    await must(api('POST', '/v2/apps', { body: { id: appId, cmd: 'sleep 3600', cpus: 0.1, mem: 32, instances: 1, labels: { tier: 'web' } } }), 'app');
    const task = await waitFor(() => m.master.listTasks().find((t) => t.labels.YAGURA_APP_ID === appId && t.state === 'TASK_RUNNING'), 30_000, 'the seeded app task');
    await waitFor(async () => (await api('GET', '/v2/deployments')).body?.length === 0, 30_000, 'the seeded deployment to finish');
    const jobId = 'fault.nightly';
    await must(api('POST', '/v1/jobs', { body: { id: jobId, description: 'seed', run: { cmd: 'echo nightly', cpus: 0.1, mem: 32 } } }), 'job');
    const scheduleId = 'nightly';
    await must(api('POST', `/v1/jobs/${jobId}/schedules`, { body: { id: scheduleId, cron: '0 3 * * *', timezone: 'UTC', enabled: true } }), 'schedule');
    const chronosJob = 'fault-chronos';
    await must(api('POST', '/v1/scheduler/iso8601', { body: { name: chronosJob, command: 'echo chronos', schedule: 'R/2030-01-01T00:00:00Z/P1D', cpus: 0.1, mem: 32 } }), 'chronos job');
    const artifact = 'seed/hello.txt';
    await must(api('PUT', `/artifacts/${artifact}`, { raw: 'hello', headers: { 'content-type': 'application/octet-stream' } }), 'artifact');
    const viewer = m.auth.createToken('viewer', 'fault viewer');
    const a = agent;
    return {
      m,
      agent: a,
      viewer,
      appId,
      taskId: task.id,
      jobId,
      scheduleId,
      chronosJob,
      artifact,
      api,
      async dispose() {
        a.close();
        await m.dispose();
      },
    };
  } catch (err) {
    agent?.close();
    await m.dispose();
    throw err;
  }
}

/** Keys whose values move on their own (clocks, heartbeats, counters of reads). */
const VOLATILE = /^(lastSeenAt|last_seen|unreachableAt|now|uptime|elapsed|start_time|elected_time|registered_time|reregistered_time|timestamp|lastHeartbeat|nextRunAt|next_run_at|updatedAt|delayedUntil|overdue|backOffUntil)$/i;

function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) if (!VOLATILE.test(k)) out[k] = normalize((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/**
 * Everything the APIs show about the cluster, without the fields that move by themselves.
 * Equal before and after a batch of refused calls means the calls changed nothing.
 */
export async function fingerprint(s: { m: TestMaster }): Promise<Record<string, unknown>> {
  const get = async (path: string, body?: unknown) => {
    const r = await call(s.m.url, body === undefined ? 'GET' : 'POST', path, { token: s.m.adminToken, ...(body !== undefined ? { body } : {}) });
    return normalize(r.body);
  };
  return {
    apps: await get('/v2/apps?embed=apps.tasks'),
    groups: await get('/v2/groups'),
    deployments: await get('/v2/deployments'),
    jobs: await get('/v1/jobs?embed=schedules&embed=activeRuns&embed=history'),
    chronos: await get('/v1/scheduler/jobs'),
    tasks: await get('/api/v1/tasks'),
    agents: await get('/api/v1/agents'),
    tokens: await get('/api/v1/tokens'),
    // the catalog's artifacts are files of the checkout, mounted read-only: only the store's own count
    artifacts: ((await get('/artifacts')) as { artifacts?: Array<{ path: string }> }).artifacts?.filter((a) => !a.path.startsWith('catalog/')),
    state: await get('/api/v1', { type: 'GET_STATE' }),
    weights: await get('/api/v1', { type: 'GET_WEIGHTS' }),
  };
}

/** The first differing path between two fingerprints, for a readable failure. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}/${k}`);
      if (d) return d;
    }
  }
  return `${path}: ${JSON.stringify(a)?.slice(0, 300)} → ${JSON.stringify(b)?.slice(0, 300)}`;
}

/** A WebSocket client that records messages and its close code. */
export class WsProbe {
  readonly ws: WebSocket;
  readonly messages: any[] = [];
  closeCode: number | undefined;
  /** The HTTP status of a refused upgrade. */
  refusedWith: number | undefined;
  private settled: Promise<'open' | 'refused' | 'error'>;

  constructor(url: string, opts: { protocols?: string[]; headers?: Record<string, string>; origin?: string } = {}) {
    this.ws = new WebSocket(url.replace(/^http/, 'ws'), opts.protocols ?? [], { headers: opts.headers ?? {}, ...(opts.origin ? { origin: opts.origin } : {}) });
    this.settled = new Promise((resolve) => {
      this.ws.once('open', () => resolve('open'));
      this.ws.once('unexpected-response', (_req, res) => {
        this.refusedWith = res.statusCode;
        res.resume();
        resolve('refused');
        this.ws.terminate();
      });
      this.ws.once('error', () => resolve('error'));
    });
    this.ws.on('message', (raw) => {
      try {
        this.messages.push(JSON.parse(raw.toString()));
      } catch {
        this.messages.push(raw.toString());
      }
    });
    this.ws.on('close', (code) => (this.closeCode = code));
    this.ws.on('error', () => undefined);
  }

  /** 'open' once upgraded; 'refused' with refusedWith set otherwise. */
  opened(): Promise<'open' | 'refused' | 'error'> {
    return this.settled;
  }

  send(data: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(typeof data === 'string' || data instanceof Uint8Array ? data : JSON.stringify(data));
  }

  /** Resolves once a message matches, or the socket closed (then undefined). */
  async until(pred: (m: any) => boolean, timeoutMs = 20_000): Promise<any> {
    return waitFor(() => this.messages.find(pred) ?? (this.closeCode !== undefined ? { closed: this.closeCode } : undefined), timeoutMs, 'a message or close').then((v) =>
      v && typeof v === 'object' && 'closed' in v && !this.messages.find(pred) ? undefined : v,
    );
  }

  async closed(timeoutMs = 20_000): Promise<number> {
    return waitFor(() => this.closeCode, timeoutMs, 'the socket to close');
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Prints a scenario's figures so they show in the test output and the CI log. */
export function figures(line: string): void {
  process.stdout.write(`${line}\n`);
}
