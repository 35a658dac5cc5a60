// Resource arithmetic for the scheduling core. Pure functions, no I/O.
//
// Scalars are kept as Mesos does: fixed point with three decimals. Every
// add/subtract works on integer "milli" units and divides once at the end,
// so 0.1 + 0.2 - 0.3 is exactly 0 and repeated offer/recover cycles never drift.
//
// Port ranges are inclusive [begin, end] pairs. Results are always
// normalized: sorted, non-overlapping, adjacent ranges merged.

import type { Range, Resources } from '../../protocol/types.js';

export interface MesosResource {
  name: string;
  type: 'SCALAR' | 'RANGES' | 'SET';
  scalar?: { value: number };
  ranges?: { range: Array<{ begin: number; end: number }> };
  set?: { item: string[] };
  role?: string;
}

export interface ResourceError {
  path: string;
  errors: string[];
}

export const SCALAR_NAMES = ['cpus', 'mem', 'disk'] as const;
export type ScalarName = (typeof SCALAR_NAMES)[number];
const KNOWN_NAMES = 'cpus, mem, disk, ports';
const MAX_PORT = 65535;

// ---------------------------------------------------------------------------
// Scalars

/** A scalar in integer thousandths; the unit of all scalar arithmetic here. */
export function toMilli(x: number): number {
  return Math.round(x * 1000);
}

/** `+ 0` turns -0 into 0 so results compare and print cleanly. */
export function fromMilli(m: number): number {
  return m / 1000 + 0;
}

/** Round a scalar to the 3 decimals Mesos keeps. */
export function roundScalar(x: number): number {
  return fromMilli(toMilli(x));
}

// ---------------------------------------------------------------------------
// Ranges

/**
 * Sorted, merged (overlapping and adjacent) copy of `ranges`: a new array, whose tuples may be
 * those of `ranges` (ranges are values: nothing changes a tuple in place).
 */
export function normalizeRanges(ranges: readonly Range[]): Range[] {
  if (ranges.length === 0) return [];
  // most ranges are normalized already (an agent's, an offer's, a task's): no copies, no sort.
  // The tuples are shared: ranges are values, nothing changes one in place.
  if (isNormalized(ranges)) return ranges.slice();
  const sorted = ranges.map((r): Range => [r[0], r[1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Range[] = [sorted[0]];
  for (let i = 1; i < sorted.length; i++) {
    const last = out[out.length - 1];
    const cur = sorted[i];
    if (cur[0] <= last[1] + 1) {
      if (cur[1] > last[1]) last[1] = cur[1];
    } else {
      out.push(cur);
    }
  }
  return out;
}

function isNormalized(ranges: readonly Range[]): boolean {
  let prevEnd = -Infinity;
  for (const r of ranges) {
    if (!(r[0] <= r[1]) || r[0] <= prevEnd + 1) return false;
    prevEnd = r[1];
  }
  return true;
}

export function addRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  if (b.length === 0) return normalizeRanges(a);
  if (a.length === 0) return normalizeRanges(b);
  if (!isNormalized(a) || !isNormalized(b)) return normalizeRanges([...a, ...b]);
  // both normalized (an agent's free ports and what comes back): merge them in one pass
  const out: Range[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const next = j === b.length || (i < a.length && a[i]![0] <= b[j]![0]) ? a[i++]! : b[j++]!;
    const last = out[out.length - 1];
    if (last !== undefined && next[0] <= last[1] + 1) {
      if (next[1] > last[1]) out[out.length - 1] = [last[0], next[1]];
    } else {
      out.push(next);
    }
  }
  return out;
}

/** Set difference a \ b; ports of b that are not in a are ignored. */
export function subtractRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const left = normalizeRanges(a);
  const right = normalizeRanges(b);
  if (right.length === 0 || left.length === 0) return left;
  const out: Range[] = [];
  let j = 0;
  for (const [begin, end] of left) {
    let cursor = begin;
    while (j < right.length && right[j][1] < cursor) j++;
    let k = j;
    while (k < right.length && right[k][0] <= end) {
      const [rb, re] = right[k];
      if (rb > cursor) out.push([cursor, rb - 1]);
      cursor = Math.max(cursor, re + 1);
      if (cursor > end) break;
      k++;
    }
    if (cursor <= end) out.push([cursor, end]);
  }
  return out;
}

/** Every port of b lies within a. */
export function rangesContain(a: readonly Range[], b: readonly Range[]): boolean {
  if (b.length === 0) return true;
  const outer = normalizeRanges(a);
  const inner = normalizeRanges(b);
  let i = 0;
  for (const [begin, end] of inner) {
    // Both sides are merged, so a range of b must sit inside a single range of a.
    while (i < outer.length && outer[i][1] < begin) i++;
    if (i === outer.length || outer[i][0] > begin || outer[i][1] < end) return false;
  }
  return true;
}

export function intersectRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const left = normalizeRanges(a);
  const right = normalizeRanges(b);
  const out: Range[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const begin = Math.max(left[i][0], right[j][0]);
    const end = Math.min(left[i][1], right[j][1]);
    if (begin <= end) out.push([begin, end]);
    if (left[i][1] < right[j][1]) i++;
    else j++;
  }
  return out;
}

/** Number of ports in the ranges (assumes no overlaps, as after normalizeRanges). */
export function rangesSize(ranges: readonly Range[]): number {
  let n = 0;
  for (const [begin, end] of ranges) n += end - begin + 1;
  return n;
}

/** "[31000-32000, 33000-33010]", as Mesos prints ranges. */
export function formatRanges(r: Range[]): string {
  return `[${r.map(([begin, end]) => `${begin}-${end}`).join(', ')}]`;
}

/** Take `count` ports out of `available` ranges (lowest first) → the chosen ports, or null if not enough. */
export function pickPorts(available: Range[], count: number): number[] | null {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`port count must be a non-negative integer, got ${count}`);
  }
  const picked: number[] = [];
  if (count === 0) return picked;
  for (const [begin, end] of normalizeRanges(available)) {
    for (let p = begin; p <= end; p++) {
      picked.push(p);
      if (picked.length === count) return picked;
    }
  }
  return null;
}

export function portsToRanges(ports: number[]): Range[] {
  return normalizeRanges(ports.map((p): Range => [p, p]));
}

// ---------------------------------------------------------------------------
// Resources

export function emptyResources(): Resources {
  return { cpus: 0, mem: 0, disk: 0, ports: [] };
}

export function cloneResources(r: Resources): Resources {
  return { cpus: r.cpus, mem: r.mem, disk: r.disk, ports: r.ports.map((p): Range => [p[0], p[1]]) };
}

/** Pure; scalars rounded to 3 decimals, port ranges merged. */
export function addResources(a: Resources, b: Resources): Resources {
  return {
    cpus: fromMilli(toMilli(a.cpus) + toMilli(b.cpus)),
    mem: fromMilli(toMilli(a.mem) + toMilli(b.mem)),
    disk: fromMilli(toMilli(a.disk) + toMilli(b.disk)),
    ports: addRanges(a.ports, b.ports),
  };
}

/** Pure; throws Error naming every dimension in which b is not contained in a. */
export function subtractResources(a: Resources, b: Resources): Resources {
  const problems: string[] = [];
  for (const name of SCALAR_NAMES) {
    if (toMilli(b[name]) > toMilli(a[name])) problems.push(`${name}:${roundScalar(b[name])} > ${name}:${roundScalar(a[name])}`);
  }
  if (!rangesContain(a.ports, b.ports)) {
    problems.push(`ports:${formatRanges(normalizeRanges(b.ports))} not within ports:${formatRanges(normalizeRanges(a.ports))}`);
  }
  if (problems.length > 0) throw new Error(`cannot subtract resources: ${problems.join('; ')}`);
  return {
    cpus: fromMilli(toMilli(a.cpus) - toMilli(b.cpus)),
    mem: fromMilli(toMilli(a.mem) - toMilli(b.mem)),
    disk: fromMilli(toMilli(a.disk) - toMilli(b.disk)),
    ports: subtractRanges(a.ports, b.ports),
  };
}

/** a >= b in every dimension (at 3-decimal precision), every port of b within a's ranges. */
export function containsResources(a: Resources, b: Resources): boolean {
  return (
    toMilli(a.cpus) >= toMilli(b.cpus) &&
    toMilli(a.mem) >= toMilli(b.mem) &&
    toMilli(a.disk) >= toMilli(b.disk) &&
    rangesContain(a.ports, b.ports)
  );
}

/** All scalars 0 at 3-decimal precision and no ports. */
export function isEmptyResources(r: Resources): boolean {
  return toMilli(r.cpus) === 0 && toMilli(r.mem) === 0 && toMilli(r.disk) === 0 && r.ports.length === 0;
}

export function resourcesEqual(a: Resources, b: Resources): boolean {
  if (toMilli(a.cpus) !== toMilli(b.cpus) || toMilli(a.mem) !== toMilli(b.mem) || toMilli(a.disk) !== toMilli(b.disk)) {
    return false;
  }
  const pa = normalizeRanges(a.ports);
  const pb = normalizeRanges(b.ports);
  return pa.length === pb.length && pa.every((r, i) => r[0] === pb[i][0] && r[1] === pb[i][1]);
}

/** "cpus:2; mem:1024; disk:4096; ports:[31000-32000]"; parseResources reads it back. */
export function formatResources(r: Resources): string {
  const parts = SCALAR_NAMES.map((name) => `${name}:${roundScalar(r[name])}`);
  if (r.ports.length > 0) parts.push(`ports:${formatRanges(normalizeRanges(r.ports))}`);
  return parts.join('; ');
}

// ---------------------------------------------------------------------------
// Mesos --resources strings

const ENTRY = /^([A-Za-z_][\w.-]*)\s*(?:\(([^()]*)\))?\s*:\s*(.*)$/s;
const DECIMAL = /^\+?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function parsePort(text: string, entry: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`bad port "${text}" in "${entry}": ports are integers 0-${MAX_PORT}`);
  const port = Number(text);
  if (port > MAX_PORT) throw new Error(`bad port ${port} in "${entry}": ports are integers 0-${MAX_PORT}`);
  return port;
}

function parseRangesText(value: string, entry: string): Range[] {
  const m = /^\[(.*)\]$/s.exec(value);
  if (!m) throw new Error(`bad ranges in "${entry}": expected [begin-end, ...]`);
  const body = m[1].trim();
  if (body === '') return [];
  const ranges: Range[] = [];
  for (const part of body.split(',')) {
    const bounds = part.trim().split('-').map((s) => s.trim());
    if (bounds.length > 2 || bounds[0] === '') throw new Error(`bad range "${part.trim()}" in "${entry}": expected begin-end`);
    const begin = parsePort(bounds[0], entry);
    const end = bounds.length === 2 ? parsePort(bounds[1], entry) : begin;
    if (begin > end) throw new Error(`bad range "${part.trim()}" in "${entry}": begin is greater than end`);
    ranges.push([begin, end]);
  }
  return ranges;
}

/**
 * Mesos --resources string: "cpus:2;mem:1024;disk:4096;ports:[31000-32000,33000-33010]"
 * (also accepts "cpus(*):2", or the JSON array form Mesos accepts). Throws Error with a
 * clear message on bad input. Missing dimensions are 0 / []. Repeated names are summed.
 */
export function parseResources(s: string): Resources {
  const text = s.trim();
  if (text.startsWith('[')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`bad resources JSON: ${(e as Error).message}`);
    }
    const { resources, errors } = fromMesosResources(json, '');
    if (errors.length > 0) {
      throw new Error(`bad resources JSON: ${errors.map((e) => `${e.path}: ${e.errors.join(', ')}`).join('; ')}`);
    }
    return resources;
  }
  let acc = emptyResources();
  for (const raw of text.split(';')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = ENTRY.exec(entry);
    if (!m) throw new Error(`bad resource "${entry}": expected name:value, e.g. cpus:2`);
    const [, name, role, rawValue] = m;
    const value = rawValue.trim();
    if (role !== undefined && role.trim() !== '*') {
      throw new Error(`bad resource "${entry}": reserved resources (role "${role.trim()}") are not supported, only "*"`);
    }
    if (name === 'cpus' || name === 'mem' || name === 'disk') {
      const n = Number(value);
      if (!DECIMAL.test(value) || !Number.isFinite(n)) {
        throw new Error(`bad resource "${entry}": ${name} must be a non-negative number`);
      }
      acc = addResources(acc, { ...emptyResources(), [name]: n });
    } else if (name === 'ports') {
      acc = addResources(acc, { ...emptyResources(), ports: parseRangesText(value, entry) });
    } else {
      throw new Error(`bad resource "${entry}": unknown resource "${name}" (known: ${KNOWN_NAMES})`);
    }
  }
  return acc;
}

// ---------------------------------------------------------------------------
// Mesos v1 JSON

/**
 * Zero scalars and empty port lists are left out, as Mesos leaves empty resources out of
 * offers; fromMesosResources reads the absence back as 0 / [].
 */
export function toMesosResources(r: Resources, role = '*'): MesosResource[] {
  const out: MesosResource[] = [];
  for (const name of SCALAR_NAMES) {
    const value = roundScalar(r[name]);
    if (value !== 0) out.push({ name, type: 'SCALAR', scalar: { value }, role });
  }
  const ports = normalizeRanges(r.ports);
  if (ports.length > 0) {
    out.push({ name: 'ports', type: 'RANGES', ranges: { range: ports.map(([begin, end]) => ({ begin, end })) }, role });
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_PORT;
}

/**
 * Validates shape (name, type, values finite and >= 0, ranges begin<=end, integers 0..65535 for
 * ports) and returns errors with JSON-pointer paths like "/resources/1/scalar/value". Unknown
 * resource names (e.g. "gpus") are an error. Duplicated names are summed. The role is not
 * interpreted: everything is treated as unreserved. Invalid entries contribute nothing.
 */
export function fromMesosResources(
  arr: unknown,
  path = '/resources',
): { resources: Resources; errors: ResourceError[] } {
  const byPath = new Map<string, string[]>();
  let failures = 0;
  const fail = (p: string, message: string): void => {
    failures++;
    const list = byPath.get(p);
    if (list) list.push(message);
    else byPath.set(p, [message]);
  };
  const done = (resources: Resources) => ({
    resources,
    errors: [...byPath].map(([p, errors]) => ({ path: p, errors })),
  });

  let acc = emptyResources();
  if (!Array.isArray(arr)) {
    fail(path, 'must be an array of resources');
    return done(acc);
  }
  arr.forEach((item: unknown, i) => {
    const p = `${path}/${i}`;
    if (!isRecord(item)) {
      fail(p, 'must be an object');
      return;
    }
    const before = failures;
    const { name, type, role } = item;
    if (role !== undefined && typeof role !== 'string') fail(`${p}/role`, 'must be a string');
    if (typeof name !== 'string') {
      fail(`${p}/name`, 'must be a string');
      return;
    }
    if (name === 'cpus' || name === 'mem' || name === 'disk') {
      if (type !== 'SCALAR') fail(`${p}/type`, `must be "SCALAR" for ${name}`);
      const scalar = item.scalar;
      if (!isRecord(scalar)) {
        fail(`${p}/scalar`, 'must be an object with a value');
      } else if (typeof scalar.value !== 'number' || !Number.isFinite(scalar.value)) {
        fail(`${p}/scalar/value`, 'must be a finite number');
      } else if (scalar.value < 0) {
        fail(`${p}/scalar/value`, 'must be >= 0');
      }
      if (failures === before) acc = addResources(acc, { ...emptyResources(), [name]: (scalar as { value: number }).value });
    } else if (name === 'ports') {
      if (type !== 'RANGES') fail(`${p}/type`, 'must be "RANGES" for ports');
      const ranges = item.ranges;
      const list = isRecord(ranges) ? ranges.range : undefined;
      const parsed: Range[] = [];
      if (!isRecord(ranges)) {
        fail(`${p}/ranges`, 'must be an object with a range array');
      } else if (!Array.isArray(list)) {
        fail(`${p}/ranges/range`, 'must be an array');
      } else {
        list.forEach((r: unknown, j) => {
          const rp = `${p}/ranges/range/${j}`;
          if (!isRecord(r)) {
            fail(rp, 'must be an object with begin and end');
            return;
          }
          let ok = true;
          for (const key of ['begin', 'end'] as const) {
            if (!isPort(r[key])) {
              fail(`${rp}/${key}`, `must be an integer 0-${MAX_PORT}`);
              ok = false;
            }
          }
          if (!ok) return;
          const begin = r.begin as number;
          const end = r.end as number;
          if (begin > end) fail(rp, 'begin must be <= end');
          else parsed.push([begin, end]);
        });
      }
      if (failures === before) acc = addResources(acc, { ...emptyResources(), ports: parsed });
    } else {
      fail(`${p}/name`, `unknown resource "${name}" (known: ${KNOWN_NAMES})`);
    }
  });
  return done(acc);
}
