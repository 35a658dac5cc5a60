// /service/<app-id>/…: the reverse proxy to healthy instances (HTTP and WebSocket), through real
// agents running a small echo service.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { WebSocket } from 'ws';
import { startCluster, type MarathonCluster } from '../support/marathon-cluster.js';
import { echoApp } from '../support/marathon-echo.js';

interface Echo {
  task: string;
  port: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  size: number;
  head: string;
}

describe('Marathon /service proxy', { timeout: 120_000 }, () => {
  let c: MarathonCluster;
  let auth: Record<string, string>;
  let taskIds: string[];

  before(async () => {
    c = await startCluster([{ hostname: 'proxy-a' }, { hostname: 'proxy-b' }]);
    auth = { authorization: `Bearer ${c.m.adminToken}` };
    const r = await c.api('POST', '/v2/apps', echoApp('/svc/echo', 2, { constraints: [['hostname', 'UNIQUE']] }));
    assert.equal(r.status, 201, r.text);
    const app = await c.appUntil('/svc/echo', (a) => a.tasksHealthy === 2, 'two healthy echo instances');
    taskIds = app.tasks.map((t: any) => t.id).sort();
  });
  after(async () => c?.dispose());

  const get = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${c.m.url}${path}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });
    return { res, body: (await res.json()) as Echo & { message?: string; details?: unknown[] } };
  };

  /** node:http, because fetch refuses to send a Connection header. */
  const raw = (path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: Echo }>((resolve, reject) => {
      const req = request(`${c.m.url}${path}`, { headers: { ...auth, ...headers } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Echo }));
      });
      req.on('error', reject);
      req.end();
    });

  it('forwards to healthy instances in turn, with the path, query and forwarding headers but without the token', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { status, headers, body } = await raw('/service/svc/echo/deep/path?x=1&y=two', { 'x-custom': 'kept', connection: 'keep-alive, x-drop-me', 'x-drop-me': 'hop' });
      assert.equal(status, 200);
      assert.equal(body.url, '/deep/path?x=1&y=two');
      assert.equal(body.method, 'GET');
      assert.equal(headers['x-echo-task'], body.task, 'response headers come back');
      assert.equal(body.headers.authorization, undefined, 'the Yagura token stays at the proxy');
      assert.equal(body.headers['x-custom'], 'kept');
      assert.equal(body.headers['x-drop-me'], undefined, 'headers named in Connection are hop-by-hop');
      assert.equal(body.headers['x-forwarded-proto'], 'http');
      assert.equal(body.headers['x-forwarded-host'], new URL(c.m.url).host);
      assert.equal(body.headers['x-forwarded-prefix'], '/service/svc/echo');
      assert.match(body.headers['x-forwarded-for']!, /127\.0\.0\.1/);
      seen.push(body.task);
    }
    assert.deepEqual([...new Set(seen)].sort(), taskIds, 'both instances answer');
    assert.notEqual(seen[0], seen[1]);
    assert.equal(seen[0], seen[2]);
    assert.equal(seen[1], seen[3]);
    // the port it reached is the task's PORT0
    const { body } = await get('/service/svc/echo/');
    const task = (await c.api('GET', '/v2/apps/svc/echo/tasks')).body.tasks.find((t: any) => t.id === body.task);
    assert.equal(Number(body.port), task.ports[0]);
  });

  it('streams request bodies of any size and passes every method', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'a'); // beyond the API's 1 MiB JSON limit
    const { res, body } = await get('/service/svc/echo/upload', { method: 'POST', body: big, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.status, 200);
    assert.equal(body.size, big.length);
    const json = await get('/service/svc/echo/items/7', { method: 'PUT', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    assert.equal(json.body.method, 'PUT');
    assert.equal(json.body.head, '{"a":1}', 'a JSON body is not parsed or rewritten on the way');
    const del = await get('/service/svc/echo/items/7', { method: 'DELETE' });
    assert.equal(del.body.method, 'DELETE');
  });

  it('redirects the bare app path, 404s an unknown app, 401s without a token', async () => {
    const bare = await fetch(`${c.m.url}/service/svc/echo?q=1`, { headers: auth, redirect: 'manual' });
    assert.equal(bare.status, 307);
    assert.equal(bare.headers.get('location'), '/service/svc/echo/?q=1');
    const unknown = await get('/service/svc/nothing/here');
    assert.equal(unknown.res.status, 404);
    assert.match(unknown.body.message!, /no app matches/);
    assert.ok(Array.isArray(unknown.body.details));
    assert.equal((await fetch(`${c.m.url}/service/svc/echo/`)).status, 401);
  });

  it('carries WebSockets to an instance, with the token checked at the upgrade', async () => {
    const ws = new WebSocket(`${c.m.url.replace('http', 'ws')}/service/svc/echo/socket`, { headers: auth });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('hello through the proxy'));
      ws.once('message', (data) => resolve(String(data)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    const [task, text] = [reply.slice(0, reply.indexOf(':')), reply.slice(reply.indexOf(':') + 1)];
    assert.ok(taskIds.includes(task), `answered by an instance: ${reply}`);
    assert.equal(text, 'hello through the proxy');
    ws.send('again');
    assert.equal(await new Promise<string>((r) => ws.once('message', (d) => r(String(d)))), `${task}:again`);
    ws.close();

    const status = (url: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve) => {
        const s = new WebSocket(url, { headers });
        s.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          s.terminate();
        });
        s.once('open', () => {
          resolve(101);
          s.close();
        });
        s.once('error', () => resolve(-1));
      });
    const base = c.m.url.replace('http', 'ws');
    assert.equal(await status(`${base}/service/svc/echo/socket`), 401);
    assert.equal(await status(`${base}/service/svc/echo/socket`, { authorization: 'Bearer wrong' }), 401);
    assert.equal(await status(`${base}/service/svc/none/socket`, auth), 404);
    // a socket carries writes both ways: a viewer may GET through the proxy, not open a socket
    const viewer = await c.api('POST', '/api/v1/tokens', { role: 'viewer', name: 'proxy-viewer' });
    assert.equal(viewer.status, 201, viewer.text);
    const viewerAuth = { authorization: `Bearer ${viewer.body.token}` };
    assert.equal((await fetch(`${c.m.url}/service/svc/echo/`, { headers: viewerAuth })).status, 200);
    assert.equal(await status(`${base}/service/svc/echo/socket`, viewerAuth), 403);
  });

  it('answers 503 when no instance is healthy', async () => {
    // its check probes a port nobody listens on: running, never healthy (and never killed for it)
    const sick = echoApp('/svc/sick', 1, {
      healthChecks: [{ protocol: 'TCP', port: 1, gracePeriodSeconds: 300, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 0 }],
    });
    assert.equal((await c.api('POST', '/v2/apps', sick)).status, 201);
    await c.appUntil('/svc/sick', (a) => a.tasksRunning === 1, 'sick instance running');
    const r = await get('/service/svc/sick/');
    assert.equal(r.res.status, 503);
    assert.match(r.body.message!, /no healthy instance/);
    assert.ok(Array.isArray(r.body.details));

    assert.equal((await c.api('PATCH', '/v2/apps/svc/echo?force=true', { instances: 0 })).status, 200);
    await c.appUntil('/svc/echo', (a) => a.tasks.length === 0, 'echo scaled to zero');
    assert.equal((await get('/service/svc/echo/')).res.status, 503);
  });
});
