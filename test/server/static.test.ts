import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerStatic } from '../../server/api/static.js';

const INDEX = '<!doctype html><title>Yagura</title><yg-app></yg-app>';
const SECRET = 'admin-token-that-must-not-leak';

/** A fastify with the same 404 shape as the master, and one API route to prove precedence. */
async function server(distDir: string): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ message: `no route ${req.method} ${req.url}`, details: [] });
  });
  app.get('/v2/info', async () => ({ name: 'yagura' }));
  await registerStatic(app, distDir);
  await app.ready();
  return app;
}

describe('static dashboard serving', () => {
  let work: string;
  let dist: string;
  let app: FastifyInstance;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'yagura-static-'));
    dist = join(work, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    mkdirSync(join(dist, 'icons'));
    writeFileSync(join(dist, 'index.html'), INDEX);
    writeFileSync(join(dist, 'assets', 'index-Ab12Cd34.js'), 'export const x = 1;\n');
    writeFileSync(join(dist, 'assets', 'index-Ef56Gh78.css'), 'body{margin:0}');
    writeFileSync(join(dist, 'assets', 'roboto-latin-400-normal-X1.woff2'), Buffer.from([0x77, 0x4f, 0x46, 0x32]));
    writeFileSync(join(dist, 'service-worker.js'), 'self.addEventListener("fetch", () => {});');
    writeFileSync(join(dist, 'manifest.webmanifest'), '{"name":"Yagura"}');
    writeFileSync(join(dist, 'icons', 'icon-192.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    writeFileSync(join(work, 'admin-token'), SECRET);
    symlinkSync(join(work, 'admin-token'), join(dist, 'linked-token.txt'));
    app = await server(dist);
  });

  after(async () => {
    await app.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('serves index.html at / with no-cache', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.body, INDEX);
  });

  it('gives hashed assets a year-long immutable cache and the right types', async () => {
    const js = await app.inject({ method: 'GET', url: '/assets/index-Ab12Cd34.js' });
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.body, 'export const x = 1;\n');

    const css = await app.inject({ method: 'GET', url: '/assets/index-Ef56Gh78.css' });
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    const font = await app.inject({ method: 'GET', url: '/assets/roboto-latin-400-normal-X1.woff2' });
    assert.equal(font.headers['content-type'], 'font/woff2');
    const png = await app.inject({ method: 'GET', url: '/icons/icon-192.png' });
    assert.equal(png.headers['content-type'], 'image/png');
    assert.equal(png.headers['x-content-type-options'], 'nosniff');
  });

  it('never lets the service worker or the manifest be cached without revalidation', async () => {
    const sw = await app.inject({ method: 'GET', url: '/service-worker.js' });
    assert.equal(sw.statusCode, 200);
    assert.equal(sw.headers['cache-control'], 'no-cache');
    assert.equal(sw.headers['content-type'], 'text/javascript; charset=utf-8');
    const manifest = await app.inject({ method: 'GET', url: '/manifest.webmanifest' });
    assert.equal(manifest.headers['cache-control'], 'no-cache');
    assert.equal(manifest.headers['content-type'], 'application/manifest+json; charset=utf-8');
  });

  it('answers a navigation to an app route with the shell, and anything else unknown with 404', async () => {
    for (const url of ['/nodes', '/tasks?agent=a1', '/services/web.v1', '/catalog/']) {
      const res = await app.inject({ method: 'GET', url, headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.body, INDEX, url);
      assert.equal(res.headers['cache-control'], 'no-cache', url);
    }
    const script = await app.inject({ method: 'GET', url: '/assets/missing-123.js', headers: { accept: '*/*' } });
    assert.equal(script.statusCode, 404);
    assert.notEqual(script.body, INDEX);
    const json = await app.inject({ method: 'GET', url: '/nodes', headers: { accept: 'application/json' } });
    assert.equal(json.statusCode, 404);
  });

  it('keeps API paths out of the fallback, even for navigations', async () => {
    const html = { accept: 'text/html' };
    for (const url of ['/api/v1/nope', '/v1/jobs/x', '/v2/apps', '/master/state', '/files/browse', '/package/list', '/service/web/', '/state.json', '/health']) {
      const res = await app.inject({ method: 'GET', url, headers: html });
      assert.equal(res.statusCode, 404, url);
      assert.match(String(res.headers['content-type'] ?? ''), /application\/json/, url);
      assert.equal((res.json() as { details: unknown[] }).details.length, 0, url);
    }
    const info = await app.inject({ method: 'GET', url: '/v2/info', headers: html });
    assert.deepEqual(info.json(), { name: 'yagura' }, 'a registered route wins over the static catch-all');
    // Paths that only start like an API prefix are app routes.
    const lookalike = await app.inject({ method: 'GET', url: '/services', headers: html });
    assert.equal(lookalike.body, INDEX);
  });

  it('never serves a file outside dist/', async () => {
    const attempts = [
      '/../admin-token',
      '/%2e%2e/admin-token',
      '/assets/%2e%2e/%2e%2e/admin-token',
      '/..%2fadmin-token',
      '/assets/..%5c..%5cadmin-token',
      '/linked-token.txt',
      '/%00index.html',
      '/%E0%A4%A',
    ];
    for (const url of attempts) {
      const res = await app.inject({ method: 'GET', url, headers: { accept: '*/*' } });
      // fastify's router rejects a malformed escape itself, with 400.
      assert.ok(res.statusCode === 404 || res.statusCode === 400, `${url} → ${res.statusCode}`);
      assert.ok(!res.body.includes(SECRET), `${url} leaked the file`);
    }
  });

  it('answers HEAD without a body and a matching ETag with 304', async () => {
    const head = await app.inject({ method: 'HEAD', url: '/assets/index-Ab12Cd34.js' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], String('export const x = 1;\n'.length));
    const etag = head.headers.etag;
    assert.ok(typeof etag === 'string' && etag.length > 0);
    const again = await app.inject({ method: 'GET', url: '/assets/index-Ab12Cd34.js', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
  });

  it('says how to build the dashboard when dist/ is missing', async () => {
    const bare = await server(join(work, 'no-such-dist'));
    try {
      for (const url of ['/', '/nodes', '/assets/index-Ab12Cd34.js']) {
        const res = await bare.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
        assert.equal(res.statusCode, 503, url);
        assert.match(String(res.headers['content-type'] ?? ''), /text\/html/);
        assert.match(res.body, /dashboard not built: run <code>npm run build<\/code>/);
      }
      const api = await bare.inject({ method: 'GET', url: '/v2/info' });
      assert.equal(api.statusCode, 200, 'the APIs keep working without a dashboard');
    } finally {
      await bare.close();
    }
  });
});
