// Yagura's placement extension of the catalog: `constraints` on /package/render and
// /package/install are appended to the rendered app's own, checked like POST /v2/apps checks
// them (errors at /constraints/<i>), refused for a job package, and honoured by placement:
// a service pinned with hostname:CLUSTER runs on that agent and nowhere else.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { servicesCluster, type ServicesCluster } from '../support/services.js';
import { waitFor } from '../support/cluster.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const config = (name: string) => ({
  type: 'object',
  properties: {
    service: {
      type: 'object',
      properties: {
        name: { type: 'string', default: name },
        instances: { type: 'integer', minimum: 0, maximum: 5, default: 1 },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
});

/** A service whose template has a constraint of its own, and a job. */
function index() {
  const base = { packagingVersion: '4.0', releaseVersion: 0, version: '1.0.0', maintainer: 'x@example.com', tags: [], selected: false, framework: false };
  return {
    packages: [
      {
        ...base,
        name: 'sleeper',
        description: 'Sleeps, one per host.',
        config: config('sleeper'),
        marathon: {
          v2AppMustacheTemplate: b64(
            '{"id": "{{service.name}}", "cmd": "sleep 3600", "cpus": 0.1, "mem": 16, "instances": {{service.instances}}, "constraints": [["hostname", "UNIQUE"]]}',
          ),
        },
      },
      {
        ...base,
        name: 'nightly',
        description: 'A job.',
        config: { type: 'object', properties: { id: { type: 'string', default: 'nightly' } } },
        metronome: { v1JobMustacheTemplate: b64('{"id": "{{id}}", "run": {"cmd": "true", "cpus": 0.1, "mem": 32, "disk": 0}}') },
      },
    ],
  };
}

describe('catalog: constraints on install and render', () => {
  let c: ServicesCluster;

  const post = async (path: string, body: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${c.m.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${c.m.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  };

  before(async () => {
    c = await servicesCluster();
    await c.addAgent('node-a');
    await c.addAgent('node-b');
    const file = join(c.dir, 'repo.json');
    writeFileSync(file, JSON.stringify(index()));
    const added = await post('/package/repository/add', { name: 'test', uri: file });
    assert.equal(added.status, 200, JSON.stringify(added.json));
  });
  after(async () => {
    await c.dispose();
  });

  it('render appends the request constraints after the template’s own', async () => {
    const plain = await post('/package/render', { packageName: 'sleeper' });
    assert.equal(plain.status, 200, JSON.stringify(plain.json));
    assert.deepEqual(plain.json.marathonJson.constraints, [['hostname', 'UNIQUE']]);
    const pinned = await post('/package/render', { packageName: 'sleeper', constraints: [['hostname', 'CLUSTER', 'node-b'], ['rack', 'LIKE', 'r[12]']] });
    assert.equal(pinned.status, 200, JSON.stringify(pinned.json));
    assert.deepEqual(pinned.json.marathonJson.constraints, [
      ['hostname', 'UNIQUE'],
      ['hostname', 'CLUSTER', 'node-b'],
      ['rack', 'LIKE', 'r[12]'],
    ]);
  });

  it('install with hostname:CLUSTER runs the service on that agent', async () => {
    const r = await post('/package/install', { packageName: 'sleeper', options: { service: { name: 'pinned' } }, constraints: [['hostname', 'CLUSTER', 'node-b']] });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.appId, '/pinned');
    const app = c.m.services.getApp('/pinned')!;
    assert.deepEqual(
      app.def.constraints.map((x) => [x.field, x.operator, x.value]),
      [
        ['hostname', 'UNIQUE', undefined],
        ['hostname', 'CLUSTER', 'node-b'],
      ],
    );
    const task = await waitFor(() => c.m.services.tasksOf('/pinned').find((t) => t.state === 'TASK_RUNNING'), 30_000, 'a running instance');
    assert.equal(c.m.master.agentHostname(task.agentId), 'node-b');
  });

  it('rejects constraints that are not [field, operator, value?] strings, at /constraints/<i>, and installs nothing', async () => {
    const cases: Array<[unknown, string]> = [
      ['hostname:CLUSTER:node-a', '/constraints'],
      [{ hostname: 'CLUSTER' }, '/constraints'],
      [[['hostname']], '/constraints/0'],
      [[['hostname', 'CLUSTER', 'node-a'], ['hostname', 'CLUSTER', 7]], '/constraints/1'],
      [[['hostname', 'CLUSTER', 'node-a', 'extra']], '/constraints/0'],
      [[{ fieldName: 'hostname', operator: 'CLUSTER', value: 'node-a' }], '/constraints/0'],
    ];
    for (const [constraints, path] of cases) {
      for (const action of ['render', 'install']) {
        const r = await post(`/package/${action}`, { packageName: 'sleeper', options: { service: { name: 'never' } }, constraints });
        assert.equal(r.status, 422, `${action} ${JSON.stringify(constraints)}: ${JSON.stringify(r.json)}`);
        assert.deepEqual(
          r.json.details.map((d: { path: string }) => d.path),
          [path],
          `${action} ${JSON.stringify(constraints)}`,
        );
      }
    }
    // Right shape, wrong meaning: checked as /v2/apps checks it, reported below the entry.
    const op = await post('/package/install', { packageName: 'sleeper', options: { service: { name: 'never' } }, constraints: [['hostname', 'NEAR', 'node-a']] });
    assert.equal(op.status, 422);
    assert.ok(
      op.json.details.every((d: { path: string }) => d.path.startsWith('/constraints/0')),
      JSON.stringify(op.json.details),
    );
    const value = await post('/package/install', { packageName: 'sleeper', options: { service: { name: 'never' } }, constraints: [['hostname', 'CLUSTER', 'a'], ['rack', 'MAX_PER', 'many']] });
    assert.equal(value.status, 422);
    assert.ok(
      value.json.details.length > 0 && value.json.details.every((d: { path: string }) => d.path.startsWith('/constraints/1')),
      JSON.stringify(value.json.details),
    );
    assert.equal(c.m.services.getApp('/never'), undefined);
  });

  it('refuses constraints for a job package (422 at /constraints), and accepts none', async () => {
    const r = await post('/package/install', { packageName: 'nightly', constraints: [['hostname', 'CLUSTER', 'node-a']] });
    assert.equal(r.status, 422, JSON.stringify(r.json));
    assert.deepEqual(r.json.details.map((d: { path: string }) => d.path), ['/constraints']);
    const render = await post('/package/render', { packageName: 'nightly', constraints: [['hostname', 'CLUSTER', 'node-a']] });
    assert.equal(render.status, 422);
    assert.equal(c.m.jobs.getJob('nightly'), undefined);
    const none = await post('/package/render', { packageName: 'nightly', constraints: [] });
    assert.equal(none.status, 200, JSON.stringify(none.json));
  });
});
