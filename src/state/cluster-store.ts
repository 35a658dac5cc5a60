import { CLOSE } from '../../protocol/types.js';
import type { CompactEvents, StreamClientMessage, StreamEvent, StreamServerMessage, StreamSnapshot } from '../../protocol/types.js';
import { expandCompactTasks } from '../../protocol/compact-tasks.js';
import { EMPTY_CLUSTER, applyEvents, decodeCompact, fromSnapshot } from './cluster-state.js';
import type { ClusterState } from './cluster-state.js';
import { Writable } from './readable.js';
import type { Readable } from './readable.js';
import type { TokenStore } from './token.js';

/**
 * - idle: no token, nothing to do until someone logs in
 * - connecting: first attempt of this session
 * - live: the master answered; state is current
 * - reconnecting: the link dropped; retrying with backoff, showing the last known state
 * - unauthorized: the master refused the token; waiting for a new one
 */
export type ConnectionStatus = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'unauthorized';

export interface ConnectionInfo {
  readonly status: ConnectionStatus;
  /** Failed attempts since the link was last live. */
  readonly attempt: number;
  /** When the next attempt is due (ms since epoch), while reconnecting. */
  readonly retryAt?: number;
  /** Why the last attempt failed or what the master complained about, for the user. */
  readonly message?: string;
}

/** The part of WebSocket the store uses, so tests can drive it without a server. */
export interface StreamSocket {
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface ClusterStoreOptions {
  /** ws: or wss: URL of `/api/v1/stream`. */
  url: string;
  tokens: TokenStore;
  createSocket?: (url: string) => StreamSocket;
  /** Delay before retry number `attempt` (1-based). */
  backoff?: (attempt: number) => number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  now?: () => number;
}

/** Exponential with jitter, capped at 30 s: spreads a fleet of dashboards after a master restart. */
export function defaultBackoff(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Same origin as the page; wss: when the page came over https. */
export function streamUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/v1/stream`;
}

const NORMAL_CLOSURE = 1000;
/**
 * A cluster this big (tasks and agents) applies its events together, at most every
 * LARGE_APPLY_MS: each application gives new versions of what is derived from 100,000 tasks (the
 * sorted task list, counts), and doing that 60 times a second is work and garbage for nothing a
 * person can follow. Smaller clusters apply every message at once.
 */
export const LARGE_CLUSTER = 20_000;
export const LARGE_APPLY_MS = 250;
/** Private-range code for "the client chose to start over"; never sent by the server. */
const CLIENT_RESYNC = 4000;

/**
 * The dashboard's one link to the master: keeps `cluster` current from the stream and
 * `connection` truthful about the link. Views read both through contexts.
 */
export class ClusterStore {
  readonly #cluster = new Writable<ClusterState>(EMPTY_CLUSTER);
  readonly #connection = new Writable<ConnectionInfo>({ status: 'idle', attempt: 0 });
  readonly cluster: Readable<ClusterState> = this.#cluster;
  readonly connection: Readable<ConnectionInfo> = this.#connection;

  readonly #options: Required<Omit<ClusterStoreOptions, 'tokens' | 'url'>>;
  readonly #tokens: TokenStore;
  readonly #url: string;
  #socket: StreamSocket | null = null;
  #timer: unknown = null;
  /** Events received and not applied yet (large clusters), in order. */
  #pending: StreamEvent[] = [];
  #applyTimer: unknown = null;
  #running = false;

  constructor(options: ClusterStoreOptions) {
    this.#url = options.url;
    this.#tokens = options.tokens;
    this.#options = {
      createSocket: options.createSocket ?? ((url) => new WebSocket(url)),
      backoff: options.backoff ?? ((attempt) => defaultBackoff(attempt)),
      setTimer: options.setTimer ?? ((callback, ms) => setTimeout(callback, ms)),
      clearTimer: options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)),
      now: options.now ?? Date.now,
    };
  }

  get token(): string | null {
    return this.#tokens.get();
  }

  /** Connects if there is a token; otherwise waits in `idle` for `login`. */
  start(): void {
    this.#running = true;
    if (this.#tokens.get()) this.#connect('connecting');
  }

  /** Closes the link and stops retrying; state is kept for a later `start`. */
  stop(): void {
    this.#running = false;
    this.#cancelTimer();
    this.#drop(NORMAL_CLOSURE, 'stopped');
  }

  login(token: string): void {
    const trimmed = token.trim();
    if (!trimmed) return;
    this.#tokens.set(trimmed);
    this.#running = true;
    this.#cancelTimer();
    this.#drop(NORMAL_CLOSURE, 'new token');
    this.#connection.set({ status: 'connecting', attempt: 0 });
    this.#connect('connecting');
  }

  /** Forgets the token and what it showed: the next person at this screen sees nothing. */
  logout(): void {
    this.#tokens.clear();
    this.#cancelTimer();
    this.#drop(NORMAL_CLOSURE, 'logout');
    this.#cluster.set(EMPTY_CLUSTER);
    this.#connection.set({ status: 'idle', attempt: 0 });
  }

  /** Skips the backoff wait, e.g. when the browser reports it is online again. */
  retryNow(): void {
    if (this.#connection.value.status !== 'reconnecting' || this.#socket) return;
    this.#cancelTimer();
    this.#connect('reconnecting');
  }

  /**
   * Shows a state kept from an earlier visit (offline-cache.ts) until the master answers. Its
   * epoch and sequence number go into the next hello, so the master sends only what was missed.
   * Ignored (false) once the master's own state arrived, or when nobody is signed in.
   */
  restore(state: ClusterState): boolean {
    if (this.#cluster.value.loaded || !this.#tokens.get()) return false;
    this.#cluster.set({ ...state, loaded: true });
    return true;
  }

  /** For the REST helper: the master refused the token on a command. */
  unauthorized(message = 'The master refused the access token.'): void {
    this.#tokens.clear();
    this.#cancelTimer();
    this.#drop(NORMAL_CLOSURE, 'unauthorized');
    this.#connection.set({ status: 'unauthorized', attempt: 0, message });
  }

  #connect(status: 'connecting' | 'reconnecting'): void {
    const token = this.#tokens.get();
    if (!token) {
      this.#connection.set({ status: 'idle', attempt: 0 });
      return;
    }
    const previous = this.#connection.value;
    // While reconnecting, keep saying why the link dropped; a fresh start has nothing to explain.
    this.#connection.set({
      status,
      attempt: previous.attempt,
      message: status === 'reconnecting' ? previous.message : undefined,
    });

    const socket = this.#options.createSocket(this.#url);
    this.#socket = socket;
    socket.onopen = () => {
      if (socket !== this.#socket) return;
      const { epoch, seq, loaded } = this.#cluster.value;
      // Resuming lets the master send only what was missed instead of the whole cluster again.
      // `compact`: events come as short arrays (protocol CompactEvents), a fifth of the bytes.
      const hello: StreamClientMessage = loaded ? { type: 'hello', token, epoch, seq, compact: true } : { type: 'hello', token, compact: true };
      socket.send(JSON.stringify(hello));
    };
    socket.onmessage = (event) => {
      if (socket !== this.#socket) return;
      this.#receive(event.data);
    };
    socket.onclose = (event) => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      this.#applyPending();
      this.#closed(event.code, event.reason);
    };
    // An error is always followed by close, which carries the code; nothing to do twice.
    socket.onerror = () => {};
  }

  #receive(data: unknown): void {
    let message: StreamServerMessage | CompactEvents;
    try {
      message = JSON.parse(String(data)) as StreamServerMessage | CompactEvents;
    } catch {
      return;
    }
    const cluster = this.#cluster.value;
    if (Array.isArray(message)) {
      // A compact batch belongs to the epoch this connection began with (snapshot or resume).
      let events: StreamEvent[];
      try {
        events = decodeCompact(message);
      } catch {
        return this.#resync();
      }
      if (!cluster.loaded) return;
      this.#apply(events);
      this.#live();
      return;
    }
    switch (message.type) {
      case 'snapshot': {
        let snapshot: StreamSnapshot;
        if ('compactTasks' in message) {
          const { type: _type, compactTasks, ...rest } = message;
          try {
            snapshot = { ...rest, tasks: expandCompactTasks(compactTasks) };
          } catch {
            return this.#resync();
          }
        } else {
          const { type: _type, ...rest } = message;
          snapshot = rest;
        }
        this.#discardPending();
        this.#cluster.set(fromSnapshot(snapshot));
        this.#live();
        break;
      }
      case 'events':
        if (message.epoch !== cluster.epoch) return this.#resync();
        this.#apply(message.events);
        this.#live();
        break;
      case 'heartbeat':
        if (cluster.loaded && message.epoch !== cluster.epoch) return this.#resync();
        if (cluster.loaded) this.#live();
        break;
      case 'error':
        this.#connection.set({ ...this.#connection.value, message: message.message });
        break;
    }
  }

  #live(): void {
    if (this.#connection.value.status !== 'live') this.#connection.set({ status: 'live', attempt: 0 });
  }

  /**
   * The master restarted (new epoch): our sequence numbers mean nothing to it. Reconnect
   * without resume so it sends a fresh snapshot; the old state stays on screen meanwhile.
   */
  #resync(): void {
    this.#cluster.set({ ...this.#cluster.value, loaded: false });
    this.#drop(CLIENT_RESYNC, 'resync');
    this.#connect('reconnecting');
  }

  #closed(code: number, reason: string): void {
    if (code === CLOSE.UNAUTHORIZED) {
      this.#tokens.clear();
      this.#connection.set({
        status: 'unauthorized',
        attempt: 0,
        message: reason || 'The master refused the access token.',
      });
      return;
    }
    if (code === CLOSE.FORBIDDEN) {
      // The token is valid but may not watch the cluster; retrying would only repeat that.
      this.#connection.set({
        status: 'unauthorized',
        attempt: 0,
        message: reason || 'This token may not view the cluster.',
      });
      return;
    }
    if (!this.#running || !this.#tokens.get()) return;
    const attempt = this.#connection.value.attempt + 1;
    const delay = this.#options.backoff(attempt);
    this.#connection.set({
      status: 'reconnecting',
      attempt,
      retryAt: this.#options.now() + delay,
      message: reason || undefined,
    });
    this.#timer = this.#options.setTimer(() => {
      this.#timer = null;
      this.#connect('reconnecting');
    }, delay);
  }

  /** Applies events now, or (large clusters) with the others of the next LARGE_APPLY_MS. */
  #apply(events: readonly StreamEvent[]): void {
    const cluster = this.#cluster.value;
    if (this.#pending.length === 0 && cluster.tasks.size + cluster.agents.size < LARGE_CLUSTER) {
      this.#cluster.set(applyEvents(cluster, events));
      return;
    }
    for (const event of events) this.#pending.push(event);
    this.#applyTimer ??= this.#options.setTimer(() => {
      this.#applyTimer = null;
      this.#applyPending();
    }, LARGE_APPLY_MS);
  }

  #applyPending(): void {
    if (this.#applyTimer !== null) {
      this.#options.clearTimer(this.#applyTimer);
      this.#applyTimer = null;
    }
    if (this.#pending.length === 0) return;
    const events = this.#pending;
    this.#pending = [];
    this.#cluster.set(applyEvents(this.#cluster.value, events));
  }

  #discardPending(): void {
    if (this.#applyTimer !== null) this.#options.clearTimer(this.#applyTimer);
    this.#applyTimer = null;
    this.#pending = [];
  }

  #drop(code: number, reason: string): void {
    // what arrived is shown (and resumed from) even though the link goes
    this.#applyPending();
    const socket = this.#socket;
    if (!socket) return;
    this.#socket = null;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close(code, reason);
    } catch {
      // already closing
    }
  }

  #cancelTimer(): void {
    if (this.#timer !== null) {
      this.#options.clearTimer(this.#timer);
      this.#timer = null;
    }
  }
}
