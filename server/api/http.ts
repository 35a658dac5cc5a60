// The HTTP surface: one fastify instance, one error shape, auth on every route that does not
// declare itself public. Read-only (viewer) tokens may only use safe methods, unless a route
// declares `viewerMay` and checks the call itself (e.g. the operator API's GET_* calls).

import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Master } from '../master/master.js';
import { Auth, sameSecret, type Principal } from './auth.js';
import { ApiError, badRequest, forbidden, isRecord } from './errors.js';
import { hostAllowed, originAllowed } from './sockets.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No token needed (health, static dashboard files). */
    public?: boolean;
    /** A viewer may call this non-GET route; the handler checks what the call does. */
    viewerMay?: boolean;
    /** Agents may read this route with their shared secret (artifact downloads). */
    agentMay?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyInstance {
    /** Every route registered, for the auth matrix test and the docs. */
    routeTable: RouteEntry[];
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  public: boolean;
  viewerMay: boolean;
  agentMay: boolean;
}

export interface HttpDeps {
  master: Master;
  auth: Auth;
  /** Accepted as a read-only credential on routes that declare `agentMay`. */
  agentSecret?: string;
  allowedOrigins: string[];
  bodyLimit?: number;
  log: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function createHttp(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: true,
  });

  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (r) => {
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) {
      routeTable.push({ method, url: r.url, public: r.config?.public === true, viewerMay: r.config?.viewerMay === true, agentMay: r.config?.agentMay === true });
    }
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) {
      // a browser opening /service/<id>/ gets the password prompt: any user name, the token as password
      if (err.status === 401) reply.header('WWW-Authenticate', req.url.startsWith('/service/') ? 'Basic realm="yagura", charset="UTF-8"' : 'Bearer realm="yagura"');
      return reply.code(err.status).send(err.body());
    }
    const e = err as { code?: string; statusCode?: number; message?: string; validation?: unknown };
    const code = e.code ?? '';
    if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return reply.code(400).send({ message: 'malformed JSON in request body', details: [{ path: '/', errors: [e.message ?? 'invalid JSON'] }] });
    }
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      // input nested deeper than a recursive parser or walker can follow (JSON revivers recurse)
      deps.log('warn', `${req.method} ${req.url}: request nested too deeply (${err.message})`);
      return reply.code(400).send({ message: 'request body nested too deeply', details: [{ path: '/', errors: [err.message] }] });
    }
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ message: 'request body too large', details: [{ path: '/', errors: [`limit is ${deps.bodyLimit ?? 1048576} bytes`] }] });
    }
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send({ message: `unsupported content type ${req.headers['content-type'] ?? '(none)'}; send application/json`, details: [] });
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.code(e.statusCode).send({ message: e.message ?? 'bad request', details: [] });
    }
    deps.log('error', `${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return reply.code(500).send({ message: 'internal error', details: [] });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ message: `no route ${req.method} ${req.url.split('?')[0]}`, details: [] });
  });

  app.addHook('onRequest', async (req) => {
    if (!hostAllowed(req.raw, deps.auth.enabled)) {
      throw forbidden(`Host ${req.headers.host} is not a loopback name; with auth disabled only loopback names are served`);
    }
    const config = req.routeOptions.config;
    if (config?.public) return;
    if (!SAFE_METHODS.has(req.method) && !originAllowed(req.raw, deps.allowedOrigins)) {
      throw forbidden(`cross-origin request from ${req.headers.origin} refused`);
    }
    const token = Auth.tokenFromHeader(req.headers.authorization);
    let principal = deps.auth.verify(token);
    if (!principal && config?.agentMay && token && deps.agentSecret && sameSecret(token, deps.agentSecret)) {
      principal = { role: 'viewer', name: 'agent' };
    }
    if (!principal) throw new ApiError(401, 'authentication required: send Authorization: Bearer <token>');
    req.principal = principal;
    if (principal.role !== 'admin' && !SAFE_METHODS.has(req.method) && !config?.viewerMay) {
      throw forbidden('this token is read-only (viewer)');
    }
  });

  registerCoreRoutes(app, deps);
  return app;
}

export function requireAdmin(req: FastifyRequest): void {
  if (req.principal?.role !== 'admin') throw forbidden('this token is read-only (viewer)');
}

function registerCoreRoutes(app: FastifyInstance, { master, auth }: HttpDeps): void {
  app.get('/health', { config: { public: true } }, async () => ({ status: 'ok', version: master.version }));

  app.get('/api/v1/agents', async () => ({ agents: master.listAgents().map((a) => ({ ...a, connected: master.isAgentConnected(a.id) })) }));
  app.get('/api/v1/agents/:id', async (req) => {
    const id = (req.params as { id: string }).id;
    const a = master.getAgent(id);
    if (!a) throw new ApiError(404, `agent ${id} not found`);
    return { ...a, connected: master.isAgentConnected(id), tasks: master.listTasks().filter((t) => t.agentId === id) };
  });
  app.post('/api/v1/agents/:id/drain', async (req) => {
    const id = (req.params as { id: string }).id;
    const body = (req.body ?? {}) as unknown;
    if (!isRecord(body)) throw badRequest('body must be a JSON object');
    const grace = body.gracePeriodSeconds;
    if (grace !== undefined && (typeof grace !== 'number' || !(grace >= 0))) {
      throw new ApiError(422, 'invalid drain', [{ path: '/gracePeriodSeconds', errors: ['must be a number >= 0'] }]);
    }
    if (body.markGone !== undefined && typeof body.markGone !== 'boolean') {
      throw new ApiError(422, 'invalid drain', [{ path: '/markGone', errors: ['must be a boolean'] }]);
    }
    master.drainAgent(id, { ...(grace !== undefined ? { gracePeriodMs: grace * 1000 } : {}), markGone: body.markGone === true });
    await master.commit();
    return master.getAgent(id);
  });
  app.post('/api/v1/agents/:id/reactivate', async (req) => {
    const id = (req.params as { id: string }).id;
    master.reactivateAgent(id);
    await master.commit();
    return master.getAgent(id);
  });
  app.post('/api/v1/agents/:id/gone', async (req) => {
    const id = (req.params as { id: string }).id;
    master.markAgentGone(id);
    await master.commit();
    return master.getAgent(id);
  });

  app.get('/api/v1/tasks', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    let tasks = master.listTasks();
    if (q.agent) tasks = tasks.filter((t) => t.agentId === q.agent);
    if (q.framework) tasks = tasks.filter((t) => t.frameworkId === q.framework);
    if (q.state) tasks = tasks.filter((t) => t.state === q.state);
    return { tasks };
  });
  app.get('/api/v1/tasks/:id', async (req) => {
    const id = (req.params as { id: string }).id;
    const t = master.getTask(id);
    if (!t) throw new ApiError(404, `task ${id} not found`);
    return t;
  });
  app.post('/api/v1/tasks/:id/kill', async (req) => {
    const id = (req.params as { id: string }).id;
    const body = (req.body ?? {}) as unknown;
    if (!isRecord(body)) throw badRequest('body must be a JSON object');
    const grace = body.gracePeriodSeconds;
    if (grace !== undefined && (typeof grace !== 'number' || !(grace >= 0))) {
      throw new ApiError(422, 'invalid kill', [{ path: '/gracePeriodSeconds', errors: ['must be a number >= 0'] }]);
    }
    const t = master.killTask(id, grace !== undefined ? grace * 1000 : undefined);
    await master.commit();
    return t;
  });

  app.get('/api/v1/tokens', async (req) => {
    requireAdmin(req);
    return { tokens: auth.list() };
  });
  app.post('/api/v1/tokens', async (req, reply) => {
    const body = req.body as unknown;
    if (!isRecord(body)) throw badRequest('body must be a JSON object');
    const problems: Array<{ path: string; errors: string[] }> = [];
    if (body.role !== 'admin' && body.role !== 'viewer') problems.push({ path: '/role', errors: ['must be "admin" or "viewer"'] });
    if (typeof body.name !== 'string' || !body.name.trim() || body.name.length > 200) problems.push({ path: '/name', errors: ['must be a non-empty string'] });
    if (problems.length) throw new ApiError(422, 'invalid token request', problems);
    const token = auth.createToken(body.role as 'admin' | 'viewer', (body.name as string).trim());
    reply.code(201);
    return { token, role: body.role, name: body.name };
  });

  // Sandbox files, proxied from the task's agent
  const filesQuery = (req: FastifyRequest) => {
    const q = req.query as Record<string, string | undefined>;
    const path = q.path ?? '';
    const num = (name: string): number | undefined => {
      const v = q[name];
      if (v === undefined) return undefined;
      if (!/^-?\d+$/.test(v)) throw new ApiError(400, `query ${name} must be an integer`, [{ path: `?${name}`, errors: ['not an integer'] }]);
      return Number(v);
    };
    return { path, offset: num('offset'), length: num('length') };
  };
  const fileReply = (r: Awaited<ReturnType<Master['files']>>) => {
    if (!r.ok) throw new ApiError(r.status, r.message);
    return r;
  };
  app.get('/files/tasks/:id/browse', async (req) => {
    const { path } = filesQuery(req);
    const r = fileReply(await master.files((req.params as { id: string }).id, 'browse', path));
    return r.entries ?? [];
  });
  app.get('/files/tasks/:id/read', async (req) => {
    const { path, offset, length } = filesQuery(req);
    const r = fileReply(await master.files((req.params as { id: string }).id, 'read', path, offset, length));
    const data = Buffer.from(r.data ?? '', 'base64').toString('utf8');
    return { data, offset: r.offset ?? 0, size: r.size ?? 0, eof: r.eof ?? true };
  });
  app.get('/files/tasks/:id/download', async (req, reply) => {
    const { path } = filesQuery(req);
    const r = fileReply(await master.files((req.params as { id: string }).id, 'download', path));
    const name = path.split('/').filter(Boolean).pop() ?? 'file';
    reply.header('Content-Type', 'application/octet-stream');
    reply.header('Content-Disposition', `attachment; filename="${name.replace(/[^\w.-]/g, '_')}"`);
    return reply.send(Buffer.from(r.data ?? '', 'base64'));
  });
}
