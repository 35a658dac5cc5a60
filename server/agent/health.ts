// Health checks the agent runs against one task (Marathon/Mesos semantics). One timer per
// task drives all of its checks; a check never overlaps with its own previous run. The
// monitor only probes and keeps the counts: the agent decides what to report and kills.

import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { HealthCheckSpec } from '../../protocol/types.js';
import type { UserInfo } from './host.js';
import type { TaskCgroups } from './isolators.js';
import { signalGroup } from './proc.js';

export interface ProbeResult {
  ok: boolean;
  /** Why, for logs: "HTTP 500", "connection refused", "timed out after 0.3 s" … */
  detail: string;
}

/** What one finished check run meant for the task. */
export interface HealthCheckResult {
  index: number;
  ok: boolean;
  detail: string;
  /** A failure inside the grace period before the check's first success: it changes nothing. */
  ignored: boolean;
  consecutiveFailures: number;
  /** The task's overall health after this run; undefined while some check has no counted result. */
  healthy: boolean | undefined;
  /** `healthy` differs from what was last reported (so an update is due). */
  changed: boolean;
  /** This run was the check's first success ever (worth checkpointing). */
  firstSuccess: boolean;
  /** Set when the task must be killed: the message for its final update. */
  kill?: string;
}

export interface HealthTarget {
  checks: HealthCheckSpec[];
  /** The task's ports in PORT0… order. */
  ports: number[];
  /** When the task became RUNNING (ms since epoch): the grace period and the first delay count from here. */
  startedAt: number;
  /** Health last reported to the master; restored from the checkpoint after a restart. */
  reported: boolean | undefined;
  /** Per check: it has succeeded before (restored), so its failures are never ignored. */
  firstSuccess: boolean[];
  sandbox: string;
  env: Record<string, string>;
  user: UserInfo | null;
  cgroups: TaskCgroups | null;
}

/** The check's port, or an error message when the spec names no usable one. */
export function checkPort(check: HealthCheckSpec, ports: number[]): number | string {
  if (check.port !== undefined) return check.port;
  const i = check.portIndex ?? 0;
  const p = ports[i];
  return p === undefined ? `the task has no port with index ${i}` : p;
}

export function describeCheck(check: HealthCheckSpec, ports: number[]): string {
  if (check.protocol === 'COMMAND') return `COMMAND ${JSON.stringify(check.command ?? '')}`;
  const port = checkPort(check, ports);
  const where = typeof port === 'number' ? ` on port ${port}` : '';
  return check.protocol === 'TCP' ? `TCP${where}` : `${check.protocol} ${check.path ?? '/'}${where}`;
}

export class HealthMonitor {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly due: number[];
  private readonly running: boolean[];
  private readonly lastOk: Array<boolean | undefined>;
  private readonly failures: number[];
  private readonly firstSuccess: boolean[];
  private reported: boolean | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly t: HealthTarget,
    private readonly onResult: (r: HealthCheckResult) => void,
  ) {
    const n = t.checks.length;
    this.due = t.checks.map((c) => t.startedAt + (c.delaySeconds ?? 0) * 1000);
    this.running = new Array<boolean>(n).fill(false);
    this.lastOk = new Array<boolean | undefined>(n).fill(undefined);
    this.failures = new Array<number>(n).fill(0);
    this.firstSuccess = t.checks.map((_, i) => t.firstSuccess[i] === true);
    this.reported = t.reported;
  }

  start(): void {
    this.arm();
  }

  /** Stops the timer and whatever probe is under way (a COMMAND check's process group is killed). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    let next = Infinity;
    this.due.forEach((d, i) => {
      if (!this.running[i]) next = Math.min(next, d);
    });
    if (next === Infinity) return;
    this.timer = setTimeout(() => this.tick(), Math.max(0, next - Date.now()));
    this.timer.unref();
  }

  private tick(): void {
    if (this.stopped) return;
    const now = Date.now();
    this.t.checks.forEach((check, i) => {
      if (this.running[i] || this.due[i]! > now) return;
      this.running[i] = true;
      this.due[i] = now + check.intervalSeconds * 1000;
      void this.probe(check)
        .catch((err: Error): ProbeResult => ({ ok: false, detail: err.message }))
        .then((r) => {
          this.running[i] = false;
          if (this.stopped) return;
          this.record(i, r);
          this.arm();
        });
    });
    this.arm();
  }

  private record(i: number, r: ProbeResult): void {
    const check = this.t.checks[i]!;
    const now = Date.now();
    const ignored = !r.ok && !this.firstSuccess[i] && now < this.t.startedAt + check.gracePeriodSeconds * 1000;
    let firstSuccess = false;
    if (r.ok) {
      firstSuccess = !this.firstSuccess[i];
      this.firstSuccess[i] = true;
      this.failures[i] = 0;
      this.lastOk[i] = true;
    } else if (!ignored) {
      this.failures[i]!++;
      this.lastOk[i] = false;
    }
    const healthy = this.lastOk.includes(false) ? false : this.lastOk.every((v) => v === true) ? true : undefined;
    const changed = healthy !== undefined && healthy !== this.reported;
    if (changed) this.reported = healthy;
    const max = check.maxConsecutiveFailures;
    const kill =
      !ignored && !r.ok && max > 0 && this.failures[i]! >= max
        ? `killed after ${this.failures[i]} consecutive failures of health check ${describeCheck(check, this.t.ports)}`
        : undefined;
    if (kill) this.stop();
    this.onResult({
      index: i,
      ok: r.ok,
      detail: r.detail,
      ignored,
      consecutiveFailures: this.failures[i]!,
      healthy,
      changed,
      firstSuccess,
      ...(kill ? { kill } : {}),
    });
  }

  private probe(check: HealthCheckSpec): Promise<ProbeResult> {
    const timeoutMs = check.timeoutSeconds * 1000;
    if (check.protocol === 'COMMAND') {
      return probeCommand(check.command ?? '', {
        timeoutMs,
        signal: this.abort.signal,
        cwd: this.t.sandbox,
        env: this.t.env,
        user: this.t.user,
        cgroups: this.t.cgroups,
      });
    }
    const port = checkPort(check, this.t.ports);
    if (typeof port === 'string') return Promise.resolve({ ok: false, detail: port });
    if (check.protocol === 'TCP') return probeTcp(port, timeoutMs, this.abort.signal);
    return probeHttp(check.protocol === 'HTTPS', port, check.path ?? '/', timeoutMs, check.ignoreHttp1xx === true, this.abort.signal);
  }
}

/** Settles once: the first of success, failure, timeout or abort wins; `cleanup` always runs. */
function settleOnce(
  timeoutMs: number,
  signal: AbortSignal,
  body: (done: (r: ProbeResult) => void) => () => void,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let finished = false;
    let cleanup: () => void = () => undefined;
    const done = (r: ProbeResult): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      cleanup();
      resolve(r);
    };
    const onAbort = (): void => done({ ok: false, detail: 'stopped' });
    const timer = setTimeout(() => done({ ok: false, detail: `timed out after ${timeoutMs / 1000} s` }), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    cleanup = body(done);
    if (finished) cleanup();
  });
}

export function probeHttp(secure: boolean, port: number, p: string, timeoutMs: number, ignore1xx: boolean, signal: AbortSignal): Promise<ProbeResult> {
  return settleOnce(timeoutMs, signal, (done) => {
    const verdict = (status: number): void => {
      const ok = (status >= 200 && status <= 399) || (ignore1xx && status >= 100 && status <= 199);
      done({ ok, detail: `HTTP ${status}` });
    };
    const opts: https.RequestOptions = {
      host: '127.0.0.1',
      port,
      path: p.startsWith('/') ? p : `/${p}`,
      method: 'GET',
      // A fresh connection per check: a kept-alive socket would hide a server that stopped accepting.
      agent: false,
      headers: { 'User-Agent': 'yagura-health-check', Connection: 'close' },
      ...(secure ? { rejectUnauthorized: false } : {}),
    };
    let req: http.ClientRequest;
    try {
      req = (secure ? https : http).request(opts, (res) => {
        verdict(res.statusCode ?? 0);
        res.resume();
      });
    } catch (err) {
      done({ ok: false, detail: (err as Error).message });
      return () => undefined;
    }
    // Without ignoreHttp1xx an interim 1xx (100, 102, 103) is not the answer: the final status is.
    req.on('information', (info) => {
      if (ignore1xx) verdict(info.statusCode);
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      verdict(res.statusCode ?? 101);
    });
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, detail: err.code === 'ECONNREFUSED' ? 'connection refused' : err.message }));
    req.end();
    return () => req.destroy();
  });
}

export function probeTcp(port: number, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  return settleOnce(timeoutMs, signal, (done) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => done({ ok: true, detail: 'connected' }));
    sock.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, detail: err.code === 'ECONNREFUSED' ? 'connection refused' : err.message }));
    return () => sock.destroy();
  });
}

/**
 * Waits for a go-ahead on fd 3 so the agent can put it into the task's cgroups before the
 * command runs (as the task wrapper does); then becomes `sh -c <command>`.
 */
const COMMAND_WRAPPER = 'read -r _ <&3 || exit 125; exec 3<&-; exec /bin/sh -c "$1"';

export interface CommandProbeOptions {
  timeoutMs: number;
  signal: AbortSignal;
  cwd: string;
  env: Record<string, string>;
  user: UserInfo | null;
  cgroups: TaskCgroups | null;
}

export function probeCommand(command: string, o: CommandProbeOptions): Promise<ProbeResult> {
  return new Promise((resolve) => {
    if (o.signal.aborted) return resolve({ ok: false, detail: 'stopped' });
    const child = spawn('/bin/sh', ['-c', COMMAND_WRAPPER, 'yagura-health', command], {
      cwd: o.cwd,
      env: o.env,
      // Its own process group, so a timeout takes whatever the command started with it.
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      ...(o.user ? { uid: o.user.uid, gid: o.user.gid } : {}),
    });
    let verdict: ProbeResult | undefined;
    const kill = (why: ProbeResult): void => {
      verdict ??= why;
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      (child.stdio[3] as { destroy?: () => void } | null)?.destroy?.();
    };
    const timer = setTimeout(() => kill({ ok: false, detail: `timed out after ${o.timeoutMs / 1000} s` }), o.timeoutMs);
    const onAbort = (): void => kill({ ok: false, detail: 'stopped' });
    o.signal.addEventListener('abort', onAbort, { once: true });
    const finish = (r: ProbeResult): void => {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      resolve(verdict ?? r);
    };
    child.once('error', (err) => finish({ ok: false, detail: err.message }));
    child.once('exit', (code, sig) => {
      // The command's own children may linger in the group; a check leaves nothing behind.
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      finish(code === 0 ? { ok: true, detail: 'exit 0' } : { ok: false, detail: sig ? `terminated by ${sig}` : `exited with status ${code}` });
    });
    const ctl = child.stdio[3] as NodeJS.WritableStream | null;
    ctl?.on('error', () => undefined);
    if (child.pid === undefined) return;
    const pid = child.pid;
    void (async () => {
      try {
        await o.cgroups?.addProcess(pid);
      } catch (err) {
        return kill({ ok: false, detail: `cgroups: ${(err as Error).message}` });
      }
      if (verdict) return;
      ctl?.end('go\n');
    })();
  });
}
