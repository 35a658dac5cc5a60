// Job definitions: Metronome job specs and Chronos job hashes read into one model, validated,
// defaulted, and printed back in either shape. Pure: no I/O, no clock.
//
// Defaults follow Metronome's jobspec/schedulespec schemas (cpus 1, mem 128, disk 0, schedule
// time zone UTC, startingDeadlineSeconds 900, concurrencyPolicy ALLOW) and Chronos' API docs
// (cpus 0.1, mem 128, disk 256, retries 2, epsilon PT60S, shell true).

import type { ErrorDetail } from '../../../protocol/types.js';
import { Problems, isRecord } from '../../api/errors.js';
import { parseConstraints, type Constraint } from '../../core/constraints.js';
import { isValidTimeZone, nextSlots, parseCron, parseIso8601, type Schedule } from './schedule.js';

export type ConcurrencyPolicy = 'ALLOW' | 'FORBID';
export type RestartPolicy = 'NEVER' | 'ON_FAILURE';

export interface ScheduleSpec {
  id: string;
  kind: 'cron' | 'iso8601';
  /** The cron expression, or the ISO 8601 repeating interval, as given. */
  expr: string;
  timezone: string;
  startingDeadlineSeconds: number;
  concurrencyPolicy: ConcurrencyPolicy;
  enabled: boolean;
}

export interface Artifact {
  uri: string;
  extract: boolean;
  executable: boolean;
  cache: boolean;
}

export interface RunSpec {
  cmd?: string;
  args?: string[];
  cpus: number;
  mem: number;
  disk: number;
  env: Record<string, string>;
  artifacts: Artifact[];
  constraints: Constraint[];
  restart: { policy: RestartPolicy; activeDeadlineSeconds?: number };
  /** At most this many attempts per run (Chronos: retries + 1); no limit when absent. */
  maxAttempts?: number;
  /** Seconds; the cap of the retry backoff. */
  maxLaunchDelay: number;
  user?: string;
  /** Kept as given: no agent offers Docker, so such a run waits and says so. */
  docker?: Record<string, unknown>;
  taskKillGracePeriodSeconds?: number;
}

/** Chronos fields that have no Metronome counterpart, kept so the Chronos API can print them back. */
export interface ChronosExtras {
  owner?: string;
  ownerName?: string;
  epsilon: string;
  shell: boolean;
  arguments: string[];
  retries: number;
  async: boolean;
  highPriority: boolean;
}

export interface JobDefinition {
  id: string;
  /** Which API wrote it last; both APIs show every job. */
  origin: 'metronome' | 'chronos';
  description?: string;
  labels: Record<string, string>;
  run: RunSpec;
  schedules: ScheduleSpec[];
  /** Parent job ids: the job runs after all of them succeeded. */
  dependencies: string[];
  /** Chronos `disabled`: no scheduled or dependency-triggered runs (run now still works). */
  disabled?: boolean;
  chronos?: ChronosExtras;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; details: ErrorDetail[] };

const METRONOME_ID = /^([a-z0-9]+(-[a-z0-9]+)*)(\.([a-z0-9]+(-[a-z0-9]+)*))*$/;
const SCHEDULE_ID = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const CHRONOS_NAME = /^[\w\s.#-]+$/;
const METRONOME_OPERATORS = new Set(['IS', 'EQ', 'LIKE', 'UNLIKE']);
const CHRONOS_OPERATORS: Record<string, string> = { EQUALS: 'IS', LIKE: 'LIKE', UNLIKE: 'UNLIKE' };
export const DEFAULT_STARTING_DEADLINE = 900;
const DEFAULT_MAX_LAUNCH_DELAY = 3600;

/** The schedule a spec describes; the spec was validated when it was accepted. */
export function compileSchedule(s: ScheduleSpec): Schedule | undefined {
  const r = s.kind === 'cron' ? parseCron(s.expr, s.timezone) : parseIso8601(s.expr, s.timezone);
  return r.ok ? r.schedule : undefined;
}

// ---------------------------------------------------------------------------
// Metronome

export function parseMetronomeJob(input: unknown): Parsed<JobDefinition> {
  const p = new Problems();
  if (!isRecord(input)) return { ok: false, details: [{ path: '/', errors: ['a job must be a JSON object'] }] };
  const id = input.id;
  if (typeof id !== 'string' || !METRONOME_ID.test(id)) {
    p.add('/id', 'must be names of lowercase letters, digits and dashes separated by dots, e.g. prod.backup');
  }
  const description = optString(input.description, '/description', p);
  const labels = stringMap(input.labels, '/labels', p);
  let run: RunSpec | undefined;
  if (!isRecord(input.run)) p.add('/run', 'is required: an object with cmd or args, cpus, mem, disk');
  else run = parseMetronomeRun(input.run, p);
  const schedules: ScheduleSpec[] = [];
  if (input.schedules !== undefined && input.schedules !== null) {
    if (!Array.isArray(input.schedules)) p.add('/schedules', 'must be an array');
    else {
      const ids = new Set<string>();
      input.schedules.forEach((s: unknown, i) => {
        const spec = parseMetronomeSchedule(s, `/schedules/${i}`, p);
        if (!spec) return;
        if (ids.has(spec.id)) p.add(`/schedules/${i}/id`, `schedule id '${spec.id}' is used twice`);
        ids.add(spec.id);
        schedules.push(spec);
      });
    }
  }
  const dependencies: string[] = [];
  if (input.dependencies !== undefined && input.dependencies !== null) {
    if (!Array.isArray(input.dependencies)) p.add('/dependencies', 'must be an array of {"id": "<job id>"}');
    else
      input.dependencies.forEach((d: unknown, i) => {
        const depId = isRecord(d) ? d.id : typeof d === 'string' ? d : undefined;
        if (typeof depId !== 'string' || depId === '') p.add(`/dependencies/${i}/id`, 'must be the id of another job');
        else dependencies.push(depId);
      });
  }
  if (!p.empty || !run) return { ok: false, details: p.details() };
  return {
    ok: true,
    value: {
      id: id as string,
      origin: 'metronome',
      ...(description !== undefined ? { description } : {}),
      labels,
      run,
      schedules,
      dependencies,
    },
  };
}

function parseMetronomeRun(r: Record<string, unknown>, p: Problems): RunSpec | undefined {
  const hasCmd = r.cmd !== undefined && r.cmd !== null;
  const hasArgs = r.args !== undefined && r.args !== null;
  let cmd: string | undefined;
  let args: string[] | undefined;
  if (hasCmd && hasArgs) p.add('/run', 'give cmd or args, not both');
  if (hasCmd) {
    if (typeof r.cmd !== 'string' || r.cmd.trim() === '') p.add('/run/cmd', 'must be a non-empty string');
    else cmd = r.cmd;
  }
  if (hasArgs) {
    if (!Array.isArray(r.args) || r.args.length === 0 || r.args.some((a) => typeof a !== 'string')) p.add('/run/args', 'must be a non-empty array of strings');
    else args = r.args as string[];
  }
  let docker: Record<string, unknown> | undefined;
  if (r.docker !== undefined && r.docker !== null) {
    if (!isRecord(r.docker) || typeof r.docker.image !== 'string' || !r.docker.image) p.add('/run/docker/image', 'must be a Docker image name');
    else docker = r.docker;
  }
  if (!hasCmd && !hasArgs && !docker) p.add('/run', 'needs cmd or args (or a docker image)');
  const cpus = num(r.cpus, '/run/cpus', p, { def: 1, min: 0.01, minText: 'must be at least 0.01' });
  const mem = num(r.mem, '/run/mem', p, { def: 128, min: 32, minText: 'must be at least 32 (MiB)' });
  const disk = num(r.disk, '/run/disk', p, { def: 0, min: 0, minText: 'must not be negative' });
  const env: Record<string, string> = {};
  if (r.env !== undefined && r.env !== null) {
    if (!isRecord(r.env)) p.add('/run/env', 'must be an object of name: value');
    else
      for (const [k, v] of Object.entries(r.env)) {
        if (typeof v === 'string') env[k] = v;
        else if (isRecord(v) && 'secret' in v) p.add(`/run/env/${k}`, 'secret references are not supported');
        else p.add(`/run/env/${k}`, 'must be a string');
      }
  }
  const artifacts = parseArtifacts(r.artifacts, '/run/artifacts', p);
  let constraints: Constraint[] = [];
  const placement = r.placement;
  if (placement !== undefined && placement !== null) {
    if (!isRecord(placement)) p.add('/run/placement', 'must be an object with constraints');
    else if (placement.constraints !== undefined && placement.constraints !== null) {
      const list = placement.constraints;
      if (!Array.isArray(list)) p.add('/run/placement/constraints', 'must be an array of {attribute, operator, value}');
      else {
        let bad = false;
        list.forEach((c: unknown, i) => {
          if (!isRecord(c)) {
            p.add(`/run/placement/constraints/${i}`, 'must be {attribute, operator, value}');
            bad = true;
          } else if (typeof c.operator !== 'string' || !METRONOME_OPERATORS.has(c.operator)) {
            p.add(`/run/placement/constraints/${i}/operator`, `unknown operator ${JSON.stringify(c.operator)}; use IS, LIKE or UNLIKE`);
            bad = true;
          }
        });
        if (!bad) {
          const parsed = parseConstraints(list, '/run/placement/constraints');
          p.addAll(parsed.errors);
          constraints = parsed.constraints;
        }
      }
    }
  }
  let policy: RestartPolicy = 'NEVER';
  let activeDeadlineSeconds: number | undefined;
  if (r.restart !== undefined && r.restart !== null) {
    if (!isRecord(r.restart)) p.add('/run/restart', 'must be {policy, activeDeadlineSeconds}');
    else {
      if (r.restart.policy !== 'NEVER' && r.restart.policy !== 'ON_FAILURE') p.add('/run/restart/policy', 'must be NEVER or ON_FAILURE');
      else policy = r.restart.policy;
      const d = r.restart.activeDeadlineSeconds;
      if (d !== undefined && d !== null) {
        if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) p.add('/run/restart/activeDeadlineSeconds', 'must be a whole number of seconds, at least 1');
        else activeDeadlineSeconds = d;
      }
    }
  }
  const maxLaunchDelay = num(r.maxLaunchDelay ?? r.maxLaunchDelaySeconds, '/run/maxLaunchDelay', p, { def: DEFAULT_MAX_LAUNCH_DELAY, min: 1, minText: 'must be at least 1 (second)', integer: true });
  const user = optString(r.user, '/run/user', p);
  // Yagura's extension (what a Chronos job's retries become), so a printed job reads back the same
  let maxAttempts: number | undefined;
  if (r.maxAttempts !== undefined && r.maxAttempts !== null) maxAttempts = num(r.maxAttempts, '/run/maxAttempts', p, { def: 1, min: 1, minText: 'must be at least 1', integer: true });
  let grace: number | undefined;
  if (r.taskKillGracePeriodSeconds !== undefined && r.taskKillGracePeriodSeconds !== null) {
    grace = num(r.taskKillGracePeriodSeconds, '/run/taskKillGracePeriodSeconds', p, { def: 0, min: 0, minText: 'must not be negative' });
  }
  if (r.volumes !== undefined && r.volumes !== null && (!Array.isArray(r.volumes) || r.volumes.length > 0)) p.add('/run/volumes', 'volumes are not supported');
  if (r.secrets !== undefined && r.secrets !== null && (!isRecord(r.secrets) || Object.keys(r.secrets).length > 0)) p.add('/run/secrets', 'secrets are not supported');
  return {
    ...(cmd !== undefined ? { cmd } : {}),
    ...(args !== undefined ? { args } : {}),
    cpus,
    mem,
    disk,
    env,
    artifacts,
    constraints,
    restart: { policy, ...(activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds } : {}) },
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
    maxLaunchDelay,
    ...(user !== undefined ? { user } : {}),
    ...(docker ? { docker } : {}),
    ...(grace !== undefined ? { taskKillGracePeriodSeconds: grace } : {}),
  };
}

export function parseMetronomeSchedule(s: unknown, path: string, p: Problems): ScheduleSpec | undefined {
  const before = p.details().length;
  if (!isRecord(s)) {
    p.add(path, 'a schedule must be an object with id and cron');
    return undefined;
  }
  if (typeof s.id !== 'string' || !SCHEDULE_ID.test(s.id)) p.add(`${path}/id`, 'must be lowercase letters, digits and dashes, not starting or ending with a dash');
  const tzRaw = s.timezone ?? s.timeZone;
  let timezone = 'UTC';
  if (tzRaw !== undefined && tzRaw !== null) {
    if (typeof tzRaw !== 'string' || !isValidTimeZone(tzRaw)) p.add(`${path}/timezone`, `unknown time zone ${JSON.stringify(tzRaw)}; use an IANA name such as Europe/Berlin`);
    else timezone = tzRaw;
  }
  if (typeof s.cron !== 'string' || s.cron.trim() === '') p.add(`${path}/cron`, 'invalid cron: a cron expression is required, e.g. "0 2 * * *"');
  else if (timezone === 'UTC' || isValidTimeZone(timezone)) {
    const r = parseCron(s.cron, timezone);
    if (!r.ok) p.add(`${path}/cron`, `invalid cron: ${r.error}`);
  }
  const deadline = num(s.startingDeadlineSeconds, `${path}/startingDeadlineSeconds`, p, { def: DEFAULT_STARTING_DEADLINE, min: 1, minText: 'must be at least 1 (second)', integer: true });
  const policy = s.concurrencyPolicy ?? 'ALLOW';
  if (policy !== 'ALLOW' && policy !== 'FORBID') p.add(`${path}/concurrencyPolicy`, 'must be ALLOW or FORBID');
  if (s.enabled !== undefined && s.enabled !== null && typeof s.enabled !== 'boolean') p.add(`${path}/enabled`, 'must be true or false');
  if (p.details().length !== before) return undefined;
  return {
    id: s.id as string,
    kind: 'cron',
    expr: (s.cron as string).trim(),
    timezone,
    startingDeadlineSeconds: deadline,
    concurrencyPolicy: policy as ConcurrencyPolicy,
    enabled: s.enabled !== false,
  };
}

export function toMetronomeJob(def: JobDefinition): Record<string, unknown> {
  const r = def.run;
  return {
    id: def.id,
    ...(def.description !== undefined ? { description: def.description } : {}),
    labels: def.labels,
    run: {
      ...(r.cmd !== undefined ? { cmd: r.cmd } : {}),
      ...(r.args !== undefined ? { args: r.args } : {}),
      cpus: r.cpus,
      mem: r.mem,
      disk: r.disk,
      env: r.env,
      artifacts: r.artifacts,
      placement: { constraints: r.constraints.map((c) => ({ attribute: c.field, operator: c.operator, ...(c.value !== undefined ? { value: c.value } : {}) })) },
      restart: r.restart,
      maxLaunchDelay: r.maxLaunchDelay,
      ...(r.user !== undefined ? { user: r.user } : {}),
      ...(r.docker ? { docker: r.docker } : {}),
      ...(r.taskKillGracePeriodSeconds !== undefined ? { taskKillGracePeriodSeconds: r.taskKillGracePeriodSeconds } : {}),
      ...(r.maxAttempts !== undefined ? { maxAttempts: r.maxAttempts } : {}),
      volumes: [],
    },
    dependencies: def.dependencies.map((id) => ({ id })),
  };
}

export function toMetronomeSchedule(s: ScheduleSpec, nextRunAt?: number): Record<string, unknown> {
  return {
    id: s.id,
    ...(s.kind === 'cron' ? { cron: s.expr } : { iso8601: s.expr }),
    timezone: s.timezone,
    startingDeadlineSeconds: s.startingDeadlineSeconds,
    concurrencyPolicy: s.concurrencyPolicy,
    enabled: s.enabled,
    ...(nextRunAt !== undefined ? { nextRunAt: isoTime(nextRunAt) } : {}),
  };
}

// ---------------------------------------------------------------------------
// Chronos

/**
 * A Chronos job hash. `endpoint` says which POST it came to: `iso8601` needs a `schedule`,
 * `dependency` needs `parents`.
 */
export function parseChronosJob(input: unknown, endpoint: 'iso8601' | 'dependency', now: number = Date.now()): Parsed<JobDefinition> {
  const p = new Problems();
  if (!isRecord(input)) return { ok: false, details: [{ path: '/', errors: ['a job must be a JSON object'] }] };
  const name = input.name;
  if (typeof name !== 'string' || !CHRONOS_NAME.test(name) || name.trim() !== name) {
    p.add('/name', 'must be letters, digits, spaces, dashes, underscores, dots or #, not starting or ending with a space');
  }
  const command = input.command;
  const container = input.container;
  if ((command === undefined || command === null || command === '') && !isRecord(container)) p.add('/command', 'is required');
  else if (command !== undefined && command !== null && typeof command !== 'string') p.add('/command', 'must be a string');
  const shell = input.shell === undefined || input.shell === null ? true : input.shell;
  if (typeof shell !== 'boolean') p.add('/shell', 'must be true or false');
  const args: string[] = [];
  if (input.arguments !== undefined && input.arguments !== null) {
    if (!Array.isArray(input.arguments) || input.arguments.some((a) => typeof a !== 'string')) p.add('/arguments', 'must be an array of strings');
    else args.push(...(input.arguments as string[]));
  }
  const cpus = num(input.cpus, '/cpus', p, { def: 0.1, min: 0.01, minText: 'must be at least 0.01', strings: true });
  const mem = num(input.mem, '/mem', p, { def: 128, min: 1, minText: 'must be at least 1 (MiB)', strings: true });
  const disk = num(input.disk, '/disk', p, { def: 256, min: 0, minText: 'must not be negative', strings: true });
  const retries = num(input.retries, '/retries', p, { def: 2, min: 0, minText: 'must not be negative', integer: true });
  const disabled = bool(input.disabled, '/disabled', p, false);
  const concurrent = bool(input.concurrent, '/concurrent', p, false);
  const isAsync = bool(input.async, '/async', p, false);
  const highPriority = bool(input.highPriority, '/highPriority', p, false);
  const owner = optString(input.owner, '/owner', p);
  const ownerName = optString(input.ownerName, '/ownerName', p);
  const description = optString(input.description, '/description', p);
  const user = optString(input.runAsUser, '/runAsUser', p);

  let tz = 'UTC';
  const tzRaw = input.scheduleTimeZone;
  let tzOk = true;
  if (tzRaw !== undefined && tzRaw !== null && tzRaw !== '') {
    if (typeof tzRaw !== 'string' || !isValidTimeZone(tzRaw)) {
      p.add('/scheduleTimeZone', `unknown time zone ${JSON.stringify(tzRaw)}; use a tz database name such as America/Los_Angeles`);
      tzOk = false;
    } else tz = tzRaw;
  }
  let epsilon = 'PT60S';
  let epsilonSeconds = 60;
  if (input.epsilon !== undefined && input.epsilon !== null && input.epsilon !== '') {
    const secs = typeof input.epsilon === 'string' ? durationSeconds(input.epsilon) : undefined;
    if (secs === undefined) p.add('/epsilon', `invalid ISO 8601 duration ${JSON.stringify(input.epsilon)}, e.g. PT60S or PT15M`);
    else {
      epsilon = input.epsilon as string;
      epsilonSeconds = Math.max(1, Math.round(secs));
    }
  }

  const schedules: ScheduleSpec[] = [];
  const hasSchedule = input.schedule !== undefined && input.schedule !== null && input.schedule !== '';
  const hasParents = Array.isArray(input.parents) ? input.parents.length > 0 : input.parents !== undefined && input.parents !== null;
  if (hasSchedule && hasParents) p.add('/parents', 'a job has a schedule or parents, not both');
  if (endpoint === 'iso8601' && !hasSchedule) p.add('/schedule', 'is required: an ISO 8601 repeating interval such as R/2026-01-01T00:00:00Z/PT1H');
  if (endpoint === 'dependency' && !hasParents) p.add('/parents', 'is required: the names of the jobs this one runs after');
  if (hasSchedule) {
    if (typeof input.schedule !== 'string') p.add('/schedule', 'invalid ISO 8601 schedule: must be a string R[n]/start/duration');
    else if (tzOk) {
      // Chronos: an empty start means "from now"; pin it, so a restart does not move it
      const parts = input.schedule.trim().split('/');
      const expr = parts.length === 3 && parts[1] === '' ? `${parts[0]}/${new Date(now).toISOString()}/${parts[2]}` : input.schedule.trim();
      const r = parseIso8601(expr, tz);
      if (!r.ok) p.add('/schedule', `invalid ISO 8601 schedule: ${r.error}`);
      else
        schedules.push({
          id: 'default',
          kind: 'iso8601',
          expr,
          timezone: tz,
          startingDeadlineSeconds: epsilonSeconds,
          concurrencyPolicy: concurrent ? 'ALLOW' : 'FORBID',
          enabled: !disabled,
        });
    }
  }
  const dependencies: string[] = [];
  if (hasParents) {
    if (!Array.isArray(input.parents)) p.add('/parents', 'must be an array of job names');
    else
      input.parents.forEach((x: unknown, i) => {
        if (typeof x !== 'string' || x === '') p.add(`/parents/${i}`, 'must be a job name');
        else dependencies.push(x);
      });
  }
  let env: Record<string, string> = {};
  if (input.environmentVariables !== undefined && input.environmentVariables !== null) {
    if (!Array.isArray(input.environmentVariables)) p.add('/environmentVariables', 'must be an array of {name, value}');
    else
      input.environmentVariables.forEach((e: unknown, i) => {
        if (!isRecord(e) || typeof e.name !== 'string' || !e.name || typeof e.value !== 'string') p.add(`/environmentVariables/${i}`, 'must be {"name": "...", "value": "..."}');
        else env = { ...env, [e.name]: e.value };
      });
  }
  const artifacts = parseArtifacts(input.fetch, '/fetch', p);
  if (Array.isArray(input.uris)) {
    input.uris.forEach((u: unknown, i) => {
      if (typeof u !== 'string' || !u) p.add(`/uris/${i}`, 'must be a URI');
      else artifacts.push({ uri: u, extract: true, executable: false, cache: false });
    });
  } else if (input.uris !== undefined && input.uris !== null) p.add('/uris', 'must be an array of URIs');
  let constraints: Constraint[] = [];
  if (input.constraints !== undefined && input.constraints !== null) {
    if (!Array.isArray(input.constraints)) p.add('/constraints', 'must be an array such as [["rack", "EQUALS", "rack-1"]]');
    else {
      let bad = false;
      const mapped = input.constraints.map((c: unknown, i) => {
        if (!Array.isArray(c) || c.length !== 3 || c.some((x) => typeof x !== 'string')) {
          p.add(`/constraints/${i}`, 'must be [attribute, operator, value]');
          bad = true;
          return c;
        }
        const op = CHRONOS_OPERATORS[c[1] as string];
        if (!op) {
          p.add(`/constraints/${i}/1`, `unknown operator ${JSON.stringify(c[1])}; use EQUALS, LIKE or UNLIKE`);
          bad = true;
          return c;
        }
        return [c[0], op, c[2]];
      });
      if (!bad) {
        const parsed = parseConstraints(mapped, '/constraints');
        p.addAll(parsed.errors);
        constraints = parsed.constraints;
      }
    }
  }
  let docker: Record<string, unknown> | undefined;
  if (container !== undefined && container !== null) {
    if (!isRecord(container) || typeof container.image !== 'string' || !container.image) p.add('/container/image', 'must be a Docker image name');
    else docker = container;
  }
  if (!p.empty) return { ok: false, details: p.details() };
  const cmdText = typeof command === 'string' ? command : '';
  const run: RunSpec = {
    ...(shell !== false ? (cmdText ? { cmd: cmdText } : {}) : { args: [cmdText, ...args] }),
    cpus,
    mem,
    disk,
    env,
    artifacts,
    constraints,
    restart: { policy: retries > 0 ? 'ON_FAILURE' : 'NEVER' },
    maxAttempts: retries + 1,
    maxLaunchDelay: DEFAULT_MAX_LAUNCH_DELAY,
    ...(user !== undefined ? { user } : {}),
    ...(docker ? { docker } : {}),
  };
  return {
    ok: true,
    value: {
      id: name as string,
      origin: 'chronos',
      ...(description !== undefined ? { description } : {}),
      labels: {},
      run,
      schedules,
      dependencies,
      ...(disabled ? { disabled: true } : {}),
      chronos: {
        ...(owner !== undefined ? { owner } : {}),
        ...(ownerName !== undefined ? { ownerName } : {}),
        epsilon,
        shell: shell !== false,
        arguments: args,
        retries,
        async: isAsync,
        highPriority,
      },
    },
  };
}

export interface ChronosCounters {
  successCount: number;
  errorCount: number;
  lastSuccessAt?: number;
  lastErrorAt?: number;
  errorsSinceLastSuccess: number;
}

/** A job as Chronos lists it; Metronome-made jobs are shown as near as Chronos can say them. */
export function toChronosJob(def: JobDefinition, c: ChronosCounters): Record<string, unknown> {
  const r = def.run;
  const x = def.chronos;
  const iso = def.schedules.find((s) => s.kind === 'iso8601');
  const shell = x ? x.shell : r.cmd !== undefined;
  const command = r.cmd ?? (shell ? (r.args ?? []).join(' ') : (r.args?.[0] ?? ''));
  const retries = r.maxAttempts !== undefined ? r.maxAttempts - 1 : r.restart.policy === 'NEVER' ? 0 : (x?.retries ?? 2);
  return {
    name: def.id,
    command,
    shell,
    arguments: shell ? [] : (r.args?.slice(1) ?? []),
    epsilon: x?.epsilon ?? `PT${iso?.startingDeadlineSeconds ?? DEFAULT_STARTING_DEADLINE}S`,
    executor: '',
    executorFlags: '',
    retries,
    owner: x?.owner ?? '',
    ownerName: x?.ownerName ?? '',
    description: def.description ?? '',
    async: x?.async ?? false,
    successCount: c.successCount,
    errorCount: c.errorCount,
    lastSuccess: c.lastSuccessAt !== undefined ? isoTime(c.lastSuccessAt) : '',
    lastError: c.lastErrorAt !== undefined ? isoTime(c.lastErrorAt) : '',
    errorsSinceLastSuccess: c.errorsSinceLastSuccess,
    cpus: r.cpus,
    disk: r.disk,
    mem: r.mem,
    disabled: def.disabled === true,
    softError: false,
    dataProcessingJobType: false,
    highPriority: x?.highPriority ?? false,
    runAsUser: r.user ?? 'root',
    concurrent: iso ? iso.concurrencyPolicy === 'ALLOW' : true,
    uris: [],
    fetch: r.artifacts,
    environmentVariables: Object.entries(r.env).map(([name, value]) => ({ name, value })),
    constraints: r.constraints.map((k) => [k.field, k.operator === 'IS' ? 'EQUALS' : k.operator, k.value ?? '']),
    ...(r.docker ? { container: r.docker } : {}),
    ...(iso ? { schedule: iso.expr, scheduleTimeZone: iso.timezone } : {}),
    ...(def.dependencies.length ? { parents: def.dependencies } : {}),
  };
}

// ---------------------------------------------------------------------------
// Helpers

/**
 * Seconds of an ISO 8601 duration (Chronos `epsilon`), measured by the schedule module: the
 * gap between the first two slots of an interval with that period.
 */
export function durationSeconds(s: string): number | undefined {
  if (!/^P/.test(s)) return undefined;
  const anchor = Date.UTC(2001, 0, 1);
  const r = parseIso8601(`R2/${new Date(anchor).toISOString()}/${s}`, 'UTC');
  if (!r.ok) return undefined;
  const [a, b] = nextSlots(r.schedule, anchor - 1, 2);
  if (a === undefined || b === undefined || !(b > a)) return undefined;
  return (b - a) / 1000;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

function optString(v: unknown, path: string, p: Problems): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    p.add(path, 'must be a string');
    return undefined;
  }
  return v;
}

function bool(v: unknown, path: string, p: Problems, def: boolean): boolean {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean') {
    p.add(path, 'must be true or false');
    return def;
  }
  return v;
}

function num(v: unknown, path: string, p: Problems, o: { def: number; min: number; minText: string; integer?: boolean; strings?: boolean }): number {
  if (v === undefined || v === null) return o.def;
  let n = v;
  // Chronos clients send "0.5" as often as 0.5
  if (o.strings && typeof v === 'string' && v.trim() !== '') n = Number(v);
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    p.add(path, 'must be a number');
    return o.def;
  }
  if (o.integer && !Number.isInteger(n)) {
    p.add(path, 'must be a whole number');
    return o.def;
  }
  if (n < o.min) {
    p.add(path, o.minText);
    return o.def;
  }
  return n;
}

function stringMap(v: unknown, path: string, p: Problems): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) {
    p.add(path, 'must be an object of string values');
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') p.add(`${path}/${k}`, 'must be a string');
    else out[k] = x;
  }
  return out;
}

function parseArtifacts(v: unknown, path: string, p: Problems): Artifact[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    p.add(path, 'must be an array of {uri, extract, executable, cache}');
    return [];
  }
  const out: Artifact[] = [];
  v.forEach((a: unknown, i) => {
    if (!isRecord(a) || typeof a.uri !== 'string' || !a.uri) {
      p.add(`${path}/${i}/uri`, 'must be a URI');
      return;
    }
    out.push({ uri: a.uri, extract: a.extract !== false, executable: a.executable === true, cache: a.cache === true });
  });
  return out;
}
