// Sandbox file access for the master's /files API: browse, read (offsets, negative offsets,
// caps), download, refusal of anything that leaves the sandbox, and live tails.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { appendFileSync, closeSync, openSync, ftruncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentToMaster, FilesOp } from '../../protocol/types.js';
import { Agent } from '../../server/agent/agent.js';
import { utf8CompleteLength } from '../../server/agent/files.js';
import { FakeMaster, launchSpec, makeAgentEnv, type AgentTestEnv, shutdownAgent } from './fixtures/agent-fake-master.js';

const SECRET = 'files-secret';
type Reply = Extract<AgentToMaster, { type: 'files.reply' }>;
type Chunk = Extract<AgentToMaster, { type: 'files.chunk' }>;

describe('agent files', () => {
  let master: FakeMaster;
  let env: AgentTestEnv;
  let agent: Agent;
  let sandbox: string;
  let n = 0;

  async function request(op: FilesOp, p: string, extra: { offset?: number; length?: number; taskId?: string } = {}): Promise<Reply> {
    const reqId = `r${++n}`;
    master.send({ type: 'files.request', reqId, op, taskId: extra.taskId ?? 'files', path: p, ...extra });
    return master.waitFor<Reply>((m) => m.type === 'files.reply' && m.reqId === reqId, 0, 30_000, `reply ${reqId}`);
  }

  function text(r: Reply): string {
    assert.ok(r.ok, JSON.stringify(r));
    return Buffer.from(r.data!, 'base64').toString('utf8');
  }

  function status(r: Reply): number {
    assert.equal(r.ok, false, JSON.stringify(r));
    return (r as Extract<Reply, { ok: false }>).status;
  }

  before(async () => {
    master = await new FakeMaster(SECRET).listen();
    env = makeAgentEnv('files');
    agent = new Agent({ masterUrl: master.url, secret: SECRET, workDir: env.workDir, hostname: env.hostname, logger: () => undefined });
    const registered = once(agent, 'registered');
    await agent.start();
    await registered;
    master.send({
      type: 'launch',
      task: launchSpec(
        'files',
        "printf 'hello world\\n' > a.txt; mkdir sub; echo inner > sub/b.txt; ln -s /etc/passwd evil; ln -s a.txt good; ln -s .. up; ln -s /etc etcdir; echo first > log.txt; echo ready; sleep 30",
      ),
    });
    await master.waitForStatus('files', 'TASK_RUNNING');
    sandbox = path.join(env.workDir, 'sandboxes', 'files');
    // The task prints "ready" once it has made its files.
    for (let i = 0; i < 600 && text(await request('read', 'stdout')) !== 'ready\n'; i++) await new Promise((r) => setTimeout(r, 25));
  });

  after(async () => {
    await shutdownAgent(agent);
    await master?.close();
    await env?.cleanup();
  });

  it('browses the sandbox root and sub directories', async () => {
    const root = await request('browse', '');
    assert.ok(root.ok);
    const byPath = new Map(root.entries!.map((e) => [e.path, e]));
    for (const p of ['a.txt', 'sub', 'stdout', 'stderr', 'evil', 'good', 'log.txt']) assert.ok(byPath.has(p), `lists ${p}`);
    assert.equal(byPath.get('a.txt')!.size, 12);
    assert.equal(byPath.get('a.txt')!.isDir, false);
    assert.match(byPath.get('a.txt')!.mode, /^-rw/);
    assert.equal(byPath.get('sub')!.isDir, true);
    assert.match(byPath.get('sub')!.mode, /^d/);
    assert.match(byPath.get('evil')!.mode, /^l/);
    assert.ok(byPath.get('a.txt')!.mtime > 1e12, 'mtime in ms');
    const slash = await request('browse', '/');
    assert.deepEqual(slash.ok && slash.entries!.map((e) => e.path).sort(), root.entries!.map((e) => e.path).sort());
    const sub = await request('browse', 'sub');
    assert.deepEqual(sub.ok && sub.entries!.map((e) => e.path), ['sub/b.txt']);
  });

  it('reads whole files, ranges and from the end', async () => {
    const all = await request('read', 'a.txt');
    assert.equal(text(all), 'hello world\n');
    assert.ok(all.ok);
    assert.equal(all.size, 12);
    assert.equal(all.offset, 0);
    assert.equal(all.eof, true);

    const mid = await request('read', 'a.txt', { offset: 6, length: 5 });
    assert.equal(text(mid), 'world');
    assert.ok(mid.ok);
    assert.equal(mid.eof, false);

    const tailEnd = await request('read', 'a.txt', { offset: -6 });
    assert.equal(text(tailEnd), 'world\n');
    assert.ok(tailEnd.ok);
    assert.equal(tailEnd.offset, 6);
    assert.equal(tailEnd.eof, true);

    const past = await request('read', 'a.txt', { offset: 100 });
    assert.equal(text(past), '');
    assert.ok(past.ok && past.eof);

    assert.equal(text(await request('read', 'good')), 'hello world\n', 'a symlink inside the sandbox is fine');
    assert.equal(text(await request('download', 'sub/b.txt')), 'inner\n');
  });

  it('refuses paths that leave the sandbox with 400 and missing ones with 404', async () => {
    assert.equal(status(await request('read', '../../meta/agent.json')), 400);
    assert.equal(status(await request('read', 'sub/../../files/a.txt')), 400);
    assert.equal(status(await request('read', '/etc/passwd')), 400);
    assert.equal(status(await request('read', 'evil')), 400, 'symlink to an outside file');
    assert.equal(status(await request('download', 'evil')), 400);
    assert.equal(status(await request('browse', 'up')), 400, 'symlink to the parent directory');
    assert.equal(text(await request('read', 'up/files/a.txt')), 'hello world\n', 'judged by where it really leads');
    assert.equal(status(await request('read', 'up/../files/a.txt')), 400);
    assert.equal(status(await request('browse', 'etcdir')), 400);
    assert.equal(status(await request('read', 'etcdir/passwd')), 400);
    assert.equal(status(await request('read', 'sub')), 400, 'a directory is not readable');
    assert.equal(status(await request('read', 'nope.txt')), 404);
    assert.equal(status(await request('browse', 'nope')), 404);
    assert.equal(status(await request('read', 'a.txt', { taskId: 'no-such-task' })), 404);
    assert.equal(status(await request('read', 'a.txt', { taskId: '../files' })), 404);
  });

  it('caps reads at 1 MiB and refuses downloads over 8 MiB', async () => {
    const big = path.join(sandbox, 'big.bin');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 9 * 1024 * 1024);
    closeSync(fd);
    const r = await request('read', 'big.bin', { length: 2 * 1024 * 1024 });
    assert.ok(r.ok);
    assert.equal(Buffer.from(r.data!, 'base64').length, 1024 * 1024);
    assert.equal(r.eof, false);
    const d = await request('download', 'big.bin');
    assert.equal(status(d), 400);
    assert.ok(!d.ok && d.message === 'too large, use read with offset');
  });

  it('tails a file: the backlog from the offset, then what is appended, until untail', async () => {
    const chunks: Chunk[] = [];
    const from = master.messages.length;
    master.send({ type: 'files.tail', streamId: 's1', taskId: 'files', path: 'log.txt', offset: 0 });
    chunks.push(await master.waitFor<Chunk>((m) => m.type === 'files.chunk' && m.streamId === 's1', from, 30_000, 'backlog'));
    assert.equal(chunks[0]!.data, 'first\n');
    assert.equal(chunks[0]!.offset, 0);
    appendFileSync(path.join(sandbox, 'log.txt'), 'second\n');
    const next = await master.waitFor<Chunk>((m) => m.type === 'files.chunk' && m.streamId === 's1' && m.offset > 0, from, 30_000, 'appended');
    assert.equal(next.data, 'second\n');
    assert.equal(next.offset, 6);
    master.send({ type: 'files.untail', streamId: 's1' });

    const from2 = master.messages.length;
    master.send({ type: 'files.tail', streamId: 's2', taskId: 'files', path: 'log.txt', offset: -7 });
    const last = await master.waitFor<Chunk>((m) => m.type === 'files.chunk' && m.streamId === 's2', from2, 30_000, 'negative offset');
    assert.equal(last.data, 'second\n');
    master.send({ type: 'files.untail', streamId: 's2' });
  });

  it('starts a tail without offset at the last 64 KiB', async () => {
    writeFileSync(path.join(sandbox, 'long.log'), 'x'.repeat(100 * 1024));
    const from = master.messages.length;
    master.send({ type: 'files.tail', streamId: 's3', taskId: 'files', path: 'long.log' });
    const first = await master.waitFor<Chunk>((m) => m.type === 'files.chunk' && m.streamId === 's3', from, 30_000, 'backlog');
    assert.equal(first.offset, 100 * 1024 - 64 * 1024);
    master.send({ type: 'files.untail', streamId: 's3' });
  });

  it('ends a tail of a missing or escaping path with a message', async () => {
    const from = master.messages.length;
    master.send({ type: 'files.tail', streamId: 's4', taskId: 'files', path: 'nope.log' });
    master.send({ type: 'files.tail', streamId: 's5', taskId: 'files', path: 'evil' });
    const end4 = await master.waitFor<Extract<AgentToMaster, { type: 'files.end' }>>((m) => m.type === 'files.end' && m.streamId === 's4', from);
    const end5 = await master.waitFor<Extract<AgentToMaster, { type: 'files.end' }>>((m) => m.type === 'files.end' && m.streamId === 's5', from);
    assert.equal(end4.message, 'not found');
    assert.equal(end5.message, 'path escapes the sandbox');
  });

  it('never cuts a UTF-8 character in a tail chunk', () => {
    const euro = Buffer.from('a€', 'utf8'); // 61 e2 82 ac
    assert.equal(utf8CompleteLength(euro), 4);
    assert.equal(utf8CompleteLength(euro.subarray(0, 3)), 1);
    assert.equal(utf8CompleteLength(euro.subarray(0, 2)), 1);
    assert.equal(utf8CompleteLength(Buffer.from('plain')), 5);
  });
});
