// The JSON Schema subset that Universe `config.json` files use (draft-04 style, as Cosmos reads
// them): type (one or a list), properties, required, additionalProperties, items, enum, const,
// minimum/maximum with draft-04 boolean or draft-06 numeric exclusive bounds, multipleOf,
// minLength/maxLength, pattern, minItems/maxItems, uniqueItems, anyOf/oneOf/allOf/not, and
// defaults. Keywords it does not know (description, title, media, format …) are ignored, as a
// validator must. Errors carry the JSON pointer of the option they are about.

import type { ErrorDetail } from '../../protocol/types.js';

export type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const pointer = (base: string, key: string | number): string => `${base}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function matchesType(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => deepEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** The problems of `value` against `schema`, each at the pointer of the offending option. */
export function validate(schema: unknown, value: unknown, at = ''): ErrorDetail[] {
  const out = new Map<string, string[]>();
  const add = (path: string, msg: string) => {
    const list = out.get(path || '/');
    if (list) list.push(msg);
    else out.set(path || '/', [msg]);
  };
  check(schema, value, at, add);
  return [...out].map(([path, errors]) => ({ path, errors }));
}

function check(schema: unknown, v: unknown, at: string, add: (path: string, msg: string) => void): void {
  if (schema === true || schema === undefined) return;
  if (schema === false) return add(at, 'is not allowed');
  if (!isObject(schema)) return;
  const s = schema;

  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => matchesType(v, t))) {
      add(at, `must be ${types.map((t) => (t === 'integer' ? 'an integer' : t === 'object' || t === 'array' ? `an ${t}` : `a ${t}`)).join(' or ')}`);
      return;
    }
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => deepEqual(e, v))) add(at, `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  if ('const' in s && !deepEqual(s.const, v)) add(at, `must be ${JSON.stringify(s.const)}`);

  if (typeof v === 'number') {
    const exMin = s.exclusiveMinimum;
    const exMax = s.exclusiveMaximum;
    if (typeof s.minimum === 'number') {
      if (exMin === true ? v <= s.minimum : v < s.minimum) add(at, `must be ${exMin === true ? 'greater than' : 'at least'} ${s.minimum}`);
    }
    if (typeof s.maximum === 'number') {
      if (exMax === true ? v >= s.maximum : v > s.maximum) add(at, `must be ${exMax === true ? 'less than' : 'at most'} ${s.maximum}`);
    }
    if (typeof exMin === 'number' && v <= exMin) add(at, `must be greater than ${exMin}`);
    if (typeof exMax === 'number' && v >= exMax) add(at, `must be less than ${exMax}`);
    if (typeof s.multipleOf === 'number' && s.multipleOf > 0) {
      const q = v / s.multipleOf;
      if (Math.abs(q - Math.round(q)) > 1e-9) add(at, `must be a multiple of ${s.multipleOf}`);
    }
  }

  if (typeof v === 'string') {
    const len = [...v].length;
    if (typeof s.minLength === 'number' && len < s.minLength) add(at, s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters`);
    if (typeof s.maxLength === 'number' && len > s.maxLength) add(at, `must be at most ${s.maxLength} characters`);
    if (typeof s.pattern === 'string') {
      let re: RegExp | undefined;
      try {
        re = new RegExp(s.pattern, 'u');
      } catch {
        try {
          re = new RegExp(s.pattern);
        } catch {
          re = undefined;
        }
      }
      if (re && !re.test(v)) add(at, `must match the pattern ${s.pattern}`);
    }
  }

  if (Array.isArray(v)) {
    if (typeof s.minItems === 'number' && v.length < s.minItems) add(at, `must have at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}`);
    if (typeof s.maxItems === 'number' && v.length > s.maxItems) add(at, `must have at most ${s.maxItems} items`);
    if (s.uniqueItems === true && v.some((x, i) => v.findIndex((y) => deepEqual(x, y)) !== i)) add(at, 'must not repeat items');
    if (Array.isArray(s.items)) v.forEach((x, i) => check((s.items as unknown[])[i] ?? s.additionalItems, x, pointer(at, i), add));
    else if (s.items !== undefined) v.forEach((x, i) => check(s.items, x, pointer(at, i), add));
  }

  if (isObject(v)) {
    const props = isObject(s.properties) ? s.properties : {};
    if (Array.isArray(s.required)) for (const r of s.required) if (typeof r === 'string' && !(r in v)) add(pointer(at, r), 'is required');
    for (const [k, x] of Object.entries(v)) {
      if (k in props) check(props[k], x, pointer(at, k), add);
      else if (s.additionalProperties === false) add(pointer(at, k), 'is not a known option');
      else if (isObject(s.additionalProperties)) check(s.additionalProperties, x, pointer(at, k), add);
    }
    if (typeof s.maxProperties === 'number' && Object.keys(v).length > s.maxProperties) add(at, `must have at most ${s.maxProperties} entries`);
  }

  if (Array.isArray(s.allOf)) for (const sub of s.allOf) check(sub, v, at, add);
  const passes = (sub: unknown) => validate(sub, v, at).length === 0;
  if (Array.isArray(s.anyOf) && !s.anyOf.some(passes)) add(at, 'must match one of the allowed forms');
  if (Array.isArray(s.oneOf) && s.oneOf.filter(passes).length !== 1) add(at, 'must match exactly one of the allowed forms');
  if (s.not !== undefined && passes(s.not)) add(at, 'must not match the excluded form');
}

/**
 * The defaults a schema declares, as Cosmos collects them: an object's default is its own
 * `default` merged with the defaults of its properties (property defaults fill what it lacks).
 */
export function defaultsOf(schema: unknown): unknown {
  if (!isObject(schema)) return undefined;
  const own = schema.default;
  if (schema.type === 'object' || isObject(schema.properties)) {
    const out: Record<string, unknown> = isObject(own) ? structuredClone(own) : {};
    if (isObject(schema.properties)) {
      for (const [k, sub] of Object.entries(schema.properties)) {
        const d = defaultsOf(sub);
        if (d === undefined) continue;
        if (isObject(d) && isObject(out[k])) out[k] = merge(d, out[k] as Record<string, unknown>);
        else if (!(k in out)) out[k] = d;
      }
    }
    if (own === undefined && Object.keys(out).length === 0) return undefined;
    return out;
  }
  return own === undefined ? undefined : structuredClone(own);
}

/** `over` merged into `base`, objects recursively; arrays and scalars in `over` replace. */
export function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (k === '__proto__') continue;
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? merge(b, v) : v;
  }
  return out;
}

/** Problems with a schema itself that would make every install fail; checked when a repository is read. */
export function schemaProblems(schema: unknown): string[] {
  const problems: string[] = [];
  const walk = (s: unknown, at: string) => {
    if (typeof s === 'boolean') return;
    if (!isObject(s)) return void problems.push(`${at || '/'}: a schema must be an object`);
    if (typeof s.pattern === 'string') {
      try {
        new RegExp(s.pattern);
      } catch {
        problems.push(`${at || '/'}: invalid pattern ${JSON.stringify(s.pattern)}`);
      }
    }
    if (isObject(s.properties)) for (const [k, sub] of Object.entries(s.properties)) walk(sub, `${at}/properties/${k}`);
    if (isObject(s.items)) walk(s.items, `${at}/items`);
  };
  walk(schema, '');
  return problems;
}
