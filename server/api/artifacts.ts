// The master's artifact store: files that tasks fetch into their sandboxes (`fetch` / `uris`)
// without any other server. Agents download with their secret; operators upload with an admin
// token. Files live in <data-dir>/artifacts; read-only directories (e.g. the catalog's shipped
// artifacts) can be mounted beside it under a prefix.

import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, notFound } from './errors.js';
import { requireAdmin } from './http.js';

export interface ArtifactDeps {
  dir: string;
  /** Read-only directories served under /artifacts/<prefix>/…, e.g. { catalog: '<repo>/catalog/artifacts' }. */
  mounts?: Record<string, string>;
  maxUploadBytes?: number;
}

const NAME = /^[A-Za-z0-9._-]+$/;

/** The file a request path names, or an error: no `..`, no hidden files, no escaping the root. */
function locate(root: string, rel: string): string {
  const parts = rel.split('/').filter(Boolean);
  if (parts.length === 0 || parts.some((p) => !NAME.test(p) || p.startsWith('.'))) {
    throw new ApiError(400, 'artifact paths are segments of letters, digits, ".", "_" and "-" (no leading dot)', [{ path: '/path', errors: ['invalid artifact path'] }]);
  }
  const abs = resolve(root, ...parts);
  if (abs !== root && !abs.startsWith(root + sep)) throw new ApiError(400, 'path escapes the artifact store');
  return abs;
}

export async function registerArtifacts(app: FastifyInstance, deps: ArtifactDeps): Promise<void> {
  const root = resolve(deps.dir);
  await mkdir(root, { recursive: true });
  const mounts = Object.entries(deps.mounts ?? {}).map(([prefix, dir]) => [prefix, resolve(dir)] as const);
  const maxUpload = deps.maxUploadBytes ?? 512 * 1024 * 1024;

  const rootFor = (rel: string): { base: string; rest: string; writable: boolean } => {
    const [first, ...rest] = rel.split('/').filter(Boolean);
    const mount = mounts.find(([prefix]) => prefix === first);
    return mount ? { base: mount[1], rest: rest.join('/'), writable: false } : { base: root, rest: rel, writable: true };
  };

  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: maxUpload }, (_req, body, done) => done(null, body));

  app.get('/artifacts', { config: { agentMay: true } }, async () => {
    const out: Array<{ path: string; size: number; mtime: number }> = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (e.name.startsWith('.')) continue;
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p, `${prefix}${e.name}/`);
        else if (e.isFile()) {
          const st = await stat(p);
          out.push({ path: `${prefix}${e.name}`, size: st.size, mtime: st.mtimeMs });
        }
      }
    };
    await walk(root, '');
    for (const [prefix, dir] of mounts) await walk(dir, `${prefix}/`);
    return { artifacts: out.sort((a, b) => a.path.localeCompare(b.path)) };
  });

  app.get('/artifacts/*', { config: { agentMay: true } }, async (req, reply) => {
    const rel = (req.params as { '*': string })['*'];
    const { base, rest } = rootFor(rel);
    const file = locate(base, rest);
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) throw notFound(`no artifact ${rel}`);
    reply.header('Content-Type', 'application/octet-stream');
    reply.header('Content-Length', st.size);
    reply.header('Last-Modified', new Date(st.mtimeMs).toUTCString());
    return reply.send(createReadStream(file));
  });

  app.put('/artifacts/*', async (req: FastifyRequest, reply) => {
    requireAdmin(req);
    const rel = (req.params as { '*': string })['*'];
    const { base, rest, writable } = rootFor(rel);
    if (!writable) throw new ApiError(403, `artifacts under ${rel.split('/')[0]}/ are read-only`);
    if (!Buffer.isBuffer(req.body)) throw new ApiError(415, 'send the file as application/octet-stream');
    const file = locate(base, rest);
    await mkdir(dirname(file), { recursive: true });
    // write then rename: an agent never downloads half a file
    const tmp = `${file}.upload-${process.pid}-${Date.now()}`;
    await writeFile(tmp, req.body, { flush: true });
    await rename(tmp, file);
    reply.code(201);
    return { path: relative(root, file).split(sep).join('/'), size: req.body.length };
  });

  app.delete('/artifacts/*', async (req) => {
    requireAdmin(req);
    const rel = (req.params as { '*': string })['*'];
    const { base, rest, writable } = rootFor(rel);
    if (!writable) throw new ApiError(403, `artifacts under ${rel.split('/')[0]}/ are read-only`);
    const file = locate(base, rest);
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) throw notFound(`no artifact ${rel}`);
    await rm(file);
    return { deleted: rel };
  });
}
