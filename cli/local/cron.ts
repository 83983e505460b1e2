/**
 * A small evaluator for the two cron dialects the deployment files use, so a test can prove that
 * an EventBridge rule and a Function Compute timer fire at the same instants.
 *
 * - AWS (EventBridge rules): `cron(minute hour day-of-month month day-of-week year)`, always UTC,
 *   day-of-week 1-7 = SUN-SAT, exactly one of the two day fields is `?`.
 * - FC 3.0 timers: `[CRON_TZ=Area/City ]second minute hour day-of-month month day-of-week`,
 *   day-of-week 0-6 = SUN-SAT, UTC unless CRON_TZ is given. When both day fields are restricted a
 *   day matches either (classic cron); `*` or `?` in one of them leaves the other in charge.
 *
 * Supported per field: `*`, `?` (day fields), lists, ranges, steps (`a/s`, `a-b/s`, `* /s`) and the
 * names JAN-DEC and SUN-SAT. `L`, `W` and `#` are rejected: the project does not use them, and an
 * evaluator that guessed at them could not prove anything.
 */

export type CronDialect = 'aws' | 'fc';

export interface CronSchedule {
  dialect: CronDialect;
  expression: string;
  timeZone: string;
  seconds: ReadonlySet<number>;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0 = Sunday, in both dialects once parsed. */
  daysOfWeek: ReadonlySet<number>;
  /** `*` or `?` in day-of-month / day-of-week. */
  anyDayOfMonth: boolean;
  anyDayOfWeek: boolean;
  /** AWS only; undefined = every year. */
  years?: ReadonlySet<number>;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  /** Names mapped to the field's own numbering. */
  names?: Record<string, number>;
  question?: boolean;
}

export class CronError extends Error {
  override readonly name = 'CronError';
}

function parseField(
  text: string,
  spec: FieldSpec,
  expression: string,
): { values: Set<number>; any: boolean } {
  const fail = (why: string): never => {
    throw new CronError(`${expression}: ${spec.name} "${text}" ${why}`);
  };
  if (text === '?') {
    if (!spec.question) fail('cannot be "?"');
    return { values: range(spec.min, spec.max, 1), any: true };
  }
  if (
    /[LW#]/i.test(text.replace(/[A-Z]{3}/gi, (n) => (spec.names?.[n.toUpperCase()] === undefined ? n : '0')))
  ) {
    fail('uses L, W or #, which this evaluator does not support');
  }
  const value = (token: string): number => {
    const named = spec.names?.[token.toUpperCase()];
    const n = named ?? (/^\d+$/.test(token) ? Number(token) : Number.NaN);
    if (Number.isNaN(n) || n < spec.min || n > spec.max)
      fail(`has "${token}" outside ${spec.min}-${spec.max}`);
    return n;
  };
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [base = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) fail(`has a bad step "${stepText}"`);
    let from: number;
    let to: number;
    if (base === '*') {
      from = spec.min;
      to = spec.max;
    } else if (base.includes('-')) {
      const [a = '', b = ''] = base.split('-');
      from = value(a);
      to = value(b);
      if (to < from) fail('has a descending range');
    } else {
      from = value(base);
      to = stepText === undefined ? from : spec.max;
    }
    for (const n of range(from, to, step)) values.add(n);
  }
  return { values, any: text === '*' };
}

function range(from: number, to: number, step: number): Set<number> {
  const out = new Set<number>();
  for (let n = from; n <= to; n += step) out.add(n);
  return out;
}

const names = (list: string[], offset: number) => Object.fromEntries(list.map((n, i) => [n, i + offset]));

/** Parses `cron(min hour dom month dow year)` (the `cron(...)` wrapper is optional). */
export function parseAwsCron(expression: string): CronSchedule {
  const body = expression.trim().replace(/^cron\((.*)\)$/, '$1');
  const fields = body.split(/\s+/);
  if (fields.length !== 6) throw new CronError(`${expression}: AWS cron has 6 fields, got ${fields.length}`);
  const [min = '', hour = '', dom = '', month = '', dow = '', year = ''] = fields;
  if ((dom === '?') === (dow === '?')) {
    throw new CronError(`${expression}: exactly one of day-of-month and day-of-week must be "?"`);
  }
  const dayOfWeek = parseField(
    dow,
    { name: 'day-of-week', min: 1, max: 7, names: names(DAYS, 1), question: true },
    expression,
  );
  const dayOfMonth = parseField(dom, { name: 'day-of-month', min: 1, max: 31, question: true }, expression);
  const years =
    year === '*' ? undefined : parseField(year, { name: 'year', min: 1970, max: 2199 }, expression).values;
  return {
    dialect: 'aws',
    expression,
    timeZone: 'UTC',
    seconds: new Set([0]),
    minutes: parseField(min, { name: 'minute', min: 0, max: 59 }, expression).values,
    hours: parseField(hour, { name: 'hour', min: 0, max: 23 }, expression).values,
    daysOfMonth: dayOfMonth.values,
    months: parseField(month, { name: 'month', min: 1, max: 12, names: names(MONTHS, 1) }, expression).values,
    // AWS counts 1 = Sunday.
    daysOfWeek: new Set([...dayOfWeek.values].map((d) => d - 1)),
    anyDayOfMonth: dom === '?' || dom === '*',
    anyDayOfWeek: dow === '?' || dow === '*',
    ...(years === undefined ? {} : { years }),
  };
}

/** Parses an FC 3.0 timer expression, `[CRON_TZ=Area/City ]sec min hour dom month dow`. */
export function parseFcCron(expression: string): CronSchedule {
  let body = expression.trim();
  let timeZone = 'UTC';
  const tz = /^CRON_TZ=(\S+)\s+(.*)$/.exec(body);
  if (tz) {
    timeZone = tz[1] ?? 'UTC';
    body = tz[2] ?? '';
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
    } catch {
      throw new CronError(`${expression}: unknown time zone ${timeZone}`);
    }
  }
  if (body.startsWith('@')) throw new CronError(`${expression}: @every/@daily forms are not comparable`);
  const fields = body.split(/\s+/);
  if (fields.length !== 6) throw new CronError(`${expression}: FC cron has 6 fields, got ${fields.length}`);
  const [sec = '', min = '', hour = '', dom = '', month = '', dow = ''] = fields;
  const dayOfMonth = parseField(dom, { name: 'day-of-month', min: 1, max: 31, question: true }, expression);
  const dayOfWeek = parseField(
    dow,
    { name: 'day-of-week', min: 0, max: 6, names: names(DAYS, 0), question: true },
    expression,
  );
  return {
    dialect: 'fc',
    expression,
    timeZone,
    seconds: parseField(sec, { name: 'second', min: 0, max: 59 }, expression).values,
    minutes: parseField(min, { name: 'minute', min: 0, max: 59 }, expression).values,
    hours: parseField(hour, { name: 'hour', min: 0, max: 23 }, expression).values,
    daysOfMonth: dayOfMonth.values,
    months: parseField(month, { name: 'month', min: 1, max: 12, names: names(MONTHS, 1) }, expression).values,
    daysOfWeek: dayOfWeek.values,
    anyDayOfMonth: dom === '?' || dom === '*',
    anyDayOfWeek: dow === '?' || dow === '*',
  };
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  weekday: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(instant: number, timeZone: string): WallClock {
  const date = new Date(instant);
  if (timeZone === 'UTC') {
    return {
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
      weekday: date.getUTCDay(),
      hour: date.getUTCHours(),
      minute: date.getUTCMinutes(),
    };
  }
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      weekday: 'short',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: DAYS.indexOf(String(parts.weekday).toUpperCase()),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
  };
}

function dayMatches(s: CronSchedule, clock: WallClock): boolean {
  const dom = s.daysOfMonth.has(clock.day);
  const dow = s.daysOfWeek.has(clock.weekday);
  return s.anyDayOfMonth || s.anyDayOfWeek ? dom && dow : dom || dow;
}

const MINUTE = 60_000;

/**
 * The next `count` fire times strictly after `after`, in ascending order. Gives up (throws) after
 * `horizonDays` without a match, so an expression that never fires fails the test instead of hanging.
 */
export function nextFireTimes(schedule: CronSchedule, after: Date, count: number, horizonDays = 800): Date[] {
  const out: Date[] = [];
  const seconds = [...schedule.seconds].sort((a, b) => a - b);
  let minute = Math.floor(after.getTime() / MINUTE) * MINUTE;
  const end = after.getTime() + horizonDays * 24 * 60 * MINUTE;
  while (out.length < count) {
    if (minute > end) {
      throw new CronError(
        `${schedule.expression}: fewer than ${count} fire times within ${horizonDays} days`,
      );
    }
    const clock = wallClock(minute, schedule.timeZone);
    const matches =
      (schedule.years === undefined || schedule.years.has(clock.year)) &&
      schedule.months.has(clock.month) &&
      dayMatches(schedule, clock) &&
      schedule.hours.has(clock.hour);
    if (!matches) {
      // Nothing in this local hour can fire: jump to the next local hour boundary.
      minute += (60 - clock.minute) * MINUTE;
      continue;
    }
    if (schedule.minutes.has(clock.minute)) {
      for (const second of seconds) {
        const instant = minute + second * 1000;
        if (instant > after.getTime() && out.length < count) out.push(new Date(instant));
      }
    }
    minute += MINUTE;
  }
  return out;
}
