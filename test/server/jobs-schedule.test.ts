import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeSchedule,
  isValidTimeZone,
  nextSlots,
  parseCron,
  parseIso8601,
  scheduleExpression,
  slotsBetween,
  type Schedule,
} from '../../server/frameworks/jobs/schedule.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const at = (iso: string): number => {
  const instant = Date.parse(iso);
  assert.ok(!Number.isNaN(instant), `bad test instant ${iso}`);
  return instant;
};
const isos = (instants: number[]): string[] => instants.map((instant) => new Date(instant).toISOString().replace('.000Z', 'Z'));

function cron(expr: string, timezone = 'UTC'): Schedule {
  const result = parseCron(expr, timezone);
  assert.ok(result.ok, `parseCron(${expr}, ${timezone}): ${result.ok ? '' : result.error}`);
  return result.schedule;
}

function iso(text: string, timezone = 'UTC'): Schedule {
  const result = parseIso8601(text, timezone);
  assert.ok(result.ok, `parseIso8601(${text}, ${timezone}): ${result.ok ? '' : result.error}`);
  return result.schedule;
}

/** Consecutive instants `step` apart, as ISO strings: the expected shape of hourly runs. */
function every(step: number, first: string, count: number): string[] {
  return isos(Array.from({ length: count }, (_, i) => at(first) + i * step));
}

describe('schedule: cron fields, lists, ranges, steps, names, macros (UTC)', () => {
  // 2026-03-06 is a Friday; 2026-03-01 a Sunday.
  const rows: Array<[expr: string, after: string, expected: string[]]> = [
    ['*/15 * * * *', '2026-03-06T10:07:30Z', ['2026-03-06T10:15:00Z', '2026-03-06T10:30:00Z', '2026-03-06T10:45:00Z', '2026-03-06T11:00:00Z']],
    ['* * * * *', '2026-03-06T10:07:30Z', ['2026-03-06T10:08:00Z', '2026-03-06T10:09:00Z']],
    ['* * * * *', '2026-03-06T10:08:00Z', ['2026-03-06T10:09:00Z']],
    ['5/20 * * * *', '2026-03-06T10:00:00Z', ['2026-03-06T10:05:00Z', '2026-03-06T10:25:00Z', '2026-03-06T10:45:00Z', '2026-03-06T11:05:00Z']],
    ['0 9-17/4 * * MON-FRI', '2026-03-06T10:00:00Z', ['2026-03-06T13:00:00Z', '2026-03-06T17:00:00Z', '2026-03-09T09:00:00Z', '2026-03-09T13:00:00Z']],
    ['0 0 1,15 * *', '2026-03-06T00:00:00Z', ['2026-03-15T00:00:00Z', '2026-04-01T00:00:00Z', '2026-04-15T00:00:00Z']],
    ['0 12 1 jan,Jul *', '2026-03-06T00:00:00Z', ['2026-07-01T12:00:00Z', '2027-01-01T12:00:00Z']],
    ['0 12 1 3-4,OCT-dec/2 *', '2026-03-06T00:00:00Z', ['2026-04-01T12:00:00Z', '2026-10-01T12:00:00Z', '2026-12-01T12:00:00Z', '2027-03-01T12:00:00Z']],
    ['0 0 * * 7', '2026-03-06T00:00:00Z', ['2026-03-08T00:00:00Z', '2026-03-15T00:00:00Z']],
    ['0 0 * * SUN', '2026-03-06T00:00:00Z', ['2026-03-08T00:00:00Z', '2026-03-15T00:00:00Z']],
    ['0 22 * * 5-7', '2026-03-06T00:00:00Z', ['2026-03-06T22:00:00Z', '2026-03-07T22:00:00Z', '2026-03-08T22:00:00Z', '2026-03-13T22:00:00Z']],
    ['30 4 * * 1-5/2', '2026-03-06T00:00:00Z', ['2026-03-06T04:30:00Z', '2026-03-09T04:30:00Z', '2026-03-11T04:30:00Z', '2026-03-13T04:30:00Z']],
    // Both day fields restricted: the 13th OR any Friday (Vixie).
    ['0 0 13 * 5', '2026-03-01T00:00:00Z', ['2026-03-06T00:00:00Z', '2026-03-13T00:00:00Z', '2026-03-20T00:00:00Z', '2026-03-27T00:00:00Z', '2026-04-03T00:00:00Z', '2026-04-10T00:00:00Z', '2026-04-13T00:00:00Z']],
    // A day field starting with "*" counts as unrestricted, so the two are ANDed (Vixie): 1/11/21/31 that are Mondays.
    ['0 0 */10 * 1', '2026-03-01T00:00:00Z', ['2026-05-11T00:00:00Z', '2026-06-01T00:00:00Z']],
    ['0 0 ? * MON', '2026-03-06T00:00:00Z', ['2026-03-09T00:00:00Z', '2026-03-16T00:00:00Z']],
    ['0 0 31 * *', '2026-03-06T00:00:00Z', ['2026-03-31T00:00:00Z', '2026-05-31T00:00:00Z', '2026-07-31T00:00:00Z']],
    ['@hourly', '2026-03-06T10:07:00Z', ['2026-03-06T11:00:00Z', '2026-03-06T12:00:00Z']],
    ['@daily', '2026-03-06T10:07:00Z', ['2026-03-07T00:00:00Z', '2026-03-08T00:00:00Z']],
    ['@midnight', '2026-03-06T10:07:00Z', ['2026-03-07T00:00:00Z']],
    ['@weekly', '2026-03-06T10:07:00Z', ['2026-03-08T00:00:00Z', '2026-03-15T00:00:00Z']],
    ['@monthly', '2026-03-06T10:07:00Z', ['2026-04-01T00:00:00Z', '2026-05-01T00:00:00Z']],
    ['@yearly', '2026-03-06T10:07:00Z', ['2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z']],
    ['@ANNUALLY', '2026-03-06T10:07:00Z', ['2027-01-01T00:00:00Z']],
  ];
  for (const [expr, after, expected] of rows) {
    it(`${expr} after ${after}`, () => {
      assert.deepEqual(isos(nextSlots(cron(expr), at(after), expected.length)), expected);
    });
  }

  it('normalizes whitespace and macro case, and describes the schedule', () => {
    const schedule = cron('  0   2 * *\t*  ', 'Europe/Berlin');
    assert.deepEqual(schedule, { kind: 'cron', expr: '0 2 * * *', timezone: 'Europe/Berlin' });
    assert.equal(describeSchedule(schedule), 'cron 0 2 * * * in Europe/Berlin');
    assert.equal(scheduleExpression(schedule), '0 2 * * *');
    assert.deepEqual(cron('@DAILY'), { kind: 'cron', expr: '@daily', timezone: 'UTC' });
    assert.equal(cron('0 0 * * *').timezone, 'UTC');
  });

  it('accepts a date both fields can never share when either day may match (fires on the weekday)', () => {
    assert.deepEqual(isos(nextSlots(cron('0 0 30 2 1'), at('2026-01-15T00:00:00Z'), 2)), ['2026-02-02T00:00:00Z', '2026-02-09T00:00:00Z']);
  });
});

describe('schedule: invalid cron expressions', () => {
  const rows: Array<[expr: string, error: string]> = [
    ['', 'cron expression is empty'],
    ['   ', 'cron expression is empty'],
    ['* * * *', 'cron needs 5 fields (minute hour day-of-month month day-of-week), got 4 in "* * * *"'],
    ['0 0 0 * * *', 'cron needs 5 fields (minute hour day-of-month month day-of-week), got 6 in "0 0 0 * * *"'],
    ['61 * * * *', 'minute 61 out of range 0-59'],
    ['0 24 * * *', 'hour 24 out of range 0-23'],
    ['0 0 0 * *', 'day-of-month 0 out of range 1-31'],
    ['0 0 32 * *', 'day-of-month 32 out of range 1-31'],
    ['0 0 1 13 *', 'month 13 out of range 1-12'],
    ['0 0 * * 8', 'day-of-week 8 out of range 0-7'],
    ['0 0-99 * * *', 'hour 99 out of range 0-23'],
    ['*/0 * * * *', 'minute step 0 must be at least 1'],
    ['*/x * * * *', 'minute step "x" is not a number'],
    ['*/5/2 * * * *', 'minute "*/5/2" has more than one step'],
    ['5-2 * * * *', 'minute range 5-2 is reversed'],
    ['1-2-3 * * * *', 'minute "1-2-3" is not a value or a range'],
    ['0 0 * * FRI-MON', 'day-of-week range FRI-MON is reversed'],
    ['0 0 * FOO *', 'month "FOO" is neither a number nor a name (JAN–DEC)'],
    ['0 0 * * FUN', 'day-of-week "FUN" is neither a number nor a name (SUN–SAT)'],
    ['x * * * *', 'minute "x" is not a number'],
    ['0 MON * * *', 'hour "MON" is not a number'],
    ['-1 * * * *', 'minute "" is not a number'],
    ['1,,2 * * * *', 'minute "1,,2" has an empty list item'],
    ['? * * * *', 'minute does not accept "?"'],
    ['0 0 30 2 *', 'cron "0 0 30 2 *" never fires: day-of-month 30 does not occur in month 2'],
    ['0 0 31 4,6,9,11 *', 'cron "0 0 31 4,6,9,11 *" never fires: day-of-month 31 does not occur in month 4,6,9,11'],
    ['@reboot', 'unknown cron macro @reboot (use @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually)'],
  ];
  for (const [expr, error] of rows) {
    it(JSON.stringify(expr), () => {
      assert.deepEqual(parseCron(expr), { ok: false, error });
    });
  }

  it('rejects an unknown time zone', () => {
    assert.deepEqual(parseCron('0 0 * * *', 'Mars/Olympus'), { ok: false, error: 'unknown time zone Mars/Olympus' });
    assert.deepEqual(parseCron('0 0 * * *', ''), { ok: false, error: 'unknown time zone ' });
  });

  it('isValidTimeZone knows IANA names', () => {
    assert.equal(isValidTimeZone('Europe/Berlin'), true);
    assert.equal(isValidTimeZone('UTC'), true);
    assert.equal(isValidTimeZone('Australia/Lord_Howe'), true);
    assert.equal(isValidTimeZone('Mars/Olympus'), false);
    assert.equal(isValidTimeZone(''), false);
  });

  it('nextSlots throws on a schedule the parser would have rejected', () => {
    assert.throws(() => nextSlots({ kind: 'cron', expr: '61 * * * *', timezone: 'UTC' }, 0, 1), /minute 61 out of range 0-59/);
    assert.throws(() => nextSlots({ kind: 'cron', expr: '* * * * *', timezone: 'Mars/Olympus' }, 0, 1), /unknown time zone Mars\/Olympus/);
    assert.throws(() => nextSlots({ kind: 'iso8601', repetitions: null, start: 0, period: 'PT0S', timezone: 'UTC' }, 0, 1), /longer than zero/);
  });
});

describe('schedule: cron across DST (gap → first instant after it; repeat → first occurrence)', () => {
  // America/New_York 2026: 02:00 EST → 03:00 EDT on 03-08 (07:00Z); 02:00 EDT → 01:00 EST on 11-01 (06:00Z).
  // Europe/Berlin 2026: 02:00 CET → 03:00 CEST on 03-29 (01:00Z); 03:00 CEST → 02:00 CET on 10-25 (01:00Z).
  // Australia/Lord_Howe 2026: 02:00 → 02:30 (+10:30 → +11) on 10-04; 02:00 → 01:30 (+11 → +10:30) on 04-05.
  const rows: Array<[label: string, expr: string, zone: string, after: string, expected: string[]]> = [
    ['02:30 on the spring-forward day fires at 03:00 EDT', '30 2 * * *', 'America/New_York', '2026-03-06T12:00:00Z', ['2026-03-07T07:30:00Z', '2026-03-08T07:00:00Z', '2026-03-09T06:30:00Z']],
    ['02:30 exists once on the fall-back day', '30 2 * * *', 'America/New_York', '2026-10-30T12:00:00Z', ['2026-10-31T06:30:00Z', '2026-11-01T07:30:00Z', '2026-11-02T07:30:00Z']],
    ['01:30 occurs twice on the fall-back day and fires at the EDT one', '30 1 * * *', 'America/New_York', '2026-10-30T12:00:00Z', ['2026-10-31T05:30:00Z', '2026-11-01T05:30:00Z', '2026-11-02T06:30:00Z']],
    ['every minute: the whole gap and 03:00 are one slot', '* * * * *', 'America/New_York', '2026-03-08T06:58:00Z', ['2026-03-08T06:59:00Z', '2026-03-08T07:00:00Z', '2026-03-08T07:01:00Z']],
    ['several wall times in the gap collapse into one run', '*/20 2 * * *', 'America/New_York', '2026-03-08T05:00:00Z', ['2026-03-08T07:00:00Z', '2026-03-09T06:00:00Z', '2026-03-09T06:20:00Z']],
    ['every minute: the repeated hour runs once', '* * * * *', 'America/New_York', '2026-11-01T05:58:00Z', ['2026-11-01T05:59:00Z', '2026-11-01T07:00:00Z', '2026-11-01T07:01:00Z']],
    ['from inside the second pass of the repeated hour', '* * * * *', 'America/New_York', '2026-11-01T06:30:00Z', ['2026-11-01T07:00:00Z', '2026-11-01T07:01:00Z']],
    ['Berlin 02:30 on the spring-forward day fires at 03:00 CEST', '30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', ['2026-03-28T01:30:00Z', '2026-03-29T01:00:00Z', '2026-03-30T00:30:00Z']],
    ['Berlin 02:30 on the fall-back day fires at the CEST one', '30 2 * * *', 'Europe/Berlin', '2026-10-23T12:00:00Z', ['2026-10-24T00:30:00Z', '2026-10-25T00:30:00Z', '2026-10-26T01:30:00Z']],
    ['Lord Howe 02:15 in the 30-minute gap fires at 02:30', '15 2 * * *', 'Australia/Lord_Howe', '2026-10-02T00:00:00Z', ['2026-10-02T15:45:00Z', '2026-10-03T15:30:00Z', '2026-10-04T15:15:00Z']],
    ['Lord Howe 01:45 in the repeated half hour fires once', '45 1 * * *', 'Australia/Lord_Howe', '2026-04-03T00:00:00Z', ['2026-04-03T14:45:00Z', '2026-04-04T14:45:00Z', '2026-04-05T15:15:00Z']],
  ];
  for (const [label, expr, zone, after, expected] of rows) {
    it(`${label} (${expr} in ${zone})`, () => {
      assert.deepEqual(isos(nextSlots(cron(expr, zone), at(after), expected.length)), expected);
    });
  }

  it('hourly in New York: 23 runs on the spring-forward day, one hour apart', () => {
    const day = slotsBetween(cron('0 * * * *', 'America/New_York'), at('2026-03-08T05:00:00Z') - 1, at('2026-03-09T04:00:00Z') - 1, 100);
    assert.deepEqual(isos(day), every(HOUR, '2026-03-08T05:00:00Z', 23));
  });

  it('hourly in New York: 24 runs on the 25-hour fall-back day, 01:00 EST skipped', () => {
    const day = slotsBetween(cron('0 * * * *', 'America/New_York'), at('2026-11-01T04:00:00Z') - 1, at('2026-11-02T05:00:00Z') - 1, 100);
    assert.deepEqual(isos(day), [...every(HOUR, '2026-11-01T04:00:00Z', 2), ...every(HOUR, '2026-11-01T07:00:00Z', 22)]);
  });

  it('hourly in Berlin: 23 runs on 2026-03-29 and 24 on 2026-10-25 (02:00 CET skipped)', () => {
    const hourly = cron('0 * * * *', 'Europe/Berlin');
    assert.deepEqual(isos(slotsBetween(hourly, at('2026-03-28T23:00:00Z') - 1, at('2026-03-29T22:00:00Z') - 1, 100)), every(HOUR, '2026-03-28T23:00:00Z', 23));
    assert.deepEqual(
      isos(slotsBetween(hourly, at('2026-10-24T22:00:00Z') - 1, at('2026-10-25T23:00:00Z') - 1, 100)),
      [...every(HOUR, '2026-10-24T22:00:00Z', 3), ...every(HOUR, '2026-10-25T02:00:00Z', 21)],
    );
  });

  it('chained single lookups give the same slots as one long lookup', () => {
    const schedule = cron('*/7 1-3 * * *', 'America/New_York');
    const long = nextSlots(schedule, at('2026-10-31T00:00:00Z'), 60);
    const chained: number[] = [];
    let cursor = at('2026-10-31T00:00:00Z');
    for (let i = 0; i < 60; i++) {
      const [next] = nextSlots(schedule, cursor, 1);
      assert.ok(next !== undefined);
      chained.push(next);
      cursor = next;
    }
    assert.deepEqual(chained, long);
    for (let i = 1; i < long.length; i++) assert.ok(long[i]! > long[i - 1]!, 'strictly increasing');
  });
});

/**
 * An independent model of the documented rule: walk real time minute by minute, read the wall
 * clock from Intl, and fire whenever a not-yet-seen matching wall time has just been reached
 * (all wall times jumped over by a gap count as reached at the first instant after it).
 */
function oracle(zone: string, matches: (hour: number, minute: number) => boolean, from: number, to: number): number[] {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric',
  });
  const wallOf = (instant: number): number => {
    const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, Number(part.value)]));
    return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!);
  };
  const seen = new Set<number>();
  const fired: number[] = [];
  let previousWall: number | undefined;
  for (let instant = from - 4 * HOUR; instant <= to; instant += MINUTE) {
    const wall = wallOf(instant);
    let fire = false;
    for (let reached = previousWall === undefined ? wall : previousWall + MINUTE; reached <= wall; reached += MINUTE) {
      const date = new Date(reached);
      if (!seen.has(reached) && matches(date.getUTCHours(), date.getUTCMinutes())) fire = true;
      seen.add(reached);
    }
    if (fire && instant > from) fired.push(instant);
    previousWall = wall;
  }
  return fired;
}

describe('schedule: cron agrees with a minute-by-minute model of the DST rule', () => {
  const patterns: Array<[expr: string, matches: (hour: number, minute: number) => boolean]> = [
    ['* * * * *', () => true],
    ['0 * * * *', (_h, m) => m === 0],
    ['30 2 * * *', (h, m) => h === 2 && m === 30],
    ['*/20 1-3 * * *', (h, m) => h >= 1 && h <= 3 && m % 20 === 0],
    ['15,45 0-4 * * *', (h, m) => h <= 4 && (m === 15 || m === 45)],
  ];
  const windows: Array<[zone: string, from: string, to: string]> = [
    ['America/New_York', '2026-03-08T03:00:00Z', '2026-03-08T12:00:00Z'],
    ['America/New_York', '2026-11-01T03:00:00Z', '2026-11-01T12:00:00Z'],
    ['Europe/Berlin', '2026-03-28T22:00:00Z', '2026-03-29T06:00:00Z'],
    ['Europe/Berlin', '2026-10-24T22:00:00Z', '2026-10-25T06:00:00Z'],
    ['Australia/Lord_Howe', '2026-10-03T12:00:00Z', '2026-10-03T20:00:00Z'],
    ['Australia/Lord_Howe', '2026-04-04T12:00:00Z', '2026-04-04T20:00:00Z'],
  ];
  for (const [zone, from, to] of windows) {
    for (const [expr, matches] of patterns) {
      it(`${expr} in ${zone} around ${from.slice(0, 10)}`, () => {
        const expected = oracle(zone, matches, at(from), at(to));
        assert.ok(expected.length > 0);
        assert.deepEqual(isos(slotsBetween(cron(expr, zone), at(from), at(to), 10_000)), isos(expected));
      });
    }
  }
});

describe('schedule: leap days', () => {
  it('0 0 29 2 * from 2026 is 2028-02-29 00:00 in the zone', () => {
    assert.deepEqual(isos(nextSlots(cron('0 0 29 2 *'), at('2026-01-01T00:00:00Z'), 2)), ['2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z']);
    assert.deepEqual(isos(nextSlots(cron('0 0 29 2 *', 'America/New_York'), at('2026-01-01T00:00:00Z'), 1)), ['2028-02-29T05:00:00Z']);
    assert.deepEqual(isos(nextSlots(cron('0 0 29 2 *', 'Europe/Berlin'), at('2026-01-01T00:00:00Z'), 1)), ['2028-02-28T23:00:00Z']);
  });

  it('skips 2100, which is not a leap year', () => {
    assert.deepEqual(isos(nextSlots(cron('0 0 29 2 *'), at('2096-03-01T00:00:00Z'), 2)), ['2104-02-29T00:00:00Z', '2108-02-29T00:00:00Z']);
  });

  it('R/2024-02-29T12:00:00Z/P1Y falls on Feb 28 in common years and Feb 29 again in 2028 (Joda clamping, counted from the start)', () => {
    assert.deepEqual(isos(nextSlots(iso('R/2024-02-29T12:00:00Z/P1Y'), at('2024-01-01T00:00:00Z'), 5)), [
      '2024-02-29T12:00:00Z', '2025-02-28T12:00:00Z', '2026-02-28T12:00:00Z', '2027-02-28T12:00:00Z', '2028-02-29T12:00:00Z',
    ]);
    assert.deepEqual(isos(nextSlots(iso('R/2024-02-29T12:00:00Z/P1Y'), at('2026-06-01T00:00:00Z'), 2)), ['2027-02-28T12:00:00Z', '2028-02-29T12:00:00Z']);
  });
});

describe('schedule: ISO 8601 parsing', () => {
  const rows: Array<[text: string, zone: string, expected: Schedule]> = [
    ['R5/2026-03-01T02:30:00Z/PT1H', 'UTC', { kind: 'iso8601', repetitions: 5, start: at('2026-03-01T02:30:00Z'), period: 'PT1H', timezone: 'UTC' }],
    ['R/2026-01-01T00:00:00.000Z/P1D', 'UTC', { kind: 'iso8601', repetitions: null, start: at('2026-01-01T00:00:00Z'), period: 'P1D', timezone: 'UTC' }],
    ['R0/2026-01-01T00:00:00Z/P1D', 'UTC', { kind: 'iso8601', repetitions: 0, start: at('2026-01-01T00:00:00Z'), period: 'P1D', timezone: 'UTC' }],
    ['R/2026-03-01T08:00:00+05:30/PT1H', 'America/New_York', { kind: 'iso8601', repetitions: null, start: at('2026-03-01T02:30:00Z'), period: 'PT1H', timezone: 'America/New_York' }],
    ['R/2026-03-01T00:00:00-0800/PT1H', 'UTC', { kind: 'iso8601', repetitions: null, start: at('2026-03-01T08:00:00Z'), period: 'PT1H', timezone: 'UTC' }],
    ['R/2026-03-01T03:00:00+01/PT1H', 'UTC', { kind: 'iso8601', repetitions: null, start: at('2026-03-01T02:00:00Z'), period: 'PT1H', timezone: 'UTC' }],
    // No offset: the start is a wall time in the schedule's zone.
    ['R/2026-03-01T02:30:00/P1D', 'Europe/Berlin', { kind: 'iso8601', repetitions: null, start: at('2026-03-01T01:30:00Z'), period: 'P1D', timezone: 'Europe/Berlin' }],
    ['R/2026-07-01/P1D', 'Europe/Berlin', { kind: 'iso8601', repetitions: null, start: at('2026-06-30T22:00:00Z'), period: 'P1D', timezone: 'Europe/Berlin' }],
    // A start inside the gap becomes the first instant after it; a repeated one its first occurrence.
    ['R/2026-03-08T02:30:00/P1D', 'America/New_York', { kind: 'iso8601', repetitions: null, start: at('2026-03-08T07:00:00Z'), period: 'P1D', timezone: 'America/New_York' }],
    ['R/2026-11-01T01:30:00/PT1H', 'America/New_York', { kind: 'iso8601', repetitions: null, start: at('2026-11-01T05:30:00Z'), period: 'PT1H', timezone: 'America/New_York' }],
    ['R3/2026-01-01T00:00:00.123456789Z/PT0.5S', 'UTC', { kind: 'iso8601', repetitions: 3, start: at('2026-01-01T00:00:00.123Z'), period: 'PT0.5S', timezone: 'UTC' }],
  ];
  for (const [text, zone, expected] of rows) {
    it(`${text} in ${zone}`, () => {
      assert.deepEqual(parseIso8601(text, zone), { ok: true, schedule: expected });
    });
  }

  it('describes and re-serializes the schedule', () => {
    const schedule = iso('R5/2026-03-01T03:30:00+01:00/PT1H', 'Europe/Berlin');
    assert.equal(scheduleExpression(schedule), 'R5/2026-03-01T02:30:00.000Z/PT1H');
    assert.equal(describeSchedule(schedule), 'iso8601 R5/2026-03-01T02:30:00.000Z/PT1H in Europe/Berlin');
    assert.equal(scheduleExpression(iso('R/2026-03-01T02:30:00Z/P1D')), 'R/2026-03-01T02:30:00.000Z/P1D');
  });

  const expected = 'expected an ISO 8601 duration PnYnMnWnDTnHnMnS (fractions only in seconds), e.g. PT1H or P1D';
  const errors: Array<[text: string, error: string]> = [
    ['R5/2026-03-01T02:30:00Z', 'bad schedule "R5/2026-03-01T02:30:00Z": expected R[n]/<start>/<period>, e.g. R/2026-03-01T02:30:00Z/PT1H'],
    ['', 'bad schedule "": expected R[n]/<start>/<period>, e.g. R/2026-03-01T02:30:00Z/PT1H'],
    ['X5/2026-03-01T02:30:00Z/PT1H', 'bad repetitions "X5": expected R (forever) or R<n>, e.g. R5'],
    ['R-1/2026-03-01T02:30:00Z/PT1H', 'bad repetitions "R-1": expected R (forever) or R<n>, e.g. R5'],
    ['R99999999999999999999/2026-03-01T02:30:00Z/PT1H', 'repetitions "R99999999999999999999" is too large'],
    ['R/yesterday/PT1H', 'bad start "yesterday": expected an ISO 8601 date-time such as 2026-03-01T02:30:00Z'],
    ['R//PT1H', 'bad start "": expected an ISO 8601 date-time such as 2026-03-01T02:30:00Z'],
    ['R/2026-13-01T00:00:00Z/PT1H', 'bad start "2026-13-01T00:00:00Z": month 13 out of range 1-12'],
    ['R/2026-02-30T00:00:00Z/PT1H', 'bad start "2026-02-30T00:00:00Z": 2026-02 has no day 30'],
    ['R/2026-03-01T25:00:00Z/PT1H', 'bad start "2026-03-01T25:00:00Z": time of day out of range'],
    ['R/2026-03-01T00:00:00+25:00/PT1H', 'bad start "2026-03-01T00:00:00+25:00": offset +25:00 out of range'],
    ['R/2026-03-01T00:00:00Z/P1X', `bad period "P1X": ${expected}`],
    ['R/2026-03-01T00:00:00Z/P', `bad period "P": ${expected}`],
    ['R/2026-03-01T00:00:00Z/PT', `bad period "PT": ${expected}`],
    ['R/2026-03-01T00:00:00Z/P1DT', `bad period "P1DT": ${expected}`],
    ['R/2026-03-01T00:00:00Z/P1.5D', `bad period "P1.5D": ${expected}`],
    ['R/2026-03-01T00:00:00Z/1H', `bad period "1H": ${expected}`],
    ['R/2026-03-01T00:00:00Z/PT0S', 'period "PT0S" must be longer than zero (at least 1 ms)'],
    ['R/2026-03-01T00:00:00Z/P0D', 'period "P0D" must be longer than zero (at least 1 ms)'],
    ['R/2026-03-01T00:00:00Z/PT0.0001S', 'period "PT0.0001S" must be longer than zero (at least 1 ms)'],
    ['R/2026-03-01T00:00:00Z/-P1D', 'period "-P1D" must be positive'],
    ['R/2026-03-01T00:00:00Z/P-1D', 'period "P-1D" must be positive'],
  ];
  for (const [text, error] of errors) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parseIso8601(text), { ok: false, error });
    });
  }

  it('rejects an unknown time zone', () => {
    assert.deepEqual(parseIso8601('R/2026-03-01T00:00:00Z/PT1H', 'Mars/Olympus'), { ok: false, error: 'unknown time zone Mars/Olympus' });
  });
});

describe('schedule: ISO 8601 slots', () => {
  const rows: Array<[label: string, text: string, zone: string, after: string, limit: number, expected: string[]]> = [
    ['R3 ends after 3 slots', 'R3/2026-03-01T00:00:00Z/PT1H', 'UTC', '2026-02-01T00:00:00Z', 10, ['2026-03-01T00:00:00Z', '2026-03-01T01:00:00Z', '2026-03-01T02:00:00Z']],
    ['R3 from its second slot', 'R3/2026-03-01T00:00:00Z/PT1H', 'UTC', '2026-03-01T01:00:00Z', 10, ['2026-03-01T02:00:00Z']],
    ['R3 after its last slot', 'R3/2026-03-01T00:00:00Z/PT1H', 'UTC', '2026-03-01T02:00:00Z', 10, []],
    ['R0 never fires', 'R0/2026-03-01T00:00:00Z/PT1H', 'UTC', '2026-02-01T00:00:00Z', 10, []],
    ['R1 fires once, at the start', 'R1/2026-03-01T00:00:00Z/P1D', 'UTC', '2026-02-01T00:00:00Z', 10, ['2026-03-01T00:00:00Z']],
    ['infinite, years later', 'R/2026-01-01T00:00:00Z/PT1H', 'UTC', '2030-06-15T10:30:00Z', 2, ['2030-06-15T11:00:00Z', '2030-06-15T12:00:00Z']],
    ['start in the future: the first slot is the start', 'R/2026-03-01T02:30:00Z/PT1H', 'UTC', '2026-02-27T00:00:00Z', 2, ['2026-03-01T02:30:00Z', '2026-03-01T03:30:00Z']],
    ['start in the past: the next slot after now', 'R/2026-01-01T00:00:00Z/PT1H', 'UTC', '2026-01-01T02:30:00Z', 1, ['2026-01-01T03:00:00Z']],
    ['"after" on a slot excludes it', 'R/2026-01-01T00:00:00Z/PT1H', 'UTC', '2026-01-01T03:00:00Z', 1, ['2026-01-01T04:00:00Z']],
    ['P1D keeps noon across spring forward', 'R/2026-03-07T12:00:00/P1D', 'America/New_York', '2026-03-01T00:00:00Z', 3, ['2026-03-07T17:00:00Z', '2026-03-08T16:00:00Z', '2026-03-09T16:00:00Z']],
    ['PT24H is elapsed time: 13:00 EDT after spring forward', 'R/2026-03-07T12:00:00/PT24H', 'America/New_York', '2026-03-01T00:00:00Z', 3, ['2026-03-07T17:00:00Z', '2026-03-08T17:00:00Z', '2026-03-09T17:00:00Z']],
    ['P1D keeps noon across fall back', 'R/2026-10-31T12:00:00/P1D', 'America/New_York', '2026-10-01T00:00:00Z', 3, ['2026-10-31T16:00:00Z', '2026-11-01T17:00:00Z', '2026-11-02T17:00:00Z']],
    ['P1D at 02:30: the gap day fires at 03:00 EDT, then 02:30 again', 'R/2026-03-07T02:30:00/P1D', 'America/New_York', '2026-03-01T00:00:00Z', 3, ['2026-03-07T07:30:00Z', '2026-03-08T07:00:00Z', '2026-03-09T06:30:00Z']],
    ['P1D at 01:30: the repeated hour fires at the EDT one', 'R/2026-10-31T01:30:00/P1D', 'America/New_York', '2026-10-01T00:00:00Z', 3, ['2026-10-31T05:30:00Z', '2026-11-01T05:30:00Z', '2026-11-02T06:30:00Z']],
    ['P1D in Berlin with a Z start keeps the local 03:30', 'R/2026-03-28T02:30:00Z/P1D', 'Europe/Berlin', '2026-03-01T00:00:00Z', 3, ['2026-03-28T02:30:00Z', '2026-03-29T01:30:00Z', '2026-03-30T01:30:00Z']],
    ['P1M from Jan 31 clamps to month ends without drifting', 'R/2026-01-31T10:00:00Z/P1M', 'UTC', '2026-01-01T00:00:00Z', 5, ['2026-01-31T10:00:00Z', '2026-02-28T10:00:00Z', '2026-03-31T10:00:00Z', '2026-04-30T10:00:00Z', '2026-05-31T10:00:00Z']],
    ['P1M from Jan 31 in a leap year', 'R/2024-01-31T00:00:00Z/P1M', 'UTC', '2024-02-01T00:00:00Z', 2, ['2024-02-29T00:00:00Z', '2024-03-31T00:00:00Z']],
    ['P1M years after the start', 'R/2020-01-31T00:00:00Z/P1M', 'UTC', '2026-03-05T00:00:00Z', 3, ['2026-03-31T00:00:00Z', '2026-04-30T00:00:00Z', '2026-05-31T00:00:00Z']],
    ['P1M in the zone\'s calendar', 'R/2026-01-31T23:30:00/P1M', 'Europe/Berlin', '2026-02-01T00:00:00Z', 2, ['2026-02-28T22:30:00Z', '2026-03-31T21:30:00Z']],
    ['P2W', 'R4/2026-03-02T09:00:00Z/P2W', 'UTC', '2026-01-01T00:00:00Z', 10, ['2026-03-02T09:00:00Z', '2026-03-16T09:00:00Z', '2026-03-30T09:00:00Z', '2026-04-13T09:00:00Z']],
    ['P1M1DT12H adds months, then days, then elapsed hours (Joda order)', 'R/2026-01-31T00:00:00Z/P1M1DT12H', 'UTC', '2026-01-01T00:00:00Z', 3, ['2026-01-31T00:00:00Z', '2026-03-01T12:00:00Z', '2026-04-03T00:00:00Z']],
    ['P1Y from a year start', 'R/2026-01-01T00:00:00Z/P1Y', 'UTC', '2030-01-01T00:00:00Z', 1, ['2031-01-01T00:00:00Z']],
  ];
  for (const [label, text, zone, after, limit, expected] of rows) {
    it(`${label} (${text} in ${zone})`, () => {
      assert.deepEqual(isos(nextSlots(iso(text, zone), at(after), limit)), expected);
    });
  }

  it('fractional seconds in the period and the start', () => {
    assert.deepEqual(nextSlots(iso('R/2026-01-01T00:00:00.5Z/PT0,25S'), at('2026-01-01T00:00:00Z'), 3), [
      at('2026-01-01T00:00:00.500Z'), at('2026-01-01T00:00:00.750Z'), at('2026-01-01T00:00:01.000Z'),
    ]);
    assert.deepEqual(nextSlots(iso('R/2026-01-01T00:00:00Z/PT1.5S'), at('2026-01-01T00:00:02Z'), 2), [at('2026-01-01T00:00:03Z'), at('2026-01-01T00:00:04.500Z')]);
    assert.deepEqual(nextSlots(iso('R/2026-01-01T00:00:00Z/PT1M30.25S'), at('2026-01-01T00:00:00Z'), 1), [at('2026-01-01T00:01:30.250Z')]);
  });
});

describe('schedule: slotsBetween (missed while the master was down)', () => {
  const hourly = cron('0 * * * *');

  it('a 3-day outage with an hourly cron has exactly 72 slots in (from, to]', () => {
    const missed = slotsBetween(hourly, at('2026-03-10T00:00:00Z'), at('2026-03-13T00:00:00Z'), 1_000);
    assert.equal(missed.length, 72);
    assert.deepEqual(isos(missed), every(HOUR, '2026-03-10T01:00:00Z', 72));
  });

  it('respects the limit, keeping the earliest slots', () => {
    assert.deepEqual(isos(slotsBetween(hourly, at('2026-03-10T00:00:00Z'), at('2026-03-13T00:00:00Z'), 10)), every(HOUR, '2026-03-10T01:00:00Z', 10));
  });

  it('includes a slot at `to`, excludes one at `from`, and stops at `to`', () => {
    assert.deepEqual(isos(slotsBetween(hourly, at('2026-03-10T00:00:00Z'), at('2026-03-10T02:00:00Z'), 10)), ['2026-03-10T01:00:00Z', '2026-03-10T02:00:00Z']);
    assert.deepEqual(slotsBetween(hourly, at('2026-03-10T00:00:00Z'), at('2026-03-10T00:59:59Z'), 10), []);
  });

  it('is empty for an empty interval or a non-positive limit', () => {
    assert.deepEqual(slotsBetween(hourly, at('2026-03-10T00:00:00Z'), at('2026-03-10T00:00:00Z'), 10), []);
    assert.deepEqual(slotsBetween(hourly, at('2026-03-11T00:00:00Z'), at('2026-03-10T00:00:00Z'), 10), []);
    assert.deepEqual(slotsBetween(hourly, at('2026-03-10T00:00:00Z'), at('2026-03-13T00:00:00Z'), 0), []);
    assert.deepEqual(nextSlots(hourly, at('2026-03-10T00:00:00Z'), 0), []);
  });

  it('a 3-day outage in New York across spring forward has 71 slots, across fall back 72', () => {
    const newYork = cron('0 * * * *', 'America/New_York');
    assert.equal(slotsBetween(newYork, at('2026-03-07T05:00:00Z'), at('2026-03-10T04:00:00Z'), 1_000).length, 71);
    assert.equal(slotsBetween(newYork, at('2026-10-31T04:00:00Z'), at('2026-11-03T05:00:00Z'), 1_000).length, 72);
  });

  it('works for ISO 8601 schedules and stops at their repetitions', () => {
    assert.equal(slotsBetween(iso('R/2026-03-10T00:00:00Z/PT1H'), at('2026-03-10T00:00:00Z'), at('2026-03-13T00:00:00Z'), 1_000).length, 72);
    assert.deepEqual(
      isos(slotsBetween(iso('R5/2026-03-10T00:00:00Z/PT1H'), at('2026-03-09T00:00:00Z'), at('2026-03-13T00:00:00Z'), 1_000)),
      every(HOUR, '2026-03-10T00:00:00Z', 5),
    );
  });
});
