// The catalog against a Universe v4 repository written for the test, shaped like the public
// Universe's packages: added from a file and over http, searched, described, rendered and
// installed; a Docker package waits with the reason; bad input gets clear errors and changes nothing.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { servicesCluster, type ServicesCluster } from '../support/services.js';
import { waitFor } from '../support/cluster.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const serviceConfig = (name: string, extra: Record<string, unknown> = {}) => ({
  $schema: 'http://json-schema.org/schema#',
  type: 'object',
  properties: {
    service: {
      type: 'object',
      description: 'Service configuration',
      properties: {
        name: { type: 'string', description: 'The app id', default: name },
        cpus: { type: 'number', minimum: 0.01, maximum: 2, default: 0.1 },
        mem: { type: 'integer', minimum: 16, maximum: 1024, default: 32 },
        instances: { type: 'integer', minimum: 0, maximum: 5, default: 1 },
      },
      required: ['name', 'cpus', 'mem'],
      additionalProperties: false,
    },
    ...extra,
  },
  additionalProperties: false,
});

/** Packages as the public Universe has them: a Docker one, a command one with two versions, a job, broken ones. */
function universeIndex() {
  const nginx = {
    packagingVersion: '4.0',
    name: 'nginx',
    version: '1.10.3',
    releaseVersion: 3,
    maintainer: 'support@mesosphere.io',
    description: 'Nginx is a high-performance HTTP server and reverse proxy.',
    tags: ['proxy', 'webserver', 'http'],
    selected: false,
    framework: false,
    preInstallNotes: 'This DC/OS Service is currently in preview.',
    postInstallNotes: 'Nginx is being installed.',
    licenses: [{ name: 'BSD', url: 'http://nginx.org/LICENSE' }],
    website: 'https://nginx.org',
    config: serviceConfig('nginx', { nginx: { type: 'object', properties: { image: { type: 'string', default: 'nginx:1.10.3' } } } }),
    resource: {
      images: { 'icon-small': 'https://downloads.mesosphere.com/universe/assets/icon-service-nginx-small.png', 'icon-medium': 'https://downloads.mesosphere.com/universe/assets/icon-service-nginx-medium.png' },
      assets: { container: { docker: { 'nginx-docker': 'nginx:1.10.3' } } },
    },
    marathon: {
      v2AppMustacheTemplate: b64(`{
  "id": "{{service.name}}",
  "cpus": {{service.cpus}},
  "mem": {{service.mem}},
  "instances": {{service.instances}},
  "container": {
    "type": "DOCKER",
    "docker": { "image": "{{resource.assets.container.docker.nginx-docker}}", "network": "BRIDGE" },
    "portMappings": [{ "containerPort": 80, "hostPort": 0, "protocol": "tcp" }]
  },
  "labels": { "HAPROXY_GROUP": "external" }
}`),
    },
  };
  const hello = (version: string, release: number, greeting: string) => ({
    packagingVersion: '3.0',
    name: 'hello-python',
    version,
    releaseVersion: release,
    maintainer: 'someone@example.com',
    description: 'A tiny Python web server that says hello.',
    tags: ['example', 'python'],
    selected: true,
    framework: false,
    postInstallNotes: 'Open it at /service/hello-python/',
    config: serviceConfig('hello-python', { hello: { type: 'object', properties: { greeting: { type: 'string', default: greeting, maxLength: 40 } } } }),
    marathon: {
      v2AppMustacheTemplate: b64(`{
  "id": "{{service.name}}",
  "cmd": "printf '%s' \\"$GREETING\\" > index.html && exec python3 -m http.server $PORT0",
  "cpus": {{service.cpus}}, "mem": {{service.mem}}, "instances": {{service.instances}},
  "env": { "GREETING": "{{hello.greeting}}" },
  "portDefinitions": [{ "port": 0, "name": "http" }],
  "healthChecks": [{ "protocol": "MESOS_HTTP", "path": "/", "portIndex": 0, "gracePeriodSeconds": 15, "intervalSeconds": 1, "timeoutSeconds": 2, "maxConsecutiveFailures": 3 }]
}`),
    },
  });
  const job = {
    packagingVersion: '4.0',
    name: 'nightly-echo',
    version: '0.1.0',
    releaseVersion: 0,
    maintainer: 'ops@example.com',
    description: 'Prints a line every night.',
    tags: ['job', 'example'],
    config: { type: 'object', properties: { job: { type: 'object', properties: { id: { type: 'string', default: 'nightly-echo' }, cron: { type: 'string', default: '0 3 * * *' } } } } },
    metronome: {
      v1JobMustacheTemplate: b64(`{
  "id": "{{job.id}}",
  "run": { "cmd": "echo nightly", "cpus": 0.1, "mem": 32, "disk": 0 },
  "schedules": [{ "id": "nightly", "cron": "{{job.cron}}", "timezone": "UTC", "enabled": true }]
}`),
    },
  };
  const invalidApp = {
    packagingVersion: '4.0',
    name: 'invalid-app',
    version: '1.0.0',
    maintainer: 'x@example.com',
    description: 'Renders an app with negative cpus when asked to.',
    config: { type: 'object', properties: { cpus: { type: 'number', default: 0.1 } } },
    marathon: { v2AppMustacheTemplate: b64('{"id": "invalid-app", "cmd": "sleep 100", "cpus": {{cpus}}, "mem": 32}') },
  };
  const brokenTemplate = {
    packagingVersion: '4.0',
    name: 'broken-template',
    version: '1.0.0',
    maintainer: 'x@example.com',
    description: 'A template with a section that is never closed.',
    marathon: { v2AppMustacheTemplate: b64('{"id": "broken", {{#x}} "cmd": "sleep 1"}') },
  };
  return { packages: [nginx, hello('0.1.0', 0, 'hello'), hello('0.2.0', 1, 'hello again'), job, invalidApp, brokenTemplate, { name: 'not a package' }] };
}

describe('catalog with a Universe v4 repository', () => {
  let c: ServicesCluster;
  let server: Server;
  let httpUri: string;
  let fileUri: string;
  let serving = true;

  const post = async (path: string, body: unknown, token?: string): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${c.m.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token ?? c.m.adminToken}`, 'Content-Type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  };

  before(async () => {
    c = await servicesCluster();
    await c.addAgent('cat-1');
    const index = JSON.stringify(universeIndex());
    fileUri = join(c.dir, 'repo-v4.json');
    writeFileSync(fileUri, index);
    server = createServer((req, res) => {
      if (!serving) {
        req.socket.destroy();
        return;
      }
      if (req.url === '/repo.json') {
        res.writeHead(200, { 'Content-Type': 'application/vnd.dcos.universe.repo+json;charset=utf-8;version=v4' });
        res.end(index);
      } else if (req.url === '/not-universe.json') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ apps: [] }));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    httpUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo.json`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await c.dispose();
  });

  it('adds a repository from a file and over http, in order, first match wins', async () => {
    const before = await post('/package/repository/list', {});
    assert.equal(before.status, 200);
    assert.deepEqual(before.json.repositories.map((r: any) => r.name), ['Built-in']);

    const added = await post('/package/repository/add', { name: 'test-file', uri: fileUri });
    assert.equal(added.status, 200, JSON.stringify(added.json));
    assert.deepEqual(added.json.repositories.map((r: any) => r.name), ['Built-in', 'test-file']);
    assert.equal(added.json.repositories[1].packages, 6, 'six valid packages; the invalid entry is skipped');

    const first = await post('/package/repository/add', { name: 'test-http', uri: httpUri, index: 0 });
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.deepEqual(first.json.repositories.map((r: any) => r.name), ['test-http', 'Built-in', 'test-file']);
    const search = await post('/package/search', { query: 'nginx' });
    assert.equal(search.json.packages.length, 1);
    assert.equal(search.json.packages[0].repository, 'test-http', 'the first repository that has the package wins');
  });

  it('searches by name, description and tag, selected packages first', async () => {
    const all = await post('/package/search', {});
    assert.equal(all.status, 200);
    const names = all.json.packages.map((p: any) => p.name);
    assert.ok(names.includes('nginx') && names.includes('hello-python') && names.includes('nightly-echo'));
    const firstUnselected = all.json.packages.findIndex((p: any) => !p.selected);
    assert.ok(all.json.packages.slice(firstUnselected).every((p: any) => !p.selected), 'selected first');

    const byTag = await post('/package/search', { query: 'webserver' });
    assert.deepEqual(byTag.json.packages.map((p: any) => p.name), ['nginx']);
    const byDescription = await post('/package/search', { query: 'says HELLO' });
    assert.deepEqual(byDescription.json.packages.map((p: any) => p.name), ['hello-python']);
    const hello = byDescription.json.packages[0];
    assert.equal(hello.currentVersion, '0.2.0');
    assert.deepEqual(hello.versions, { '0.1.0': '0', '0.2.0': '1' });
    assert.equal((await post('/package/search', { query: 'no-such-thing-anywhere' })).json.packages.length, 0);
  });

  it('describes a package and lists its versions', async () => {
    const d = await post('/package/describe', { packageName: 'nginx' });
    assert.equal(d.status, 200);
    assert.equal(d.json.package.name, 'nginx');
    assert.equal(d.json.package.packagingVersion, '4.0');
    assert.equal(d.json.package.config.properties.service.properties.name.default, 'nginx');
    assert.equal(typeof d.json.package.marathon.v2AppMustacheTemplate, 'string');
    assert.equal(d.json.package.kind, 'service');

    const old = await post('/package/describe', { packageName: 'hello-python', packageVersion: '0.1.0' });
    assert.equal(old.json.package.version, '0.1.0');
    assert.equal(old.json.package.packagingVersion, '3.0');

    const versions = await post('/package/list-versions', { packageName: 'hello-python', includePackageVersions: true });
    assert.deepEqual(versions.json.results, { '0.1.0': '0', '0.2.0': '1' });
    const job = await post('/package/describe', { packageName: 'nightly-echo' });
    assert.equal(job.json.package.kind, 'job');
  });

  it('renders with defaults, then options, then resource', async () => {
    const r = await post('/package/render', { packageName: 'nginx', options: { service: { name: 'edge/nginx', mem: 64 } } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const app = r.json.marathonJson;
    assert.equal(app.id, 'edge/nginx');
    assert.equal(app.mem, 64, 'the option wins over the default');
    assert.equal(app.cpus, 0.1, 'the default fills what the options leave out');
    assert.equal(app.container.docker.image, 'nginx:1.10.3', 'from resource.json');
    assert.equal(app.labels.HAPROXY_GROUP, 'external');
    assert.equal(app.labels.DCOS_PACKAGE_NAME, 'nginx');
    assert.equal(app.labels.DCOS_PACKAGE_VERSION, '1.10.3');
    assert.deepEqual(JSON.parse(Buffer.from(app.labels.DCOS_PACKAGE_OPTIONS, 'base64').toString()), { service: { name: 'edge/nginx', mem: 64 } });
    assert.equal(app.labels.DCOS_PACKAGE_SOURCE, httpUri);

    const quoted = await post('/package/render', { packageName: 'hello-python', options: { hello: { greeting: 'say "hi" \\ bye' } } });
    assert.equal(quoted.status, 200, 'a quote in an option cannot break the JSON');
    assert.equal(quoted.json.marathonJson.env.GREETING, 'say "hi" \\ bye');

    const job = await post('/package/render', { packageName: 'nightly-echo', options: { job: { cron: '30 4 * * *' } } });
    assert.equal(job.json.metronomeJson.schedules[0].cron, '30 4 * * *');
    assert.equal(job.json.metronomeJson.labels.DCOS_PACKAGE_NAME, 'nightly-echo');
  });

  it('answers bad input with clear errors at the right path', async () => {
    const unknown = await post('/package/describe', { packageName: 'no-such-package' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.message, /no-such-package/);
    const badVersion = await post('/package/install', { packageName: 'hello-python', packageVersion: '9.9.9' });
    assert.equal(badVersion.status, 404);
    assert.deepEqual(badVersion.json.details[0], { path: '/packageVersion', errors: ['available: 0.2.0, 0.1.0'] });

    const tooBig = await post('/package/install', { packageName: 'hello-python', options: { service: { cpus: 64, nope: 1 } } });
    assert.equal(tooBig.status, 422);
    const paths = Object.fromEntries(tooBig.json.details.map((d: any) => [d.path, d.errors]));
    assert.deepEqual(paths['/service/cpus'], ['must be at most 2']);
    assert.deepEqual(paths['/service/nope'], ['is not a known option']);
    const wrongType = await post('/package/render', { packageName: 'hello-python', options: { service: { instances: 'two' } } });
    assert.equal(wrongType.status, 422);
    assert.equal(wrongType.json.details[0].path, '/service/instances');

    const broken = await post('/package/install', { packageName: 'broken-template' });
    assert.equal(broken.status, 422);
    assert.equal(broken.json.details[0].path, '/marathon/v2AppMustacheTemplate');
    assert.match(broken.json.message, /never closed/);

    const invalidApp = await post('/package/install', { packageName: 'invalid-app', options: { cpus: -1 } });
    assert.equal(invalidApp.status, 422);
    assert.equal(invalidApp.json.details[0].path, '/marathonJson/cpus');

    assert.equal((await post('/package/install', '{not json')).status, 400);
    assert.equal((await post('/package/install', [1, 2])).status, 400);
    assert.equal((await post('/package/install', { packageName: 7 })).status, 422);
    assert.equal((await post('/package/install', { packageName: 'hello-python', options: [] })).status, 422);

    const unreachable = await post('/package/repository/add', { name: 'gone', uri: 'http://127.0.0.1:9/repo.json' });
    assert.equal(unreachable.status, 422);
    assert.equal(unreachable.json.details[0].path, '/uri');
    assert.match(unreachable.json.message, /unreachable/);
    const notIndex = await post('/package/repository/add', { name: 'other', uri: httpUri.replace('repo.json', 'not-universe.json') });
    assert.equal(notIndex.status, 422);
    assert.match(notIndex.json.message, /not a Universe repository index/);
    const dupName = await post('/package/repository/add', { name: 'test-file', uri: 'file:///elsewhere.json' });
    assert.equal(dupName.status, 409);

    // nothing changed by any of it
    assert.equal(c.m.services.listApps().length, 0);
    const repos = await post('/package/repository/list', {});
    assert.deepEqual(repos.json.repositories.map((r: any) => r.name), ['test-http', 'Built-in', 'test-file']);
  });

  it('a viewer may search and render but not install or change repositories', async () => {
    const viewer = c.m.auth.createToken('viewer', 'catalog-viewer');
    assert.equal((await post('/package/search', {}, viewer)).status, 200);
    assert.equal((await post('/package/render', { packageName: 'hello-python' }, viewer)).status, 200);
    assert.equal((await post('/package/install', { packageName: 'hello-python' }, viewer)).status, 403);
    assert.equal((await post('/package/repository/delete', { name: 'test-file' }, viewer)).status, 403);
    assert.equal((await post('/package/search', {}, 'wrong-token')).status, 401);
  });

  it('installs a chosen version, refuses a second install under the same id, uninstalls', async () => {
    const r = await post('/package/install', { packageName: 'hello-python', packageVersion: '0.1.0', options: { hello: { greeting: 'custom hello' } } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.appId, '/hello-python');
    assert.equal(r.json.packageVersion, '0.1.0');
    const app = c.m.services.getApp('/hello-python')!;
    assert.equal(app.def.labels.DCOS_PACKAGE_VERSION, '0.1.0');
    await waitFor(() => c.m.services.serviceView('/hello-python')?.tasksHealthy === 1, 30_000, 'hello-python healthy');
    const page = await fetch(`${c.m.url}/service/hello-python/`, { headers: { Authorization: `Bearer ${c.m.adminToken}` } });
    assert.equal(await page.text(), 'custom hello', 'the option changed what the service does');
    const anonymous = await fetch(`${c.m.url}/service/hello-python/`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm="yagura"/, 'a browser is asked for the token as a password');
    const basic = await fetch(`${c.m.url}/service/hello-python/`, { headers: { Authorization: `Basic ${Buffer.from(`me:${c.m.adminToken}`).toString('base64')}` } });
    assert.equal(await basic.text(), 'custom hello');

    const again = await post('/package/install', { packageName: 'hello-python' });
    assert.equal(again.status, 409);
    assert.equal(again.json.details[0].path, '/appId');
    const second = await post('/package/install', { packageName: 'hello-python', appId: '/hello-python-2', options: { service: { instances: 0 } } });
    assert.equal(second.status, 200, JSON.stringify(second.json));

    const listed = await post('/package/list', { packageName: 'hello-python' });
    assert.deepEqual(listed.json.packages.map((p: any) => p.appId).sort(), ['/hello-python', '/hello-python-2']);
    assert.equal(listed.json.packages[0].packageInformation.packageDefinition.name, 'hello-python');

    const ambiguous = await post('/package/uninstall', { packageName: 'hello-python' });
    assert.equal(ambiguous.status, 409);
    const one = await post('/package/uninstall', { packageName: 'hello-python', appId: 'hello-python-2' });
    assert.equal(one.status, 200, JSON.stringify(one.json));
    assert.deepEqual(one.json.results.map((x: any) => x.appId), ['/hello-python-2']);
    await waitFor(() => !c.m.services.getApp('/hello-python-2'), 10_000, 'the app removed');
    assert.ok(c.m.services.getApp('/hello-python'), 'the other installation stays');

    const taskIds = c.m.services.tasksOf('/hello-python').map((t) => t.id);
    const all = await post('/package/uninstall', { packageName: 'hello-python', all: true });
    assert.equal(all.status, 200);
    await waitFor(() => !c.m.services.getApp('/hello-python'), 20_000, 'the app removed');
    await waitFor(() => taskIds.every((id) => c.m.master.getTask(id)?.state === 'TASK_KILLED'), 20_000, 'instances killed');
    assert.equal((await post('/package/list', {})).json.packages.length, 0);
    assert.equal((await post('/package/uninstall', { packageName: 'hello-python' })).status, 404);
  });

  it('installs and uninstalls a job package', async () => {
    const r = await post('/package/install', { packageName: 'nightly-echo' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.kind, 'job');
    assert.equal(r.json.appId, 'nightly-echo');
    const job = c.m.jobs.getJob('nightly-echo')!;
    assert.equal(job.def.schedules[0]!.expr, '0 3 * * *');
    assert.equal(job.def.labels.DCOS_PACKAGE_NAME, 'nightly-echo');
    assert.equal((await post('/package/install', { packageName: 'nightly-echo' })).status, 409);
    const u = await post('/package/uninstall', { packageName: 'nightly-echo' });
    assert.equal(u.status, 200);
    assert.equal(c.m.jobs.getJob('nightly-echo'), undefined);
  });

  it('installs a Docker package, which waits with the reason when no agent offers Docker', async () => {
    const r = await post('/package/install', { packageName: 'nginx' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const waiting = await waitFor(() => c.m.services.serviceView('/nginx')?.waiting?.includes('Docker') && c.m.services.serviceView('/nginx')!.waiting, 20_000, 'a waiting reason');
    assert.match(waiting, /no agent offers the container runtime it needs \(e\.g\. Docker\)/);
    assert.equal(c.m.services.tasksOf('/nginx').length, 0);
    assert.equal((await post('/package/uninstall', { packageName: 'nginx' })).status, 200, 'an uninstall wins over the waiting deployment');
    await waitFor(() => !c.m.services.getApp('/nginx'), 10_000, 'nginx removed');
  });

  it('keeps searching a repository from its cache while it is unreachable', async () => {
    serving = false;
    const refreshed = await post('/package/repository/refresh', { name: 'test-http' });
    assert.equal(refreshed.status, 200);
    const repo = refreshed.json.repositories.find((r: any) => r.name === 'test-http');
    assert.ok(repo.error, 'the failed refresh is reported');
    assert.equal(repo.packages, 6, 'the cached index is kept');
    const search = await post('/package/search', { query: 'nginx' });
    assert.equal(search.json.packages[0].repository, 'test-http');
    serving = true;
    const ok = await post('/package/repository/refresh', {});
    assert.equal(ok.json.repositories.find((r: any) => r.name === 'test-http').error, undefined);

    const removed = await post('/package/repository/delete', { name: 'test-http' });
    assert.deepEqual(removed.json.repositories.map((r: any) => r.name), ['Built-in', 'test-file']);
    assert.equal((await post('/package/search', { query: 'nginx' })).json.packages[0].repository, 'test-file');
    assert.equal((await post('/package/repository/delete', { name: 'test-http' })).status, 404);
  });
});
