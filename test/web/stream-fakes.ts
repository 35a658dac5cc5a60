import type { CompactEvents, StreamClientMessage, StreamServerMessage } from '../../protocol/types.js';
import type { StreamSocket } from '../../src/state/cluster-store.js';
import type { TokenStore } from '../../src/state/token.js';

/** A WebSocket stand-in the test drives by hand: open it, push server messages, close it. */
export class FakeSocket implements StreamSocket {
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly sent: StreamClientMessage[] = [];
  closedByClient: { code?: number; reason?: string } | undefined;

  constructor(readonly url: string) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data) as StreamClientMessage);
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
  }

  open(): void {
    this.onopen?.(new Event('open'));
  }

  /** A message from the server: an object, or a compact batch of events (an array). */
  receive(message: StreamServerMessage | CompactEvents): void {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(message) }));
  }

  serverClose(code: number, reason = ''): void {
    this.onclose?.(new CloseEvent('close', { code, reason }));
  }
}

/** Timers the test fires itself: reconnection is checked without waiting on a clock. */
export class ManualTimers {
  readonly pending = new Map<number, { callback: () => void; ms: number }>();
  #next = 1;

  set = (callback: () => void, ms: number): unknown => {
    const id = this.#next++;
    this.pending.set(id, { callback, ms });
    return id;
  };

  clear = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };

  /** Runs every pending timer once. */
  fire(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const timer of due) timer.callback();
  }
}

export function memoryTokens(initial: string | null = null): TokenStore & { value: string | null } {
  const store = {
    value: initial,
    get: () => store.value,
    set: (token: string) => {
      store.value = token;
    },
    clear: () => {
      store.value = null;
    },
  };
  return store;
}
