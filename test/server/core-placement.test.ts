import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Range, Resources } from '../../protocol/types.js';
import { checkConstraints, type Constraint, type PlacedOn } from '../../server/core/constraints.js';
import { OfferPool, placeInstances, type InstanceRequest, type Placement, type PlacementOffer } from '../../server/core/placement.js';
import { containsResources, subtractRanges, subtractResources, toMilli } from '../../server/core/resources.js';

const res = (cpus: number, mem: number, disk = 0, ports: Range[] = []): Resources => ({ cpus, mem, disk, ports });

/** mock.offer(): an offer of agent `host`; the offer and agent ids derive from it. */
function offer(host: string, resources: Resources, attributes: Record<string, string> = {}, capabilities?: string[]): PlacementOffer {
  return { offerId: `o-${host}`, agentId: `a-${host}`, hostname: host, attributes, resources, ...(capabilities ? { capabilities } : {}) };
}

function request(over: Partial<InstanceRequest> = {}): InstanceRequest {
  return { cpus: 1, mem: 128, disk: 0, ports: [], constraints: [], ...over };
}

const c = (field: string, operator: Constraint['operator'], value?: string): Constraint =>
  value === undefined ? { field, operator } : { field, operator, value };
const hosts = (ps: Placement[]) => ps.map((p) => p.hostname);
const placedOn = (offers: PlacementOffer[], ps: Placement[]): PlacedOn[] =>
  ps.map((p) => {
    const o = offers.find((x) => x.offerId === p.offerId)!;
    return { hostname: o.hostname, attributes: o.attributes };
  });

describe('placement: resources', () => {
  it('puts several instances on one offer, subtracting as it goes, and says why the next did not fit', () => {
    const offers = [offer('h1', res(2, 4096, 1000))];
    const pool = new OfferPool(offers);
    const r = pool.place(request({ cpus: 0.5, mem: 256, disk: 100 }), [], 5);
    assert.equal(r.placements.length, 4);
    for (const p of r.placements) {
      assert.deepEqual(p, { offerId: 'o-h1', agentId: 'a-h1', hostname: 'h1', resources: res(0.5, 256, 100), ports: [] });
    }
    assert.deepEqual(pool.remaining('o-h1'), res(0, 3072, 600));
    assert.deepEqual(r.declined, [{ offerId: 'o-h1', agentId: 'a-h1', reasons: ['InsufficientCpus'] }]);
    assert.deepEqual(r.reasonCounts, { InsufficientCpus: 1 });
    assert.deepEqual(offers[0].resources, res(2, 4096, 1000), 'the input offer is not modified');
  });

  it('counts in thousandths: three 0.1-cpu instances fill a 0.3-cpu offer exactly', () => {
    const r = placeInstances([offer('h1', res(0.3, 300))], request({ cpus: 0.1, mem: 100 }), [], 4);
    assert.equal(r.placements.length, 3);
    assert.deepEqual(r.reasonCounts, { InsufficientCpus: 1, InsufficientMemory: 1 });
  });

  const insufficient: Array<{ name: string; offered: Resources; reasons: string[] }> = [
    { name: 'cpus', offered: res(0.5, 1024, 1000, [[1, 10]]), reasons: ['InsufficientCpus'] },
    { name: 'memory', offered: res(4, 64, 1000, [[1, 10]]), reasons: ['InsufficientMemory'] },
    { name: 'disk', offered: res(4, 1024, 10, [[1, 10]]), reasons: ['InsufficientDisk'] },
    { name: 'ports', offered: res(4, 1024, 1000, [[1, 1]]), reasons: ['InsufficientPorts'] },
    { name: 'everything', offered: res(0, 0, 0), reasons: ['InsufficientCpus', 'InsufficientMemory', 'InsufficientDisk', 'InsufficientPorts'] },
  ];
  for (const row of insufficient) {
    it(`declines an offer with too little ${row.name}`, () => {
      const r = placeInstances([offer('h1', row.offered)], request({ cpus: 1, mem: 128, disk: 100, ports: [0, 0] }), [], 1);
      assert.deepEqual(r.placements, []);
      assert.deepEqual(r.declined, [{ offerId: 'o-h1', agentId: 'a-h1', reasons: row.reasons }]);
      assert.deepEqual(r.reasonCounts, Object.fromEntries(row.reasons.map((x) => [x, 1])));
    });
  }

  it('sums reasons over the offers it looked at, and lists them in offer order', () => {
    const offers = [
      offer('small-cpu', res(0.5, 4096)),
      offer('fits', res(1, 4096)),
      offer('small-both', res(0.1, 64)),
      offer('small-mem', res(8, 64)),
    ];
    const r = placeInstances(offers, request({ cpus: 1, mem: 128 }), [], 3);
    assert.deepEqual(hosts(r.placements), ['fits']);
    assert.deepEqual(
      r.declined.map((d) => [d.offerId, d.reasons]),
      [
        ['o-small-cpu', ['InsufficientCpus']],
        ['o-fits', ['InsufficientCpus']],
        ['o-small-both', ['InsufficientCpus', 'InsufficientMemory']],
        ['o-small-mem', ['InsufficientMemory']],
      ],
    );
    assert.deepEqual(r.reasonCounts, { InsufficientCpus: 3, InsufficientMemory: 2 });
  });

  it('does not look at offers it did not need', () => {
    const offers = [offer('big', res(8, 8192)), offer('tiny', res(0.1, 10))];
    const r = placeInstances(offers, request(), [], 1);
    assert.deepEqual(hosts(r.placements), ['big']);
    assert.deepEqual(r.declined, []);
    assert.deepEqual(r.reasonCounts, {});
  });

  it('an OfferPool shares what is left between apps', () => {
    const offers = [offer('h1', res(2, 1024, 0, [[31000, 31001]])), offer('h2', res(1, 1024, 0, [[31000, 31001]]))];
    const pool = new OfferPool(offers);
    const a = pool.place(request({ cpus: 1, ports: [0] }), [], 3);
    assert.deepEqual(hosts(a.placements), ['h1', 'h2', 'h1']);
    const b = pool.place(request({ cpus: 0.5, ports: [0] }), [], 1);
    assert.deepEqual(b.placements, []);
    assert.deepEqual(b.reasonCounts, { InsufficientCpus: 2, InsufficientPorts: 1 });
    assert.deepEqual(pool.remaining('o-h2'), res(0, 896, 0, [[31001, 31001]]));
    assert.equal(pool.remaining('o-nope'), undefined);
  });

  it('rejects requests that are caller bugs', () => {
    const offers = [offer('h1', res(1, 1024))];
    assert.throws(() => placeInstances(offers, request(), [], -1), RangeError);
    assert.throws(() => placeInstances(offers, request(), [], 1.5), RangeError);
    assert.throws(() => placeInstances(offers, request({ cpus: Number.NaN }), [], 1), RangeError);
    assert.throws(() => placeInstances(offers, request({ ports: [70000] }), [], 1), RangeError);
    assert.deepEqual(placeInstances(offers, request(), [], 0), { placements: [], declined: [], reasonCounts: {} });
  });
});

describe('placement: ports', () => {
  it('any-port definitions take the lowest free ports, never the same one twice', () => {
    const pool = new OfferPool([offer('h1', res(8, 8192, 0, [[31000, 31002], [31005, 31010]]))]);
    const r = pool.place(request({ cpus: 0.1, ports: [0, 0] }), [], 3);
    assert.deepEqual(
      r.placements.map((p) => p.ports),
      [
        [31000, 31001],
        [31002, 31005],
        [31006, 31007],
      ],
    );
    assert.deepEqual(r.placements[1].resources.ports, [
      [31002, 31002],
      [31005, 31005],
    ]);
    assert.deepEqual(pool.remaining('o-h1')!.ports, [[31008, 31010]]);
  });

  it('requirePorts: the exact port, only on offers that have it, once per offer', () => {
    const offers = [offer('wide', res(8, 8192, 0, [[31000, 32000]])), offer('web', res(4, 8192, 0, [[80, 80], [8000, 9000]]))];
    const r = placeInstances(offers, request({ ports: [8080] }), [], 2);
    assert.deepEqual(r.placements, [{ offerId: 'o-web', agentId: 'a-web', hostname: 'web', resources: res(1, 128, 0, [[8080, 8080]]), ports: [8080] }]);
    assert.deepEqual(
      r.declined.map((d) => [d.offerId, d.reasons]),
      [
        ['o-wide', ['InsufficientPorts']],
        ['o-web', ['InsufficientPorts']],
      ],
    );
    assert.deepEqual(r.reasonCounts, { InsufficientPorts: 2 });
  });

  it('mixes exact and any ports in definition order, keeping the exact one out of the pick', () => {
    const r = placeInstances([offer('h1', res(8, 8192, 0, [[31000, 31010]]))], request({ ports: [0, 31000, 0] }), [], 1);
    assert.deepEqual(r.placements[0].ports, [31001, 31000, 31002]);
    assert.deepEqual(r.placements[0].resources.ports, [
      [31001, 31001],
      [31000, 31000],
      [31002, 31002],
    ]);
  });

  it('the same exact port twice cannot be satisfied', () => {
    const r = placeInstances([offer('h1', res(8, 8192, 0, [[80, 90]]))], request({ ports: [80, 80] }), [], 1);
    assert.deepEqual(r.placements, []);
    assert.deepEqual(r.reasonCounts, { InsufficientPorts: 1 });
  });
});

describe('placement: ranking', () => {
  it('prefers the agent with the most free cpus and mem', () => {
    const offers = [offer('small', res(2, 2048)), offer('big', res(8, 16384)), offer('mid', res(4, 8192))];
    assert.deepEqual(hosts(placeInstances(offers, request(), [], 1).placements), ['big']);
  });

  it('weighs cpus and mem by the largest offer, so MiB do not drown cpus', () => {
    // In raw units "mem-rich" has more (16 + 9000) than "cpu-rich" (64 + 8192); relative to the
    // largest offer, cpu-rich has 1 + 0.91 and mem-rich 0.25 + 1.
    const offers = [offer('mem-rich', res(16, 9000)), offer('cpu-rich', res(64, 8192))];
    assert.deepEqual(hosts(placeInstances(offers, request(), [], 1).placements), ['cpu-rich']);
  });

  it('spreads: fewest instances of the app on the agent first, existing ones included', () => {
    const offers = [offer('big', res(16, 16384)), offer('mid', res(8, 8192)), offer('small', res(4, 4096))];
    const r = placeInstances(offers, request(), [{ hostname: 'big', attributes: {} }], 5);
    assert.deepEqual(hosts(r.placements), ['mid', 'small', 'big', 'mid', 'small']);
  });

  it('counts instances per agent across two offers of the same agent', () => {
    const offers = [offer('h1', res(8, 8192)), { ...offer('h1', res(8, 8192)), offerId: 'o-h1-bis' }, offer('h2', res(4, 4096))];
    const r = placeInstances(offers, request(), [], 3);
    assert.deepEqual(
      r.placements.map((p) => p.offerId),
      ['o-h1', 'o-h2', 'o-h1-bis'],
    );
  });

  it('ties go to the earlier offer, and the same input gives the same answer', () => {
    const offers = ['c', 'a', 'b'].map((h) => offer(h, res(4, 4096, 0, [[31000, 31100]])));
    const run = () => placeInstances(offers, request({ ports: [0], constraints: [c('hostname', 'MAX_PER', '2')] }), [], 5);
    const first = run();
    assert.deepEqual(hosts(first.placements), ['c', 'a', 'b', 'c', 'a']);
    assert.deepEqual(run(), first);
  });
});

describe('placement: constraints and capabilities', () => {
  const five = () => ['h1', 'h2', 'h3', 'h4', 'h5'].map((h, i) => offer(h, res(4 + i, 4096 + 1024 * i)));

  it('UNIQUE hostname spreads 3 instances onto 3 of 5 agents, the roomiest ones', () => {
    const r = placeInstances(five(), request({ constraints: [c('hostname', 'UNIQUE')] }), [], 3);
    assert.deepEqual(hosts(r.placements), ['h5', 'h4', 'h3']);
    assert.deepEqual(r.declined, []);
  });

  it('UNIQUE hostname: existing instances rule their hosts out, and no host gets two', () => {
    const existing = [{ hostname: 'h5', attributes: {} }, { hostname: 'h3', attributes: {} }];
    const r = placeInstances(five(), request({ constraints: [c('hostname', 'UNIQUE')] }), existing, 5);
    assert.deepEqual(hosts(r.placements), ['h4', 'h2', 'h1']);
    // Every offer was looked at again for the 4th and 5th instance.
    assert.deepEqual(r.reasonCounts, { UnfulfilledConstraint: 5 });
    assert.equal(r.declined.length, 5);
  });

  it('MAX_PER counts existing and newly placed instances', () => {
    const offers = [offer('a1', res(8, 8192), { rack: 'r1' }), offer('a2', res(8, 8192), { rack: 'r1' }), offer('b1', res(8, 8192), { rack: 'r2' })];
    const r = placeInstances(offers, request({ constraints: [c('rack', 'MAX_PER', '2')] }), [{ hostname: 'x', attributes: { rack: 'r2' } }], 10);
    assert.deepEqual(hosts(r.placements), ['a1', 'a2', 'b1']);
    assert.deepEqual(r.reasonCounts, { UnfulfilledConstraint: 3 });
    assert.deepEqual(hosts(placeInstances(offers, request(), [], 4).placements), ['a1', 'a2', 'b1', 'a1'], 'without it, the fourth fits');
  });

  it('LIKE on rack: only matching racks; short of count, the others are declined with UnfulfilledConstraint', () => {
    const offers = [offer('a', res(8, 8192), { rack: 'r10' }), offer('b', res(2, 2048), { rack: 'r1' }), offer('c', res(8, 8192))];
    const req = request({ constraints: [c('rack', 'LIKE', 'r[1-3]')] });
    const enough = placeInstances(offers, req, [], 2);
    assert.deepEqual(hosts(enough.placements), ['b', 'b']);
    assert.deepEqual(enough.declined, [], 'count reached: offers never needed are not judged');
    const short = placeInstances(offers, req, [], 3);
    assert.deepEqual(hosts(short.placements), ['b', 'b']);
    assert.deepEqual(
      short.declined.map((d) => [d.offerId, d.reasons]),
      [
        ['o-a', ['UnfulfilledConstraint']],
        ['o-b', ['InsufficientCpus']],
        ['o-c', ['UnfulfilledConstraint']],
      ],
    );
    assert.deepEqual(short.reasonCounts, { UnfulfilledConstraint: 2, InsufficientCpus: 1 });
  });

  it('CLUSTER without a value keeps every instance on the first one’s rack', () => {
    const offers = [offer('a', res(2, 8192), { rack: 'r1' }), offer('b', res(8, 8192), { rack: 'r2' }), offer('c', res(2, 8192), { rack: 'r2' })];
    const r = placeInstances(offers, request({ constraints: [c('rack', 'CLUSTER')] }), [], 4);
    assert.deepEqual(hosts(r.placements), ['b', 'c', 'b', 'c']);
    const again = placeInstances(offers, request({ constraints: [c('rack', 'CLUSTER')] }), [{ hostname: 'old', attributes: { rack: 'r1' } }], 4);
    assert.deepEqual(hosts(again.placements), ['a', 'a']);
  });

  it('a required capability declines agents without it', () => {
    const offers = [offer('plain', res(8, 8192)), offer('dock', res(2, 2048), {}, ['docker']), offer('other', res(8, 8192), {}, ['gpu'])];
    const r = placeInstances(offers, request({ requires: ['docker'] }), [], 3);
    assert.deepEqual(hosts(r.placements), ['dock', 'dock']);
    assert.deepEqual(
      r.declined.map((d) => [d.offerId, d.reasons]),
      [
        ['o-plain', ['UnfulfilledCapability']],
        ['o-dock', ['InsufficientCpus']],
        ['o-other', ['UnfulfilledCapability']],
      ],
    );
    assert.deepEqual(r.reasonCounts, { UnfulfilledCapability: 2, InsufficientCpus: 1 });
    assert.equal(placeInstances(offers, request(), [], 1).placements[0].hostname, 'plain', 'no requirement: any agent');
  });

  it('GROUP_BY zone evens out over successive calls, whatever the offer order', () => {
    // Zone a has the most room and would win the ranking every time.
    const offers = [
      offer('a1', res(64, 65536), { zone: 'a' }),
      offer('a2', res(64, 65536), { zone: 'a' }),
      offer('b1', res(8, 8192), { zone: 'b' }),
      offer('c1', res(8, 8192), { zone: 'c' }),
    ];
    const run = (req: InstanceRequest, even: boolean) => {
      const existing: PlacedOn[] = [];
      const perZone = () => ['a', 'b', 'c'].map((z) => existing.filter((p) => p.attributes.zone === z).length);
      for (let n = 0; n < 6; n++) {
        const r = placeInstances(offers, req, existing, 1);
        assert.equal(r.placements.length, 1);
        existing.push(...placedOn(offers, r.placements));
        const counts = perZone();
        if (even) assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `after ${n + 1}: ${counts}`);
      }
      return perZone();
    };
    assert.deepEqual(run(request({ constraints: [c('zone', 'GROUP_BY')] }), true), [2, 2, 2]);
    // Spreading over agents alone gives zone a, with two agents, twice the share.
    assert.deepEqual(run(request(), false), [4, 1, 1]);
  });

  it('GROUP_BY within one call alternates zones and reports the offers it held back', () => {
    const offers = [offer('a1', res(64, 65536), { zone: 'a' }), offer('a2', res(64, 65536), { zone: 'a' }), offer('b1', res(2, 8192), { zone: 'b' })];
    const r = placeInstances(offers, request({ constraints: [c('zone', 'GROUP_BY')] }), [], 6);
    // Zone a may be one ahead of b, not two; b1 is then out of cpus, so a1 and a2 wait in vain.
    assert.deepEqual(hosts(r.placements), ['a1', 'b1', 'a2', 'b1', 'a1']);
    assert.deepEqual(
      r.declined.map((d) => [d.offerId, d.reasons]),
      [
        ['o-a1', ['UnfulfilledConstraint']],
        ['o-a2', ['UnfulfilledConstraint']],
        ['o-b1', ['InsufficientCpus']],
      ],
    );
  });

  it('GROUP_BY N holds back until N groups have instances', () => {
    const offers = [offer('a1', res(8, 8192), { zone: 'a' }), offer('b1', res(8, 8192), { zone: 'b' })];
    const r = placeInstances(offers, request({ constraints: [c('zone', 'GROUP_BY', '3')] }), [], 4);
    assert.deepEqual(hosts(r.placements), ['a1', 'b1']);
    assert.deepEqual(r.reasonCounts, { UnfulfilledConstraint: 2 });
  });

  it('GROUP_BY does not wait for a zone whose offers are all too small for the app', () => {
    const offers = [offer('a1', res(8, 8192), { zone: 'a' }), offer('b1', res(8, 8192), { zone: 'b' }), offer('c1', res(0.5, 8192), { zone: 'c' })];
    const existing = [{ hostname: 'a1', attributes: { zone: 'a' } }, { hostname: 'b1', attributes: { zone: 'b' } }];
    const r = placeInstances(offers, request({ constraints: [c('zone', 'GROUP_BY')] }), existing, 2);
    assert.deepEqual(hosts(r.placements), ['a1', 'b1']);
    // With room in zone c, c comes first.
    offers[2] = offer('c1', res(1, 8192), { zone: 'c' });
    assert.deepEqual(hosts(placeInstances(offers, request({ constraints: [c('zone', 'GROUP_BY')] }), existing, 2).placements), ['c1', 'a1']);
  });

  it('GROUP_BY spreads over the values the caller says have room elsewhere, and waits for their offers', () => {
    // offers from zone a alone, as when the other zones' agents were declined a moment ago
    const offers = [offer('a1', res(64, 65536), { zone: 'a' }), offer('a2', res(64, 65536), { zone: 'a' })];
    const req = request({ constraints: [c('zone', 'GROUP_BY')] });
    // knowing only the offers' values (Marathon's rule), every instance goes to zone a
    assert.deepEqual(hosts(new OfferPool(offers).place(req, [], 6).placements), ['a1', 'a2', 'a1', 'a2', 'a1', 'a2']);
    // zones b and c have room on agents that made no offer here: a takes one, then the app waits
    const roomy = new Map([['zone', new Set(['b', 'c'])]]);
    const r = new OfferPool(offers).place(req, [], 6, { roomy });
    assert.deepEqual(hosts(r.placements), ['a1']);
    assert.deepEqual(r.reasonCounts, { UnfulfilledConstraint: 2 });
    // once b and c have one each, a may take its next
    const existing = [{ hostname: 'b1', attributes: { zone: 'b' } }, { hostname: 'c1', attributes: { zone: 'c' } }, ...placedOn(offers, r.placements)];
    assert.deepEqual(hosts(new OfferPool(offers).place(req, existing, 5, { roomy }).placements), ['a2']);
    // a value with room for this field only: another field's GROUP_BY is not held back by it
    assert.equal(new OfferPool(offers).place(request({ constraints: [c('hostname', 'GROUP_BY')] }), [], 6, { roomy }).placements.length, 6);
  });

  it('a missing attribute fails every operator but UNLIKE', () => {
    const offers = [offer('bare', res(8, 8192)), offer('tagged', res(1, 1024), { rack: 'r1' })];
    for (const [constraint, expected] of [
      [c('rack', 'UNIQUE'), 'tagged'],
      [c('rack', 'CLUSTER'), 'tagged'],
      [c('rack', 'GROUP_BY'), 'tagged'],
      [c('rack', 'LIKE', '.*'), 'tagged'],
      [c('rack', 'MAX_PER', '3'), 'tagged'],
      [c('rack', 'IS', 'r1'), 'tagged'],
      [c('rack', 'UNLIKE', 'r1'), 'bare'],
    ] as const) {
      assert.deepEqual(hosts(placeInstances(offers, request({ constraints: [constraint] }), [], 1).placements), [expected], constraint.operator);
    }
  });
});

// ---------------------------------------------------------------------------
// The lazy pipeline against the obvious one: for every instance, filter every offer, rank
// the rest, take the best. Random small clusters, shared hosts, tight resources.

function prng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

/** What is left of each offer, and the ranking weights fixed when the offers came. */
interface RefState {
  left: Resources[];
  maxCpus: number;
  maxMem: number;
}

const refState = (offers: PlacementOffer[]): RefState => ({
  left: offers.map((o) => ({ ...o.resources, ports: o.resources.ports.map((r): Range => [r[0], r[1]]) })),
  maxCpus: Math.max(0, ...offers.map((o) => toMilli(o.resources.cpus))),
  maxMem: Math.max(0, ...offers.map((o) => toMilli(o.resources.mem))),
});

function referencePlace(
  offers: PlacementOffer[],
  req: InstanceRequest,
  existing: PlacedOn[],
  count: number,
  state = refState(offers),
): Array<[string, number[]]> {
  const { left, maxCpus, maxMem } = state;
  const score = (r: Resources) => toMilli(r.cpus) * (maxCpus > 0 ? 1 / maxCpus : 0) + toMilli(r.mem) * (maxMem > 0 ? 1 / maxMem : 0);
  const placed = [...existing];
  const exact = req.ports.filter((p) => p !== 0);
  const out: Array<[string, number[]]> = [];
  const need = (i: number): { ports: number[]; fits: boolean } => {
    const free = subtractRanges(left[i].ports, exact.map((p): Range => [p, p]));
    const picked: number[] = [];
    for (const [b, e] of free) for (let p = b; p <= e && picked.length < req.ports.length - exact.length; p++) picked.push(p);
    let k = 0;
    const ports = req.ports.map((p) => (p === 0 ? picked[k++] : p));
    const fits =
      new Set(exact).size === exact.length &&
      picked.length === req.ports.length - exact.length &&
      containsResources(left[i], res(req.cpus, req.mem, req.disk, ports.map((p): Range => [p, p])));
    return { ports, fits };
  };
  const groupBys = req.constraints.filter((x) => x.operator === 'GROUP_BY');
  // GROUP_BY's own refusal is the only one that can lift; one for a missing attribute cannot.
  const rules = [...req.constraints.filter((x) => x.operator !== 'GROUP_BY'), ...groupBys.map((g) => c(g.field, 'LIKE', '[\\s\\S]*'))];
  for (let n = 0; n < count; n++) {
    const usable = offers.map(
      (o, i) => need(i).fits && (req.requires ?? []).every((x) => o.capabilities?.includes(x)) && checkConstraints(rules, o, placed).length === 0,
    );
    // Values an instance could still go to, GROUP_BY aside; as placeInstances documents.
    const known = new Map<string, Set<string>>();
    for (const g of groupBys) {
      const set = new Set<string>();
      offers.forEach((o, i) => {
        const v = g.field === 'hostname' ? o.hostname : o.attributes[g.field];
        if (usable[i] && v !== undefined) set.add(v);
      });
      known.set(g.field, set);
    }
    let best = -1;
    const onHost = (h: string) => placed.filter((p) => p.hostname === h).length;
    offers.forEach((o, i) => {
      if (!usable[i] || checkConstraints(groupBys, o, placed, known).length > 0) return;
      if (best < 0) {
        best = i;
        return;
      }
      const [hi, hb] = [onHost(o.hostname), onHost(offers[best].hostname)];
      if (hi < hb || (hi === hb && score(left[i]) > score(left[best]))) best = i;
    });
    if (best < 0) break;
    const { ports } = need(best);
    left[best] = subtractResources(left[best], res(req.cpus, req.mem, req.disk, ports.map((p): Range => [p, p])));
    placed.push({ hostname: offers[best].hostname, attributes: offers[best].attributes });
    out.push([offers[best].offerId, ports]);
  }
  return out;
}

describe('placement: matches the exhaustive reference', () => {
  const menu: Constraint[][] = [
    [],
    [c('hostname', 'UNIQUE')],
    [c('zone', 'GROUP_BY')],
    [c('zone', 'GROUP_BY', '3')],
    [c('rack', 'MAX_PER', '2')],
    [c('rack', 'LIKE', 'r[0-2]')],
    [c('rack', 'UNLIKE', 'r1')],
    [c('rack', 'CLUSTER')],
    [c('zone', 'IS', 'z1')],
    [c('zone', 'GROUP_BY'), c('hostname', 'MAX_PER', '2')],
    [c('zone', 'GROUP_BY'), c('rack', 'GROUP_BY')],
    [c('hostname', 'GROUP_BY'), c('rack', 'LIKE', 'r[1-3]')],
  ];
  it('gives the same placements on 400 random clusters', () => {
    let groupByCases = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const rnd = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
      const nOffers = 1 + Math.floor(rnd() * 10);
      const offers: PlacementOffer[] = [];
      for (let i = 0; i < nOffers; i++) {
        // Some hosts get two offers, so counts per agent and per offer differ.
        const host = `h${Math.floor(rnd() * nOffers * 0.8)}`;
        const attributes: Record<string, string> = {};
        if (rnd() < 0.9) attributes.zone = `z${Math.floor(rnd() * 3)}`;
        if (rnd() < 0.9) attributes.rack = `r${Math.floor(rnd() * 5)}`;
        const r = res(pick([0.5, 1, 2, 3, 4]), pick([256, 512, 1024, 2048]), pick([0, 100]), pick([[], [[31000, 31002]], [[80, 80], [31000, 31001]]] as Range[][]));
        offers.push({ offerId: `o${i}`, agentId: `a-${host}`, hostname: host, attributes, resources: r, ...(rnd() < 0.5 ? { capabilities: ['docker'] } : {}) });
      }
      const req = request({
        cpus: pick([0.5, 1, 1.5]),
        mem: pick([128, 256, 512]),
        disk: pick([0, 50]),
        ports: pick([[], [0], [0, 0], [80], [0, 31001]]),
        constraints: pick(menu),
        ...(rnd() < 0.2 ? { requires: ['docker'] } : {}),
      });
      if (req.constraints.some((x) => x.operator === 'GROUP_BY')) groupByCases++;
      const existing: PlacedOn[] = [];
      const nExisting = Math.floor(rnd() * 4);
      for (let k = 0; k < nExisting; k++) {
        const o = pick(offers);
        existing.push({ hostname: o.hostname, attributes: o.attributes });
      }
      const count = 1 + Math.floor(rnd() * 8);
      const got = placeInstances(offers, req, existing, count).placements.map((p): [string, number[]] => [p.offerId, p.ports]);
      const want = referencePlace(offers, req, existing, count);
      assert.deepEqual(got, want, `seed ${seed}: ${JSON.stringify({ req, existing, count })}`);
    }
    assert.ok(groupByCases > 100, `GROUP_BY exercised (${groupByCases} cases)`);
  });

  it('an OfferPool serving several apps in turn matches it too', () => {
    // The pool keeps rankings across calls and updates them as it takes resources.
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = prng(seed * 7919);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
      const offers: PlacementOffer[] = [];
      const nOffers = 2 + Math.floor(rnd() * 12);
      for (let i = 0; i < nOffers; i++) {
        const host = `h${i}`;
        const attributes = { zone: `z${Math.floor(rnd() * 3)}`, rack: `r${Math.floor(rnd() * 4)}` };
        offers.push(offer(host, res(pick([1, 2, 4]), pick([512, 1024, 4096]), 0, [[31000, 31000 + Math.floor(rnd() * 4)]]), attributes));
      }
      const pool = new OfferPool(offers);
      const state = refState(offers);
      for (let app = 0; app < 6; app++) {
        const req = request({ cpus: pick([0.5, 1]), mem: pick([128, 512]), ports: pick([[], [0]]), constraints: pick(menu) });
        const count = 1 + Math.floor(rnd() * 5);
        const got = pool.place(req, [], count).placements.map((p): [string, number[]] => [p.offerId, p.ports]);
        assert.deepEqual(got, referencePlace(offers, req, [], count, state), `seed ${seed}, app ${app}: ${JSON.stringify(req)}`);
      }
    }
  });
});
