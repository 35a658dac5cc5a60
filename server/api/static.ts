// Serves the built dashboard (dist/) from the master. Public by contract: the shell holds no
// data; everything it shows comes over authenticated APIs.

import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** Paths owned by the APIs: never answered with the dashboard, even for a browser navigation. */
const API_PATHS = /^\/(?:api|v1|v2|master|files|package|service)(?:\/|$)|^\/(?:state\.json|health)$/;

/** Vite puts a content hash in every file name under assets/, so they can be cached for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Entry points must be revalidated every time, or a browser would keep an old release. */
const REVALIDATE = 'no-cache';
/** Unhashed files such as icons: short cache, then revalidate. */
const SHORT = 'public, max-age=3600';

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Yagura: dashboard not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}code{background:#eee;padding:.1em .3em;border-radius:4px}</style>
</head><body>
<h1>Dashboard not built</h1>
<p>dashboard not built: run <code>npm run build</code>, then reload this page.</p>
<p>The master itself is running: the APIs under <code>/api/v1</code>, <code>/v2</code>, <code>/v1</code> and <code>/master</code> work.</p>
</body></html>
`;

function cacheControl(relative: string): string {
  if (relative.startsWith(`assets${sep}`)) return IMMUTABLE;
  if (relative === 'index.html' || relative === 'service-worker.js' || relative === 'manifest.webmanifest') {
    return REVALIDATE;
  }
  return SHORT;
}

function wantsHtml(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('text/html');
}

async function statFile(path: string): Promise<Stats | undefined> {
  try {
    const stats = await stat(path);
    return stats.isFile() ? stats : undefined;
  } catch {
    return undefined;
  }
}

export async function registerStatic(app: FastifyInstance, distDir: string): Promise<void> {
  const root = resolve(distDir);

  /** Maps a URL path to a file inside root, or undefined when it is not one (or escapes root). */
  async function locate(urlPath: string): Promise<{ file: string; relative: string; stats: Stats } | undefined> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
    const relative = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
    const candidate = resolve(root, relative);
    if (candidate !== root && !candidate.startsWith(root + sep)) return undefined;
    const stats = await statFile(candidate);
    if (!stats) return undefined;
    // A symlink inside dist/ must not lead outside it either.
    let real: string;
    let realRoot: string;
    try {
      [real, realRoot] = await Promise.all([realpath(candidate), realpath(root)]);
    } catch {
      return undefined;
    }
    if (!real.startsWith(realRoot + sep)) return undefined;
    return { file: candidate, relative: candidate.slice(root.length + 1), stats };
  }

  function send(req: FastifyRequest, reply: FastifyReply, found: { file: string; relative: string; stats: Stats }) {
    const { file, relative, stats } = found;
    const etag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
    reply
      .header('Content-Type', CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
      .header('Cache-Control', cacheControl(relative))
      .header('ETag', etag)
      .header('Last-Modified', stats.mtime.toUTCString())
      .header('X-Content-Type-Options', 'nosniff');
    if (relative === 'index.html') reply.header('X-Frame-Options', 'DENY');
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === etag)) {
      return reply.code(304).send();
    }
    reply.header('Content-Length', stats.size);
    if (req.method === 'HEAD') return reply.send();
    return reply.send(createReadStream(file));
  }

  async function handler(req: FastifyRequest, reply: FastifyReply) {
    const path = req.url.split('?')[0]!.split('#')[0]!;
    if (API_PATHS.test(path)) return reply.callNotFound();

    const index = join(root, 'index.html');
    if (!(await statFile(index))) {
      return reply
        .code(503)
        .header('Content-Type', 'text/html; charset=utf-8')
        .header('Cache-Control', 'no-store')
        .header('Retry-After', '10')
        .send(NOT_BUILT_PAGE);
    }

    const found = await locate(path);
    if (found) return send(req, reply, found);

    // Client-side routes (/nodes, /tasks?agent=…) exist only in the app: a page load of one
    // gets the shell, which routes itself. Anything else (a missing script, an image) is a 404,
    // so a broken asset reference fails loudly instead of parsing HTML as JavaScript.
    if (wantsHtml(req)) {
      const shell = await locate('/');
      if (shell) return send(req, reply, shell);
    }
    return reply.callNotFound();
  }

  app.route({ method: ['GET', 'HEAD'], url: '/*', config: { public: true }, handler });
  app.route({ method: ['GET', 'HEAD'], url: '/', config: { public: true }, handler });
}
