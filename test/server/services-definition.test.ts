import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ErrorDetail } from '../../protocol/types.js';
import {
  appToJson,
  isScaleOnly,
  isUpgrade,
  mergeApp,
  normalizeApp,
  toHealthCheckSpecs,
  type AppDefinition,
} from '../../server/frameworks/services/app-definition.js';
import { isAncestor, parentOf, parsePathId, segments } from '../../server/frameworks/services/paths.js';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/marathon/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

function ok(input: unknown, opts?: { base?: string }): AppDefinition {
  const r = normalizeApp(input, opts);
  if (!r.ok) assert.fail(`expected a valid app, got ${JSON.stringify(r.errors)}`);
  return r.app;
}

function errorsOf(input: unknown, opts?: { base?: string }): ErrorDetail[] {
  const r = normalizeApp(input, opts);
  if (r.ok) assert.fail(`expected errors, got a valid app ${JSON.stringify(appToJson(r.app))}`);
  return r.errors;
}

/** Every value given appears unchanged in the output (objects may gain defaulted keys). */
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

const minimal = (extra: Record<string, unknown> = {}) => ({ id: '/app', cmd: 'sleep 1000', ...extra });

describe('path ids', () => {
  it('accepts Marathon ids and makes them absolute and canonical', () => {
    assert.deepEqual(parsePathId('/prod/web'), { id: '/prod/web' });
    assert.deepEqual(parsePathId('web', '/prod'), { id: '/prod/web' });
    assert.deepEqual(parsePathId('../db', '/prod/api'), { id: '/prod/db' });
    assert.deepEqual(parsePathId('./a/./b', '/g'), { id: '/g/a/b' });
    assert.deepEqual(parsePathId('/a/../b'), { id: '/b' });
    assert.deepEqual(parsePathId('my-app.v2/x0'), { id: '/my-app.v2/x0' });
    assert.deepEqual(parsePathId('/'), { id: '/' });
  });

  it('rejects bad ids with a reason', () => {
    const bad: Array<[unknown, RegExp]> = [
      ['/Bad_ID', /segment "Bad_ID" is invalid/],
      ['//x', /empty segments/],
      ['/a//b', /empty segments/],
      ['/a/', /must not end with "\/"/],
      ['/-web', /segment "-web" is invalid/],
      ['/web-', /segment "web-" is invalid/],
      ['/a..b', /segment "a\.\.b" is invalid/],
      ['/..', /goes above the root group/],
      ['', /must not be empty/],
      [42, /must be a string/],
    ];
    for (const [raw, re] of bad) {
      const r = parsePathId(raw);
      assert.ok(r.error !== undefined, `${JSON.stringify(raw)} should be rejected`);
      assert.match(r.error, re, String(raw));
    }
    assert.match(parsePathId('../../x', '/g').error ?? '', /goes above the root group/);
  });

  it('answers parent, ancestor and segment questions', () => {
    assert.equal(parentOf('/prod/web'), '/prod');
    assert.equal(parentOf('/web'), '/');
    assert.equal(parentOf('/'), '/');
    assert.ok(isAncestor('/prod', '/prod/web'));
    assert.ok(isAncestor('/', '/prod'));
    assert.ok(!isAncestor('/prod', '/prod'));
    assert.ok(!isAncestor('/prod', '/production/web'), 'prefix of a segment is not an ancestor');
    assert.deepEqual(segments('/a/b'), ['a', 'b']);
    assert.deepEqual(segments('/'), []);
  });
});

describe('normalizeApp on real Marathon app definitions', () => {
  const fixtures = [
    'basic-python-http.json',
    'args-env-labels-fetch.json',
    'docker-bridge.json',
    'port-definitions-require-ports.json',
    'marathon-get-output.json',
  ];

  for (const name of fixtures) {
    it(`${name}: normalizes, GET keeps every given field, and a second pass changes nothing`, () => {
      const input = fixture(name);
      const app = ok(input);
      const out = appToJson(app);
      const runtime = ['tasks', 'tasksStaged', 'tasksRunning', 'tasksHealthy', 'tasksUnhealthy', 'deployments'];
      const given = Object.fromEntries(Object.entries(input).filter(([k]) => !runtime.includes(k)));
      assertGivenKept(given, out);
      for (const k of runtime) assert.ok(!(k in out), `runtime field ${k} must not be stored`);
      assert.deepEqual(ok(JSON.parse(JSON.stringify(out))), app, 'GET → PUT round trip');
      // Every field Marathon prints is present.
      for (const k of ['env', 'instances', 'cpus', 'mem', 'disk', 'gpus', 'executor', 'constraints', 'fetch', 'backoffSeconds', 'backoffFactor',
        'maxLaunchDelaySeconds', 'healthChecks', 'readinessChecks', 'dependencies', 'upgradeStrategy', 'unreachableStrategy', 'killSelection',
        'labels', 'networks', 'portDefinitions', 'requirePorts']) {
        assert.ok(k in out, `${name} output lacks ${k}`);
      }
    });
  }

  it('fills every Marathon default for the basic app', () => {
    const app = ok(fixture('basic-python-http.json'));
    assert.equal(app.id, '/prod/web');
    assert.equal(app.disk, 0);
    assert.equal(app.gpus, 0);
    assert.equal(app.executor, '');
    assert.equal(app.backoffSeconds, 1);
    assert.equal(app.backoffFactor, 1.15);
    assert.equal(app.maxLaunchDelaySeconds, 300);
    assert.deepEqual(app.upgradeStrategy, { minimumHealthCapacity: 1, maximumOverCapacity: 1 });
    assert.deepEqual(app.unreachableStrategy, { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 });
    assert.equal(app.killSelection, 'YOUNGEST_FIRST');
    assert.equal(app.requirePorts, false);
    assert.deepEqual(app.networks, [{ mode: 'host' }]);
    assert.deepEqual(app.portDefinitions, [{ port: 0, protocol: 'tcp', name: 'default', labels: {} }]);
    assert.deepEqual(app.env, {});
    assert.deepEqual(app.labels, {});
    assert.deepEqual(app.fetch, []);
    assert.deepEqual(app.dependencies, []);
    assert.deepEqual(app.constraints, [{ field: 'hostname', operator: 'UNIQUE' }]);
    assert.deepEqual(app.healthChecks, [
      {
        protocol: 'HTTP',
        path: '/',
        portIndex: 0,
        gracePeriodSeconds: 5,
        intervalSeconds: 10,
        timeoutSeconds: 5,
        maxConsecutiveFailures: 3,
        delaySeconds: 15,
        ignoreHttp1xx: false,
        ipProtocol: 'IPv4',
      },
    ]);
    assert.deepEqual(appToJson(app).constraints, [['hostname', 'UNIQUE']]);
  });

  it('fills resource and health check defaults for a bare app', () => {
    const app = ok({ id: 'bare', cmd: 'sleep 1', healthChecks: [{}] });
    assert.equal(app.id, '/bare');
    assert.equal(app.instances, 1);
    assert.equal(app.cpus, 1);
    assert.equal(app.mem, 128);
    const [hc] = app.healthChecks;
    assert.deepEqual(hc, {
      protocol: 'HTTP',
      path: '/',
      portIndex: 0,
      gracePeriodSeconds: 300,
      intervalSeconds: 60,
      timeoutSeconds: 20,
      maxConsecutiveFailures: 3,
      delaySeconds: 15,
      ignoreHttp1xx: false,
      ipProtocol: 'IPv4',
    });
  });

  it('keeps args, env with secret references, labels, fetch and the upgrade strategy', () => {
    const app = ok(fixture('args-env-labels-fetch.json'));
    assert.equal(app.cmd, undefined);
    assert.deepEqual(app.args, ['./worker', '--queue', 'reports', '--concurrency', '4']);
    assert.deepEqual(app.env.DB_PASSWORD, { secret: 'dbpass' });
    assert.deepEqual(app.secrets, { dbpass: { source: '/prod/db/password' } });
    assert.deepEqual(app.upgradeStrategy, { minimumHealthCapacity: 0.5, maximumOverCapacity: 0.2 });
    assert.deepEqual(app.fetch[0], { uri: 'https://example.com/releases/worker-1.4.2.tgz', extract: true, executable: false, cache: false });
    assert.equal(app.fetch[1]!.destPath, 'conf/worker.yml');
    assert.equal(app.taskKillGracePeriodSeconds, 30);
  });

  it('takes a Docker app on a bridge network with its port mappings', () => {
    const app = ok(fixture('docker-bridge.json'));
    assert.equal(app.container?.type, 'DOCKER');
    assert.deepEqual(app.portDefinitions, [], 'ports come from portMappings, not portDefinitions');
    assert.equal(app.healthChecks[0]!.protocol, 'MESOS_HTTP');
    assert.equal(app.healthChecks[0]!.ignoreHttp1xx, undefined, 'ignoreHttp1xx is for Marathon-run HTTP checks only');
    assert.deepEqual(app.unreachableStrategy, { inactiveAfterSeconds: 300, expungeAfterSeconds: 600 });
    assert.equal(app.killSelection, 'OLDEST_FIRST');
  });

  it('a container-only app (image with its own entrypoint) needs no cmd', () => {
    const app = ok({ id: '/redis', container: { docker: { image: 'redis:7' } } });
    assert.equal(app.container?.type, 'DOCKER', 'type defaults to DOCKER as in Marathon');
  });

  it('a container network without a container gets an image-less MESOS one with a default port mapping', () => {
    const app = ok(minimal({ networks: [{ mode: 'container/bridge' }] }));
    assert.deepEqual(app.container, {
      type: 'MESOS',
      portMappings: [{ containerPort: 0, hostPort: 0, labels: {}, name: 'default', protocol: 'tcp', servicePort: 0 }],
    });
    assert.deepEqual(app.portDefinitions, []);
  });

  it('keeps fields it does not interpret, and drops runtime fields a client copied from GET', () => {
    const app = ok(minimal({ role: 'slave_public', residency: undefined, tty: true, storeUrls: [], fooBar: { x: 1 }, tasksRunning: 3 }));
    assert.deepEqual(app.extra, { role: 'slave_public', tty: true, storeUrls: [], fooBar: { x: 1 } });
    const out = appToJson(app);
    assert.equal(out.role, 'slave_public');
    assert.deepEqual(out.fooBar, { x: 1 });
    assert.ok(!('tasksRunning' in out));
  });

  it('translates the deprecated uris and ports fields', () => {
    const app = ok(minimal({ uris: ['https://x/app.tar.gz', 'https://x/run.sh'], ports: [8080, 0] }));
    assert.deepEqual(app.fetch, [
      { uri: 'https://x/app.tar.gz', extract: true, executable: false, cache: false },
      { uri: 'https://x/run.sh', extract: false, executable: false, cache: false },
    ]);
    assert.deepEqual(app.portDefinitions, [
      { port: 8080, protocol: 'tcp', labels: {} },
      { port: 0, protocol: 'tcp', labels: {} },
    ]);
  });

  it('reads the deprecated container.docker.network as networks', () => {
    const app = ok({ id: '/r', container: { type: 'DOCKER', docker: { image: 'registry', network: 'BRIDGE', portMappings: [{ containerPort: 5000, hostPort: 0 }] } } });
    assert.deepEqual(app.networks, [{ mode: 'container/bridge' }]);
    assert.deepEqual(app.portDefinitions, []);
    ok({ id: '/r', container: { type: 'DOCKER', docker: { image: 'registry', network: 'BRIDGE', portMappings: [{ containerPort: 5000 }] } }, healthChecks: [{ portIndex: 0 }] });
  });

  it('resident apps (persistent volumes) default to the resident upgrade and unreachable strategies', () => {
    const app = ok(minimal({ container: { type: 'MESOS', volumes: [{ containerPath: 'data', mode: 'RW', persistent: { size: 100 } }] } }));
    assert.deepEqual(app.upgradeStrategy, { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 });
    assert.equal(app.unreachableStrategy, 'disabled');
  });

  it('resolves a relative id against the base group, and dependencies against the app\'s group', () => {
    const app = ok({ id: 'api', cmd: 'x', dependencies: ['db', '../shared/cache', '/prod/db'] }, { base: '/prod' });
    assert.equal(app.id, '/prod/api');
    assert.deepEqual(app.dependencies, ['/prod/db', '/shared/cache'], 'resolved and de-duplicated');
  });

  it('treats null like an omitted field', () => {
    const app = ok({ id: '/n', cmd: 'x', args: null, user: null, cpus: null, env: null, container: null });
    assert.equal(app.cpus, 1);
    assert.deepEqual(app.env, {});
    assert.equal(app.container, undefined);
  });
});

describe('normalizeApp rejects bad definitions at exact paths', () => {
  const table: Array<{ name: string; input: unknown; base?: string; path: string; message: string | RegExp }> = [
    { name: 'upper case and underscore in id', input: minimal({ id: '/Bad_ID' }), path: '/id', message: /segment "Bad_ID" is invalid/ },
    { name: '.. escaping root', input: minimal({ id: '../../x' }), base: '/prod', path: '/id', message: '"../../x" goes above the root group' },
    { name: 'missing id', input: { cmd: 'x' }, path: '/id', message: 'is required' },
    { name: 'root as app id', input: minimal({ id: '/' }), path: '/id', message: 'must not be the root group "/"' },
    { name: 'negative cpus', input: minimal({ cpus: -1 }), path: '/cpus', message: 'must be >= 0' },
    { name: 'absurd cpus', input: minimal({ cpus: 20_000 }), path: '/cpus', message: 'must be <= 10000' },
    { name: 'absurd mem', input: minimal({ mem: 2 * 1024 ** 3 }), path: '/mem', message: 'must be <= 1073741824 (1 PiB; mem is in MiB)' },
    { name: 'mem as a string', input: minimal({ mem: '128' }), path: '/mem', message: 'must be a number' },
    { name: 'fractional instances', input: minimal({ instances: 1.5 }), path: '/instances', message: 'must be an integer' },
    { name: 'too many instances', input: minimal({ instances: 100_001 }), path: '/instances', message: 'must be <= 100000' },
    { name: 'negative instances', input: minimal({ instances: -1 }), path: '/instances', message: 'must be >= 0' },
    { name: 'unknown constraint operator', input: minimal({ constraints: [['hostname', 'SOMETIMES']] }), path: '/constraints/0/1', message: /^unknown operator SOMETIMES/ },
    {
      name: 'health check without a port on an app without ports',
      input: minimal({ portDefinitions: [], healthChecks: [{ protocol: 'HTTP' }] }),
      path: '/healthChecks/0',
      message: 'a HTTP health check needs a port: the app defines no ports, so give the check a "port" or the app portDefinitions',
    },
    {
      name: 'portIndex out of range',
      input: minimal({ healthChecks: [{ protocol: 'TCP', portIndex: 2 }] }),
      path: '/healthChecks/0/portIndex',
      message: 'the app defines 1 port, index 2 does not exist',
    },
    {
      name: 'portIndex out of range, bridge network counts port mappings',
      input: { id: '/d', container: { docker: { image: 'nginx' }, portMappings: [{ containerPort: 80 }, { containerPort: 443 }] }, networks: [{ mode: 'container/bridge' }], healthChecks: [{ portIndex: 2 }] },
      path: '/healthChecks/0/portIndex',
      message: 'the app defines 2 ports, index 2 does not exist',
    },
    { name: 'unknown health check protocol', input: minimal({ healthChecks: [{ protocol: 'GRPC' }] }), path: '/healthChecks/0/protocol', message: 'must be one of HTTP, HTTPS, TCP, COMMAND, MESOS_HTTP, MESOS_HTTPS, MESOS_TCP' },
    { name: 'COMMAND without a command', input: minimal({ healthChecks: [{ protocol: 'COMMAND' }] }), path: '/healthChecks/0/command', message: 'is required for a COMMAND health check ({"value": "<shell command>"})' },
    { name: 'zero health check interval', input: minimal({ healthChecks: [{ intervalSeconds: 0 }] }), path: '/healthChecks/0/intervalSeconds', message: 'must be >= 1' },
    { name: 'cmd and args together', input: minimal({ args: ['sleep', '1'] }), path: '/args', message: 'must not be given together with cmd: use one or the other' },
    { name: 'nothing to run', input: { id: '/x' }, path: '/cmd', message: 'one of cmd, args or a container image is required' },
    { name: 'empty cmd', input: { id: '/x', cmd: '' }, path: '/cmd', message: 'must not be empty' },
    { name: 'backoffFactor below 1', input: minimal({ backoffFactor: 0.5 }), path: '/backoffFactor', message: 'must be >= 1' },
    {
      name: 'unreachableStrategy expunge before inactive',
      input: minimal({ unreachableStrategy: { inactiveAfterSeconds: 600, expungeAfterSeconds: 300 } }),
      path: '/unreachableStrategy/inactiveAfterSeconds',
      message: 'inactiveAfterSeconds (600) must be less or equal to expungeAfterSeconds, which is 300',
    },
    { name: 'unreachableStrategy of another word', input: minimal({ unreachableStrategy: 'never' }), path: '/unreachableStrategy', message: 'must be "disabled" or {"inactiveAfterSeconds": n, "expungeAfterSeconds": n}' },
    { name: 'non-string env value', input: minimal({ env: { PORT: 8080 } }), path: '/env/PORT', message: 'must be a string (or {"secret": "<name>"} to use a secret)' },
    { name: 'env secret that does not exist', input: minimal({ env: { PW: { secret: 'nope' } } }), path: '/env/PW', message: 'refers to secret "nope", which is not defined in secrets' },
    { name: 'non-string label (key with a slash is escaped)', input: minimal({ labels: { 'a/b': true } }), path: '/labels/a~1b', message: 'must be a string' },
    { name: 'upgradeStrategy above 1', input: minimal({ upgradeStrategy: { minimumHealthCapacity: 1.5, maximumOverCapacity: 0 } }), path: '/upgradeStrategy/minimumHealthCapacity', message: 'must be <= 1' },
    { name: 'killSelection enum', input: minimal({ killSelection: 'RANDOM' }), path: '/killSelection', message: 'must be one of YOUNGEST_FIRST, OLDEST_FIRST' },
    { name: 'bad dependency id', input: minimal({ dependencies: ['/ok', '/Not OK'] }), path: '/dependencies/1', message: /segment "Not OK" is invalid/ },
    { name: 'depends on itself', input: minimal({ dependencies: ['/app'] }), path: '/dependencies/0', message: 'an app cannot depend on itself' },
    { name: 'empty fetch uri', input: minimal({ fetch: [{ uri: '' }] }), path: '/fetch/0/uri', message: 'must not be empty' },
    { name: 'fetch without uri', input: minimal({ fetch: [{ extract: false }] }), path: '/fetch/0/uri', message: 'is required' },
    { name: 'port out of range', input: minimal({ portDefinitions: [{ port: 70000 }] }), path: '/portDefinitions/0/port', message: 'must be <= 65535' },
    { name: 'duplicate fixed port', input: minimal({ portDefinitions: [{ port: 8080 }, { port: 0 }, { port: 8080 }] }), path: '/portDefinitions/2/port', message: 'port 8080 is already used by portDefinitions/0' },
    { name: 'requirePorts with a dynamic port', input: minimal({ requirePorts: true, portDefinitions: [{ port: 8080 }, { port: 0 }] }), path: '/requirePorts', message: 'needs a fixed (non-zero) port in every port definition; portDefinitions/1 has port 0' },
    { name: 'portDefinitions on a bridge network', input: minimal({ networks: [{ mode: 'container/bridge' }], portDefinitions: [{ port: 0 }] }), path: '/portDefinitions', message: 'port definitions are only allowed with host networking: use container.portMappings' },
    { name: 'DOCKER container without docker', input: { id: '/d', container: { type: 'DOCKER' } }, path: '/container/docker', message: 'is required for a DOCKER container ({"image": "…"})' },
    { name: 'docker without an image', input: { id: '/d', container: { docker: {} } }, path: '/container/docker/image', message: 'is required' },
    { name: 'container type', input: { id: '/d', container: { type: 'RKT', docker: { image: 'x' } } }, path: '/container/type', message: 'must be one of DOCKER, MESOS' },
    { name: 'readiness check on an unknown port', input: minimal({ readinessChecks: [{ portName: 'http' }] }), path: '/readinessChecks/0/portName', message: 'no port is named "http" (named ports: default)' },
    { name: 'single-instance app scaled up', input: minimal({ instances: 2, labels: { MARATHON_SINGLE_INSTANCE_APP: 'true' } }), path: '/instances', message: 'a single-instance app (label MARATHON_SINGLE_INSTANCE_APP) may only have one instance' },
    { name: 'not an object', input: [1, 2], path: '/', message: 'must be a JSON object' },
  ];

  for (const t of table) {
    it(t.name, () => {
      const errors = errorsOf(t.input, t.base ? { base: t.base } : undefined);
      const at = errors.find((e) => e.path === t.path);
      assert.ok(at, `no error at ${t.path}; got ${JSON.stringify(errors)}`);
      if (typeof t.message === 'string') assert.ok(at.errors.includes(t.message), `at ${t.path}: ${JSON.stringify(at.errors)}`);
      else assert.ok(at.errors.some((m) => (t.message as RegExp).test(m)), `at ${t.path}: ${JSON.stringify(at.errors)}`);
    });
  }

  it('reports every problem at once, not only the first', () => {
    const errors = errorsOf({ id: '/Bad_ID', cpus: -1, mem: 'lots', backoffFactor: 0.5, env: { A: 1 } });
    assert.deepEqual(errors.map((e) => e.path).sort(), ['/backoffFactor', '/cmd', '/cpus', '/env/A', '/id', '/mem']);
  });

  it('never fails on a field it does not know', () => {
    ok(minimal({ somethingNew: [1, { deep: null }], ipAddress: { networkName: 'dcos' }, check: { http: { portIndex: 0 } } }));
  });
});

describe('mergeApp (PATCH)', () => {
  const base = ok(fixture('args-env-labels-fetch.json'));

  it('keeps the fields the patch does not mention', () => {
    const r = mergeApp(base, { instances: 5, labels: { owner: 'hera' } });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.equal(r.app.instances, 5);
    assert.deepEqual(r.app.labels, { owner: 'hera' }, 'a given map replaces the old one, as in Marathon');
    assert.deepEqual(r.app.args, base.args);
    assert.deepEqual(r.app.env, base.env);
    assert.deepEqual(r.app.fetch, base.fetch);
    assert.deepEqual(r.app.upgradeStrategy, base.upgradeStrategy);
    assert.equal(r.app.user, 'nobody');
    assert.equal(r.app.taskKillGracePeriodSeconds, 30);
    assert.equal(r.app.id, base.id);
  });

  it('null in a patch keeps the current value', () => {
    const r = mergeApp(base, { user: null, cpus: 2 });
    assert.ok(r.ok);
    assert.equal(r.app.user, 'nobody');
    assert.equal(r.app.cpus, 2);
  });

  it('setting cmd replaces args (they are alternatives)', () => {
    const r = mergeApp(base, { cmd: './worker --queue reports' });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.equal(r.app.cmd, './worker --queue reports');
    assert.equal(r.app.args, undefined);
  });

  it('moving to a bridge network drops the host port definitions', () => {
    const web = ok(fixture('basic-python-http.json'));
    const r = mergeApp(web, { networks: [{ mode: 'container/bridge' }], healthChecks: [] });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.deepEqual(r.app.portDefinitions, []);
    assert.equal(r.app.container?.type, 'MESOS');
  });

  it('validates the merged result', () => {
    const r = mergeApp(base, { cpus: -2 });
    assert.ok(!r.ok);
    assert.deepEqual(r.errors, [{ path: '/cpus', errors: ['must be >= 0'] }]);
  });

  it('refuses to change the id', () => {
    const r = mergeApp(base, { id: '/tools/other' });
    assert.ok(!r.ok);
    assert.equal(r.errors[0]!.path, '/id');
    assert.ok(mergeApp(base, { id: 'report-worker' }).ok, 'the same id, relative to the app\'s group, is fine');
  });
});

describe('isScaleOnly and isUpgrade', () => {
  const a = ok(fixture('basic-python-http.json'));
  const change = (patch: Record<string, unknown>): AppDefinition => {
    const r = mergeApp(a, patch);
    if (!r.ok) assert.fail(JSON.stringify(r.errors));
    return r.app;
  };

  it('only instances differs → scale', () => {
    assert.ok(isScaleOnly(a, change({ instances: 10 })));
    assert.ok(!isUpgrade(a, change({ instances: 10 })));
  });

  it('the version stamp alone is not a change', () => {
    const b = { ...change({ instances: 4 }), version: '2024-01-01T00:00:00.000Z' };
    assert.ok(isScaleOnly(a, b));
  });

  it('anything else → restart, even together with instances', () => {
    for (const patch of [{ cmd: 'python3 -m http.server $PORT0 --bind 0.0.0.0' }, { mem: 128 }, { env: { A: 'b' } }, { instances: 9, cpus: 0.5 }, { labels: { x: 'y' } }]) {
      assert.ok(!isScaleOnly(a, change(patch)), JSON.stringify(patch));
      assert.ok(isUpgrade(a, change(patch)), JSON.stringify(patch));
    }
  });

  it('no change at all is neither', () => {
    assert.ok(!isScaleOnly(a, change({})));
    assert.ok(!isUpgrade(a, change({})));
  });

  it('the order of constraints (a set in Marathon) is not a change', () => {
    const one = ok(minimal({ constraints: [['hostname', 'UNIQUE'], ['rack', 'GROUP_BY']] }));
    const two = ok(minimal({ constraints: [['rack', 'GROUP_BY'], ['hostname', 'UNIQUE']] }));
    assert.ok(!isUpgrade(one, two));
  });
});

describe('toHealthCheckSpecs', () => {
  it('maps Marathon checks to what the agent runs', () => {
    const app = ok(
      minimal({
        portDefinitions: [{ port: 0 }, { port: 0 }],
        healthChecks: [
          { protocol: 'MESOS_HTTP', path: '/health', portIndex: 1, delaySeconds: 3 },
          { protocol: 'MESOS_TCP', port: 9000 },
          { protocol: 'HTTP', ignoreHttp1xx: true },
          { command: { value: 'test -f ready' }, maxConsecutiveFailures: 0 },
        ],
      }),
    );
    assert.deepEqual(toHealthCheckSpecs(app), [
      { protocol: 'HTTP', path: '/health', portIndex: 1, gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3, delaySeconds: 3 },
      { protocol: 'TCP', port: 9000, gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3, delaySeconds: 15 },
      { protocol: 'HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3, ignoreHttp1xx: true },
      { protocol: 'COMMAND', command: 'test -f ready', gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 0, delaySeconds: 15 },
    ]);
  });
});
