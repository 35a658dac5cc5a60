// A small Mesos v1 HTTP scheduler/operator client, written the way an external framework
// library is: it knows only HTTP, JSON and RecordIO, and imports nothing from the server.

import http from 'node:http';

export type MesosEvent = { type: string } & Record<string, any>;

/** Splits a RecordIO byte stream (`<length>\n<bytes>` …) into records, across any chunking. */
export class RecordIOParser {
  private buf: Buffer = Buffer.alloc(0);
  private need: number | undefined;

  /** Feeds bytes; returns every record completed by them (as UTF-8 strings). */
  push(chunk: Uint8Array): string[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    const out: string[] = [];
    for (;;) {
      if (this.need === undefined) {
        const nl = this.buf.indexOf(0x0a);
        if (nl < 0) {
          if (this.buf.length > 20) throw new Error('RecordIO: record length line too long');
          return out;
        }
        const line = this.buf.subarray(0, nl).toString('ascii');
        if (!/^\d+$/.test(line)) throw new Error(`RecordIO: bad record length ${JSON.stringify(line)}`);
        this.need = Number(line);
        this.buf = this.buf.subarray(nl + 1);
      }
      if (this.buf.length < this.need) return out;
      out.push(this.buf.subarray(0, this.need).toString('utf8'));
      this.buf = this.buf.subarray(this.need);
      this.need = undefined;
    }
  }

  /** Bytes held for an incomplete record. */
  get pending(): number {
    return this.buf.length;
  }
}

export class MesosHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: any,
  ) {
    super(`HTTP ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
  }
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
  text: string;
}

/**
 * One request on its own connection (no pooled sockets are left behind for tests). A response
 * that does not complete within `timeoutMs` (e.g. a stream by mistake) rejects instead of hanging.
 */
export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${opts.method ?? 'GET'} ${url}: no complete response within ${opts.timeoutMs ?? 10_000} ms`));
    }, opts.timeoutMs ?? 10_000);
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: any = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text
        }
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(opts.body);
  });
}

/** A RecordIO event stream over one long-lived HTTP response, with a queue to await events on. */
export class EventStream {
  /** Every event in arrival order. */
  readonly received: MesosEvent[] = [];
  readonly ended: Promise<void>;
  private unclaimed: MesosEvent[] = [];
  private waiters: Array<{ match: (e: MesosEvent) => boolean; resolve: (e: MesosEvent) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  private done = false;
  private endError: Error | undefined;
  private listeners: Array<(e: MesosEvent) => void> = [];

  private constructor(
    private readonly req: http.ClientRequest,
    readonly res: http.IncomingMessage,
  ) {
    const parser = new RecordIOParser();
    let finish!: () => void;
    this.ended = new Promise((r) => (finish = r));
    res.on('data', (chunk: Buffer) => {
      let records: string[];
      try {
        records = parser.push(chunk);
      } catch (err) {
        this.close();
        this.fail(err as Error);
        return;
      }
      for (const rec of records) this.deliver(JSON.parse(rec) as MesosEvent);
    });
    const end = () => {
      if (this.done) return;
      this.done = true;
      this.fail(new Error('the event stream ended'));
      finish();
    };
    res.on('end', end);
    res.on('close', end);
    res.on('error', end);
  }

  /** POSTs `body` and resolves once a 200 streaming response starts; anything else rejects. */
  static open(url: string, body: unknown, headers: Record<string, string> = {}): Promise<EventStream> {
    return new Promise((resolve, reject) => {
      const req = http.request(url, {
        method: 'POST',
        agent: false,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
      });
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: any = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // keep the text
            }
            reject(new MesosHttpError(res.statusCode ?? 0, parsed));
          });
          return;
        }
        resolve(new EventStream(req, res));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }

  get isEnded(): boolean {
    return this.done;
  }

  /** Called for every event as it arrives (before anyone awaits it). */
  onEvent(fn: (e: MesosEvent) => void): void {
    this.listeners.push(fn);
  }

  /**
   * The first not-yet-claimed event of `type` matching `predicate`, waiting up to `timeoutMs`.
   * Each event is handed out once; events skipped over stay available to later calls.
   */
  next(type: string, predicate: (e: MesosEvent) => boolean = () => true, timeoutMs = 5000): Promise<MesosEvent> {
    const match = (e: MesosEvent) => e.type === type && predicate(e);
    const i = this.unclaimed.findIndex(match);
    if (i >= 0) return Promise.resolve(this.unclaimed.splice(i, 1)[0]!);
    if (this.done) return Promise.reject(new Error(`stream ended before a ${type} event; received: ${this.summary()}`));
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`no ${type} event within ${timeoutMs} ms; received: ${this.summary()}`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Events of `type` received so far, claimed or not. */
  all(type: string): MesosEvent[] {
    return this.received.filter((e) => e.type === type);
  }

  /** Stops reading: the server sees the connection close. */
  close(): void {
    this.req.destroy();
    this.res.destroy();
  }

  private deliver(e: MesosEvent): void {
    this.received.push(e);
    for (const l of this.listeners) l(e);
    const w = this.waiters.find((x) => x.match(e));
    if (w) {
      clearTimeout(w.timer);
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(e);
      return;
    }
    this.unclaimed.push(e);
  }

  private fail(err: Error): void {
    this.endError ??= err;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`${err.message} before the awaited event; received: ${this.summary()}`));
    }
  }

  private summary(): string {
    const types = this.received.map((e) => e.type).filter((t) => t !== 'HEARTBEAT');
    return `[${types.join(', ')}] + ${this.received.length - types.length} heartbeats`;
  }
}

// ---------------------------------------------------------------------------------------------

export interface FrameworkInfo {
  user: string;
  name: string;
  id?: { value: string };
  failover_timeout?: number;
  roles?: string[];
  role?: string;
  capabilities?: Array<{ type: string }>;
  principal?: string;
  hostname?: string;
  webui_url?: string;
  [k: string]: unknown;
}

export interface ClientOptions {
  /** Base URL of the master, e.g. http://127.0.0.1:5050 */
  master: string;
  token?: string;
  /** Acknowledge every update that carries a uuid as soon as it arrives, as libraries do. */
  autoAck?: boolean;
  force?: boolean;
}

export type TaskInfo = Record<string, any>;

/** A subscribed Mesos scheduler. */
export class SchedulerClient {
  readonly frameworkId: string;
  readonly streamId: string;
  readonly heartbeatIntervalSeconds: number;
  readonly subscribed: MesosEvent;

  private constructor(
    private readonly opts: ClientOptions,
    readonly stream: EventStream,
    subscribed: MesosEvent,
  ) {
    this.subscribed = subscribed;
    this.frameworkId = subscribed.subscribed.framework_id.value;
    this.heartbeatIntervalSeconds = subscribed.subscribed.heartbeat_interval_seconds;
    this.streamId = String(stream.res.headers['mesos-stream-id'] ?? '');
    if (opts.autoAck) {
      stream.onEvent((e) => {
        const s = e.type === 'UPDATE' ? e.update.status : undefined;
        if (s?.uuid) void this.acknowledge(s).catch(() => {});
      });
    }
  }

  static async subscribe(opts: ClientOptions, frameworkInfo: FrameworkInfo): Promise<SchedulerClient> {
    const call: Record<string, unknown> = { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo, ...(opts.force ? { force: true } : {}) } };
    if (frameworkInfo.id) call.framework_id = frameworkInfo.id;
    const stream = await EventStream.open(`${opts.master}/api/v1/scheduler`, call, authHeaders(opts.token));
    const first = await stream.next('SUBSCRIBED');
    return new SchedulerClient(opts, stream, first);
  }

  next(type: string, predicate?: (e: MesosEvent) => boolean, timeoutMs?: number): Promise<MesosEvent> {
    return this.stream.next(type, predicate, timeoutMs);
  }

  /** The next OFFERS event's offers (optionally only those of one agent). */
  async nextOffers(agentId?: string, timeoutMs?: number): Promise<any[]> {
    const e = await this.next('OFFERS', (ev) => !agentId || ev.offers.offers.some((o: any) => o.agent_id.value === agentId), timeoutMs);
    return (e.offers.offers as any[]).filter((o) => !agentId || o.agent_id.value === agentId);
  }

  /** Reads OFFERS events until it has an offer of each of the agents; returns one per agent, in order. */
  async offersOf(agentIds: string[], timeoutMs?: number): Promise<any[]> {
    const found = new Map<string, any>();
    while (agentIds.some((a) => !found.has(a))) {
      const e = await this.next('OFFERS', (ev) => ev.offers.offers.some((o: any) => agentIds.includes(o.agent_id.value)), timeoutMs);
      for (const o of e.offers.offers) if (agentIds.includes(o.agent_id.value) && !found.has(o.agent_id.value)) found.set(o.agent_id.value, o);
    }
    return agentIds.map((a) => found.get(a));
  }

  /** The next UPDATE for a task, optionally in a given state. Returns the TaskStatus. */
  async nextUpdate(taskId: string, state?: string, timeoutMs?: number): Promise<any> {
    const e = await this.next('UPDATE', (ev) => ev.update.status.task_id.value === taskId && (!state || ev.update.status.state === state), timeoutMs);
    return e.update.status;
  }

  /** Sends a call; returns the raw result (callers assert the status). */
  call(type: string, body: Record<string, unknown> = {}, extraHeaders: Record<string, string> = {}): Promise<HttpResult> {
    return request(`${this.opts.master}/api/v1/scheduler`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'Mesos-Stream-Id': this.streamId,
        ...authHeaders(this.opts.token),
        ...extraHeaders,
      },
      body: JSON.stringify({ framework_id: { value: this.frameworkId }, type, ...body }),
    });
  }

  /** Sends a call that must be accepted (202), else throws with the answer. */
  async must(type: string, body: Record<string, unknown> = {}): Promise<void> {
    const r = await this.call(type, body);
    if (r.status !== 202) throw new MesosHttpError(r.status, r.body);
  }

  accept(offerIds: string[], taskInfos: TaskInfo[], refuseSeconds?: number): Promise<HttpResult> {
    return this.call('ACCEPT', {
      accept: {
        offer_ids: offerIds.map((value) => ({ value })),
        operations: taskInfos.length ? [{ type: 'LAUNCH', launch: { task_infos: taskInfos } }] : [],
        ...(refuseSeconds !== undefined ? { filters: { refuse_seconds: refuseSeconds } } : {}),
      },
    });
  }

  decline(offerIds: string[], refuseSeconds?: number): Promise<HttpResult> {
    return this.call('DECLINE', {
      decline: { offer_ids: offerIds.map((value) => ({ value })), ...(refuseSeconds !== undefined ? { filters: { refuse_seconds: refuseSeconds } } : {}) },
    });
  }

  revive(): Promise<HttpResult> {
    return this.call('REVIVE');
  }

  suppress(): Promise<HttpResult> {
    return this.call('SUPPRESS');
  }

  kill(taskId: string, agentId?: string, gracePeriodNanos?: number): Promise<HttpResult> {
    return this.call('KILL', {
      kill: {
        task_id: { value: taskId },
        ...(agentId ? { agent_id: { value: agentId } } : {}),
        ...(gracePeriodNanos !== undefined ? { kill_policy: { grace_period: { nanoseconds: gracePeriodNanos } } } : {}),
      },
    });
  }

  /** Acknowledges a TaskStatus as received in an UPDATE. */
  acknowledge(status: { task_id: { value: string }; agent_id?: { value: string }; uuid?: string }): Promise<HttpResult> {
    return this.call('ACKNOWLEDGE', {
      acknowledge: { agent_id: status.agent_id ?? { value: '' }, task_id: status.task_id, uuid: status.uuid },
    });
  }

  reconcile(tasks: Array<{ taskId: string; agentId?: string }> = []): Promise<HttpResult> {
    return this.call('RECONCILE', {
      reconcile: { tasks: tasks.map((t) => ({ task_id: { value: t.taskId }, ...(t.agentId ? { agent_id: { value: t.agentId } } : {}) })) },
    });
  }

  teardown(): Promise<HttpResult> {
    return this.call('TEARDOWN');
  }

  /** Drops the subscription connection, as a crashed scheduler would. */
  close(): void {
    this.stream.close();
  }
}

/** A task that runs a shell command on the offer's agent. */
export function commandTask(offer: any, taskId: string, opts: { cpus?: number; mem?: number; command?: string; labels?: Record<string, string>; ports?: Array<[number, number]> } = {}): TaskInfo {
  const resources: any[] = [
    { name: 'cpus', type: 'SCALAR', scalar: { value: opts.cpus ?? 0.1 } },
    { name: 'mem', type: 'SCALAR', scalar: { value: opts.mem ?? 32 } },
  ];
  if (opts.ports?.length) {
    resources.push({ name: 'ports', type: 'RANGES', ranges: { range: opts.ports.map(([begin, end]) => ({ begin, end })) } });
  }
  return {
    name: taskId,
    task_id: { value: taskId },
    agent_id: offer.agent_id,
    resources,
    command: { value: opts.command ?? 'sleep 1000', shell: true },
    ...(opts.labels ? { labels: { labels: Object.entries(opts.labels).map(([key, value]) => ({ key, value })) } } : {}),
  };
}

/** Operator API: one call, JSON in and out. */
export function operatorCall(master: string, token: string | undefined, body: Record<string, unknown>): Promise<HttpResult> {
  return request(`${master}/api/v1`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...authHeaders(token) },
    body: JSON.stringify(body),
  });
}

/** Operator API SUBSCRIBE. */
export function operatorSubscribe(master: string, token: string | undefined): Promise<EventStream> {
  return EventStream.open(`${master}/api/v1`, { type: 'SUBSCRIBE' }, authHeaders(token));
}

/** The scalar value of a named resource in a Mesos resource list. */
export function scalar(resources: any[], name: string): number {
  return resources.filter((r) => r.name === name).reduce((sum, r) => sum + (r.scalar?.value ?? 0), 0);
}

function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}
