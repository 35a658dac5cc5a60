// `yagura package …` against a live master: search, describe (--config, --render), install
// (confirmation, --yes, --options, --app-id), list, uninstall, repo add/list/remove; errors on
// stderr with a non-zero exit and nothing changed.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMaster, type TestMaster } from '../support/cluster.js';
import { yagura } from '../support/cli.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('yagura package', { timeout: 120_000 }, () => {
  let m: TestMaster;
  let dir: string;
  let common: string[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'yagura-pkg-cli-'));
    m = await startMaster();
    common = ['--master', m.url, '--token', m.adminToken];
  });
  after(async () => {
    await m.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('searches and describes packages', async () => {
    const all = await yagura(['package', 'search', ...common]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^NAME\s+VERSION\s+KIND/);
    assert.match(all.stdout, /hello-world/);
    const some = await yagura(['package', 'search', 'key-value', ...common, '--json']);
    const names = (JSON.parse(some.stdout) as { packages: Array<{ name: string }> }).packages.map((p) => p.name);
    assert.ok(names.includes('kv-store') && !names.includes('hello-world'), names.join(','));

    const d = await yagura(['package', 'describe', 'hello-world', ...common]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^hello-world 1\.1\.0 \(service\)/);
    assert.match(d.stdout, /versions: 1\.1\.0, 1\.0\.0/);
    const config = await yagura(['package', 'describe', 'hello-world', '--config', ...common]);
    assert.equal(JSON.parse(config.stdout).type, 'object');
    const opts = join(dir, 'opts.json');
    writeFileSync(opts, JSON.stringify({ service: { instances: 2 } }));
    const render = await yagura(['package', 'describe', 'hello-world', '--render', '--options', opts, '--app-id', '/x/hello', ...common]);
    const app = JSON.parse(render.stdout);
    assert.equal(app.id, '/x/hello');
    assert.equal(app.instances, 2);
    assert.equal(app.labels.DCOS_PACKAGE_NAME, 'hello-world');
  });

  it('installs only after confirmation, with --options and --app-id; lists and uninstalls', async () => {
    const opts = join(dir, 'zero.json');
    writeFileSync(opts, JSON.stringify({ service: { instances: 0 } }));
    const unconfirmed = await yagura(['package', 'install', 'hello-world', '--options', opts, ...common]);
    assert.notEqual(unconfirmed.code, 0);
    assert.match(unconfirmed.stderr, /--yes/);
    assert.equal(m.services.listApps().length, 0, 'nothing installed without confirmation');

    const ok = await yagura(['package', 'install', 'hello-world', '--yes', '--options', opts, '--app-id', '/cli/hello', ...common]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /installed hello-world 1\.1\.0 as service \/cli\/hello/);
    assert.match(ok.stdout, /\/service\//, 'prints the post-install notes');
    assert.equal(m.services.getApp('/cli/hello')?.def.instances, 0);

    const again = await yagura(['package', 'install', 'hello-world', '-y', '--options', opts, '--app-id', '/cli/hello', ...common]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /409: An app with id \[\/cli\/hello\] already exists/);

    const list = await yagura(['package', 'list', ...common]);
    assert.match(list.stdout, /hello-world\s+1\.1\.0\s+service\s+\/cli\/hello/);
    const gone = await yagura(['package', 'uninstall', 'hello-world', '--app-id', '/cli/hello', ...common]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.match(gone.stdout, /uninstalled hello-world \/cli\/hello/);
  });

  it('reports bad input on stderr with a non-zero exit', async () => {
    const unknown = await yagura(['package', 'describe', 'no-such-package', ...common]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /404: Package \[no-such-package\] not found/);
    const badOpts = join(dir, 'bad.json');
    writeFileSync(badOpts, JSON.stringify({ service: { cpus: 1000 } }));
    const invalid = await yagura(['package', 'install', 'hello-world', '--yes', '--options', badOpts, ...common]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /422: .*\n {2}\/service\/cpus: must be at most/);
    const usage = await yagura(['package', 'install', ...common]);
    assert.equal(usage.code, 2);
    assert.equal(m.services.listApps().length, 0);
  });

  it('adds, lists and removes a repository', async () => {
    const file = join(dir, 'repo.json');
    writeFileSync(
      file,
      JSON.stringify({
        packages: [{ packagingVersion: '4.0', name: 'cli-demo', version: '2.0.0', maintainer: 'a@b.c', description: 'demo', marathon: { v2AppMustacheTemplate: b64('{"id":"cli-demo","cmd":"sleep 1000"}') } }],
      }),
    );
    const add = await yagura(['package', 'repo', 'add', 'local', file, '--index', '0', ...common]);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /^NAME\s+URI/);
    assert.match(add.stdout, /local\s+\/\S+repo\.json\s+1\s/);
    const found = await yagura(['package', 'search', 'cli-demo', ...common]);
    assert.match(found.stdout, /cli-demo\s+2\.0\.0\s+service\s+local/);
    const bad = await yagura(['package', 'repo', 'add', 'nothing', join(dir, 'missing.json'), ...common]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /422: repository .*missing\.json could not be read: ENOENT/);
    const rm = await yagura(['package', 'repo', 'remove', 'local', ...common]);
    assert.equal(rm.code, 0);
    assert.doesNotMatch(rm.stdout, /local/);
    const list = await yagura(['package', 'repo', 'list', ...common]);
    assert.match(list.stdout, /Built-in\s+yagura:builtin/);
  });
});
