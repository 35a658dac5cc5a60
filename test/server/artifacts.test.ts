// The master's artifact store: upload, list, download by agents with their secret, and a
// service that fetches its program from it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTerminal } from '../../protocol/types.js';
import { waitFor } from '../support/cluster.js';
import { app, servicesCluster, type ServicesCluster } from '../support/services.js';

describe('artifact store', { timeout: 60_000 }, () => {
  let c: ServicesCluster;
  let viewer: string;
  const req = (method: string, path: string, token: string | undefined, body?: Buffer | string, type = 'application/octet-stream') =>
    fetch(`${c.m.url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': type } : {}) },
      ...(body !== undefined ? { body } : {}),
    });

  let mounted: string;
  before(async () => {
    mounted = mkdtempSync(join(tmpdir(), 'yagura-mount-'));
    mkdirSync(join(mounted, 'tools'), { recursive: true });
    writeFileSync(join(mounted, 'tools', 'shipped.txt'), 'shipped with yagura\n');
    c = await servicesCluster({ artifactMounts: { builtin: mounted } });
    viewer = c.m.auth.createToken('viewer', 'v');
  });
  after(async () => {
    await c.dispose();
    rmSync(mounted, { recursive: true, force: true });
  });

  it('stores an upload from an admin and serves it to viewers and agents', async () => {
    const script = Buffer.from('#!/bin/sh\necho "fetched and run: $1"\nsleep 600\n');
    assert.equal((await req('PUT', '/artifacts/bin/hello.sh', c.m.adminToken, script)).status, 201);
    assert.equal((await req('PUT', '/artifacts/bin/x.sh', viewer, script)).status, 403, 'viewers cannot upload');
    assert.equal((await req('PUT', '/artifacts/bin/x.sh', c.m.agentSecret, script)).status, 401, 'the agent secret only reads');
    assert.equal((await req('GET', '/artifacts/bin/hello.sh', undefined)).status, 401);
    for (const token of [c.m.adminToken, viewer, c.m.agentSecret]) {
      const r = await req('GET', '/artifacts/bin/hello.sh', token);
      assert.equal(r.status, 200);
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), script);
    }
    const list = (await (await req('GET', '/artifacts', viewer)).json()) as { artifacts: Array<{ path: string }> };
    const paths = list.artifacts.map((a) => a.path);
    assert.deepEqual(paths.filter((p) => !p.startsWith('catalog/')), ['bin/hello.sh', 'builtin/tools/shipped.txt']);
    assert.ok(paths.includes('catalog/kv-store/server.py'), 'the built-in catalog\'s code is mounted by default');
    assert.equal(await (await req('GET', '/artifacts/builtin/tools/shipped.txt', c.m.agentSecret)).text(), 'shipped with yagura\n');
    assert.equal((await req('PUT', '/artifacts/builtin/tools/x', c.m.adminToken, script)).status, 403, 'mounted directories are read-only');
  });

  it('refuses bad paths and missing files', async () => {
    assert.equal((await req('GET', '/artifacts/..%2Fadmin-token', c.m.adminToken)).status, 400, 'an encoded traversal is refused');
    assert.equal((await req('GET', '/artifacts/bad%20name', c.m.adminToken)).status, 400);
    assert.equal((await req('GET', '/artifacts/.hidden', c.m.adminToken)).status, 400);
    assert.equal((await req('GET', '/artifacts/nope.bin', c.m.adminToken)).status, 404);
    assert.equal((await req('PUT', '/artifacts/a.txt', c.m.adminToken, '{}', 'application/json')).status, 415);
    assert.equal((await req('DELETE', '/artifacts/nope.bin', c.m.adminToken)).status, 404);
  });

  it('lets a service fetch its program from the store', async () => {
    await c.addAgent('fetcher');
    await c.m.services.deploy([
      { id: '/fetched', to: app({ id: '/fetched', cmd: './hello.sh world', instances: 1, cpus: 0.1, mem: 32, fetch: [{ uri: `${c.m.url}/artifacts/bin/hello.sh`, executable: true }] }) },
    ]);
    const task = await waitFor(() => c.m.services.tasksOf('/fetched').find((t) => t.state === 'TASK_RUNNING'), 20_000, 'running');
    const out = await waitFor(async () => {
      const r = (await (await fetch(`${c.m.url}/files/tasks/${task.id}/read?path=stdout`, { headers: { authorization: `Bearer ${c.m.adminToken}` } })).json()) as { data: string };
      return r.data.includes('fetched and run') && r.data;
    }, 10_000, 'output');
    assert.equal(out, 'fetched and run: world\n');
    assert.ok(!c.m.services.tasksOf('/fetched').some((t) => isTerminal(t.state)));
  });
});
