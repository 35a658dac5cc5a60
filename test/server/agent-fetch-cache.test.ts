// The agent's artifact cache (`cache: true` URIs) and the master-origin rule for the agent
// secret: downloads are counted on local HTTP servers, never inferred from timing.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { CommandSpec, StatusUpdate } from '../../protocol/types.js';
import { Agent } from '../../server/agent/agent.js';
import { FetchCache } from '../../server/agent/fetcher.js';
import { FakeMaster, launchSpec, makeAgentEnv, type AgentTestEnv, shutdownAgent } from './fixtures/agent-fake-master.js';

const SECRET = 'cache-secret';

type Uri = CommandSpec['uris'][number];

/** A local artifact server: counts requests per path and keeps their Authorization headers. */
class ArtifactServer {
  readonly hits = new Map<string, number>();
  readonly auth: Array<{ path: string; authorization: string | undefined }> = [];
  readonly routes = new Map<string, (req: http.IncomingMessage, res: http.ServerResponse) => void>();
  private server = http.createServer((req, res) => this.handle(req, res));
  url = '';

  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const p = req.url ?? '/';
    this.hits.set(p, (this.hits.get(p) ?? 0) + 1);
    this.auth.push({ path: p, authorization: req.headers.authorization });
    const route = this.routes.get(p);
    if (route) route(req, res);
    else res.writeHead(404).end();
  }

  serve(p: string, body: string | (() => string | null)): void {
    this.routes.set(p, (_req, res) => {
      const b = typeof body === 'function' ? body() : body;
      if (b === null) res.writeHead(500).end('broken');
      else res.end(b);
    });
  }

  count(p: string): number {
    return this.hits.get(p) ?? 0;
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

async function startAgent(master: FakeMaster, env: AgentTestEnv, extra: Record<string, unknown> = {}): Promise<Agent> {
  const agent = new Agent({ masterUrl: master.url, secret: SECRET, workDir: env.workDir, hostname: env.hostname, logger: () => undefined, ...extra });
  const registered = once(agent, 'registered');
  await agent.start();
  await registered;
  return agent;
}

describe('agent fetch cache', () => {
  let master: FakeMaster;
  let env: AgentTestEnv;
  let agent: Agent;
  let files: ArtifactServer;
  let n = 0;

  before(async () => {
    master = await new FakeMaster(SECRET).listen();
    files = await new ArtifactServer().listen();
    env = makeAgentEnv('fcache');
    agent = await startAgent(master, env);
  });

  after(async () => {
    await shutdownAgent(agent);
    await master?.close();
    await files?.close();
    await env?.cleanup();
  });

  /** Launches a task that runs `command` with these URIs; resolves with its final update and stdout. */
  async function run(command: string, uris: Uri[]): Promise<{ state: string; message: string | undefined; stdout: string; taskId: string }> {
    const taskId = `t${++n}`;
    const spec = launchSpec(taskId, command);
    spec.command.uris = uris;
    const from = master.messages.length;
    master.send({ type: 'launch', task: spec });
    const end = await master.waitFor<{ type: 'status'; update: StatusUpdate }>(
      (m) => m.type === 'status' && m.update.taskId === taskId && ['TASK_FINISHED', 'TASK_FAILED'].includes(m.update.state),
      from,
    );
    const out = path.join(env.workDir, 'sandboxes', taskId, 'stdout');
    return { state: end.update.state, message: end.update.message, stdout: existsSync(out) ? readFileSync(out, 'utf8') : '', taskId };
  }

  it('downloads a cache:true URI once and gives every sandbox its own executable copy', async () => {
    files.serve('/tool.sh', '#!/bin/sh\necho tool-ran\n');
    const uri = `${files.url}/tool.sh`;
    const a = await run('./tool.sh', [{ value: uri, cache: true, executable: true }]);
    const b = await run('./tool.sh', [{ value: uri, cache: true, executable: true }]);
    assert.equal(a.state, 'TASK_FINISHED');
    assert.equal(b.state, 'TASK_FINISHED');
    assert.equal(a.stdout, 'tool-ran\n');
    assert.equal(b.stdout, 'tool-ran\n');
    assert.equal(files.count('/tool.sh'), 1, 'the second launch used the cache');

    const entry = path.join(env.workDir, 'cache', sha(uri));
    assert.ok(existsSync(entry), 'kept under <workDir>/cache/<sha256 of the URI>');
    assert.equal(readFileSync(entry, 'utf8'), '#!/bin/sh\necho tool-ran\n');
    const copy = statSync(path.join(env.workDir, 'sandboxes', b.taskId, 'tool.sh'));
    const cached = statSync(entry);
    assert.notEqual(copy.ino, cached.ino, 'a copy, not a link the task could rewrite');
    assert.equal(copy.mode & 0o111, 0o111, 'executable applies to the sandbox copy');
    assert.equal(cached.mode & 0o777, 0o600, 'the cache entry stays private to the agent');
    assert.equal(cached.uid, process.getuid!());
  });

  it('downloads a URI without cache every time', async () => {
    files.serve('/plain.txt', 'plain\n');
    const uri = `${files.url}/plain.txt`;
    await run('cat plain.txt', [{ value: uri }]);
    const second = await run('cat plain.txt', [{ value: uri, cache: false }]);
    assert.equal(second.stdout, 'plain\n');
    assert.equal(files.count('/plain.txt'), 2);
    assert.equal(existsSync(path.join(env.workDir, 'cache', sha(uri))), false);
  });

  it('never caches a failed download, and extracts archives from the sandbox copy', async () => {
    let broken = true;
    files.serve('/flaky.txt', () => (broken ? null : 'now-ok\n'));
    const uri = `${files.url}/flaky.txt`;
    const failed = await run('cat flaky.txt', [{ value: uri, cache: true }]);
    assert.equal(failed.state, 'TASK_FAILED');
    assert.match(failed.message ?? '', /HTTP 500/);
    assert.equal(existsSync(path.join(env.workDir, 'cache', sha(uri))), false);
    assert.deepEqual(readdirSync(path.join(env.workDir, 'cache')).filter((f) => f.startsWith('tmp-')), [], 'no partial file left');
    broken = false;
    const ok = await run('cat flaky.txt', [{ value: uri, cache: true }]);
    assert.equal(ok.stdout, 'now-ok\n');
    const again = await run('cat flaky.txt', [{ value: uri, cache: true }]);
    assert.equal(again.stdout, 'now-ok\n');
    assert.equal(files.count('/flaky.txt'), 2, 'the failure, then one good download');

    // A real tarball, served from a temp dir; extracted from each sandbox's copy.
    const src = mkdtempSync(path.join(os.tmpdir(), 'yagura-cache-tar-'));
    try {
      const { execFileSync } = await import('node:child_process');
      execFileSync('sh', ['-c', 'mkdir pkg && echo inner > pkg/inner.txt && tar -czf pkg.tgz pkg'], { cwd: src });
      const tgz = readFileSync(path.join(src, 'pkg.tgz'));
      files.routes.set('/pkg.tgz', (_req, res) => res.end(tgz));
      const tarUri = `${files.url}/pkg.tgz`;
      const x1 = await run('cat pkg/inner.txt', [{ value: tarUri, cache: true }]);
      const x2 = await run('cat pkg/inner.txt', [{ value: tarUri, cache: true }]);
      assert.equal(x1.stdout, 'inner\n');
      assert.equal(x2.stdout, 'inner\n');
      assert.equal(files.count('/pkg.tgz'), 1);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  it('sends the agent secret to the master origin only, redirects included', async () => {
    const seenByMaster: Array<{ path: string; authorization: string | undefined }> = [];
    master.onHttp = (req, res) => {
      seenByMaster.push({ path: req.url ?? '', authorization: req.headers.authorization });
      if (req.headers.authorization !== `Bearer ${SECRET}`) return void res.writeHead(401).end();
      if (req.url === '/artifacts/app.txt') res.end('from-master\n');
      else if (req.url === '/artifacts/cached.txt') res.end('cached-from-master\n');
      else if (req.url === '/artifacts/elsewhere') res.writeHead(302, { Location: `${files.url}/mirror.txt` }).end();
      else res.writeHead(404).end();
    };
    files.serve('/mirror.txt', 'mirror\n');
    files.serve('/other.txt', 'other\n');
    files.routes.set('/to-master', (_req, res) => res.writeHead(302, { Location: `${master.url}/artifacts/app.txt` }).end());
    try {
      const r = await run('cat app.txt cached.txt mirror.txt other.txt back.txt', [
        { value: `${master.url}/artifacts/app.txt` },
        { value: `${master.url}/artifacts/cached.txt`, cache: true },
        { value: `${master.url}/artifacts/elsewhere`, outputFile: 'mirror.txt' },
        { value: `${files.url}/other.txt` },
        { value: `${files.url}/to-master`, outputFile: 'back.txt' },
      ]);
      assert.equal(r.state, 'TASK_FINISHED', r.message);
      assert.equal(r.stdout, 'from-master\ncached-from-master\nmirror\nother\nfrom-master\n');
      assert.deepEqual(
        seenByMaster.map((s) => [s.path, s.authorization]),
        [
          ['/artifacts/app.txt', `Bearer ${SECRET}`],
          ['/artifacts/cached.txt', `Bearer ${SECRET}`],
          ['/artifacts/elsewhere', `Bearer ${SECRET}`],
          ['/artifacts/app.txt', `Bearer ${SECRET}`],
        ],
      );
      const other = files.auth.filter((a) => ['/mirror.txt', '/other.txt', '/to-master'].includes(a.path));
      assert.equal(other.length, 3);
      assert.deepEqual(other.filter((a) => a.authorization !== undefined), [], 'no other origin ever sees the secret');
      assert.ok(!files.auth.some((a) => a.authorization?.includes(SECRET)));
    } finally {
      master.onHttp = undefined;
    }
  });
});

describe('agent fetch cache eviction', () => {
  it('evicts the least recently used entries beyond fetchCacheMaxBytes; an entry bigger than the cap does not stay', async () => {
    const master = await new FakeMaster(SECRET).listen();
    const files = await new ArtifactServer().listen();
    const env = makeAgentEnv('fevict');
    let agent: Agent | undefined;
    try {
      agent = await startAgent(master, env, { fetchCacheMaxBytes: 1000 });
      for (const name of ['a', 'b', 'c']) files.serve(`/${name}.bin`, name.repeat(400));
      files.serve('/huge.bin', 'h'.repeat(1200));
      let n = 0;
      const fetchOnce = async (name: string): Promise<void> => {
        const taskId = `e${++n}`;
        const spec = launchSpec(taskId, `test -s ${name}.bin`);
        spec.command.uris = [{ value: `${files.url}/${name}.bin`, cache: true }];
        const from = master.messages.length;
        master.send({ type: 'launch', task: spec });
        await master.waitForStatus(taskId, 'TASK_FINISHED', from);
      };
      const cached = () => new Set(readdirSync(path.join(env.workDir, 'cache')));
      const key = (name: string) => sha(`${files.url}/${name}.bin`);

      await fetchOnce('a');
      await fetchOnce('b');
      await fetchOnce('a'); // a is now more recently used than b
      assert.equal(files.count('/a.bin'), 1);
      await fetchOnce('c'); // 1200 bytes > 1000: the least recently used (b) goes
      assert.deepEqual(cached(), new Set([key('a'), key('c')]));
      await fetchOnce('a');
      assert.equal(files.count('/a.bin'), 1, 'a survived');
      await fetchOnce('b');
      assert.equal(files.count('/b.bin'), 2, 'b was evicted and downloaded again');
      assert.deepEqual(cached(), new Set([key('a'), key('b')]), 'c was the least recently used');

      await fetchOnce('huge');
      await fetchOnce('huge');
      assert.equal(files.count('/huge.bin'), 2, 'bigger than the whole cache: never kept');
      assert.deepEqual(cached(), new Set([key('a'), key('b')]), 'and it pushed nothing else out');
    } finally {
      await shutdownAgent(agent);
      await master.close();
      await files.close();
      await env.cleanup();
    }
  });

  it('shares one download between concurrent fetches; one of them giving up does not fail the other', async () => {
    const files = await new ArtifactServer().listen();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'yagura-cache-unit-'));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    files.routes.set('/slow.txt', (_req, res) => {
      res.write('slow-');
      void released.then(() => res.end('body\n'));
    });
    try {
      const cache = new FetchCache(path.join(dir, 'cache'), 1 << 20);
      await cache.init();
      const uri = `${files.url}/slow.txt`;
      const sandboxes = ['s1', 's2'].map((s) => path.join(dir, s));
      const quitter = new AbortController();
      const opts = (sandbox: string, signal: AbortSignal) => ({ sandbox, user: null, timeoutMs: 30_000, signal, cache });
      const first = cache.fetchInto(new URL(uri), uri, path.join(sandboxes[0]!, 'slow.txt'), opts(sandboxes[0]!, quitter.signal));
      const second = cache.fetchInto(new URL(uri), uri, path.join(sandboxes[1]!, 'slow.txt'), opts(sandboxes[1]!, new AbortController().signal));
      for (let i = 0; cache.waiters(uri) < 2; i++) {
        assert.ok(i < 600, 'both fetches wait for the download');
        await delay(10);
      }
      quitter.abort();
      await assert.rejects(first, /aborted/);
      release();
      await second;
      assert.equal(readFileSync(path.join(sandboxes[1]!, 'slow.txt'), 'utf8'), 'slow-body\n');
      assert.equal(files.count('/slow.txt'), 1);
      assert.deepEqual(await cache.keys(), [sha(uri)]);
    } finally {
      release();
      await files.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
