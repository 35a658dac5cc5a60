// `yagura sim`: simulated agents against a real master, from the command line.

import { readFileSync } from 'node:fs';
import { parseResources } from '../core/resources.js';
import { parseAttributes, UsageError, type CommandSpec, type Parsed } from '../cli/args.js';
import type { SimDuration, SimOptions } from './sim.js';

export const SIM_COMMAND: CommandSpec = {
  usage: 'yagura sim --master URL --agents N [--secret S | --secret-file F] [options]',
  summary:
    'Run simulated agents against a real master, for load tests. Each registers over its own link with the real agent protocol, ' +
    'heartbeats and "runs" the tasks it is given without starting processes: STARTING, RUNNING after --launch-delay, FINISHED after ' +
    '--run-time (FAILED, exit 1, for --failure-rate of them), KILLED when killed. ' +
    'Prints their counters every --report seconds until stopped.',
  options: {
    master: { type: 'string', help: 'master URL', default: process.env.YAGURA_MASTER || 'http://127.0.0.1:5050' },
    agents: { type: 'number', help: 'how many agents (required)' },
    secret: { type: 'string', help: "the agents' shared secret (env YAGURA_AGENT_SECRET)" },
    'secret-file': { type: 'string', help: "a file holding the secret, e.g. the master's <data-dir>/agent-secret" },
    cpus: { type: 'number', help: 'cpus per agent', default: 8 },
    mem: { type: 'number', help: 'memory per agent, MiB', default: 32768 },
    disk: { type: 'number', help: 'disk per agent, MiB', default: 102400 },
    ports: { type: 'string', help: 'port ranges per agent', default: '[31000-32000]' },
    regions: { type: 'number', help: 'agent n gets region:region-<n % regions> (0: none)', default: 2 },
    zones: { type: 'number', help: 'agent n gets zone:zone-<n % zones> (0: none)', default: 6 },
    racks: { type: 'number', help: 'agent n gets rack:rack-<n % racks> (0: none)', default: 60 },
    attributes: { type: 'string', help: 'extra attributes for every agent, e.g. "pool:sim;os:linux"' },
    'hostname-prefix': { type: 'string', help: 'hostnames are <prefix><n>', default: 'sim-' },
    'first-index': { type: 'number', help: 'n of the first agent (distinct ranges for several sim processes)', default: 0 },
    'run-time': { type: 'string', help: 'seconds a task runs, or MIN-MAX, or forever', default: 'forever' },
    'failure-rate': { type: 'number', help: 'share of tasks (0..1) that fail with exit code 1', default: 0 },
    'fail-after': { type: 'string', help: 'seconds (or MIN-MAX) before a failing task fails when the run time is forever', default: '1' },
    'launch-delay': { type: 'string', help: 'seconds (or MIN-MAX) from TASK_STARTING to TASK_RUNNING', default: '0' },
    'kill-delay': { type: 'string', help: 'seconds (or MIN-MAX) from TASK_KILLING to TASK_KILLED', default: '0' },
    seed: { type: 'number', help: 'seed for failures and random durations', default: 1 },
    'connect-concurrency': { type: 'number', help: 'links opened at once while connecting', default: 200 },
    report: { type: 'number', help: 'print the counters every this many seconds (0: never)', default: 10 },
    quiet: { type: 'boolean', help: 'log errors only' },
  },
};

/** "30", "0.5", "10-60" (seconds) → ms; "forever" → undefined. */
export function parseSeconds(name: string, text: string, allowForever: boolean): SimDuration | undefined {
  const t = text.trim();
  if (allowForever && t === 'forever') return undefined;
  const num = '(\\d+(?:\\.\\d+)?)';
  const m = new RegExp(`^${num}(?:-${num})?$`).exec(t);
  if (!m) throw new UsageError(`--${name} must be seconds (e.g. 30), a range MIN-MAX (e.g. 10-60)${allowForever ? ' or forever' : ''}; got ${text}`);
  const a = Math.round(Number(m[1]) * 1000);
  if (m[2] === undefined) return a;
  const b = Math.round(Number(m[2]) * 1000);
  if (b < a) throw new UsageError(`--${name}: the range ${text} ends before it starts`);
  return [a, b];
}

function wholeNumber(o: Parsed['options'], name: string, min: number): number {
  const v = Number(o[name]);
  if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be a whole number of at least ${min}`);
  return v;
}

export function simOptionsFrom(p: Parsed, log: SimOptions['log']): SimOptions {
  const o = p.options;
  if (p.positionals.length) throw new UsageError(`unexpected argument ${p.positionals[0]}`);
  if (o.agents === undefined) throw new UsageError('--agents N is required');
  const agents = wholeNumber(o, 'agents', 1);
  if (o.secret !== undefined && o['secret-file'] !== undefined) throw new UsageError('give --secret or --secret-file, not both');
  let secret = (o.secret as string | undefined) ?? process.env.YAGURA_AGENT_SECRET;
  if (o['secret-file'] !== undefined) {
    try {
      secret = readFileSync(String(o['secret-file']), 'utf8').trim();
    } catch (err) {
      throw new UsageError(`--secret-file: cannot read ${String(o['secret-file'])}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (!secret) throw new UsageError("--secret, --secret-file (or YAGURA_AGENT_SECRET) is required: the content of the master's <data-dir>/agent-secret");
  for (const name of ['cpus', 'mem', 'disk'] as const) if (!(Number(o[name]) >= 0)) throw new UsageError(`--${name} must be a number >= 0`);
  let ports;
  try {
    ports = parseResources(`ports:${String(o.ports)}`).ports;
  } catch (err) {
    throw new UsageError(`--ports: ${(err as Error).message}`);
  }
  const rate = Number(o['failure-rate']);
  if (!(rate >= 0 && rate <= 1)) throw new UsageError('--failure-rate must be between 0 and 1');
  const runTime = parseSeconds('run-time', String(o['run-time']), true);
  try {
    new URL(String(o.master));
  } catch {
    throw new UsageError(`--master must be a URL like http://127.0.0.1:5050, got ${String(o.master)}`);
  }
  if (!/^(https?|wss?):$/.test(new URL(String(o.master)).protocol)) throw new UsageError(`--master must be an http(s) URL, got ${String(o.master)}`);
  return {
    masterUrl: String(o.master),
    secret,
    agents,
    resources: { cpus: Number(o.cpus), mem: Number(o.mem), disk: Number(o.disk), ports },
    regions: wholeNumber(o, 'regions', 0),
    zones: wholeNumber(o, 'zones', 0),
    racks: wholeNumber(o, 'racks', 0),
    ...(o.attributes ? { attributes: parseAttributes(String(o.attributes)) } : {}),
    hostnamePrefix: String(o['hostname-prefix']),
    firstIndex: wholeNumber(o, 'first-index', 0),
    ...(runTime !== undefined ? { runTimeMs: runTime } : {}),
    failureRate: rate,
    failAfterMs: parseSeconds('fail-after', String(o['fail-after']), false)!,
    launchDelayMs: parseSeconds('launch-delay', String(o['launch-delay']), false)!,
    killDelayMs: parseSeconds('kill-delay', String(o['kill-delay']), false)!,
    seed: Number(o.seed),
    connectConcurrency: wholeNumber(o, 'connect-concurrency', 1),
    ...(log ? { log } : {}),
  };
}

/** The soft limit of open files of this process, where Linux tells it. */
function openFilesLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function simCommand(p: Parsed): Promise<void> {
  const quiet = p.options.quiet === true;
  const log: SimOptions['log'] = (level, msg) => {
    if (quiet && level !== 'error') return;
    process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} sim: ${msg}\n`);
  };
  const report = Number(p.options.report);
  if (!(report >= 0)) throw new UsageError('--report must be seconds >= 0');
  const opts = simOptionsFrom(p, log);
  const fds = openFilesLimit();
  if (fds !== undefined && opts.agents + 64 > fds) {
    log('warn', `${opts.agents} agents need ${opts.agents} sockets but this process may open ${fds} files (ulimit -n): some will fail with EMFILE; split them over several \`yagura sim --first-index\` processes`);
  }
  // loaded here: `yagura --help` and the client commands should not pay for the simulator
  const [{ startSimAgents }, { AUTH_FAILURE_EXIT_CODE }] = await Promise.all([import('./sim.js'), import('../agent/agent.js')]);
  const sim = startSimAgents(opts);
  const line = () => {
    const c = sim.counters;
    return (
      `agents ${c.registered}/${opts.agents} registered · tasks launched ${c.launched}, running ${c.running}, ` +
      `finished ${c.finished}, failed ${c.failed}, killed ${c.killed} · updates ${c.updates} (+${c.resent} resent), acks ${c.acks}\n`
    );
  };
  let stopping = false;
  const stop = (sig: string, code: number) => {
    if (stopping) process.exit(130);
    stopping = true;
    if (sig) process.stderr.write(`${sig}: stopping\n`);
    sim.close().then(
      () => process.exit(code),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT', 0));
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  process.stdout.write(`${opts.agents} simulated agents dialing ${opts.masterUrl}\n`);
  const timer = report > 0 ? setInterval(() => process.stdout.write(line()), report * 1000) : undefined;
  try {
    await sim.registered(Number.MAX_SAFE_INTEGER);
  } catch (err) {
    clearInterval(timer);
    process.stderr.write(`yagura sim: ${(err as Error).message}\n`);
    // only a refused secret ends the wait: say so with the agent's exit status for it
    stop('', AUTH_FAILURE_EXIT_CODE);
    return;
  }
  process.stdout.write(`all ${opts.agents} simulated agents registered\n`);
}
