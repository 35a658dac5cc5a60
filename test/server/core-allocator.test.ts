import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Range, Resources } from '../../protocol/types.js';
import { Allocator, type Allocation } from '../../server/core/allocator.js';
import { toMilli } from '../../server/core/resources.js';

const res = (cpus: number, mem: number, disk = 0, ports: Range[] = []): Resources => ({ cpus, mem, disk, ports });

function setup(opts: { minCpus?: number; minMem?: number } = {}) {
  const clock = { t: 1_000_000 };
  const alloc = new Allocator({ now: () => clock.t, ...opts });
  return { clock, alloc };
}

/** "agent→framework" pairs, in the order the cycle produced them. */
const pairs = (out: Allocation[]) => out.map((a) => `${a.agentId}→${a.frameworkId}`);
const countBy = (out: Allocation[]) => {
  const n: Record<string, number> = {};
  for (const a of out) n[a.frameworkId] = (n[a.frameworkId] ?? 0) + 1;
  return n;
};
const near = (actual: number, expected: number, message?: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${message ?? 'share'}: ${actual} != ${expected}`);
const recoverAll = (alloc: Allocator, out: Allocation[]) => {
  for (const a of out) alloc.recover(a.agentId, a.frameworkId, a.resources);
};

describe('allocator: offers', () => {
  it('offers only the agents asked for, with the same choice of framework as a cycle', () => {
    const { alloc } = setup();
    alloc.addFramework('f1', '*');
    alloc.addFramework('f2', '*');
    for (const id of ['a1', 'a2', 'a3']) alloc.addAgent(id, res(4, 4096));
    alloc.filter('f1', 'a2', 60);
    const out = alloc.allocateAgents(['a2', 'a3', 'nope']);
    // a2 goes to f2, which has no filter on it; a1 was not asked for
    assert.deepEqual(pairs(out).sort(), ['a2→f2', 'a3→f1']);
    assert.deepEqual(alloc.allocateAgents(['a2', 'a3']), [], 'what is offered is not offered again');
    assert.deepEqual(alloc.allocateCycle().map((a) => a.agentId), ['a1'], 'the rest waits for the cycle');
  });

  it('gives a single framework every agent, whole, once', () => {
    const { alloc } = setup();
    alloc.addFramework('fw', 'web');
    alloc.addAgent('a1', res(4, 4096, 100, [[31000, 31010]]));
    alloc.addAgent('a2', res(2, 1024));
    alloc.addAgent('a3', res(1, 512));
    const out = alloc.allocateCycle();
    assert.deepEqual(out, [
      { frameworkId: 'fw', agentId: 'a1', resources: res(4, 4096, 100, [[31000, 31010]]) },
      { frameworkId: 'fw', agentId: 'a2', resources: res(2, 1024) },
      { frameworkId: 'fw', agentId: 'a3', resources: res(1, 512) },
    ]);
    assert.deepEqual(alloc.available('a1'), res(0, 0));
    assert.deepEqual(alloc.allocation('fw', 'a1'), res(4, 4096, 100, [[31000, 31010]]));
    assert.deepEqual(alloc.allocateCycle(), [], 'offered resources stay allocated until recovered');
    assert.equal(alloc.frameworkShare('fw'), 1);
    assert.equal(alloc.roleShare('web'), 1);
  });

  it('offers nothing without frameworks and keeps the agents free', () => {
    const { alloc } = setup();
    alloc.addAgent('a1', res(1, 128));
    assert.deepEqual(alloc.allocateCycle(), []);
    assert.deepEqual(alloc.available('a1'), res(1, 128));
  });

  it('recover makes exactly the returned resources offerable again', () => {
    const { alloc } = setup();
    alloc.addFramework('fw', 'r');
    alloc.addAgent('a1', res(4, 4096, 0, [[31000, 31009]]));
    const [offer] = alloc.allocateCycle();
    // The framework launches a task on part of the offer and gives back the rest.
    const rest = res(3, 3584, 0, [[31001, 31009]]);
    alloc.recover('a1', 'fw', rest);
    assert.deepEqual(alloc.available('a1'), rest);
    assert.deepEqual(alloc.allocateCycle(), [{ frameworkId: 'fw', agentId: 'a1', resources: rest }]);
    // The task ends: its resources come back too.
    alloc.recover('a1', 'fw', res(1, 512, 0, [[31000, 31000]]));
    alloc.recover('a1', 'fw', rest);
    assert.deepEqual(alloc.available('a1'), offer.resources);
    assert.deepEqual(alloc.allocation('fw', 'a1'), res(0, 0));
  });

  it('does not offer an agent whose free cpus and mem are both below the minimum (Mesos OR rule)', () => {
    const { alloc } = setup();
    alloc.addFramework('fw', 'r');
    alloc.addAgent('a1', res(1, 256));
    alloc.allocateCycle();
    alloc.recover('a1', 'fw', res(0.005, 16, 0));
    assert.deepEqual(alloc.allocateCycle(), [], '0.005 cpus and 16 MiB are not worth an offer');
    alloc.recover('a1', 'fw', res(0, 16));
    assert.deepEqual(pairs(alloc.allocateCycle()), ['a1→fw'], 'mem alone reaching 32 MiB is enough');
    alloc.recover('a1', 'fw', res(0.01, 0));
    assert.deepEqual(alloc.allocateCycle()[0]?.resources, res(0.01, 0), 'cpus alone reaching 0.01 is enough');
  });

  it('honours custom minimums', () => {
    const { alloc } = setup({ minCpus: 1, minMem: 1024 });
    alloc.addFramework('fw', 'r');
    alloc.addAgent('small', res(0.5, 512));
    alloc.addAgent('big', res(1, 0));
    assert.deepEqual(pairs(alloc.allocateCycle()), ['big→fw']);
  });
});

describe('allocator: DRF', () => {
  it('alternates between two frameworks of one role, always to the lower share', () => {
    const { alloc } = setup();
    alloc.addFramework('b', 'r');
    alloc.addFramework('a', 'r');
    for (let i = 1; i <= 6; i++) alloc.addAgent(`n${i}`, res(4, 4096));
    const first = alloc.allocateCycle();
    assert.deepEqual(pairs(first), ['n1→a', 'n2→b', 'n3→a', 'n4→b', 'n5→a', 'n6→b'], 'ties go to the lower id');
    assert.equal(alloc.frameworkShare('a'), 0.5);

    // b declines everything: it is now far below a, so it wins every free agent until level.
    recoverAll(alloc, first.filter((x) => x.frameworkId === 'b'));
    assert.equal(alloc.frameworkShare('b'), 0);
    assert.deepEqual(pairs(alloc.allocateCycle()), ['n2→b', 'n4→b', 'n6→b']);

    // a gives one agent back: a is lower now, so a gets it.
    alloc.recover('n1', 'a', res(4, 4096));
    assert.ok(alloc.frameworkShare('a') < alloc.frameworkShare('b'));
    assert.deepEqual(pairs(alloc.allocateCycle()), ['n1→a']);

    // Both give one back; equal shares, so the lower id first, then the other.
    alloc.recover('n3', 'a', res(4, 4096));
    alloc.recover('n4', 'b', res(4, 4096));
    assert.deepEqual(pairs(alloc.allocateCycle()).sort(), ['n3→a', 'n4→b']);
  });

  it('compares dominant shares, not one resource', () => {
    const { alloc } = setup();
    alloc.addFramework('a', 'r');
    alloc.addFramework('b', 'r');
    alloc.addAgent('memory-heavy', res(1, 5000));
    alloc.addAgent('cpu-heavy', res(3, 1000));
    alloc.addAgent('x1', res(1, 1000));
    alloc.addAgent('x2', res(1, 1000));
    // Cluster: 6 cpus, 8000 mem.
    alloc.allocate('memory-heavy', 'a', res(1, 5000)); // a: cpus 1/6, mem 5/8 → 0.625
    alloc.allocate('cpu-heavy', 'b', res(3, 1000)); //    b: cpus 1/2, mem 1/8 → 0.5
    assert.equal(alloc.frameworkShare('a'), 0.625);
    assert.equal(alloc.frameworkShare('b'), 0.5);
    // By cpus alone a would win x1; by mem alone b would win both. DRF: b, then a.
    assert.deepEqual(pairs(alloc.allocateCycle()), ['x1→b', 'x2→a']);
  });

  it('is fair between roles, not between frameworks', () => {
    const { alloc } = setup();
    alloc.addFramework('a1', 'analytics');
    alloc.addFramework('a2', 'analytics');
    alloc.addFramework('w1', 'web');
    for (let i = 0; i < 6; i++) alloc.addAgent(`n${i}`, res(1, 1024));
    const out = alloc.allocateCycle();
    const n = countBy(out);
    assert.equal((n.a1 ?? 0) + (n.a2 ?? 0), 3);
    assert.equal(n.w1, 3, 'a lone framework in its role gets half, not a third');
    assert.equal(alloc.roleShare('web'), 0.5);
    assert.equal(alloc.roleShare('analytics'), 0.5);
  });

  it('gives a role of weight 2 twice the resources', () => {
    const { alloc } = setup();
    alloc.setRoleWeight('gold', 2); // before the role exists
    alloc.addFramework('g', 'gold');
    alloc.addFramework('s', 'silver');
    for (let i = 0; i < 30; i++) alloc.addAgent(`n${String(i).padStart(2, '0')}`, res(2, 2048));
    const out = alloc.allocateCycle();
    assert.deepEqual(countBy(out), { g: 20, s: 10 });
    near(alloc.frameworkShare('g'), 20 / 30);
    near(alloc.roleShare('gold'), 20 / 30 / 2, 'roleShare is weighted');

    // Changing the weight of a live role re-ranks it.
    recoverAll(alloc, out);
    alloc.setRoleWeight('gold', 1);
    alloc.setRoleWeight('silver', 4);
    assert.deepEqual(countBy(alloc.allocateCycle()), { g: 6, s: 24 });
    assert.throws(() => alloc.setRoleWeight('gold', 0), /weight/);
  });

  it('counts allocate() toward shares even when it over-commits an agent, and recovers consistently', () => {
    const { alloc } = setup();
    alloc.addFramework('a', 'r');
    alloc.addFramework('b', 'r');
    alloc.addAgent('n1', res(2, 1024, 0, [[80, 81]]));
    // Re-registration reports more than fits, two frameworks even on the same port.
    alloc.allocate('n1', 'a', res(2, 1024, 0, [[80, 80]]));
    alloc.allocate('n1', 'b', res(1, 0, 0, [[80, 80]]));
    assert.deepEqual(alloc.available('n1'), res(0, 0, 0, [[81, 81]]));
    assert.deepEqual(alloc.allocateCycle(), []);
    alloc.recover('n1', 'a', res(2, 1024, 0, [[80, 80]]));
    assert.deepEqual(alloc.available('n1'), res(1, 1024, 0, [[81, 81]]), 'b still holds 1 cpu and port 80');
    alloc.recover('n1', 'b', res(1, 0, 0, [[80, 80]]));
    assert.deepEqual(alloc.available('n1'), res(2, 1024, 0, [[80, 81]]));
    // Recovering what is not held changes nothing.
    alloc.recover('n1', 'b', res(5, 5000, 0, [[80, 81]]));
    assert.deepEqual(alloc.available('n1'), res(2, 1024, 0, [[80, 81]]));
    assert.equal(alloc.frameworkShare('b'), 0);
  });

  it('keeps scalar accounting exact over many fractional grants', () => {
    const { alloc } = setup();
    alloc.addFramework('fw', 'r');
    alloc.addAgent('n1', res(1, 1024));
    for (let i = 0; i < 10; i++) alloc.allocate('n1', 'fw', res(0.1, 102.4));
    assert.deepEqual(alloc.available('n1'), res(0, 0));
    for (let i = 0; i < 10; i++) alloc.recover('n1', 'fw', res(0.1, 102.4));
    assert.deepEqual(alloc.available('n1'), res(1, 1024));
    assert.equal(alloc.frameworkShare('fw'), 0);
  });
});

describe('allocator: suppress, filters, agents', () => {
  it('never offers to a suppressed framework; revive brings it back', () => {
    const { alloc } = setup();
    alloc.addFramework('a', 'r');
    alloc.addFramework('b', 'r', { suppressed: true });
    alloc.addAgent('n1', res(1, 128));
    alloc.addAgent('n2', res(1, 128));
    assert.deepEqual(pairs(alloc.allocateCycle()), ['n1→a', 'n2→a']);
    alloc.recover('n1', 'a', res(1, 128));
    alloc.suppress('a');
    assert.deepEqual(alloc.allocateCycle(), [], 'everyone suppressed: nothing offered');
    assert.deepEqual(alloc.available('n1'), res(1, 128));
    alloc.revive('b');
    assert.deepEqual(pairs(alloc.allocateCycle()), ['n1→b']);
    assert.throws(() => alloc.suppress('nobody'), /unknown framework/);
  });

  it('expires a decline filter on the injected clock', () => {
    const { clock, alloc } = setup();
    alloc.addFramework('fw', 'r');
    alloc.addAgent('n1', res(1, 128));
    alloc.allocateCycle();
    alloc.recover('n1', 'fw', res(1, 128));
    alloc.filter('fw', 'n1', 10);
    assert.equal(alloc.isFiltered('fw', 'n1'), true);
    assert.deepEqual(alloc.allocateCycle(), []);
    clock.t += 9_999;
    assert.deepEqual(alloc.allocateCycle(), []);
    clock.t += 1;
    assert.equal(alloc.isFiltered('fw', 'n1'), false);
    assert.deepEqual(pairs(alloc.allocateCycle()), ['n1→fw']);
  });

  it('defaults the filter to 5 seconds and treats 0 as no filter', () => {
    const { clock, alloc } = setup();
    alloc.addFramework('fw', 'r');
    alloc.addAgent('n1', res(1, 128));
    alloc.filter('fw', 'n1');
    clock.t += 4_999;
    assert.deepEqual(alloc.allocateCycle(), []);
    clock.t += 1;
    assert.deepEqual(pairs(alloc.allocateCycle()), ['n1→fw']);
    alloc.recover('n1', 'fw', res(1, 128));
    alloc.filter('fw', 'n1', 60);
    alloc.filter('fw', 'n1', 0);
    assert.deepEqual(pairs(alloc.allocateCycle()), ['n1→fw'], 'the latest decline replaces the filter');
  });

  it('passes a filtered agent to the next framework in DRF order, and revive clears filters', () => {
    const { alloc } = setup();
    for (const id of ['a', 'b', 'c']) alloc.addFramework(id, 'r');
    alloc.addAgent('n1', res(1, 128));
    alloc.filter('a', 'n1', 60);
    alloc.filter('b', 'n1', 60);
    assert.deepEqual(pairs(alloc.allocateCycle()), ['n1→c']);
    alloc.recover('n1', 'c', res(1, 128));
    alloc.filter('c', 'n1', 60);
    assert.deepEqual(alloc.allocateCycle(), [], 'every framework filters it');
    alloc.revive('b');
    assert.equal(alloc.isFiltered('b', 'n1'), false);
    assert.equal(alloc.isFiltered('a', 'n1'), true, 'only the revived framework loses its filters');
    assert.deepEqual(pairs(alloc.allocateCycle()), ['n1→b']);
  });

  for (const crowd of [0, 12]) {
    // Few frameworks take the linear scan, many the best-first walk over the heaps.
    it(`looks past a filtering framework into a role of equal share (${crowd} other frameworks)`, () => {
      const { alloc } = setup();
      alloc.addFramework('a', 'x'); // x ranks first in the role heap because of a...
      alloc.addFramework('d', 'x');
      alloc.addFramework('b', 'y'); // ...but with a filtered, y's b beats x's d on id.
      for (let i = 0; i < crowd; i++) alloc.addFramework(`z${i}`, 'z');
      if (crowd > 0) {
        // Role z must rank behind x and y, so it holds a whole (never offered) agent.
        alloc.addAgent('busy', res(1, 128));
        alloc.allocate('busy', 'z0', res(1, 128));
      }
      alloc.addAgent('n1', res(1, 128));
      alloc.filter('a', 'n1', 60);
      assert.deepEqual(pairs(alloc.allocateCycle()), ['n1→b']);
    });
  }

  it('never offers inactive agents', () => {
    const { alloc } = setup();
    alloc.addFramework('fw', 'r');
    alloc.addAgent('up', res(1, 128));
    alloc.addAgent('draining', res(8, 8192), { active: false });
    assert.deepEqual(pairs(alloc.allocateCycle()), ['up→fw']);
    alloc.setAgentActive('draining', true);
    alloc.setAgentActive('up', false);
    alloc.recover('up', 'fw', res(1, 128));
    assert.deepEqual(pairs(alloc.allocateCycle()), ['draining→fw']);
    assert.deepEqual(alloc.available('up'), res(1, 128), 'free, but not offered while inactive');
  });

  it('removeAgent drops the agent and what frameworks held on it', () => {
    const { alloc } = setup();
    alloc.addFramework('a', 'r');
    alloc.addFramework('b', 'r');
    alloc.addAgent('n1', res(1, 100));
    alloc.addAgent('n2', res(1, 100));
    alloc.addAgent('n3', res(1, 100));
    alloc.addAgent('n4', res(1, 100));
    alloc.allocate('n1', 'a', res(1, 100));
    alloc.allocate('n2', 'a', res(1, 100));
    alloc.removeAgent('n1');
    alloc.removeAgent('n2');
    assert.equal(alloc.frameworkShare('a'), 0);
    assert.deepEqual(alloc.available('n1'), res(0, 0));
    assert.deepEqual(pairs(alloc.allocateCycle()), ['n3→a', 'n4→b']);
    assert.equal(alloc.frameworkShare('a'), 0.5, 'shares use the new cluster total');
    alloc.recover('n1', 'a', res(1, 100)); // late recover for a removed agent is harmless
    assert.throws(() => alloc.allocate('n1', 'a', res(1, 1)), /unknown agent/);
  });

  it('removeFramework returns its holdings and stops offers to it', () => {
    const { alloc } = setup();
    alloc.addFramework('a', 'r');
    alloc.addFramework('b', 'other');
    alloc.addAgent('n1', res(2, 256, 0, [[9000, 9001]]));
    alloc.allocate('n1', 'a', res(1, 128, 0, [[9000, 9000]]));
    alloc.filter('b', 'n1', 60);
    alloc.removeFramework('a');
    assert.deepEqual(alloc.available('n1'), res(2, 256, 0, [[9000, 9001]]));
    assert.equal(alloc.roleShare('r'), 0);
    assert.deepEqual(alloc.allocateCycle(), [], 'b filters n1 and a is gone');
    alloc.revive('b');
    assert.deepEqual(pairs(alloc.allocateCycle()), ['n1→b']);
    assert.throws(() => alloc.allocate('n1', 'a', res(1, 1)), /unknown framework/);
  });

  it('moves a framework and its holdings when it is re-added with another role', () => {
    const { alloc } = setup();
    alloc.addFramework('a', 'r1');
    alloc.addAgent('n1', res(1, 100));
    alloc.addAgent('n2', res(1, 100));
    alloc.allocate('n1', 'a', res(1, 100));
    alloc.addFramework('a', 'r2');
    assert.equal(alloc.roleShare('r1'), 0);
    assert.equal(alloc.roleShare('r2'), 0.5);
  });
});

// ---------------------------------------------------------------------------
// The heaps, the filtered-agent walk and the incremental totals against a model that
// recomputes everything from scratch for every decision.

function prng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

interface Amt {
  cpus: number;
  mem: number;
  disk: number;
}

class Model {
  agents = new Map<string, { total: Amt; active: boolean; held: Map<string, Amt> }>();
  fws = new Map<string, { role: string; suppressed: boolean }>();
  weights = new Map<string, number>();
  filters = new Map<string, number>();

  totals(): Amt {
    const t = { cpus: 0, mem: 0, disk: 0 };
    for (const a of this.agents.values()) for (const k of ['cpus', 'mem', 'disk'] as const) t[k] += a.total[k];
    return t;
  }
  dominant(u: Amt): number {
    const t = this.totals();
    return Math.max(...(['cpus', 'mem', 'disk'] as const).map((k) => (t[k] > 0 ? u[k] * (1 / t[k]) : 0)));
  }
  usedBy(pred: (fw: string) => boolean): Amt {
    const u = { cpus: 0, mem: 0, disk: 0 };
    for (const a of this.agents.values()) {
      for (const [fw, h] of a.held) if (pred(fw)) for (const k of ['cpus', 'mem', 'disk'] as const) u[k] += h[k];
    }
    return u;
  }
  fwShare(id: string): number {
    return this.dominant(this.usedBy((fw) => fw === id));
  }
  roleShare(role: string): number {
    return this.dominant(this.usedBy((fw) => this.fws.get(fw)?.role === role)) / (this.weights.get(role) ?? 1);
  }
  free(agentId: string): Amt {
    const a = this.agents.get(agentId)!;
    const u = { cpus: 0, mem: 0, disk: 0 };
    for (const h of a.held.values()) for (const k of ['cpus', 'mem', 'disk'] as const) u[k] += h[k];
    return { cpus: Math.max(0, a.total.cpus - u.cpus), mem: Math.max(0, a.total.mem - u.mem), disk: Math.max(0, a.total.disk - u.disk) };
  }
  offerable(agentId: string): boolean {
    const f = this.free(agentId);
    return this.agents.get(agentId)!.active && (f.cpus >= 10 || f.mem >= 32_000);
  }
  winner(agentId: string, now: number): string | undefined {
    const ranked = [...this.fws]
      .filter(([id, f]) => !f.suppressed && !((this.filters.get(`${id}|${agentId}`) ?? -Infinity) > now))
      .map(([id, f]) => ({ id, key: [this.roleShare(f.role), this.fwShare(id)] as const }))
      .sort((x, y) => x.key[0] - y.key[0] || x.key[1] - y.key[1] || (x.id < y.id ? -1 : 1));
    return ranked[0]?.id;
  }
  hold(agentId: string, fw: string, d: Amt, sign: 1 | -1): void {
    const held = this.agents.get(agentId)!.held;
    const h = held.get(fw) ?? { cpus: 0, mem: 0, disk: 0 };
    for (const k of ['cpus', 'mem', 'disk'] as const) h[k] = Math.max(0, h[k] + sign * d[k]);
    held.set(fw, h);
  }
}

describe('allocator: randomized against a from-scratch model', () => {
  for (const seed of [1, 7, 42, 1234]) {
    it(`seed ${seed}: every grant goes to the DRF winner with the agent's free resources`, () => {
      const rnd = prng(seed);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
      const { clock, alloc } = setup();
      const model = new Model();
      const roles = ['r0', 'r1', 'r2', 'r3'];
      const fwIds: string[] = [];
      for (let i = 0; i < 24; i++) {
        const id = `f${String(i).padStart(2, '0')}`;
        const role = pick(roles);
        alloc.addFramework(id, role);
        model.fws.set(id, { role, suppressed: false });
        fwIds.push(id);
      }
      const agentIds: string[] = [];
      const addAgent = (id: string) => {
        const total = res(1 + Math.floor(rnd() * 8), 256 * (1 + Math.floor(rnd() * 16)), Math.floor(rnd() * 3) * 1000);
        alloc.addAgent(id, total);
        model.agents.set(id, { total: { cpus: toMilli(total.cpus), mem: toMilli(total.mem), disk: toMilli(total.disk) }, active: true, held: new Map() });
        agentIds.push(id);
      };
      for (let i = 0; i < 40; i++) addAgent(`a${String(i).padStart(2, '0')}`);

      let grants = 0;
      let filteredGrants = 0;
      for (let step = 0; step < 400; step++) {
        const op = rnd();
        if (op < 0.25) {
          const out = alloc.allocateCycle();
          const seen = new Set<string>();
          for (const g of out) {
            assert.ok(!seen.has(g.agentId), 'an agent is offered at most once per cycle');
            seen.add(g.agentId);
            assert.ok(model.offerable(g.agentId), `${g.agentId} was not offerable`);
            assert.equal(g.frameworkId, model.winner(g.agentId, clock.t), `step ${step}: winner for ${g.agentId}`);
            const free = model.free(g.agentId);
            assert.deepEqual(g.resources, res(free.cpus / 1000, free.mem / 1000, free.disk / 1000));
            if (fwIds.some((f) => (model.filters.get(`${f}|${g.agentId}`) ?? -Infinity) > clock.t)) filteredGrants++;
            model.hold(g.agentId, g.frameworkId, free, 1);
            grants++;
          }
          for (const id of model.agents.keys()) {
            if (!seen.has(id) && model.offerable(id)) assert.equal(model.winner(id, clock.t), undefined, `${id} was left out`);
          }
        } else if (op < 0.5) {
          // Recover some or all of a holding.
          const holders = [...model.agents].flatMap(([a, s]) => [...s.held.keys()].map((f) => [a, f] as const));
          if (holders.length === 0) continue;
          const [a, f] = pick(holders);
          const h = model.agents.get(a)!.held.get(f)!;
          const frac = rnd() < 0.5 ? 1 : 0.5;
          const back = { cpus: Math.round(h.cpus * frac), mem: Math.round(h.mem * frac), disk: Math.round(h.disk * frac) };
          alloc.recover(a, f, res(back.cpus / 1000, back.mem / 1000, back.disk / 1000));
          model.hold(a, f, back, -1);
        } else if (op < 0.75) {
          const f = pick(fwIds);
          const a = pick(agentIds);
          const seconds = pick([1, 5, 30]);
          alloc.filter(f, a, seconds);
          model.filters.set(`${f}|${a}`, clock.t + seconds * 1000);
        } else if (op < 0.83) {
          clock.t += Math.floor(rnd() * 8000);
        } else if (op < 0.89) {
          const f = pick(fwIds);
          const m = model.fws.get(f)!;
          if (m.suppressed) {
            alloc.revive(f);
            m.suppressed = false;
            for (const a of agentIds) model.filters.delete(`${f}|${a}`);
          } else {
            alloc.suppress(f);
            m.suppressed = true;
          }
        } else if (op < 0.93) {
          const a = pick(agentIds);
          const active = rnd() < 0.7;
          alloc.setAgentActive(a, active);
          model.agents.get(a)!.active = active;
        } else if (op < 0.96) {
          const r = pick(roles);
          const w = pick([0.5, 1, 2, 3]);
          alloc.setRoleWeight(r, w);
          model.weights.set(r, w);
        } else if (op < 0.98) {
          const a = pick(agentIds);
          alloc.removeAgent(a);
          model.agents.delete(a);
          agentIds.splice(agentIds.indexOf(a), 1);
          addAgent(`b${step}`);
        } else {
          const a = pick(agentIds);
          const f = pick(fwIds);
          const amt = res(1, 512);
          alloc.allocate(a, f, amt);
          model.hold(a, f, { cpus: 1000, mem: 512_000, disk: 0 }, 1);
        }
        if (step % 50 === 0) {
          for (const f of fwIds) assert.ok(Math.abs(alloc.frameworkShare(f) - model.fwShare(f)) < 1e-12, `share of ${f}`);
          for (const r of roles) assert.ok(Math.abs(alloc.roleShare(r) - model.roleShare(r)) < 1e-12, `share of ${r}`);
          for (const a of agentIds) {
            const free = model.free(a);
            assert.deepEqual(alloc.available(a), res(free.cpus / 1000, free.mem / 1000, free.disk / 1000));
          }
        }
      }
      assert.ok(grants > 50, `the run exercised the cycle (${grants} grants)`);
      assert.ok(filteredGrants > 5, `the run exercised filtered agents (${filteredGrants})`);
    });
  }
});
