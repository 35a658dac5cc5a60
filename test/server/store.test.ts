// The SQLite store: a status write stores only the fields that change while a task lives, and a
// reload gives back exactly the record as last written (cleared fields stay cleared); databases
// made before that (schema 2) open and keep their tasks.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../server/store/sqlite.js';
import type { TaskRecord } from '../../server/store/store.js';

const dir = mkdtempSync(join(tmpdir(), 'yagura-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `s${++n}.db`);

function task(id: string, over: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id,
    name: 'web',
    frameworkId: 'fw-1',
    agentId: 'agent-1',
    state: 'TASK_STAGING',
    resources: { cpus: 0.5, mem: 64, disk: 0, ports: [[31000, 31000]] },
    command: { value: 'sleep 100', shell: true, env: { A: 'b' }, uris: [] },
    labels: { tier: 'web' },
    createdAt: 1000,
    updatedAt: 1000,
    ...over,
  };
}

describe('SqliteStore task writes', () => {
  it('a status write changes only the status fields, and a reload gives the latest record', () => {
    const f = file();
    let s = new SqliteStore(f);
    // t2's whole record has a message; its status write clears it
    s.write({ tasks: [task('t1'), task('t2', { message: 'queued' })] });
    const running = task('t1', { state: 'TASK_RUNNING', statusUuid: 'u1', updatedAt: 2000, startedAt: 2000, message: 'up', pendingAck: 'u1' });
    s.write({ taskStatus: [running] });
    const killed = task('t2', { state: 'TASK_KILLING', killRequested: true, killGracePeriodMs: 500, updatedAt: 3000 });
    s.write({ taskStatus: [killed] });
    // a later update clears what the earlier one set (message, pendingAck)
    const finished = task('t1', { state: 'TASK_FINISHED', statusUuid: 'u2', updatedAt: 4000, startedAt: 2000, endedAt: 4000, exitCode: 0 });
    s.write({ taskStatus: [finished] });
    s.close();

    s = new SqliteStore(f);
    const byId = new Map(s.load().tasks.map((t) => [t.id, t]));
    s.close();
    assert.deepEqual(byId.get('t1'), finished);
    assert.deepEqual(byId.get('t2'), killed);
  });

  it('a status write of a task never written in full stores the whole record', () => {
    const f = file();
    let s = new SqliteStore(f);
    const t = task('lonely', { state: 'TASK_RUNNING', statusUuid: 'u1' });
    s.write({ taskStatus: [t] });
    s.close();
    s = new SqliteStore(f);
    assert.deepEqual(s.load().tasks, [t]);
    s.close();
  });

  it('a whole write after status writes replaces them', () => {
    const f = file();
    let s = new SqliteStore(f);
    s.write({ tasks: [task('t1')] });
    s.write({ taskStatus: [task('t1', { state: 'TASK_RUNNING', message: 'old' })] });
    const whole = task('t1', { state: 'TASK_RUNNING', labels: { tier: 'db' } });
    s.write({ tasks: [whole] });
    s.close();
    s = new SqliteStore(f);
    assert.deepEqual(s.load().tasks, [whole]);
    s.close();
  });

  it('writeAsync commits on its own thread, in order, the same as write', async () => {
    const f = file();
    let s = new SqliteStore(f);
    const done: number[] = [];
    const writes = [
      s.writeAsync({ tasks: [task('t1'), task('t2', { message: 'queued' })], agents: [{ id: 'a1', hostname: 'h', state: 'ACTIVE', resources: { cpus: 1, mem: 1, disk: 0, ports: [] }, allocated: { cpus: 0, mem: 0, disk: 0, ports: [] }, attributes: {}, isolators: [], version: 'v', registeredAt: 1, lastSeenAt: 1 }] }).then(() => done.push(1)),
      s.writeAsync({ taskStatus: [task('t1', { state: 'TASK_RUNNING', statusUuid: 'u1' })], docs: [{ collection: 'c', id: 'd1', data: { x: 1 } }], meta: { k: 'v' } }).then(() => done.push(2)),
      // a status write of a task never written in full: the whole record after all
      s.writeAsync({ taskStatus: [task('t3', { state: 'TASK_RUNNING' })], docs: [{ collection: 'c', id: 'd1', data: null }], deleteTasks: ['t2'] }).then(() => done.push(3)),
    ];
    await Promise.all(writes);
    assert.deepEqual(done, [1, 2, 3], 'each resolves after its commit, in order');
    // committed, so the main connection sees it at once
    assert.equal(s.getDoc('c', 'd1'), undefined);
    assert.equal(s.getMeta('k'), 'v');
    s.close();
    s = new SqliteStore(f);
    const byId = new Map(s.load().tasks.map((t) => [t.id, t]));
    assert.deepEqual([...byId.keys()].sort(), ['t1', 't3']);
    assert.deepEqual(byId.get('t1'), task('t1', { state: 'TASK_RUNNING', statusUuid: 'u1' }));
    assert.deepEqual(byId.get('t3'), task('t3', { state: 'TASK_RUNNING' }));
    assert.equal(s.load().agents[0]?.id, 'a1');
    s.close();
  });

  it('writeAsync rejects what its thread could not commit', async () => {
    const s = new SqliteStore(file());
    // a record JSON cannot hold
    const bad = task('t1') as TaskRecord & { self?: unknown };
    bad.self = bad;
    assert.throws(() => s.write({ tasks: [bad] }), /circular/i);
    await assert.rejects(s.writeAsync({ tasks: [bad] }), /circular/i);
    // and what the database refuses (meta values are NOT NULL)
    await assert.rejects(s.writeAsync({ tasks: [task('t3')], meta: { k: null as unknown as string } }), /NOT NULL/);
    // the thread is still there for the next one, and the refused batch left nothing behind
    await s.writeAsync({ tasks: [task('t2')] });
    assert.equal(s.load().tasks.length, 1);
    s.close();
  });

  it('opens a schema 3 database (status beside the record) and keeps its tasks', () => {
    const f = file();
    const old = new Database(f);
    old.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE tokens (hash TEXT PRIMARY KEY, role TEXT NOT NULL, name TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE agents (id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE frameworks (id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE tasks (id TEXT PRIMARY KEY, framework_id TEXT NOT NULL, agent_id TEXT NOT NULL, state TEXT NOT NULL, data TEXT NOT NULL, status TEXT);
      CREATE TABLE docs (collection TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (collection, id));
      INSERT INTO schema_migrations VALUES (1, 0), (2, 0), (3, 0);`);
    const whole = task('t1', { message: 'staged' });
    const now = task('t1', { state: 'TASK_RUNNING', statusUuid: 'u9', startedAt: 5 });
    const plain = task('t2');
    const ins = old.prepare('INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?)');
    ins.run(whole.id, whole.frameworkId, whole.agentId, now.state, JSON.stringify(whole), JSON.stringify({ state: now.state, statusUuid: 'u9', updatedAt: now.updatedAt, startedAt: 5 }));
    ins.run(plain.id, plain.frameworkId, plain.agentId, plain.state, JSON.stringify(plain), null);
    old.close();

    const s = new SqliteStore(f);
    const byId = new Map(s.load().tasks.map((t) => [t.id, t]));
    assert.deepEqual(byId.get('t1'), now);
    assert.deepEqual(byId.get('t2'), plain);
    const next = task('t2', { state: 'TASK_FAILED', exitCode: 1 });
    s.write({ taskStatus: [next] });
    assert.deepEqual(s.load().tasks.find((t) => t.id === 't2'), next);
    assert.equal(s.integrityCheck(), 'ok');
    s.close();
  });

  it('opens a schema 2 database and keeps its tasks', () => {
    const f = file();
    const old = new Database(f);
    old.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE tokens (hash TEXT PRIMARY KEY, role TEXT NOT NULL, name TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE agents (id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE frameworks (id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE tasks (id TEXT PRIMARY KEY, framework_id TEXT NOT NULL, agent_id TEXT NOT NULL, state TEXT NOT NULL, data TEXT NOT NULL);
      CREATE INDEX tasks_by_framework ON tasks(framework_id);
      CREATE INDEX tasks_by_agent ON tasks(agent_id);
      CREATE TABLE docs (collection TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (collection, id));
      INSERT INTO schema_migrations VALUES (1, 0), (2, 0);`);
    const t = task('t1', { state: 'TASK_RUNNING', message: 'from before' });
    old.prepare('INSERT INTO tasks VALUES (?, ?, ?, ?, ?)').run(t.id, t.frameworkId, t.agentId, t.state, JSON.stringify(t));
    old.close();

    let s = new SqliteStore(f);
    assert.deepEqual(s.load().tasks, [t]);
    const next = task('t1', { state: 'TASK_KILLED', endedAt: 9 });
    s.write({ taskStatus: [next] });
    assert.equal(s.integrityCheck(), 'ok');
    s.close();
    s = new SqliteStore(f);
    assert.deepEqual(s.load().tasks, [next]);
    s.close();
  });
});
