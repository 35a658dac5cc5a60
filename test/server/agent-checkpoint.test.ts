// The agent's checkpoints: group-committed into a journal (meta/journal.<n>) before a save
// resolves, task.json rewritten for readers; recovery takes the newer of the two per task, so a
// task.json lost or left behind by a machine crash costs nothing that was acknowledged.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { appendFileSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { Agent } from '../../server/agent/agent.js';
import { CheckpointStore, layoutOf, type TaskCheckpoint } from '../../server/agent/checkpoint.js';
import { FakeMaster, launchSpec, makeAgentEnv, shutdownAgent } from './fixtures/agent-fake-master.js';

const quiet = (): void => undefined;

function checkpoint(id: string, state: TaskCheckpoint['state'], extra: Partial<TaskCheckpoint> = {}): TaskCheckpoint {
  return { spec: launchSpec(id, 'sleep 30'), user: null, state, killRequested: false, pending: [], done: false, createdAt: Date.now(), ...extra };
}

function journalLines(workDir: string): Array<{ id: string; cp: TaskCheckpoint }> {
  const meta = path.join(workDir, 'meta');
  return readdirSync(meta)
    .filter((n) => /^journal\.\d+$/.test(n))
    .flatMap((n) => readFileSync(path.join(meta, n), 'utf8').split('\n').filter(Boolean))
    .map((l) => JSON.parse(l) as { id: string; cp: TaskCheckpoint });
}

const view = (workDir: string, id: string): TaskCheckpoint =>
  JSON.parse(readFileSync(path.join(workDir, 'meta', 'tasks', id, 'task.json'), 'utf8')) as TaskCheckpoint;

describe('agent checkpoint journal', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function openStore(workDir: string): Promise<{ store: CheckpointStore; recovered: Map<string, TaskCheckpoint> }> {
    const store = new CheckpointStore(layoutOf(workDir), quiet);
    cleanups.push(() => store.close());
    const { checkpoints } = await store.recover();
    return { store, recovered: checkpoints };
  }

  function tempWorkDir(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'yagura-checkpoint-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    for (const id of ['a', 'b']) makeDir(dir, id);
    return dir;
  }

  function makeDir(workDir: string, id: string): void {
    mkdirSync(path.join(layoutOf(workDir).tasksMetaDir, id), { recursive: true });
  }

  it('journals a durable save before it resolves and rewrites task.json; one write for saves made together', async () => {
    const dir = tempWorkDir();
    const { store } = await openStore(dir);
    const a = checkpoint('a', 'TASK_STARTING', { pid: 4242 });
    const b = checkpoint('b', 'TASK_STARTING', { pid: 4343 });
    await Promise.all([store.save('a', a), store.save('b', b)]);
    const lines = journalLines(dir);
    assert.deepEqual(lines.map((l) => [l.id, l.cp.pid]).sort(), [['a', 4242], ['b', 4343]]);
    assert.equal(view(dir, 'a').pid, 4242);
    assert.equal(view(dir, 'a').rev, a.rev);
    assert.ok((a.rev ?? 0) > 0 && a.rev !== b.rev, 'every write has its own rev');

    // not durable: task.json only
    a.pending = [];
    a.state = 'TASK_RUNNING';
    await store.save('a', a, false);
    assert.equal(journalLines(dir).length, 2, 'a non-durable save is not journaled');
    assert.equal(view(dir, 'a').state, 'TASK_RUNNING');
  });

  it('recovers from the journal where task.json is older or missing, and from task.json where it is newer', async () => {
    const dir = tempWorkDir();
    const first = await openStore(dir);
    const a = checkpoint('a', 'TASK_STARTING', { pid: 11 });
    const b = checkpoint('b', 'TASK_RUNNING', { pid: 22 });
    await Promise.all([first.store.save('a', a), first.store.save('b', b)]);
    await first.store.close();

    // the machine crashed: a's task.json went back to an earlier state, b's is gone with its directory
    writeFileSync(path.join(dir, 'meta', 'tasks', 'a', 'task.json'), JSON.stringify({ ...a, rev: 0, state: 'TASK_STAGING', pid: undefined }));
    rmSync(path.join(dir, 'meta', 'tasks', 'b'), { recursive: true });
    const second = await openStore(dir);
    assert.equal(second.recovered.get('a')?.state, 'TASK_STARTING');
    assert.equal(second.recovered.get('a')?.pid, 11);
    assert.equal(second.recovered.get('b')?.pid, 22, 'a task whose task.json was lost comes back from the journal');
    assert.equal(view(dir, 'a').pid, 11, 'task.json is put right');
    assert.equal(view(dir, 'b').pid, 22);

    // a later, non-durable write (an acknowledgement) is newer than the journal: it wins
    const a2 = second.recovered.get('a')!;
    a2.state = 'TASK_RUNNING';
    await second.store.save('a', a2, false);
    await second.store.close();
    const third = await openStore(dir);
    assert.equal(third.recovered.get('a')?.state, 'TASK_RUNNING');
  });

  it('rewrites task.json in place while old and new fit in a page (no new inode), padded to the old length', async () => {
    const dir = tempWorkDir();
    const { store } = await openStore(dir);
    const file = path.join(dir, 'meta', 'tasks', 'a', 'task.json');
    const a = checkpoint('a', 'TASK_STARTING', { pid: 11, spec: launchSpec('a', 'sleep 30', { env: { NOTE: 'x'.repeat(800) } }) });
    await store.save('a', a);
    const first = statSync(file);

    // smaller: the same file, the tail blank, and it reads as the new checkpoint
    a.spec = launchSpec('a', 'sleep 30');
    a.state = 'TASK_RUNNING';
    await store.save('a', a, false);
    const second = statSync(file);
    assert.equal(second.ino, first.ino, 'rewritten in place');
    assert.equal(second.size, first.size);
    assert.match(readFileSync(file, 'utf8'), / +$/);
    assert.equal(view(dir, 'a').state, 'TASK_RUNNING');
    assert.equal(view(dir, 'a').spec.command.env.NOTE, undefined);

    // more than a page (a killed agent could leave it half written): a new file renamed over it
    a.spec = launchSpec('a', 'sleep 30', { env: { NOTE: 'y'.repeat(5000) } });
    await store.save('a', a);
    assert.notEqual(statSync(file).ino, first.ino);
    assert.equal(view(dir, 'a').spec.command.env.NOTE, 'y'.repeat(5000));
    assert.deepEqual(readdirSync(path.dirname(file)), ['task.json'], 'no temp file left');
  });

  it('replaces a task.json it did not make (a hard link, a symlink) instead of writing into it', async () => {
    const dir = tempWorkDir();
    const { store } = await openStore(dir);
    const outside = path.join(dir, 'outside.json');
    writeFileSync(outside, '{"mine":true}');
    linkSync(outside, path.join(dir, 'meta', 'tasks', 'a', 'task.json'));
    symlinkSync(outside, path.join(dir, 'meta', 'tasks', 'b', 'task.json'));
    await Promise.all([store.save('a', checkpoint('a', 'TASK_RUNNING', { pid: 11 })), store.save('b', checkpoint('b', 'TASK_RUNNING', { pid: 22 }))]);
    assert.equal(readFileSync(outside, 'utf8'), '{"mine":true}');
    assert.equal(view(dir, 'a').pid, 11);
    assert.equal(view(dir, 'b').pid, 22);
    assert.ok(lstatSync(path.join(dir, 'meta', 'tasks', 'b', 'task.json')).isFile());
  });

  it('ignores a torn last journal line', async () => {
    const dir = tempWorkDir();
    const first = await openStore(dir);
    await first.store.save('a', checkpoint('a', 'TASK_RUNNING', { pid: 7 }));
    await first.store.close();
    const journal = readdirSync(path.join(dir, 'meta')).find((n) => n.startsWith('journal.'))!;
    appendFileSync(path.join(dir, 'meta', journal), '{"id":"a","cp":{"spec":');
    const second = await openStore(dir);
    assert.equal(second.recovered.get('a')?.pid, 7);
  });

  it('compaction keeps only tasks that are not done, so a collected task never comes back', async () => {
    const dir = tempWorkDir();
    const { store } = await openStore(dir);
    const a = checkpoint('a', 'TASK_RUNNING', { pid: 1 });
    const b = checkpoint('b', 'TASK_FINISHED', { pid: 2 });
    await Promise.all([store.save('a', a), store.save('b', b)]);
    b.done = true;
    await store.save('b', b);
    await store.compact();
    assert.deepEqual(journalLines(dir).map((l) => l.id), ['a'], 'only the live task is left in the journal');
    assert.equal(readdirSync(path.join(dir, 'meta')).filter((n) => n.startsWith('journal.')).length, 1, 'older generations are removed');
    await store.close();

    rmSync(path.join(dir, 'meta', 'tasks', 'b'), { recursive: true }); // what the sandbox GC does
    const again = await openStore(dir);
    assert.equal(again.recovered.has('b'), false);
    assert.equal(again.recovered.get('a')?.pid, 1);
  });

  it('an agent adopts its running task from the journal when task.json was lost', async () => {
    const master = await new FakeMaster('journal-secret').listen();
    const env = makeAgentEnv('journal');
    cleanups.push(() => env.cleanup(), () => master.close());
    const opts = { masterUrl: master.url, secret: 'journal-secret', workDir: env.workDir, hostname: env.hostname, logger: quiet };
    const agent = new Agent(opts);
    cleanups.push(() => shutdownAgent(agent));
    await agent.start();
    await master.waitForRegister();
    master.send({ type: 'launch', task: launchSpec('kept', 'sleep 30') });
    await master.waitForStatus('kept', 'TASK_RUNNING');
    const { pid } = view(env.workDir, 'kept');
    await agent.stop(); // the task goes on, as across a restart

    rmSync(path.join(env.workDir, 'meta', 'tasks', 'kept', 'task.json'));
    const mark = master.messages.length;
    const again = new Agent(opts);
    cleanups.push(() => shutdownAgent(again));
    const registered = once(again, 'registered');
    await again.start();
    await registered;
    const reg = await master.waitForRegister(mark);
    assert.deepEqual(reg.tasks.map((t) => [t.taskId, t.state]), [['kept', 'TASK_RUNNING']]);
    assert.equal(view(env.workDir, 'kept').pid, pid, 'same process, not relaunched');
    master.send({ type: 'kill', taskId: 'kept' });
    await master.waitForStatus('kept', 'TASK_KILLED', mark);
  });
});
