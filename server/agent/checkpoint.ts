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

export async function fsyncDir(dir: string): Promise<void> {
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

/** task.json for readers (tests, the GC, an operator): atomic against a crash of the agent, not fsynced. */
async function writeView(file: string, data: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const fh = await fsp.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o644);
  try {
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

const JOURNAL_RE = /^journal\.(\d+)$/;
/** A generation is compacted (its live tasks carried into a new one) past this size. */
const JOURNAL_MAX_BYTES = 16 * 1024 * 1024;
/** Saves that need not be durable (acknowledgements) wait this long for company. */
const LAZY_DELAY_MS = 50;

interface Batch {
  entries: Map<string, { cp: TaskCheckpoint; durable: boolean }>;
  durable: boolean;
  done: Promise<void>;
  resolve: () => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return { entries: new Map(), durable: false, done, resolve };
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
 * task.json (temp file and rename, not fsynced): that is what readers see, and after a crash of
 * the agent alone it is current. After a crash of the machine, recovery takes, per task, the
 * newer (`rev`) of task.json and the journal's last record. When a generation grows past 16 MiB,
 * (and on `compact()`) the checkpoints of all live tasks are written into a new generation,
 * which then replaces the old ones: the journal only ever holds what recovery needs.
 * Non-durable saves (acknowledgements: losing one only means a resend) skip the journal.
 * `save` resolves once the write is done; a failed write is logged and resolves too, as a lost
 * checkpoint write always did: the task goes on, and its updates are resent until acknowledged.
 */
export class CheckpointStore {
  private rev = 0;
  private gen = 0;
  private oldGens: number[] = [];
  private fh: fsp.FileHandle | undefined;
  private bytes = 0;
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
    this.oldGens = gens;
    this.gen = (gens.at(-1) ?? 0) + 1;
    await this.carryOver();
    return { checkpoints, unreadable };
  }

  /**
   * Writes the task's checkpoint. `durable`: resolves once it is on disk (group commit); otherwise
   * it is written with the next batch, or after a short wait, and not fsynced.
   */
  save(taskId: string, cp: TaskCheckpoint, durable = true): Promise<void> {
    const b = this.next;
    const e = b.entries.get(taskId);
    if (e) {
      e.cp = cp;
      e.durable ||= durable;
    } else {
      b.entries.set(taskId, { cp, durable });
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

  /** Closes the journal; pending saves are written first. */
  async close(): Promise<void> {
    await this.flush();
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
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
    const views: Array<Promise<void>> = [];
    for (const [id, e] of b.entries) {
      e.cp.rev = ++this.rev;
      const json = JSON.stringify(e.cp);
      if (e.cp.done) this.live.delete(id);
      else this.live.set(id, e.cp);
      if (e.durable) {
        lines.push(`{"id":${JSON.stringify(id)},"cp":${json}}\n`);
        this.inGen.add(id);
      }
      views.push(writeView(path.join(taskMetaDir(this.l, id), 'task.json'), json));
    }
    const results = await Promise.allSettled([lines.length ? this.append(lines.join('')) : Promise.resolve(), ...views]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Appends to the current generation and waits until it is on disk. */
  private async append(text: string): Promise<void> {
    if (!this.fh) {
      this.fh = await fsp.open(this.journalFile(this.gen), fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_APPEND | fsConstants.O_NOFOLLOW, 0o600);
      this.bytes = (await this.fh.stat()).size;
      // the new file's name must be on disk before anything relies on its contents
      await fsyncDir(this.l.metaDir);
    }
    const buf = Buffer.from(text);
    try {
      for (let off = 0; off < buf.length; ) off += (await this.fh.write(buf, off)).bytesWritten;
      await this.fh.datasync();
    } catch (err) {
      // no torn line stays in the middle of the journal
      await this.fh.truncate(this.bytes).catch(() => undefined);
      throw err;
    }
    this.bytes += buf.length;
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
      lines.push(`{"id":${JSON.stringify(id)},"cp":${JSON.stringify(cp)}}\n`);
    }
    if (this.fh) {
      this.oldGens.push(this.gen);
      await this.fh.close().catch(() => undefined);
      this.fh = undefined;
      this.gen++;
    }
    this.bytes = 0;
    this.inGen = new Set(this.live.keys());
    if (lines.length) await this.append(lines.join(''));
    for (const g of this.oldGens.splice(0)) await fsp.rm(this.journalFile(g), { force: true });
  }
}
