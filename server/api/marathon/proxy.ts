// /service/<app-id>/… → a healthy instance of the app (Admin Router style). The longest app id
// that prefixes the path wins; instances take turns. Requests and responses stream through;
// the caller's credentials for Yagura (Authorization) stay here, the service never sees them.

import { lookup } from 'node:dns/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TaskView } from '../../../protocol/types.js';
import type { Master } from '../../master/master.js';
import { parsePathId } from '../../frameworks/services/paths.js';
import type { ServicesFramework } from '../../frameworks/services/services.js';
import { taskPorts } from './json.js';

const PREFIX = '/service/';

/** RFC 7230 §6.1 hop-by-hop headers, plus those only meaningful between client and Yagura. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'authorization',
]);

// OPTIONS is left out: a browser's CORS preflight carries no token, so it could never pass auth.
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** A resolved hostname is reused for this long; agents do not move often. */
const DNS_TTL_MS = 30_000;

export interface Target {
  appId: string;
  taskId: string;
  host: string;
  port: number;
  /** Path (and query) on the service. */
  path: string;
  /** The part of the URL that named the app, for X-Forwarded-Prefix. */
  prefix: string;
  /** The URL ended at the app id, without a slash. */
  bare: boolean;
}

type Resolution = { ok: true; target: Target } | { ok: false; status: 404 | 503 | 400; message: string };

function errorBody(message: string, path = '/'): string {
  return JSON.stringify({ message, details: [{ path, errors: [message] }] });
}

/** Headers for the service: hop-by-hop ones dropped (and those the Connection header lists). */
function forwardHeaders(headers: IncomingHttpHeaders, keepUpgrade: boolean): Record<string, string | string[]> {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    if (HOP_BY_HOP.has(k) || (listed.has(k) && !(keepUpgrade && k === 'upgrade'))) continue;
    out[k] = v;
  }
  return out;
}

export class ServiceProxy {
  private turn = new Map<string, number>();
  private dns = new Map<string, { address: string; until: number }>();
  /** Upgraded connections: the HTTP server no longer tracks them, so closing must. */
  private tunnels = new Set<Duplex>();

  constructor(
    private master: Master,
    private services: ServicesFramework,
  ) {}

  /** Instances that may take traffic: RUNNING, healthy when the app has health checks, with a port. */
  healthy(appId: string): TaskView[] {
    const checked = (this.services.getApp(appId)?.def.healthChecks.length ?? 0) > 0;
    return this.services
      .tasksOf(appId)
      .filter((t) => t.state === 'TASK_RUNNING' && (!checked || t.healthy === true) && taskPorts(t).length > 0)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** `url` is the request target starting with /service/. */
  async resolve(url: string): Promise<Resolution> {
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const search = q < 0 ? '' : url.slice(q);
    const raw = pathname.slice(PREFIX.length - 1).split('/');
    let segments: string[];
    try {
      segments = raw.map(decodeURIComponent);
    } catch {
      return { ok: false, status: 400, message: 'bad percent-encoding in the service path' };
    }
    // raw[0] is '' (the path starts with '/'); try the longest app id first
    for (let n = raw.length - 1; n >= 1; n--) {
      const candidate = parsePathId('/' + segments.slice(1, n + 1).join('/'));
      if (candidate.id === undefined || !this.services.getApp(candidate.id)) continue;
      const appId = candidate.id;
      const rest = '/' + raw.slice(n + 1).join('/');
      const prefix = raw.slice(0, n + 1).join('/');
      const tasks = this.healthy(appId);
      if (tasks.length === 0) {
        return { ok: false, status: 503, message: `app ${appId} has no healthy instance to take the request (RUNNING${(this.services.getApp(appId)?.def.healthChecks.length ?? 0) > 0 ? ' and healthy' : ''}, with a port)` };
      }
      const i = (this.turn.get(appId) ?? 0) % tasks.length;
      this.turn.set(appId, i + 1);
      const t = tasks[i]!;
      const hostname = this.master.getAgent(t.agentId)?.hostname ?? '';
      return {
        ok: true,
        target: { appId, taskId: t.id, host: await this.address(hostname), port: taskPorts(t)[0]!, path: rest + search, prefix: `/service${prefix}`, bare: n === raw.length - 1 },
      };
    }
    return { ok: false, status: 404, message: `no app matches ${pathname}` };
  }

  /** The agent's hostname when it resolves, else loopback (agents run on this machine for now). */
  private async address(hostname: string): Promise<string> {
    if (!hostname || hostname === 'localhost') return '127.0.0.1';
    if (isIP(hostname)) return hostname;
    const cached = this.dns.get(hostname);
    if (cached && cached.until > Date.now()) return cached.address;
    let address = '127.0.0.1';
    try {
      address = (await lookup(hostname)).address;
    } catch {
      // not resolvable: a name given to an agent on this machine
    }
    this.dns.set(hostname, { address, until: Date.now() + DNS_TTL_MS });
    return address;
  }

  private forwarded(headers: Record<string, string | string[]>, req: IncomingMessage, target: Target): void {
    const remote = req.socket.remoteAddress ?? '';
    const prior = headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${String(prior)}, ${remote}` : remote;
    headers['x-forwarded-proto'] = 'http';
    if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
    headers['x-forwarded-prefix'] = target.prefix;
  }

  async http(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const r = await this.resolve(req.url);
    reply.hijack();
    const res = reply.raw;
    const fail = (status: number, message: string) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const body = errorBody(message);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (!r.ok) {
      fail(r.status, r.message);
      req.raw.resume();
      return;
    }
    const { target } = r;
    // /service/app → /service/app/ so that the service's relative links resolve under the prefix
    if (target.bare && (req.method === 'GET' || req.method === 'HEAD')) {
      const q = req.url.indexOf('?');
      res.writeHead(307, { location: `${req.url.split('?')[0]}/${q < 0 ? '' : req.url.slice(q)}`, 'content-length': 0 });
      res.end();
      req.raw.resume();
      return;
    }
    const headers = forwardHeaders(req.headers, false);
    this.forwarded(headers, req.raw, target);
    const up = http.request({ host: target.host, port: target.port, method: req.method, path: target.path, headers });
    up.on('response', (upRes) => {
      const out: Record<string, string | string[]> = {};
      const listed = new Set(String(upRes.headers.connection ?? '').split(',').map((s) => s.trim().toLowerCase()));
      for (const [k, v] of Object.entries(upRes.headers)) {
        if (v === undefined || (HOP_BY_HOP.has(k) && k !== 'authorization') || listed.has(k)) continue; // a service may send its own Authorization
        out[k] = v;
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, out);
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
    });
    up.on('error', (err) => fail(502, `app ${target.appId}: instance ${target.taskId} at ${target.host}:${target.port} did not answer (${(err as NodeJS.ErrnoException).code ?? err.message})`));
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.raw.pipe(up);
  }

  /** A WebSocket (or any Upgrade) request under /service/, already authenticated by the socket layer. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const reject = (status: number, message: string) => {
      const body = errorBody(message);
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    };
    this.resolve(req.url ?? '/').then(
      (r) => {
        if (!r.ok) return reject(r.status, r.message);
        const { target } = r;
        const headers = forwardHeaders(req.headers, true);
        headers.connection = 'Upgrade';
        if (req.headers.upgrade) headers.upgrade = req.headers.upgrade;
        // a token offered as a subprotocol is Yagura's, not the service's
        const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s && !s.startsWith('bearer.'));
        if (protocols.length) headers['sec-websocket-protocol'] = protocols.join(', ');
        else delete headers['sec-websocket-protocol'];
        this.forwarded(headers, req, target);
        const up = http.request({ host: target.host, port: target.port, method: req.method, path: target.path, headers });
        up.on('upgrade', (upRes, upSocket, upHead) => {
          const lines = [`HTTP/1.1 101 ${upRes.statusMessage ?? 'Switching Protocols'}`];
          for (let i = 0; i < upRes.rawHeaders.length; i += 2) lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
          socket.write(lines.join('\r\n') + '\r\n\r\n');
          if (upHead.length) socket.write(upHead);
          if (head.length) upSocket.write(head);
          for (const s of [socket, upSocket]) {
            this.tunnels.add(s);
            s.on('close', () => this.tunnels.delete(s));
          }
          upSocket.on('error', () => socket.destroy());
          socket.on('error', () => upSocket.destroy());
          upSocket.on('close', () => socket.destroy());
          socket.on('close', () => upSocket.destroy());
          upSocket.pipe(socket);
          socket.pipe(upSocket);
        });
        // the service refused the upgrade: pass its answer on
        up.on('response', (upRes) => {
          const lines = [`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage ?? ''}`];
          for (let i = 0; i < upRes.rawHeaders.length; i += 2) {
            const k = upRes.rawHeaders[i]!.toLowerCase();
            if (k === 'connection' || k === 'transfer-encoding' || k === 'keep-alive') continue;
            lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
          }
          lines.push('connection: close');
          socket.write(lines.join('\r\n') + '\r\n\r\n');
          upRes.pipe(socket);
        });
        up.on('error', (err) => reject(502, `app ${target.appId}: instance ${target.taskId} did not answer (${(err as NodeJS.ErrnoException).code ?? err.message})`));
        up.end();
      },
      () => reject(500, 'proxy failure'),
    );
  }

  close(): void {
    for (const s of this.tunnels) s.destroy();
    this.tunnels.clear();
  }
}

export function registerProxy(http: FastifyInstance, proxy: ServiceProxy): void {
  void http.register(async (scope) => {
    // bodies stream through untouched, whatever their type and size
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    scope.route({ method: METHODS, url: '/service/*', handler: (req, reply) => proxy.http(req, reply) });
  });
}
