// Weighted DRF over roles, Mesos style: each cycle, every agent with something worth offering
// goes, whole, to the eligible framework whose role has the lowest weighted dominant share.
// Pure: no timers, no I/O; the clock is injected and only read for filter expiry.
//
// Sized for 10,000 agents × 1,000 frameworks:
//  - Scalars are integer thousandths (Mesos' fixed point), so sums are exact and cheap.
//  - Cluster totals, per-agent use, per-framework and per-role use are kept incrementally.
//  - Frameworks sit in a heap per role, roles in a heap keyed by (role share, best framework):
//    picking the winner is O(1), re-ranking after a grant O(log F).
//  - Only agents that are active and have something offerable are in `offerable`, so a cycle
//    never looks at full or inactive agents.
//  - Filters are looked up per (agent, framework) and expire lazily against now(). An agent
//    that some frameworks filter is resolved by a best-first walk of the heaps that skips the
//    filtering frameworks, or a linear scan when most frameworks filter it.

import type { Range, Resources } from '../../protocol/types.js';
import { addRanges, fromMilli, intersectRanges, subtractRanges, normalizeRanges, toMilli } from './resources.js';

export interface Allocation {
  frameworkId: string;
  agentId: string;
  resources: Resources;
}

export interface AllocatorOptions {
  now(): number;
  /** An agent is offerable when free cpus >= minCpus or free mem >= minMem (Mesos MIN_CPUS/MIN_MEM). */
  minCpus?: number;
  minMem?: number;
}

/** Mesos' default refuse_seconds for a decline without a filter. */
export const DEFAULT_REFUSE_SECONDS = 5;

/** Scalars in integer thousandths. */
interface Amount {
  cpus: number;
  mem: number;
  disk: number;
}

/** What one framework holds on one agent. Shared by the agent's and the framework's maps. */
interface Holding extends Amount {
  ports: Range[];
}

interface AgentState {
  id: string;
  total: Amount;
  totalPorts: Range[];
  /** Sum of holdings; may exceed total when an agent reports more than fits. */
  used: Amount;
  /** totalPorts minus every holding's ports. */
  freePorts: Range[];
  active: boolean;
  holdings: Map<string, Holding>;
  /** framework id → filter expiry (ms); entries may be expired until next looked at. */
  filters: Map<string, number>;
}

interface FrameworkState {
  id: string;
  role: RoleState;
  suppressed: boolean;
  used: Amount;
  /** Cached dominant share; the heap key. */
  share: number;
  heapIndex: number;
  holdings: Map<string, Holding>;
  /** Agents this framework has a filter on, so revive can clear them without a full sweep. */
  filtered: Set<string>;
}

interface RoleState {
  name: string;
  weight: number;
  used: Amount;
  /** Cached weighted dominant share; the heap key. */
  share: number;
  heapIndex: number;
  frameworks: Set<FrameworkState>;
  /** The role's frameworks that are not suppressed. */
  candidates: Heap<FrameworkState>;
}

class Heap<T extends { heapIndex: number }> {
  readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(x: T): void {
    x.heapIndex = this.items.length;
    this.items.push(x);
    this.up(x.heapIndex);
  }

  remove(x: T): void {
    const i = x.heapIndex;
    const last = this.items.pop() as T;
    x.heapIndex = -1;
    if (last !== x) {
      this.items[i] = last;
      last.heapIndex = i;
      this.update(last);
    }
  }

  /** Restore order after x's key changed. */
  update(x: T): void {
    if (!this.up(x.heapIndex)) this.down(x.heapIndex);
  }

  rebuild(): void {
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private up(i: number): boolean {
    const items = this.items;
    const x = items[i];
    const start = i;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(x, items[p])) break;
      items[i] = items[p];
      items[i].heapIndex = i;
      i = p;
    }
    items[i] = x;
    x.heapIndex = i;
    return i !== start;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const x = items[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(items[r], items[l]) ? r : l;
      if (!this.less(items[c], x)) break;
      items[i] = items[c];
      items[i].heapIndex = i;
      i = c;
    }
    items[i] = x;
    x.heapIndex = i;
  }
}

function frameworkLess(a: FrameworkState, b: FrameworkState): boolean {
  return a.share < b.share || (a.share === b.share && a.id < b.id);
}

function roleLess(a: RoleState, b: RoleState): boolean {
  return a.share < b.share || (a.share === b.share && frameworkLess(a.candidates.items[0], b.candidates.items[0]));
}

/** The DRF order over frameworks: (weighted role share, framework share, id). */
function rankLess(a: FrameworkState, b: FrameworkState): boolean {
  return a.role.share < b.role.share || (a.role.share === b.role.share && frameworkLess(a, b));
}

function zero(): Amount {
  return { cpus: 0, mem: 0, disk: 0 };
}

function addTo(target: Amount, d: Amount, sign: 1 | -1): void {
  target.cpus += sign * d.cpus;
  target.mem += sign * d.mem;
  target.disk += sign * d.disk;
}

function amountOf(r: Resources, what: string): Amount {
  for (const name of ['cpus', 'mem', 'disk'] as const) {
    const v = r[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new Error(`${what}: ${name} must be a finite number >= 0, got ${v}`);
    }
  }
  return { cpus: toMilli(r.cpus), mem: toMilli(r.mem), disk: toMilli(r.disk) };
}

function toResources(a: Amount, ports: Range[]): Resources {
  return { cpus: fromMilli(a.cpus), mem: fromMilli(a.mem), disk: fromMilli(a.disk), ports };
}

function clonePorts(ports: Range[]): Range[] {
  return ports.map((p): Range => [p[0], p[1]]);
}

export class Allocator {
  private readonly now: () => number;
  private readonly minCpus: number;
  private readonly minMem: number;
  private readonly agents = new Map<string, AgentState>();
  private readonly frameworks = new Map<string, FrameworkState>();
  private readonly roles = new Map<string, RoleState>();
  private readonly weights = new Map<string, number>();
  /** Roles with at least one unsuppressed framework. */
  private readonly roleHeap = new Heap<RoleState>(roleLess);
  /** Active agents with free cpus >= minCpus or free mem >= minMem; insertion-ordered. */
  private readonly offerable = new Set<AgentState>();
  private readonly total: Amount = zero();
  /** 1/total per dimension (0 when the total is 0), so a share is three multiplies. */
  private inv: Amount = zero();
  /** Totals changed since shares were cached: re-rank everything before the next cycle. */
  private dirty = false;
  private candidateCount = 0;

  constructor(opts: AllocatorOptions) {
    this.now = opts.now;
    this.minCpus = toMilli(opts.minCpus ?? 0.01);
    this.minMem = toMilli(opts.minMem ?? 32);
  }

  // -------------------------------------------------------------------------
  // Roles and frameworks

  /** Adds a framework, or updates the role/suppression of a known one (its holdings move with it). */
  addFramework(id: string, role: string, opts: { suppressed?: boolean } = {}): void {
    const suppressed = opts.suppressed ?? false;
    const existing = this.frameworks.get(id);
    if (existing) {
      if (existing.role.name !== role) {
        this.detach(existing);
        existing.role = this.roleFor(role);
        this.attach(existing);
      }
      if (suppressed) this.suppress(id);
      else this.unsuppress(existing);
      return;
    }
    const fw: FrameworkState = {
      id,
      role: this.roleFor(role),
      suppressed,
      used: zero(),
      share: 0,
      heapIndex: -1,
      holdings: new Map(),
      filtered: new Set(),
    };
    this.frameworks.set(id, fw);
    this.attach(fw);
  }

  /** Forgets the framework: whatever it still holds goes back to the agents, its filters vanish. */
  removeFramework(id: string): void {
    const fw = this.frameworks.get(id);
    if (!fw) return;
    for (const [agentId, holding] of fw.holdings) {
      const agent = this.agents.get(agentId) as AgentState;
      agent.holdings.delete(id);
      addTo(agent.used, holding, -1);
      agent.freePorts = this.freePortsOf(agent);
      this.refreshOfferable(agent);
    }
    fw.holdings.clear();
    this.clearFilters(fw);
    this.detach(fw);
    this.frameworks.delete(id);
  }

  setRoleWeight(role: string, weight: number): void {
    if (!Number.isFinite(weight) || weight <= 0) throw new Error(`role weight must be a finite number > 0, got ${weight}`);
    this.weights.set(role, weight);
    const r = this.roles.get(role);
    if (r) {
      r.weight = weight;
      this.rerankRole(r);
    }
  }

  suppress(frameworkId: string): void {
    const fw = this.requireFramework(frameworkId);
    if (fw.suppressed) return;
    fw.suppressed = true;
    const role = fw.role;
    role.candidates.remove(fw);
    this.candidateCount--;
    if (role.candidates.size === 0) this.roleHeap.remove(role);
    else this.roleHeap.update(role);
  }

  /** Unsuppress and clear all the framework's filters. */
  revive(frameworkId: string): void {
    const fw = this.requireFramework(frameworkId);
    this.clearFilters(fw);
    this.unsuppress(fw);
  }

  // -------------------------------------------------------------------------
  // Agents

  /** Adds an agent, or replaces the total of a known one (re-registration); holdings are kept. */
  addAgent(id: string, total: Resources, opts: { active?: boolean } = {}): void {
    const amount = amountOf(total, `agent ${id}`);
    let agent = this.agents.get(id);
    if (agent) {
      addTo(this.total, agent.total, -1);
      agent.total = amount;
      agent.totalPorts = normalizeRanges(total.ports);
      agent.freePorts = this.freePortsOf(agent);
    } else {
      const ports = normalizeRanges(total.ports);
      agent = {
        id,
        total: amount,
        totalPorts: ports,
        used: zero(),
        freePorts: clonePorts(ports),
        active: true,
        holdings: new Map(),
        filters: new Map(),
      };
      this.agents.set(id, agent);
    }
    agent.active = opts.active ?? true;
    addTo(this.total, amount, 1);
    this.totalsChanged();
    this.refreshOfferable(agent);
  }

  /** Forgets the agent: what frameworks held there no longer counts toward their shares. */
  removeAgent(id: string): void {
    const agent = this.agents.get(id);
    if (!agent) return;
    for (const [frameworkId, holding] of agent.holdings) {
      const fw = this.frameworks.get(frameworkId) as FrameworkState;
      fw.holdings.delete(id);
      addTo(fw.used, holding, -1);
      addTo(fw.role.used, holding, -1);
      this.rerank(fw);
    }
    for (const frameworkId of agent.filters.keys()) this.frameworks.get(frameworkId)?.filtered.delete(id);
    this.offerable.delete(agent);
    this.agents.delete(id);
    addTo(this.total, agent.total, -1);
    this.totalsChanged();
  }

  /** Inactive agents (unreachable, draining) are never offered; their holdings still count. */
  setAgentActive(id: string, active: boolean): void {
    const agent = this.agents.get(id);
    if (!agent) throw new Error(`unknown agent ${id}`);
    agent.active = active;
    this.refreshOfferable(agent);
  }

  // -------------------------------------------------------------------------
  // Accounting

  /**
   * Count resources as used by a framework on an agent. They need not be free: an agent may
   * report more than fits, so free space is clamped at zero while the sums stay exact, and a
   * later recover() of the same resources restores the agent precisely.
   */
  allocate(agentId: string, frameworkId: string, resources: Resources): void {
    const agent = this.agents.get(agentId);
    if (!agent) throw new Error(`allocate: unknown agent ${agentId}`);
    const fw = this.requireFramework(frameworkId);
    const amount = amountOf(resources, 'allocate');
    const ports = normalizeRanges(resources.ports);
    const holding = this.holdingOf(agent, fw);
    addTo(holding, amount, 1);
    if (ports.length > 0) {
      holding.ports = addRanges(holding.ports, ports);
      agent.freePorts = subtractRanges(agent.freePorts, ports);
    }
    addTo(agent.used, amount, 1);
    addTo(fw.used, amount, 1);
    addTo(fw.role.used, amount, 1);
    this.refreshOfferable(agent);
    this.rerank(fw);
  }

  /**
   * Give resources back (an unused, declined or rescinded offer, or a terminated task).
   * Clamped to what the framework holds on that agent; unknown agents or frameworks are
   * ignored, because removal already returned everything they held.
   */
  recover(agentId: string, frameworkId: string, resources: Resources): void {
    const agent = this.agents.get(agentId);
    const holding = agent?.holdings.get(frameworkId);
    if (!agent || !holding) return;
    const fw = this.frameworks.get(frameworkId) as FrameworkState;
    const asked = amountOf(resources, 'recover');
    const back: Amount = {
      cpus: Math.min(asked.cpus, holding.cpus),
      mem: Math.min(asked.mem, holding.mem),
      disk: Math.min(asked.disk, holding.disk),
    };
    addTo(holding, back, -1);
    if (resources.ports.length > 0 && holding.ports.length > 0) {
      const released = intersectRanges(holding.ports, resources.ports);
      if (released.length > 0) {
        holding.ports = subtractRanges(holding.ports, released);
        // A port another framework also holds (over-committed agent) stays taken.
        let freed = intersectRanges(released, agent.totalPorts);
        for (const [otherId, other] of agent.holdings) {
          if (otherId !== frameworkId && other.ports.length > 0) freed = subtractRanges(freed, other.ports);
        }
        if (freed.length > 0) agent.freePorts = addRanges(agent.freePorts, freed);
      }
    }
    if (holding.cpus === 0 && holding.mem === 0 && holding.disk === 0 && holding.ports.length === 0) {
      agent.holdings.delete(frameworkId);
      fw.holdings.delete(agentId);
    }
    addTo(agent.used, back, -1);
    addTo(fw.used, back, -1);
    addTo(fw.role.used, back, -1);
    this.refreshOfferable(agent);
    this.rerank(fw);
  }

  /**
   * Decline filter: do not offer this agent to this framework for refuseSeconds (default 5 s).
   * The latest filter for a pair replaces the previous one; refuseSeconds <= 0 removes it.
   */
  filter(frameworkId: string, agentId: string, refuseSeconds?: number): void {
    const fw = this.requireFramework(frameworkId);
    const agent = this.agents.get(agentId);
    if (!agent) return;
    const seconds = refuseSeconds === undefined || Number.isNaN(refuseSeconds) ? DEFAULT_REFUSE_SECONDS : refuseSeconds;
    if (seconds <= 0) {
      agent.filters.delete(frameworkId);
      fw.filtered.delete(agentId);
      return;
    }
    agent.filters.set(frameworkId, this.now() + seconds * 1000);
    fw.filtered.add(agentId);
  }

  // -------------------------------------------------------------------------
  // The cycle

  /**
   * One cycle: every offerable agent's free resources, all of them, go to the framework with
   * the lowest (weighted role share, framework share, id) among those not suppressed and not
   * filtering the agent. The grant counts as allocated to that framework until recover().
   */
  allocateCycle(): Allocation[] {
    const out: Allocation[] = [];
    if (this.dirty) this.reshare();
    if (this.roleHeap.size === 0 || this.offerable.size === 0) return out;
    const now = this.now();
    // Deleting the current element while iterating a Set is safe and visits the rest.
    for (const agent of this.offerable) this.grant(agent, now, out);
    return out;
  }

  /** The same over these agents only: the others wait for the next cycle. */
  allocateAgents(agentIds: Iterable<string>): Allocation[] {
    const out: Allocation[] = [];
    if (this.dirty) this.reshare();
    if (this.roleHeap.size === 0) return out;
    const now = this.now();
    for (const id of agentIds) {
      const agent = this.agents.get(id);
      if (agent && this.offerable.has(agent)) this.grant(agent, now, out);
    }
    return out;
  }

  private grant(agent: AgentState, now: number, out: Allocation[]): void {
    const fw = agent.filters.size === 0 ? this.roleHeap.items[0].candidates.items[0] : this.bestUnfiltered(agent, now);
    if (fw === undefined) return;
    out.push({ frameworkId: fw.id, agentId: agent.id, resources: this.grantFree(agent, fw) });
  }

  // -------------------------------------------------------------------------
  // Queries

  /** Free resources of an agent (clamped at zero); empty for an unknown agent. */
  available(agentId: string): Resources {
    const agent = this.agents.get(agentId);
    if (!agent) return toResources(zero(), []);
    return toResources(this.freeOf(agent), clonePorts(agent.freePorts));
  }

  /** What a framework holds on an agent. */
  allocation(frameworkId: string, agentId: string): Resources {
    const holding = this.agents.get(agentId)?.holdings.get(frameworkId);
    return holding ? toResources(holding, clonePorts(holding.ports)) : toResources(zero(), []);
  }

  /** Whether a filter keeps the agent from the framework right now. */
  isFiltered(frameworkId: string, agentId: string): boolean {
    const until = this.agents.get(agentId)?.filters.get(frameworkId);
    return until !== undefined && until > this.now();
  }

  /** Dominant share of a role (allocated/total over cpus, mem, disk, max) divided by its weight. */
  roleShare(role: string): number {
    const r = this.roles.get(role);
    return r ? this.dominantShare(r.used) / r.weight : 0;
  }

  frameworkShare(frameworkId: string): number {
    const fw = this.frameworks.get(frameworkId);
    return fw ? this.dominantShare(fw.used) : 0;
  }

  // -------------------------------------------------------------------------
  // Internals

  private requireFramework(id: string): FrameworkState {
    const fw = this.frameworks.get(id);
    if (!fw) throw new Error(`unknown framework ${id}`);
    return fw;
  }

  private roleFor(name: string): RoleState {
    let role = this.roles.get(name);
    if (!role) {
      role = {
        name,
        weight: this.weights.get(name) ?? 1,
        used: zero(),
        share: 0,
        heapIndex: -1,
        frameworks: new Set(),
        candidates: new Heap<FrameworkState>(frameworkLess),
      };
      this.roles.set(name, role);
    }
    return role;
  }

  /** Puts a framework (with its `role` set) into that role's accounting and heaps. */
  private attach(fw: FrameworkState): void {
    const role = fw.role;
    role.frameworks.add(fw);
    addTo(role.used, fw.used, 1);
    role.share = this.dominantShare(role.used) / role.weight;
    fw.share = this.dominantShare(fw.used);
    if (!fw.suppressed) {
      role.candidates.push(fw);
      this.candidateCount++;
    }
    this.placeRole(role);
  }

  private detach(fw: FrameworkState): void {
    const role = fw.role;
    if (fw.heapIndex >= 0) {
      role.candidates.remove(fw);
      this.candidateCount--;
    }
    role.frameworks.delete(fw);
    addTo(role.used, fw.used, -1);
    if (role.frameworks.size === 0) {
      if (role.heapIndex >= 0) this.roleHeap.remove(role);
      this.roles.delete(role.name);
      return;
    }
    role.share = this.dominantShare(role.used) / role.weight;
    this.placeRole(role);
  }

  private unsuppress(fw: FrameworkState): void {
    if (!fw.suppressed) return;
    fw.suppressed = false;
    fw.share = this.dominantShare(fw.used);
    fw.role.candidates.push(fw);
    this.candidateCount++;
    this.placeRole(fw.role);
  }

  /** Role heap membership follows "has an unsuppressed framework"; position follows its key. */
  private placeRole(role: RoleState): void {
    if (role.candidates.size === 0) {
      if (role.heapIndex >= 0) this.roleHeap.remove(role);
    } else if (role.heapIndex < 0) {
      this.roleHeap.push(role);
    } else {
      this.roleHeap.update(role);
    }
  }

  private clearFilters(fw: FrameworkState): void {
    for (const agentId of fw.filtered) this.agents.get(agentId)?.filters.delete(fw.id);
    fw.filtered.clear();
  }

  private holdingOf(agent: AgentState, fw: FrameworkState): Holding {
    let holding = agent.holdings.get(fw.id);
    if (!holding) {
      holding = { cpus: 0, mem: 0, disk: 0, ports: [] };
      agent.holdings.set(fw.id, holding);
      fw.holdings.set(agent.id, holding);
    }
    return holding;
  }

  private freeOf(agent: AgentState): Amount {
    return {
      cpus: Math.max(0, agent.total.cpus - agent.used.cpus),
      mem: Math.max(0, agent.total.mem - agent.used.mem),
      disk: Math.max(0, agent.total.disk - agent.used.disk),
    };
  }

  private freePortsOf(agent: AgentState): Range[] {
    let free = agent.totalPorts;
    for (const holding of agent.holdings.values()) {
      if (holding.ports.length > 0) free = subtractRanges(free, holding.ports);
    }
    return free === agent.totalPorts ? clonePorts(free) : free;
  }

  private refreshOfferable(agent: AgentState): void {
    const worthOffering =
      agent.active &&
      (agent.total.cpus - agent.used.cpus >= this.minCpus || agent.total.mem - agent.used.mem >= this.minMem);
    if (worthOffering) this.offerable.add(agent);
    else this.offerable.delete(agent);
  }

  private dominantShare(a: Amount): number {
    const inv = this.inv;
    return Math.max(a.cpus * inv.cpus, a.mem * inv.mem, a.disk * inv.disk);
  }

  private totalsChanged(): void {
    const t = this.total;
    this.inv = {
      cpus: t.cpus > 0 ? 1 / t.cpus : 0,
      mem: t.mem > 0 ? 1 / t.mem : 0,
      disk: t.disk > 0 ? 1 / t.disk : 0,
    };
    this.dirty = true;
  }

  /** New totals change every share: recompute all and re-heapify, O(R + F), once per cycle at most. */
  private reshare(): void {
    for (const role of this.roles.values()) {
      for (const fw of role.frameworks) fw.share = this.dominantShare(fw.used);
      role.share = this.dominantShare(role.used) / role.weight;
      role.candidates.rebuild();
    }
    this.roleHeap.rebuild();
    this.dirty = false;
  }

  private rerank(fw: FrameworkState): void {
    fw.share = this.dominantShare(fw.used);
    if (fw.heapIndex >= 0) fw.role.candidates.update(fw);
    this.rerankRole(fw.role);
  }

  private rerankRole(role: RoleState): void {
    role.share = this.dominantShare(role.used) / role.weight;
    if (role.heapIndex >= 0) this.roleHeap.update(role);
  }

  private grantFree(agent: AgentState, fw: FrameworkState): Resources {
    const free = this.freeOf(agent);
    const ports = agent.freePorts;
    const holding = this.holdingOf(agent, fw);
    addTo(holding, free, 1);
    if (ports.length > 0) holding.ports = holding.ports.length === 0 ? clonePorts(ports) : addRanges(holding.ports, ports);
    agent.freePorts = [];
    addTo(agent.used, free, 1);
    addTo(fw.used, free, 1);
    addTo(fw.role.used, free, 1);
    this.offerable.delete(agent);
    this.rerank(fw);
    return toResources(free, ports);
  }

  /** False while an unexpired filter stands; an expired one is dropped on the way. */
  private eligible(agent: AgentState, fw: FrameworkState, now: number): boolean {
    const until = agent.filters.get(fw.id);
    if (until === undefined) return true;
    if (until > now) return false;
    agent.filters.delete(fw.id);
    fw.filtered.delete(agent.id);
    return true;
  }

  /** The DRF winner for an agent that some frameworks filter, or undefined if all do. */
  private bestUnfiltered(agent: AgentState, now: number): FrameworkState | undefined {
    // A best-first walk costs ~f log f for f filtering frameworks; past a fraction of all
    // frameworks a plain scan is cheaper and bounded.
    if (agent.filters.size * 8 >= this.candidateCount) return this.scanUnfiltered(agent, now);

    // Candidates are framework heap nodes. Every node's key bounds its subtree from below, and
    // a role's best framework bounds the roles below it in the role heap, so popping in key
    // order visits frameworks in exact DRF order.
    const open: FrameworkState[] = [this.roleHeap.items[0].candidates.items[0]];
    const roles = this.roleHeap.items;
    while (open.length > 0) {
      const fw = popMin(open);
      if (this.eligible(agent, fw, now)) return fw;
      const role = fw.role;
      const inRole = role.candidates.items;
      const i = fw.heapIndex;
      if (2 * i + 1 < inRole.length) pushMin(open, inRole[2 * i + 1]);
      if (2 * i + 2 < inRole.length) pushMin(open, inRole[2 * i + 2]);
      if (i === 0) {
        const r = role.heapIndex;
        if (2 * r + 1 < roles.length) pushMin(open, roles[2 * r + 1].candidates.items[0]);
        if (2 * r + 2 < roles.length) pushMin(open, roles[2 * r + 2].candidates.items[0]);
      }
    }
    return undefined;
  }

  private scanUnfiltered(agent: AgentState, now: number): FrameworkState | undefined {
    let best: FrameworkState | undefined;
    for (const role of this.roleHeap.items) {
      if (best !== undefined && role.share > best.role.share) continue;
      for (const fw of role.candidates.items) {
        if ((best === undefined || rankLess(fw, best)) && this.eligible(agent, fw, now)) best = fw;
      }
    }
    return best;
  }
}

// A tiny binary heap over an array in DRF rank order, for the filtered-agent walk.
function pushMin(h: FrameworkState[], x: FrameworkState): void {
  let i = h.length;
  h.push(x);
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!rankLess(x, h[p])) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = x;
}

function popMin(h: FrameworkState[]): FrameworkState {
  const top = h[0];
  const last = h.pop() as FrameworkState;
  if (h.length > 0) {
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const c = l + 1 < n && rankLess(h[l + 1], h[l]) ? l + 1 : l;
      if (!rankLess(h[c], last)) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = last;
  }
  return top;
}
