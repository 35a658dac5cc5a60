// SQLite store: WAL + synchronous=FULL, so a committed write survives kill -9 and power loss.
// Schema changes go through numbered migrations, applied in order inside one transaction each.

import { chmodSync } from 'node:fs';
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

export class SqliteStore implements Store {
  private db: Database.Database;
  private stmts;
  /** write() as one transaction, made once (better-sqlite3 wraps BEGIN and COMMIT around it). */
  private readonly writeTx: (batch: StoreWrite) => void;

  constructor(file: string) {
    this.db = new Database(file);
    // app definitions may hold secrets in env: the database is the master's alone (SQLite gives
    // its -wal and -shm files the same mode)
    chmodSync(file, 0o600);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.stmts = {
      putAgent: this.db.prepare('INSERT INTO agents (id, data) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data'),
      putFramework: this.db.prepare('INSERT INTO frameworks (id, data) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data'),
      putTask: this.db.prepare(
        `INSERT INTO tasks (id, framework_id, agent_id, state, data, status) VALUES (?, ?, ?, ?, ?, NULL)
         ON CONFLICT(id) DO UPDATE SET framework_id = excluded.framework_id, agent_id = excluded.agent_id, state = excluded.state, data = excluded.data, status = NULL`,
      ),
      putTaskStatus: this.db.prepare('UPDATE tasks SET state = ?, status = ? WHERE id = ?'),
      loadTasks: this.db.prepare('SELECT data, status FROM tasks'),
      deleteTask: this.db.prepare('DELETE FROM tasks WHERE id = ?'),
      putDoc: this.db.prepare('INSERT INTO docs (collection, id, data) VALUES (?, ?, ?) ON CONFLICT(collection, id) DO UPDATE SET data = excluded.data'),
      deleteDoc: this.db.prepare('DELETE FROM docs WHERE collection = ? AND id = ?'),
      loadDocs: this.db.prepare('SELECT id, data FROM docs WHERE collection = ? ORDER BY id'),
      getDoc: this.db.prepare('SELECT data FROM docs WHERE collection = ? AND id = ?'),
      getMeta: this.db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      addToken: this.db.prepare('INSERT INTO tokens (hash, role, name, created_at) VALUES (?, ?, ?, ?)'),
      findToken: this.db.prepare('SELECT hash, role, name, created_at AS createdAt FROM tokens WHERE hash = ?'),
      listTokens: this.db.prepare('SELECT hash, role, name, created_at AS createdAt FROM tokens ORDER BY created_at'),
      deleteToken: this.db.prepare('DELETE FROM tokens WHERE hash = ?'),
    };
    this.writeTx = this.db.transaction((batch: StoreWrite) => this.apply(batch));
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
    this.writeTx(batch);
  }

  private apply(batch: StoreWrite): void {
    for (const a of batch.agents ?? []) this.stmts.putAgent.run(a.id, JSON.stringify(a));
    for (const f of batch.frameworks ?? []) this.stmts.putFramework.run(f.id, JSON.stringify(f));
    for (const t of batch.tasks ?? []) this.stmts.putTask.run(t.id, t.frameworkId, t.agentId, t.state, JSON.stringify(t));
    for (const t of batch.taskStatus ?? []) {
      // a row that is not there (never written in full) gets the whole record after all
      if (this.stmts.putTaskStatus.run(t.state, statusJson(t), t.id).changes === 0) {
        this.stmts.putTask.run(t.id, t.frameworkId, t.agentId, t.state, JSON.stringify(t));
      }
    }
    for (const id of batch.deleteTasks ?? []) this.stmts.deleteTask.run(id);
    for (const [k, v] of Object.entries(batch.meta ?? {})) this.stmts.setMeta.run(k, v);
    for (const d of batch.docs ?? []) {
      if (d.data === null) this.stmts.deleteDoc.run(d.collection, d.id);
      else this.stmts.putDoc.run(d.collection, d.id, JSON.stringify(d.data));
    }
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
    this.stmts.setMeta.run(key, value);
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

  close(): void {
    if (this.db.open) this.db.close();
  }
}
