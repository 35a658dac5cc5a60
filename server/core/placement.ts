// Placement of service instances onto offers. Pure, no I/O.
//
// A pipeline in the manner of Nomad's scheduler (feasible.go, then rank.go), in three steps:
//  1. Filter by value: offers that a constraint on the agent alone (LIKE, UNLIKE, IS, CLUSTER
//     with a value) or a missing capability rules out never enter the ranking. The answer per
//     field value holds for the whole call, so 10,000 offers on 250 racks cost 250 regex tests.
//  2. Rank: fewest instances of this app on the agent, then most free cpus+mem, then offer
//     order. With a GROUP_BY over few values, one ranking per value.
//  3. Check lazily: an offer goes through resources, ports and the counting constraints
//     (UNIQUE, MAX_PER, CLUSTER, GROUP_BY) only when it reaches the top, so an app that wants
//     5 instances from 10,000 offers looks at about 5 of them.
//
// A refusal in step 3 is final for the rest of the call except a GROUP_BY one: resources only
// shrink and UNIQUE / MAX_PER / CLUSTER only get stricter as instances are added, but GROUP_BY
// accepts a value again once the other values catch up. So an offer refused by GROUP_BY is
// set aside under its value and ranked again when that happens.

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

export interface PlaceOptions {
  /**
   * Per GROUP_BY field, values of the cluster that have room for an instance on agents no offer
   * at hand is from. They are spread over like the values of the offers, and never forgotten as
   * dead: the app waits for their offers instead of piling onto the values it has offers from.
   * Without them a GROUP_BY knows only the values of the offers at hand and of its instances,
   * as in Marathon, and offers from one zone alone put every instance there.
   */
  roomy?: ReadonlyMap<string, ReadonlySet<string>>;
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
 * gone for the next. The pool keeps the offers ranked by free resources across calls (one
 * ranking per "view": the offers an app's LIKE / UNLIKE / IS / CLUSTER-with-value
 * constraints and capabilities leave, split by its GROUP_BY field), so a call copies a
 * ranking instead of filtering and sorting every offer again.
 */
export class OfferPool {
  private readonly offers: readonly PlacementOffer[];
  private byId: Map<string, number> | null = null;
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
  private readonly fieldIndex = new Map<string, FieldIndex>();
  /** Rankings kept current as resources are taken, by view key. */
  private readonly views = new Map<string, Heaps>();
  private readonly viewList: Heaps[] = [];
  /** All zeros: views rank as if no offer's agent had instances yet. */
  private readonly noneHere: Int32Array;
  // Per-call scratch, reused: calls do not overlap.
  private readonly here: Int32Array;
  private readonly scratch: Int32Array;
  private readonly scratchHere: Int32Array;
  private readonly scratchScore: Float64Array;

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
      // Shared with the offer when already normalized: ranges are replaced, never edited.
      this.ports[i] = isNormalized(r.ports) ? r.ports : normalizeRanges(r.ports);
      this.portCount[i] = rangesSize(this.ports[i]);
      if (this.cpus[i] > maxCpus) maxCpus = this.cpus[i];
      if (this.mem[i] > maxMem) maxMem = this.mem[i];
    }
    this.cpuWeight = maxCpus > 0 ? 1 / maxCpus : 0;
    this.memWeight = maxMem > 0 ? 1 / maxMem : 0;
    for (let i = 0; i < n; i++) this.score[i] = this.cpus[i] * this.cpuWeight + this.mem[i] * this.memWeight;
    this.noneHere = new Int32Array(n);
    this.here = new Int32Array(n);
    this.scratch = new Int32Array(n);
    this.scratchHere = new Int32Array(n);
    this.scratchScore = new Float64Array(n);
  }

  /** What is left of an offer after the placements so far; undefined for an unknown id. */
  remaining(offerId: string): Resources | undefined {
    if (this.byId === null) {
      this.byId = new Map();
      this.offers.forEach((o, i) => {
        if (!this.byId!.has(o.offerId)) this.byId!.set(o.offerId, i);
      });
    }
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
  place(req: InstanceRequest, existing: readonly PlacedOn[], count: number, opts: PlaceOptions = {}): PlacementResult {
    const need = checkRequest(req, count);
    const result: PlacementResult = { placements: [], declined: [], reasonCounts: {} };
    const n = this.offers.length;
    if (count === 0 || n === 0) return result;

    const roomy = opts.roomy;
    const tracker = new ConstraintTracker(req.constraints, existing, (field) => {
      const offered = this.indexOf(field).byValue.keys();
      const more = roomy?.get(field);
      return more && more.size > 0 ? [...offered, ...more] : offered;
    });
    const perHost = new Map<string, number>();
    for (const p of existing) perHost.set(p.hostname, (perHost.get(p.hostname) ?? 0) + 1);
    // here[i]: instances of this app on offer i's agent when i was last ranked; 0 for most.
    const here = this.here;
    const touched: number[] = [];
    const rank = (i: number, onHost: number): void => {
      if (here[i] === 0) touched.push(i);
      here[i] = onHost;
    };
    const view = this.view(tracker, need);
    const frontier = view.copy(this.scratch, this.scratchHere, this.scratchScore, here);
    const partition = view.values === null ? -1 : tracker.groupBys.find((g) => tracker.fieldOf(g) === view.field)!;

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
      const keep = roomy?.get(tracker.fieldOf(g));
      const found = check.forgetDead(
        (j) => this.usable(j, need, tracker),
        (v) => index.offers[index.byValue.get(v) ?? -1] ?? [],
        keep,
      );
      if (found) release([g]);
      return found;
    };
    /** The best offer left, from the values the partitioning GROUP_BY accepts now; -1 when none. */
    const next = (): number => {
      if (partition < 0) return frontier.len[0] > 0 ? frontier.pop(0) : -1;
      const values = view.values!;
      for (;;) {
        let best = -1;
        for (let h = 0; h < values.length; h++) {
          if (frontier.len[h] === 0 || !tracker.passesValue(partition, values[h])) continue;
          if (best < 0 || frontier.betterTop(h, best)) best = h;
        }
        if (best >= 0) return frontier.pop(best);
        if (!forgetDead(partition)) return -1;
      }
    };

    try {
      while (result.placements.length < count) {
        const i = next();
        if (i < 0) break;
        const offer = this.offers[i];
        if (perHost.size > 0) {
          // Ranked when its host had fewer instances: rank it again (it can only drop).
          const onHost = perHost.get(offer.hostname) ?? 0;
          if (onHost > here[i]) {
            rank(i, onHost);
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
        rank(i, onHost);
        frontier.push(i);
        if (raised.length > 0) release(raised);
        // This placement may have used up the last room of an empty value someone waits for.
        for (const [wg, byValue] of waiting) if (byValue.size > 0) forgetDead(wg);
      }
    } finally {
      for (const i of touched) here[i] = 0;
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
   * The ranking this request places from. Offers a constraint on the agent alone (LIKE,
   * UNLIKE, IS, CLUSTER with a value) or a missing capability rules out are left out, judged
   * once per field value rather than once per offer. With a GROUP_BY over few values, one heap
   * per value, so a value that is behind is served from its own heap instead of from under
   * the offers of values that are ahead. Kept for the pool's next calls, up to MAX_VIEWS.
   */
  private view(tracker: ConstraintTracker, need: Need): Heaps {
    let field: string | null = null;
    for (const g of tracker.groupBys) {
      const f = tracker.fieldOf(g);
      if (this.indexOf(f).values.length <= PARTITION_MAX) {
        field = f;
        break;
      }
    }
    const statics = tracker.statics.map((s) => tracker.constraints[s]);
    const key = JSON.stringify([field, statics.map((c) => [c.field, c.operator, c.value]), [...need.requires].sort()]);
    let view = this.views.get(key);
    if (view) return view;

    const n = this.offers.length;
    let passed: Uint8Array | null = null;
    if (statics.length > 0) {
      passed = new Uint8Array(n);
      for (const s of tracker.statics) {
        const index = this.indexOf(tracker.fieldOf(s));
        index.values.forEach((v, k) => {
          if (tracker.passesValue(s, v)) for (const i of index.offers[k]) passed![i]++;
        });
        if (tracker.passesValue(s, undefined)) for (const i of index.missing) passed[i]++;
      }
    }
    const index = field === null ? null : this.indexOf(field);
    const lists: number[][] = index === null ? [[]] : index.values.map(() => []);
    const filtered = passed !== null || need.requires.length > 0 || index !== null;
    const heapOf = filtered ? new Int32Array(n).fill(-1) : null;
    for (let i = 0; i < n; i++) {
      if (passed !== null && passed[i] !== statics.length) continue;
      if (!hasCapabilities(this.offers[i], need.requires)) continue;
      const h = index === null ? 0 : index.ids[i];
      if (h < 0) continue;
      lists[h].push(i);
      if (heapOf) heapOf[i] = h;
    }
    view = Heaps.build(lists, heapOf, field, index?.values ?? null, this.noneHere, this.score, new Int32Array(n));
    if (this.views.size < MAX_VIEWS) {
      this.views.set(key, view);
      this.viewList.push(view);
    }
    return view;
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
      this.ports[i] = withoutPorts(this.ports[i], chosen);
      this.portCount[i] -= chosen.length;
    }
    this.score[i] = this.cpus[i] * this.cpuWeight + this.mem[i] * this.memWeight;
    for (const view of this.viewList) view.lowered(i);
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
    const ranges = this.ports[i];
    for (let r = 0; r < ranges.length && free.length < need.dynamic; r++) {
      const end = ranges[r][1];
      for (let p = ranges[r][0]; p <= end && free.length < need.dynamic; p++) {
        if (reserved === null || !reserved.has(p)) free.push(p);
      }
    }
    if (reserved === null) return free;
    let next = 0;
    return need.order.map((p) => (p === 0 ? free[next++] : p));
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

/**
 * More values than this and a GROUP_BY is served from one heap: choosing among the values'
 * heaps looks at each value per pick. 32 covers regions, zones and the racks of a small site.
 */
const PARTITION_MAX = 32;
/** Views kept current per pool; each costs O(log n) per placement to keep. */
const MAX_VIEWS = 8;

/**
 * Offers ranked best first by (instances of the app on the agent, free cpus+mem, offer order),
 * in one heap or one heap per value of a field, all back to back in one buffer. Each slot
 * carries a copy of its offer's keys, so a sift reads neighbouring memory rather than two
 * random places per comparison. An offer only ever goes back to its own heap, so each heap's
 * room is the offers it started with.
 */
class Heaps {
  constructor(
    /** Offer per slot; heap h lives at slots off[h] .. off[h] + len[h]. */
    readonly buf: Int32Array,
    readonly hereAt: Int32Array,
    readonly scoreAt: Float64Array,
    readonly off: Int32Array,
    readonly len: Int32Array,
    /** offer → its heap, -1 when left out; null: every offer, in heap 0. */
    readonly heapOf: Int32Array | null,
    /** The field split on and its values, one per heap; null for one heap. */
    readonly field: string | null,
    readonly values: readonly string[] | null,
    private readonly here: Int32Array,
    private readonly score: Float64Array,
    /** offer → its slot, kept only by the pool's views (for `lowered`). */
    private readonly pos: Int32Array | null,
  ) {}

  static build(
    lists: number[][],
    heapOf: Int32Array | null,
    field: string | null,
    values: readonly string[] | null,
    here: Int32Array,
    score: Float64Array,
    pos: Int32Array,
  ): Heaps {
    const off = new Int32Array(lists.length);
    const len = new Int32Array(lists.length);
    let total = 0;
    lists.forEach((l, h) => {
      off[h] = total;
      len[h] = l.length;
      total += l.length;
    });
    const heaps = new Heaps(new Int32Array(total), new Int32Array(total), new Float64Array(total), off, len, heapOf, field, values, here, score, pos);
    lists.forEach((l, h) => l.forEach((i, k) => heaps.put(off[h] + k, i)));
    for (let h = 0; h < lists.length; h++) {
      for (let k = (len[h] >> 1) - 1; k >= 0; k--) heaps.siftDown(off[h], len[h], k, heaps.buf[off[h] + k]);
    }
    return heaps;
  }

  /** A working copy for one call in the scratch arrays (at least as long), ranked with `here`. */
  copy(buf: Int32Array, hereAt: Int32Array, scoreAt: Float64Array, here: Int32Array): Heaps {
    buf.set(this.buf);
    hereAt.set(this.hereAt);
    scoreAt.set(this.scoreAt);
    return new Heaps(buf, hereAt, scoreAt, this.off, this.len.slice(), this.heapOf, this.field, this.values, here, this.score, null);
  }

  /** Is the top of heap a better than the top of heap b? */
  betterTop(a: number, b: number): boolean {
    return this.before(this.off[a], this.off[b]);
  }

  pop(h: number): number {
    const base = this.off[h];
    const top = this.buf[base];
    const size = --this.len[h];
    if (size > 0) this.siftDown(base, size, 0, this.buf[base + size]);
    return top;
  }

  push(i: number): void {
    const h = this.heapOf === null ? 0 : this.heapOf[i];
    const base = this.off[h];
    const ih = this.here[i];
    const is = this.score[i];
    let k = this.len[h]++;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      const p = base + parent;
      const ph = this.hereAt[p];
      // i goes above its parent only if strictly better, and by offer order on a full tie.
      if (ih > ph || (ih === ph && (is < this.scoreAt[p] || (is === this.scoreAt[p] && i > this.buf[p])))) break;
      this.move(base + k, p);
      k = parent;
    }
    this.put(base + k, i);
  }

  /** Offer i's score went down: move it down its heap. */
  lowered(i: number): void {
    const h = this.heapOf === null ? 0 : this.heapOf[i];
    if (h < 0) return;
    const base = this.off[h];
    this.siftDown(base, this.len[h], this.pos![i] - base, i);
  }

  /** Slot p ranks before slot q. */
  private before(p: number, q: number): boolean {
    const hp = this.hereAt[p];
    const hq = this.hereAt[q];
    if (hp !== hq) return hp < hq;
    const sp = this.scoreAt[p];
    const sq = this.scoreAt[q];
    return sp !== sq ? sp > sq : this.buf[p] < this.buf[q];
  }

  private siftDown(base: number, size: number, k: number, item: number): void {
    const ih = this.here[item];
    const is = this.score[item];
    for (;;) {
      let child = 2 * k + 1;
      if (child >= size) break;
      if (child + 1 < size && this.before(base + child + 1, base + child)) child++;
      const c = base + child;
      const ch = this.hereAt[c];
      // Stop when the item ranks before its best child.
      if (ih < ch || (ih === ch && (is > this.scoreAt[c] || (is === this.scoreAt[c] && item < this.buf[c])))) break;
      this.move(base + k, c);
      k = child;
    }
    this.put(base + k, item);
  }

  private move(to: number, from: number): void {
    const i = this.buf[from];
    this.buf[to] = i;
    this.hereAt[to] = this.hereAt[from];
    this.scoreAt[to] = this.scoreAt[from];
    if (this.pos !== null) this.pos[i] = to;
  }

  private put(at: number, i: number): void {
    this.buf[at] = i;
    this.hereAt[at] = this.here[i];
    this.scoreAt[at] = this.score[i];
    if (this.pos !== null) this.pos[i] = at;
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
  /** `keep`: values with room on agents that made no offer here: alive whatever their offers. */
  forgetDead(usable: (offer: number) => boolean, offersWith: (value: string) => readonly number[], keep?: ReadonlySet<string>): boolean {
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
      if (k < list.length || keep?.has(value)) break;
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

/** Sorted, non-overlapping, non-adjacent: what normalizeRanges returns. */
function isNormalized(ranges: readonly Range[]): boolean {
  for (let k = 0; k < ranges.length; k++) {
    const [begin, end] = ranges[k];
    if (!(begin <= end) || (k > 0 && begin <= ranges[k - 1][1] + 1)) return false;
  }
  return true;
}

/** `ranges` (normalized) without `ports` (all within it), as fresh arrays. */
function withoutPorts(ranges: readonly Range[], ports: readonly number[]): Range[] {
  if (ports.length > 1) return subtractRanges(ranges, ports.map((p): Range => [p, p]));
  const p = ports[0];
  const out: Range[] = [];
  for (const [begin, end] of ranges) {
    if (p < begin || p > end) out.push([begin, end]);
    else {
      if (begin < p) out.push([begin, p - 1]);
      if (p < end) out.push([p + 1, end]);
    }
  }
  return out;
}
