// Marathon placement constraints: parsing, and the check "may one more instance go here?".
// Pure, no I/O. Semantics follow Marathon's Constraints.scala and docs/docs/constraints.md;
// where this file departs from them it says so next to the code.

export type ConstraintOperator = 'UNIQUE' | 'CLUSTER' | 'GROUP_BY' | 'LIKE' | 'UNLIKE' | 'MAX_PER' | 'IS';

export const CONSTRAINT_OPERATORS: readonly ConstraintOperator[] = ['UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'UNLIKE', 'MAX_PER', 'IS'];

export interface Constraint {
  field: string;
  operator: ConstraintOperator;
  value?: string;
}

/** An agent as constraints see it: the agent of an offer, or the agent an instance runs on. */
export interface PlacedOn {
  hostname: string;
  attributes: Record<string, string>;
}

export interface ConstraintError {
  path: string;
  errors: string[];
}

// ---------------------------------------------------------------------------
// Parsing

const OPERATOR_SET = new Set<string>(CONSTRAINT_OPERATORS);
const POSITIVE_INT = /^[1-9]\d*$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Marathon's array form `["hostname","UNIQUE"]`, `["zone","GROUP_BY","3"]`, or the object form
 * of Marathon pods and Metronome `{fieldName | attribute, operator, value}` (Metronome's `EQ`
 * is read as `IS`). Errors carry JSON-pointer paths below `path`; an invalid entry is left out
 * of `constraints`.
 */
export function parseConstraints(input: unknown, path: string): { constraints: Constraint[]; errors: ConstraintError[] } {
  const byPath = new Map<string, string[]>();
  const fail = (p: string, message: string): void => {
    const list = byPath.get(p);
    if (list) list.push(message);
    else byPath.set(p, [message]);
  };
  const constraints: Constraint[] = [];
  if (input === undefined || input === null) return { constraints, errors: [] };
  if (!Array.isArray(input)) {
    fail(path, 'must be an array of constraints, e.g. [["hostname", "UNIQUE"]]');
  } else {
    input.forEach((item: unknown, i) => {
      const c = parseOne(item, `${path}/${i}`, fail);
      if (c) constraints.push(c);
    });
  }
  return { constraints, errors: [...byPath].map(([p, errors]) => ({ path: p, errors })) };
}

function parseOne(item: unknown, p: string, fail: (path: string, message: string) => void): Constraint | undefined {
  let field: unknown;
  let operator: unknown;
  let value: unknown;
  let fieldPath: string;
  let operatorPath: string;
  let valuePath: string;
  if (Array.isArray(item)) {
    if (item.length < 2 || item.length > 3) {
      fail(p, 'must be [field, operator] or [field, operator, value]');
      return undefined;
    }
    [field, operator, value] = item;
    [fieldPath, operatorPath, valuePath] = [`${p}/0`, `${p}/1`, `${p}/2`];
  } else if (isRecord(item)) {
    const key = item.fieldName !== undefined || item.attribute === undefined ? 'fieldName' : 'attribute';
    field = item[key];
    operator = item.operator === 'EQ' ? 'IS' : item.operator;
    value = item.value;
    [fieldPath, operatorPath, valuePath] = [`${p}/${key}`, `${p}/operator`, `${p}/value`];
  } else {
    fail(p, 'must be [field, operator, value?] or {fieldName, operator, value?}');
    return undefined;
  }

  let ok = true;
  if (typeof field !== 'string' || field === '') {
    fail(fieldPath, 'must be a non-empty string: hostname, @region, @zone or an agent attribute');
    ok = false;
  }
  if (typeof operator !== 'string' || !OPERATOR_SET.has(operator)) {
    const shown = typeof operator === 'string' ? operator : JSON.stringify(operator) ?? 'nothing';
    fail(operatorPath, `unknown operator ${shown}; use one of ${CONSTRAINT_OPERATORS.join(', ')}`);
    return undefined;
  }
  if (value !== undefined && value !== null && typeof value !== 'string') {
    fail(valuePath, 'must be a string, e.g. "3"');
    return undefined;
  }
  // Marathon stores "no value" as the empty string, so "" round-trips as absent.
  const text = typeof value === 'string' && value !== '' ? value : undefined;
  const op = operator as ConstraintOperator;
  switch (op) {
    case 'UNIQUE':
      if (text !== undefined) {
        fail(valuePath, `UNIQUE takes no value, got "${text}"`);
        ok = false;
      }
      break;
    case 'CLUSTER':
      break;
    case 'GROUP_BY':
    case 'MAX_PER':
      if (text === undefined) {
        if (op === 'MAX_PER') {
          fail(p, 'MAX_PER needs a value: the most instances per field value, a positive integer');
          ok = false;
        }
      } else if (!POSITIVE_INT.test(text) || !Number.isSafeInteger(Number(text))) {
        fail(valuePath, `${op} value must be a positive integer, got "${text}"`);
        ok = false;
      }
      break;
    case 'LIKE':
    case 'UNLIKE':
      if (text === undefined) {
        fail(p, `${op} needs a value: a regular expression, e.g. "rack-[1-3]"`);
        ok = false;
      } else {
        const problem = regexProblem(text);
        if (problem !== undefined) {
          fail(valuePath, `"${text}" is not a valid regular expression: ${problem}`);
          ok = false;
        }
      }
      break;
    case 'IS':
      if (text === undefined) {
        fail(p, 'IS needs a value: the exact text the field must have');
        ok = false;
      }
      break;
  }
  if (!ok) return undefined;
  return text === undefined ? { field: field as string, operator: op } : { field: field as string, operator: op, value: text };
}

/** Marathon's JSON form, as GET /v2/apps returns it. */
export function toMarathonConstraints(c: Constraint[]): string[][] {
  return c.map((x) => (x.value === undefined ? [x.field, x.operator] : [x.field, x.operator, x.value]));
}

// ---------------------------------------------------------------------------
// Regular expressions

// Marathon uses Java's String.matches, which must match the whole value: "r1" does not LIKE "r".
// Compiled patterns are cached because the same few patterns are tested against thousands of
// offers per cycle; the cap keeps a stream of one-off patterns from growing it without bound.
const REGEX_CACHE = new Map<string, RegExp | null>();
const REGEX_CACHE_MAX = 1024;

function regexProblem(pattern: string): string | undefined {
  try {
    // Compiled bare first: wrapped in (?:…) an unbalanced "a)(b" would compile by accident.
    new RegExp(pattern);
    new RegExp(`^(?:${pattern})$`);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** A whole-value matcher for `pattern`, or null when it does not compile. */
export function fullMatchRegex(pattern: string): RegExp | null {
  let re = REGEX_CACHE.get(pattern);
  if (re === undefined) {
    re = regexProblem(pattern) === undefined ? new RegExp(`^(?:${pattern})$`) : null;
    if (REGEX_CACHE.size >= REGEX_CACHE_MAX) REGEX_CACHE.clear();
    REGEX_CACHE.set(pattern, re);
  }
  return re;
}

// ---------------------------------------------------------------------------
// Field lookup

/**
 * "hostname" and "@hostname" → the hostname; "@region" / "@zone" (Marathon's fault-domain
 * fields) → the region / zone attribute; anything else → that attribute, undefined when missing.
 */
export function fieldValue(agent: PlacedOn, field: string): string | undefined {
  if (field === 'hostname' || field === '@hostname') return agent.hostname;
  const name = field === '@region' ? 'region' : field === '@zone' ? 'zone' : field;
  const attrs = agent.attributes;
  // Own properties only: "constructor" must not find Object.prototype.constructor.
  if (!Object.hasOwn(attrs, name)) return undefined;
  const v = attrs[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Whether an agent could host an instance under `constraints` whatever else runs: what a
 * ConstraintTracker with no instance yet answers. The ones that look at the agent alone (LIKE,
 * UNLIKE, IS, CLUSTER with a value) must accept it, and it must have the field of every other
 * one (Marathon: a missing attribute fails every operator but UNLIKE); the counted ones (UNIQUE,
 * MAX_PER, GROUP_BY, CLUSTER without a value) depend on where instances are, and pass. Made
 * once and asked for many agents.
 */
export function hostTest(constraints: readonly Constraint[]): (agent: PlacedOn) => boolean {
  if (constraints.length === 0) return () => true;
  const t = new ConstraintTracker(constraints, []);
  return (agent) => {
    for (let i = 0; i < constraints.length; i++) if (!t.passes(i, agent)) return false;
    return true;
  };
}

// ---------------------------------------------------------------------------
// The tracker: counts of instances per field value, kept as instances are added

/** Instances per value of one field, shared by every constraint on that field. */
interface FieldCounts {
  field: string;
  counts: Map<string, number>;
  /** Value of the first instance that has the field: what CLUSTER without a value sticks to. */
  first: string | undefined;
}

/**
 * GROUP_BY bookkeeping: the known values of the field and how many of them sit at each count,
 * so the least-used count is O(1) to read and to keep as instances are added.
 */
interface GroupState {
  /** Known value → its count is in `hist`. */
  known: Set<string>;
  /** count → how many known values have exactly that many instances. */
  hist: Map<number, number>;
  min: number;
  /** GROUP_BY's value: groups the app should spread over even when fewer are known. */
  groups: number;
}

interface Compiled {
  constraint: Constraint;
  fc: FieldCounts;
  /** For LIKE / UNLIKE: the full-match regex; null when the value is missing or does not compile. */
  regex: RegExp | null;
  /** LIKE / UNLIKE results per value: a cycle tests thousands of offers with a few dozen racks. */
  memo: Map<string, boolean> | null;
  /** MAX_PER's N (0 when invalid: nothing may be placed). */
  limit: number;
  group: GroupState | null;
}

/**
 * Answers "may one more instance go on this agent?" for one app's constraints, in time
 * independent of how many instances exist: counts per field value are built once from the
 * existing instances and kept current by `add`.
 */
export class ConstraintTracker {
  readonly constraints: readonly Constraint[];
  private readonly compiled: Compiled[];
  private readonly fields = new Map<string, FieldCounts>();
  /** The fields whose counts some constraint reads (not LIKE, UNLIKE, IS, CLUSTER with a value). */
  private readonly counted: FieldCounts[] = [];
  /** Indexes of the GROUP_BY constraints. */
  readonly groupBys: number[] = [];
  /**
   * Indexes of the constraints that look at the agent alone (LIKE, UNLIKE, IS, CLUSTER with a
   * value): their answer per field value holds for the whole round, so placement can filter
   * the offers by value once instead of one by one.
   */
  readonly statics: number[] = [];

  /**
   * `knownValues(field)`: values the app could spread over (those of current offers); the
   * existing instances' values are always known. Without it, only existing values are known,
   * which is Marathon's own rule.
   */
  constructor(constraints: readonly Constraint[], existing: Iterable<PlacedOn>, knownValues?: (field: string) => Iterable<string> | undefined) {
    this.constraints = constraints;
    this.compiled = constraints.map((c, index) => {
      let fc = this.fields.get(c.field);
      if (!fc) {
        fc = { field: c.field, counts: new Map(), first: undefined };
        this.fields.set(c.field, fc);
      }
      const isRegex = c.operator === 'LIKE' || c.operator === 'UNLIKE';
      const regex = isRegex && c.value !== undefined && c.value !== '' ? fullMatchRegex(c.value) : null;
      const limit = c.operator === 'MAX_PER' && c.value !== undefined && POSITIVE_INT.test(c.value) ? Number(c.value) : 0;
      let group: GroupState | null = null;
      if (c.operator === 'GROUP_BY') {
        const groups = c.value !== undefined && POSITIVE_INT.test(c.value) ? Number(c.value) : 0;
        group = { known: new Set(), hist: new Map(), min: 0, groups };
        this.groupBys.push(index);
      }
      if (isRegex || c.operator === 'IS' || (c.operator === 'CLUSTER' && c.value !== undefined && c.value !== '')) {
        this.statics.push(index);
      } else if (!this.counted.includes(fc)) {
        this.counted.push(fc);
      }
      return { constraint: c, fc, regex, memo: isRegex ? new Map() : null, limit, group };
    });
    for (const agent of existing) this.count(agent);
    for (const gi of this.groupBys) {
      const { fc, group } = this.compiled[gi];
      const g = group!;
      for (const v of fc.counts.keys()) g.known.add(v);
      const extra = knownValues?.(fc.field);
      if (extra) for (const v of extra) g.known.add(v);
      for (const v of g.known) bump(g.hist, fc.counts.get(v) ?? 0, 1);
      g.min = lowestCount(g.hist, 0);
    }
  }

  private count(agent: PlacedOn): void {
    for (const fc of this.counted) {
      const v = fieldValue(agent, fc.field);
      if (v === undefined) continue;
      fc.counts.set(v, (fc.counts.get(v) ?? 0) + 1);
      if (fc.first === undefined) fc.first = v;
    }
  }

  /** Instances counted so far whose `field` has `value`. */
  countOf(field: string, value: string): number {
    return this.fields.get(field)?.counts.get(value) ?? 0;
  }

  /**
   * Record one more instance on `agent`. Returns the indexes of GROUP_BY constraints whose
   * least-used count went up, since values they refused may now be accepted.
   */
  add(agent: PlacedOn): readonly number[] {
    let raised: readonly number[] = NONE;
    // Counts are read before this.count() bumps them, so two GROUP_BYs on one field agree.
    for (const gi of this.groupBys) {
      const { fc, group } = this.compiled[gi];
      const v = fieldValue(agent, fc.field);
      if (v === undefined) continue;
      const g = group!;
      const before = this.groupMin(gi);
      const c = fc.counts.get(v) ?? 0;
      if (!g.known.has(v)) {
        g.known.add(v);
        bump(g.hist, c, 1);
      }
      bump(g.hist, c, -1);
      bump(g.hist, c + 1, 1);
      g.min = lowestCount(g.hist, Math.min(g.min, c));
      if (this.groupMin(gi) > before) raised = raised === NONE ? [gi] : [...raised, gi];
    }
    this.count(agent);
    return raised;
  }

  /**
   * Forget a known value of a GROUP_BY that has no instances: placement learnt that no offer
   * with it can take an instance, so it must not hold the others back. Returns whether the
   * least-used count went up.
   */
  forgetEmptyValue(groupIndex: number, value: string): boolean {
    const { fc, group } = this.compiled[groupIndex];
    const g = group!;
    if (!g.known.has(value) || (fc.counts.get(value) ?? 0) !== 0) return false;
    const before = this.groupMin(groupIndex);
    g.known.delete(value);
    bump(g.hist, 0, -1);
    g.min = lowestCount(g.hist, 0);
    return this.groupMin(groupIndex) > before;
  }

  /** Least-used count a GROUP_BY accepts; 0 while fewer values are known than it asks to spread over. */
  groupMin(groupIndex: number): number {
    const g = this.compiled[groupIndex].group!;
    return g.known.size < g.groups ? 0 : g.min;
  }

  /** Known values of a GROUP_BY that have no instances yet. */
  emptyValues(groupIndex: number): string[] {
    const { fc, group } = this.compiled[groupIndex];
    const out: string[] = [];
    for (const v of group!.known) if ((fc.counts.get(v) ?? 0) === 0) out.push(v);
    return out;
  }

  /** The field of the constraint at `index`. */
  fieldOf(index: number): string {
    return this.compiled[index].constraint.field;
  }

  /** Whether the constraint at `index` accepts one more instance on `agent`. */
  passes(index: number, agent: PlacedOn): boolean {
    return this.passesValue(index, fieldValue(agent, this.compiled[index].constraint.field));
  }

  /** `passes` for an agent whose constraint field has value `v`. */
  passesValue(index: number, v: string | undefined): boolean {
    const k = this.compiled[index];
    const c = k.constraint;
    // Marathon: a missing attribute fails every operator but UNLIKE.
    if (v === undefined) return c.operator === 'UNLIKE';
    switch (c.operator) {
      case 'UNIQUE':
        return !k.fc.counts.has(v);
      case 'MAX_PER':
        return (k.fc.counts.get(v) ?? 0) < k.limit;
      case 'IS':
        return c.value !== undefined && v === c.value;
      case 'CLUSTER':
        if (c.value !== undefined && c.value !== '') return v === c.value;
        return k.fc.first === undefined || v === k.fc.first;
      case 'LIKE':
      case 'UNLIKE': {
        if (k.regex === null) return false;
        let m = k.memo!.get(v);
        if (m === undefined) {
          m = k.regex.test(v);
          k.memo!.set(v, m);
        }
        return c.operator === 'LIKE' ? m : !m;
      }
      case 'GROUP_BY':
        return (k.fc.counts.get(v) ?? 0) <= this.groupMin(index);
    }
  }

  /** Constraints that refuse one more instance on `agent`, in the order given. */
  failed(agent: PlacedOn): Constraint[] {
    const out: Constraint[] = [];
    for (let i = 0; i < this.compiled.length; i++) if (!this.passes(i, agent)) out.push(this.compiled[i].constraint);
    return out;
  }

  /**
   * The first constraint that refuses `agent` for good, or -1. Counts only grow while
   * instances are placed, so every operator's refusal is final except GROUP_BY's over a value
   * the agent has: that one lifts when the other values catch up.
   */
  firstFinalFailure(agent: PlacedOn): number {
    for (let i = 0; i < this.compiled.length; i++) {
      const k = this.compiled[i];
      if (k.group === null ? !this.passes(i, agent) : fieldValue(agent, k.fc.field) === undefined) return i;
    }
    return -1;
  }

  /** The first refusing GROUP_BY, or -1. */
  firstGroupFailure(agent: PlacedOn): number {
    for (const gi of this.groupBys) if (!this.passes(gi, agent)) return gi;
    return -1;
  }
}

const NONE: readonly number[] = [];

function bump(hist: Map<number, number>, count: number, by: number): void {
  const n = (hist.get(count) ?? 0) + by;
  if (n === 0) hist.delete(count);
  else hist.set(count, n);
}

/** Lowest count with values, searching up from `from` (counts only grow, so it is near). */
function lowestCount(hist: Map<number, number>, from: number): number {
  if (hist.size === 0) return 0;
  let c = from;
  while (!hist.has(c)) c++;
  return c;
}

// ---------------------------------------------------------------------------
// One-shot checks

/**
 * Would one more instance on `candidate` satisfy every constraint, given where instances
 * already run? Returns the refusing constraints; empty means yes.
 *
 * - LIKE / UNLIKE: the whole value must (not) match the regex.
 * - IS: the value equals the text. CLUSTER with a value: the same.
 * - CLUSTER without value: the value of the first existing instance that has the field; any
 *   value when none has it.
 * - UNIQUE: no existing instance with the same value. MAX_PER N: fewer than N.
 * - GROUP_BY: the candidate's value has no more instances than the least-used known value
 *   (`knownValues`, field → values of current offers, plus the existing instances' values);
 *   with a value N, while fewer than N values are known the missing ones count as empty.
 * - A missing attribute fails every operator but UNLIKE.
 */
export function checkConstraints(
  constraints: Constraint[],
  candidate: PlacedOn,
  existing: PlacedOn[],
  knownValues?: Map<string, Set<string>>,
): Constraint[] {
  if (constraints.length === 0) return [];
  return new ConstraintTracker(constraints, existing, knownValues && ((field) => knownValues.get(field))).failed(candidate);
}

/**
 * Indexes of instances that break the constraints as they stand, e.g. after the app's
 * constraints changed: read in order, an instance breaks them when it could not have been
 * placed next to those before it that do not. So the first instance on a host is kept under
 * UNIQUE, the first N under MAX_PER, the first value under CLUSTER. GROUP_BY is a spreading
 * goal, not a rule an instance breaks, and is left out (Marathon rebalances it on scale-down).
 * Kill these first.
 */
export function constraintViolations(constraints: Constraint[], instances: PlacedOn[]): number[] {
  const rules = constraints.filter((c) => c.operator !== 'GROUP_BY');
  if (rules.length === 0) return [];
  const tracker = new ConstraintTracker(rules, []);
  const out: number[] = [];
  instances.forEach((agent, i) => {
    if (tracker.firstFinalFailure(agent) >= 0) out.push(i);
    else tracker.add(agent);
  });
  return out;
}
