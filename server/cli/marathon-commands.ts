// `yagura app …` and `yagura deployment …`: services over the Marathon API (/v2), so that the
// same app JSON files work here and with Marathon's own tools.

import { readFileSync } from 'node:fs';
import { UsageError, type CommandSpec, type Parsed } from './args.js';
import { CliError, CLIENT_OPTIONS, table, type Client } from './client.js';

const print = (s: string) => process.stdout.write(s);

export const APP_COMMAND: CommandSpec = {
  usage: 'yagura app deploy FILE [--force] | list | show ID | scale ID N | restart ID | rollback ID [VERSION] | remove ID',
  summary:
    'Services (Marathon apps). deploy: create or update an app from a Marathon app JSON file (a group file with apps/groups goes to /v2/groups). ' +
    'rollback: back to VERSION, or to the version before the current one. --force overrides a deployment in progress.',
  options: {
    ...CLIENT_OPTIONS,
    force: { type: 'boolean', help: 'override the lock of a deployment in progress' },
  },
};

export const DEPLOYMENT_COMMAND: CommandSpec = {
  usage: 'yagura deployment list | cancel ID [--force]',
  summary: 'Deployments in progress. cancel: roll the change back (a new deployment), or with --force just stop where it is.',
  options: {
    ...CLIENT_OPTIONS,
    force: { type: 'boolean', help: 'cancel: stop without rolling back' },
  },
};

interface AppJson {
  id: string;
  instances: number;
  cpus: number;
  mem: number;
  version: string;
  cmd?: string;
  tasksRunning: number;
  tasksStaged: number;
  tasksHealthy: number;
  tasksUnhealthy: number;
  healthChecks: unknown[];
  deployments: Array<{ id: string }>;
  tasks?: Array<{ id: string; host: string; ports: number[]; state: string; version: string; healthCheckResults: Array<{ alive: boolean }> }>;
  lastTaskFailure?: { taskId: string; state: string; message: string; timestamp: string };
}

interface DeploymentJson {
  id: string;
  version: string;
  affectedApps: string[];
  currentActions: Array<{ action: string; app: string }>;
  currentStep: number;
  totalSteps: number;
}

interface DeploymentResult {
  version: string;
  deploymentId: string;
}

/** "/prod/web" or "prod/web" → the URL path under /v2/apps, each segment encoded. */
function appPath(id: string): string {
  const segments = id.split('/').filter(Boolean);
  if (segments.length === 0) throw new UsageError(`"${id}" is not an app id`);
  return '/' + segments.map(encodeURIComponent).join('/');
}

const absolute = (id: string): string => '/' + id.split('/').filter(Boolean).join('/');

function args(p: Parsed, min: number, max: number, what: string): string[] {
  const rest = p.positionals.slice(1);
  if (rest.length < min) throw new UsageError(`${p.positionals[0]} needs ${what}`);
  if (rest.length > max) throw new UsageError(`${p.positionals[0]} takes at most ${max} argument${max === 1 ? '' : 's'}, got ${rest.length}`);
  return rest;
}

const force = (p: Parsed): string => (p.options.force ? '?force=true' : '');

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function status(a: AppJson): string {
  if (a.deployments.length) return 'Deploying';
  if (a.instances === 0 && a.tasksRunning === 0) return 'Suspended';
  if (a.tasksRunning < a.instances) return 'Waiting';
  return 'Running';
}

export async function appCommand(c: Client, p: Parsed): Promise<number> {
  const sub = p.positionals[0] ?? 'list';
  switch (sub) {
    case 'deploy': {
      const [file] = args(p, 1, 1, 'a JSON file (Marathon app or group definition)');
      const body = readJson(file!);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new CliError(`${file} must hold one JSON object (an app or a group)`);
      const def = body as Record<string, unknown>;
      if (typeof def.id !== 'string' || !def.id) throw new CliError(`${file} has no "id"`);
      const isGroup = ('apps' in def || 'groups' in def) && !('cmd' in def || 'args' in def || 'container' in def);
      if (isGroup) {
        const r = await c.request<DeploymentResult>('PUT', `/v2/groups${appPath(def.id)}${force(p)}`, def);
        print(`group ${absolute(def.id)}: deployment ${r.deploymentId} started (version ${r.version})\n`);
        return 0;
      }
      const id = absolute(def.id);
      const { apps } = await c.request<{ apps: AppJson[] }>('GET', `/v2/apps?id=${encodeURIComponent(id)}`);
      if (apps.some((a) => a.id === id)) {
        const r = await c.request<DeploymentResult>('PUT', `/v2/apps${appPath(id)}${force(p)}`, def);
        print(`updated ${id}: deployment ${r.deploymentId} started (version ${r.version})\n`);
      } else {
        const r = await c.request<AppJson>('POST', `/v2/apps${force(p)}`, def);
        print(`created ${r.id}: deployment ${r.deployments[0]?.id ?? '-'} started (version ${r.version})\n`);
      }
      return 0;
    }
    case 'list': {
      args(p, 0, 0, '');
      const { apps } = await c.request<{ apps: AppJson[] }>('GET', '/v2/apps');
      if (p.options.json) {
        print(JSON.stringify(apps, null, 2) + '\n');
        return 0;
      }
      print(
        table(
          ['ID', 'INSTANCES', 'HEALTHY', 'CPUS', 'MEM', 'STATUS', 'VERSION'],
          apps.map((a) => [
            a.id,
            `${a.tasksRunning}/${a.instances}`,
            a.healthChecks.length ? `${a.tasksHealthy}/${a.instances}` : '-',
            String(a.cpus),
            `${a.mem} MiB`,
            status(a),
            a.version,
          ]),
        ),
      );
      return 0;
    }
    case 'show': {
      const [id] = args(p, 1, 1, 'an app id');
      const { app } = await c.request<{ app: AppJson }>('GET', `/v2/apps${appPath(id!)}`);
      if (p.options.json) {
        print(JSON.stringify(app, null, 2) + '\n');
        return 0;
      }
      const lines = [
        `id:         ${app.id}`,
        `status:     ${status(app)}${app.deployments.length ? ` (${app.deployments.map((d) => d.id).join(', ')})` : ''}`,
        `version:    ${app.version}`,
        `instances:  ${app.tasksRunning} running, ${app.tasksStaged} staged of ${app.instances}` +
          (app.healthChecks.length ? `; ${app.tasksHealthy} healthy, ${app.tasksUnhealthy} unhealthy` : ''),
        `resources:  ${app.cpus} cpus, ${app.mem} MiB`,
        ...(app.cmd ? [`cmd:        ${app.cmd}`] : []),
        ...(app.lastTaskFailure ? [`last fail:  ${app.lastTaskFailure.taskId} ${app.lastTaskFailure.state} at ${app.lastTaskFailure.timestamp}: ${app.lastTaskFailure.message}`] : []),
      ];
      print(lines.join('\n') + '\n');
      const tasks = app.tasks ?? [];
      if (tasks.length) {
        print('\n');
        print(
          table(
            ['TASK', 'HOST', 'PORTS', 'STATE', 'HEALTH', 'VERSION'],
            tasks.map((t) => [
              t.id,
              t.host,
              t.ports.join(',') || '-',
              t.state,
              t.healthCheckResults.length ? (t.healthCheckResults.every((h) => h.alive) ? 'healthy' : 'unhealthy') : '-',
              t.version,
            ]),
          ),
        );
      }
      return 0;
    }
    case 'scale': {
      const [id, n] = args(p, 2, 2, 'an app id and an instance count');
      if (!/^\d+$/.test(n!)) throw new UsageError(`the instance count must be a whole number >= 0, got "${n}"`);
      const r = await c.request<DeploymentResult>('PATCH', `/v2/apps${appPath(id!)}${force(p)}`, { instances: Number(n) });
      print(`scaling ${absolute(id!)} to ${Number(n)}: deployment ${r.deploymentId}\n`);
      return 0;
    }
    case 'restart': {
      const [id] = args(p, 1, 1, 'an app id');
      const r = await c.request<DeploymentResult>('POST', `/v2/apps${appPath(id!)}/restart${force(p)}`);
      print(`restarting ${absolute(id!)}: deployment ${r.deploymentId} (version ${r.version})\n`);
      return 0;
    }
    case 'rollback': {
      const [id, wanted] = args(p, 1, 2, 'an app id (and optionally a version)');
      let version: string | undefined = wanted;
      if (!version) {
        const [{ app }, { versions }] = await Promise.all([
          c.request<{ app: AppJson }>('GET', `/v2/apps${appPath(id!)}`),
          c.request<{ versions: string[] }>('GET', `/v2/apps${appPath(id!)}/versions`),
        ]);
        version = versions.find((v) => v < app.version);
        if (!version) throw new CliError(`${absolute(id!)} has no version before ${app.version} to roll back to`);
      }
      const r = await c.request<DeploymentResult>('PUT', `/v2/apps${appPath(id!)}${force(p)}`, { version });
      print(`rolling ${absolute(id!)} back to ${version}: deployment ${r.deploymentId} (version ${r.version})\n`);
      return 0;
    }
    case 'remove': {
      const [id] = args(p, 1, 1, 'an app id');
      const r = await c.request<DeploymentResult>('DELETE', `/v2/apps${appPath(id!)}${force(p)}`);
      print(`removing ${absolute(id!)}: deployment ${r.deploymentId}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown app subcommand '${sub}'`);
  }
}

export async function deploymentCommand(c: Client, p: Parsed): Promise<number> {
  const sub = p.positionals[0] ?? 'list';
  switch (sub) {
    case 'list': {
      args(p, 0, 0, '');
      const list = await c.request<DeploymentJson[]>('GET', '/v2/deployments');
      if (p.options.json) {
        print(JSON.stringify(list, null, 2) + '\n');
        return 0;
      }
      print(
        table(
          ['ID', 'APPS', 'ACTIONS', 'STEP', 'VERSION'],
          list.map((d) => [
            d.id,
            d.affectedApps.join(','),
            d.currentActions.map((a) => `${a.action} ${a.app}`).join(', ') || '-',
            `${d.currentStep}/${d.totalSteps}`,
            d.version,
          ]),
        ),
      );
      return 0;
    }
    case 'cancel': {
      const [id] = args(p, 1, 1, 'a deployment id');
      const r = await c.request<DeploymentResult | undefined>('DELETE', `/v2/deployments/${encodeURIComponent(id!)}${force(p)}`);
      if (r?.deploymentId) print(`deployment ${id} canceled; rolling back with deployment ${r.deploymentId}\n`);
      else print(`deployment ${id} stopped\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown deployment subcommand '${sub}'`);
  }
}
