// SQLite store: WAL + synchronous=FULL, so a committed write survives kill -9 and power loss.
// Schema changes go through numbered migrations, applied in order inside one transaction each.

import { chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { TASK_STATUS_FIELDS, type AgentRecord, type FrameworkRecord, type Store, type StoreWrite, type TaskRecord, type TokenRecord } from './store.js';

const MIGRATIONS: string[] = [
  // 1: the initial schema
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE tokens (hash TEXT PRIMARY KEY, role TEXT NOT NULL, name TEXT NOT NULL, created_at INTEGER NOT NULL);
   CREATE TABLE agents (id TEXT PRIMARY KEY, data TEXT NOT NULL);
   CREATE TABLE frameworks (id TEXT PRIMARY KEY, data TEXT NOT NULL);
   CREATE TABLE tasks (id TEXT PRIMARY KEY, framework_id TEXT NOT NULL, agent_id TEXT NOT NULL, state TEXT NOT NULL, data TEXT NOT NULL);
   CREATE INDEX tasks_by_framework ON tasks(framework_id);
   CREATE INDEX tasks_by_agent ON tasks(agent_id);`,
  // 2: documents of the built-in frameworks (apps, app versions, deployments, jobs …)
  `CREATE TABLE docs (collection TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (collection, id));`,
  // 3: a status update writes only what it changed (`status`: TASK_STATUS_FIELDS as JSON, over
  // `data`); the indexes by framework and agent were never read (the master loads every task)
  // and only made each write update two more b-trees
  `ALTER TABLE tasks ADD COLUMN status TEXT;
   DROP INDEX IF EXISTS tasks_by_framework;
   DROP INDEX IF EXISTS tasks_by_agent;`,
  // 4: the status in a table of its own with small rows: a status write then dirties a page
  // shared with the statuses of tasks launched together, not the page of each task's whole
  // record (what a commit writes to the WAL is whole pages; this halves it at scale)
  `CREATE TABLE task_status (id TEXT PRIMARY KEY, state TEXT NOT NULL, status TEXT) WITHOUT ROWID;
   INSERT INTO task_status (id, state, status) SELECT id, state, status FROM tasks;
   ALTER TABLE tasks DROP COLUMN status;
   ALTER TABLE tasks DROP COLUMN state;`,
];

const STATUS_FIELDS: ReadonlySet<string> = new Set(TASK_STATUS_FIELDS);

/** The changing fields of a task, as JSON (undefined ones left out, as JSON.stringify does). */
function statusJson(t: TaskRecord): string {
  const out: Record<string, unknown> = {};
  for (const k of TASK_STATUS_FIELDS) {
    const v = t[k];
    if (v !== undefined) out[k] = v;
  }
  return JSON.stringify(out);
}

/** A task row: the whole record as last written in full, with its latest status over it. */
function taskOf(data: string, status: string | null): TaskRecord {
  const base = JSON.parse(data) as Record<string, unknown>;
  if (status === null) return base as unknown as TaskRecord;
  const out: Record<string, unknown> = {};
  for (const k in base) if (!STATUS_FIELDS.has(k)) out[k] = base[k];
  Object.assign(out, JSON.parse(status) as Record<string, unknown>);
  return out as unknown as TaskRecord;
}

/** The statements a batch of writes uses: prepared on the main connection and in the writer thread. */
const WRITE_SQL = {
  putAgent: 'INSERT INTO agents (id, data) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data',
  putFramework: 'INSERT INTO frameworks (id, data) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data',
  putTask: `INSERT INTO tasks (id, framework_id, agent_id, data) VALUES (?, ?, ?, ?)
    ON CONFLICT(id) DO UPDATE SET framework_id = excluded.framework_id, agent_id = excluded.agent_id, data = excluded.data`,
  /** The whole record holds the status: none over it. */
  resetTaskStatus: 'INSERT INTO task_status (id, state, status) VALUES (?, ?, NULL) ON CONFLICT(id) DO UPDATE SET state = excluded.state, status = NULL',
  putTaskStatus: 'UPDATE task_status SET state = ?, status = ? WHERE id = ?',
  deleteTask: 'DELETE FROM tasks WHERE id = ?',
  deleteTaskStatus: 'DELETE FROM task_status WHERE id = ?',
  setMeta: 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  putDoc: 'INSERT INTO docs (collection, id, data) VALUES (?, ?, ?) ON CONFLICT(collection, id) DO UPDATE SET data = excluded.data',
  deleteDoc: 'DELETE FROM docs WHERE collection = ? AND id = ?',
};

/**
 * A batch of writes with every record already serialized (on the caller's thread), in flat
 * string arrays, which cross to the writer thread as a cheap copy.
 */
interface WireBatch {
  /** id, JSON; … */
  agents: string[];
  frameworks: string[];
  /** id, framework id, agent id, state, JSON; … */
  tasks: string[];
  /** state, status JSON (TASK_STATUS_FIELDS), id; … */
  taskStatus: string[];
  deleteTasks: string[];
  /** key, value; … */
  meta: string[];
  /** collection, id, JSON or null (delete); … */
  docs: Array<string | null>;
}

function toWire(batch: StoreWrite): WireBatch {
  const w: WireBatch = { agents: [], frameworks: [], tasks: [], taskStatus: [], deleteTasks: batch.deleteTasks ?? [], meta: [], docs: [] };
  for (const a of batch.agents ?? []) w.agents.push(a.id, JSON.stringify(a));
  for (const f of batch.frameworks ?? []) w.frameworks.push(f.id, JSON.stringify(f));
  for (const t of batch.tasks ?? []) w.tasks.push(t.id, t.frameworkId, t.agentId, t.state, JSON.stringify(t));
  for (const t of batch.taskStatus ?? []) w.taskStatus.push(t.state, statusJson(t), t.id);
  for (const [k, v] of Object.entries(batch.meta ?? {})) w.meta.push(k, v);
  for (const d of batch.docs ?? []) w.docs.push(d.collection, d.id, d.data === null ? null : JSON.stringify(d.data));
  return w;
}

type WriteStatements = Record<keyof typeof WRITE_SQL, Database.Statement>;

/** Applies a batch (inside the caller's transaction); returns the ids of status writes that found no row. */
function applyWire(q: WriteStatements, b: WireBatch): string[] {
  const missing: string[] = [];
  for (let i = 0; i < b.agents.length; i += 2) q.putAgent.run(b.agents[i], b.agents[i + 1]);
  for (let i = 0; i < b.frameworks.length; i += 2) q.putFramework.run(b.frameworks[i], b.frameworks[i + 1]);
  for (let i = 0; i < b.tasks.length; i += 5) {
    q.putTask.run(b.tasks[i], b.tasks[i + 1], b.tasks[i + 2], b.tasks[i + 4]);
    q.resetTaskStatus.run(b.tasks[i], b.tasks[i + 3]);
  }
  for (let i = 0; i < b.taskStatus.length; i += 3) {
    if (q.putTaskStatus.run(b.taskStatus[i], b.taskStatus[i + 1], b.taskStatus[i + 2]).changes === 0) missing.push(b.taskStatus[i + 2]!);
  }
  for (const id of b.deleteTasks) {
    q.deleteTask.run(id);
    q.deleteTaskStatus.run(id);
  }
  for (let i = 0; i < b.meta.length; i += 2) q.setMeta.run(b.meta[i], b.meta[i + 1]);
  for (let i = 0; i < b.docs.length; i += 3) {
    const data = b.docs[i + 2];
    if (data === null) q.deleteDoc.run(b.docs[i], b.docs[i + 1]);
    else q.putDoc.run(b.docs[i], b.docs[i + 1], data);
  }
  return missing;
}

/**
 * The writer thread: its own connection to the database, applying batches in the order they
 * come, each in one transaction. It runs applyWire's own compiled source (the thread has no
 * TypeScript loader, and applyWire calls nothing but the statements it is given). Answers
 * `{ id, missing }` once the batch is committed, or `{ id, error }`.
 */
const WRITER_SOURCE = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
const q = {};
for (const k of Object.keys(workerData.sql)) q[k] = db.prepare(workerData.sql[k]);
// the same applyWire as the main thread's, as compiled (its source, types already stripped)
const applyWire = ${applyWire.toString()};
const apply = db.transaction((b) => applyWire(q, b));
parentPort.on('message', (m) => {
  let reply;
  try { reply = { id: m.id, missing: apply(m.b) }; } catch (e) { reply = { id: m.id, error: String((e && e.stack) || e) }; }
  parentPort.postMessage(reply);
});
`;

interface WriterReply {
  id: number;
  missing?: string[];
  error?: string;
}

interface PendingWrite {
  resolve(): void;
  reject(err: Error): void;
  /** The records of its status writes, should one find no row. */
  statusRecords: TaskRecord[];
}

const requireHere = createRequire(import.meta.url);

export class SqliteStore implements Store {
  private db: Database.Database;
  private stmts;
  private readonly writeStmts: WriteStatements;
  /** write() as one transaction, made once (better-sqlite3 wraps BEGIN and COMMIT around it). */
  private readonly writeTx: (batch: WireBatch) => string[];
  private writer: Worker | undefined;
  private writes = new Map<number, PendingWrite>();
  private writeIds = 0;

  constructor(private readonly file: string) {
    this.db = new Database(file);
    // app definitions may hold secrets in env: the database is the master's alone (SQLite gives
    // its -wal and -shm files the same mode)
    chmodSync(file, 0o600);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.writeStmts = Object.fromEntries(Object.entries(WRITE_SQL).map(([k, sql]) => [k, this.db.prepare(sql)])) as WriteStatements;
    this.stmts = {
      loadTasks: this.db.prepare('SELECT t.data, s.status FROM tasks t LEFT JOIN task_status s ON s.id = t.id'),
      loadDocs: this.db.prepare('SELECT id, data FROM docs WHERE collection = ? ORDER BY id'),
      getDoc: this.db.prepare('SELECT data FROM docs WHERE collection = ? AND id = ?'),
      getMeta: this.db.prepare('SELECT value FROM meta WHERE key = ?'),
      addToken: this.db.prepare('INSERT INTO tokens (hash, role, name, created_at) VALUES (?, ?, ?, ?)'),
      findToken: this.db.prepare('SELECT hash, role, name, created_at AS createdAt FROM tokens WHERE hash = ?'),
      listTokens: this.db.prepare('SELECT hash, role, name, created_at AS createdAt FROM tokens ORDER BY created_at'),
      deleteToken: this.db.prepare('DELETE FROM tokens WHERE hash = ?'),
    };
    this.writeTx = this.db.transaction((batch: WireBatch) => applyWire(this.writeStmts, batch));
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
    const current = row.v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(`database schema version ${current} is newer than this Yagura (${MIGRATIONS.length}); refusing to start`);
    }
    for (let v = current + 1; v <= MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v - 1]!);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(v, Date.now());
      })();
    }
  }

  load() {
    const parse = <T>(rows: unknown[]): T[] => (rows as Array<{ data: string }>).map((r) => JSON.parse(r.data) as T);
    return {
      agents: parse<AgentRecord>(this.db.prepare('SELECT data FROM agents').all()),
      frameworks: parse<FrameworkRecord>(this.db.prepare('SELECT data FROM frameworks').all()),
      tasks: (this.stmts.loadTasks.all() as Array<{ data: string; status: string | null }>).map((r) => taskOf(r.data, r.status)),
    };
  }

  write(batch: StoreWrite): void {
    const missing = this.writeTx(toWire(batch));
    // a status write for a row that is not there (never written in full): the whole record after all
    if (missing.length > 0) this.writeTx(toWire({ tasks: (batch.taskStatus ?? []).filter((t) => missing.includes(t.id)) }));
  }

  /**
   * write(), committed by a thread of its own, so that the caller's thread does not wait for
   * the disk. Batches commit in the order given; each resolves after its commit.
   */
  writeAsync(batch: StoreWrite): Promise<void> {
    return new Promise((resolve, reject) => {
      const b = toWire(batch);
      const id = ++this.writeIds;
      const w = this.startWriter();
      this.writes.set(id, { resolve, reject, statusRecords: batch.taskStatus ?? [] });
      w.ref();
      w.postMessage({ id, b });
    });
  }

  private startWriter(): Worker {
    if (this.writer) return this.writer;
    const w = new Worker(WRITER_SOURCE, { eval: true, workerData: { file: this.file, driver: requireHere.resolve('better-sqlite3'), sql: WRITE_SQL } });
    w.on('message', (r: WriterReply) => this.written(w, r));
    w.on('error', (err) => this.writerFailed(w, err));
    w.on('exit', (code) => this.writerFailed(w, new Error(`the SQLite writer thread exited (${code})`)));
    this.writer = w;
    return w;
  }

  private written(w: Worker, r: WriterReply): void {
    const p = this.writes.get(r.id);
    this.writes.delete(r.id);
    if (this.writes.size === 0) w.unref();
    if (!p) return;
    if (r.error !== undefined) return p.reject(new Error(r.error));
    if (!r.missing?.length) return p.resolve();
    // a status write for a row that is not there (never written in full): the whole record,
    // committed before this batch counts as done
    const missing = new Set(r.missing);
    this.writeAsync({ tasks: p.statusRecords.filter((t) => missing.has(t.id)) }).then(p.resolve, p.reject);
  }

  private writerFailed(w: Worker, err: Error): void {
    if (this.writer === w) this.writer = undefined;
    const pending = [...this.writes.values()];
    this.writes.clear();
    for (const p of pending) p.reject(err);
  }

  loadDocs<T = unknown>(collection: string): Array<{ id: string; data: T }> {
    return (this.stmts.loadDocs.all(collection) as Array<{ id: string; data: string }>).map((r) => ({ id: r.id, data: JSON.parse(r.data) as T }));
  }

  getDoc<T = unknown>(collection: string, id: string): T | undefined {
    const row = this.stmts.getDoc.get(collection, id) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as T) : undefined;
  }

  getMeta(key: string): string | undefined {
    return (this.stmts.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.writeStmts.setMeta.run(key, value);
  }

  addToken(t: TokenRecord): void {
    this.stmts.addToken.run(t.hash, t.role, t.name, t.createdAt);
  }

  findToken(hash: string): TokenRecord | undefined {
    return this.stmts.findToken.get(hash) as TokenRecord | undefined;
  }

  listTokens(): TokenRecord[] {
    return this.stmts.listTokens.all() as TokenRecord[];
  }

  deleteToken(hash: string): boolean {
    return this.stmts.deleteToken.run(hash).changes > 0;
  }

  integrityCheck(): string {
    return (this.db.pragma('integrity_check', { simple: true }) as string) ?? 'unknown';
  }

  /** Writes still in flight are abandoned (callers wait for theirs before closing). */
  close(): void {
    const w = this.writer;
    this.writer = undefined;
    if (w) void w.terminate();
    if (this.db.open) this.db.close();
  }
}
