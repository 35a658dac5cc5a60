// `yagura package …`: the catalog over the Cosmos-shaped /package API, as `dcos package` was.

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { UsageError, type CommandSpec, type Parsed } from './args.js';
import { CliError, CLIENT_OPTIONS, table, type Client } from './client.js';

const print = (s: string) => process.stdout.write(s);

export const PACKAGE_COMMAND: CommandSpec = {
  usage:
    'yagura package search [QUERY] | describe NAME [--config|--render] | install NAME [--options FILE] [--app-id ID] [--yes] | ' +
    'uninstall NAME [--app-id ID|--all] | list | list-versions NAME | repo add NAME URL [--index N] | repo remove NAME | repo list | repo refresh [NAME]',
  summary:
    'Packages from the catalog (DC/OS Universe format). install asks for confirmation after printing the pre-install notes, unless --yes. ' +
    'describe --config prints the options schema; --render the definition install would create (with --options and --app-id).',
  options: {
    ...CLIENT_OPTIONS,
    options: { type: 'string', help: 'install/describe --render: a JSON file of options' },
    'app-id': { type: 'string', help: 'install: the app (or job) id to install under; uninstall: which installation' },
    'package-version': { type: 'string', help: 'describe/install: this version instead of the newest' },
    yes: { type: 'boolean', help: 'install: do not ask for confirmation', short: 'y' },
    all: { type: 'boolean', help: 'uninstall: every installation of the package' },
    config: { type: 'boolean', help: 'describe: print the options schema (config.json)' },
    render: { type: 'boolean', help: 'describe: print the rendered app or job definition' },
    index: { type: 'number', help: 'repo add: position in the list (0 = first; first match wins)' },
  },
};

function arg(p: Parsed, i: number, what: string): string {
  const v = p.positionals[i];
  if (!v) throw new UsageError(`${p.positionals.slice(0, i).join(' ')} needs ${what}`);
  return v;
}

function noMore(p: Parsed, n: number): void {
  if (p.positionals.length > n) throw new UsageError(`unexpected argument '${p.positionals[n]}'`);
}

function readOptions(p: Parsed): Record<string, unknown> | undefined {
  const file = p.options.options as string | undefined;
  if (file === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read options from ${file}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliError(`${file}: options must be a JSON object`);
  return parsed as Record<string, unknown>;
}

function installBody(p: Parsed, name: string): Record<string, unknown> {
  const options = readOptions(p);
  return {
    packageName: name,
    ...(p.options['package-version'] !== undefined ? { packageVersion: p.options['package-version'] } : {}),
    ...(options ? { options } : {}),
    ...(p.options['app-id'] !== undefined ? { appId: p.options['app-id'] } : {}),
  };
}

const json = (v: unknown) => print(JSON.stringify(v, null, 2) + '\n');

interface SearchResult {
  packages: Array<{ name: string; currentVersion: string; kind: string; selected: boolean; repository: string; description: string; tags: string[] }>;
}
interface Described {
  package: Record<string, unknown> & { name: string; version: string; description: string; maintainer: string; tags: string[]; kind: string; preInstallNotes?: string; postInstallNotes?: string };
}
interface Repos {
  repositories: Array<{ name: string; uri: string; builtIn?: boolean; packages?: number; lastRefreshedAt?: string; error?: string }>;
}

/** Asks on the terminal; without a terminal, refuses rather than guess. */
async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new CliError('not a terminal, so cannot ask for confirmation: pass --yes to install');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = (await rl.question(`${question} [yes/no] `)).trim().toLowerCase();
    return answer === 'y' || answer === 'yes';
  } finally {
    rl.close();
  }
}

export async function packageCommand(c: Client, p: Parsed): Promise<number> {
  const sub = p.positionals[0] ?? 'search';
  switch (sub) {
    case 'search': {
      noMore(p, 2);
      const r = await c.request<SearchResult>('POST', '/package/search', { query: p.positionals[1] ?? '' });
      if (p.options.json) return json(r), 0;
      if (r.packages.length === 0) {
        print('no packages match\n');
        return 0;
      }
      print(table(['NAME', 'VERSION', 'KIND', 'SELECTED', 'REPOSITORY', 'DESCRIPTION'], r.packages.map((x) => [x.name, x.currentVersion, x.kind, x.selected ? 'yes' : '', x.repository, x.description.length > 60 ? `${x.description.slice(0, 59)}…` : x.description])));
      return 0;
    }
    case 'describe': {
      const name = arg(p, 1, 'a package name');
      noMore(p, 2);
      if (p.options.render) {
        const r = await c.request<Record<string, unknown>>('POST', '/package/render', installBody(p, name));
        return json(r.marathonJson ?? r.metronomeJson ?? r), 0;
      }
      const r = await c.request<Described>('POST', '/package/describe', { packageName: name, ...(p.options['package-version'] !== undefined ? { packageVersion: p.options['package-version'] } : {}) });
      if (p.options.config) return json(r.package.config ?? {}), 0;
      if (p.options.json) return json(r.package), 0;
      const d = r.package;
      const versions = await c.request<{ results: Record<string, string> }>('POST', '/package/list-versions', { packageName: name });
      print(`${d.name} ${d.version} (${d.kind})\n${d.description}\n\n`);
      print(`maintainer: ${d.maintainer}\ntags: ${d.tags.join(', ') || '-'}\nversions: ${Object.keys(versions.results).join(', ')}\n`);
      if (d.preInstallNotes) print(`\npre-install notes:\n${d.preInstallNotes}\n`);
      if (d.postInstallNotes) print(`\npost-install notes:\n${d.postInstallNotes}\n`);
      return 0;
    }
    case 'list-versions': {
      const name = arg(p, 1, 'a package name');
      noMore(p, 2);
      const r = await c.request<{ results: Record<string, string> }>('POST', '/package/list-versions', { packageName: name });
      if (p.options.json) return json(r.results), 0;
      print(table(['VERSION', 'RELEASE'], Object.entries(r.results).map(([v, rel]) => [v, rel])));
      return 0;
    }
    case 'install': {
      const name = arg(p, 1, 'a package name');
      noMore(p, 2);
      const body = installBody(p, name);
      // render first: bad options fail before anything is asked or created
      await c.request('POST', '/package/render', body);
      const d = await c.request<Described>('POST', '/package/describe', { packageName: name, ...(body.packageVersion ? { packageVersion: body.packageVersion } : {}) });
      if (d.package.preInstallNotes) print(`${d.package.preInstallNotes}\n`);
      if (!p.options.yes && !(await confirm(`Install ${name} ${d.package.version}?`))) {
        print('not installed\n');
        return 1;
      }
      const r = await c.request<{ appId: string; packageVersion: string; kind: string; postInstallNotes?: string }>('POST', '/package/install', body);
      if (p.options.json) return json(r), 0;
      print(`installed ${name} ${r.packageVersion} as ${r.kind} ${r.appId}\n`);
      if (r.postInstallNotes) print(`${r.postInstallNotes}\n`);
      return 0;
    }
    case 'uninstall': {
      const name = arg(p, 1, 'a package name');
      noMore(p, 2);
      if (p.options.all && p.options['app-id'] !== undefined) throw new UsageError('give --app-id or --all, not both');
      const r = await c.request<{ results: Array<{ appId: string; postUninstallNotes?: string }> }>('POST', '/package/uninstall', {
        packageName: name,
        ...(p.options['app-id'] !== undefined ? { appId: p.options['app-id'] } : {}),
        ...(p.options.all ? { all: true } : {}),
      });
      if (p.options.json) return json(r), 0;
      for (const x of r.results) print(`uninstalled ${name} ${x.appId}\n${x.postUninstallNotes ? `${x.postUninstallNotes}\n` : ''}`);
      return 0;
    }
    case 'list': {
      noMore(p, 1);
      const r = await c.request<{ packages: Array<{ appId: string; kind: string; packageInformation: { packageDefinition: { name: string; version: string } } }> }>('POST', '/package/list', {});
      if (p.options.json) return json(r.packages), 0;
      if (r.packages.length === 0) {
        print('no packages installed\n');
        return 0;
      }
      print(table(['NAME', 'VERSION', 'KIND', 'ID'], r.packages.map((x) => [x.packageInformation.packageDefinition.name, x.packageInformation.packageDefinition.version, x.kind, x.appId])));
      return 0;
    }
    case 'repo':
      return repoCommand(c, p);
    default:
      throw new UsageError(`unknown package subcommand '${sub}'`);
  }
}

async function repoCommand(c: Client, p: Parsed): Promise<number> {
  const sub = p.positionals[1] ?? 'list';
  let r: Repos;
  switch (sub) {
    case 'list':
      noMore(p, 2);
      r = await c.request<Repos>('POST', '/package/repository/list', {});
      break;
    case 'add': {
      const name = arg(p, 2, 'a name');
      const uri = arg(p, 3, 'a URL');
      noMore(p, 4);
      r = await c.request<Repos>('POST', '/package/repository/add', { name, uri, ...(p.options.index !== undefined ? { index: p.options.index } : {}) });
      break;
    }
    case 'remove': {
      const name = arg(p, 2, 'a name');
      noMore(p, 3);
      r = await c.request<Repos>('POST', '/package/repository/delete', { name });
      break;
    }
    case 'refresh':
      noMore(p, 3);
      r = await c.request<Repos>('POST', '/package/repository/refresh', p.positionals[2] ? { name: p.positionals[2] } : {});
      break;
    default:
      throw new UsageError(`unknown repo subcommand '${sub}'`);
  }
  if (p.options.json) return json(r.repositories), 0;
  print(table(['NAME', 'URI', 'PACKAGES', 'REFRESHED', 'ERROR'], r.repositories.map((x) => [x.name, x.uri, String(x.packages ?? '-'), x.builtIn ? 'built in' : (x.lastRefreshedAt ?? '-'), x.error ?? ''])));
  return 0;
}
