// The agent's on-disk state. Everything the agent must remember across its own crash lives
// here, written atomically, before the master is told anything.
//
// <workDir>/meta/agent.json                  { agentId, hostname, registeredAt }
// <workDir>/meta/journal.<n>                 the checkpoint journal: one line per durable save
// <workDir>/meta/tasks/<taskId>/task.json    TaskCheckpoint (spec, pid, state, pending updates …)
// <workDir>/meta/tasks/<taskId>/exit         written by the task's wrapper: exit status or "unreleased"
// <workDir>/sandboxes/<taskId>/              the task's working directory (stdout, stderr, artifacts)
// <workDir>/cache/<sha256 of the URI>         cached artifacts (URIs with cache: true)

import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, promises as fsp, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LaunchSpec, StatusUpdate, TaskState } from '../../protocol/types.js';
import type { UserInfo } from './host.js';
import type { CgroupRecord } from './isolators.js';

export interface Layout {
  workDir: string;
  metaDir: string;
  tasksMetaDir: string;
  sandboxesDir: string;
  /** The artifact cache of `cache: true` URIs. */
  cacheDir: string;
  agentFile: string;
}

export function layoutOf(workDir: string): Layout {
  const abs = path.resolve(workDir);
  const metaDir = path.join(abs, 'meta');
  return {
    workDir: abs,
    metaDir,
    tasksMetaDir: path.join(metaDir, 'tasks'),
    sandboxesDir: path.join(abs, 'sandboxes'),
    cacheDir: path.join(abs, 'cache'),
    agentFile: path.join(metaDir, 'agent.json'),
  };
}

export function taskMetaDir(l: Layout, taskId: string): string {
  return path.join(l.tasksMetaDir, taskId);
}

export function sandboxDir(l: Layout, taskId: string): string {
  return path.join(l.sandboxesDir, taskId);
}

/** Task ids become directory and cgroup names, so they must be one harmless path segment. */
export function isSafeTaskId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= 200 && /^[A-Za-z0-9_.:@+-]+$/.test(id) && id !== '.' && id !== '..';
}

export interface PendingUpdate {
  /** Agent-wide order of creation, so resends keep the order the agent observed. */
  seq: number;
  update: StatusUpdate;
}

export interface TaskCheckpoint {
  /** Agent-wide order of checkpoint writes: the newest of task.json and the journal wins at recovery. */
  rev?: number;
  spec: LaunchSpec;
  /** Who the task runs as; null when the agent does not switch users. */
  user: UserInfo | null;
  /** The wrapper's pid, which is also the task's process group id. */
  pid?: number;
  /** Field 22 of /proc/<pid>/stat, to tell the wrapper from a later process that reused its pid. */
  pidStartTime?: number;
  /** True once the wrapper was told to run the command. */
  released?: boolean;
  /** The state of the latest status update the agent generated. */
  state: TaskState;
  killRequested: boolean;
  killGracePeriodMs?: number;
  cgroups?: CgroupRecord;
  /** Status updates not yet acknowledged by the master, oldest first. */
  pending: PendingUpdate[];
  /** Terminal and acknowledged: only the sandbox remains, for the GC. */
  done: boolean;
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  exitCode?: number;
  /** Health last reported to the master (absent until the checks first settled it). */
  healthy?: boolean;
  /** Per health check: it has succeeded once, so the grace period no longer hides its failures. */
  healthFirstSuccess?: boolean[];
  /** Set when the health checks killed the task: the message of its final update. */
  healthKill?: string;
}

export interface AgentMeta {
  agentId: string;
  hostname: string;
  registeredAt: number;
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
    await fh.sync();
  } catch {
    // some file systems refuse fsync on directories; the rename is still atomic
  } finally {
    await fh?.close();
  }
}

/**
 * Write-temp, fsync, rename, fsync the directory. The temp name is random and opened with
 * O_EXCL so a symlink planted in a directory a task can write to is never followed.
 */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const fh = await fsp.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value));
}

export async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

export type ExitRecord = { kind: 'status'; status: number } | { kind: 'unreleased' } | { kind: 'none' };

/**
 * Reads the wrapper's exit file. The task user can write in that directory, so the file is
 * opened without following links and without blocking (a FIFO must not hang the agent).
 */
export async function readExitFile(file: string): Promise<ExitRecord> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
    const st = await fh.stat();
    if (!st.isFile()) return { kind: 'none' };
    const buf = Buffer.alloc(32);
    const { bytesRead } = await fh.read(buf, 0, 32, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8').trim();
    if (text === 'unreleased') return { kind: 'unreleased' };
    if (/^\d{1,3}$/.test(text) && Number(text) <= 255) return { kind: 'status', status: Number(text) };
    return { kind: 'none' };
  } catch {
    return { kind: 'none' };
  } finally {
    await fh?.close();
  }
}

/**
 * Creates a task's meta directory. With a task user it is `root:<task gid>` mode 1770: the
 * wrapper (task user) can write its exit file there, but, sticky, cannot replace task.json.
 */
export function makeTaskMetaDir(dir: string, user: UserInfo | null, recursive = false): void {
  mkdirSync(dir, { mode: 0o700, recursive });
  if (user) {
    chownSync(dir, process.getuid!(), user.gid);
    chmodSync(dir, 0o1770);
  }
}

/**
 * The checkpoint writer: a worker thread that carries out one batch at a time with plain system
 * calls (through the thread pool, each task's view would be four queued operations, each with
 * its promise). Per message: each view `[file, data]` is written as task.json for readers, not
 * fsynced, and whole against a crash of the agent: over the old one in place when both fit in a
 * page (a new file and a rename per save made and freed an inode each, and on ext4 without a
 * journal every new inode skips those freed in the last 30 s), else a temp file renamed over it;
 * skipped when the task's meta directory is not there yet. Then the journal text is appended and
 * fdatasynced (a new journal file's directory is fsynced too: its name must be on disk before its
 * contents count); then `remove` files are deleted. Answers `{ id, size, error?, viewErrors }`.
 */
const WRITER_SOURCE = String.raw`'use strict';
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_DIRECTORY } = fs.constants;
let jfd = -1, jfile = '', size = 0;
function syncDir(dir) {
  let fd = -1;
  try { fd = fs.openSync(dir, O_RDONLY | O_DIRECTORY); fs.fsyncSync(fd); } catch {} finally { if (fd >= 0) fs.closeSync(fd); }
}
function writeAll(fd, buf) { for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off); }
// One page at offset 0: a write that a killed process leaves whole or undone (the kernel checks
// for a fatal signal between pages only).
const PAGE = 4096;
// Overwrites an existing task.json in place when both fit in one page, padded with spaces to the
// old length (so no truncate can be left undone): no new inode, and no freed one. Only a file the
// agent made (its owner, one link, a plain file). False: write it anew.
function overwrite(file, buf) {
  if (buf.length > PAGE) return false;
  let fd;
  try { fd = fs.openSync(file, O_WRONLY | O_NOFOLLOW | O_NONBLOCK); } catch { return false; }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== process.getuid() || st.nlink !== 1 || st.size > PAGE) return false;
    const out = st.size > buf.length ? Buffer.concat([buf, Buffer.alloc(st.size - buf.length, 0x20)]) : buf;
    return fs.writeSync(fd, out, 0, out.length, 0) === out.length;
  } finally { fs.closeSync(fd); }
}
function view(file, data) {
  const buf = Buffer.from(data);
  if (overwrite(file, buf)) return;
  const tmp = file + '.tmp-' + process.pid + '-' + randomBytes(6).toString('hex');
  let fd;
  try { fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644); } catch (e) { if (e.code === 'ENOENT') return; throw e; }
  try { writeAll(fd, buf); } finally { fs.closeSync(fd); }
  try { fs.renameSync(tmp, file); } catch (e) { try { fs.unlinkSync(tmp); } catch {} throw e; }
}
function closeJournal() { if (jfd >= 0) try { fs.closeSync(jfd); } catch {} jfd = -1; jfile = ''; size = 0; }
function append(file, text) {
  if (jfile !== file) closeJournal();
  if (jfd < 0) {
    jfd = fs.openSync(file, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0o600);
    jfile = file;
    size = fs.fstatSync(jfd).size;
    syncDir(path.dirname(file));
  }
  try {
    writeAll(jfd, Buffer.from(text));
    fs.fdatasyncSync(jfd);
  } catch (e) {
    try { fs.ftruncateSync(jfd, size); } catch {}
    throw e;
  }
  size = fs.fstatSync(jfd).size;
}
parentPort.on('message', (m) => {
  const viewErrors = [];
  for (const [file, data] of m.views) { try { view(file, data); } catch (e) { viewErrors.push(file + ': ' + e.message); } }
  let error;
  try {
    if (m.journal) append(m.journal.file, m.journal.text);
    else if (m.closeJournal) closeJournal();
    for (const f of m.remove || []) fs.rmSync(f, { force: true });
  } catch (e) { error = e.message; }
  parentPort.postMessage({ id: m.id, size, error, viewErrors });
});
`;

interface WriterRequest {
  views: Array<[string, string]>;
  journal?: { file: string; text: string };
  closeJournal?: boolean;
  remove?: string[];
}

interface WriterReply {
  id: number;
  size: number;
  error?: string;
  viewErrors: string[];
}

class CheckpointWriter {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: WriterReply) => void; reject: (e: Error) => void }>();

  /** Starts the thread now rather than with the first write. */
  warmUp(): void {
    this.start();
    if (this.waiting.size === 0) this.worker?.unref();
  }

  run(req: WriterRequest): Promise<WriterReply> {
    const worker = this.start();
    const id = ++this.nextId;
    worker.ref();
    worker.postMessage({ id, ...req });
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  private start(): Worker {
    if (!this.worker) {
      const w = new Worker(WRITER_SOURCE, { eval: true });
      w.on('message', (r: WriterReply) => {
        const p = this.waiting.get(r.id);
        this.waiting.delete(r.id);
        if (this.waiting.size === 0) w.unref();
        p?.resolve(r);
      });
      w.on('error', (err) => this.fail(w, err));
      w.on('exit', (code) => this.fail(w, new Error(`the checkpoint writer exited (${code})`)));
      this.worker = w;
    }
    return this.worker;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  private fail(w: Worker, err: Error): void {
    if (this.worker === w) this.worker = undefined;
    for (const [id, p] of this.waiting) {
      this.waiting.delete(id);
      p.reject(err);
    }
  }
}

const JOURNAL_RE = /^journal\.(\d+)$/;
/** A generation is compacted (its live tasks carried into a new one) past this size. */
const JOURNAL_MAX_BYTES = 16 * 1024 * 1024;
/**
 * Saves that need not be durable (acknowledgements) wait this long for company: a task's
 * acknowledgements in a burst of launches then cost one write, not one each.
 */
const LAZY_DELAY_MS = 1000;

interface Batch {
  entries: Map<string, { cp: TaskCheckpoint; durable: boolean; view: boolean }>;
  durable: boolean;
  done: Promise<void>;
  resolve: () => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return { entries: new Map(), durable: false, done, resolve };
}

/** The launch spec never changes and is most of a checkpoint: serialized once per task. */
const specJson = new WeakMap<LaunchSpec, string>();

function checkpointJson(cp: TaskCheckpoint): string {
  let spec = specJson.get(cp.spec);
  if (spec === undefined) {
    spec = JSON.stringify(cp.spec);
    specJson.set(cp.spec, spec);
  }
  const { spec: _, ...rest } = cp;
  return `{"spec":${spec},${JSON.stringify(rest).slice(1)}`;
}

function isCheckpoint(v: unknown): v is TaskCheckpoint {
  const cp = v as TaskCheckpoint | null;
  return typeof cp === 'object' && cp !== null && typeof cp.spec === 'object' && cp.spec !== null && Array.isArray(cp.pending);
}

export interface RecoveredCheckpoints {
  checkpoints: Map<string, TaskCheckpoint>;
  /** Task directories without a readable checkpoint, in the file or the journal. */
  unreadable: string[];
}

/**
 * Task checkpoints with group commit. A durable save is one line in the journal
 * (`<meta>/journal.<n>`): every save made while the previous write was on disk goes into one
 * append and one fdatasync, however many tasks it covers. Each save also rewrites the task's
 * task.json (whole against a crash of the agent, not fsynced; see WRITER_SOURCE): that is what
 * readers see, and after a crash of the agent alone it is current. After a crash of the
 * machine, recovery takes, per task, the newer (`rev`) of task.json and the journal's last
 * record. When a generation grows past 16 MiB, (and on `compact()`) the checkpoints of all
 * live tasks are written into a new generation, which then replaces the old ones: the journal
 * only ever holds what recovery needs.
 * Non-durable saves (acknowledgements: losing one only means a resend) skip the journal.
 * `save` resolves once the write is done; a failed write is logged and resolves too, as a lost
 * checkpoint write always did: the task goes on, and its updates are resent until acknowledged.
 */
export class CheckpointStore {
  private rev = 0;
  private gen = 0;
  private oldGens: number[] = [];
  /** The current generation's file exists (something was appended to it). */
  private genStarted = false;
  private bytes = 0;
  private readonly writer = new CheckpointWriter();
  /** Checkpoints of the tasks that are not done: what a compaction carries over. */
  private readonly live = new Map<string, TaskCheckpoint>();
  /** Tasks with a record in the current generation. */
  private inGen = new Set<string>();
  private next = newBatch();
  private running: Promise<void> | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private lazyTimer: NodeJS.Timeout | undefined;
  private compactWanted = false;

  constructor(
    private readonly l: Layout,
    private readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void,
  ) {}

  private journalFile(gen: number): string {
    return path.join(this.l.metaDir, `journal.${gen}`);
  }

  /**
   * Reads every task's checkpoint (task.json, or the journal's record where that is newer), puts
   * right the task.json files that were behind, and starts a new journal generation holding the
   * tasks that are not done. Call once, before any save.
   */
  async recover(): Promise<RecoveredCheckpoints> {
    let names: string[] = [];
    try {
      names = await fsp.readdir(this.l.metaDir);
    } catch {
      names = [];
    }
    const gens = names.flatMap((n) => {
      const m = JOURNAL_RE.exec(n);
      return m ? [Number(m[1])] : [];
    });
    gens.sort((a, b) => a - b);
    const journaled = new Map<string, TaskCheckpoint>();
    for (const g of gens) {
      const text = await fsp.readFile(this.journalFile(g), 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (!line) continue;
        let r: { id?: unknown; cp?: unknown };
        try {
          r = JSON.parse(line) as typeof r;
        } catch {
          continue; // a torn last line: its write never completed, so nothing relied on it
        }
        if (!isSafeTaskId(r.id) || !isCheckpoint(r.cp)) continue;
        const prev = journaled.get(r.id);
        if (!prev || (r.cp.rev ?? 0) >= (prev.rev ?? 0)) journaled.set(r.id, r.cp);
      }
    }
    let ids: string[] = [];
    try {
      ids = (await fsp.readdir(this.l.tasksMetaDir)).filter(isSafeTaskId);
    } catch {
      ids = [];
    }
    const checkpoints = new Map<string, TaskCheckpoint>();
    const unreadable: string[] = [];
    for (const id of new Set([...ids, ...journaled.keys()])) {
      const dir = taskMetaDir(this.l, id);
      const file = path.join(dir, 'task.json');
      const onDisk = await readJson<unknown>(file);
      let cp = isCheckpoint(onDisk) ? onDisk : null;
      const j = journaled.get(id);
      if (j && (!cp || (cp.rev ?? 0) < (j.rev ?? 0))) {
        if (!cp && j.done) continue; // finished, acknowledged and collected
        cp = j;
        try {
          makeTaskMetaDir(dir, j.user, true);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        await writeJsonAtomic(file, j);
      }
      if (!cp) {
        unreadable.push(id);
        continue;
      }
      this.rev = Math.max(this.rev, cp.rev ?? 0);
      checkpoints.set(id, cp);
      if (!cp.done) this.live.set(id, cp);
    }
    this.writer.warmUp();
    this.oldGens = gens;
    this.gen = (gens.at(-1) ?? 0) + 1;
    await this.carryOver();
    return { checkpoints, unreadable };
  }

  /**
   * Writes the task's checkpoint. `durable`: resolves once it is on disk (group commit); otherwise
   * it is written with the next batch, or after a short wait, and not fsynced. `view` false: the
   * journal only, task.json waits for the task's next save (one that is bound to follow soon).
   */
  save(taskId: string, cp: TaskCheckpoint, durable = true, view = true): Promise<void> {
    const b = this.next;
    const e = b.entries.get(taskId);
    if (e) {
      e.cp = cp;
      e.durable ||= durable;
      e.view ||= view;
    } else {
      b.entries.set(taskId, { cp, durable, view: view || !durable });
    }
    if (durable) b.durable = true;
    this.kick();
    return b.done;
  }

  /** Writes everything pending (lazy saves too) and waits for it. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.running) {
        await this.running;
        continue;
      }
      if (this.next.entries.size === 0 && !this.compactWanted) return;
      this.start(true);
    }
  }

  /** Starts a new generation with only the live tasks when the current one holds others. */
  async compact(): Promise<void> {
    if ([...this.inGen].every((id) => this.live.has(id) && !this.live.get(id)!.done) && this.oldGens.length === 0) return;
    this.compactWanted = true;
    await this.flush();
  }

  /** Writes what is pending and stops the writer thread (a later save starts it again). */
  async close(): Promise<void> {
    await this.flush();
    await this.writer.close();
  }

  private kick(): void {
    if (this.running) return; // the running loop takes the batch when its write ends
    const b = this.next;
    if (b.entries.size === 0 && !this.compactWanted) return;
    if (b.durable || this.compactWanted) {
      clearTimeout(this.lazyTimer);
      this.lazyTimer = undefined;
      // the rest of this turn's saves join the batch
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.start(false);
      });
    } else if (!this.lazyTimer && !this.immediate) {
      this.lazyTimer = setTimeout(() => {
        this.lazyTimer = undefined;
        this.start(true);
      }, LAZY_DELAY_MS);
    }
  }

  private start(all: boolean): void {
    if (this.running) return;
    clearImmediate(this.immediate);
    this.immediate = undefined;
    clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    this.running = this.loop(all).finally(() => {
      this.running = undefined;
      this.kick();
    });
  }

  private async loop(all: boolean): Promise<void> {
    while (this.next.entries.size > 0 && (all || this.next.durable)) {
      const b = this.next;
      this.next = newBatch();
      try {
        await this.writeBatch(b);
      } catch (err) {
        this.log('error', `checkpoint write: ${(err as Error).message}`);
      }
      b.resolve();
    }
    if (this.compactWanted || this.bytes > JOURNAL_MAX_BYTES) {
      this.compactWanted = false;
      await this.carryOver().catch((err: Error) => this.log('error', `checkpoint journal compaction: ${err.message}`));
    }
  }

  private async writeBatch(b: Batch): Promise<void> {
    const lines: string[] = [];
    const views: Array<[string, string]> = [];
    for (const [id, e] of b.entries) {
      e.cp.rev = ++this.rev;
      const json = checkpointJson(e.cp);
      if (e.cp.done) this.live.delete(id);
      else this.live.set(id, e.cp);
      if (e.durable) {
        lines.push(`{"id":${JSON.stringify(id)},"cp":${json}}\n`);
        this.inGen.add(id);
      }
      if (e.view) views.push([path.join(taskMetaDir(this.l, id), 'task.json'), json]);
    }
    await this.write({ views, ...(lines.length ? { journal: { file: this.journalFile(this.gen), text: lines.join('') } } : {}) });
  }

  private async write(req: WriterRequest): Promise<void> {
    const r = await this.writer.run(req);
    for (const e of r.viewErrors) this.log('warn', `task.json: ${e}`);
    if (req.journal && !r.error) {
      this.bytes = r.size;
      this.genStarted = true;
    }
    if (r.error) throw new Error(r.error);
  }

  /**
   * Writes the live tasks' checkpoints into a new generation, then removes the older ones. Runs
   * inside the write loop (or before the first save), never beside a batch.
   */
  private async carryOver(): Promise<void> {
    const lines: string[] = [];
    for (const [id, cp] of this.live) {
      if (cp.done) {
        this.live.delete(id);
        continue;
      }
      cp.rev = ++this.rev;
      lines.push(`{"id":${JSON.stringify(id)},"cp":${checkpointJson(cp)}}\n`);
    }
    if (this.genStarted) {
      this.oldGens.push(this.gen);
      this.gen++;
      this.genStarted = false;
    }
    this.bytes = 0;
    this.inGen = new Set(this.live.keys());
    const remove = this.oldGens.map((g) => this.journalFile(g));
    // the old generations go only once the new one is on disk
    await this.write({ views: [], ...(lines.length ? { journal: { file: this.journalFile(this.gen), text: lines.join('') } } : { closeJournal: true }), remove });
    this.oldGens = [];
  }
}
