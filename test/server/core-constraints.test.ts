import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConstraintTracker,
  checkConstraints,
  constraintViolations,
  fieldValue,
  hostTest,
  parseConstraints,
  toMarathonConstraints,
  type Constraint,
  type PlacedOn,
} from '../../server/core/constraints.js';

const on = (hostname: string, attributes: Record<string, string> = {}): PlacedOn => ({ hostname, attributes });
const c = (field: string, operator: Constraint['operator'], value?: string): Constraint =>
  value === undefined ? { field, operator } : { field, operator, value };
const zone = (z: string, host = `h-${z}`) => on(host, { zone: z });

describe('constraints: fieldValue', () => {
  const agent = on('a1.example', { region: 'eu', zone: 'eu-1', rack: 'r7' });
  const rows: Array<[string, string | undefined]> = [
    ['hostname', 'a1.example'],
    ['@hostname', 'a1.example'],
    ['@region', 'eu'],
    ['@zone', 'eu-1'],
    ['rack', 'r7'],
    ['gpu', undefined],
    // Inherited properties of a plain object are not attributes.
    ['constructor', undefined],
    ['toString', undefined],
  ];
  for (const [field, expected] of rows) {
    it(`${field} → ${expected}`, () => assert.equal(fieldValue(agent, field), expected));
  }
  it('@zone is undefined on an agent without a zone attribute', () => {
    assert.equal(fieldValue(on('x'), '@zone'), undefined);
  });
});

describe('constraints: checkConstraints, operator by operator', () => {
  interface Row {
    name: string;
    constraint: Constraint;
    candidate: PlacedOn;
    existing?: PlacedOn[];
    known?: Map<string, Set<string>>;
    ok: boolean;
  }
  const rows: Row[] = [
    // UNIQUE
    { name: 'UNIQUE hostname: free host', constraint: c('hostname', 'UNIQUE'), candidate: on('h2'), existing: [on('h1')], ok: true },
    { name: 'UNIQUE hostname: taken host', constraint: c('hostname', 'UNIQUE'), candidate: on('h1'), existing: [on('h2'), on('h1')], ok: false },
    { name: 'UNIQUE @hostname: taken host', constraint: c('@hostname', 'UNIQUE'), candidate: on('h1'), existing: [on('h1')], ok: false },
    { name: 'UNIQUE attribute: other rack', constraint: c('rack', 'UNIQUE'), candidate: on('h1', { rack: 'r2' }), existing: [on('h1', { rack: 'r1' })], ok: true },
    { name: 'UNIQUE attribute: same rack, other host', constraint: c('rack', 'UNIQUE'), candidate: on('h2', { rack: 'r1' }), existing: [on('h1', { rack: 'r1' })], ok: false },
    { name: 'UNIQUE: missing attribute', constraint: c('rack', 'UNIQUE'), candidate: on('h1'), existing: [], ok: false },
    // CLUSTER with a value
    { name: 'CLUSTER value: match', constraint: c('rack', 'CLUSTER', 'r1'), candidate: on('h', { rack: 'r1' }), ok: true },
    { name: 'CLUSTER value: other', constraint: c('rack', 'CLUSTER', 'r1'), candidate: on('h', { rack: 'r10' }), ok: false },
    { name: 'CLUSTER value: missing attribute', constraint: c('rack', 'CLUSTER', 'r1'), candidate: on('h'), ok: false },
    { name: 'CLUSTER hostname value', constraint: c('hostname', 'CLUSTER', 'h9'), candidate: on('h9'), ok: true },
    // CLUSTER without a value
    { name: 'CLUSTER no value: first instance goes anywhere', constraint: c('rack', 'CLUSTER'), candidate: on('h', { rack: 'r5' }), existing: [], ok: true },
    { name: 'CLUSTER no value: follows existing', constraint: c('rack', 'CLUSTER'), candidate: on('h2', { rack: 'r1' }), existing: [on('h1', { rack: 'r1' })], ok: true },
    { name: 'CLUSTER no value: other value refused', constraint: c('rack', 'CLUSTER'), candidate: on('h2', { rack: 'r2' }), existing: [on('h1', { rack: 'r1' })], ok: false },
    {
      name: 'CLUSTER no value: the first instance that has the field sets it',
      constraint: c('rack', 'CLUSTER'),
      candidate: on('h3', { rack: 'r2' }),
      existing: [on('h0'), on('h1', { rack: 'r2' })],
      ok: true,
    },
    { name: 'CLUSTER no value: hostname', constraint: c('hostname', 'CLUSTER'), candidate: on('h2'), existing: [on('h1')], ok: false },
    { name: 'CLUSTER no value: missing attribute', constraint: c('rack', 'CLUSTER'), candidate: on('h'), existing: [], ok: false },
    // LIKE: the whole value must match
    { name: 'LIKE: class matches', constraint: c('rack', 'LIKE', 'r[1-3]'), candidate: on('h', { rack: 'r2' }), ok: true },
    { name: 'LIKE: anchored at the end', constraint: c('rack', 'LIKE', 'r[1-3]'), candidate: on('h', { rack: 'r10' }), ok: false },
    { name: 'LIKE: anchored at the start', constraint: c('rack', 'LIKE', 'r[1-3]'), candidate: on('h', { rack: 'xr1' }), ok: false },
    { name: 'LIKE: a prefix is not a match', constraint: c('rack', 'LIKE', 'r'), candidate: on('h', { rack: 'r1' }), ok: false },
    { name: 'LIKE: anchoring covers every alternative', constraint: c('rack', 'LIKE', 'a|b'), candidate: on('h', { rack: 'ab' }), ok: false },
    { name: 'LIKE: alternative', constraint: c('rack', 'LIKE', 'a|b'), candidate: on('h', { rack: 'b' }), ok: true },
    { name: 'LIKE: .* matches any value', constraint: c('rack', 'LIKE', '.*'), candidate: on('h', { rack: 'anything' }), ok: true },
    { name: 'LIKE: missing attribute', constraint: c('rack', 'LIKE', '.*'), candidate: on('h'), ok: false },
    { name: 'LIKE hostname', constraint: c('hostname', 'LIKE', 'web-\\d+'), candidate: on('web-12'), ok: true },
    { name: 'LIKE hostname: suffix', constraint: c('hostname', 'LIKE', 'web-\\d+'), candidate: on('web-12.example'), ok: false },
    // UNLIKE
    { name: 'UNLIKE: matching value refused', constraint: c('rack', 'UNLIKE', 'r[7-9]'), candidate: on('h', { rack: 'r8' }), ok: false },
    { name: 'UNLIKE: other value', constraint: c('rack', 'UNLIKE', 'r[7-9]'), candidate: on('h', { rack: 'r1' }), ok: true },
    { name: 'UNLIKE: partial match is not a match', constraint: c('rack', 'UNLIKE', 'r[7-9]'), candidate: on('h', { rack: 'r77' }), ok: true },
    { name: 'UNLIKE: missing attribute is accepted', constraint: c('rack', 'UNLIKE', 'r[7-9]'), candidate: on('h'), ok: true },
    // IS
    { name: 'IS: equal', constraint: c('os', 'IS', 'linux'), candidate: on('h', { os: 'linux' }), ok: true },
    { name: 'IS: text, not regex', constraint: c('os', 'IS', 'lin.x'), candidate: on('h', { os: 'linux' }), ok: false },
    { name: 'IS: prefix', constraint: c('os', 'IS', 'linux'), candidate: on('h', { os: 'linux-rt' }), ok: false },
    { name: 'IS: missing attribute', constraint: c('os', 'IS', 'linux'), candidate: on('h'), ok: false },
    { name: 'IS @region', constraint: c('@region', 'IS', 'eu'), candidate: on('h', { region: 'eu' }), ok: true },
    // MAX_PER
    { name: 'MAX_PER 2: one there', constraint: c('rack', 'MAX_PER', '2'), candidate: on('h3', { rack: 'r1' }), existing: [on('h1', { rack: 'r1' })], ok: true },
    {
      name: 'MAX_PER 2: two there',
      constraint: c('rack', 'MAX_PER', '2'),
      candidate: on('h3', { rack: 'r1' }),
      existing: [on('h1', { rack: 'r1' }), on('h2', { rack: 'r1' })],
      ok: false,
    },
    {
      name: 'MAX_PER 2: other rack',
      constraint: c('rack', 'MAX_PER', '2'),
      candidate: on('h3', { rack: 'r2' }),
      existing: [on('h1', { rack: 'r1' }), on('h2', { rack: 'r1' })],
      ok: true,
    },
    { name: 'MAX_PER 1 hostname', constraint: c('hostname', 'MAX_PER', '1'), candidate: on('h1'), existing: [on('h1')], ok: false },
    { name: 'MAX_PER: missing attribute', constraint: c('rack', 'MAX_PER', '5'), candidate: on('h'), ok: false },
    // GROUP_BY, Marathon's rule when only existing values are known
    { name: 'GROUP_BY: first instance', constraint: c('zone', 'GROUP_BY'), candidate: zone('a'), existing: [], ok: true },
    { name: 'GROUP_BY: a new value is always fine', constraint: c('zone', 'GROUP_BY'), candidate: zone('c'), existing: [zone('a'), zone('a'), zone('b')], ok: true },
    { name: 'GROUP_BY: least-used value', constraint: c('zone', 'GROUP_BY'), candidate: zone('b'), existing: [zone('a'), zone('a'), zone('b')], ok: true },
    { name: 'GROUP_BY: most-used value refused', constraint: c('zone', 'GROUP_BY'), candidate: zone('a'), existing: [zone('a'), zone('a'), zone('b')], ok: false },
    { name: 'GROUP_BY: even groups accept any', constraint: c('zone', 'GROUP_BY'), candidate: zone('a'), existing: [zone('a'), zone('b')], ok: true },
    // GROUP_BY with the values of current offers known
    {
      name: 'GROUP_BY known values: an empty known value must be filled first',
      constraint: c('zone', 'GROUP_BY'),
      candidate: zone('a'),
      existing: [zone('a'), zone('b')],
      known: new Map([['zone', new Set(['a', 'b', 'c'])]]),
      ok: false,
    },
    {
      name: 'GROUP_BY known values: the empty value is accepted',
      constraint: c('zone', 'GROUP_BY'),
      candidate: zone('c'),
      existing: [zone('a'), zone('b')],
      known: new Map([['zone', new Set(['a', 'b', 'c'])]]),
      ok: true,
    },
    // GROUP_BY N: groups not seen yet count as empty
    { name: 'GROUP_BY 3: two of three groups seen', constraint: c('zone', 'GROUP_BY', '3'), candidate: zone('a'), existing: [zone('a'), zone('b')], ok: false },
    { name: 'GROUP_BY 3: a third group', constraint: c('zone', 'GROUP_BY', '3'), candidate: zone('c'), existing: [zone('a'), zone('b')], ok: true },
    { name: 'GROUP_BY 2: two groups seen, even', constraint: c('zone', 'GROUP_BY', '2'), candidate: zone('a'), existing: [zone('a'), zone('b')], ok: true },
    { name: 'GROUP_BY: missing attribute', constraint: c('zone', 'GROUP_BY'), candidate: on('h'), existing: [], ok: false },
    { name: 'GROUP_BY @zone', constraint: c('@zone', 'GROUP_BY'), candidate: zone('a'), existing: [zone('a'), zone('a'), zone('b')], ok: false },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const failed = checkConstraints([row.constraint], row.candidate, row.existing ?? [], row.known);
      assert.deepEqual(failed, row.ok ? [] : [row.constraint]);
    });
  }

  it('returns exactly the constraints that refuse, in order', () => {
    const cs = [c('rack', 'LIKE', 'r[1-3]'), c('hostname', 'UNIQUE'), c('os', 'IS', 'linux'), c('gpu', 'UNLIKE', 'none')];
    const failed = checkConstraints(cs, on('h1', { rack: 'r9', os: 'linux' }), [on('h1', { rack: 'r1' })]);
    assert.deepEqual(failed, [cs[0], cs[1]]);
    assert.deepEqual(checkConstraints([], on('h'), [on('h')]), []);
  });

  it('GROUP_BY evens out three zones over successive placements', () => {
    // Offers arrive in a lopsided order: zone a first and most often, as a naive scheduler would fill it.
    const offers = [zone('a', 'a1'), zone('a', 'a2'), zone('a', 'a3'), zone('b', 'b1'), zone('c', 'c1')];
    const known = new Map([['zone', new Set(['a', 'b', 'c'])]]);
    const constraint = [c('zone', 'GROUP_BY')];
    const placed: PlacedOn[] = [];
    const perZone = () => ['a', 'b', 'c'].map((z) => placed.filter((p) => p.attributes.zone === z).length);
    for (let n = 0; n < 9; n++) {
      const pick = offers.find((o) => checkConstraints(constraint, o, placed, known).length === 0);
      assert.ok(pick, `placement ${n + 1} found an agent`);
      placed.push(pick);
      const counts = perZone();
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `after ${n + 1}: ${counts}`);
    }
    assert.deepEqual(perZone(), [3, 3, 3]);
    // Without the constraint the same loop would have put all nine in zone a.
    assert.equal(offers.find((o) => checkConstraints([], o, placed, known).length === 0), offers[0]);
  });

  it('an invalid LIKE pattern built in code refuses rather than throws', () => {
    const bad = c('rack', 'LIKE', '(');
    assert.deepEqual(checkConstraints([bad], on('h', { rack: '(' }), []), [bad]);
  });
});

describe('constraints: parseConstraints', () => {
  it('reads Marathon arrays and keeps the value only when given', () => {
    const input = [
      ['hostname', 'UNIQUE'],
      ['zone', 'GROUP_BY', '3'],
      ['rack', 'LIKE', 'r[1-3]'],
      ['rack', 'UNLIKE', 'r9'],
      ['hostname', 'MAX_PER', '2'],
      ['os', 'IS', 'linux'],
      ['rack', 'CLUSTER'],
      ['rack', 'CLUSTER', 'r1'],
      ['zone', 'GROUP_BY', ''],
    ];
    const { constraints, errors } = parseConstraints(input, '/constraints');
    assert.deepEqual(errors, []);
    assert.deepEqual(constraints, [
      c('hostname', 'UNIQUE'),
      c('zone', 'GROUP_BY', '3'),
      c('rack', 'LIKE', 'r[1-3]'),
      c('rack', 'UNLIKE', 'r9'),
      c('hostname', 'MAX_PER', '2'),
      c('os', 'IS', 'linux'),
      c('rack', 'CLUSTER'),
      c('rack', 'CLUSTER', 'r1'),
      c('zone', 'GROUP_BY'),
    ]);
    assert.deepEqual(toMarathonConstraints(constraints), input.slice(0, 8).concat([['zone', 'GROUP_BY']]));
  });

  it('reads the object form of pods ({fieldName}) and Metronome ({attribute}, EQ meaning IS)', () => {
    const { constraints, errors } = parseConstraints(
      [
        { fieldName: 'hostname', operator: 'UNIQUE' },
        { fieldName: 'rack', operator: 'LIKE', value: 'r[12]' },
        { attribute: 'os', operator: 'EQ', value: 'linux' },
        { attribute: 'os', operator: 'IS', value: 'linux' },
      ],
      '/placement/constraints',
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(constraints, [c('hostname', 'UNIQUE'), c('rack', 'LIKE', 'r[12]'), c('os', 'IS', 'linux'), c('os', 'IS', 'linux')]);
  });

  it('absent constraints are no constraints', () => {
    assert.deepEqual(parseConstraints(undefined, '/constraints'), { constraints: [], errors: [] });
    assert.deepEqual(parseConstraints(null, '/constraints'), { constraints: [], errors: [] });
    assert.deepEqual(parseConstraints([], '/constraints'), { constraints: [], errors: [] });
  });

  const ops = 'UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS';
  const errorRows: Array<{ name: string; input: unknown; errors: Array<{ path: string; errors: string[] }> }> = [
    { name: 'not an array', input: 'hostname:UNIQUE', errors: [{ path: '/c', errors: ['must be an array of constraints, e.g. [["hostname", "UNIQUE"]]'] }] },
    {
      name: 'unknown operator, second entry',
      input: [['hostname', 'UNIQUE'], ['hostname', 'FOO']],
      errors: [{ path: '/c/1/1', errors: [`unknown operator FOO; use one of ${ops}`] }],
    },
    { name: 'lower-case operator', input: [['hostname', 'unique']], errors: [{ path: '/c/0/1', errors: [`unknown operator unique; use one of ${ops}`] }] },
    { name: 'Marathon IN is not supported', input: [['rack', 'IN', 'a,b']], errors: [{ path: '/c/0/1', errors: [`unknown operator IN; use one of ${ops}`] }] },
    { name: 'operator not a string', input: [['hostname', 7]], errors: [{ path: '/c/0/1', errors: [`unknown operator 7; use one of ${ops}`] }] },
    { name: 'too short', input: [['hostname']], errors: [{ path: '/c/0', errors: ['must be [field, operator] or [field, operator, value]'] }] },
    { name: 'too long', input: [['a', 'IS', 'b', 'c']], errors: [{ path: '/c/0', errors: ['must be [field, operator] or [field, operator, value]'] }] },
    { name: 'neither array nor object', input: ['hostname'], errors: [{ path: '/c/0', errors: ['must be [field, operator, value?] or {fieldName, operator, value?}'] }] },
    {
      name: 'empty field',
      input: [['', 'UNIQUE']],
      errors: [{ path: '/c/0/0', errors: ['must be a non-empty string: hostname, @region, @zone or an agent attribute'] }],
    },
    { name: 'value not a string', input: [['zone', 'GROUP_BY', 3]], errors: [{ path: '/c/0/2', errors: ['must be a string, e.g. "3"'] }] },
    { name: 'bad regex', input: [['rack', 'LIKE', 'r[1-']], errors: [{ path: '/c/0/2', errors: [`"r[1-" is not a valid regular expression: ${regexMessage('r[1-')}`] }] },
    // Wrapped for anchoring this would compile; the pattern itself does not.
    { name: 'unbalanced group', input: [['rack', 'UNLIKE', 'a)(b']], errors: [{ path: '/c/0/2', errors: [`"a)(b" is not a valid regular expression: ${regexMessage('a)(b')}`] }] },
    { name: 'LIKE without value', input: [['rack', 'LIKE']], errors: [{ path: '/c/0', errors: ['LIKE needs a value: a regular expression, e.g. "rack-[1-3]"'] }] },
    { name: 'UNLIKE with empty value', input: [['rack', 'UNLIKE', '']], errors: [{ path: '/c/0', errors: ['UNLIKE needs a value: a regular expression, e.g. "rack-[1-3]"'] }] },
    { name: 'IS without value', input: [['os', 'IS']], errors: [{ path: '/c/0', errors: ['IS needs a value: the exact text the field must have'] }] },
    { name: 'MAX_PER without value', input: [['rack', 'MAX_PER']], errors: [{ path: '/c/0', errors: ['MAX_PER needs a value: the most instances per field value, a positive integer'] }] },
    { name: 'MAX_PER zero', input: [['rack', 'MAX_PER', '0']], errors: [{ path: '/c/0/2', errors: ['MAX_PER value must be a positive integer, got "0"'] }] },
    { name: 'MAX_PER not a number', input: [['rack', 'MAX_PER', 'two']], errors: [{ path: '/c/0/2', errors: ['MAX_PER value must be a positive integer, got "two"'] }] },
    { name: 'GROUP_BY negative', input: [['zone', 'GROUP_BY', '-3']], errors: [{ path: '/c/0/2', errors: ['GROUP_BY value must be a positive integer, got "-3"'] }] },
    { name: 'GROUP_BY fraction', input: [['zone', 'GROUP_BY', '1.5']], errors: [{ path: '/c/0/2', errors: ['GROUP_BY value must be a positive integer, got "1.5"'] }] },
    { name: 'UNIQUE with value', input: [['hostname', 'UNIQUE', 'x']], errors: [{ path: '/c/0/2', errors: ['UNIQUE takes no value, got "x"'] }] },
    {
      name: 'object form paths',
      input: [{ fieldName: 'rack', operator: 'NEAR' }, { fieldName: 'rack', operator: 'MAX_PER', value: 'x' }, { attribute: '', operator: 'IS', value: 'a' }],
      errors: [
        { path: '/c/0/operator', errors: [`unknown operator NEAR; use one of ${ops}`] },
        { path: '/c/1/value', errors: ['MAX_PER value must be a positive integer, got "x"'] },
        { path: '/c/2/attribute', errors: ['must be a non-empty string: hostname, @region, @zone or an agent attribute'] },
      ],
    },
  ];
  for (const row of errorRows) {
    it(`error: ${row.name}`, () => {
      const { constraints, errors } = parseConstraints(row.input, '/c');
      assert.deepEqual(errors, row.errors);
      assert.equal(constraints.length, Array.isArray(row.input) ? row.input.length - row.errors.length : 0, 'invalid entries are left out');
    });
  }

  it('reports every bad entry and keeps the good ones', () => {
    const { constraints, errors } = parseConstraints([['hostname', 'UNIQUE'], ['a', 'BAD'], ['rack', 'LIKE', 'r1'], ['b', 'MAX_PER', '0']], '/constraints');
    assert.deepEqual(constraints, [c('hostname', 'UNIQUE'), c('rack', 'LIKE', 'r1')]);
    assert.deepEqual(
      errors.map((e) => e.path),
      ['/constraints/1/1', '/constraints/3/2'],
    );
  });
});

function regexMessage(pattern: string): string {
  try {
    new RegExp(pattern);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${pattern} compiles`);
}

describe('constraints: constraintViolations', () => {
  it('names the instances that break UNIQUE, MAX_PER, CLUSTER and LIKE, keeping the first ones', () => {
    const instances = [on('h1', { rack: 'r1' }), on('h1', { rack: 'r1' }), on('h2', { rack: 'r1' }), on('h3', { rack: 'r9' })];
    assert.deepEqual(constraintViolations([c('hostname', 'UNIQUE')], instances), [1]);
    assert.deepEqual(constraintViolations([c('rack', 'MAX_PER', '2')], instances), [2]);
    assert.deepEqual(constraintViolations([c('rack', 'CLUSTER')], instances), [3]);
    assert.deepEqual(constraintViolations([c('rack', 'LIKE', 'r[0-5]')], instances), [3]);
    assert.deepEqual(constraintViolations([c('hostname', 'UNIQUE'), c('rack', 'MAX_PER', '1')], instances), [1, 2]);
  });

  it('leaves GROUP_BY to rebalancing and reports nothing without constraints', () => {
    const instances = [zone('a'), zone('a'), zone('a'), zone('b')];
    assert.deepEqual(constraintViolations([c('zone', 'GROUP_BY')], instances), []);
    assert.deepEqual(constraintViolations([], instances), []);
  });
});

describe('constraints: hostTest (whether an agent could ever take an instance)', () => {
  const agent = on('a1.example', { zone: 'eu-1', rack: 'r7' });
  const rows: Array<[Constraint, boolean]> = [
    [c('rack', 'LIKE', 'r[0-9]'), true],
    [c('rack', 'LIKE', 'r1.*'), false],
    [c('rack', 'LIKE', '('), false], // does not compile
    [c('rack', 'UNLIKE', 'r7'), false],
    [c('rack', 'UNLIKE', 'r8'), true],
    [c('missing', 'UNLIKE', 'x'), true], // a missing attribute passes UNLIKE only
    [c('missing', 'LIKE', '.*'), false],
    [c('zone', 'IS', 'eu-1'), true],
    [c('zone', 'IS', 'eu-2'), false],
    [c('zone', 'CLUSTER', 'eu-2'), false],
    [c('zone', 'CLUSTER'), true],
    [c('hostname', 'UNIQUE'), true],
    [c('zone', 'MAX_PER', '1'), true],
    [c('zone', 'GROUP_BY'), true],
    [c('missing', 'GROUP_BY'), false],
    [c('missing', 'MAX_PER', '3'), false],
  ];
  for (const [constraint, expected] of rows) {
    it(`${toMarathonConstraints([constraint])[0]!.join(' ')} → ${expected}`, () => {
      assert.equal(hostTest([constraint])(agent), expected);
      // the tracker's answer for the first instance is the same
      const t = new ConstraintTracker([constraint], []);
      assert.equal(t.passes(0, agent), expected);
    });
  }
  it('every constraint must accept', () => {
    assert.equal(hostTest([c('rack', 'LIKE', 'r.*'), c('zone', 'IS', 'eu-1')])(agent), true);
    assert.equal(hostTest([c('rack', 'LIKE', 'r.*'), c('zone', 'IS', 'us-1')])(agent), false);
    assert.equal(hostTest([])(agent), true);
  });
});
