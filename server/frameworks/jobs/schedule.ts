/**
 * Job schedules: Metronome's 5-field cron in an IANA zone and Chronos' ISO 8601 repeating
 * intervals (`R[n]/<start>/<period>`).
 *
 * Pure: instants are ms since the epoch and come in as arguments; nothing reads the clock or
 * arms a timer. The only state is memoisation (zone offset tables, compiled expressions),
 * which never changes an answer.
 *
 * The DST rules (README.md, "Schedules"), shared by cron and ISO 8601:
 * - a wall time that does not exist (spring-forward gap) fires once, at the first instant
 *   after the gap (02:30 on 2026-03-08 in America/New_York fires at 03:00 EDT); several wall
 *   times in one gap collapse into that one firing;
 * - a wall time that occurs twice (fall back) fires once, at its first occurrence.
 */

export type Schedule =
  | { kind: 'cron'; expr: string; timezone: string }
  | { kind: 'iso8601'; repetitions: number | null; start: number; period: string; timezone: string };
export type ParseResult = { ok: true; schedule: Schedule } | { ok: false; error: string };

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// ─── time zones ────────────────────────────────────────────────────────────────────────────

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

function offsetFormatter(zone: string): Intl.DateTimeFormat {
  let formatter = offsetFormatters.get(zone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    offsetFormatters.set(zone, formatter);
  }
  return formatter;
}

export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz === '') return false;
  try {
    offsetFormatter(tz);
    return true;
  } catch {
    return false;
  }
}

const OFFSET_TEXT = /GMT(?:([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?)?$/;

/** Offset (wall − UTC, ms) straight from ICU; ~3 µs, so only offset tables call it. */
function intlOffset(zone: string, instant: number): number {
  const text = offsetFormatter(zone).format(instant);
  const match = OFFSET_TEXT.exec(text);
  if (match === null) throw new Error(`cannot read the UTC offset of ${zone} from "${text}"`);
  if (match[1] === undefined) return 0;
  const size = Number(match[2]) * HOUR + Number(match[3] ?? 0) * MINUTE + Number(match[4] ?? 0) * SECOND;
  return match[1] === '-' ? -size : size;
}

/** The offset in force at the start of a UTC year and the transitions inside it. */
interface ZoneYear {
  readonly from: number;
  readonly until: number;
  readonly startOffset: number;
  readonly at: readonly number[];
  readonly offsets: readonly number[];
}

const zoneYears = new Map<string, ZoneYear>();
const ZONE_YEAR_CACHE_LIMIT = 20_000;
/** Consecutive lookups nearly always fall in the same zone-year; skip the keyed lookup then. */
const lastZoneYear = new Map<string, ZoneYear>();

/**
 * Offsets are looked up thousands of times per second when 10,000 schedules are armed, so each
 * zone-year is sampled once (daily, then bisected to the second) and then read from arrays.
 * Two transitions less than a day apart would be missed; tzdb has none since the 1940s.
 */
function zoneYear(zone: string, year: number): ZoneYear {
  const key = `${zone}\u0000${year}`;
  const cached = zoneYears.get(key);
  if (cached !== undefined) return cached;
  const yearStart = utc(year, 0, 1);
  const yearEnd = utc(year + 1, 0, 1);
  const startOffset = intlOffset(zone, yearStart);
  const at: number[] = [];
  const offsets: number[] = [];
  let previousOffset = startOffset;
  for (let sample = yearStart + DAY; sample <= yearEnd; sample += DAY) {
    const offset = intlOffset(zone, sample);
    if (offset === previousOffset) continue;
    let unchanged = sample - DAY;
    let changed = sample;
    while (changed - unchanged > SECOND) {
      const middle = unchanged + Math.floor((changed - unchanged) / (2 * SECOND)) * SECOND;
      if (intlOffset(zone, middle) === previousOffset) unchanged = middle;
      else changed = middle;
    }
    if (changed < yearEnd) {
      at.push(changed);
      offsets.push(offset);
    }
    previousOffset = offset;
  }
  const entry: ZoneYear = { from: yearStart, until: yearEnd, startOffset, at, offsets };
  if (zoneYears.size >= ZONE_YEAR_CACHE_LIMIT) zoneYears.clear();
  zoneYears.set(key, entry);
  return entry;
}

function utcYear(instant: number): number {
  return new Date(instant).getUTCFullYear();
}

function zoneYearAt(zone: string, instant: number): ZoneYear {
  const last = lastZoneYear.get(zone);
  if (last !== undefined && instant >= last.from && instant < last.until) return last;
  const year = zoneYear(zone, utcYear(instant));
  lastZoneYear.set(zone, year);
  return year;
}

/** Offset (wall − UTC, ms) in force at `instant`. */
export function offsetAt(zone: string, instant: number): number {
  const year = zoneYearAt(zone, instant);
  let offset = year.startOffset;
  for (let i = 0; i < year.at.length && year.at[i]! <= instant; i++) offset = year.offsets[i]!;
  return offset;
}

/** The first offset transition in (from, to], if any. */
function transitionIn(zone: string, from: number, to: number): number | undefined {
  for (let year = utcYear(from); year <= utcYear(to); year++) {
    for (const at of zoneYear(zone, year).at) if (at > from && at <= to) return at;
  }
  return undefined;
}

/**
 * A wall time (local fields encoded as if they were UTC) turned into the instant that fires for
 * it. `repeatEndWall` is set when the wall time occurs twice: the first wall time after the
 * repeated stretch, so callers can skip the stretch instead of walking it.
 */
interface ResolvedWall {
  readonly instant: number;
  readonly offset: number;
  readonly repeatEndWall?: number;
}

function resolveWall(zone: string, wall: number): ResolvedWall {
  const before = offsetAt(zone, wall - DAY);
  const after = offsetAt(zone, wall + DAY);
  if (before === after && offsetAt(zone, wall - before) === before) return { instant: wall - before, offset: before };
  const candidates = new Set([before, after, offsetAt(zone, wall - before), offsetAt(zone, wall - after)]);
  const valid = [...candidates].filter((offset) => offsetAt(zone, wall - offset) === offset).sort((a, b) => b - a);
  const largest = Math.max(...candidates);
  const smallest = Math.min(...candidates);
  if (valid.length === 0) {
    const gapEnd = transitionIn(zone, wall - largest, wall - smallest) ?? wall - before;
    return { instant: gapEnd, offset: offsetAt(zone, gapEnd) };
  }
  const first = valid[0]!;
  if (valid.length === 1) return { instant: wall - first, offset: first };
  const last = valid[valid.length - 1]!;
  const transition = transitionIn(zone, wall - first, wall - last);
  return transition === undefined
    ? { instant: wall - first, offset: first }
    : { instant: wall - first, offset: first, repeatEndWall: transition + first };
}

// ─── calendar helpers ──────────────────────────────────────────────────────────────────────

/** Date.UTC, without its mapping of years 0–99 onto 1900–1999. */
function utc(year: number, month0: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  if (year >= 100) return Date.UTC(year, month0, day, hour, minute, second, ms);
  const date = new Date(0);
  date.setUTCFullYear(year, month0, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime();
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month0: number): number {
  return month0 === 1 && isLeapYear(year) ? 29 : MONTH_DAYS[month0]!;
}

function floorTo(value: number, unit: number): number {
  return Math.floor(value / unit) * unit;
}

// ─── cron ──────────────────────────────────────────────────────────────────────────────────

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldDefinition {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** What `*` expands to; day-of-week accepts 7 but `*` must not count Sunday twice. */
  readonly starMax: number;
  readonly names?: readonly string[];
  readonly namesStart?: number;
  readonly allowsQuestionMark?: boolean;
}

const FIELDS: readonly FieldDefinition[] = [
  { name: 'minute', min: 0, max: 59, starMax: 59 },
  { name: 'hour', min: 0, max: 23, starMax: 23 },
  { name: 'day-of-month', min: 1, max: 31, starMax: 31, allowsQuestionMark: true },
  { name: 'month', min: 1, max: 12, starMax: 12, names: MONTH_NAMES, namesStart: 1 },
  { name: 'day-of-week', min: 0, max: 7, starMax: 6, names: DAY_NAMES, namesStart: 0, allowsQuestionMark: true },
];

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** `next[v]` is the smallest allowed value ≥ v, or -1: one array read per field per step. */
type NextTable = Int16Array;

interface CronSpec {
  readonly minute: NextTable;
  readonly hour: NextTable;
  readonly dayOfMonth: readonly boolean[];
  readonly month: NextTable;
  readonly dayOfWeek: readonly boolean[];
  /** Vixie cron: when neither day field starts with `*`, either may match. */
  readonly eitherDay: boolean;
}

interface ParsedField {
  readonly allowed: boolean[];
  readonly star: boolean;
}

function parseValue(raw: string, field: FieldDefinition): number | string {
  if (/^\d+$/.test(raw)) {
    const value = Number(raw);
    if (value < field.min || value > field.max) return `${field.name} ${value} out of range ${field.min}-${field.max}`;
    return value;
  }
  if (field.names !== undefined) {
    const index = field.names.indexOf(raw.toUpperCase());
    if (index >= 0) return index + field.namesStart!;
    return `${field.name} "${raw}" is neither a number nor a name (${field.names[0]}–${field.names[field.names.length - 1]})`;
  }
  return `${field.name} "${raw}" is not a number`;
}

function parseField(text: string, field: FieldDefinition): ParsedField | string {
  const allowed = new Array<boolean>(field.max + 1).fill(false);
  for (const item of text.split(',')) {
    if (item === '') return `${field.name} "${text}" has an empty list item`;
    const slash = item.split('/');
    if (slash.length > 2) return `${field.name} "${item}" has more than one step`;
    const [base, stepText] = slash as [string, string | undefined];
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText)) return `${field.name} step "${stepText}" is not a number`;
      step = Number(stepText);
      if (step < 1) return `${field.name} step ${step} must be at least 1`;
    }
    let low: number;
    let high: number;
    if (base === '*' || base === '?') {
      if (base === '?' && field.allowsQuestionMark !== true) return `${field.name} does not accept "?"`;
      low = field.min;
      high = field.starMax;
    } else {
      const dash = base.split('-');
      if (dash.length > 2) return `${field.name} "${base}" is not a value or a range`;
      const start = parseValue(dash[0]!, field);
      if (typeof start === 'string') return start;
      low = start;
      if (dash.length === 2) {
        const end = parseValue(dash[1]!, field);
        if (typeof end === 'string') return end;
        if (end < start) return `${field.name} range ${dash[0]}-${dash[1]} is reversed`;
        high = end;
      } else {
        // "5/15" means 5, 20, 35, 50 (cronie, Quartz); a lone value means just itself.
        high = stepText === undefined ? start : field.max;
      }
    }
    for (let value = low; value <= high; value += step) allowed[value] = true;
  }
  return { allowed, star: text.startsWith('*') || text.startsWith('?') };
}

function nextTable(allowed: readonly boolean[], max: number): NextTable {
  const table = new Int16Array(max + 2).fill(-1);
  for (let value = max; value >= 0; value--) table[value] = allowed[value] === true ? value : table[value + 1]!;
  return table;
}

const LONGEST_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function compileCron(expr: string): { spec: CronSpec; normalized: string } | string {
  const trimmed = expr.trim();
  if (trimmed === '') return 'cron expression is empty';
  let normalized = trimmed.split(/\s+/).join(' ');
  let fieldsText = normalized;
  if (normalized.startsWith('@')) {
    normalized = normalized.toLowerCase();
    const macro = MACROS[normalized];
    if (macro === undefined) return `unknown cron macro ${normalized} (use @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually)`;
    fieldsText = macro;
  }
  const texts = fieldsText.split(' ');
  if (texts.length !== 5) {
    return `cron needs 5 fields (minute hour day-of-month month day-of-week), got ${texts.length} in "${normalized}"`;
  }
  const parsed: ParsedField[] = [];
  for (let i = 0; i < 5; i++) {
    const result = parseField(texts[i]!, FIELDS[i]!);
    if (typeof result === 'string') return result;
    parsed.push(result);
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = parsed as [ParsedField, ParsedField, ParsedField, ParsedField, ParsedField];
  const weekdays = dayOfWeek.allowed.slice(0, 7);
  if (dayOfWeek.allowed[7] === true) weekdays[0] = true;
  const eitherDay = !dayOfMonth.star && !dayOfWeek.star;
  // With "and" semantics every weekday eventually falls on every date, so only month × day can be impossible.
  if (!eitherDay) {
    const possible = LONGEST_MONTH.some((longest, month0) => month.allowed[month0 + 1] === true && dayOfMonth.allowed.some((on, day) => on && day <= longest));
    if (!possible) return `cron "${normalized}" never fires: day-of-month ${texts[2]} does not occur in month ${texts[3]}`;
  }
  return {
    normalized,
    spec: {
      minute: nextTable(minute.allowed, 59),
      hour: nextTable(hour.allowed, 23),
      dayOfMonth: dayOfMonth.allowed,
      month: nextTable(month.allowed, 12),
      dayOfWeek: weekdays,
      eitherDay,
    },
  };
}

export function parseCron(expr: string, timezone = 'UTC'): ParseResult {
  if (typeof expr !== 'string') return { ok: false, error: 'cron expression must be a string' };
  if (!isValidTimeZone(timezone)) return { ok: false, error: `unknown time zone ${timezone}` };
  const compiled = compileCron(expr);
  if (typeof compiled === 'string') return { ok: false, error: compiled };
  return { ok: true, schedule: { kind: 'cron', expr: compiled.normalized, timezone } };
}

function dayMatches(spec: CronSpec, year: number, month0: number, day: number): boolean {
  const byDate = spec.dayOfMonth[day] === true;
  const byWeekday = spec.dayOfWeek[new Date(utc(year, month0, day)).getUTCDay()] === true;
  return spec.eitherDay ? byDate || byWeekday : byDate && byWeekday;
}

/** Every satisfiable pattern repeats within the 400-year Gregorian cycle. */
const CRON_HORIZON_YEARS = 401;

/**
 * The first matching wall time ≥ `wall` (local fields encoded as UTC, minute-aligned). Each
 * step jumps to the next allowed month, day, hour or minute and resets the smaller fields, so
 * a leap-day pattern is found in a few hundred steps rather than millions of minutes.
 */
function nextMatchingWall(spec: CronSpec, wall: number): number | undefined {
  const date = new Date(wall);
  let year = date.getUTCFullYear();
  let month = date.getUTCMonth() + 1;
  let day = date.getUTCDate();
  let hour = date.getUTCHours();
  let minute = date.getUTCMinutes();
  const lastYear = year + CRON_HORIZON_YEARS;
  while (year <= lastYear) {
    const nextMonth = spec.month[month]!;
    if (nextMonth < 0) {
      year++;
      month = 1;
      day = 1;
      hour = 0;
      minute = 0;
      continue;
    }
    if (nextMonth !== month) {
      month = nextMonth;
      day = 1;
      hour = 0;
      minute = 0;
    }
    const length = daysInMonth(year, month - 1);
    let nextDay = day;
    while (nextDay <= length && !dayMatches(spec, year, month - 1, nextDay)) nextDay++;
    if (nextDay > length) {
      month++;
      day = 1;
      hour = 0;
      minute = 0;
      continue;
    }
    if (nextDay !== day) {
      day = nextDay;
      hour = 0;
      minute = 0;
    }
    const nextHour = spec.hour[hour]!;
    if (nextHour < 0) {
      day++;
      hour = 0;
      minute = 0;
      continue;
    }
    if (nextHour !== hour) {
      hour = nextHour;
      minute = 0;
    }
    const nextMinute = spec.minute[minute]!;
    if (nextMinute < 0) {
      hour++;
      minute = 0;
      continue;
    }
    return utc(year, month - 1, day, hour, nextMinute);
  }
  return undefined;
}

function cronSlots(spec: CronSpec, zone: string, after: number, until: number, limit: number): number[] {
  const slots: number[] = [];
  let cursor = after;
  // Every wall time up to the one on the clock at `after` fires at or before `after`.
  let wall = floorTo(cursor + offsetAt(zone, cursor), MINUTE) + MINUTE;
  while (slots.length < limit) {
    const match = nextMatchingWall(spec, wall);
    if (match === undefined) break;
    const resolved = resolveWall(zone, match);
    if (resolved.instant > cursor) {
      if (resolved.instant > until) break;
      slots.push(resolved.instant);
      cursor = resolved.instant;
      // After a gap firing the clock reads the gap's end, so the wall times inside it are skipped here.
      wall = Math.max(match + MINUTE, floorTo(cursor + resolved.offset, MINUTE) + MINUTE);
    } else if (resolved.repeatEndWall !== undefined) {
      // `after` lies in the second pass of a repeated hour: its wall times already fired the first time.
      wall = Math.max(match + MINUTE, Math.min(resolved.repeatEndWall, floorTo(cursor + resolved.offset, MINUTE) + MINUTE));
    } else {
      wall = match + MINUTE;
    }
  }
  return slots;
}

// ─── ISO 8601 (Chronos) ────────────────────────────────────────────────────────────────────

interface Period {
  readonly years: number;
  readonly months: number;
  /** Weeks are folded in as 7 days: both keep the wall-clock time. */
  readonly days: number;
  /** Hours, minutes and seconds: exact elapsed time, blind to DST. */
  readonly ms: number;
}

const PERIOD_PATTERN = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

function parsePeriod(text: string): Period | string {
  if (text.includes('-')) return `period "${text}" must be positive`;
  const match = PERIOD_PATTERN.exec(text);
  if (match === null || text === 'P') {
    return `bad period "${text}": expected an ISO 8601 duration PnYnMnWnDTnHnMnS (fractions only in seconds), e.g. PT1H or P1D`;
  }
  const number = (index: number): number => Number(match[index] ?? 0);
  const period: Period = {
    years: number(1),
    months: number(2),
    days: number(3) * 7 + number(4),
    ms: number(5) * HOUR + number(6) * MINUTE + Math.round(Number((match[7] ?? '0').replace(',', '.')) * SECOND),
  };
  if (period.years === 0 && period.months === 0 && period.days === 0 && period.ms <= 0) {
    return `period "${text}" must be longer than zero (at least 1 ms)`;
  }
  return period;
}

const START_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

function parseStart(text: string, zone: string): number | string {
  const match = START_PATTERN.exec(text);
  const expected = `bad start "${text}": expected an ISO 8601 date-time such as 2026-03-01T02:30:00Z`;
  if (match === null) return expected;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(match[i] ?? 0)) as [number, number, number, number, number, number];
  const ms = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  if (month < 1 || month > 12) return `bad start "${text}": month ${month} out of range 1-12`;
  if (day < 1 || day > daysInMonth(year, month - 1)) return `bad start "${text}": ${year}-${match[2]} has no day ${day}`;
  if (hour > 23 || minute > 59 || second > 59) return `bad start "${text}": time of day out of range`;
  const wall = utc(year, month - 1, day, hour, minute, second, ms);
  const offsetText = match[8];
  if (offsetText === undefined) return resolveWall(zone, wall).instant;
  if (offsetText === 'Z') return wall;
  const digits = offsetText.slice(1).replace(':', '');
  const offset = Number(digits.slice(0, 2)) * HOUR + Number(digits.slice(2, 4) || 0) * MINUTE;
  if (offset > 18 * HOUR || Number(digits.slice(2, 4) || 0) > 59) return `bad start "${text}": offset ${offsetText} out of range`;
  return wall - (offsetText.startsWith('-') ? -offset : offset);
}

interface IsoSpec {
  readonly start: number;
  readonly repetitions: number | null;
  readonly period: Period;
  readonly zone: string;
  /** The start as local fields, which calendar periods (Y, M, W, D) are added to. */
  readonly startWall: number;
  readonly approximateLength: number;
}

function isCalendarPeriod(period: Period): boolean {
  return period.years !== 0 || period.months !== 0 || period.days !== 0;
}

/**
 * Slot k is start + k×period computed afresh from the start (never by repeated addition), so
 * P1M from Jan 31 gives Feb 28, Mar 31, Apr 30 … without drifting to the 28th. Years, then
 * months, then days are added to the local date, clamping the day of month like Joda; the time
 * part is added as elapsed time after that.
 */
function isoSlot(spec: IsoSpec, k: number): number {
  if (k === 0) return spec.start;
  const { period } = spec;
  let instant = spec.start;
  if (isCalendarPeriod(period)) {
    const date = new Date(spec.startWall);
    let year = date.getUTCFullYear() + k * period.years;
    let day = Math.min(date.getUTCDate(), daysInMonth(year, date.getUTCMonth()));
    const months = date.getUTCMonth() + k * period.months;
    year += Math.floor(months / 12);
    const month0 = ((months % 12) + 12) % 12;
    day = Math.min(day, daysInMonth(year, month0));
    const timeOfDay = spec.startWall - floorTo(spec.startWall, DAY);
    const wall = utc(year, month0, day + k * period.days) + timeOfDay;
    if (!Number.isFinite(wall)) return Number.NaN;
    instant = resolveWall(spec.zone, wall).instant;
  }
  return instant + k * period.ms;
}

/** The smallest k whose slot is after `after`. */
function firstIndexAfter(spec: IsoSpec, after: number): number {
  if (after < spec.start) return 0;
  if (!isCalendarPeriod(spec.period)) return Math.floor((after - spec.start) / spec.period.ms) + 1;
  // The estimate is off by at most a slot or two (month lengths, DST), corrected by stepping.
  let k = Math.max(0, Math.floor((after - spec.start) / spec.approximateLength));
  while (k > 0 && isoSlot(spec, k - 1) > after) k--;
  while (isoSlot(spec, k) <= after) k++;
  return k;
}

function isoSlots(spec: IsoSpec, after: number, until: number, limit: number): number[] {
  const slots: number[] = [];
  let last = after;
  for (let k = firstIndexAfter(spec, after); slots.length < limit; k++) {
    if (spec.repetitions !== null && k >= spec.repetitions) break;
    const slot = isoSlot(spec, k);
    if (!Number.isFinite(slot) || slot > until) break;
    if (slot > last) {
      slots.push(slot);
      last = slot;
    }
  }
  return slots;
}

function compileIso(start: number, repetitions: number | null, periodText: string, zone: string): IsoSpec | string {
  const period = parsePeriod(periodText);
  if (typeof period === 'string') return period;
  const spec: IsoSpec = {
    start,
    repetitions,
    period,
    zone,
    startWall: start + offsetAt(zone, start),
    approximateLength: period.years * 365.2425 * DAY + period.months * 30.436875 * DAY + period.days * DAY + period.ms,
  };
  if (!Number.isFinite(isoSlot(spec, 1))) return `period "${periodText}" is too long`;
  return spec;
}

export function parseIso8601(s: string, timezone = 'UTC'): ParseResult {
  if (typeof s !== 'string') return { ok: false, error: 'ISO 8601 schedule must be a string' };
  if (!isValidTimeZone(timezone)) return { ok: false, error: `unknown time zone ${timezone}` };
  const text = s.trim();
  const parts = text.split('/');
  if (parts.length !== 3) return { ok: false, error: `bad schedule "${text}": expected R[n]/<start>/<period>, e.g. R/2026-03-01T02:30:00Z/PT1H` };
  const [repetitionsText, startText, periodText] = parts as [string, string, string];
  const repetitionsMatch = /^R(\d*)$/.exec(repetitionsText);
  if (repetitionsMatch === null) return { ok: false, error: `bad repetitions "${repetitionsText}": expected R (forever) or R<n>, e.g. R5` };
  const repetitions = repetitionsMatch[1] === '' ? null : Number(repetitionsMatch[1]);
  if (repetitions !== null && !Number.isSafeInteger(repetitions)) return { ok: false, error: `repetitions "${repetitionsText}" is too large` };
  const start = parseStart(startText, timezone);
  if (typeof start === 'string') return { ok: false, error: start };
  const spec = compileIso(start, repetitions, periodText, timezone);
  if (typeof spec === 'string') return { ok: false, error: spec };
  return { ok: true, schedule: { kind: 'iso8601', repetitions, start, period: periodText, timezone } };
}

// ─── slots ─────────────────────────────────────────────────────────────────────────────────

type Compiled = { kind: 'cron'; spec: CronSpec; zone: string } | { kind: 'iso8601'; spec: IsoSpec };

const compiledSchedules = new Map<string, Compiled>();
const COMPILED_CACHE_LIMIT = 50_000;

/** Schedules arrive as plain data (from the store, from JSON); compile each shape once. */
function compile(schedule: Schedule): Compiled {
  const key = schedule.kind === 'cron'
    ? `cron\u0000${schedule.expr}\u0000${schedule.timezone}`
    : `iso\u0000${schedule.repetitions}\u0000${schedule.start}\u0000${schedule.period}\u0000${schedule.timezone}`;
  const cached = compiledSchedules.get(key);
  if (cached !== undefined) return cached;
  if (!isValidTimeZone(schedule.timezone)) throw new Error(`invalid schedule: unknown time zone ${schedule.timezone}`);
  let compiled: Compiled;
  if (schedule.kind === 'cron') {
    const result = compileCron(schedule.expr);
    if (typeof result === 'string') throw new Error(`invalid schedule: ${result}`);
    compiled = { kind: 'cron', spec: result.spec, zone: schedule.timezone };
  } else {
    const result = compileIso(schedule.start, schedule.repetitions, schedule.period, schedule.timezone);
    if (typeof result === 'string') throw new Error(`invalid schedule: ${result}`);
    compiled = { kind: 'iso8601', spec: result };
  }
  if (compiledSchedules.size >= COMPILED_CACHE_LIMIT) compiledSchedules.clear();
  compiledSchedules.set(key, compiled);
  return compiled;
}

function slots(schedule: Schedule, after: number, until: number, limit: number): number[] {
  const count = Math.floor(limit);
  if (!(count > 0) || Number.isNaN(after) || !(until > after)) return [];
  const compiled = compile(schedule);
  return compiled.kind === 'cron'
    ? cronSlots(compiled.spec, compiled.zone, after, until, count)
    : isoSlots(compiled.spec, after, until, count);
}

/** Throws on a schedule that parseCron/parseIso8601 would have rejected. */
export function nextSlots(s: Schedule, after: number, limit: number): number[] {
  return slots(s, after, Number.POSITIVE_INFINITY, limit);
}

export function slotsBetween(s: Schedule, from: number, to: number, limit: number): number[] {
  return slots(s, from, to, limit);
}

/** The expression as the APIs show it: the cron text, or `R[n]/<start in UTC>/<period>`. */
export function scheduleExpression(s: Schedule): string {
  if (s.kind === 'cron') return s.expr;
  return `R${s.repetitions ?? ''}/${new Date(s.start).toISOString()}/${s.period}`;
}

export function describeSchedule(s: Schedule): string {
  return s.kind === 'cron' ? `cron ${s.expr} in ${s.timezone}` : `iso8601 ${scheduleExpression(s)} in ${s.timezone}`;
}
