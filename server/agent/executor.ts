// How one task's process is started: a small sh wrapper in its own process group that
// waits for the agent's go-ahead on fd 3 (so it can be put into its cgroups first), runs
// the command as its child, and records the child's exit status in a file. The file lets
// an agent that was down while the task ended learn the real outcome.
//
// The wrappers are forked by launchers, small single-threaded helper processes the agent
// starts (and that exit when the agent does), not by the agent itself: fork() copies the page
// tables of the process that calls it, so its cost grows with that process's memory, and the
// agent's (with the master's, under `yagura up`) is many times a launcher's. The launchers also
// run on the other cores while the agent goes on with its own work.
//
// A launcher is build/yagura-launcher (native/yagura-launcher.c), which starts each wrapper with
// vfork(), where it was built; else node running LAUNCHER_SOURCE, the same protocol (launcherKind).

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { LaunchSpec, Range } from '../../protocol/types.js';

/**
 * $1 exit file, $2 absolute path of mv, $3 "shell" or "exec", then the command.
 * Builtins only (besides mv), so a task's own PATH cannot break the bookkeeping.
 * The final `wait` returns the status the shell kept even when the trap interrupted the
 * loop just as the child was reaped.
 */
export const WRAPPER_SCRIPT = `exitfile=$1 mvbin=$2 mode=$3
shift 3
record() { printf '%s\\n' "$1" > "$exitfile.tmp.$$" && "$mvbin" -f "$exitfile.tmp.$$" "$exitfile"; }
if ! read -r _ <&3; then record unreleased; exit 125; fi
exec 3<&-
child=
trap 'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; fi' TERM
trap 'if [ -n "$child" ]; then kill -INT "$child" 2>/dev/null; fi' INT
trap 'if [ -n "$child" ]; then kill -HUP "$child" 2>/dev/null; fi' HUP
if [ "$mode" = shell ]; then /bin/sh -c "$1" & else "$@" & fi
child=$!
while kill -0 "$child" 2>/dev/null; do wait "$child"; done
wait "$child"
st=$?
record "$st"
exit "$st"
`;

/**
 * dash's reserved words and builtins: a command that starts with one of these means what the
 * shell makes of it (`exit 3`, `cd dir`, `echo $x`), so it always goes through `sh -c`.
 */
const SHELL_WORDS = new Set(
  ('! { } case do done elif else esac fi for if in then until while . : [ alias bg break cd command continue echo eval exec exit export ' +
    'false fc fg getopts hash jobs kill local printf pwd read readonly return set shift test times trap true type ulimit umask unalias unset wait').split(' '),
);
/** Characters that mean nothing to the shell inside a word. */
const PLAIN_WORD = /^[A-Za-z0-9_./:,@%+=-]+$/;

/**
 * A shell command that is plain words (`sleep 600`, `/usr/bin/python3 -m http.server 8080`):
 * its argv, which is exactly what `sh -c` would run. Anything with quoting, expansion,
 * redirection, operators, globs or comments, an assignment or a shell builtin first: null, and
 * it goes through `sh -c` as written. The wrapper then starts the program itself instead of a
 * second shell that forks it (one fork and exec of /bin/sh less, ~1.4 ms of CPU a task here).
 */
export function plainCommand(value: string): string[] | null {
  const words = value.split(/[ \t]+/).filter((w) => w !== '');
  if (words.length === 0 || words.length > 256) return null;
  for (const w of words) if (!PLAIN_WORD.test(w)) return null;
  const first = words[0]!;
  if (first.includes('=') || SHELL_WORDS.has(first)) return null;
  return words;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Port ranges to a list; ranges are inclusive. */
export function expandPorts(ranges: Range[]): number[] {
  const out: number[] = [];
  for (const [b, e] of ranges) for (let p = b; p <= e && out.length < 65536; p++) out.push(p);
  return out;
}

export interface EnvContext {
  spec: LaunchSpec;
  sandbox: string;
  agentId: string;
  hostname: string;
  user: string | null;
}

/**
 * The task's whole environment; nothing of the agent's own environment leaks in (it may
 * hold the agent secret). The command's env may override PATH and HOME, not the ids and ports.
 */
export function buildTaskEnv(ctx: EnvContext): Record<string, string> {
  const { spec, sandbox } = ctx;
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOME: sandbox, ...(ctx.user ? { USER: ctx.user, LOGNAME: ctx.user } : {}) };
  Object.assign(env, spec.command.env ?? {});
  const ports = expandPorts(spec.resources.ports ?? []);
  ports.forEach((p, i) => {
    env[`PORT${i}`] = String(p);
  });
  if (ports.length > 0) env.PORT = String(ports[0]);
  env.PORTS = ports.join(',');
  env.HOST = ctx.hostname;
  env.MESOS_SANDBOX = sandbox;
  env.MESOS_DIRECTORY = sandbox;
  env.MESOS_TASK_ID = spec.taskId;
  env.MESOS_AGENT_ID = ctx.agentId;
  env.MESOS_FRAMEWORK_ID = spec.frameworkId;
  env.YAGURA_TASK_ID = spec.taskId;
  env.YAGURA_AGENT_ID = ctx.agentId;
  env.YAGURA_HOSTNAME = ctx.hostname;
  env.YAGURA_SANDBOX = sandbox;
  return env;
}

/** What the launcher does to make a task's cgroups (see Isolation.plan). */
export interface CgroupPlan {
  mkdirs: string[];
  /** In order: [file, value, only when the file exists]. */
  writes: Array<[string, string, boolean]>;
  /** The cgroup.procs files the wrapper's pid goes into. */
  procs: string[];
}

export interface SpawnOptions {
  spec: LaunchSpec;
  sandbox: string;
  /**
   * Set: the launcher makes the task's meta directory here and the sandbox (each replacing what
   * a finished run of the same id left), empty stdout and stderr in the sandbox, and hands them
   * to the task user (sandbox mode 0750; meta directory `<agent uid>:<task gid>` mode 1770, where
   * the wrapper can write its exit file but not replace task.json). Unset: the agent made them
   * (it fetched into the sandbox); the launcher opens stdout and stderr again and checks they
   * are still the files the agent made.
   */
  makeDirs?: { meta: string };
  exitFile: string;
  mvPath: string;
  env: Record<string, string>;
  stdoutPath: string;
  stderrPath: string;
  /** The task's cgroups: made before the fork, the wrapper put into them right after it. */
  cgroups?: CgroupPlan;
  uid?: number;
  gid?: number;
}

/** The C launcher, built by scripts/build-launcher.sh (npm install). */
export const NATIVE_LAUNCHER = fileURLToPath(new URL('../../build/yagura-launcher', import.meta.url));

/** The C launcher (NATIVE_LAUNCHER) or node running LAUNCHER_SOURCE: the same protocol. */
export type LauncherKind = 'native' | 'node';

/**
 * Which launcher an agent runs: 'native' (build/yagura-launcher) where it was built, else
 * 'node' (LAUNCHER_SOURCE), and 'node' too when YAGURA_LAUNCHER=node. The native one costs less
 * CPU a task: a fork from node copies the page tables of a ~14 MB process and write-protects its
 * pages, which the launcher then faults on one by one after each fork; vfork() shares the
 * launcher's memory with the child until its exec (README, Benchmarks).
 */
export function launcherKind(env: NodeJS.ProcessEnv = process.env): LauncherKind {
  return env.YAGURA_LAUNCHER !== 'node' && nativeLauncherBuilt() ? 'native' : 'node';
}

/** Whether build/yagura-launcher is there to run. */
export function nativeLauncherBuilt(): boolean {
  try {
    accessSync(NATIVE_LAUNCHER, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The launcher in node (plain JavaScript, run by `node -e`, so it loads nothing but Node's own modules).
 * It does a task's blocking setup with plain system calls (sandbox, log files, cgroupfs), which
 * holds up neither the agent's event loop nor its thread pool, forks the wrapper and puts it
 * into its cgroups. Reads JSON lines on stdin, answers on stdout:
 *   {op:'spawn', id, args (the wrapper's), cwd, env, uid?, gid?, makeDirs?, stdout, stderr, cgroups?}
 *     → {ev:'spawned', id, pid, startTime} (in its cgroups, blocked on fd 3) | {ev:'error', id, message}
 *   {op:'release', id} writes the go-ahead on the wrapper's fd 3; {op:'abandon', id} closes it unwritten
 *   … and later {ev:'exit', id, code, signal}.
 * It says {ev:'ready'} once it runs. It exits when its stdin ends (the agent stopped or died);
 * closing its end of every fd 3 then makes the wrappers not yet released exit without running
 * anything, as the agent's own exit did.
 *
 * One thread, and one spawn per turn of its loop: the go-aheads and abandons read meanwhile are
 * carried out between two spawns, not behind every spawn queued (with 1,000 tasks launched at
 * once, no command would run before the last wrapper was forked). A fork returns only once the
 * child has exec'd, so an agent runs several launchers (LauncherPool) rather than threads in one:
 * a fork write-protects the private pages of the process that calls it, and the launcher's own
 * threads then fault on each page they write (with a TLB flush on the other cores the process
 * runs on). In one launcher with two spawner threads a task took ~2.8 ms of the launcher's CPU;
 * in four single-threaded launchers, ~2.1 ms (README, Benchmarks).
 */
export const LAUNCHER_SOURCE = String.raw`'use strict';
process.title = 'yagura-launcher';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGPIPE']) process.on(s, () => {});
process.stdout.on('error', () => process.exit(0));
// the replies of one turn leave in one write
let replies = [];
const send = (m) => {
  if (replies.length === 0) setImmediate(() => { const r = replies; replies = []; process.stdout.write(r.join('\n') + '\n'); });
  replies.push(JSON.stringify(m));
};
const kids = new Map();
const { O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
const WRAPPER = ${JSON.stringify(WRAPPER_SCRIPT)};
function openLog(f) {
  const fd = fs.openSync(f.path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK);
  const st = fs.fstatSync(fd, { bigint: true });
  if (!st.isFile() || String(st.ino) !== f.ino || String(st.dev) !== f.dev) {
    fs.closeSync(fd);
    throw new Error(f.path + ' was replaced before the task started');
  }
  return fd;
}
function startTime(pid) {
  try {
    const t = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    const v = Number(t.slice(t.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}
// a fresh directory: what a finished run of the same task id left there goes first
function freshDir(dir) {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if (e.code !== 'EEXIST') throw e;
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { mode: 0o700 });
  }
}
function makeDirs(m) {
  freshDir(m.makeDirs.meta);
  if (m.gid !== undefined) {
    fs.chownSync(m.makeDirs.meta, process.getuid(), m.gid);
    fs.chmodSync(m.makeDirs.meta, 0o1770);
  }
  freshDir(m.cwd);
  const flags = O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW;
  const fds = [fs.openSync(m.stdout.path, flags, 0o644)];
  try {
    fds.push(fs.openSync(m.stderr.path, flags, 0o644));
    if (m.uid !== undefined) {
      for (const p of [m.cwd, m.stdout.path, m.stderr.path]) fs.lchownSync(p, m.uid, m.gid);
      fs.chmodSync(m.cwd, 0o750);
    }
  } catch (e) {
    for (const fd of fds) fs.closeSync(fd);
    throw e;
  }
  return fds;
}
// whether an optional limit file exists, by name: the same for every cgroup of the kernel
const optional = new Map();
function makeCgroups(cg) {
  for (const d of cg.mkdirs) fs.mkdirSync(d, { recursive: true });
  for (const [f, v, ifExists] of cg.writes) {
    if (ifExists) {
      const name = f.slice(f.lastIndexOf('/') + 1);
      if (!optional.has(name)) optional.set(name, fs.existsSync(f));
      if (!optional.get(name)) continue;
    }
    fs.writeFileSync(f, v);
  }
}
function onSpawn(m) {
  const fds = [];
  const close = () => { for (const fd of fds.splice(0)) try { fs.closeSync(fd); } catch {} };
  const fail = (message) => send({ ev: 'error', id: m.id, message });
  let c;
  try {
    fds.push(...(m.makeDirs ? makeDirs(m) : [openLog(m.stdout), openLog(m.stderr)]));
  } catch (e) {
    close();
    return fail(e.message);
  }
  try {
    if (m.cgroups) makeCgroups(m.cgroups);
  } catch (e) {
    close();
    return fail('cgroups: ' + e.message);
  }
  try {
    const o = { cwd: m.cwd, env: m.env, detached: true, stdio: ['ignore', fds[0], fds[1], 'pipe'] };
    if (m.uid !== undefined) o.uid = m.uid;
    if (m.gid !== undefined) o.gid = m.gid;
    c = spawn('/bin/sh', ['-c', WRAPPER, ...m.args], o);
  } catch (e) {
    close();
    return fail(e.message);
  }
  close();
  if (c.pid === undefined) {
    c.once('error', (e) => fail(e.message));
    return;
  }
  c.on('error', () => {});
  c.stdio[3].on('error', () => {});
  try {
    if (m.cgroups) for (const f of m.cgroups.procs) fs.writeFileSync(f, String(c.pid));
  } catch (e) {
    // never released: it dies without having run anything
    c.stdio[3].destroy();
    try { process.kill(-c.pid, 'SIGKILL'); } catch {}
    return fail('cgroups: ' + e.message);
  }
  kids.set(m.id, c);
  c.once('exit', (code, signal) => {
    kids.delete(m.id);
    send({ ev: 'exit', id: m.id, code, signal });
  });
  send({ ev: 'spawned', id: m.id, pid: c.pid, startTime: startTime(c.pid) });
}
// the spawns not yet made, one per turn (above)
let queue = [];
let head = 0;
let stepping = false;
function step() {
  stepping = false;
  if (head < queue.length) onSpawn(queue[head++]);
  if (head === queue.length) {
    queue = [];
    head = 0;
  } else {
    stepping = true;
    setImmediate(step);
  }
}
function onLine(line) {
  let m;
  try { m = JSON.parse(line); } catch { return; }
  if (m.op === 'spawn') {
    queue.push(m);
    if (!stepping) {
      stepping = true;
      setImmediate(step);
    }
    return;
  }
  const c = kids.get(m.id);
  if (!c) return;
  if (m.op === 'release') c.stdio[3].end('go\n');
  else if (m.op === 'abandon') c.stdio[3].destroy();
}
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    onLine(line);
  }
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
send({ ev: 'ready' });
`;
export interface WrapperExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A wrapper started by the launcher. */
export class Wrapper {
  private settle!: (e: WrapperExitStatus) => void;
  /** Resolves when the wrapper exits; never, if the launcher went away first (see `onLost`). */
  readonly exited = new Promise<WrapperExitStatus>((r) => (this.settle = r));
  /** Called when the launcher exited while the wrapper lived: its exit can only be polled now. */
  onLost: () => void = () => {};
  /** @internal */
  lost = false;

  constructor(
    private readonly launcher: Launcher,
    readonly id: number,
    readonly pid: number,
    readonly startTime: number | null,
  ) {}

  /** Lets the wrapper run the command; false when the launcher is gone (the wrapper then exits unreleased). */
  release(): boolean {
    return !this.lost && this.launcher.command({ op: 'release', id: this.id });
  }

  /** Makes a wrapper that was never released exit without running anything. */
  abandon(): void {
    if (!this.lost) this.launcher.command({ op: 'abandon', id: this.id });
  }

  /** @internal */
  exit(e: WrapperExitStatus): void {
    this.settle(e);
  }
}

type LauncherReply =
  | { ev: 'spawned'; id: number; pid: number; startTime: number | null }
  | { ev: 'error'; id: number; message: string }
  | { ev: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null };

/** The agent's end of the launcher; the helper process is started on first use and again after it died. */
export class Launcher {
  private proc: ChildProcess | undefined;
  private buf = '';
  private out: string[] = [];
  private nextId = 0;
  private readonly starting = new Map<number, { resolve: (w: Wrapper) => void; reject: (e: Error) => void }>();
  private readonly wrappers = new Map<number, Wrapper>();
  private closed = false;
  private readyPromise: Promise<boolean> | undefined;
  private settleReady: ((ok: boolean) => void) | undefined;

  constructor(
    private readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void,
    readonly kind: LauncherKind = launcherKind(),
  ) {}

  /** Starts the helper now rather than at the first launch; resolves once it is ready (false: it exited first). */
  warmUp(): Promise<boolean> {
    if (!this.closed) this.ensure();
    return this.readyPromise ?? Promise.resolve(false);
  }

  /** Spawns sent and not answered yet. */
  get pending(): number {
    return this.starting.size;
  }

  /** Starts the wrapper, blocked until `release`. Rejects when it could not be started. */
  spawn(o: SpawnOptions): Promise<Wrapper> {
    if (this.closed) return Promise.reject(new Error('the agent is stopping'));
    const cmd = o.spec.command;
    const plain = cmd.shell ? plainCommand(cmd.value) : null;
    const tail = plain ? ['exec', ...plain] : cmd.shell ? ['shell', cmd.value] : ['exec', cmd.value, ...(cmd.args ?? [])];
    const log = (p: string) => {
      if (o.makeDirs) return { path: p };
      const st = statSync(p, { bigint: true });
      return { path: p, ino: String(st.ino), dev: String(st.dev) };
    };
    const id = ++this.nextId;
    const msg = {
      op: 'spawn',
      id,
      args: [`yagura-task:${o.spec.taskId}`, o.exitFile, o.mvPath, ...tail],
      cwd: o.sandbox,
      env: o.env,
      ...(o.makeDirs ? { makeDirs: o.makeDirs } : {}),
      stdout: log(o.stdoutPath),
      stderr: log(o.stderrPath),
      ...(o.cgroups ? { cgroups: o.cgroups } : {}),
      ...(o.uid !== undefined ? { uid: o.uid } : {}),
      ...(o.gid !== undefined ? { gid: o.gid } : {}),
    };
    return new Promise<Wrapper>((resolve, reject) => {
      this.starting.set(id, { resolve, reject });
      if (!this.command(msg)) {
        this.starting.delete(id);
        reject(new Error('the task launcher is not running'));
      } else if (this.starting.size === 1) this.hold(true);
    });
  }

  private hold(on: boolean): void {
    const p = this.proc;
    if (!p) return;
    for (const h of [p, p.stdin, p.stdout] as Array<{ ref?: () => void; unref?: () => void } | null>) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  }

  /** Ends the helper: wrappers not yet released exit without running; released ones go on. */
  close(): void {
    this.closed = true;
    const p = this.proc;
    if (!p) return;
    this.flushOut(p);
    p.stdin?.end();
    p.unref();
  }

  /** @internal */
  command(m: object): boolean {
    const p = this.ensure();
    if (!p?.stdin?.writable) return false;
    // the commands of one turn leave in one write
    if (this.out.length === 0) setImmediate(() => this.flushOut(p));
    this.out.push(JSON.stringify(m));
    return true;
  }

  private flushOut(p: ChildProcess): void {
    const lines = this.out;
    this.out = [];
    if (p === this.proc && p.stdin?.writable) p.stdin.write(`${lines.join('\n')}\n`);
  }

  private ensure(): ChildProcess | undefined {
    if (this.proc || this.closed) return this.proc;
    // Nothing of the agent's environment (it may hold the secret); the launcher sets each task's own.
    const [file, args] = this.kind === 'native' ? [NATIVE_LAUNCHER, [WRAPPER_SCRIPT]] : [process.execPath, ['-e', LAUNCHER_SOURCE]];
    const p = spawn(file, args, {
      env: { PATH: process.env.PATH ?? DEFAULT_PATH },
      stdio: ['pipe', 'pipe', 'inherit'],
      // its own process group: a ^C meant for the agent does not reach it first
      detached: true,
    });
    this.proc = p;
    this.readyPromise = new Promise((r) => (this.settleReady = r));
    // it keeps the agent's process alive only while it starts and while a spawn is on its way
    void this.readyPromise.then(() => {
      if (this.starting.size === 0) this.hold(false);
    });
    p.stdout!.setEncoding('utf8');
    p.stdout!.on('data', (d: string) => this.onData(d));
    p.stdin!.on('error', () => undefined);
    p.on('error', (err) => {
      this.log('error', `task launcher: ${err.message}`);
      if (p.pid === undefined) this.onExit(p, null, null); // never started: no 'close' to wait for
    });
    // 'close', not 'exit': every line it wrote has been read by then
    p.once('close', (code, signal) => this.onExit(p, code, signal));
    return p;
  }

  private onData(d: string): void {
    this.buf += d;
    let i;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      let r: LauncherReply;
      try {
        r = JSON.parse(line) as LauncherReply;
      } catch {
        continue;
      }
      if ((r as { ev: string }).ev === 'ready') {
        this.settleReady?.(true);
        continue;
      }
      if (r.ev === 'spawned' || r.ev === 'error') {
        const s = this.starting.get(r.id);
        if (!s) continue;
        this.starting.delete(r.id);
        if (this.starting.size === 0) this.hold(false);
        if (r.ev === 'error') s.reject(new Error(r.message));
        else {
          const w = new Wrapper(this, r.id, r.pid, r.startTime);
          this.wrappers.set(r.id, w);
          s.resolve(w);
        }
      } else if (r.ev === 'exit') {
        const w = this.wrappers.get(r.id);
        this.wrappers.delete(r.id);
        w?.exit({ code: r.code, signal: r.signal });
      }
    }
  }

  private onExit(p: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.proc !== p) return;
    this.proc = undefined;
    this.buf = '';
    this.settleReady?.(false);
    if (!this.closed) this.log('error', `the task launcher exited (${signal ?? `status ${code}`}); running tasks are watched through /proc`);
    for (const [id, s] of this.starting) {
      this.starting.delete(id);
      s.reject(new Error('the task launcher exited'));
    }
    for (const [id, w] of this.wrappers) {
      this.wrappers.delete(id);
      w.lost = true;
      w.onLost();
    }
  }
}

/**
 * How many launchers an agent runs: two per core, at least 2 and at most 8. Each makes one
 * spawn at a time and waits for its child's exec meanwhile; on this project's 2-core machines,
 * 1,000 tasks to TASK_RUNNING took (medians of 3–5 runs) 3.8 s with 2 launchers, 3.1 s with
 * 4, 2.8 s with 8 (node launchers). With the C launcher (bench/launch, 6 pairs each against the
 * raw spawn loop): 1 launcher 1.10–1.30× the loop, 2 0.75–1.11×, 4 0.68–0.88×, 8 0.62–0.74×;
 * 4 and 8 overlap within the noise. A node launcher keeps ~14 MB of its own memory, a C
 * launcher ~0.1 MB.
 */
export function launcherCount(cores = availableParallelism()): number {
  return Math.min(8, Math.max(2, 2 * cores));
}

/** The agent's launchers: a spawn goes to the one with the fewest spawns pending (the first of them). */
export class LauncherPool {
  private readonly launchers: Launcher[];

  constructor(
    log: (level: 'info' | 'warn' | 'error', msg: string) => void,
    size = launcherCount(),
    readonly kind: LauncherKind = launcherKind(),
  ) {
    this.launchers = Array.from({ length: Math.max(1, size) }, () => new Launcher(log, kind));
  }

  /**
   * Starts the first launcher now; resolves true once it is ready. The others start with the
   * first spawn sent to them, which is in a burst: a spawn goes to the first launcher whenever it
   * has none pending, so an agent that launches one task at a time runs one launcher.
   */
  warmUp(): Promise<boolean> {
    return this.launchers[0]!.warmUp();
  }

  spawn(o: SpawnOptions): Promise<Wrapper> {
    let best = this.launchers[0]!;
    for (const l of this.launchers) if (l.pending < best.pending) best = l;
    return best.spawn(o);
  }

  close(): void {
    for (const l of this.launchers) l.close();
  }
}
