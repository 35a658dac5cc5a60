import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ErrorDetail } from '../../protocol/types.js';
import { appToJson, normalizeApp, type AppDefinition } from '../../server/frameworks/services/app-definition.js';
import {
  dependencyOrder,
  findGroup,
  flattenApps,
  groupToJson,
  normalizeGroup,
  type GroupDefinition,
} from '../../server/frameworks/services/group-definition.js';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/marathon/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

function group(input: unknown, opts?: { base?: string }): GroupDefinition {
  const r = normalizeGroup(input, opts);
  if (!r.ok) assert.fail(`expected a valid group, got ${JSON.stringify(r.errors)}`);
  return r.group;
}

function groupErrors(input: unknown, opts?: { base?: string }): ErrorDetail[] {
  const r = normalizeGroup(input, opts);
  if (r.ok) assert.fail('expected errors, got a valid group');
  return r.errors;
}

function app(id: string, dependencies: string[] = []): AppDefinition {
  const r = normalizeApp({ id, cmd: 'sleep 100', dependencies });
  if (!r.ok) assert.fail(JSON.stringify(r.errors));
  return r.app;
}

function assertGivenKept(given: unknown, out: unknown, path = ''): void {
  if (Array.isArray(given)) {
    assert.ok(Array.isArray(out), `${path || '/'} should be an array`);
    assert.equal(out.length, given.length, `${path || '/'} length`);
    given.forEach((g, i) => assertGivenKept(g, out[i], `${path}/${i}`));
  } else if (given !== null && typeof given === 'object') {
    assert.ok(out !== null && typeof out === 'object' && !Array.isArray(out), `${path || '/'} should be an object`);
    for (const [k, v] of Object.entries(given)) assertGivenKept(v, (out as Record<string, unknown>)[k], `${path}/${k}`);
  } else {
    assert.deepEqual(out, given, `${path} changed`);
  }
}

const errorAt = (errors: ErrorDetail[], path: string): string[] => {
  const e = errors.find((x) => x.path === path);
  assert.ok(e, `no error at ${path}; got ${JSON.stringify(errors)}`);
  return e.errors;
};

describe('normalizeGroup', () => {
  it('takes the nested product group from the Marathon docs, and GET keeps every given field', () => {
    const input = fixture('group-product.json');
    const g = group(input);
    assert.equal(g.id, '/product');
    assert.deepEqual(g.groups.map((s) => s.id), ['/product/database', '/product/service', '/product/frontend']);
    assert.deepEqual(g.groups[1]!.dependencies, ['/product/database']);
    assert.deepEqual(flattenApps(g).map((a) => a.id), [
      '/product/database/mongo',
      '/product/database/mysql',
      '/product/service/rails-app',
      '/product/service/play-app',
      '/product/frontend/web',
    ]);
    // Defaults are filled in nested apps too.
    const web = findGroup(g, '/product/frontend')!.apps[0]!;
    assert.equal(web.healthChecks[0]!.gracePeriodSeconds, 300);
    assert.equal(web.maxLaunchDelaySeconds, 300);

    const out = groupToJson(g, appToJson);
    assertGivenKept(input, out);
    assert.deepEqual(out.pods, []);
    assert.deepEqual(group(JSON.parse(JSON.stringify(out))), g, 'GET → PUT round trip');
  });

  it('resolves relative ids of apps, groups and dependencies inside a group', () => {
    const g = group(
      {
        id: 'shop',
        apps: [{ id: 'cart', cmd: 'x', dependencies: ['db'] }],
        groups: [{ id: 'db', apps: [{ id: 'pg', cmd: 'postgres' }] }, { id: './search', dependencies: ['db'], apps: [] }],
      },
      { base: '/prod' },
    );
    assert.equal(g.id, '/prod/shop');
    assert.equal(g.apps[0]!.id, '/prod/shop/cart');
    assert.deepEqual(g.apps[0]!.dependencies, ['/prod/shop/db']);
    assert.equal(g.groups[0]!.apps[0]!.id, '/prod/shop/db/pg');
    assert.equal(g.groups[1]!.id, '/prod/shop/search');
    assert.deepEqual(g.groups[1]!.dependencies, ['/prod/shop/db'], 'a relative group dependency names a sibling');
  });

  it('reports errors of nested apps and groups at their paths', () => {
    const errors = groupErrors({
      id: '/g',
      apps: [
        { id: 'ok', cmd: 'x' },
        { id: 'hungry', cmd: 'x', cpus: -3 },
      ],
      groups: [{ id: 'sub', apps: [{ id: 'Bad_Name', cmd: 'x' }] }],
    });
    assert.deepEqual(errorAt(errors, '/apps/1/cpus'), ['must be >= 0']);
    assert.match(errorAt(errors, '/groups/0/apps/0/id')[0]!, /segment "Bad_Name" is invalid/);
  });

  it('an app or group must be a direct child of its group', () => {
    const errors = groupErrors({
      id: '/tools',
      apps: [{ id: '/elsewhere/app', cmd: 'x' }, { id: 'deep/app', cmd: 'x' }],
      groups: [{ id: '/other' }],
    });
    assert.equal(errorAt(errors, '/apps/0/id')[0], '/elsewhere/app is not a direct child of group /tools: use a relative id such as "app", or /tools/app');
    assert.match(errorAt(errors, '/apps/1/id')[0]!, /^\/tools\/deep\/app is not a direct child of group \/tools/);
    assert.match(errorAt(errors, '/groups/0/id')[0]!, /^\/other is not a direct child of group \/tools/);
  });

  it('an id names one thing in the tree', () => {
    const errors = groupErrors({
      id: '/g',
      apps: [{ id: 'a', cmd: 'x' }, { id: 'a', cmd: 'y' }, { id: 'sub', cmd: 'z' }],
      groups: [{ id: 'sub' }],
    });
    assert.deepEqual(errorAt(errors, '/apps/1/id'), ['/g/a is already used by /apps/0']);
    assert.deepEqual(errorAt(errors, '/groups/0/id'), ['/g/sub is already used by /apps/2']);
  });

  it('rejects malformed parts with paths, and pods', () => {
    const errors = groupErrors({ id: '/g', apps: {}, groups: [1], dependencies: ['../..'], pods: [{ id: 'p' }] });
    assert.deepEqual(errorAt(errors, '/apps'), ['must be an array']);
    assert.deepEqual(errorAt(errors, '/groups/0'), ['must be an object']);
    assert.deepEqual(errorAt(errors, '/dependencies/0'), ['"../.." goes above the root group']);
    assert.deepEqual(errorAt(errors, '/pods'), ['pods are not supported: define apps instead']);
    assert.deepEqual(errorAt(groupErrors({ apps: [] }), '/id'), ['is required']);
  });

  it('accepts the root group', () => {
    const g = group({ id: '/', apps: [{ id: 'x', cmd: 'x' }], groups: [{ id: 'a' }] });
    assert.equal(g.apps[0]!.id, '/x');
    assert.equal(g.groups[0]!.id, '/a');
  });
});

describe('dependencyOrder', () => {
  it('orders the product group in waves, expanding group dependencies', () => {
    const g = group(fixture('group-product.json'));
    const r = dependencyOrder(flattenApps(g), [g]);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.deepEqual(r.order, [
      ['/product/database/mongo', '/product/database/mysql'],
      ['/product/service/rails-app'],
      ['/product/service/play-app'],
      ['/product/frontend/web'],
    ]);
  });

  it('a dependency on a group id means every app in it, even without the group definitions', () => {
    const r = dependencyOrder([app('/web', ['/db']), app('/db/a'), app('/db/b', ['/db/a'])]);
    assert.ok(r.ok);
    assert.deepEqual(r.order, [['/db/a'], ['/db/b'], ['/web']]);
  });

  it('independent apps start together', () => {
    const r = dependencyOrder([app('/c'), app('/a'), app('/b')]);
    assert.ok(r.ok);
    assert.deepEqual(r.order, [['/a', '/b', '/c']]);
  });

  it('a→b→c→a is an error naming the cycle', () => {
    const r = dependencyOrder([app('/b', ['/c']), app('/a', ['/b']), app('/c', ['/a']), app('/d', ['/a'])]);
    assert.ok(!r.ok);
    assert.deepEqual(r.errors, [{ path: '/apps/1/dependencies/0', errors: ['dependency cycle: /a → /b → /c → /a'] }]);
  });

  it('a cycle through group dependencies is reported at the group dependency', () => {
    const g = group({
      id: '/p',
      groups: [
        { id: 'x', dependencies: ['y'], apps: [{ id: 'one', cmd: 'x' }] },
        { id: 'y', apps: [{ id: 'two', cmd: 'x', dependencies: ['/p/x/one'] }] },
      ],
    });
    const r = dependencyOrder(flattenApps(g), [g]);
    assert.ok(!r.ok);
    assert.deepEqual(r.errors, [{ path: '/groups/0/dependencies/0', errors: ['dependency cycle: /p/x/one → /p/y/two → /p/x/one'] }]);
  });

  it('an unknown dependency is an error at its path', () => {
    const g = group({
      id: '/p',
      dependencies: [],
      apps: [{ id: 'a', cmd: 'x', dependencies: ['/nowhere'] }],
      groups: [{ id: 'g', dependencies: ['/p/missing'], apps: [{ id: 'b', cmd: 'x' }] }, { id: 'empty' }],
    });
    const r = dependencyOrder(flattenApps(g), [g]);
    assert.ok(!r.ok);
    assert.deepEqual(r.errors, [
      { path: '/apps/0/dependencies/0', errors: ['unknown dependency /nowhere: no app or group has this id'] },
      { path: '/groups/0/dependencies/0', errors: ['unknown dependency /p/missing: no app or group has this id'] },
    ]);
  });

  it('apps of the tree outside the ordered set are satisfied dependencies', () => {
    const root = group({
      id: '/',
      groups: [
        { id: 'db', apps: [{ id: 'pg', cmd: 'postgres' }] },
        { id: 'web', dependencies: ['/db'], apps: [{ id: 'a', cmd: 'x', dependencies: ['/db/pg'] }, { id: 'b', cmd: 'x', dependencies: ['a'] }] },
      ],
    });
    // Only /web is being deployed; /db/pg already runs.
    const r = dependencyOrder(root.groups[1]!.apps, [root]);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.deepEqual(r.order, [['/web/a'], ['/web/b']]);
  });

  it('a dependency on an existing empty group is satisfied', () => {
    const g = group({ id: '/p', apps: [{ id: 'a', cmd: 'x', dependencies: ['empty'] }], groups: [{ id: 'empty' }] });
    const r = dependencyOrder(flattenApps(g), [g]);
    assert.ok(r.ok);
    assert.deepEqual(r.order, [['/p/a']]);
  });
});
