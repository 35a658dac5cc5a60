// Allocated CPU and memory sampled every few seconds while the page is open: the overview's
// sparkline. Sampling reads the store; it never asks the master.
import type { AgentView } from '../../protocol/types.js';
import type { ClusterState } from './cluster-state.js';
import { Writable } from './readable.js';
import type { Readable } from './readable.js';

export interface AllocationSample {
  readonly at: number;
  readonly cpus: number;
  readonly cpusTotal: number;
  readonly mem: number;
  readonly memTotal: number;
  readonly disk: number;
  readonly diskTotal: number;
}

export interface Capacity {
  cpus: { used: number; total: number };
  mem: { used: number; total: number };
  disk: { used: number; total: number };
}

/** Resources count only on agents that can run tasks: a drained node's CPUs are not capacity. */
export function capacity(agents: ReadonlyMap<string, AgentView>): Capacity {
  const result: Capacity = { cpus: { used: 0, total: 0 }, mem: { used: 0, total: 0 }, disk: { used: 0, total: 0 } };
  for (const agent of agents.values()) {
    if (agent.state !== 'ACTIVE') continue;
    for (const key of ['cpus', 'mem', 'disk'] as const) {
      result[key].used += agent.allocated[key];
      result[key].total += agent.resources[key];
    }
  }
  return result;
}

export interface AllocationHistoryOptions {
  intervalMs?: number;
  /** Samples kept: 120 × 5 s = the last ten minutes. */
  limit?: number;
  now?: () => number;
  setInterval?: (callback: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
}

export class AllocationHistory {
  readonly #samples = new Writable<readonly AllocationSample[]>([]);
  readonly samples: Readable<readonly AllocationSample[]> = this.#samples;
  readonly #source: Readable<ClusterState>;
  readonly #options: Required<AllocationHistoryOptions>;
  #timer: unknown;
  #unsubscribe: (() => void) | undefined;

  constructor(source: Readable<ClusterState>, options: AllocationHistoryOptions = {}) {
    this.#source = source;
    this.#options = {
      intervalMs: options.intervalMs ?? 5000,
      limit: options.limit ?? 120,
      now: options.now ?? Date.now,
      setInterval: options.setInterval ?? ((cb, ms) => setInterval(cb, ms)),
      clearInterval: options.clearInterval ?? ((handle) => clearInterval(handle as ReturnType<typeof setInterval>)),
    };
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.sample();
    this.#timer = this.#options.setInterval(() => this.sample(), this.#options.intervalMs);
    // Logged out (the store went back to empty): the history belonged to that session.
    this.#unsubscribe = this.#source.subscribe((state) => {
      if (!state.loaded && state.epoch === undefined && this.#samples.value.length) this.clear();
    });
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#timer === undefined) return;
    this.#options.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Takes one sample now (when the store has a snapshot); the timer calls this. */
  sample(): void {
    const state = this.#source.value;
    if (!state.loaded) return;
    const c = capacity(state.agents);
    const next: AllocationSample = {
      at: this.#options.now(),
      cpus: c.cpus.used,
      cpusTotal: c.cpus.total,
      mem: c.mem.used,
      memTotal: c.mem.total,
      disk: c.disk.used,
      diskTotal: c.disk.total,
    };
    this.#samples.set([...this.#samples.value, next].slice(-this.#options.limit));
  }

  clear(): void {
    this.#samples.set([]);
  }
}
