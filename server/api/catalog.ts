// The Cosmos-shaped catalog API: POST /package/<action> with a JSON body. DC/OS clients send
// vendor media types (application/vnd.dcos.package.install-request+json;…;version=v1) and ask
// for vendor responses; both are accepted, and the answer carries the vendor type the client
// asked for, or plain JSON. Reads are open to viewers; installs and repository changes need admin.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Catalog } from '../catalog/catalog.js';
import { badRequest, isRecord } from './errors.js';
import { useLenientJson } from './json-body.js';

function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (b === undefined || b === null) return {};
  if (!isRecord(b)) throw badRequest('the body must be a JSON object', [{ path: '/', errors: ['expected a JSON object'] }]);
  return b;
}

/** The vendor media type of a response, when the client asked for one. */
function respond(req: FastifyRequest, reply: FastifyReply, action: string, payload: unknown): unknown {
  const accept = String(req.headers.accept ?? '');
  const type = `application/vnd.dcos.package.${action}-response+json`;
  if (accept.includes(type)) {
    const version = /version=(v\d+)/.exec(accept.slice(accept.indexOf(type)))?.[1] ?? 'v1';
    reply.header('Content-Type', `${type};charset=utf-8;version=${version}`);
  }
  return payload;
}

export function registerCatalogApi(http: FastifyInstance, catalog: Catalog): void {
  void http.register(async (scope) => {
    useLenientJson(scope, [/^application\/vnd\.dcos\.[a-z.-]+\+json/]);

    const read = { config: { viewerMay: true } };
    const origin = (req: FastifyRequest) => req.ip;

    scope.post('/package/search', read, async (req, reply) => {
      const b = body(req);
      if (b.query !== undefined && b.query !== null && typeof b.query !== 'string') throw badRequest('query must be a string', [{ path: '/query', errors: ['must be a string'] }]);
      return respond(req, reply, 'search', { packages: catalog.search(b.query ?? undefined) });
    });
    scope.post('/package/describe', read, async (req, reply) => {
      const b = body(req);
      return respond(req, reply, 'describe', { package: catalog.describe(b.packageName, b.packageVersion) });
    });
    scope.post('/package/list-versions', read, async (req, reply) => {
      const b = body(req);
      return respond(req, reply, 'list-versions', { results: catalog.listVersions(b.packageName) });
    });
    scope.post('/package/render', read, async (req, reply) => {
      const r = catalog.render(installRequest(body(req)));
      return respond(req, reply, 'render', { ...(r.marathonJson ? { marathonJson: r.marathonJson } : {}), ...(r.metronomeJson ? { metronomeJson: r.metronomeJson } : {}) });
    });
    scope.post('/package/install', async (req, reply) => {
      const result = await catalog.install(installRequest(body(req)), origin(req));
      return respond(req, reply, 'install', result);
    });
    scope.post('/package/uninstall', async (req, reply) => {
      const b = body(req);
      return respond(req, reply, 'uninstall', { results: await catalog.uninstall(b, origin(req)) });
    });
    scope.post('/package/list', read, async (req, reply) => {
      const b = body(req);
      return respond(req, reply, 'list', { packages: catalog.list(b) });
    });
    scope.post('/package/repository/list', read, async (req, reply) => respond(req, reply, 'repository.list', { repositories: catalog.repositories.views() }));
    scope.post('/package/repository/add', async (req, reply) => {
      const b = body(req);
      return respond(req, reply, 'repository.add', { repositories: await catalog.repositories.add(b.name, b.uri, b.index) });
    });
    scope.post('/package/repository/delete', async (req, reply) => {
      const b = body(req);
      return respond(req, reply, 'repository.delete', { repositories: await catalog.repositories.remove(b.name, b.uri) });
    });
    scope.post('/package/repository/refresh', async (req, reply) => {
      const b = body(req);
      return respond(req, reply, 'repository.refresh', { repositories: await catalog.repositories.refresh(b.name) });
    });
    // the built-in repository as a Universe v4 index, for other Cosmos-compatible tools
    scope.get('/package/builtin/repo.json', async (_req, reply) => {
      reply.header('Content-Type', 'application/vnd.dcos.universe.repo+json;charset=utf-8;version=v4');
      return catalog.builtinIndex();
    });
  });
}

function installRequest(b: Record<string, unknown>) {
  return {
    packageName: b.packageName as string,
    ...(b.packageVersion !== undefined && b.packageVersion !== null ? { packageVersion: b.packageVersion as string } : {}),
    ...(b.options !== undefined && b.options !== null ? { options: b.options as Record<string, unknown> } : {}),
    ...(b.appId !== undefined && b.appId !== null ? { appId: b.appId as string } : {}),
    ...(b.constraints !== undefined && b.constraints !== null ? { constraints: b.constraints } : {}),
  };
}
