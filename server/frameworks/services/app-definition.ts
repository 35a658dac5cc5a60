// Marathon app definitions: parse, default, validate and print them the way Marathon does, so
// that existing app JSON and client libraries keep working. Pure: no I/O, no clock.
//
// Defaults are Marathon 1.10's (AppDefinition.scala, Apps.scala, the RAML types, and
// AppNormalization.scala). Where we are stricter than Marathon the comment says why.

import type { ErrorDetail, HealthCheckSpec } from '../../../protocol/types.js';
import { Problems, isRecord } from '../../api/errors.js';
import { parseConstraints, toMarathonConstraints, type Constraint } from '../../core/constraints.js';
import { ROOT, parentOf, parsePathId } from './paths.js';

// ---------------------------------------------------------------------------
// Types

/** An environment value: a literal, or a reference to an entry of `secrets`. */
export type EnvValue = string | { secret: string };

export interface FetchUri {
  uri: string;
  extract: boolean;
  executable: boolean;
  cache: boolean;
  destPath?: string;
}

export type PortProtocol = 'tcp' | 'udp' | 'udp,tcp';

export interface PortDefinition {
  /** 0 asks for a dynamic host port (and a service port assigned by the framework). */
  port: number;
  protocol: PortProtocol;
  name?: string;
  labels: Record<string, string>;
}

export const HEALTH_CHECK_PROTOCOLS = ['HTTP', 'HTTPS', 'TCP', 'COMMAND', 'MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP'] as const;
export type HealthCheckProtocol = (typeof HEALTH_CHECK_PROTOCOLS)[number];

/** A health check in Marathon's app shape, with every default filled. */
export interface AppHealthCheck {
  protocol: HealthCheckProtocol;
  /** HTTP-style checks only. */
  path?: string;
  /** Port-based checks: index into the app's ports, unless `port` is given. */
  portIndex?: number;
  port?: number;
  /** COMMAND only. */
  command?: { value: string };
  gracePeriodSeconds: number;
  intervalSeconds: number;
  timeoutSeconds: number;
  maxConsecutiveFailures: number;
  delaySeconds: number;
  /** HTTP and HTTPS only (Marathon ignores it for the MESOS_ variants). */
  ignoreHttp1xx?: boolean;
  ipProtocol: 'IPv4' | 'IPv6';
}

export interface ReadinessCheck {
  name: string;
  protocol: 'HTTP' | 'HTTPS';
  path: string;
  portName: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  httpStatusCodesForReady: number[];
  preserveLastResponse: boolean;
}

export interface UpgradeStrategy {
  minimumHealthCapacity: number;
  maximumOverCapacity: number;
}

export type UnreachableStrategy = 'disabled' | { inactiveAfterSeconds: number; expungeAfterSeconds: number };

export const KILL_SELECTIONS = ['YOUNGEST_FIRST', 'OLDEST_FIRST'] as const;
export type KillSelection = (typeof KILL_SELECTIONS)[number];

export type NetworkMode = 'host' | 'container' | 'container/bridge';

export interface Network {
  mode: NetworkMode;
  name?: string;
  labels?: Record<string, string>;
}

/** The container as given (volumes, docker parameters … untouched), with `type` filled. */
export type Container = Record<string, unknown> & { type: 'DOCKER' | 'MESOS' };

export interface SecretDef {
  source: string;
}

export interface AppDefinition {
  id: string;
  cmd?: string;
  args?: string[];
  user?: string;
  env: Record<string, EnvValue>;
  instances: number;
  cpus: number;
  /** MiB. */
  mem: number;
  /** MiB. */
  disk: number;
  gpus: number;
  executor: string;
  constraints: Constraint[];
  fetch: FetchUri[];
  /** Empty unless the app uses host networking (then ports come from container.portMappings). */
  portDefinitions: PortDefinition[];
  requirePorts: boolean;
  backoffSeconds: number;
  backoffFactor: number;
  maxLaunchDelaySeconds: number;
  container?: Container;
  healthChecks: AppHealthCheck[];
  readinessChecks: ReadinessCheck[];
  /** Absolute ids of apps or groups. */
  dependencies: string[];
  upgradeStrategy: UpgradeStrategy;
  unreachableStrategy: UnreachableStrategy;
  killSelection: KillSelection;
  taskKillGracePeriodSeconds?: number;
  labels: Record<string, string>;
  acceptedResourceRoles?: string[];
  networks: Network[];
  secrets: Record<string, SecretDef>;
  version?: string;
  versionInfo?: Record<string, unknown>;
  /**
   * Top-level fields this layer does not interpret (role, residency, storeUrls, tty …), kept
   * as given so that a GET returns what was PUT. Marathon ignored fields it did not know, so
   * an unknown field is never an error.
   */
  extra: Record<string, unknown>;
}

export type AppResult = { ok: true; app: AppDefinition } | { ok: false; errors: ErrorDetail[] };

// ---------------------------------------------------------------------------
// Defaults and limits

export const APP_DEFAULTS = {
  instances: 1,
  cpus: 1,
  mem: 128,
  disk: 0,
  gpus: 0,
  executor: '',
  requirePorts: false,
  backoffSeconds: 1,
  backoffFactor: 1.15,
  // Marathon 1.8 lowered this from 3600 (one hour) to 300 (mesosphere/marathon#6686).
  maxLaunchDelaySeconds: 300,
  killSelection: 'YOUNGEST_FIRST' as KillSelection,
} as const;

export const HEALTH_CHECK_DEFAULTS = {
  gracePeriodSeconds: 300,
  intervalSeconds: 60,
  timeoutSeconds: 20,
  maxConsecutiveFailures: 3,
  delaySeconds: 15,
  path: '/',
  ipProtocol: 'IPv4',
  ignoreHttp1xx: false,
} as const;

const READINESS_DEFAULTS = {
  name: 'readinessCheck',
  protocol: 'HTTP',
  path: '/',
  portName: 'http-api',
  intervalSeconds: 30,
  timeoutSeconds: 10,
  httpStatusCodesForReady: [200],
  preserveLastResponse: false,
} as const;

const defaultUpgradeStrategy = (): UpgradeStrategy => ({ minimumHealthCapacity: 1, maximumOverCapacity: 1 });
/** Resident tasks hold reservations on one agent: never run an extra copy beside them. */
const residentUpgradeStrategy = (): UpgradeStrategy => ({ minimumHealthCapacity: 0.5, maximumOverCapacity: 0 });
/** Marathon ≥ 1.6: replace an unreachable instance at once, expunge it at once. */
const defaultUnreachableStrategy = (): UnreachableStrategy => ({ inactiveAfterSeconds: 0, expungeAfterSeconds: 0 });
const defaultPortDefinitions = (): PortDefinition[] => [{ port: 0, protocol: 'tcp', name: 'default', labels: {} }];

// Beyond these a value is a typo (mem in bytes instead of MiB …), not a request we could place.
const MAX_CPUS = 10_000;
const MAX_MEM_MIB = 1024 ** 3; // 1 PiB
const MAX_INSTANCES = 100_000;
const MAX_GPUS = 1024;
/** Marathon stores counts and seconds as int32. */
const INT32_MAX = 2_147_483_647;
const MAX_PORT = 65_535;

const SINGLE_INSTANCE_LABEL = 'MARATHON_SINGLE_INSTANCE_APP';
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const EXTRACT_SUFFIXES = ['.tgz', '.tar.gz', '.tbz2', '.tar.bz2', '.txz', '.tar.xz', '.zip'];

/** Fields a client copies back from a GET; they describe runtime state, never the definition. */
const RUNTIME_FIELDS = new Set([
  'tasks',
  'tasksStaged',
  'tasksRunning',
  'tasksHealthy',
  'tasksUnhealthy',
  'deployments',
  'lastTaskFailure',
  'taskStats',
  'readinessCheckResults',
]);

const KNOWN_FIELDS = new Set([
  'id', 'cmd', 'args', 'user', 'env', 'instances', 'cpus', 'mem', 'disk', 'gpus', 'executor',
  'constraints', 'fetch', 'uris', 'ports', 'portDefinitions', 'requirePorts', 'backoffSeconds',
  'backoffFactor', 'maxLaunchDelaySeconds', 'container', 'healthChecks', 'readinessChecks',
  'dependencies', 'upgradeStrategy', 'unreachableStrategy', 'killSelection',
  'taskKillGracePeriodSeconds', 'labels', 'acceptedResourceRoles', 'networks', 'secrets',
  'version', 'versionInfo',
]);

// ---------------------------------------------------------------------------
// Small readers. Each takes a value and its JSON pointer, records problems, and returns a
// usable value either way so that one bad field does not hide errors in the others.

/** JSON null counts as "not given", as in Marathon (Option fields read null as None). */
const given = (v: unknown): boolean => v !== undefined && v !== null;

/** Appends one reference token to a JSON pointer (RFC 6901 escaping). */
export function pointer(base: string, token: string | number): string {
  return `${base === '/' ? '' : base}/${String(token).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

interface NumRule {
  min?: number;
  max?: number;
  maxHint?: string;
  integer?: boolean;
}

function readNumber(p: Problems, v: unknown, path: string, def: number, rule: NumRule): number {
  if (!given(v)) return def;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    p.add(path, rule.integer ? 'must be an integer' : 'must be a number');
    return def;
  }
  if (rule.integer && !Number.isInteger(v)) {
    p.add(path, 'must be an integer');
    return def;
  }
  if (rule.min !== undefined && v < rule.min) p.add(path, `must be >= ${rule.min}`);
  if (rule.max !== undefined && v > rule.max) p.add(path, `must be <= ${rule.max}${rule.maxHint ? ` (${rule.maxHint})` : ''}`);
  return v;
}

const int32 = (min: number): NumRule => ({ integer: true, min, max: INT32_MAX });

function readBool(p: Problems, v: unknown, path: string, def: boolean): boolean {
  if (!given(v)) return def;
  if (typeof v !== 'boolean') {
    p.add(path, 'must be true or false');
    return def;
  }
  return v;
}

function readString(p: Problems, v: unknown, path: string, opts: { nonEmpty?: boolean } = {}): string | undefined {
  if (!given(v)) return undefined;
  if (typeof v !== 'string') {
    p.add(path, 'must be a string');
    return undefined;
  }
  if (opts.nonEmpty && v.length === 0) {
    p.add(path, 'must not be empty');
    return undefined;
  }
  return v;
}

function readEnum<T extends string>(p: Problems, v: unknown, path: string, values: readonly T[], def: T): T {
  if (!given(v)) return def;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    p.add(path, `must be one of ${values.join(', ')}`);
    return def;
  }
  return v as T;
}

function readArray(p: Problems, v: unknown, path: string): unknown[] | undefined {
  if (!given(v)) return undefined;
  if (!Array.isArray(v)) {
    p.add(path, 'must be an array');
    return undefined;
  }
  return v;
}

function readObject(p: Problems, v: unknown, path: string): Record<string, unknown> | undefined {
  if (!given(v)) return undefined;
  if (!isRecord(v)) {
    p.add(path, 'must be an object');
    return undefined;
  }
  return v;
}

function readStringMap(p: Problems, v: unknown, path: string): Record<string, string> {
  const obj = readObject(p, v, path);
  const out: Record<string, string> = {};
  if (!obj) return out;
  for (const [k, val] of Object.entries(obj)) {
    if (typeof val === 'string') out[k] = val;
    else p.add(pointer(path, k), 'must be a string');
  }
  return out;
}

function readStringList(p: Problems, v: unknown, path: string, opts: { nonEmptyItems?: boolean } = {}): string[] | undefined {
  const arr = readArray(p, v, path);
  if (!arr) return undefined;
  const out: string[] = [];
  arr.forEach((item, i) => {
    const s = readString(p, item, pointer(path, i), { nonEmpty: opts.nonEmptyItems });
    if (s !== undefined) out.push(s);
    else if (!given(item)) p.add(pointer(path, i), 'must be a string');
  });
  return out;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

// ---------------------------------------------------------------------------
// normalizeApp

/**
 * Full definition (POST/PUT): apply Marathon defaults for every omitted field, validate
 * everything, report errors at JSON pointers ("/cpus", "/healthChecks/0/portIndex" …).
 */
export function normalizeApp(input: unknown, opts: { base?: string } = {}): AppResult {
  const p = new Problems();
  if (!isRecord(input)) return { ok: false, errors: [{ path: '/', errors: ['must be a JSON object'] }] };
  const app = readApp(p, input, opts.base ?? ROOT);
  return p.empty ? { ok: true, app } : { ok: false, errors: p.details() };
}

function readApp(p: Problems, input: Record<string, unknown>, base: string): AppDefinition {
  // --- identity
  let id = '';
  if (!given(input.id)) p.add('/id', 'is required');
  else {
    const r = parsePathId(input.id, base);
    if (r.error !== undefined) p.add('/id', r.error);
    else if (r.id === ROOT) p.add('/id', 'must not be the root group "/"');
    else id = r.id;
  }

  // --- what to run
  const cmd = readString(p, input.cmd, '/cmd', { nonEmpty: true });
  let args = readStringList(p, input.args, '/args');
  if (args && args.length === 0) args = undefined; // Marathon omits an empty args list
  const user = readString(p, input.user, '/user');
  let container = readContainer(p, input.container);
  const hasImage = container !== undefined && (hasImageOf(container.docker) || hasImageOf(container.appc));
  if (cmd !== undefined && args !== undefined) p.add('/args', 'must not be given together with cmd: use one or the other');
  // An image given with a bad name already has its own error; do not add a second one here.
  const imageAttempted = isRecord(input.container) && (given(input.container.docker) || given(input.container.appc));
  const argsMalformed = given(input.args) && !Array.isArray(input.args);
  if (!given(input.cmd) && args === undefined && !argsMalformed && !hasImage && !imageAttempted) {
    p.add('/cmd', 'one of cmd, args or a container image is required');
  }
  const executor = readString(p, input.executor, '/executor') ?? APP_DEFAULTS.executor;
  if (executor !== '' && executor !== '//cmd' && !/^\/?[^/]+(\/[^/]+)*$/.test(executor)) {
    p.add('/executor', 'must be "", "//cmd" or the path of an executor');
  }

  // --- resources
  const instances = readNumber(p, input.instances, '/instances', APP_DEFAULTS.instances, { integer: true, min: 0, max: MAX_INSTANCES });
  const cpus = readNumber(p, input.cpus, '/cpus', APP_DEFAULTS.cpus, { min: 0, max: MAX_CPUS });
  const mem = readNumber(p, input.mem, '/mem', APP_DEFAULTS.mem, { min: 0, max: MAX_MEM_MIB, maxHint: '1 PiB; mem is in MiB' });
  const disk = readNumber(p, input.disk, '/disk', APP_DEFAULTS.disk, { min: 0, max: MAX_MEM_MIB, maxHint: '1 PiB; disk is in MiB' });
  const gpus = readNumber(p, input.gpus, '/gpus', APP_DEFAULTS.gpus, { integer: true, min: 0, max: MAX_GPUS });

  // --- environment, labels, secrets
  const secrets = readSecrets(p, input.secrets);
  const env = readEnv(p, input.env, secrets);
  const labels = readStringMap(p, input.labels, '/labels');
  if (labels[SINGLE_INSTANCE_LABEL] === 'true' && instances > 1) {
    p.add('/instances', `a single-instance app (label ${SINGLE_INSTANCE_LABEL}) may only have one instance`);
  }

  // --- placement
  let constraints: Constraint[] = [];
  if (given(input.constraints)) {
    const r = parseConstraints(input.constraints, '/constraints');
    constraints = r.constraints;
    p.addAll(r.errors);
  }
  let acceptedResourceRoles = readStringList(p, input.acceptedResourceRoles, '/acceptedResourceRoles', { nonEmptyItems: true });
  if (Array.isArray(input.acceptedResourceRoles) && input.acceptedResourceRoles.length === 0) {
    p.add('/acceptedResourceRoles', 'must not be empty (omit it to accept every role)');
  }
  if (acceptedResourceRoles) acceptedResourceRoles = [...new Set(acceptedResourceRoles)];

  // --- artifacts
  const fetch = readFetch(p, input.fetch, input.uris);

  // --- networking and ports
  const networks = readNetworks(p, input.networks, container);
  const hostNetworking = networks.every((n) => n.mode === 'host');
  if (!hostNetworking) {
    // Marathon gives a container network an image-less MESOS container when none is given.
    container ??= { type: 'MESOS' };
    applyDefaultPortMappings(container, networks);
  }
  const portDefinitions = readPorts(p, input, hostNetworking);
  let requirePorts = readBool(p, input.requirePorts, '/requirePorts', APP_DEFAULTS.requirePorts);
  if (!hostNetworking) requirePorts = false; // Marathon: requirePorts applies to host networking only
  if (requirePorts) {
    const i = portDefinitions.findIndex((d) => d.port === 0);
    if (i >= 0) p.add('/requirePorts', `needs a fixed (non-zero) port in every port definition; portDefinitions/${i} has port 0`);
  }
  if (hostNetworking && container) {
    const pm = container.portMappings;
    if (Array.isArray(pm) && pm.length > 0) p.add('/container/portMappings', 'portMappings are not allowed with host networking: use portDefinitions');
  }
  const ports = portsOf(hostNetworking, portDefinitions, container);

  // --- health and readiness
  const healthChecks = readHealthChecks(p, input.healthChecks, ports.count, container);
  const readinessChecks = readReadinessChecks(p, input.readinessChecks, ports.names);

  // --- dependencies: relative ids name siblings, i.e. resolve against the app's group
  const depBase = id === '' ? base : parentOf(id);
  const dependencies: string[] = [];
  readArray(p, input.dependencies, '/dependencies')?.forEach((d, i) => {
    const r = parsePathId(d, depBase);
    if (r.error !== undefined) p.add(pointer('/dependencies', i), r.error);
    else if (r.id === id) p.add(pointer('/dependencies', i), 'an app cannot depend on itself');
    else if (!dependencies.includes(r.id)) dependencies.push(r.id);
  });

  // --- scheduling behaviour
  const resident = given(input.residency) || hasPersistentVolumes(container);
  const upgradeStrategy = readUpgradeStrategy(p, input.upgradeStrategy, resident, labels[SINGLE_INSTANCE_LABEL] === 'true');
  const unreachableStrategy = readUnreachableStrategy(p, input.unreachableStrategy, resident);
  const killSelection = readEnum(p, input.killSelection, '/killSelection', KILL_SELECTIONS, APP_DEFAULTS.killSelection);
  const backoffSeconds = readNumber(p, input.backoffSeconds, '/backoffSeconds', APP_DEFAULTS.backoffSeconds, int32(0));
  const backoffFactor = readNumber(p, input.backoffFactor, '/backoffFactor', APP_DEFAULTS.backoffFactor, { min: 1, max: 1000 });
  const maxLaunchDelaySeconds = readNumber(p, input.maxLaunchDelaySeconds, '/maxLaunchDelaySeconds', APP_DEFAULTS.maxLaunchDelaySeconds, int32(0));
  const taskKillGracePeriodSeconds = given(input.taskKillGracePeriodSeconds)
    ? readNumber(p, input.taskKillGracePeriodSeconds, '/taskKillGracePeriodSeconds', 0, int32(0))
    : undefined;

  // --- bookkeeping
  const version = readString(p, input.version, '/version');
  const versionInfo = readObject(p, input.versionInfo, '/versionInfo');

  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (given(v) && !KNOWN_FIELDS.has(k) && !RUNTIME_FIELDS.has(k)) extra[k] = structuredClone(v);
  }

  const app: AppDefinition = {
    id,
    env,
    instances,
    cpus,
    mem,
    disk,
    gpus,
    executor,
    constraints,
    fetch,
    portDefinitions,
    requirePorts,
    backoffSeconds,
    backoffFactor,
    maxLaunchDelaySeconds,
    healthChecks,
    readinessChecks,
    dependencies,
    upgradeStrategy,
    unreachableStrategy,
    killSelection,
    labels,
    networks,
    secrets,
    extra,
  };
  if (cmd !== undefined) app.cmd = cmd;
  if (args !== undefined) app.args = args;
  if (user !== undefined) app.user = user;
  if (container !== undefined) app.container = container;
  if (taskKillGracePeriodSeconds !== undefined) app.taskKillGracePeriodSeconds = taskKillGracePeriodSeconds;
  if (acceptedResourceRoles !== undefined) app.acceptedResourceRoles = acceptedResourceRoles;
  if (version !== undefined) app.version = version;
  if (versionInfo !== undefined) app.versionInfo = structuredClone(versionInfo);
  return app;
}

function hasImageOf(v: unknown): boolean {
  return isRecord(v) && typeof v.image === 'string' && v.image.length > 0;
}

function readContainer(p: Problems, v: unknown): Container | undefined {
  const c = readObject(p, v, '/container');
  if (!c) return undefined;
  const type = readEnum(p, c.type, '/container/type', ['DOCKER', 'MESOS'] as const, 'DOCKER');
  const docker = readObject(p, c.docker, '/container/docker');
  const appc = readObject(p, c.appc, '/container/appc');
  for (const [name, image] of [['docker', docker], ['appc', appc]] as const) {
    if (image && !hasImageOf(image)) {
      p.add(`/container/${name}/image`, typeof image.image === 'string' || !given(image.image) ? 'is required' : 'must be a string');
    }
  }
  if (type === 'DOCKER') {
    if (!given(c.docker)) p.add('/container/docker', 'is required for a DOCKER container ({"image": "…"})');
    if (given(c.appc)) p.add('/container/appc', 'only MESOS containers take an appc image');
  } else if (docker && appc) {
    p.add('/container', 'a MESOS container takes at most one image: docker or appc');
  }
  if (docker && given(docker.network)) {
    readEnum(p, docker.network, '/container/docker/network', ['BRIDGE', 'HOST', 'NONE', 'USER'] as const, 'HOST');
  }
  readArray(p, c.volumes, '/container/volumes');
  readPortMappings(p, c.portMappings, '/container/portMappings');
  if (docker) readPortMappings(p, docker.portMappings, '/container/docker/portMappings');
  return { ...structuredClone(c), type };
}

function readPortMappings(p: Problems, v: unknown, path: string): void {
  const arr = readArray(p, v, path);
  if (!arr) return;
  const names = new Map<string, number>();
  arr.forEach((m, i) => {
    const at = pointer(path, i);
    const o = readObject(p, m, at);
    if (!o) return;
    for (const key of ['containerPort', 'hostPort', 'servicePort']) {
      readNumber(p, o[key], pointer(at, key), 0, { integer: true, min: 0, max: MAX_PORT });
    }
    readEnum(p, o.protocol, pointer(at, 'protocol'), ['tcp', 'udp', 'udp,tcp'] as const, 'tcp');
    const name = readString(p, o.name, pointer(at, 'name'));
    if (name !== undefined) {
      if (names.has(name)) p.add(pointer(at, 'name'), `name "${name}" is already used by ${path.slice(1)}/${names.get(name)}`);
      else names.set(name, i);
    }
    readStringMap(p, o.labels, pointer(at, 'labels'));
  });
}

function hasPersistentVolumes(container: Container | undefined): boolean {
  const vols = container?.volumes;
  return Array.isArray(vols) && vols.some((v) => isRecord(v) && given(v.persistent));
}

function readSecrets(p: Problems, v: unknown): Record<string, SecretDef> {
  const obj = readObject(p, v, '/secrets');
  const out: Record<string, SecretDef> = {};
  if (!obj) return out;
  for (const [name, def] of Object.entries(obj)) {
    const at = pointer('/secrets', name);
    const d = readObject(p, def, at);
    if (!d) {
      if (!given(def)) p.add(at, 'must be an object ({"source": "…"})');
      continue;
    }
    const source = readString(p, d.source, pointer(at, 'source'), { nonEmpty: true });
    if (source === undefined) {
      if (!given(d.source)) p.add(pointer(at, 'source'), 'is required');
      continue;
    }
    out[name] = { source };
  }
  return out;
}

function readEnv(p: Problems, v: unknown, secrets: Record<string, SecretDef>): Record<string, EnvValue> {
  const obj = readObject(p, v, '/env');
  const out: Record<string, EnvValue> = {};
  if (!obj) return out;
  for (const [name, val] of Object.entries(obj)) {
    const at = pointer('/env', name);
    if (typeof val === 'string') {
      out[name] = val;
    } else if (isRecord(val) && typeof val.secret === 'string' && Object.keys(val).length === 1) {
      if (!(val.secret in secrets)) p.add(at, `refers to secret "${val.secret}", which is not defined in secrets`);
      else out[name] = { secret: val.secret };
    } else {
      p.add(at, 'must be a string (or {"secret": "<name>"} to use a secret)');
    }
  }
  return out;
}

function isExtract(uri: string): boolean {
  const path = uri.split(/[?#]/, 1)[0]!.toLowerCase();
  return EXTRACT_SUFFIXES.some((s) => path.endsWith(s));
}

function readFetch(p: Problems, fetchIn: unknown, urisIn: unknown): FetchUri[] {
  const fetch: FetchUri[] = [];
  readArray(p, fetchIn, '/fetch')?.forEach((f, i) => {
    const at = pointer('/fetch', i);
    const o = readObject(p, f, at);
    if (!o) {
      if (!given(f)) p.add(at, 'must be an object ({"uri": "…"})');
      return;
    }
    const uri = readString(p, o.uri, pointer(at, 'uri'), { nonEmpty: true });
    if (!given(o.uri)) p.add(pointer(at, 'uri'), 'is required');
    if (uri !== undefined && uri.length > 1024) p.add(pointer(at, 'uri'), 'must be at most 1024 characters');
    const item: FetchUri = {
      uri: uri ?? '',
      extract: readBool(p, o.extract, pointer(at, 'extract'), true),
      executable: readBool(p, o.executable, pointer(at, 'executable'), false),
      cache: readBool(p, o.cache, pointer(at, 'cache'), false),
    };
    const destPath = readString(p, o.destPath, pointer(at, 'destPath'), { nonEmpty: true });
    if (destPath !== undefined) item.destPath = destPath;
    fetch.push(item);
  });
  // `uris` is the deprecated form; Marathon translates it and guesses `extract` from the name.
  const uris = readStringList(p, urisIn, '/uris', { nonEmptyItems: true });
  if (uris && uris.length > 0) {
    if (fetch.length > 0) p.add('/uris', 'must not be given together with fetch (uris is the deprecated form of fetch)');
    else for (const uri of uris) fetch.push({ uri, extract: isExtract(uri), executable: false, cache: false });
  }
  return fetch;
}

function readNetworks(p: Problems, v: unknown, container: Container | undefined): Network[] {
  const arr = readArray(p, v, '/networks');
  const dockerNetwork = isRecord(container?.docker) ? container.docker.network : undefined;
  if (arr && arr.length > 0) {
    if (given(dockerNetwork)) p.add('/networks', 'must not be given together with container.docker.network (its deprecated form)');
    const out: Network[] = [];
    arr.forEach((n, i) => {
      const at = pointer('/networks', i);
      const o = readObject(p, n, at);
      if (!o) {
        if (!given(n)) p.add(at, 'must be an object ({"mode": "host"})');
        return;
      }
      const mode = readEnum(p, o.mode, pointer(at, 'mode'), ['container', 'container/bridge', 'host'] as const, 'container');
      const net: Network = { mode };
      const name = readString(p, o.name, pointer(at, 'name'), { nonEmpty: true });
      if (name !== undefined) {
        if (mode !== 'container') p.add(pointer(at, 'name'), `only container networks have a name, not ${mode}`);
        else net.name = name;
      }
      if (given(o.labels)) net.labels = readStringMap(p, o.labels, pointer(at, 'labels'));
      out.push(net);
    });
    for (const lone of ['host', 'container/bridge'] as const) {
      if (out.length > 1 && out.some((n) => n.mode === lone)) p.add('/networks', `${lone} networking cannot be combined with other networks`);
    }
    return out.length > 0 ? out : [{ mode: 'host' }];
  }
  // Marathon's translation of the deprecated container.docker.network.
  if (dockerNetwork === 'BRIDGE') return [{ mode: 'container/bridge' }];
  if (dockerNetwork === 'USER') return [{ mode: 'container' }];
  return [{ mode: 'host' }];
}

/** Marathon gives a container network one default port mapping when none is declared. */
function applyDefaultPortMappings(container: Container | undefined, networks: Network[]): void {
  if (!container) return;
  const docker = container.docker;
  if (given(container.portMappings) || (isRecord(docker) && given(docker.portMappings))) return;
  const bridge = networks.some((n) => n.mode === 'container/bridge');
  container.portMappings = [
    bridge
      ? { containerPort: 0, hostPort: 0, labels: {}, name: 'default', protocol: 'tcp', servicePort: 0 }
      : { containerPort: 0, labels: {}, name: 'default', protocol: 'tcp', servicePort: 0 },
  ];
}

function readPorts(p: Problems, input: Record<string, unknown>, hostNetworking: boolean): PortDefinition[] {
  let defs: PortDefinition[] | undefined;
  if (given(input.portDefinitions)) defs = readPortDefinitions(p, input.portDefinitions, '/portDefinitions');
  if (given(input.ports)) {
    // `ports` is the deprecated form: bare numbers.
    const numbers: number[] = [];
    readArray(p, input.ports, '/ports')?.forEach((n, i) => {
      numbers.push(readNumber(p, n, pointer('/ports', i), 0, { integer: true, min: 0, max: MAX_PORT }));
      if (!given(n)) p.add(pointer('/ports', i), 'must be an integer');
    });
    if (defs === undefined) {
      defs = numbers.map((port) => ({ port, protocol: 'tcp' as const, labels: {} }));
      checkUniquePorts(p, defs, '/ports', (i) => pointer('/ports', i));
    } else if (defs.length !== numbers.length || defs.some((d, i) => d.port !== numbers[i])) {
      p.add('/ports', 'must not be given together with portDefinitions (ports is its deprecated form)');
    }
  }
  if (!hostNetworking) {
    if (defs && defs.length > 0) {
      p.add(given(input.portDefinitions) ? '/portDefinitions' : '/ports', 'port definitions are only allowed with host networking: use container.portMappings');
    }
    return [];
  }
  return defs ?? defaultPortDefinitions();
}

function readPortDefinitions(p: Problems, v: unknown, path: string): PortDefinition[] | undefined {
  const arr = readArray(p, v, path);
  if (!arr) return undefined;
  const out: PortDefinition[] = [];
  arr.forEach((d, i) => {
    const at = pointer(path, i);
    const o = readObject(p, d, at);
    if (!o) {
      if (!given(d)) p.add(at, 'must be an object ({"port": 0})');
      return;
    }
    const def: PortDefinition = {
      port: readNumber(p, o.port, pointer(at, 'port'), 0, { integer: true, min: 0, max: MAX_PORT }),
      protocol: readEnum(p, o.protocol, pointer(at, 'protocol'), ['tcp', 'udp', 'udp,tcp'] as const, 'tcp'),
      labels: readStringMap(p, o.labels, pointer(at, 'labels')),
    };
    const name = readString(p, o.name, pointer(at, 'name'));
    if (name !== undefined) {
      if (!PORT_NAME.test(name)) p.add(pointer(at, 'name'), 'must be lowercase letters, digits and hyphens, starting and ending with a letter or digit');
      def.name = name;
    }
    out.push(def);
  });
  checkUniquePorts(p, out, path, (i) => pointer(pointer(path, i), 'port'));
  const names = new Map<string, number>();
  out.forEach((d, i) => {
    if (d.name === undefined) return;
    const first = names.get(d.name);
    if (first !== undefined) p.add(pointer(pointer(path, i), 'name'), `name "${d.name}" is already used by ${path.slice(1)}/${first}`);
    else names.set(d.name, i);
  });
  return out;
}

function checkUniquePorts(p: Problems, defs: PortDefinition[], path: string, at: (i: number) => string): void {
  const seen = new Map<number, number>();
  defs.forEach((d, i) => {
    if (d.port === 0) return; // 0 means "any port": many are fine
    const first = seen.get(d.port);
    if (first !== undefined) p.add(at(i), `port ${d.port} is already used by ${path.slice(1)}/${first}`);
    else seen.set(d.port, i);
  });
}

/** How many ports a task gets, and their names: portDefinitions on the host, portMappings otherwise. */
function portsOf(host: boolean, defs: PortDefinition[], container: Container | undefined): { count: number; names: string[] } {
  if (host) return { count: defs.length, names: defs.flatMap((d) => (d.name ? [d.name] : [])) };
  const docker = container?.docker;
  const mappings = Array.isArray(container?.portMappings)
    ? container.portMappings
    : isRecord(docker) && Array.isArray(docker.portMappings)
      ? docker.portMappings
      : [];
  return {
    count: mappings.length,
    names: mappings.flatMap((m) => (isRecord(m) && typeof m.name === 'string' ? [m.name] : [])),
  };
}

const HTTP_LIKE = new Set<HealthCheckProtocol>(['HTTP', 'HTTPS', 'MESOS_HTTP', 'MESOS_HTTPS']);
const MESOS_NETWORK_CHECKS = new Set<HealthCheckProtocol>(['MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP']);

function readHealthChecks(p: Problems, v: unknown, portCount: number, container: Container | undefined): AppHealthCheck[] {
  const out: AppHealthCheck[] = [];
  readArray(p, v, '/healthChecks')?.forEach((h, i) => {
    const at = pointer('/healthChecks', i);
    const o = readObject(p, h, at);
    if (!o) {
      if (!given(h)) p.add(at, 'must be an object');
      return;
    }
    const hasCommand = given(o.command);
    const protocol = readEnum(p, o.protocol, pointer(at, 'protocol'), HEALTH_CHECK_PROTOCOLS, hasCommand ? 'COMMAND' : 'HTTP');
    const check: AppHealthCheck = {
      protocol,
      gracePeriodSeconds: readNumber(p, o.gracePeriodSeconds, pointer(at, 'gracePeriodSeconds'), HEALTH_CHECK_DEFAULTS.gracePeriodSeconds, int32(0)),
      intervalSeconds: readNumber(p, o.intervalSeconds, pointer(at, 'intervalSeconds'), HEALTH_CHECK_DEFAULTS.intervalSeconds, int32(1)),
      timeoutSeconds: readNumber(p, o.timeoutSeconds, pointer(at, 'timeoutSeconds'), HEALTH_CHECK_DEFAULTS.timeoutSeconds, int32(1)),
      maxConsecutiveFailures: readNumber(p, o.maxConsecutiveFailures, pointer(at, 'maxConsecutiveFailures'), HEALTH_CHECK_DEFAULTS.maxConsecutiveFailures, int32(0)),
      delaySeconds: readNumber(p, o.delaySeconds, pointer(at, 'delaySeconds'), HEALTH_CHECK_DEFAULTS.delaySeconds, int32(0)),
      ipProtocol: readEnum(p, o.ipProtocol, pointer(at, 'ipProtocol'), ['IPv4', 'IPv6'] as const, HEALTH_CHECK_DEFAULTS.ipProtocol),
    };
    if (check.ipProtocol === 'IPv6' && !(MESOS_NETWORK_CHECKS.has(protocol) && container?.type === 'DOCKER')) {
      p.add(pointer(at, 'ipProtocol'), 'IPv6 can only be used for container type DOCKER and Mesos http/https/tcp health checks');
    }

    if (protocol === 'COMMAND') {
      // A port or portIndex on a COMMAND check is accepted and ignored, as Marathon does.
      const c = isRecord(o.command) ? o.command : undefined;
      if (!hasCommand) p.add(pointer(at, 'command'), 'is required for a COMMAND health check ({"value": "<shell command>"})');
      else if (!c || typeof c.value !== 'string' || c.value.trim() === '') {
        p.add(pointer(at, 'command'), 'must be {"value": "<shell command>"} with a non-empty command');
      } else check.command = { value: c.value };
      out.push(check);
      return;
    }

    if (hasCommand) p.add(pointer(at, 'command'), `only COMMAND health checks run a command, this one is ${protocol}`);
    const port = given(o.port) ? readNumber(p, o.port, pointer(at, 'port'), 0, { integer: true, min: 1, max: MAX_PORT }) : undefined;
    const portIndex = given(o.portIndex) ? readNumber(p, o.portIndex, pointer(at, 'portIndex'), 0, { integer: true, min: 0, max: MAX_PORT }) : undefined;
    if (port !== undefined) check.port = port;
    if (portIndex !== undefined) {
      check.portIndex = portIndex;
      if (Number.isInteger(portIndex) && portIndex >= 0 && portIndex >= portCount) {
        p.add(pointer(at, 'portIndex'), `the app defines ${plural(portCount, 'port')}, index ${portIndex} does not exist`);
      }
    } else if (port === undefined) {
      if (portCount > 0) check.portIndex = 0;
      else p.add(at, `a ${protocol} health check needs a port: the app defines no ports, so give the check a "port" or the app portDefinitions`);
    }
    if (HTTP_LIKE.has(protocol)) check.path = readString(p, o.path, pointer(at, 'path')) ?? HEALTH_CHECK_DEFAULTS.path;
    if (protocol === 'HTTP' || protocol === 'HTTPS') {
      check.ignoreHttp1xx = readBool(p, o.ignoreHttp1xx, pointer(at, 'ignoreHttp1xx'), HEALTH_CHECK_DEFAULTS.ignoreHttp1xx);
    }
    out.push(check);
  });
  return out;
}

function readReadinessChecks(p: Problems, v: unknown, portNames: string[]): ReadinessCheck[] {
  const arr = readArray(p, v, '/readinessChecks');
  if (!arr) return [];
  if (arr.length > 1) p.add('/readinessChecks', 'at most one readiness check is supported');
  const out: ReadinessCheck[] = [];
  arr.forEach((r, i) => {
    const at = pointer('/readinessChecks', i);
    const o = readObject(p, r, at);
    if (!o) {
      if (!given(r)) p.add(at, 'must be an object');
      return;
    }
    const check: ReadinessCheck = {
      name: readString(p, o.name, pointer(at, 'name'), { nonEmpty: true }) ?? READINESS_DEFAULTS.name,
      protocol: readEnum(p, o.protocol, pointer(at, 'protocol'), ['HTTP', 'HTTPS'] as const, READINESS_DEFAULTS.protocol),
      path: readString(p, o.path, pointer(at, 'path'), { nonEmpty: true }) ?? READINESS_DEFAULTS.path,
      portName: readString(p, o.portName, pointer(at, 'portName'), { nonEmpty: true }) ?? READINESS_DEFAULTS.portName,
      intervalSeconds: readNumber(p, o.intervalSeconds, pointer(at, 'intervalSeconds'), READINESS_DEFAULTS.intervalSeconds, int32(0)),
      timeoutSeconds: readNumber(p, o.timeoutSeconds, pointer(at, 'timeoutSeconds'), READINESS_DEFAULTS.timeoutSeconds, int32(1)),
      httpStatusCodesForReady: [...READINESS_DEFAULTS.httpStatusCodesForReady],
      preserveLastResponse: readBool(p, o.preserveLastResponse, pointer(at, 'preserveLastResponse'), READINESS_DEFAULTS.preserveLastResponse),
    };
    const codes = readArray(p, o.httpStatusCodesForReady, pointer(at, 'httpStatusCodesForReady'));
    if (codes) {
      if (codes.length === 0) p.add(pointer(at, 'httpStatusCodesForReady'), 'must not be empty');
      else {
        check.httpStatusCodesForReady = codes.map((c, j) =>
          readNumber(p, c, pointer(pointer(at, 'httpStatusCodesForReady'), j), 200, { integer: true, min: 100, max: 999 }),
        );
      }
    }
    if (!portNames.includes(check.portName)) {
      p.add(pointer(at, 'portName'), `no port is named "${check.portName}" (named ports: ${portNames.length ? portNames.join(', ') : 'none'})`);
    }
    if (check.timeoutSeconds >= check.intervalSeconds) {
      p.add(pointer(at, 'timeoutSeconds'), `must be less than intervalSeconds (${check.intervalSeconds})`);
    }
    out.push(check);
  });
  return out;
}

function readUpgradeStrategy(p: Problems, v: unknown, resident: boolean, singleInstance: boolean): UpgradeStrategy {
  const def = resident ? residentUpgradeStrategy() : defaultUpgradeStrategy();
  const o = readObject(p, v, '/upgradeStrategy');
  if (!o) return def;
  const unit: NumRule = { min: 0, max: 1 };
  // Marathon requires both fields; a missing one takes its default rather than failing the app.
  const s: UpgradeStrategy = {
    minimumHealthCapacity: readNumber(p, o.minimumHealthCapacity, '/upgradeStrategy/minimumHealthCapacity', def.minimumHealthCapacity, unit),
    maximumOverCapacity: readNumber(p, o.maximumOverCapacity, '/upgradeStrategy/maximumOverCapacity', def.maximumOverCapacity, unit),
  };
  if (resident && s.maximumOverCapacity !== 0) {
    p.add('/upgradeStrategy/maximumOverCapacity', 'must be 0 for resident apps (their reservations cannot be doubled)');
  }
  if (singleInstance && (s.minimumHealthCapacity !== 0 || s.maximumOverCapacity !== 0)) {
    p.add('/upgradeStrategy', `must be {"minimumHealthCapacity": 0, "maximumOverCapacity": 0} for a single-instance app (label ${SINGLE_INSTANCE_LABEL})`);
  }
  return s;
}

function readUnreachableStrategy(p: Problems, v: unknown, resident: boolean): UnreachableStrategy {
  if (!given(v)) return resident ? 'disabled' : defaultUnreachableStrategy();
  if (v === 'disabled') return 'disabled';
  if (!isRecord(v)) {
    p.add('/unreachableStrategy', 'must be "disabled" or {"inactiveAfterSeconds": n, "expungeAfterSeconds": n}');
    return defaultUnreachableStrategy();
  }
  if (resident) p.add('/unreachableStrategy', 'must be "disabled" for resident apps');
  const inactiveAfterSeconds = readNumber(p, v.inactiveAfterSeconds, '/unreachableStrategy/inactiveAfterSeconds', 0, { integer: true, min: 0 });
  // A missing expunge time means "expunge when it becomes inactive", which keeps {inactiveAfterSeconds: n} valid.
  const expungeAfterSeconds = readNumber(p, v.expungeAfterSeconds, '/unreachableStrategy/expungeAfterSeconds', inactiveAfterSeconds, { integer: true, min: 0 });
  if (expungeAfterSeconds < inactiveAfterSeconds) {
    p.add(
      '/unreachableStrategy/inactiveAfterSeconds',
      `inactiveAfterSeconds (${inactiveAfterSeconds}) must be less or equal to expungeAfterSeconds, which is ${expungeAfterSeconds}`,
    );
  }
  return { inactiveAfterSeconds, expungeAfterSeconds };
}

// ---------------------------------------------------------------------------
// mergeApp

/**
 * PATCH / partial PUT, with Marathon's AppUpdate semantics: a field given replaces the current
 * one wholesale (env, labels … are not merged key by key), a field absent or null keeps it.
 * The result has no version: it is a new definition, the caller stamps it.
 */
export function mergeApp(current: AppDefinition, input: unknown): AppResult {
  if (!isRecord(input)) return { ok: false, errors: [{ path: '/', errors: ['must be a JSON object'] }] };
  const merged = appToJson(current);
  delete merged.version;
  delete merged.versionInfo;

  if (given(input.id)) {
    const r = parsePathId(input.id, parentOf(current.id));
    if (r.error !== undefined) return { ok: false, errors: [{ path: '/id', errors: [r.error] }] };
    if (r.id !== current.id) {
      return { ok: false, errors: [{ path: '/id', errors: [`cannot change the id of ${current.id} to ${r.id}: create a new app instead`] }] };
    }
  }

  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (k === 'id' || k === 'version' || k === 'versionInfo' || !given(v)) continue;
    patch[k] = v;
  }
  // Fields that are alternatives to each other: setting one clears the other.
  if ('cmd' in patch && !('args' in patch)) delete merged.args;
  if ('args' in patch && !('cmd' in patch)) delete merged.cmd;
  if ('uris' in patch && !('fetch' in patch)) delete merged.fetch;
  if ('ports' in patch && !('portDefinitions' in patch)) delete merged.portDefinitions;
  const dockerNetwork = isRecord(patch.container) && isRecord(patch.container.docker) ? patch.container.docker.network : undefined;
  if (given(dockerNetwork) && !('networks' in patch)) delete merged.networks;
  if (('networks' in patch || given(dockerNetwork)) && !('portDefinitions' in patch) && !('ports' in patch)) {
    // Moving between host and container networking: the old ports do not apply any more.
    delete merged.portDefinitions;
    if ('container' in merged && isRecord(merged.container) && !('container' in patch)) delete merged.container.portMappings;
  }
  Object.assign(merged, patch);
  return normalizeApp(merged, { base: parentOf(current.id) });
}

// ---------------------------------------------------------------------------
// Output

function healthCheckToJson(h: AppHealthCheck): Record<string, unknown> {
  const out: Record<string, unknown> = {
    gracePeriodSeconds: h.gracePeriodSeconds,
    intervalSeconds: h.intervalSeconds,
    maxConsecutiveFailures: h.maxConsecutiveFailures,
  };
  if (h.path !== undefined) out.path = h.path;
  if (h.port !== undefined) out.port = h.port;
  if (h.portIndex !== undefined) out.portIndex = h.portIndex;
  out.protocol = h.protocol;
  out.ipProtocol = h.ipProtocol;
  out.timeoutSeconds = h.timeoutSeconds;
  out.delaySeconds = h.delaySeconds;
  if (h.ignoreHttp1xx !== undefined) out.ignoreHttp1xx = h.ignoreHttp1xx;
  if (h.command !== undefined) out.command = { value: h.command.value };
  return out;
}

function portDefinitionToJson(d: PortDefinition): Record<string, unknown> {
  const out: Record<string, unknown> = { port: d.port, protocol: d.protocol };
  if (d.name !== undefined) out.name = d.name;
  out.labels = { ...d.labels };
  return out;
}

function fetchToJson(f: FetchUri): Record<string, unknown> {
  const out: Record<string, unknown> = { uri: f.uri, extract: f.extract, executable: f.executable, cache: f.cache };
  if (f.destPath !== undefined) out.destPath = f.destPath;
  return out;
}

/** The definition as Marathon's GET /v2/apps/{id} prints it (runtime fields are the API's to add). */
export function appToJson(app: AppDefinition): Record<string, unknown> {
  // Extras first, so that a stray field can never shadow a real one.
  const out: Record<string, unknown> = structuredClone(app.extra);
  out.id = app.id;
  if (app.cmd !== undefined) out.cmd = app.cmd;
  if (app.args !== undefined) out.args = [...app.args];
  if (app.user !== undefined) out.user = app.user;
  out.env = structuredClone(app.env);
  out.instances = app.instances;
  out.cpus = app.cpus;
  out.mem = app.mem;
  out.disk = app.disk;
  out.gpus = app.gpus;
  out.executor = app.executor;
  out.constraints = toMarathonConstraints(app.constraints);
  out.fetch = app.fetch.map(fetchToJson);
  out.backoffSeconds = app.backoffSeconds;
  out.backoffFactor = app.backoffFactor;
  out.maxLaunchDelaySeconds = app.maxLaunchDelaySeconds;
  if (app.container !== undefined) out.container = structuredClone(app.container);
  out.healthChecks = app.healthChecks.map(healthCheckToJson);
  out.readinessChecks = app.readinessChecks.map((r) => ({ ...r, httpStatusCodesForReady: [...r.httpStatusCodesForReady] }));
  out.dependencies = [...app.dependencies];
  out.upgradeStrategy = { ...app.upgradeStrategy };
  out.unreachableStrategy = app.unreachableStrategy === 'disabled' ? 'disabled' : { ...app.unreachableStrategy };
  out.killSelection = app.killSelection;
  if (app.taskKillGracePeriodSeconds !== undefined) out.taskKillGracePeriodSeconds = app.taskKillGracePeriodSeconds;
  out.labels = { ...app.labels };
  if (app.acceptedResourceRoles !== undefined) out.acceptedResourceRoles = [...app.acceptedResourceRoles];
  out.networks = structuredClone(app.networks);
  out.portDefinitions = app.portDefinitions.map(portDefinitionToJson);
  out.requirePorts = app.requirePorts;
  out.secrets = structuredClone(app.secrets);
  if (app.version !== undefined) out.version = app.version;
  if (app.versionInfo !== undefined) out.versionInfo = structuredClone(app.versionInfo);
  return out;
}

// ---------------------------------------------------------------------------
// For the agent

const SPEC_PROTOCOL: Record<HealthCheckProtocol, HealthCheckSpec['protocol']> = {
  HTTP: 'HTTP',
  MESOS_HTTP: 'HTTP',
  HTTPS: 'HTTPS',
  MESOS_HTTPS: 'HTTPS',
  TCP: 'TCP',
  MESOS_TCP: 'TCP',
  COMMAND: 'COMMAND',
};

/** The checks the agent runs. Marathon-run checks (HTTP, HTTPS, TCP) had no start delay; Mesos-run ones did. */
export function toHealthCheckSpecs(app: AppDefinition): HealthCheckSpec[] {
  return app.healthChecks.map((h) => {
    const protocol = SPEC_PROTOCOL[h.protocol];
    const spec: HealthCheckSpec = {
      protocol,
      gracePeriodSeconds: h.gracePeriodSeconds,
      intervalSeconds: h.intervalSeconds,
      timeoutSeconds: h.timeoutSeconds,
      maxConsecutiveFailures: h.maxConsecutiveFailures,
    };
    if (h.protocol.startsWith('MESOS_') || h.protocol === 'COMMAND') spec.delaySeconds = h.delaySeconds;
    if (protocol === 'COMMAND') {
      if (h.command) spec.command = h.command.value;
      return spec;
    }
    if (protocol === 'HTTP' || protocol === 'HTTPS') spec.path = h.path ?? HEALTH_CHECK_DEFAULTS.path;
    if (h.port !== undefined) spec.port = h.port;
    else if (h.portIndex !== undefined) spec.portIndex = h.portIndex;
    if (h.ignoreHttp1xx) spec.ignoreHttp1xx = true;
    return spec;
  });
}

// ---------------------------------------------------------------------------
// Change classification

/** Fields Marathon keeps as sets: their order is not a change. */
const SET_FIELDS = ['constraints', 'healthChecks', 'dependencies', 'acceptedResourceRoles'] as const;

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (isRecord(v)) {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => v[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableStringify(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function comparable(app: AppDefinition): string {
  const j = appToJson(app);
  delete j.instances;
  delete j.version;
  delete j.versionInfo;
  for (const f of SET_FIELDS) {
    const arr = j[f];
    if (Array.isArray(arr)) j[f] = arr.map(stableStringify).sort();
  }
  return stableStringify(j);
}

/** Would moving from `a` to `b` replace instances? Anything but `instances` (and the version stamp) does. */
export function isUpgrade(a: AppDefinition, b: AppDefinition): boolean {
  return comparable(a) !== comparable(b);
}

/** Marathon's isOnlyScaleChange: `instances` differs and nothing else does. */
export function isScaleOnly(a: AppDefinition, b: AppDefinition): boolean {
  return a.instances !== b.instances && !isUpgrade(a, b);
}
