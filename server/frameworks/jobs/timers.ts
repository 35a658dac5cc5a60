// Time for the jobs framework: an injectable clock, and one queue of everything that becomes
// due (schedule slots, retry backoffs, run deadlines). The queue keeps a binary min-heap and
// arms exactly one timer, for its earliest entry: 10,000 armed schedules cost one pending timer
// and O(log n) per change, not 10,000 timers.

export interface JobsClock {
  now(): number;
  /** Call `fn` once, after about `ms` milliseconds. Returns a handle for `clearTimer`. */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Node's longest setTimeout; a later due time is reached in hops. */
const MAX_DELAY = 2 ** 31 - 1;

export const realClock: JobsClock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    // the HTTP server keeps a master alive; a pending job timer must not keep a test alive
    t.unref();
    return t;
  },
  clearTimer(h) {
    clearTimeout(h as NodeJS.Timeout);
  },
};

/** A clock that only moves when told to: tests of slot logic run minutes in microseconds. */
export class ManualClock implements JobsClock {
  private t: number;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;

  constructor(start: number) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Pending timers (what a test can assert "one timer, not one per schedule" on). */
  get pending(): number {
    return this.timers.size;
  }

  /** Move to `to`, firing every timer that falls due on the way, in order. */
  advanceTo(to: number): void {
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= to && (!first || e[1].at < first[1].at)) first = e;
      if (!first) break;
      this.timers.delete(first[0]);
      this.t = Math.max(this.t, first[1].at);
      first[1].fn();
    }
    this.t = Math.max(this.t, to);
  }

  advance(ms: number): void {
    this.advanceTo(this.t + ms);
  }
}

interface Entry {
  at: number;
  key: string;
  /** Matches `live` only while the entry is current; replaced entries are dropped when popped. */
  gen: number;
}

/**
 * Keys with due times. `set` replaces a key's time, `delete` forgets it; when a time is reached
 * `onDue(key, at)` is called (late by the timer's own lateness only, never early).
 */
export class DueQueue {
  private heap: Entry[] = [];
  private live = new Map<string, { at: number; gen: number }>();
  private gen = 0;
  private timer: unknown;
  private immediate: NodeJS.Immediate | undefined;
  private armedFor: number | undefined;
  private firing = false;
  private stopped = false;

  constructor(
    private readonly clock: JobsClock,
    private readonly onDue: (key: string, at: number) => void,
  ) {}

  get size(): number {
    return this.live.size;
  }

  at(key: string): number | undefined {
    return this.live.get(key)?.at;
  }

  set(key: string, at: number): void {
    const gen = ++this.gen;
    this.live.set(key, { at, gen });
    this.push({ at, key, gen });
    this.compactIfStale();
    this.arm();
  }

  delete(key: string): void {
    if (this.live.delete(key)) this.compactIfStale();
    // the timer may now be early for the new head: it re-arms when it fires
  }

  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.armedFor = undefined;
  }

  private arm(): void {
    if (this.firing || this.stopped) return;
    const head = this.peekLive();
    if (!head) return this.disarm();
    if (this.armedFor !== undefined && this.armedFor <= head.at) return;
    this.disarm();
    this.armedFor = head.at;
    const delay = head.at - this.clock.now();
    if (delay > 0 && delay < 1) {
      // timers count whole milliseconds and may fire up to one early: the last fraction is
      // waited out in event-loop turns, so a slot is neither early nor a millisecond late
      this.immediate = setImmediate(() => this.fire());
      return;
    }
    this.timer = this.clock.setTimer(() => this.fire(), Math.min(MAX_DELAY, Math.max(0, delay)));
  }

  private fire(): void {
    this.timer = undefined;
    this.immediate = undefined;
    this.armedFor = undefined;
    if (this.stopped) return;
    this.firing = true;
    try {
      const now = this.clock.now();
      for (;;) {
        const head = this.peekLive();
        if (!head || head.at > now) break;
        this.pop();
        this.live.delete(head.key);
        try {
          this.onDue(head.key, head.at);
        } catch {
          // one failing entry must not stop the others; the caller logs its own errors
        }
      }
    } finally {
      this.firing = false;
    }
    this.arm();
  }

  /** The earliest current entry; stale ones on top are discarded on the way. */
  private peekLive(): Entry | undefined {
    for (;;) {
      const top = this.heap[0];
      if (!top) return undefined;
      if (this.live.get(top.key)?.gen === top.gen) return top;
      this.pop();
    }
  }

  private compactIfStale(): void {
    if (this.heap.length <= 64 || this.heap.length <= this.live.size * 2) return;
    this.heap = this.heap.filter((e) => this.live.get(e.key)?.gen === e.gen);
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= e.at) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (!last || h.length === 0) return;
    h[0] = last;
    this.down(0);
  }

  private down(i: number): void {
    const h = this.heap;
    const e = h[i]!;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]!.at < h[l]!.at ? r : l;
      if (h[c]!.at >= e.at) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = e;
  }
}
