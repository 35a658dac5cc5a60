// Placement of service instances onto offers. Pure, no I/O.
//
// A pipeline in the manner of Nomad's scheduler: offers come out of a ranking (fewest
// instances of this app on the agent, then most free cpus+mem), and each goes through the
// feasibility filters (capabilities, resources, ports, constraints) when it reaches the top.
// Filtering lazily is what keeps a call cheap: an app that wants 5 instances from 10,000
// offers looks at about 5 of them, not 10,000.
//
// A refusal is final for the rest of the call except a GROUP_BY one: resources only shrink
// and UNIQUE / MAX_PER / CLUSTER / LIKE / UNLIKE / IS only get stricter as instances are
// added, but GROUP_BY accepts a value again once the other values catch up. So an offer
// refused by GROUP_BY is set aside under its value and ranked again when that happens.

import type { Range, Resources } from '../../protocol/types.js';
import { ConstraintTracker, fieldValue, type Constraint, type PlacedOn } from './constraints.js';
import { fromMilli, normalizeRanges, rangesSize, subtractRanges, toMilli } from './resources.js';

export interface PlacementOffer {
  offerId: string;
  agentId: string;
  hostname: string;
  attributes: Record<string, string>;
  /** Available in this offer. */
  resources: Resources;
  /** Container runtimes and other features the agent announces, e.g. 'docker'. */
  capabilities?: string[];
}

export interface InstanceRequest {
  cpus: number;
  mem: number;
  disk: number;
  /** One entry per port definition: 0 = any free port from the offer, else this exact host port (requirePorts). */
  ports: number[];
  constraints: Constraint[];
  /** Capabilities the agent must announce, e.g. 'docker' for a Docker container; none by default. */
  requires?: string[];
}

/** Marathon's processedOffersSummary names where Marathon has one. */
export type DeclineReason =
  | 'InsufficientCpus'
  | 'InsufficientMemory'
  | 'InsufficientDisk'
  | 'InsufficientPorts'
  | 'UnfulfilledConstraint'
  | 'UnfulfilledCapability';

export const DECLINE_REASONS: readonly DeclineReason[] = [
  'InsufficientCpus',
  'InsufficientMemory',
  'InsufficientDisk',
  'InsufficientPorts',
  'UnfulfilledConstraint',
  'UnfulfilledCapability',
];

export interface Placement {
  offerId: string;
  agentId: string;
  hostname: string;
  /** Exactly what the task uses; ports as single-port ranges in definition order. */
  resources: Resources;
  /** Host ports in definition order. */
  ports: number[];
}

export interface PlacementResult {
  placements: Placement[];
  /**
   * Offers looked at and refused (another) instance, in offer order, with every reason that
   * held when they were refused. Offers never needed because `count` was reached are not here.
   */
  declined: Array<{ offerId: string; agentId: string; reasons: DeclineReason[] }>;
  /** Per reason, how many declined offers had it: /v2/queue processedOffersSummary. */
  reasonCounts: Partial<Record<DeclineReason, number>>;
}

/**
 * Place up to `count` instances of one app onto the offers. Several instances may share an
 * offer (resources subtracted as they are placed, ports not reused). Ranking spreads: the
 * agent with the fewest instances of this app (existing + placed so far) first, then the one
 * with the most free cpus+mem. Constraints see existing + already placed instances.
 * Deterministic: ties go to the earlier offer.
 */
export function placeInstances(offers: PlacementOffer[], req: InstanceRequest, existing: PlacedOn[], count: number): PlacementResult {
  return new OfferPool(offers).place(req, existing, count);
}

/** Per-call facts about the request, in the units the pool keeps. */
interface Need {
  cpus: number;
  mem: number;
  disk: number;
  /** The request's ports as given: 0 = any. */
  order: readonly number[];
  /** Exact host ports wanted, in definition order. */
  exact: number[];
  /** How many ports may be any free port. */
  dynamic: number;
  /** The same exact port asked twice: no offer can satisfy it. */
  exactClash: boolean;
  requires: readonly string[];
}

/**
 * The offers of one cycle, shared by every app placed in that cycle: what one app takes is
 * gone for the next. Keeps the offers ranked by free cpus+mem across calls, so a call copies
 * that order instead of sorting 10,000 offers again.
 */
export class OfferPool {
  private readonly offers: readonly PlacementOffer[];
  private readonly byId = new Map<string, number>();
  // Remaining resources per offer, scalars in integer thousandths (resources.ts' milli).
  private readonly cpus: Float64Array;
  private readonly mem: Float64Array;
  private readonly disk: Float64Array;
  private readonly ports: Range[][];
  private readonly portCount: Float64Array;
  /**
   * Free cpus and mem, each as a fraction of the largest offer's at the start, summed: raw
   * MiB would drown the cpus, and these weights stay fixed so the order is stable.
   */
  private readonly score: Float64Array;
  private readonly cpuWeight: number;
  private readonly memWeight: number;
  /** Max-heap of offer indexes by (score, lower index first), and each index's position. */
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  private readonly fieldIndex = new Map<string, FieldIndex>();

  constructor(offers: readonly PlacementOffer[]) {
    const n = offers.length;
    this.offers = offers;
    this.cpus = new Float64Array(n);
    this.mem = new Float64Array(n);
    this.disk = new Float64Array(n);
    this.portCount = new Float64Array(n);
    this.score = new Float64Array(n);
    this.ports = new Array<Range[]>(n);
    let maxCpus = 0;
    let maxMem = 0;
    for (let i = 0; i < n; i++) {
      const r = offers[i].resources;
      this.cpus[i] = Math.max(0, toMilli(r.cpus));
      this.mem[i] = Math.max(0, toMilli(r.mem));
      this.disk[i] = Math.max(0, toMilli(r.disk));
      this.ports[i] = normalizeRanges(r.ports);
      this.portCount[i] = rangesSize(this.ports[i]);
      if (this.cpus[i] > maxCpus) maxCpus = this.cpus[i];
      if (this.mem[i] > maxMem) maxMem = this.mem[i];
      if (!this.byId.has(offers[i].offerId)) this.byId.set(offers[i].offerId, i);
    }
    this.cpuWeight = maxCpus > 0 ? 1 / maxCpus : 0;
    this.memWeight = maxMem > 0 ? 1 / maxMem : 0;
    for (let i = 0; i < n; i++) this.score[i] = this.cpus[i] * this.cpuWeight + this.mem[i] * this.memWeight;
    this.heap = new Int32Array(n);
    this.pos = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      this.heap[i] = i;
      this.pos[i] = i;
    }
    for (let k = (n >> 1) - 1; k >= 0; k--) this.siftDownGlobal(k);
  }

  /** What is left of an offer after the placements so far; undefined for an unknown id. */
  remaining(offerId: string): Resources | undefined {
    const i = this.byId.get(offerId);
    if (i === undefined) return undefined;
    return {
      cpus: fromMilli(this.cpus[i]),
      mem: fromMilli(this.mem[i]),
      disk: fromMilli(this.disk[i]),
      ports: this.ports[i].map((r): Range => [r[0], r[1]]),
    };
  }

  /** placeInstances, against what earlier calls on this pool left. */
  place(req: InstanceRequest, existing: readonly PlacedOn[], count: number): PlacementResult {
    const need = checkRequest(req, count);
    const result: PlacementResult = { placements: [], declined: [], reasonCounts: {} };
    const n = this.offers.length;
    if (count === 0 || n === 0) return result;

    const tracker = new ConstraintTracker(req.constraints, existing, (field) => this.indexOf(field).byValue.keys());
    const perHost = new Map<string, number>();
    for (const p of existing) perHost.set(p.hostname, (perHost.get(p.hostname) ?? 0) + 1);
    const here = new Int32Array(n);
    const { frontier, partition } = this.frontier(tracker, need, here);

    const declined = new Map<number, DeclineReason[]>();
    const decline = (i: number): void => {
      const reasons = this.reasons(i, need, tracker);
      if (reasons.length > 0) declined.set(i, reasons);
    };
    // GROUP_BY index → value → offers refused for it, waiting for the other values to catch up.
    const waiting = new Map<number, Map<string, number[]>>();
    const release = (groups: readonly number[]): void => {
      for (const g of groups) {
        const byValue = waiting.get(g);
        if (!byValue) continue;
        const field = tracker.fieldOf(g);
        const min = tracker.groupMin(g);
        for (const [value, list] of byValue) {
          if (tracker.countOf(field, value) > min) continue;
          byValue.delete(value);
          for (const i of list) frontier.push(i);
        }
      }
    };
    const liveness = new Map<number, EmptyValueCheck>();
    /** Forget the GROUP_BY's empty values that no offer can serve; true if its least-used count rose. */
    const forgetDead = (g: number): boolean => {
      let check = liveness.get(g);
      if (!check) liveness.set(g, (check = new EmptyValueCheck(tracker, g)));
      const index = this.indexOf(tracker.fieldOf(g));
      const found = check.forgetDead(
        (j) => this.usable(j, need, tracker),
        (v) => index.offers[index.byValue.get(v) ?? -1] ?? [],
      );
      if (found) release([g]);
      return found;
    };
    /** Best offer of the values the partitioning GROUP_BY accepts now, or -1. */
    const next = (): number => {
      if (partition === null) return frontier.sizes[0] > 0 ? frontier.pop(0) : -1;
      for (;;) {
        let best = -1;
        for (let h = 0; h < partition.values.length; h++) {
          if (frontier.sizes[h] === 0 || !tracker.passesValue(partition.group, partition.values[h])) continue;
          if (best < 0 || frontier.better(frontier.top(h), frontier.top(best))) best = h;
        }
        if (best >= 0) return frontier.pop(best);
        if (!forgetDead(partition.group)) return -1;
      }
    };

    while (result.placements.length < count) {
      const i = next();
      if (i < 0) break;
      const offer = this.offers[i];
      if (perHost.size > 0) {
        const onHost = perHost.get(offer.hostname) ?? 0;
        if (onHost > here[i]) {
          here[i] = onHost;
          frontier.push(i);
          continue;
        }
      }
      if (!this.usable(i, need, tracker)) {
        decline(i);
        continue;
      }
      // A GROUP_BY may be waiting for a value that only offers unusable for this app have;
      // such values must not hold the others back (Marathon does not count them at all).
      let g = tracker.firstGroupFailure(offer);
      while (g >= 0 && forgetDead(g)) g = tracker.firstGroupFailure(offer);
      if (g >= 0) {
        const value = fieldValue(offer, tracker.fieldOf(g))!;
        let byValue = waiting.get(g);
        if (!byValue) waiting.set(g, (byValue = new Map()));
        const list = byValue.get(value);
        if (list) list.push(i);
        else byValue.set(value, [i]);
        continue;
      }
      result.placements.push(this.take(i, need));
      declined.delete(i);
      const raised = tracker.add(offer);
      const onHost = (perHost.get(offer.hostname) ?? 0) + 1;
      perHost.set(offer.hostname, onHost);
      here[i] = onHost;
      frontier.push(i);
      if (raised.length > 0) release(raised);
      // This placement may have used up the last room of an empty value someone waits for.
      for (const [wg, byValue] of waiting) if (byValue.size > 0) forgetDead(wg);
    }

    if (result.placements.length < count) {
      // Short of count, every offer has been judged (or ruled out before ranking): say why each failed.
      for (let i = 0; i < n; i++) if (!declined.has(i)) decline(i);
    } else {
      for (const byValue of waiting.values()) for (const list of byValue.values()) for (const i of list) decline(i);
    }
    for (const i of [...declined.keys()].sort((a, b) => a - b)) {
      const reasons = declined.get(i)!;
      const offer = this.offers[i];
      result.declined.push({ offerId: offer.offerId, agentId: offer.agentId, reasons });
      for (const r of reasons) result.reasonCounts[r] = (result.reasonCounts[r] ?? 0) + 1;
    }
    return result;
  }

  /**
   * The call's ranking. Offers that a constraint on the agent alone (LIKE, UNLIKE, IS,
   * CLUSTER with a value) or a missing capability rules out are left out up front, judged
   * once per field value rather than once per offer. With a GROUP_BY over few values, one
   * heap per value; else one heap, copied from the pool's when nothing was left out.
   */
  private frontier(tracker: ConstraintTracker, need: Need, here: Int32Array): { frontier: Frontier; partition: Partition | null } {
    const n = this.offers.length;
    let partition: Partition | null = null;
    let ids: Int32Array | null = null;
    for (const g of tracker.groupBys) {
      const index = this.indexOf(tracker.fieldOf(g));
      if (index.values.length <= PARTITION_MAX) {
        partition = { group: g, values: index.values };
        ids = index.ids;
        break;
      }
    }
    const statics = tracker.statics;
    if (partition === null && statics.length === 0 && need.requires.length === 0) {
      return { frontier: new Frontier([this.heap.slice()], [n], null, here, this.score), partition };
    }
    let passed: Uint8Array | null = null;
    if (statics.length > 0) {
      passed = new Uint8Array(n);
      for (const s of statics) {
        const index = this.indexOf(tracker.fieldOf(s));
        index.values.forEach((v, k) => {
          if (tracker.passesValue(s, v)) for (const i of index.offers[k]) passed![i]++;
        });
        if (tracker.passesValue(s, undefined)) for (const i of index.missing) passed[i]++;
      }
    }
    const lists: number[][] = partition === null ? [[]] : partition.values.map(() => []);
    for (let i = 0; i < n; i++) {
      if (passed !== null && passed[i] !== statics.length) continue;
      if (!hasCapabilities(this.offers[i], need.requires)) continue;
      const h = ids === null ? 0 : ids[i];
      if (h >= 0) lists[h].push(i);
    }
    return { frontier: Frontier.build(lists, ids, here, this.score), partition };
  }

  /** field → its values and the offers with each; built on first use, values never change. */
  private indexOf(field: string): FieldIndex {
    let index = this.fieldIndex.get(field);
    if (!index) {
      const n = this.offers.length;
      index = { values: [], byValue: new Map(), offers: [], missing: [], ids: new Int32Array(n) };
      for (let i = 0; i < n; i++) {
        const v = fieldValue(this.offers[i], field);
        if (v === undefined) {
          index.ids[i] = -1;
          index.missing.push(i);
          continue;
        }
        let k = index.byValue.get(v);
        if (k === undefined) {
          k = index.values.length;
          index.byValue.set(v, k);
          index.values.push(v);
          index.offers.push([]);
        }
        index.ids[i] = k;
        index.offers[k].push(i);
      }
      this.fieldIndex.set(field, index);
    }
    return index;
  }

  /** Could offer i take one more instance, GROUP_BY aside? */
  private usable(i: number, need: Need, tracker: ConstraintTracker): boolean {
    return (
      need.cpus <= this.cpus[i] &&
      need.mem <= this.mem[i] &&
      need.disk <= this.disk[i] &&
      this.portsFit(i, need) &&
      hasCapabilities(this.offers[i], need.requires) &&
      tracker.firstFinalFailure(this.offers[i]) < 0
    );
  }

  private portsFit(i: number, need: Need): boolean {
    if (need.exact.length === 0) return need.dynamic <= this.portCount[i];
    if (need.exactClash || need.exact.length + need.dynamic > this.portCount[i]) return false;
    for (const p of need.exact) if (!hasPort(this.ports[i], p)) return false;
    return true;
  }

  private reasons(i: number, need: Need, tracker: ConstraintTracker): DeclineReason[] {
    const out: DeclineReason[] = [];
    if (need.cpus > this.cpus[i]) out.push('InsufficientCpus');
    if (need.mem > this.mem[i]) out.push('InsufficientMemory');
    if (need.disk > this.disk[i]) out.push('InsufficientDisk');
    if (!this.portsFit(i, need)) out.push('InsufficientPorts');
    if (tracker.failed(this.offers[i]).length > 0) out.push('UnfulfilledConstraint');
    if (!hasCapabilities(this.offers[i], need.requires)) out.push('UnfulfilledCapability');
    return out;
  }

  /** Take one instance's resources out of offer i (checked to fit) and re-rank it. */
  private take(i: number, need: Need): Placement {
    const chosen = this.choosePorts(i, need);
    this.cpus[i] -= need.cpus;
    this.mem[i] -= need.mem;
    this.disk[i] -= need.disk;
    if (chosen.length > 0) {
      this.ports[i] = subtractRanges(this.ports[i], chosen.map((p): Range => [p, p]));
      this.portCount[i] -= chosen.length;
    }
    this.score[i] = this.cpus[i] * this.cpuWeight + this.mem[i] * this.memWeight;
    this.siftDownGlobal(this.pos[i]);
    const offer = this.offers[i];
    return {
      offerId: offer.offerId,
      agentId: offer.agentId,
      hostname: offer.hostname,
      resources: {
        cpus: fromMilli(need.cpus),
        mem: fromMilli(need.mem),
        disk: fromMilli(need.disk),
        ports: chosen.map((p): Range => [p, p]),
      },
      ports: chosen,
    };
  }

  /** Exact ports where asked; the lowest free ports not asked for exactly for the rest. */
  private choosePorts(i: number, need: Need): number[] {
    if (need.order.length === 0) return [];
    const reserved = need.exact.length > 0 ? new Set(need.exact) : null;
    const free: number[] = [];
    outer: for (const [begin, end] of this.ports[i]) {
      for (let p = begin; p <= end; p++) {
        if (free.length === need.dynamic) break outer;
        if (reserved === null || !reserved.has(p)) free.push(p);
      }
    }
    if (reserved === null) return free;
    let next = 0;
    return need.order.map((p) => (p === 0 ? free[next++] : p));
  }

  private siftDownGlobal(k: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[k];
    for (;;) {
      let child = 2 * k + 1;
      if (child >= n) break;
      if (child + 1 < n && this.globalBetter(heap[child + 1], heap[child])) child++;
      if (!this.globalBetter(heap[child], item)) break;
      heap[k] = heap[child];
      this.pos[heap[k]] = k;
      k = child;
    }
    heap[k] = item;
    this.pos[item] = k;
  }

  private globalBetter(a: number, b: number): boolean {
    return this.score[a] !== this.score[b] ? this.score[a] > this.score[b] : a < b;
  }
}

/** Where the offers of one field's values are. */
interface FieldIndex {
  values: string[];
  byValue: Map<string, number>;
  /** value id → offers with that value, in offer order. */
  offers: number[][];
  /** Offers without the field. */
  missing: number[];
  /** offer → value id, -1 without the field. */
  ids: Int32Array;
}

/** A GROUP_BY whose values each get their own heap. */
interface Partition {
  group: number;
  values: readonly string[];
}

/**
 * More values than this and a GROUP_BY is served from the one heap: choosing among the
 * values' heaps costs a look at each value per pick. 32 covers zones, regions and racks of
 * a small site.
 */
const PARTITION_MAX = 32;

/**
 * The call's ranking: best first by (instances of the app on the agent, free cpus+mem, offer
 * order), in one heap or one heap per value of a GROUP_BY field. An offer only ever returns to
 * its own heap, so each heap's capacity is the offers it started with.
 */
class Frontier {
  constructor(
    private readonly heaps: Int32Array[],
    readonly sizes: number[],
    /** offer → its heap; null with one heap. */
    private readonly heapOf: Int32Array | null,
    private readonly here: Int32Array,
    private readonly score: Float64Array,
  ) {}

  /** Heaps from lists of offers (ranked on free resources alone: nothing is placed yet). */
  static build(lists: number[][], heapOf: Int32Array | null, here: Int32Array, score: Float64Array): Frontier {
    const f = new Frontier(
      lists.map((l) => Int32Array.from(l)),
      lists.map((l) => l.length),
      heapOf,
      here,
      score,
    );
    f.heaps.forEach((heap, h) => {
      for (let k = (f.sizes[h] >> 1) - 1; k >= 0; k--) f.siftDown(heap, f.sizes[h], k, heap[k]);
    });
    return f;
  }

  better(a: number, b: number): boolean {
    const here = this.here;
    if (here[a] !== here[b]) return here[a] < here[b];
    const score = this.score;
    return score[a] !== score[b] ? score[a] > score[b] : a < b;
  }

  top(h: number): number {
    return this.heaps[h][0];
  }

  push(i: number): void {
    const h = this.heapOf === null ? 0 : this.heapOf[i];
    const heap = this.heaps[h];
    let k = this.sizes[h]++;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!this.better(i, heap[parent])) break;
      heap[k] = heap[parent];
      k = parent;
    }
    heap[k] = i;
  }

  pop(h: number): number {
    const heap = this.heaps[h];
    const top = heap[0];
    const size = --this.sizes[h];
    if (size > 0) this.siftDown(heap, size, 0, heap[size]);
    return top;
  }

  private siftDown(heap: Int32Array, size: number, k: number, item: number): void {
    for (;;) {
      let child = 2 * k + 1;
      if (child >= size) break;
      if (child + 1 < size && this.better(heap[child + 1], heap[child])) child++;
      if (!this.better(heap[child], item)) break;
      heap[k] = heap[child];
      k = child;
    }
    heap[k] = item;
  }
}

/**
 * Keeps a GROUP_BY from waiting on empty values no offer can serve: walks the values with no
 * instances and forgets those whose every offer is unusable. Each offer is ruled out at most
 * once per call (unusable stays unusable), and a value found usable is the first looked at
 * next time.
 */
class EmptyValueCheck {
  private queue: string[] | null = null;
  private head = 0;
  /** value → offers of it already found unusable (a prefix of its list). */
  private readonly ruledOut = new Map<string, number>();

  constructor(
    private readonly tracker: ConstraintTracker,
    private readonly group: number,
  ) {}

  /** Returns whether the GROUP_BY's least-used count went up. */
  forgetDead(usable: (offer: number) => boolean, offersWith: (value: string) => readonly number[]): boolean {
    const t = this.tracker;
    const field = t.fieldOf(this.group);
    let raised = false;
    while (t.groupMin(this.group) === 0) {
      this.queue ??= t.emptyValues(this.group);
      if (this.head >= this.queue.length) break;
      const value = this.queue[this.head];
      if (t.countOf(field, value) > 0) {
        this.head++;
        continue;
      }
      const list = offersWith(value);
      let k = this.ruledOut.get(value) ?? 0;
      while (k < list.length && !usable(list[k])) k++;
      this.ruledOut.set(value, k);
      if (k < list.length) break;
      this.head++;
      if (t.forgetEmptyValue(this.group, value)) raised = true;
    }
    return raised;
  }
}

function hasCapabilities(offer: PlacementOffer, requires: readonly string[]): boolean {
  if (requires.length === 0) return true;
  const caps = offer.capabilities;
  if (!caps) return false;
  for (const r of requires) if (!caps.includes(r)) return false;
  return true;
}

function hasPort(ranges: readonly Range[], port: number): boolean {
  for (const [begin, end] of ranges) {
    if (port < begin) return false;
    if (port <= end) return true;
  }
  return false;
}

const MAX_PORT = 65535;

/** Bad requests are caller bugs (the app definition was validated before), so they throw. */
function checkRequest(req: InstanceRequest, count: number): Need {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  for (const name of ['cpus', 'mem', 'disk'] as const) {
    const v = req[name];
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
  }
  const exact: number[] = [];
  let dynamic = 0;
  for (const p of req.ports) {
    if (!Number.isInteger(p) || p < 0 || p > MAX_PORT) throw new RangeError(`ports must be integers 0-${MAX_PORT}, got ${p}`);
    if (p === 0) dynamic++;
    else exact.push(p);
  }
  return {
    cpus: toMilli(req.cpus),
    mem: toMilli(req.mem),
    disk: toMilli(req.disk),
    order: req.ports,
    exact,
    dynamic,
    exactClash: new Set(exact).size !== exact.length,
    requires: req.requires ?? [],
  };
}
