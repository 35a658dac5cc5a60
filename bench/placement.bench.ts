// Placement of 100,000 service instances onto 10,000 agents against a same-run bare loop.
//   npx tsx bench/placement.bench.ts
//
// 1,000 apps × 100 instances, every app with a constraint: a third `hostname MAX_PER 5`, a
// third `zone GROUP_BY` (12 zones), a third `rack LIKE rack-0[0-5]\d` (60 of 250 racks). Each
// instance takes one any-port. Agents have plenty of room, attributes region/zone/rack.
// Two offer cycles: in the first every app gets 50 instances, in the second 50 more next to
// its existing 50 (so constraints and spreading see existing instances).
//
// Contenders, over the same agent table:
// - OfferPool: one pool per cycle, `pool.place(app, existing, 50)` per app; what the services
//   framework does with a cycle's offers.
// - placeInstances: the one-shot function per app, the caller subtracting what was placed
//   from its offers before the next app (each call ranks the 10,000 offers afresh).
// - baseline: the bare loop, no constraints and no ranking: first fit, scanning the agents
//   from the first for one with room, lowest free port, and the same Placement objects out.
// value and baseline are placements per second; ratio = value / baseline (higher is better).

import { pathToFileURL } from 'node:url';
import type { Range, Resources } from '../protocol/types.js';
import type { Constraint, PlacedOn } from '../server/core/constraints.js';
import { OfferPool, placeInstances, type InstanceRequest, type Placement, type PlacementOffer } from '../server/core/placement.js';
import { fromMilli, subtractResources, toMilli } from '../server/core/resources.js';
import type { BenchResult } from './allocator.bench.js';

const AGENTS = 10_000;
const APPS = 1_000;
const PER_APP = 100;
const CYCLES = 2;
const RACKS = 250;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** Runs before timing starts: the JIT settles slowly on this much code. */
const WARMUP = 2;

interface Agent {
  agentId: string;
  hostname: string;
  attributes: Record<string, string>;
  resources: Resources;
}

interface App {
  req: InstanceRequest;
}

function prng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

function makeCluster(): { agents: Agent[]; apps: App[] } {
  const rnd = prng(42);
  const agents: Agent[] = [];
  for (let i = 0; i < AGENTS; i++) {
    const rack = Math.floor(rnd() * RACKS);
    const region = rack % 4;
    agents.push({
      agentId: `agent-${i}`,
      hostname: `host-${String(i).padStart(5, '0')}.dc`,
      attributes: { region: `region-${region}`, zone: `region-${region}-z${rack % 3}`, rack: `rack-${String(rack).padStart(3, '0')}` },
      resources: { cpus: 16 * (1 + Math.floor(rnd() * 4)), mem: 65536 * (1 + Math.floor(rnd() * 4)), disk: 512_000, ports: [[31000, 32000]] },
    });
  }
  const apps: App[] = [];
  for (let a = 0; a < APPS; a++) {
    const constraint: Constraint =
      a % 3 === 0
        ? { field: 'hostname', operator: 'MAX_PER', value: '5' }
        : a % 3 === 1
          ? { field: 'zone', operator: 'GROUP_BY' }
          : { field: 'rack', operator: 'LIKE', value: 'rack-0[0-5]\\d' };
    apps.push({ req: { cpus: [0.25, 0.5, 1][a % 3 === 2 ? 0 : Math.floor(rnd() * 3)], mem: 128 * (1 + Math.floor(rnd() * 8)), disk: 0, ports: [0], constraints: [constraint] } });
  }
  return { agents, apps };
}

const offerOf = (a: Agent, cycle: number, resources: Resources): PlacementOffer => ({
  offerId: `offer-${cycle}-${a.agentId}`,
  agentId: a.agentId,
  hostname: a.hostname,
  attributes: a.attributes,
  resources,
});

interface Run {
  ms: number;
  placements: Placement[][];
}

/** placements[app] in order; `existing` for an app is where its earlier placements went. */
function runPool(agents: Agent[], apps: App[]): Run {
  const byAgent = new Map(agents.map((a) => [a.agentId, a]));
  const placements: Placement[][] = apps.map(() => []);
  const existing: PlacedOn[][] = apps.map(() => []);
  let free = agents.map((a) => a.resources);
  let ms = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    // The offers arrive from the master; building them is not placement work.
    const offers = agents.map((a, i) => offerOf(a, cycle, free[i]));
    const start = performance.now();
    const pool = new OfferPool(offers);
    for (let a = 0; a < apps.length; a++) {
      const r = pool.place(apps[a].req, existing[a], PER_APP / CYCLES);
      for (const p of r.placements) {
        placements[a].push(p);
        existing[a].push(byAgent.get(p.agentId)!);
      }
    }
    ms += performance.now() - start;
    free = offers.map((o) => pool.remaining(o.offerId)!);
  }
  return { ms, placements };
}

function runOneShot(agents: Agent[], apps: App[]): Run {
  const byAgent = new Map(agents.map((a) => [a.agentId, a]));
  const placements: Placement[][] = apps.map(() => []);
  const existing: PlacedOn[][] = apps.map(() => []);
  let free = agents.map((a) => a.resources);
  let ms = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const offers = agents.map((a, i) => offerOf(a, cycle, free[i]));
    const index = new Map(offers.map((o, i) => [o.offerId, i]));
    const start = performance.now();
    for (let a = 0; a < apps.length; a++) {
      const r = placeInstances(offers, apps[a].req, existing[a], PER_APP / CYCLES);
      for (const p of r.placements) {
        const i = index.get(p.offerId)!;
        offers[i] = { ...offers[i], resources: subtractResources(offers[i].resources, p.resources) };
        placements[a].push(p);
        existing[a].push(byAgent.get(p.agentId)!);
      }
    }
    ms += performance.now() - start;
    free = offers.map((o) => o.resources);
  }
  return { ms, placements };
}

/** The bare loop: first fit from the first agent, no constraints, no ranking. */
function runBaseline(agents: Agent[], apps: App[]): Run {
  const n = agents.length;
  const cpus = new Float64Array(n);
  const mem = new Float64Array(n);
  const disk = new Float64Array(n);
  const ports: Range[][] = [];
  agents.forEach((a, i) => {
    cpus[i] = toMilli(a.resources.cpus);
    mem[i] = toMilli(a.resources.mem);
    disk[i] = toMilli(a.resources.disk);
    ports.push(a.resources.ports.map((r): Range => [r[0], r[1]]));
  });
  const placements: Placement[][] = apps.map(() => []);
  let ms = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const start = performance.now();
    for (let a = 0; a < apps.length; a++) {
      const req = apps[a].req;
      const [c, m, d] = [toMilli(req.cpus), toMilli(req.mem), toMilli(req.disk)];
      for (let k = 0; k < PER_APP / CYCLES; k++) {
        let i = 0;
        while (i < n && (cpus[i] < c || mem[i] < m || disk[i] < d || ports[i].length === 0)) i++;
        if (i === n) break;
        cpus[i] -= c;
        mem[i] -= m;
        disk[i] -= d;
        const range = ports[i][0];
        const port = range[0];
        if (range[0] === range[1]) ports[i].shift();
        else range[0]++;
        const agent = agents[i];
        placements[a].push({
          offerId: `offer-${cycle}-${agent.agentId}`,
          agentId: agent.agentId,
          hostname: agent.hostname,
          resources: { cpus: fromMilli(c), mem: fromMilli(m), disk: fromMilli(d), ports: [[port, port]] },
          ports: [port],
        });
      }
    }
    ms += performance.now() - start;
  }
  return { ms, placements };
}

/** Not timed: the runs placed everything, and the constrained ones kept the constraints. */
function verify(name: string, run: Run, agents: Agent[], apps: App[], constrained: boolean): void {
  const byAgent = new Map(agents.map((a) => [a.agentId, a]));
  const total = run.placements.reduce((s, p) => s + p.length, 0);
  if (total !== APPS * PER_APP) throw new Error(`${name}: placed ${total} of ${APPS * PER_APP}`);
  if (!constrained) return;
  const rackLike = /^(?:rack-0[0-5]\d)$/;
  run.placements.forEach((ps, a) => {
    const c = apps[a].req.constraints[0];
    const counts = new Map<string, number>();
    for (const p of ps) {
      const agent = byAgent.get(p.agentId)!;
      const v = c.field === 'hostname' ? agent.hostname : agent.attributes[c.field];
      counts.set(v, (counts.get(v) ?? 0) + 1);
      if (c.operator === 'LIKE' && !rackLike.test(v)) throw new Error(`${name}: app ${a} on ${v}`);
    }
    if (c.operator === 'MAX_PER' && Math.max(...counts.values()) > 5) throw new Error(`${name}: app ${a} has more than 5 on a host`);
    if (c.operator === 'GROUP_BY') {
      const zones = new Set(agents.map((x) => x.attributes.zone));
      const per = [...zones].map((z) => counts.get(z) ?? 0);
      if (Math.max(...per) - Math.min(...per) > 1) throw new Error(`${name}: app ${a} zones uneven: ${per}`);
    }
  });
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

export async function runPlacementBench(): Promise<BenchResult[]> {
  const { agents, apps } = makeCluster();
  const total = APPS * PER_APP;
  const contenders: Array<[string, () => Run, boolean]> = [
    ['baseline', () => runBaseline(agents, apps), false],
    ['OfferPool', () => runPool(agents, apps), true],
    ['placeInstances', () => runOneShot(agents, apps), true],
  ];
  // Interleaved, so load from elsewhere on the machine falls on every contender alike.
  const times = contenders.map((): number[] => []);
  for (let k = 0; k < WARMUP + RUNS; k++) {
    contenders.forEach(([name, run, constrained], c) => {
      const r = run();
      if (k === 0) verify(name, r, agents, apps, constrained);
      if (k >= WARMUP) times[c].push(r.ms);
    });
  }
  const rate = (c: number) => Math.round(total / (median(times[c]) / 1000));
  const base = rate(0);
  const row = (name: string, c: number): BenchResult => ({
    name,
    value: rate(c),
    unit: 'placements/s',
    baseline: base,
    ratio: Math.round((rate(c) / base) * 100) / 100,
  });
  return [
    row(`place ${total / 1000}k instances on ${AGENTS / 1000}k agents, OfferPool per cycle (throughput)`, 1),
    row(`place ${total / 1000}k instances on ${AGENTS / 1000}k agents, placeInstances per app (throughput)`, 2),
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`placement: ${APPS} apps × ${PER_APP} instances onto ${AGENTS} agents in ${CYCLES} cycles, median of ${RUNS} after ${WARMUP} warm-up runs (node ${process.version})`);
  for (const r of await runPlacementBench()) {
    console.log(`${r.name}: ${r.value} ${r.unit}; bare first-fit loop ${r.baseline} ${r.unit}; ratio ${r.ratio}×`);
  }
}
