// How one task's process is started: a small sh wrapper in its own process group that
// waits for the agent's go-ahead on fd 3 (so it can be put into its cgroups first), runs
// the command as its child, and records the child's exit status in a file. The file lets
// an agent that was down while the task ended learn the real outcome.

import { spawn, type ChildProcess } from 'node:child_process';
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

export interface SpawnOptions {
  spec: LaunchSpec;
  sandbox: string;
  exitFile: string;
  mvPath: string;
  env: Record<string, string>;
  stdoutFd: number;
  stderrFd: number;
  uid?: number;
  gid?: number;
}

/** Starts the wrapper, blocked until `release` is called. Throws on synchronous spawn errors. */
export function spawnWrapper(o: SpawnOptions): ChildProcess {
  const cmd = o.spec.command;
  const tail = cmd.shell ? ['shell', cmd.value] : ['exec', cmd.value, ...(cmd.args ?? [])];
  return spawn('/bin/sh', ['-c', WRAPPER_SCRIPT, `yagura-task:${o.spec.taskId}`, o.exitFile, o.mvPath, ...tail], {
    cwd: o.sandbox,
    env: o.env,
    // A new session and process group: the task survives the agent and is signalled as a whole.
    detached: true,
    stdio: ['ignore', o.stdoutFd, o.stderrFd, 'pipe'],
    ...(o.uid !== undefined ? { uid: o.uid } : {}),
    ...(o.gid !== undefined ? { gid: o.gid } : {}),
  });
}

/** Lets the wrapper run the command. */
export function releaseWrapper(child: ChildProcess): void {
  const ctl = child.stdio[3] as NodeJS.WritableStream & { destroy?: () => void };
  ctl.end('go\n');
}

/** Makes a wrapper that was never released exit without running anything. */
export function abandonWrapper(child: ChildProcess): void {
  const ctl = child.stdio[3] as { destroy?: () => void } | null;
  ctl?.destroy?.();
}
