// WebSocket endpoints: agents dial in at /api/v1/agent; dashboards at /api/v1/stream; log tails at
// /files/tasks/<id>/tail. Browser sockets are checked for Origin. Auth travels in a header,
// in Sec-WebSocket-Protocol ("yagura.v1, bearer.<token>") or in the first message; never in the URL.

import type { IncomingMessage, Server } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE, type AgentToMaster } from '../../protocol/types.js';
import type { Master } from '../master/master.js';
import type { AgentConnection } from '../master/types.js';
import { Auth, sameSecret, type Principal } from './auth.js';
import { validateAgentMessage } from './agent-messages.js';
import type { StreamHub } from './stream.js';

export const STREAM_PROTOCOL = 'yagura.v1';

export interface SocketDeps {
  master: Master;
  auth: Auth;
  hub: StreamHub;
  agentSecret: string;
  /** Origins allowed besides the server's own. */
  allowedOrigins: string[];
  log: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** Upgrades under /service/ (the reverse proxy), after the same origin and token checks. */
  serviceUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

function reject(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ message, details: [] });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : 'Bad Request'}\r\n` +
      'Content-Type: application/json\r\nConnection: close\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function originAllowed(req: IncomingMessage, allowed: string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true; // not a browser: nothing to forge
  const host = req.headers.host;
  if (host && (origin === `http://${host}` || origin === `https://${host}`)) return true;
  return allowed.includes(origin);
}

/**
 * With auth disabled (a loopback-only master), only loopback names may appear in Host: a web
 * page whose own name was rebound to 127.0.0.1 (DNS rebinding) is same-origin with itself, and
 * would otherwise drive this master from any browser on the machine.
 */
export function hostAllowed(req: IncomingMessage, authEnabled: boolean): boolean {
  if (authEnabled) return true;
  const host = req.headers.host;
  if (!host) return true; // not a browser
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  return name === 'localhost' || name.endsWith('.localhost') || name === '::1' || (isIP(name) === 4 && name.startsWith('127.'));
}

/** The token offered as a subprotocol `bearer.<token>`, if any. */
function tokenFromProtocols(req: IncomingMessage): string | undefined {
  const header = req.headers['sec-websocket-protocol'];
  if (!header) return undefined;
  for (const p of header.split(',')) {
    const v = p.trim();
    if (v.startsWith('bearer.')) return v.slice('bearer.'.length);
  }
  return undefined;
}

export function attachSockets(server: Server, deps: SocketDeps): { close(): void } {
  const handleProtocols = (protocols: Set<string>) => (protocols.has(STREAM_PROTOCOL) ? STREAM_PROTOCOL : false);
  const agentWss = new WebSocketServer({ noServer: true, maxPayload: 32 * 1024 * 1024 });
  const clientWss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, handleProtocols });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      reject(socket, 400, 'bad request target');
      return;
    }
    const path = url.pathname;
    if (!hostAllowed(req, deps.auth.enabled)) {
      reject(socket, 403, `Host ${req.headers.host} is not a loopback name; with auth disabled only loopback names are served`);
      return;
    }
    if (path === '/api/v1/agent') {
      const token = Auth.tokenFromHeader(req.headers.authorization);
      if (!token || !sameSecret(token, deps.agentSecret)) {
        deps.log('warn', `agent registration refused from ${req.socket.remoteAddress}: wrong or missing secret`);
        reject(socket, 401, 'wrong or missing agent secret');
        return;
      }
      agentWss.handleUpgrade(req, socket, head, (ws) => agentLink(ws, deps, socket));
      return;
    }
    if (path.startsWith('/service/') && deps.serviceUpgrade) {
      if (!originAllowed(req, deps.allowedOrigins)) return reject(socket, 403, `origin ${req.headers.origin} is not allowed`);
      // the first message belongs to the service, so the token must come with the upgrade
      const who = deps.auth.verify(tokenFromProtocols(req) ?? Auth.tokenFromHeader(req.headers.authorization));
      if (!who) return reject(socket, 401, 'missing or wrong token');
      // a socket carries writes both ways: like a POST through the proxy, it needs an admin token
      if (who.role !== 'admin') return reject(socket, 403, 'this token is read-only (viewer): a WebSocket to a service needs an admin token');
      deps.serviceUpgrade(req, socket, head);
      return;
    }
    const tail = /^\/files\/tasks\/([^/]+)\/tail$/.exec(path);
    if (path !== '/api/v1/stream' && !tail) {
      reject(socket, 404, `no WebSocket endpoint at ${path}`);
      return;
    }
    if (!originAllowed(req, deps.allowedOrigins)) {
      reject(socket, 403, `origin ${req.headers.origin} is not allowed`);
      return;
    }
    const offered = tokenFromProtocols(req) ?? Auth.tokenFromHeader(req.headers.authorization);
    let principal: Principal | undefined;
    if (offered !== undefined) {
      principal = deps.auth.verify(offered);
      if (!principal) {
        reject(socket, 401, 'wrong token');
        return;
      }
    }
    clientWss.handleUpgrade(req, socket, head, (ws) => {
      if (tail) tailLink(ws, principal, decodeURIComponent(tail[1]!), url.searchParams, deps);
      else deps.hub.add(ws, principal);
    });
  });

  return {
    close() {
      for (const ws of agentWss.clients) ws.terminate();
      for (const ws of clientWss.clients) ws.terminate();
      agentWss.close();
      clientWss.close();
    },
  };
}

function agentLink(ws: WebSocket, deps: SocketDeps, socket: Duplex): void {
  let agentId: string | undefined;
  let corked = false;
  const conn: AgentConnection = {
    send: (msg) => {
      if (ws.readyState !== ws.OPEN) return;
      // the launches and acks of one turn leave in one write, not in one system call each
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(() => {
          corked = false;
          socket.uncork();
        });
      }
      ws.send(JSON.stringify(msg));
    },
    close: (code, reason) => ws.close(code, reason),
  };
  const registerTimer = setTimeout(() => {
    if (!agentId) ws.close(CLOSE.BAD_MESSAGE, 'no register message');
  }, 10_000);
  ws.on('message', (raw, isBinary) => {
    let parsed: unknown;
    try {
      parsed = isBinary ? undefined : JSON.parse(raw.toString());
    } catch {
      parsed = undefined;
    }
    const checked = validateAgentMessage(parsed);
    if (!checked.ok) {
      deps.log('warn', `agent ${agentId ?? '(unregistered)'} sent a bad message: ${checked.error}`);
      ws.close(CLOSE.BAD_MESSAGE, checked.error.slice(0, 120));
      return;
    }
    const msg: AgentToMaster = checked.message;
    if (!agentId) {
      if (msg.type !== 'register') {
        ws.close(CLOSE.BAD_MESSAGE, 'register first');
        return;
      }
      clearTimeout(registerTimer);
      agentId = deps.master.registerAgent(conn, msg);
      return;
    }
    deps.master.agentMessage(agentId, conn, msg);
  });
  ws.on('close', () => {
    clearTimeout(registerTimer);
    if (agentId) deps.master.agentDisconnected(agentId, conn);
  });
  ws.on('error', () => ws.terminate());
}

function tailLink(ws: WebSocket, principal: Principal | undefined, taskId: string, params: URLSearchParams, deps: SocketDeps): void {
  let stop: (() => void) | undefined;
  const offsetParam = params.get('offset');
  const offset = offsetParam !== null && /^-?\d+$/.test(offsetParam) ? Number(offsetParam) : undefined;
  const path = params.get('path') ?? 'stdout';
  const begin = () => {
    try {
      stop = deps.master.tail(
        taskId,
        path,
        offset,
        (data, off) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'chunk', data, offset: off }));
        },
        (message) => {
          if (ws.readyState === ws.OPEN) {
            ws.send(JSON.stringify({ type: 'end', ...(message ? { message } : {}) }));
            ws.close(1000, 'end');
          }
        },
      );
    } catch (err) {
      ws.send(JSON.stringify({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
      ws.close(4404, 'cannot tail');
    }
  };
  if (principal) begin();
  const timer = principal ? undefined : setTimeout(() => ws.close(CLOSE.UNAUTHORIZED, 'no hello'), 10_000);
  ws.on('message', (raw) => {
    if (principal) return;
    let m: { type?: unknown; token?: unknown } | undefined;
    try {
      m = JSON.parse(raw.toString()) as typeof m;
    } catch {
      m = undefined;
    }
    const p = m?.type === 'hello' && typeof m.token === 'string' ? deps.auth.verify(m.token) : undefined;
    if (!p) {
      ws.close(CLOSE.UNAUTHORIZED, 'missing or wrong token');
      return;
    }
    principal = p;
    clearTimeout(timer);
    begin();
  });
  ws.on('close', () => {
    clearTimeout(timer);
    stop?.();
  });
  ws.on('error', () => ws.terminate());
}
