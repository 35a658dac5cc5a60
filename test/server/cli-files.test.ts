// The CLI against a live master with a real agent, and a task's sandbox read through the master
// (HTTP read/browse/download and the WebSocket tail).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { Agent } from '../../server/agent/agent.js';
import { startMaster, waitFor, type TestMaster } from '../support/cluster.js';
import { shellCommand, subscribeScheduler, type RecordingScheduler } from '../support/scheduler.js';
import { ROOT } from '../support/processes.js';
import { yagura } from '../support/cli.js';



describe('CLI and sandbox files', { timeout: 120_000 }, () => {
  let m: TestMaster;
  let agent: Agent;
  let s: RecordingScheduler;
  let dir: string;
  let agentId: string;
  let common: string[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'yagura-cli-'));
    chmodSync(dir, 0o711); // tasks run as nobody
    m = await startMaster({ dataDir: join(dir, 'master'), master: { allocationIntervalMs: 50 } });
    agent = new Agent({ masterUrl: m.url, secret: m.agentSecret, workDir: join(dir, 'agent'), hostname: 'cli-node', attributes: { zone: 'z9' }, resources: { cpus: 2, mem: 1024, disk: 100, ports: [[31000, 31010]] }, logger: () => {} });
    await agent.start();
    agentId = await waitFor(() => m.master.listAgents()[0]?.id, 10_000, 'agent');
    s = await subscribeScheduler(m.master, 'cli-test');
    const offer = await waitFor(() => s.takeOffer(), 5000, 'offer');
    await m.master.accept(s.frameworkId, [offer.id], [
      { taskId: 'talker', name: 'talker', agentId, resources: { cpus: 0.1, mem: 32, disk: 0, ports: [] }, command: shellCommand('echo hello from the sandbox; echo oops >&2; sleep 0.5; echo second line; sleep 600'), labels: {} },
      { taskId: 'victim', name: 'victim', agentId, resources: { cpus: 0.1, mem: 32, disk: 0, ports: [] }, command: shellCommand('sleep 600'), labels: {} },
    ], 0);
    await waitFor(() => m.master.getTask('talker')?.state === 'TASK_RUNNING' && m.master.getTask('victim')?.state === 'TASK_RUNNING', 15_000, 'tasks running');
    common = ['--master', m.url, '--token', m.adminToken];
  });

  after(async () => {
    await agent.shutdown();
    await m.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads, browses and downloads a sandbox through the master', async () => {
    const h = { authorization: `Bearer ${m.adminToken}` };
    const read = await waitFor(async () => {
      const r = (await (await fetch(`${m.url}/files/tasks/talker/read?path=stdout`, { headers: h })).json()) as { data: string };
      return r.data.includes('second line') && r;
    }, 10_000, 'output');
    assert.match(read.data, /^hello from the sandbox\n/);
    const tailOnly = (await (await fetch(`${m.url}/files/tasks/talker/read?path=stdout&offset=-12`, { headers: h })).json()) as { data: string };
    assert.equal(tailOnly.data, 'second line\n');
    const entries = (await (await fetch(`${m.url}/files/tasks/talker/browse?path=`, { headers: h })).json()) as Array<{ path: string }>;
    assert.deepEqual(entries.map((e) => e.path.split('/').pop()).filter((n) => n === 'stdout' || n === 'stderr').sort(), ['stderr', 'stdout']);
    const dl = await fetch(`${m.url}/files/tasks/talker/download?path=stderr`, { headers: h });
    assert.equal(dl.status, 200);
    assert.equal(await dl.text(), 'oops\n');
    const escape = await fetch(`${m.url}/files/tasks/talker/read?path=../../meta/agent.json`, { headers: h });
    assert.equal(escape.status, 400);
    const missing = await fetch(`${m.url}/files/tasks/no-such-task/read?path=stdout`, { headers: h });
    assert.equal(missing.status, 404);
    const badOffset = await fetch(`${m.url}/files/tasks/talker/read?path=stdout&offset=abc`, { headers: h });
    assert.equal(badOffset.status, 400);
    const noToken = await fetch(`${m.url}/files/tasks/talker/read?path=stdout`);
    assert.equal(noToken.status, 401);
  });

  it('tails a sandbox file over a WebSocket', async () => {
    const ws = new WebSocket(`${m.url.replace('http', 'ws')}/files/tasks/talker/tail?path=stdout&offset=0`);
    let text = '';
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as { type: string; data?: string };
      if (msg.type === 'chunk') text += msg.data;
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'hello', token: m.adminToken }));
    await waitFor(() => text.includes('second line'), 10_000, 'tail output');
    assert.match(text, /hello from the sandbox/);
    ws.close();
  });

  it('lists nodes and tasks, and shows logs', async () => {
    const nodes = await yagura(['node', 'list', ...common]);
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.match(nodes.stdout, /HOSTNAME/);
    assert.match(nodes.stdout, new RegExp(`${agentId}\\s+cli-node\\s+ACTIVE`));
    assert.match(nodes.stdout, /zone:z9/);

    const tasks = await yagura(['task', 'list', '--state', 'TASK_RUNNING', ...common]);
    assert.equal(tasks.code, 0, tasks.stderr);
    assert.match(tasks.stdout, /talker\s+talker\s+TASK_RUNNING/);

    const json = await yagura(['task', 'list', '--json', ...common]);
    assert.deepEqual((JSON.parse(json.stdout) as Array<{ id: string }>).map((t) => t.id).sort(), ['talker', 'victim']);

    const logs = await yagura(['task', 'logs', 'talker', ...common]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /hello from the sandbox\nsecond line\n/);
    const errLogs = await yagura(['task', 'logs', 'talker', '--stderr', ...common]);
    assert.equal(errLogs.stdout, 'oops\n');
  });

  it('follows a task log with -f until interrupted', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server', 'main.ts'), 'task', 'logs', 'talker', '-f', ...common], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => out.includes('second line'), 20_000, 'followed output');
      assert.match(out, /hello from the sandbox/);
      assert.equal(child.exitCode, null, 'still following');
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('kills a task, drains and reactivates a node', async () => {
    const kill = await yagura(['task', 'kill', 'victim', '--grace', '1', ...common]);
    assert.equal(kill.code, 0, kill.stderr);
    await waitFor(() => m.master.getTask('victim')?.state === 'TASK_KILLED', 10_000, 'victim killed');

    const drain = await yagura(['node', 'drain', agentId, '--grace', '1', ...common]);
    assert.equal(drain.code, 0, drain.stderr);
    assert.match(drain.stdout, /DRAINING|DRAINED/);
    await waitFor(() => m.master.getAgent(agentId)?.state === 'DRAINED', 10_000, 'DRAINED');
    assert.equal(m.master.getTask('talker')?.state, 'TASK_KILLED');
    const re = await yagura(['node', 'reactivate', agentId, ...common]);
    assert.equal(re.code, 0, re.stderr);
    assert.equal(m.master.getAgent(agentId)?.state, 'ACTIVE');
  });

  it('reports errors on stderr with a non-zero exit, and has --help everywhere', async () => {
    const noToken = await yagura(['node', 'list', '--master', m.url, '--data-dir', join(dir, 'nowhere')]);
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /401/);
    assert.equal(noToken.stdout, '');
    const unknownTask = await yagura(['task', 'kill', 'nope', ...common]);
    assert.equal(unknownTask.code, 1);
    assert.match(unknownTask.stderr, /404: task nope not found/);
    const badOpt = await yagura(['node', 'list', '--bogus']);
    assert.equal(badOpt.code, 2);
    assert.match(badOpt.stderr, /unknown option --bogus/);
    const unreachable = await yagura(['node', 'list', '--master', 'http://127.0.0.1:9', '--token', 'x']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach the master/);
    for (const cmd of ['up', 'master', 'agent', 'node', 'task', 'token']) {
      const h = await yagura([cmd, '--help']);
      assert.equal(h.code, 0, `${cmd} --help`);
      assert.match(h.stdout, new RegExp(`usage: yagura ${cmd}`));
    }
    const agentNoSecret = await yagura(['agent', '--master', m.url]);
    assert.equal(agentNoSecret.code, 2);
    assert.match(agentNoSecret.stderr, /--secret/);
  });

  it('uses the data directory admin token by default', async () => {
    const r = await yagura(['token', 'create', '--role', 'viewer', '--name', 'from-cli', '--master', m.url, '--data-dir', join(dir, 'master')]);
    assert.equal(r.code, 0, r.stderr);
    const token = r.stdout.trim();
    const asViewer = await yagura(['task', 'kill', 'talker', '--master', m.url, '--token', token]);
    assert.equal(asViewer.code, 1);
    assert.match(asViewer.stderr, /403/);
  });
});
