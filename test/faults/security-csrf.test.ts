// S5: cross-site requests. A browser on another site can post forms and send fetches that carry
// credentials it has cached (HTTP Basic with the token as password); it can also rebind its own
// name to 127.0.0.1. Every such mutation is refused, no cross-origin read is let through CORS,
// no GET changes anything, and a master without auth answers loopback names only.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startMaster, type TestMaster } from '../support/cluster.js';
import { call, figures, fingerprint, firstDifference, startSeeded, WsProbe, type Seeded } from './support.js';

const EVIL = 'https://evil.example';

/** A request with exactly these headers (fetch would refuse to send Host). */
function raw(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (text.length < 4096) text += c;
        // streams (SSE, RecordIO) answer and go on: the status and headers are what count
        if (!res.headers['content-length']) res.destroy();
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      res.on('close', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('S5: cross-site requests are refused', { timeout: 180_000 }, () => {
  let s: Seeded;
  let basic: string;
  const concrete = (url: string) => url.replace(/:[A-Za-z_]+/g, 'x').replace(/\*/g, 'x');

  before(async () => {
    s = await startSeeded();
    basic = `Basic ${Buffer.from(`admin:${s.m.adminToken}`).toString('base64')}`;
  });
  after(() => s?.dispose());

  it('refuses cross-origin form posts and credentialed fetches on every mutating route (403), changing nothing', async () => {
    const before = await fingerprint(s);
    const mutating = s.m.http.routeTable.filter((r) => !r.public && !['GET', 'HEAD', 'OPTIONS'].includes(r.method));
    const bodies: Array<[string, string]> = [
      ['application/x-www-form-urlencoded', 'role=admin&name=csrf'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="role"\r\n\r\nadmin\r\n--x--\r\n'],
      ['text/plain', JSON.stringify({ role: 'admin', name: 'csrf', id: '/csrf', type: 'TEARDOWN' })],
      ['application/json', JSON.stringify({ role: 'admin', name: 'csrf' })],
    ];
    const failures: string[] = [];
    let refused = 0;
    for (const r of mutating) {
      for (const origin of [EVIL, 'null']) {
        for (const [type, body] of bodies) {
          const res = await raw(s.m.url, r.method, concrete(r.url), { origin, authorization: basic, 'content-type': type, cookie: 'session=whatever' }, body);
          if (res.status === 403) refused++;
          else failures.push(`${r.method} ${r.url} from ${origin} as ${type}: ${res.status}`);
        }
      }
    }
    // the specific prizes, with real targets
    for (const [method, path, body] of [
      ['POST', '/api/v1/tokens', { role: 'admin', name: 'csrf' }],
      ['DELETE', `/v2/apps${s.appId}`, undefined],
      ['POST', `/api/v1/tasks/${encodeURIComponent(s.taskId)}/kill`, {}],
      ['POST', '/api/v1', { type: 'TEARDOWN', teardown: { framework_id: { value: 'yagura-services' } } }],
      ['PUT', `/artifacts/${s.artifact}`, 'overwritten'],
    ] as const) {
      const res = await raw(s.m.url, method, path, { origin: EVIL, authorization: basic, 'content-type': 'text/plain' }, body === undefined ? undefined : JSON.stringify(body));
      if (res.status === 403) refused++;
      else failures.push(`${method} ${path} from ${EVIL}: ${res.status}`);
    }
    assert.deepEqual(failures, []);
    assert.equal(firstDifference(before, await fingerprint(s)), undefined, 'nothing changed');
    figures(`S5: ${refused} cross-origin form posts and credentialed fetches on ${mutating.length} mutating routes: ${refused} refused (403), state unchanged`);
  });

  it('lets no cross-origin read through CORS: no Access-Control-Allow-* on any answer or preflight', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const r of s.m.http.routeTable) {
      const path = concrete(r.url);
      const answers = [
        await raw(s.m.url, r.method === 'HEAD' ? 'HEAD' : 'GET', path, { origin: EVIL, authorization: basic }),
        await raw(s.m.url, 'OPTIONS', path, { origin: EVIL, 'access-control-request-method': r.method, 'access-control-request-headers': 'authorization, content-type' }),
      ];
      for (const a of answers) {
        checked++;
        const cors = Object.keys(a.headers).filter((h) => h.startsWith('access-control-'));
        if (cors.length) failures.push(`${r.method} ${r.url}: ${cors.join(', ')}`);
      }
    }
    assert.deepEqual(failures, []);
    figures(`S5: ${checked} cross-origin reads and preflights: 0 answered with Access-Control-Allow-* headers`);
  });

  it('changes nothing on any GET or HEAD (no mutation by <img> or link)', async () => {
    const before = await fingerprint(s);
    let calls = 0;
    for (const r of s.m.http.routeTable.filter((r) => r.method === 'GET' || r.method === 'HEAD')) {
      for (const path of [concrete(r.url), concrete(r.url).replace('/x', `/${encodeURIComponent(s.taskId)}`)]) {
        await call(s.m.url, r.method, path, { authorization: basic, headers: { origin: EVIL } });
        calls++;
      }
    }
    assert.equal(firstDifference(before, await fingerprint(s)), undefined, 'a GET changed the state');
    figures(`S5: ${calls} GET/HEAD calls with admin credentials from a foreign origin: state unchanged`);
  });

  it('accepts an origin the operator allowed, and the same origin', async () => {
    const m = await startMaster({ allowedOrigins: ['https://ops.example'] });
    try {
      for (const origin of ['https://ops.example', m.url]) {
        const res = await raw(m.url, 'POST', '/api/v1/tokens', { origin, authorization: `Bearer ${m.adminToken}`, 'content-type': 'application/json' }, JSON.stringify({ role: 'viewer', name: 'ok' }));
        assert.equal(res.status, 201, `${origin}: ${res.text}`);
      }
      const res = await raw(m.url, 'POST', '/api/v1/tokens', { origin: 'https://ops.example.evil', authorization: `Bearer ${m.adminToken}`, 'content-type': 'application/json' }, JSON.stringify({ role: 'viewer', name: 'no' }));
      assert.equal(res.status, 403);
    } finally {
      await m.dispose();
    }
  });
});

describe('S5: DNS rebinding against a master without auth', { timeout: 120_000 }, () => {
  let m: TestMaster;
  let port: string;
  before(async () => {
    m = await startMaster({ auth: false });
    port = new URL(m.url).port;
  });
  after(() => m?.dispose());

  it('answers only loopback Host names, over HTTP and WebSocket', async () => {
    const tokens = m.auth.list().length;
    const failures: string[] = [];
    let refused = 0;
    const hostile = [`evil.example:${port}`, `evil.example`, `127.0.0.1.nip.example:${port}`, `localhost.evil.example:${port}`, `evil.example.:${port}`];
    for (const host of hostile) {
      const origin = `http://${host}`;
      for (const r of m.http.routeTable) {
        const res = await raw(m.url, r.method, concrete(r.url), { host, origin, 'content-type': 'application/json' }, r.method === 'GET' || r.method === 'HEAD' ? undefined : JSON.stringify({ role: 'admin', name: 'rebound' }));
        if (res.status === 403) refused++;
        else failures.push(`${r.method} ${r.url} with Host ${host}: ${res.status}`);
      }
      const ws = new WsProbe(`${m.url}/api/v1/stream`, { headers: { host }, origin });
      await ws.opened();
      if (ws.refusedWith === 403) refused++;
      else failures.push(`stream socket with Host ${host}: ${ws.refusedWith ?? 'open'}`);
      ws.close();
    }
    assert.deepEqual(failures, []);
    assert.equal(m.auth.list().length, tokens, 'no token was minted');
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `app.localhost:${port}`]) {
      const res = await raw(m.url, 'GET', '/api/v1/agents', { host });
      assert.equal(res.status, 200, `Host ${host}`);
      const ws = new WsProbe(`${m.url}/api/v1/stream`, { headers: { host }, protocols: ['yagura.v1'] });
      assert.equal(await ws.opened(), 'open', `stream socket with Host ${host}`);
      ws.close();
    }
    figures(`S5: rebinding to a master without auth: ${refused} requests and upgrades under ${hostile.length} foreign Host names, ${refused} refused (403); loopback names served`);
  });

  function concrete(url: string) {
    return url.replace(/:[A-Za-z_]+/g, 'x').replace(/\*/g, 'x');
  }
});
