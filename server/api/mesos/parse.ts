// Strict reading of Mesos JSON calls. Every problem is reported with the JSON pointer of the
// field. A call whose JSON does not have the protobuf's shape (missing required field, wrong
// type) is 400, as Mesos answers; a well-formed call asking for something Yagura cannot do or
// an invalid task definition is 422.

import type { CommandSpec } from '../../../protocol/types.js';
import { fromMesosResources } from '../../core/resources.js';
import type { FrameworkInput, TaskLaunch } from '../../master/types.js';
import { ApiError, isRecord } from '../errors.js';
import type { FrameworkExtras } from './convert.js';

type Obj = Record<string, unknown>;

export class Reader {
  private bad = new Map<string, string[]>();
  private invalid = new Map<string, string[]>();

  /** A shape error (400). */
  fail(path: string, error: string): undefined {
    push(this.bad, path, error);
    return undefined;
  }

  /** A semantic error (422). */
  reject(path: string, error: string): undefined {
    push(this.invalid, path, error);
    return undefined;
  }

  /** Throws what was collected: shape errors win, as the call cannot be understood at all. */
  done(message: string): void {
    if (this.bad.size) throw new ApiError(400, `malformed call: ${message}`, details(this.bad));
    if (this.invalid.size) throw new ApiError(422, `invalid call: ${message}`, details(this.invalid));
  }

  obj(v: unknown, path: string, required: boolean): Obj | undefined {
    if (v === undefined || v === null) return required ? this.fail(path, 'is required') : undefined;
    if (!isRecord(v)) return this.fail(path, 'must be an object');
    return v;
  }

  str(o: Obj, key: string, path: string, opts: { required?: boolean; max?: number; nonEmpty?: boolean } = {}): string | undefined {
    const v = o[key];
    const p = `${path}/${key}`;
    if (v === undefined || v === null) return opts.required ? this.fail(p, 'is required') : undefined;
    if (typeof v !== 'string') return this.fail(p, 'must be a string');
    if (opts.nonEmpty && v.length === 0) return this.fail(p, 'must not be empty');
    if (v.length > (opts.max ?? 4096)) return this.fail(p, `must be at most ${opts.max ?? 4096} characters`);
    return v;
  }

  num(o: Obj, key: string, path: string, opts: { required?: boolean; min?: number } = {}): number | undefined {
    const v = o[key];
    const p = `${path}/${key}`;
    if (v === undefined || v === null) return opts.required ? this.fail(p, 'is required') : undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.fail(p, 'must be a finite number');
    if (opts.min !== undefined && v < opts.min) return this.fail(p, `must be >= ${opts.min}`);
    return v;
  }

  bool(o: Obj, key: string, path: string): boolean | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') return this.fail(`${path}/${key}`, 'must be a boolean');
    return v;
  }

  arr(o: Obj, key: string, path: string, required = false): unknown[] | undefined {
    const v = o[key];
    const p = `${path}/${key}`;
    if (v === undefined || v === null) return required ? this.fail(p, 'is required') : undefined;
    if (!Array.isArray(v)) return this.fail(p, 'must be an array');
    if (v.length > 10_000) return this.fail(p, 'has too many entries');
    return v;
  }

  /** A Mesos `{ "value": "..." }` id. */
  id(o: Obj, key: string, path: string, required: boolean): string | undefined {
    const p = `${path}/${key}`;
    const v = this.obj(o[key], p, required);
    if (!v) return undefined;
    return this.str(v, 'value', p, { required: true, nonEmpty: true, max: 255 });
  }

  ids(o: Obj, key: string, path: string, required: boolean): string[] {
    const list = this.arr(o, key, path, required) ?? [];
    const out: string[] = [];
    list.forEach((item, i) => {
      const p = `${path}/${key}/${i}`;
      const v = this.obj(item, p, true);
      if (!v) return;
      const s = this.str(v, 'value', p, { required: true, nonEmpty: true, max: 255 });
      if (s !== undefined) out.push(s);
    });
    return out;
  }

  /** `{nanoseconds}` (DurationInfo) or `{seconds, nanos}` (google.protobuf.Duration), in ms. */
  duration(v: unknown, path: string): number | undefined {
    const o = this.obj(v, path, false);
    if (!o) return undefined;
    if (o.nanoseconds !== undefined) {
      const ns = this.num(o, 'nanoseconds', path, { min: 0 });
      return ns === undefined ? undefined : ns / 1e6;
    }
    if (o.seconds !== undefined || o.nanos !== undefined) {
      const s = this.num(o, 'seconds', path, { min: 0 }) ?? 0;
      const n = this.num(o, 'nanos', path, { min: 0 }) ?? 0;
      return s * 1000 + n / 1e6;
    }
    return this.fail(path, 'must have nanoseconds (or seconds and nanos)');
  }
}

function push(map: Map<string, string[]>, path: string, error: string): void {
  const list = map.get(path);
  if (list) list.push(error);
  else map.set(path, [error]);
}

function details(map: Map<string, string[]>): Array<{ path: string; errors: string[] }> {
  return [...map].map(([path, errors]) => ({ path, errors }));
}

// ---------------------------------------------------------------------------------------------

/**
 * Ids end up in sandbox paths and log lines: the rules Mesos applies to task ids (no '/', no
 * NUL, not '.' or '..') plus no whitespace or control characters.
 */
export function checkId(r: Reader, value: string | undefined, path: string): void {
  if (value === undefined) return;
  if (value === '.' || value === '..') r.reject(path, 'must not be "." or ".."');
  else if (/[/\\\s\u0000-\u001f\u007f]/.test(value)) r.reject(path, 'must not contain "/", "\\", whitespace or control characters');
}

function checkRole(r: Reader, role: string, path: string): void {
  if (role === '*') return;
  if (role === '' || role === '.' || role === '..' || role.startsWith('-') || /[\s/\\]/.test(role)) {
    r.fail(path, 'is not a valid role name');
  }
}

export interface SubscribeCall {
  input: FrameworkInput;
  extras: FrameworkExtras;
  /** Replace a live subscription of the same framework instead of refusing (409). */
  force: boolean;
}

export function parseSubscribe(call: Obj): SubscribeCall {
  const r = new Reader();
  const sub = r.obj(call.subscribe, '/subscribe', true);
  const fi = sub && r.obj(sub.framework_info, '/subscribe/framework_info', true);
  const P = '/subscribe/framework_info';
  const input: FrameworkInput = { name: '', user: '', roles: ['*'], failoverTimeoutSeconds: 0 };
  const extras: FrameworkExtras = { capabilities: [] };
  let force = false;
  if (sub) force = r.bool(sub, 'force', '/subscribe') ?? false;
  if (fi) {
    input.user = r.str(fi, 'user', P, { required: true, max: 256 }) ?? '';
    input.name = r.str(fi, 'name', P, { required: true, max: 256 }) ?? '';
    const fid = r.id(fi, 'id', P, false);
    checkId(r, fid, `${P}/id/value`);
    if (fid !== undefined) input.id = fid;
    const callFid = r.id(call, 'framework_id', '', false);
    if (callFid !== undefined && callFid !== fid) {
      r.fail('/framework_id', 'must equal subscribe.framework_info.id');
    }
    input.failoverTimeoutSeconds = r.num(fi, 'failover_timeout', P, { min: 0 }) ?? 0;
    const role = r.str(fi, 'role', P, { max: 256 });
    const roles = r.arr(fi, 'roles', P);
    if (role !== undefined && roles !== undefined && roles.length > 0) {
      r.fail(`${P}/roles`, 'set either roles (MULTI_ROLE) or the deprecated role, not both');
    }
    if (roles && roles.length > 0) {
      const list: string[] = [];
      roles.forEach((v, i) => {
        if (typeof v !== 'string') r.fail(`${P}/roles/${i}`, 'must be a string');
        else {
          checkRole(r, v, `${P}/roles/${i}`);
          if (!list.includes(v)) list.push(v);
        }
      });
      input.roles = list;
    } else if (role !== undefined) {
      checkRole(r, role, `${P}/role`);
      input.roles = [role];
      extras.legacyRole = true;
    } else {
      extras.legacyRole = true;
    }
    const principal = r.str(fi, 'principal', P, { max: 256 });
    if (principal !== undefined) input.principal = principal;
    const hostname = r.str(fi, 'hostname', P, { max: 253 });
    if (hostname !== undefined) input.hostname = hostname;
    const webui = r.str(fi, 'webui_url', P, { max: 2048 });
    if (webui !== undefined) input.webuiUrl = webui;
    const checkpoint = r.bool(fi, 'checkpoint', P);
    if (checkpoint !== undefined) extras.checkpoint = checkpoint;
    (r.arr(fi, 'capabilities', P) ?? []).forEach((c, i) => {
      const co = r.obj(c, `${P}/capabilities/${i}`, true);
      const type = co && r.str(co, 'type', `${P}/capabilities/${i}`, { max: 64 });
      if (type !== undefined) extras.capabilities.push({ type });
    });
    const labels = readLabels(r, fi.labels, `${P}/labels`);
    if (labels) extras.labels = Object.entries(labels).map(([key, value]) => ({ key, value }));
  }
  r.done('SUBSCRIBE');
  return { input, extras, force };
}

function readLabels(r: Reader, v: unknown, path: string): Record<string, string> | undefined {
  const o = r.obj(v, path, false);
  if (!o) return undefined;
  const out: Record<string, string> = {};
  (r.arr(o, 'labels', path) ?? []).forEach((l, i) => {
    const p = `${path}/labels/${i}`;
    const lo = r.obj(l, p, true);
    if (!lo) return;
    const key = r.str(lo, 'key', p, { required: true, max: 1024 });
    const value = r.str(lo, 'value', p, { max: 64 * 1024 }) ?? '';
    if (key !== undefined) out[key] = value;
  });
  return out;
}

/** Offer.Operation types Mesos knows; only LAUNCH is carried out here. */
const OPERATION_TYPES = new Set([
  'UNKNOWN', 'LAUNCH', 'LAUNCH_GROUP', 'RESERVE', 'UNRESERVE', 'CREATE', 'DESTROY',
  'GROW_VOLUME', 'SHRINK_VOLUME', 'CREATE_DISK', 'DESTROY_DISK',
]);

export interface AcceptCall {
  offerIds: string[];
  launches: TaskLaunch[];
  /** Where each launch came from, to point master errors at the caller's own JSON. */
  origins: string[];
  refuseSeconds?: number;
}

export function parseAccept(call: Obj): AcceptCall {
  const r = new Reader();
  const acc = r.obj(call.accept, '/accept', true);
  const out: AcceptCall = { offerIds: [], launches: [], origins: [] };
  if (acc) {
    out.offerIds = r.ids(acc, 'offer_ids', '/accept', true);
    (r.arr(acc, 'operations', '/accept') ?? []).forEach((op, i) => {
      const p = `/accept/operations/${i}`;
      const oo = r.obj(op, p, true);
      if (!oo) return;
      const type = r.str(oo, 'type', p, { required: true, max: 64 });
      if (type === undefined) return;
      if (!OPERATION_TYPES.has(type)) {
        r.fail(`${p}/type`, `unknown operation type ${type}`);
        return;
      }
      if (type !== 'LAUNCH') {
        r.reject(`${p}/type`, `unsupported operation ${type}: only LAUNCH is supported`);
        return;
      }
      const launch = r.obj(oo.launch, `${p}/launch`, true);
      if (!launch) return;
      (r.arr(launch, 'task_infos', `${p}/launch`, true) ?? []).forEach((ti, j) => {
        const tp = `${p}/launch/task_infos/${j}`;
        const l = parseTaskInfo(r, ti, tp);
        if (l) {
          out.launches.push(l);
          out.origins.push(tp);
        }
      });
    });
    const refuse = readFilters(r, acc.filters, '/accept/filters');
    if (refuse !== undefined) out.refuseSeconds = refuse;
  }
  r.done('ACCEPT');
  return out;
}

function readFilters(r: Reader, v: unknown, path: string): number | undefined {
  const f = r.obj(v, path, false);
  return f ? r.num(f, 'refuse_seconds', path, { min: 0 }) : undefined;
}

export function parseDecline(call: Obj): { offerIds: string[]; refuseSeconds?: number } {
  const r = new Reader();
  const dec = r.obj(call.decline, '/decline', true);
  const out: { offerIds: string[]; refuseSeconds?: number } = { offerIds: [] };
  if (dec) {
    out.offerIds = r.ids(dec, 'offer_ids', '/decline', true);
    const refuse = readFilters(r, dec.filters, '/decline/filters');
    if (refuse !== undefined) out.refuseSeconds = refuse;
  }
  r.done('DECLINE');
  return out;
}

/** REVIVE and SUPPRESS may name roles; a Yagura framework has one role, so any role list means all. */
export function parseRoles(call: Obj, key: 'revive' | 'suppress'): void {
  const r = new Reader();
  const o = r.obj(call[key], `/${key}`, false);
  if (o) (r.arr(o, 'roles', `/${key}`) ?? []).forEach((v, i) => typeof v !== 'string' && r.fail(`/${key}/roles/${i}`, 'must be a string'));
  r.done(key.toUpperCase());
}

export function parseKill(call: Obj): { taskId: string; gracePeriodMs?: number } {
  const r = new Reader();
  const k = r.obj(call.kill, '/kill', true);
  let taskId = '';
  let grace: number | undefined;
  if (k) {
    taskId = r.id(k, 'task_id', '/kill', true) ?? '';
    r.id(k, 'agent_id', '/kill', false);
    const kp = r.obj(k.kill_policy, '/kill/kill_policy', false);
    if (kp) grace = r.duration(kp.grace_period, '/kill/kill_policy/grace_period');
  }
  r.done('KILL');
  return { taskId, ...(grace !== undefined ? { gracePeriodMs: grace } : {}) };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function parseAcknowledge(call: Obj): { taskId: string; uuid: string } {
  const r = new Reader();
  const a = r.obj(call.acknowledge, '/acknowledge', true);
  let taskId = '';
  let uuid = '';
  if (a) {
    r.id(a, 'agent_id', '/acknowledge', true);
    taskId = r.id(a, 'task_id', '/acknowledge', true) ?? '';
    uuid = r.str(a, 'uuid', '/acknowledge', { required: true, nonEmpty: true, max: 256 }) ?? '';
    if (uuid && !BASE64.test(uuid)) r.fail('/acknowledge/uuid', 'must be base64 (the uuid of the update, as sent)');
  }
  r.done('ACKNOWLEDGE');
  return { taskId, uuid };
}

export function parseReconcile(call: Obj): string[] {
  const r = new Reader();
  const rec = r.obj(call.reconcile, '/reconcile', false);
  const ids: string[] = [];
  if (rec) {
    (r.arr(rec, 'tasks', '/reconcile') ?? []).forEach((t, i) => {
      const p = `/reconcile/tasks/${i}`;
      const to = r.obj(t, p, true);
      if (!to) return;
      const tid = r.id(to, 'task_id', p, true);
      r.id(to, 'agent_id', p, false);
      if (tid !== undefined) ids.push(tid);
    });
  }
  r.done('RECONCILE');
  return ids;
}

// ---------------------------------------------------------------------------------------------
// TaskInfo

function parseTaskInfo(r: Reader, v: unknown, p: string): TaskLaunch | undefined {
  const t = r.obj(v, p, true);
  if (!t) return undefined;
  const name = r.str(t, 'name', p, { required: true, max: 1024 });
  const taskId = r.id(t, 'task_id', p, true);
  checkId(r, taskId, `${p}/task_id/value`);
  const agentId = r.id(t, 'agent_id', p, true);
  let resources = undefined;
  const rawResources = r.arr(t, 'resources', p, true);
  if (rawResources) {
    const parsed = fromMesosResources(rawResources, `${p}/resources`);
    for (const e of parsed.errors) for (const msg of e.errors) r.reject(e.path, msg);
    resources = parsed.resources;
  }
  if (t.executor !== undefined) r.reject(`${p}/executor`, 'custom executors are not supported; give a command');
  for (const key of ['health_check', 'check', 'max_completion_time'] as const) {
    if (t[key] !== undefined) r.reject(`${p}/${key}`, 'is not supported');
  }
  checkContainer(r, t.container, `${p}/container`);
  const command = parseCommand(r, t.command, `${p}/command`, t.executor === undefined);
  const labels = readLabels(r, t.labels, `${p}/labels`) ?? {};
  let killGracePeriodMs: number | undefined;
  const kp = r.obj(t.kill_policy, `${p}/kill_policy`, false);
  if (kp) killGracePeriodMs = r.duration(kp.grace_period, `${p}/kill_policy/grace_period`);
  if (name === undefined || taskId === undefined || agentId === undefined || !resources || !command) return undefined;
  return {
    taskId,
    name,
    agentId,
    resources,
    command,
    labels,
    ...(killGracePeriodMs !== undefined ? { killGracePeriodMs } : {}),
  };
}

/** The Mesos containerizer without an image is what Yagura runs; anything else is refused. */
function checkContainer(r: Reader, v: unknown, p: string): void {
  const c = r.obj(v, p, false);
  if (!c) return;
  const type = r.str(c, 'type', p, { max: 32 });
  if (type !== undefined && type !== 'MESOS') r.reject(`${p}/type`, `container type ${type} is not supported`);
  const mesos = isRecord(c.mesos) ? c.mesos : undefined;
  if (c.docker !== undefined || mesos?.image !== undefined) r.reject(p, 'container images are not supported');
  if (Array.isArray(c.volumes) && c.volumes.length > 0) r.reject(`${p}/volumes`, 'volumes are not supported');
}

function parseCommand(r: Reader, v: unknown, p: string, required: boolean): CommandSpec | undefined {
  const c = r.obj(v, p, required);
  if (!c) return undefined;
  const shell = r.bool(c, 'shell', p) ?? true;
  const value = r.str(c, 'value', p, { max: 64 * 1024 });
  const args: string[] = [];
  (r.arr(c, 'arguments', p) ?? []).forEach((a, i) => {
    if (typeof a !== 'string') r.fail(`${p}/arguments/${i}`, 'must be a string');
    else args.push(a);
  });
  if (value === undefined || value === '') r.reject(`${p}/value`, shell ? 'a shell command is required' : 'the executable is required');
  const env: Record<string, string> = {};
  const envObj = r.obj(c.environment, `${p}/environment`, false);
  if (envObj) {
    (r.arr(envObj, 'variables', `${p}/environment`) ?? []).forEach((ev, i) => {
      const vp = `${p}/environment/variables/${i}`;
      const eo = r.obj(ev, vp, true);
      if (!eo) return;
      const name = r.str(eo, 'name', vp, { required: true, nonEmpty: true, max: 1024 });
      const type = r.str(eo, 'type', vp, { max: 32 });
      if (type !== undefined && type !== 'VALUE' && type !== 'UNKNOWN') r.reject(`${vp}/type`, `${type} variables are not supported`);
      const val = r.str(eo, 'value', vp, { max: 64 * 1024 }) ?? '';
      if (name !== undefined && /[=\0]/.test(name)) r.reject(`${vp}/name`, 'must not contain "=" or NUL');
      else if (name !== undefined) env[name] = val;
    });
  }
  const uris: CommandSpec['uris'] = [];
  (r.arr(c, 'uris', p) ?? []).forEach((u, i) => {
    const up = `${p}/uris/${i}`;
    const uo = r.obj(u, up, true);
    if (!uo) return;
    const uri = r.str(uo, 'value', up, { required: true, nonEmpty: true, max: 8192 });
    const extract = r.bool(uo, 'extract', up);
    const executable = r.bool(uo, 'executable', up);
    const cache = r.bool(uo, 'cache', up);
    const outputFile = r.str(uo, 'output_file', up, { max: 1024 });
    if (outputFile !== undefined && (outputFile.startsWith('/') || outputFile.split('/').includes('..'))) {
      r.reject(`${up}/output_file`, 'must be a relative path inside the sandbox');
    }
    if (uri === undefined) return;
    uris.push({
      value: uri,
      // Mesos extracts archives unless told not to
      extract: extract ?? true,
      ...(executable !== undefined ? { executable } : {}),
      ...(cache !== undefined ? { cache } : {}),
      ...(outputFile !== undefined ? { outputFile } : {}),
    });
  });
  const user = r.str(c, 'user', p, { nonEmpty: true, max: 256 });
  if (value === undefined) return undefined;
  // Mesos' arguments start with argv[0] (execvp(value, arguments)); CommandSpec.args are the
  // arguments after it. A shell command ignores arguments, as in Mesos.
  return {
    value,
    shell,
    ...(!shell ? { args: args.slice(1) } : {}),
    env,
    uris,
    ...(user !== undefined ? { user } : {}),
  };
}
