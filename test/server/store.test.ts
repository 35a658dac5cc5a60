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
