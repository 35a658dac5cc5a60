import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Resources } from '../../protocol/types.js';
import {
  addRanges,
  addResources,
  cloneResources,
  containsResources,
  emptyResources,
  formatRanges,
  formatResources,
  fromMesosResources,
  isEmptyResources,
  normalizeRanges,
  parseResources,
  pickPorts,
  portsToRanges,
  subtractRanges,
  subtractResources,
  toMesosResources,
} from '../../server/core/resources.js';

const res = (cpus: number, mem: number, disk = 0, ports: Resources['ports'] = []): Resources => ({ cpus, mem, disk, ports });

describe('resource arithmetic', () => {
  it('adds scalars and merges overlapping and adjacent port ranges', () => {
    const sum = addResources(res(1, 512, 10, [[31005, 31010], [31000, 31002]]), res(0.5, 256, 0, [[31003, 31004], [31008, 31020], [40000, 40000]]));
    assert.deepEqual(sum, res(1.5, 768, 10, [[31000, 31020], [40000, 40000]]));
  });

  it('does not mutate its inputs', () => {
    const a = res(1, 1, 1, [[1, 2]]);
    const b = res(1, 1, 1, [[3, 4]]);
    const sum = addResources(a, b);
    sum.ports[0][0] = 99;
    assert.deepEqual(a, res(1, 1, 1, [[1, 2]]));
    assert.deepEqual(b, res(1, 1, 1, [[3, 4]]));
  });

  it('rounds scalars to 3 decimals so 0.1 + 0.2 subtracts back to exactly 0', () => {
    const sum = addResources(res(0.1, 0), res(0.2, 0));
    assert.equal(sum.cpus, 0.3);
    const back = subtractResources(subtractResources(sum, res(0.1, 0)), res(0.2, 0));
    assert.equal(back.cpus, 0);
    assert.ok(Object.is(back.cpus, 0), 'no negative zero');
    assert.ok(isEmptyResources(back));
    assert.equal(addResources(res(0.0004, 0), res(0, 0)).cpus, 0);
    assert.equal(addResources(res(1.23456, 0), res(0, 0)).cpus, 1.235);
  });

  it('subtracts ports by splitting a range, and at its edges', () => {
    const agent = res(4, 4096, 0, [[31000, 31010]]);
    assert.deepEqual(subtractResources(agent, res(1, 0, 0, [[31005, 31005]])).ports, [[31000, 31004], [31006, 31010]]);
    assert.deepEqual(subtractResources(agent, res(0, 0, 0, [[31000, 31000]])).ports, [[31001, 31010]]);
    assert.deepEqual(subtractResources(agent, res(0, 0, 0, [[31010, 31010]])).ports, [[31000, 31009]]);
    assert.deepEqual(subtractResources(agent, res(0, 0, 0, [[31000, 31010]])).ports, []);
    assert.deepEqual(subtractResources(agent, res(0, 0, 0, [[31002, 31003], [31007, 31008]])).ports, [
      [31000, 31001],
      [31004, 31006],
      [31009, 31010],
    ]);
  });

  it('refuses to subtract what is not contained, naming the dimension', () => {
    assert.throws(() => subtractResources(res(1, 100), res(2, 50)), /cpus/);
    assert.throws(() => subtractResources(res(1, 100), res(1, 101)), /mem/);
    assert.throws(() => subtractResources(res(1, 100, 0, [[10, 20]]), res(0, 0, 0, [[20, 21]])), /ports/);
    assert.throws(() => subtractResources(res(1, 100, 0, [[10, 20]]), res(0, 0, 0, [[9, 9]])), /ports/);
  });

  it('contains checks every dimension and every port', () => {
    const a = res(2, 1024, 100, [[31000, 31005], [31006, 31010], [32000, 32000]]);
    assert.ok(containsResources(a, res(2, 1024, 100, [[31003, 31008], [32000, 32000]])), 'spans two adjacent ranges');
    assert.ok(containsResources(a, emptyResources()));
    assert.ok(!containsResources(a, res(2.001, 0)));
    assert.ok(!containsResources(a, res(0, 1025)));
    assert.ok(!containsResources(a, res(0, 0, 101)));
    assert.ok(!containsResources(a, res(0, 0, 0, [[31010, 31011]])), 'one port past the edge');
    assert.ok(!containsResources(a, res(0, 0, 0, [[31999, 31999]])));
    assert.ok(containsResources(res(0.3, 0), addResources(res(0.1, 0), res(0.2, 0))), 'compared at 3 decimals');
  });

  it('isEmpty ignores float dust but not ports', () => {
    assert.ok(isEmptyResources(emptyResources()));
    assert.ok(isEmptyResources(res(0.0001, 0.0002)));
    assert.ok(!isEmptyResources(res(0.001, 0)));
    assert.ok(!isEmptyResources(res(0, 0, 0, [[80, 80]])));
  });

  it('clones deeply', () => {
    const a = res(1, 2, 3, [[1, 5]]);
    const c = cloneResources(a);
    c.ports[0][1] = 9;
    assert.deepEqual(a.ports, [[1, 5]]);
  });
});

describe('Mesos --resources strings', () => {
  it('parses the canonical form, with and without the * role', () => {
    assert.deepEqual(parseResources('cpus:2;mem:1024;disk:4096;ports:[31000-32000,33000-33010]'), res(2, 1024, 4096, [[31000, 32000], [33000, 33010]]));
    assert.deepEqual(parseResources(' cpus(*):0.5 ; mem(*):256; ports(*):[ 80-80 , 443-443 ] ;'), res(0.5, 256, 0, [[80, 80], [443, 443]]));
  });

  it('treats missing dimensions as zero, sums repeats, and merges ranges', () => {
    assert.deepEqual(parseResources('mem:64'), res(0, 64));
    assert.deepEqual(parseResources(''), emptyResources());
    assert.deepEqual(parseResources('cpus:1;cpus:0.5;ports:[10-12];ports:[13-15]'), res(1.5, 0, 0, [[10, 15]]));
    assert.deepEqual(parseResources('ports:[]'), emptyResources());
  });

  it('accepts the JSON array form', () => {
    assert.deepEqual(
      parseResources('[{"name":"cpus","type":"SCALAR","scalar":{"value":3}},{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":5,"end":6}]}}]'),
      res(3, 0, 0, [[5, 6]]),
    );
    assert.throws(() => parseResources('[{"name":"gpus","type":"SCALAR","scalar":{"value":1}}]'), /\/0\/name: unknown resource "gpus"/);
  });

  const bad: Array<[string, RegExp]> = [
    ['cpus', /expected name:value/],
    ['cpus:abc', /cpus must be a non-negative number/],
    ['cpus:-1', /cpus must be a non-negative number/],
    ['mem:', /mem must be a non-negative number/],
    ['gpus:1', /unknown resource "gpus"/],
    ['cpus(web):2', /reserved resources \(role "web"\)/],
    ['ports:31000-32000', /expected \[begin-end/],
    ['ports:[32000-31000]', /begin is greater than end/],
    ['ports:[31000-70000]', /bad port 70000/],
    ['ports:[a-b]', /bad port "a"/],
    ['ports:[1-2-3]', /expected begin-end/],
    ['[not json', /bad resources JSON/],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input)} with a clear message`, () => {
      assert.throws(() => parseResources(input), (e: unknown) => e instanceof Error && message.test(e.message) && e.message.includes(input.split(':')[0].replace(/\(.*/, '')));
    });
  }

  it('formats ranges and resources as Mesos prints them, and reads them back', () => {
    assert.equal(formatRanges([[31000, 32000], [33000, 33010]]), '[31000-32000, 33000-33010]');
    assert.equal(formatRanges([]), '[]');
    const r = res(1.5, 2048, 10, [[80, 80], [31000, 31010]]);
    assert.equal(formatResources(r), 'cpus:1.5; mem:2048; disk:10; ports:[80-80, 31000-31010]');
    assert.deepEqual(parseResources(formatResources(r)), r);
  });
});

describe('Mesos v1 JSON resources', () => {
  it('round-trips through toMesosResources/fromMesosResources', () => {
    const r = res(0.25, 128, 0, [[31000, 31001], [31005, 31005]]);
    const json = toMesosResources(r, 'web');
    assert.deepEqual(json, [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.25 }, role: 'web' },
      { name: 'mem', type: 'SCALAR', scalar: { value: 128 }, role: 'web' },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31001 }, { begin: 31005, end: 31005 }] }, role: 'web' },
    ]);
    assert.equal(toMesosResources(r)[0].role, '*');
    const back = fromMesosResources(JSON.parse(JSON.stringify(json)));
    assert.deepEqual(back, { resources: r, errors: [] });
  });

  it('sums duplicated names', () => {
    const { resources, errors } = fromMesosResources([
      { name: 'mem', type: 'SCALAR', scalar: { value: 100 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 28.5 } },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1, end: 3 }] } },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 4, end: 4 }] } },
    ]);
    assert.deepEqual(errors, []);
    assert.deepEqual(resources, res(0, 128.5, 0, [[1, 4]]));
  });

  it('reports each problem at its JSON path and keeps the valid entries', () => {
    const { resources, errors } = fromMesosResources(
      [
        { name: 'cpus', type: 'SCALAR', scalar: { value: 1 } },
        { name: 'mem', type: 'SCALAR', scalar: { value: -5 } },
        { name: 'gpus', type: 'SCALAR', scalar: { value: 1 } },
        { name: 'disk', type: 'RANGES', scalar: { value: Infinity } },
        { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 10, end: 5 }, { begin: 1.5, end: 70000 }] } },
        'cpus:1',
        { type: 'SCALAR' },
        { name: 'ports', type: 'RANGES', ranges: {} },
        { name: 'mem', type: 'SCALAR', scalar: { value: 64 }, role: 7 },
      ],
      '/task/resources',
    );
    assert.deepEqual(resources, res(1, 0), 'only the valid cpus entry counts');
    assert.deepEqual(errors, [
      { path: '/task/resources/1/scalar/value', errors: ['must be >= 0'] },
      { path: '/task/resources/2/name', errors: ['unknown resource "gpus" (known: cpus, mem, disk, ports)'] },
      { path: '/task/resources/3/type', errors: ['must be "SCALAR" for disk'] },
      { path: '/task/resources/3/scalar/value', errors: ['must be a finite number'] },
      { path: '/task/resources/4/ranges/range/0', errors: ['begin must be <= end'] },
      { path: '/task/resources/4/ranges/range/1/begin', errors: ['must be an integer 0-65535'] },
      { path: '/task/resources/4/ranges/range/1/end', errors: ['must be an integer 0-65535'] },
      { path: '/task/resources/5', errors: ['must be an object'] },
      { path: '/task/resources/6/name', errors: ['must be a string'] },
      { path: '/task/resources/7/ranges/range', errors: ['must be an array'] },
      { path: '/task/resources/8/role', errors: ['must be a string'] },
    ]);
  });

  it('defaults the path to /resources and rejects a non-array', () => {
    assert.deepEqual(fromMesosResources({ cpus: 1 }).errors, [{ path: '/resources', errors: ['must be an array of resources'] }]);
    assert.equal(fromMesosResources([{ name: 'cpus', type: 'SCALAR', scalar: { value: 'x' } }]).errors[0].path, '/resources/0/scalar/value');
  });
});

describe('ports', () => {
  it('picks the lowest ports first, across ranges', () => {
    assert.deepEqual(pickPorts([[31005, 31006], [31000, 31001]], 3), [31000, 31001, 31005]);
    assert.deepEqual(pickPorts([[80, 80]], 1), [80]);
    assert.deepEqual(pickPorts([[80, 90]], 0), []);
  });

  it('returns null when there are not enough ports', () => {
    assert.equal(pickPorts([[80, 81]], 3), null);
    assert.equal(pickPorts([], 1), null);
    assert.throws(() => pickPorts([[1, 2]], -1), RangeError);
  });

  it('turns ports into merged ranges', () => {
    assert.deepEqual(portsToRanges([31003, 31000, 31001, 31002, 31001, 40000]), [[31000, 31003], [40000, 40000]]);
    assert.deepEqual(portsToRanges([]), []);
    const picked = pickPorts([[1000, 1004]], 2) as number[];
    assert.deepEqual(subtractResources(res(0, 0, 0, [[1000, 1004]]), res(0, 0, 0, portsToRanges(picked))).ports, [[1002, 1004]]);
  });

  it('normalizes unsorted, overlapping ranges', () => {
    assert.deepEqual(normalizeRanges([[10, 20], [1, 3], [15, 25], [4, 4], [27, 30]]), [[1, 4], [10, 25], [27, 30]]);
    // adjacent ranges merge; ranges normalized already come back as a new array of the same ranges
    assert.deepEqual(normalizeRanges([[1, 3], [4, 6]]), [[1, 6]]);
    const done: Array<[number, number]> = [[1, 3], [5, 6]];
    const again = normalizeRanges(done);
    assert.deepEqual(again, done);
    assert.notEqual(again, done);
  });

  it('agrees with sets of ports on random ranges (normalize, add, subtract)', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const ranges = () => Array.from({ length: rnd(5) }, (): [number, number] => {
      const b = rnd(60);
      return [b, b + rnd(rnd(2) ? 1 : 8)];
    });
    const ports = (rs: ReadonlyArray<readonly [number, number]>) => {
      const out = new Set<number>();
      for (const [b, e] of rs) for (let p = b; p <= e; p++) out.add(p);
      return [...out].sort((x, y) => x - y);
    };
    for (let i = 0; i < 500; i++) {
      const a = ranges();
      const b = ranges();
      const n = normalizeRanges(a);
      assert.deepEqual(ports(n), ports(a));
      assert.deepEqual(n, portsToRanges(ports(a)), 'merged, sorted and apart');
      assert.deepEqual(addRanges(a, b), portsToRanges(ports([...a, ...b])));
      // both normalized: the one-pass merge
      assert.deepEqual(addRanges(n, normalizeRanges(b)), portsToRanges(ports([...a, ...b])));
      const left = new Set(ports(b));
      assert.deepEqual(subtractRanges(a, b), portsToRanges(ports(a).filter((p) => !left.has(p))));
    }
  });
});
