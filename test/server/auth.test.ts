import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { build } from '../../server/app.js';
import { startMaster, type TestMaster } from '../support/cluster.js';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const concrete = (url: string) => url.replace(/:[A-Za-z_]+/g, 'x').replace(/\*/g, 'x');

describe('auth on every route', () => {
  let m: TestMaster;
  let viewer: string;
  before(async () => {
    m = await startMaster();
    viewer = m.auth.createToken('viewer', 'test viewer');
  });
  after(() => m.dispose());

  const call = (method: string, url: string, auth?: string) =>
    fetch(`${m.url}${concrete(url)}`, {
      method,
      headers: { ...(auth ? { authorization: auth } : {}), ...(method === 'GET' || method === 'HEAD' ? {} : { 'content-type': 'application/json' }) },
      ...(method === 'GET' || method === 'HEAD' ? {} : { body: '{}' }),
    });

  it('knows its routes, and /health is public', async () => {
    const routes = m.http.routeTable;
    assert.ok(routes.length > 10, 'the route table is populated');
    const pub = routes.filter((r) => r.public).map((r) => r.url);
    assert.ok(pub.includes('/health'));
    const res = await fetch(`${m.url}/health`);
    assert.equal(res.status, 200);
  });

  it('refuses every non-public route without a token or with a wrong one (401)', async () => {
    const failures: string[] = [];
    for (const r of m.http.routeTable.filter((r) => !r.public)) {
      for (const auth of [undefined, 'Bearer wrong-token', `Basic ${Buffer.from('user:wrong').toString('base64')}`]) {
        const res = await call(r.method, r.url, auth);
        if (res.status !== 401) failures.push(`${r.method} ${r.url} with ${auth ?? 'no token'} → ${res.status}`);
        if (r.method !== 'HEAD') {
          const body = (await res.json()) as { message?: unknown; details?: unknown };
          if (typeof body.message !== 'string' || !Array.isArray(body.details)) failures.push(`${r.method} ${r.url}: error body shape`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  it('accepts the token as Bearer or as the password of Basic auth', async () => {
    const bearer = await call('GET', '/api/v1/agents', `Bearer ${m.adminToken}`);
    assert.equal(bearer.status, 200);
    const basic = await call('GET', '/api/v1/agents', `Basic ${Buffer.from(`anyone:${m.adminToken}`).toString('base64')}`);
    assert.equal(basic.status, 200);
  });

  it('lets a viewer read but not mutate', async () => {
    const failures: string[] = [];
    for (const r of m.http.routeTable.filter((r) => !r.public)) {
      const res = await call(r.method, r.url, `Bearer ${viewer}`);
      const safe = r.method === 'GET' || r.method === 'HEAD';
      if (!safe && !r.viewerMay && res.status !== 403) failures.push(`${r.method} ${r.url} → ${res.status} for a viewer`);
      if (safe && (res.status === 401 || (res.status === 403 && r.url !== '/api/v1/tokens'))) failures.push(`${r.method} ${r.url} → ${res.status} for a viewer read`);
    }
    assert.deepEqual(failures, []);
    const mk = await call('POST', '/api/v1/tokens', `Bearer ${viewer}`);
    assert.equal(mk.status, 403, 'a viewer cannot mint tokens');
  });

  it('refuses a cross-origin mutation even with a valid token', async () => {
    const res = await fetch(`${m.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${m.adminToken}`, 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ role: 'admin', name: 'stolen' }),
    });
    assert.equal(res.status, 403);
    assert.equal(m.auth.list().filter((t) => t.name === 'stolen').length, 0);
  });

  it('answers malformed JSON with 400 and invalid fields with 422, changing nothing', async () => {
    const before = m.auth.list().length;
    const bad = await fetch(`${m.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${m.adminToken}`, 'content-type': 'application/json' }, body: '{"role":' });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { message: string; details: unknown[] };
    assert.match(body.message, /malformed JSON/);
    const invalid = await fetch(`${m.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${m.adminToken}`, 'content-type': 'application/json' }, body: '{"role":"root","name":""}' });
    assert.equal(invalid.status, 422);
    const ib = (await invalid.json()) as { details: Array<{ path: string }> };
    assert.deepEqual(ib.details.map((d) => d.path).sort(), ['/name', '/role']);
    const big = await fetch(`${m.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${m.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }) });
    assert.equal(big.status, 413);
    assert.equal(m.auth.list().length, before);
  });

  it('creates a working viewer token through the API', async () => {
    const res = await call('POST', '/api/v1/tokens', `Bearer ${m.adminToken}`);
    assert.equal(res.status, 422, 'role and name are required');
    const ok = await fetch(`${m.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${m.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'viewer', name: 'ci' }) });
    assert.equal(ok.status, 201);
    const { token } = (await ok.json()) as { token: string };
    assert.equal((await call('GET', '/api/v1/tasks', `Bearer ${token}`)).status, 200);
    assert.equal((await call('POST', '/api/v1/tasks/x/kill', `Bearer ${token}`)).status, 403);
  });
});

describe('secure defaults', () => {
  it('refuses to bind a non-loopback address with auth disabled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yagura-bind-'));
    try {
      await assert.rejects(build({ dataDir: dir, host: '0.0.0.0', port: 0, auth: false }), /refusing to bind/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('binds loopback by default and writes the admin token and agent secret with mode 600', async () => {
    const m = await startMaster();
    try {
      assert.match(m.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      for (const f of ['admin-token', 'agent-secret']) {
        const st = statSync(join(m.dataDir, f));
        assert.equal(st.mode & 0o777, 0o600, `${f} is private`);
      }
      assert.equal(readFileSync(join(m.dataDir, 'admin-token'), 'utf8').trim(), m.adminToken);
    } finally {
      await m.dispose();
    }
  });
});
