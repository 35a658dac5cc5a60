// How the service form reads and writes its fields in an app definition. The form owns only
// these fields; everything else in the definition passes through untouched.
import type { ErrorDetail } from '../../protocol/types.js';

export type Doc = Record<string, unknown>;

export const HEALTH_PROTOCOLS = ['HTTP', 'HTTPS', 'TCP', 'COMMAND', 'MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP'] as const;

const isRecord = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first health check, the one the form edits (others stay as they are). */
export function healthCheck(doc: Doc): Doc | undefined {
  const checks = doc.healthChecks;
  return Array.isArray(checks) && isRecord(checks[0]) ? checks[0] : undefined;
}

/** Pointer of a form field → value shown. */
export function read(doc: Doc, pointer: string): unknown {
  let at: unknown = doc;
  for (const part of pointer.split('/').slice(1)) {
    if (Array.isArray(at)) at = at[Number(part)];
    else if (isRecord(at)) at = at[part];
    else return undefined;
  }
  return at;
}

/** Sets (or with undefined removes) one field, copying the objects on the way. */
export function write(doc: Doc, pointer: string, value: unknown): Doc {
  const parts = pointer.split('/').slice(1);
  const step = (node: unknown, i: number): unknown => {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if (Array.isArray(node) || (node === undefined && /^\d+$/.test(part))) {
      const copy = Array.isArray(node) ? [...node] : [];
      const index = Number(part);
      if (last) {
        if (value === undefined) copy.splice(index, 1);
        else copy[index] = value;
      } else copy[index] = step(copy[index] ?? (/^\d+$/.test(parts[i + 1]!) ? [] : {}), i + 1);
      return copy;
    }
    const copy: Doc = isRecord(node) ? { ...node } : {};
    if (last) {
      if (value === undefined) delete copy[part];
      else copy[part] = value;
    } else copy[part] = step(copy[part], i + 1);
    return copy;
  };
  return step(doc, 0) as Doc;
}

/** A string map's string entries (env may also hold secret references, which the form leaves alone). */
export function stringEntries(value: unknown): Array<[string, string]> {
  if (!isRecord(value)) return [];
  return Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string');
}

/** Replaces the string entries of a map and keeps its other entries. */
export function withStringEntries(value: unknown, entries: ReadonlyArray<readonly [string, string]>): Doc {
  const kept = isRecord(value) ? Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v !== 'string')) : {};
  return { ...kept, ...Object.fromEntries(entries) };
}

/** The host ports as the form shows them: "0, 8080". `ports` (the deprecated form) when that is what the app uses. */
export function portsText(doc: Doc): string {
  if (Array.isArray(doc.portDefinitions)) return doc.portDefinitions.map((d) => (isRecord(d) ? String(d.port ?? 0) : '?')).join(', ');
  if (Array.isArray(doc.ports)) return doc.ports.map(String).join(', ');
  return '';
}

/** Parses "0, 8080"; undefined when a part is not a port number. */
export function parsePorts(text: string): number[] | undefined {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const ports = parts.map(Number);
  return ports.every((p) => Number.isInteger(p) && p >= 0 && p <= 65535) ? ports : undefined;
}

/** Writes port numbers, keeping each existing definition's name, protocol and labels. */
export function withPorts(doc: Doc, ports: number[]): Doc {
  if (!Array.isArray(doc.portDefinitions) && Array.isArray(doc.ports)) return { ...doc, ports };
  const old = Array.isArray(doc.portDefinitions) ? doc.portDefinitions : [];
  return { ...doc, portDefinitions: ports.map((port, i) => (isRecord(old[i]) ? { ...old[i], port } : { port, protocol: 'tcp' })) };
}

/** Changes the first check's protocol; 'NONE' removes it. Fields of another kind of check go. */
export function withHealthProtocol(doc: Doc, protocol: string): Doc {
  const checks = Array.isArray(doc.healthChecks) ? [...doc.healthChecks] : [];
  if (protocol === 'NONE') {
    checks.splice(0, 1);
    return { ...doc, healthChecks: checks };
  }
  const old = isRecord(checks[0]) ? { ...checks[0] } : { gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3 };
  const next: Doc = { ...old, protocol };
  if (protocol === 'COMMAND') {
    delete next.path;
    delete next.portIndex;
    delete next.port;
    if (!isRecord(next.command)) next.command = { value: '' };
  } else {
    delete next.command;
    if (protocol.endsWith('TCP')) delete next.path;
    else next.path ??= '/';
    if (next.port === undefined) next.portIndex ??= 0;
  }
  checks[0] = next;
  return { ...doc, healthChecks: checks };
}

/** Form fields by the pointer they edit; an error at a pointer shows at the field that owns it. */
const OWNERS: Array<[RegExp, string]> = [
  [/^\/id$/, '/id'],
  [/^\/(cmd|args)(\/|$)/, '/cmd'],
  [/^\/instances$/, '/instances'],
  [/^\/cpus$/, '/cpus'],
  [/^\/mem$/, '/mem'],
  [/^\/disk$/, '/disk'],
  [/^\/env(\/|$)/, '/env'],
  [/^\/labels(\/|$)/, '/labels'],
  [/^\/(portDefinitions|ports|requirePorts)(\/|$)/, '/portDefinitions'],
  [/^\/healthChecks\/0\/(port|portIndex)$/, '/healthChecks/0/portIndex'],
  [/^\/healthChecks\/0\/command(\/|$)/, '/healthChecks/0/command/value'],
  [/^\/healthChecks\/0\/(path|gracePeriodSeconds|intervalSeconds|timeoutSeconds|maxConsecutiveFailures|protocol)$/, ''],
  [/^\/healthChecks(\/0)?$/, '/healthChecks/0/protocol'],
];

/** The field pointer an error path belongs to, if the form has that field. */
export function ownerOf(path: string, fields: ReadonlySet<string>): string | undefined {
  for (const [pattern, owner] of OWNERS) {
    if (!pattern.test(path)) continue;
    const field = owner === '' ? path : owner;
    return fields.has(field) ? field : undefined;
  }
  return undefined;
}

/** Errors grouped by the field that shows them, and the rest for the JSON view. */
export function placeErrors(errors: readonly ErrorDetail[], fields: ReadonlySet<string>): { byField: Map<string, string[]>; rest: ErrorDetail[] } {
  const byField = new Map<string, string[]>();
  const rest: ErrorDetail[] = [];
  for (const error of errors) {
    const owner = ownerOf(error.path, fields);
    if (owner === undefined) rest.push(error);
    else byField.set(owner, [...(byField.get(owner) ?? []), ...error.errors]);
  }
  return { byField, rest };
}
