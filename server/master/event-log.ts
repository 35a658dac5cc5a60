// The one ordered log of cluster changes. Every view (dashboard stream, operator SUBSCRIBE,
// Marathon events later) reads it. A ring buffer keeps the recent past so that a subscriber
// that reconnects with the last sequence number it saw gets only what it missed.

import type { ClusterEvent } from '../../protocol/types.js';

/** A ClusterEvent before the log has numbered it. */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type EventInput = DistributiveOmit<ClusterEvent, 'seq' | 'at'>;

export type EventListener = (events: readonly ClusterEvent[]) => void;

export class EventLog {
  private ring: (ClusterEvent | undefined)[];
  private head = 0; // index of the next write
  private count = 0;
  private lastSeq = 0;
  private listeners = new Set<EventListener>();

  constructor(
    readonly capacity: number,
    private now: () => number,
  ) {
    this.ring = new Array(capacity);
  }

  get seq(): number {
    return this.lastSeq;
  }

  /** Append a batch (already committed to the store) and hand it to every listener at once. */
  append(inputs: readonly EventInput[]): ClusterEvent[] {
    if (inputs.length === 0) return [];
    const at = this.now();
    const out: ClusterEvent[] = [];
    for (const input of inputs) {
      // one shape for every event (a delete's data is undefined): a spread of the many input
      // shapes was a slow generic copy, and this runs three times per task launched
      const ev = { seq: ++this.lastSeq, at, kind: input.kind, op: input.op, id: input.id, data: (input as { data?: unknown }).data } as ClusterEvent;
      this.ring[this.head] = ev;
      this.head = (this.head + 1) % this.capacity;
      if (this.count < this.capacity) this.count++;
      out.push(ev);
    }
    for (const l of this.listeners) {
      try {
        l(out);
      } catch {
        // a broken subscriber must not stop the others; it is cut off by its own owner
      }
    }
    return out;
  }

  /** Events after `seq`, or undefined when the log no longer holds all of them. */
  since(seq: number): ClusterEvent[] | undefined {
    if (seq > this.lastSeq) return undefined;
    const missed = this.lastSeq - seq;
    if (missed === 0) return [];
    if (missed > this.count) return undefined;
    const out: ClusterEvent[] = new Array(missed);
    let idx = (this.head - missed + this.capacity) % this.capacity;
    for (let i = 0; i < missed; i++) {
      out[i] = this.ring[idx]!;
      idx = (idx + 1) % this.capacity;
    }
    return out;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
