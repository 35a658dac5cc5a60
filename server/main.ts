#!/usr/bin/env node
// The `yagura` command line: parses argv, starts what was asked, nothing else. The master and
// the agent are loaded only by the commands that run them, so the client commands start fast.

import { hostname as osHostname } from 'node:os';
import { join, resolve } from 'node:path';
import { chmodSync, statSync } from 'node:fs';
import type { Agent } from './agent/agent.js';
import { parseResources } from './core/resources.js';
import { formatHelp, parseArgs, parseAttributes, UsageError, type CommandSpec, type Parsed } from './cli/args.js';
import { CliError, CLIENT_OPTIONS, makeClient } from './cli/client.js';
import { nodeCommand, taskCommand, tokenCommand } from './cli/commands.js';
import { JOB_COMMAND, jobCommand } from './cli/job-commands.js';
import { PACKAGE_COMMAND, packageCommand } from './cli/package-commands.js';
import { APP_COMMAND, DEPLOYMENT_COMMAND, appCommand, deploymentCommand } from './cli/marathon-commands.js';
import { SIM_COMMAND, simCommand } from './sim/cli.js';
import { VERSION } from './version.js';
import type { Logger } from './master/types.js';

const logger =
  (quiet: boolean): Logger =>
  (level, msg) => {
    if (quiet && (level === 'debug' || level === 'info')) return;
    if (level === 'debug' && !process.env.YAGURA_DEBUG) return;
    process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${msg}\n`);
  };

const MASTER_OPTIONS: CommandSpec['options'] = {
  host: { type: 'string', help: 'address to bind; non-loopback needs auth', default: '127.0.0.1' },
  port: { type: 'number', help: 'port to listen on', default: 5050 },
  'data-dir': { type: 'string', help: 'state directory (database, tokens, agent secret)', default: process.env.YAGURA_DATA_DIR ?? '.data' },
  auth: { type: 'boolean', help: 'require tokens (--no-auth only on loopback)', default: true },
  'agent-secret': { type: 'string', help: "agents' shared secret (default: <data-dir>/agent-secret)" },
  'allowed-origin': { type: 'string', help: 'extra browser origin allowed to use the API (repeatable)', multiple: true },
  'heartbeat-interval': { type: 'number', help: 'agent heartbeat interval, seconds', default: 5 },
  'max-missed-heartbeats': { type: 'number', help: 'missed heartbeats before an agent is UNREACHABLE', default: 3 },
  'agent-gone-after': { type: 'number', help: 'seconds an agent may stay UNREACHABLE before it is marked GONE (its tasks TASK_GONE, refused if it returns); 0 = never', default: 86400 },
  'offer-timeout': { type: 'number', help: 'seconds before an unused offer is rescinded', default: 60 },
  'job-history': { type: 'number', help: 'finished runs kept per job (with their output tails)', default: 50 },
  quiet: { type: 'boolean', help: 'log warnings and errors only' },
};

const AGENT_OPTIONS: CommandSpec['options'] = {
  master: { type: 'string', help: 'master URL', default: process.env.YAGURA_MASTER ?? 'http://127.0.0.1:5050' },
  secret: { type: 'string', help: "the agents' shared secret (env YAGURA_AGENT_SECRET)" },
  'work-dir': { type: 'string', help: 'checkpoints and sandboxes', default: '.data/agent' },
  hostname: { type: 'string', help: 'hostname to announce (distinct per agent on one machine)' },
  attributes: { type: 'string', help: 'attributes, e.g. "region:eu;zone:eu-1a;rack:r1"' },
  resources: { type: 'string', help: 'override detected resources, e.g. "cpus:2;mem:2048;disk:4096;ports:[31000-32000]"' },
  user: { type: 'string', help: "run tasks as this user (default 'nobody' when root); 'none' keeps the agent's user" },
  cgroups: { type: 'boolean', help: 'use cgroups when the machine allows (--no-cgroups: posix fallback)', default: true },
  'kill-tasks-on-exit': { type: 'boolean', help: 'kill tasks when the agent stops (default: they keep running and are recovered)' },
  quiet: { type: 'boolean', help: 'log warnings and errors only' },
};

const COMMANDS: Record<string, CommandSpec & { run(p: Parsed): Promise<number | void> }> = {
  up: {
    usage: 'yagura up [options]',
    summary: 'Run a master, one local agent and the dashboard. Prints the dashboard URL with a one-time login link.',
    options: { ...MASTER_OPTIONS, ...pick(AGENT_OPTIONS, ['attributes', 'resources', 'user', 'cgroups']), agent: { type: 'boolean', help: 'start the local agent', default: true } },
    run: (p) => runUp(p),
  },
  master: {
    usage: 'yagura master [options]',
    summary: 'Run a master (and the dashboard). Agents dial in at /api/v1/agent with the agent secret.',
    options: MASTER_OPTIONS,
    run: (p) => runMaster(p),
  },
  agent: {
    usage: 'yagura agent --master URL --secret S [options]',
    summary: 'Run an agent: it dials the master, offers this machine and runs tasks as isolated processes.',
    options: AGENT_OPTIONS,
    run: (p) => runAgent(p),
  },
  node: {
    usage: 'yagura node list | drain ID [--grace SECONDS] [--mark-gone] | reactivate ID | gone ID',
    summary: 'List and manage agents (nodes).',
    options: { ...CLIENT_OPTIONS, grace: { type: 'number', help: 'drain: grace period for tasks, seconds' }, 'mark-gone': { type: 'boolean', help: 'drain: mark the agent gone once drained' } },
    run: (p) => nodeCommand(makeClient(p.options), p),
  },
  task: {
    usage: 'yagura task list [--state S] [--agent ID] | kill ID [--grace SECONDS] | logs ID [--stderr] [-f] [--lines N]',
    summary: 'List tasks, kill one, or print (and follow) its output.',
    options: {
      ...CLIENT_OPTIONS,
      state: { type: 'string', help: 'list: only tasks in this state (e.g. TASK_RUNNING)' },
      agent: { type: 'string', help: 'list: only tasks on this agent id' },
      grace: { type: 'number', help: 'kill: grace period before SIGKILL, seconds' },
      stderr: { type: 'boolean', help: 'logs: stderr instead of stdout' },
      follow: { type: 'boolean', help: 'logs: keep printing new output', short: 'f' },
      lines: { type: 'number', help: 'logs: bytes from the end to start with, in KiB', default: 16 },
    },
    run: (p) => taskCommand(makeClient(p.options), p),
  },
  token: {
    usage: 'yagura token list | create --role admin|viewer --name NAME',
    summary: 'Manage API tokens (admin only).',
    options: { ...CLIENT_OPTIONS, role: { type: 'string', help: 'create: admin or viewer', default: 'viewer' }, name: { type: 'string', help: 'create: a label for the token' } },
    run: (p) => tokenCommand(makeClient(p.options), p),
  },
  job: { ...JOB_COMMAND, run: (p) => jobCommand(makeClient(p.options), p) },
  package: { ...PACKAGE_COMMAND, run: (p) => packageCommand(makeClient(p.options), p) },
  app: { ...APP_COMMAND, run: (p) => appCommand(makeClient(p.options), p) },
  deployment: { ...DEPLOYMENT_COMMAND, run: (p) => deploymentCommand(makeClient(p.options), p) },
  sim: { ...SIM_COMMAND, run: (p) => simCommand(p) },
};

function pick<T>(o: Record<string, T>, keys: string[]): Record<string, T> {
  return Object.fromEntries(keys.map((k) => [k, o[k]!]));
}

async function startMaster(p: Parsed, log: Logger) {
  const o = p.options;
  for (const name of ['port', 'job-history', 'max-missed-heartbeats'] as const) {
    const v = Number(o[name]);
    if (!Number.isInteger(v) || v < (name === 'port' ? 0 : 1)) throw new UsageError(`--${name} must be a whole number${name === 'port' ? '' : ' of at least 1'}`);
  }
  for (const name of ['heartbeat-interval', 'offer-timeout'] as const) {
    if (!(Number(o[name]) > 0)) throw new UsageError(`--${name} must be a number of seconds above 0`);
  }
  if (!(Number(o['agent-gone-after']) >= 0)) throw new UsageError('--agent-gone-after must be a number of seconds, 0 or more (0 = never)');
  const { build } = await import('./app.js');
  const app = await build({
    dataDir: resolve(String(o['data-dir'])),
    host: String(o.host),
    port: Number(o.port),
    auth: o.auth !== false,
    ...(o['agent-secret'] ? { agentSecret: String(o['agent-secret']) } : {}),
    allowedOrigins: (o['allowed-origin'] as string[] | undefined) ?? [],
    jobHistory: Number(o['job-history']),
    master: {
      heartbeatIntervalMs: Number(o['heartbeat-interval']) * 1000,
      maxMissedHeartbeats: Number(o['max-missed-heartbeats']),
      agentGoneAfterMs: Number(o['agent-gone-after']) * 1000,
      offerTimeoutMs: Number(o['offer-timeout']) * 1000,
    },
    log,
  });
  const url = await app.listen();
  return { app, url };
}

async function agentFromOptions(o: Parsed['options'], masterUrl: string, secret: string, workDir: string, log: Logger): Promise<Agent> {
  const { Agent } = await import('./agent/agent.js');
  let resources;
  try {
    resources = o.resources ? parseResources(String(o.resources)) : undefined;
  } catch (err) {
    throw new UsageError(`--resources: ${(err as Error).message}`);
  }
  const user = o.user === undefined ? undefined : o.user === 'none' ? null : String(o.user);
  return new Agent({
    masterUrl,
    secret,
    workDir,
    ...(o.hostname ? { hostname: String(o.hostname) } : {}),
    ...(o.attributes ? { attributes: parseAttributes(String(o.attributes)) } : {}),
    ...(resources ? { resources } : {}),
    ...(user !== undefined ? { runAsUser: user } : {}),
    cgroups: o.cgroups !== false,
    exitOnAuthFailure: true,
    logger: (level, msg) => log(level, `agent: ${msg}`),
  });
}

async function runUp(p: Parsed): Promise<void> {
  const log = logger(p.options.quiet === true);
  const { app, url } = await startMaster(p, log);
  let agent: Agent | undefined;
  if (p.options.agent !== false) {
    // tasks run as an unprivileged user and must reach their sandboxes under <data-dir>/agent;
    // the secrets inside stay private by their own modes (600)
    const st = statSync(app.dataDir);
    if ((st.mode & 0o001) === 0) chmodSync(app.dataDir, (st.mode & 0o7777) | 0o011);
    agent = await agentFromOptions(p.options, url, app.agentSecret, join(app.dataDir, 'agent'), log);
    await agent.start();
  }
  process.stdout.write(`Yagura ${VERSION} is up.\n  Dashboard: ${url}/\n  Log in:    ${url}/#token=${app.adminToken}\n  Data:      ${app.dataDir}\n`);
  onStop(async () => {
    // `up` is the whole cluster on one machine: stopping it stops its tasks too
    await agent?.shutdown();
    await app.close();
  });
}

async function runMaster(p: Parsed): Promise<void> {
  const log = logger(p.options.quiet === true);
  const { app, url } = await startMaster(p, log);
  const { AGENT_SECRET_FILE } = await import('./api/auth.js');
  process.stdout.write(
    `Yagura master ${VERSION} listening on ${url}\n  Log in:       ${url}/#token=${app.adminToken}\n  Agent secret: ${join(app.dataDir, AGENT_SECRET_FILE)}\n`,
  );
  onStop(() => app.close());
}

async function runAgent(p: Parsed): Promise<void> {
  const o = p.options;
  const log = logger(o.quiet === true);
  const secret = (o.secret as string | undefined) ?? process.env.YAGURA_AGENT_SECRET;
  if (!secret) throw new UsageError('--secret (or YAGURA_AGENT_SECRET) is required: the content of the master\'s <data-dir>/agent-secret');
  const agent = await agentFromOptions(o, String(o.master), secret, resolve(String(o['work-dir'])), log);
  // refused as GONE: its tasks are killed and it stopped; a supervisor should not restart it as is
  const { GONE_EXIT_CODE } = await import('./agent/agent.js');
  agent.once('gone', () => process.exit(GONE_EXIT_CODE));
  await agent.start();
  log('info', `agent on ${String(o.hostname ?? osHostname())} dialing ${String(o.master)}`);
  onStop(() => (o['kill-tasks-on-exit'] ? agent.shutdown() : agent.stop()));
}

function onStop(fn: () => Promise<void>): void {
  let stopping = false;
  const handler = (sig: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`${sig}: stopping\n`);
    fn().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`error while stopping: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

function mainHelp(): string {
  const lines = [`yagura ${VERSION} — a small datacenter operating system`, '', 'usage: yagura <command> [options]', '', 'commands:'];
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(width)}  ${c.summary.split('.')[0]}`);
  lines.push('', "Run 'yagura <command> --help' for a command's options.");
  return `${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`yagura: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  try {
    const parsed = parseArgs(rest, cmd);
    if (parsed.help) {
      process.stdout.write(formatHelp(name, cmd));
      return 0;
    }
    const code = await cmd.run(parsed);
    return typeof code === 'number' ? code : -1;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`yagura ${name}: ${err.message}\n\n${formatHelp(name, cmd)}`);
      return 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`yagura ${name}: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`yagura ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  // -1: a long-running command; it exits from its signal handler
  if (code >= 0) process.exit(code);
});
