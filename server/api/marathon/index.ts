// Marathon's REST API (/v2/…, /ping), its event stream and the /service/ reverse proxy, on top
// of the built-in services framework. Registered as an encapsulated plugin so that its JSON
// parsing (an empty body is no body: Marathon clients send Content-Type on every DELETE) does
// not change how other routes parse.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ServicesFramework } from '../../frameworks/services/services.js';
import type { Master } from '../../master/master.js';
import { appWriter, registerApps, type AppWriter } from './apps.js';
import type { Ctx } from './common.js';
import { MarathonEvents, type MarathonEventsOptions } from './events.js';
import { GroupStore, registerGroups } from './groups.js';
import { registerMisc } from './misc.js';
import { useLenientJson } from '../json-body.js';
import { ServiceProxy, registerProxy } from './proxy.js';

export interface MarathonApiDeps {
  master: Master;
  services: ServicesFramework;
  events?: MarathonEventsOptions;
}

export interface MarathonApi {
  events: MarathonEvents;
  proxy: ServiceProxy;
  /** Create and remove apps as the API does (id checks, events), for the catalog. */
  apps: AppWriter;
  /** Upgrade requests under /service/, once the socket layer has checked origin and token. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export function registerMarathonApi(http: FastifyInstance, deps: MarathonApiDeps): MarathonApi {
  const { master, services } = deps;
  const events = new MarathonEvents(master, services, deps.events);
  const groups = new GroupStore(master, services);
  const proxy = new ServiceProxy(master, services);
  const ctx: Ctx = { master, services, events, groups };
  void http.register(async (scope) => {
    useLenientJson(scope);
    registerApps(scope, ctx);
    registerGroups(scope, ctx);
    registerMisc(scope, ctx);
  });
  registerProxy(http, proxy);
  // before the server waits for its connections: event streams and tunnels never end by themselves
  http.addHook('preClose', async () => {
    events.close();
    proxy.close();
  });
  return { events, proxy, apps: appWriter(ctx), upgrade: (req, socket, head) => proxy.upgrade(req, socket, head) };
}
