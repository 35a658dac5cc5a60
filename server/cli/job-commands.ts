// `yagura job …`: batch jobs over the Metronome API (and the Chronos one for Chronos-shaped files).

import { readFileSync } from 'node:fs';
import { UsageError, type CommandSpec, type Parsed } from './args.js';
import { CliError, CLIENT_OPTIONS, table, type Client } from './client.js';

const print = (s: string) => process.stdout.write(s);

export const JOB_COMMAND: Omit<CommandSpec, 'options'> & { options: CommandSpec['options'] } = {
  usage: 'yagura job add FILE | list | show ID | run ID | history ID | remove ID [--stop-runs]',
  summary:
    'Batch jobs. add: create or update a job from a JSON file (Metronome job spec; a Chronos job hash with name and command goes to the Chronos API). ' +
    'run: start a run now. history: finished and active runs. remove: delete a job.',
  options: {
    ...CLIENT_OPTIONS,
    'stop-runs': { type: 'boolean', help: 'remove: stop the active runs of the job first' },
  },
};

interface RunJson {
  id: string;
  status: string;
  createdAt: string;
  finishedAt?: string;
  durationSeconds?: number;
  exitCode?: number;
  reason?: string;
  waiting?: string;
  attempts?: number;
  skipped?: boolean;
  tasks: unknown[];
}

interface JobJson {
  id: string;
  description?: string;
  run: { cmd?: string; args?: string[]; cpus: number; mem: number; disk: number };
  dependencies?: Array<{ id: string }>;
  schedules?: Array<{ id: string; cron?: string; iso8601?: string; timezone: string; enabled: boolean; concurrencyPolicy: string; nextRunAt?: string }>;
  activeRuns?: RunJson[];
  historySummary?: { successCount: number; failureCount: number; skippedCount: number; lastSuccessAt: string | null; lastFailureAt: string | null; p50DurationSeconds: number | null; p95DurationSeconds: number | null };
  history?: { successfulFinishedRuns: Array<RunJson & { tasks: string[] }>; failedFinishedRuns: Array<RunJson & { tasks: string[] }> };
}

const enc = encodeURIComponent;

function idArg(p: Parsed, what = 'a job id'): string {
  const id = p.positionals[1];
  if (!id) throw new UsageError(`${p.positionals[0]} needs ${what}`);
  if (p.positionals.length > 2) throw new UsageError(`${p.positionals[0]} takes one argument, got ${p.positionals.length - 1}`);
  return id;
}

export async function jobCommand(c: Client, p: Parsed): Promise<number> {
  const sub = p.positionals[0] ?? 'list';
  switch (sub) {
    case 'add':
      return add(c, p);
    case 'list':
      return list(c, p);
    case 'show':
      return show(c, p);
    case 'run': {
      const id = idArg(p);
      const run = await c.request<RunJson>('POST', `/v1/jobs/${enc(id)}/runs`, {});
      if (p.options.json) print(JSON.stringify(run, null, 2) + '\n');
      else print(`run ${run.id} of ${id} created (${run.status})\n`);
      return 0;
    }
    case 'history':
      return history(c, p);
    case 'remove': {
      const id = idArg(p);
      await c.request('DELETE', `/v1/jobs/${enc(id)}${p.options['stop-runs'] ? '?stopCurrentJobRuns=true' : ''}`);
      print(`job ${id} removed\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown job subcommand '${sub}'`);
  }
}

async function add(c: Client, p: Parsed): Promise<number> {
  const file = idArg(p, 'a JSON file');
  let spec: unknown;
  try {
    spec = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new CliError(`${file}: a job must be a JSON object`);
  const o = spec as Record<string, unknown>;
  if (typeof o.name === 'string' && o.command !== undefined && o.id === undefined) {
    const parents = Array.isArray(o.parents) && o.parents.length > 0;
    await c.request('POST', parents ? '/v1/scheduler/dependency' : '/v1/scheduler/iso8601', o);
    print(`chronos job ${o.name} saved\n`);
    return 0;
  }
  if (typeof o.id !== 'string' || !o.id) throw new CliError(`${file}: a Metronome job needs an "id" (or a Chronos job a "name" and a "command")`);
  const exists = await c.request('GET', `/v1/jobs/${enc(o.id)}`).then(
    () => true,
    (err: unknown) => {
      if (err instanceof CliError && err.message.startsWith('404')) return false;
      throw err;
    },
  );
  if (exists) {
    await c.request('PUT', `/v1/jobs/${enc(o.id)}`, o);
    print(`job ${o.id} updated\n`);
  } else {
    await c.request('POST', '/v1/jobs', o);
    print(`job ${o.id} created\n`);
  }
  return 0;
}

async function list(c: Client, p: Parsed): Promise<number> {
  if (p.positionals.length > 1) throw new UsageError('list takes no arguments');
  const jobs = await c.request<JobJson[]>('GET', '/v1/jobs?embed=schedules&embed=activeRuns&embed=historySummary');
  if (p.options.json) {
    print(JSON.stringify(jobs, null, 2) + '\n');
    return 0;
  }
  print(
    table(
      ['ID', 'SCHEDULE', 'NEXT RUN', 'ACTIVE', 'SUCCESS', 'FAILED', 'LAST SUCCESS', 'COMMAND'],
      jobs.map((j) => {
        const s = j.schedules?.find((x) => x.enabled) ?? j.schedules?.[0];
        const deps = j.dependencies?.map((d) => d.id) ?? [];
        return [
          j.id,
          s ? `${s.cron ?? s.iso8601} ${s.timezone}${s.enabled ? '' : ' (disabled)'}` : deps.length ? `after ${deps.join(', ')}` : '-',
          s?.nextRunAt ?? '-',
          String(j.activeRuns?.length ?? 0),
          String(j.historySummary?.successCount ?? 0),
          String(j.historySummary?.failureCount ?? 0),
          j.historySummary?.lastSuccessAt ?? '-',
          j.run.cmd ?? j.run.args?.join(' ') ?? '-',
        ];
      }),
    ),
  );
  return 0;
}

async function show(c: Client, p: Parsed): Promise<number> {
  const id = idArg(p);
  const j = await c.request<JobJson>('GET', `/v1/jobs/${enc(id)}?embed=schedules&embed=activeRuns&embed=historySummary`);
  if (p.options.json) {
    print(JSON.stringify(j, null, 2) + '\n');
    return 0;
  }
  const h = j.historySummary;
  const lines = [
    `id:           ${j.id}`,
    ...(j.description ? [`description:  ${j.description}`] : []),
    `command:      ${j.run.cmd ?? j.run.args?.join(' ') ?? '-'}`,
    `resources:    cpus ${j.run.cpus}, mem ${j.run.mem} MiB, disk ${j.run.disk} MiB`,
    `depends on:   ${j.dependencies?.length ? j.dependencies.map((d) => d.id).join(', ') : '-'}`,
    `runs:         ${h?.successCount ?? 0} succeeded, ${h?.failureCount ?? 0} failed, ${h?.skippedCount ?? 0} skipped`,
    `last success: ${h?.lastSuccessAt ?? '-'}`,
    `last failure: ${h?.lastFailureAt ?? '-'}`,
    `duration:     p50 ${fmtSeconds(h?.p50DurationSeconds)}, p95 ${fmtSeconds(h?.p95DurationSeconds)}`,
  ];
  print(lines.join('\n') + '\n');
  if (j.schedules?.length) {
    print('\nschedules:\n');
    print(
      table(
        ['ID', 'EXPRESSION', 'TIMEZONE', 'POLICY', 'ENABLED', 'NEXT RUN'],
        j.schedules.map((s) => [s.id, s.cron ?? s.iso8601 ?? '-', s.timezone, s.concurrencyPolicy, String(s.enabled), s.nextRunAt ?? '-']),
      ),
    );
  }
  if (j.activeRuns?.length) {
    print('\nactive runs:\n');
    print(table(['RUN', 'STATUS', 'CREATED', 'ATTEMPTS', 'WAITING'], j.activeRuns.map((r) => [r.id, r.status, r.createdAt, String(r.attempts ?? r.tasks.length), r.waiting ?? '-'])));
  }
  return 0;
}

async function history(c: Client, p: Parsed): Promise<number> {
  const id = idArg(p);
  const j = await c.request<JobJson>('GET', `/v1/jobs/${enc(id)}?embed=history&embed=activeRuns`);
  const runs: RunJson[] = [...(j.activeRuns ?? []), ...[...(j.history?.successfulFinishedRuns ?? []), ...(j.history?.failedFinishedRuns ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt))];
  if (p.options.json) {
    print(JSON.stringify(runs, null, 2) + '\n');
    return 0;
  }
  if (!runs.length) {
    print(`job ${id} has no runs yet\n`);
    return 0;
  }
  print(
    table(
      ['RUN', 'STATUS', 'CREATED', 'DURATION', 'ATTEMPTS', 'EXIT', 'REASON'],
      runs.map((r) => [
        r.id,
        r.skipped ? 'SKIPPED' : r.status,
        r.createdAt,
        fmtSeconds(r.durationSeconds),
        String(r.tasks.length),
        r.exitCode !== undefined ? String(r.exitCode) : '-',
        r.reason ?? r.waiting ?? '-',
      ]),
    ),
  );
  return 0;
}

function fmtSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined) return '-';
  return s < 10 ? `${s.toFixed(2)}s` : `${Math.round(s)}s`;
}
