import { describe, expect, it } from 'vitest';
import { loadServerless, loadSYaml } from '#cli/local/config-files.ts';
import { CronError, nextFireTimes, parseAwsCron, parseFcCron } from '#cli/local/cron.ts';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('the cron evaluator', () => {
  it('reads AWS day-of-week 1-7 as SUN-SAT and FC 0-6 as SUN-SAT', () => {
    const from = new Date('2026-11-20T00:00:00Z'); // a Friday
    const aws = nextFireTimes(parseAwsCron('cron(0 12 ? * 2 *)'), from, 3);
    const fc = nextFireTimes(parseFcCron('0 0 12 * * 1'), from, 3);
    expect(iso(aws)).toEqual([
      '2026-11-23T12:00:00.000Z',
      '2026-11-30T12:00:00.000Z',
      '2026-12-07T12:00:00.000Z',
    ]);
    expect(iso(fc)).toEqual(iso(aws));
    expect(iso(nextFireTimes(parseAwsCron('cron(0 12 ? * MON *)'), from, 3))).toEqual(iso(aws));
  });

  it('follows ranges, steps and month/day names', () => {
    const from = new Date('2026-11-20T17:50:00Z');
    expect(iso(nextFireTimes(parseAwsCron('cron(0 18 ? * MON-FRI *)'), from, 2))).toEqual([
      '2026-11-20T18:00:00.000Z',
      '2026-11-23T18:00:00.000Z',
    ]);
    expect(iso(nextFireTimes(parseAwsCron('cron(0/20 * * * ? *)'), from, 3))).toEqual([
      '2026-11-20T18:00:00.000Z',
      '2026-11-20T18:20:00.000Z',
      '2026-11-20T18:40:00.000Z',
    ]);
    expect(iso(nextFireTimes(parseFcCron('30 15 10 1 JAN,JUL ?'), from, 2))).toEqual([
      '2027-01-01T10:15:30.000Z',
      '2027-07-01T10:15:30.000Z',
    ]);
  });

  it('honours the AWS year field', () => {
    const times = nextFireTimes(
      parseAwsCron('cron(0 0 1 1 ? 2028-2029)'),
      new Date('2026-01-01T00:00:00Z'),
      2,
      1500,
    );
    expect(iso(times)).toEqual(['2028-01-01T00:00:00.000Z', '2029-01-01T00:00:00.000Z']);
  });

  it('applies CRON_TZ on the FC side', () => {
    const from = new Date('2026-11-20T00:00:00Z');
    const shanghai = nextFireTimes(parseFcCron('CRON_TZ=Asia/Shanghai 0 0 8 * * *'), from, 3);
    expect(iso(shanghai)).toEqual(iso(nextFireTimes(parseAwsCron('cron(0 0 * * ? *)'), from, 3)));
  });

  it('tells different schedules apart', () => {
    const from = new Date('2026-11-20T00:00:00Z');
    const aws = nextFireTimes(parseAwsCron('cron(0 2 * * ? *)'), from, 5);
    expect(iso(nextFireTimes(parseFcCron('0 0 3 * * *'), from, 5))).not.toEqual(iso(aws));
    // A seconds field other than 0 cannot match EventBridge, which fires on the minute.
    expect(iso(nextFireTimes(parseFcCron('30 0 2 * * *'), from, 5))).not.toEqual(iso(aws));
    // SUN is 1 on AWS and 0 on FC: the same digit is a different day.
    expect(iso(nextFireTimes(parseFcCron('0 0 2 ? * 1'), from, 5))).not.toEqual(
      iso(nextFireTimes(parseAwsCron('cron(0 2 ? * 1 *)'), from, 5)),
    );
  });

  it('rejects what it cannot evaluate faithfully', () => {
    expect(() => parseAwsCron('cron(0 12 1 * MON *)')).toThrow(CronError); // both day fields set
    expect(() => parseAwsCron('cron(0 12 * * * *)')).toThrow(CronError); // neither is ?
    expect(() => parseAwsCron('cron(0 12 L * ? *)')).toThrow(/L, W or #/);
    expect(() => parseAwsCron('cron(0 12 ? * 6#3 *)')).toThrow(/L, W or #/);
    expect(() => parseFcCron('0 0 12 * *')).toThrow(/6 fields/);
    expect(() => parseFcCron('0 0 25 * * *')).toThrow(/outside/);
    expect(() => parseFcCron('CRON_TZ=Mars/Olympus 0 0 1 * * *')).toThrow(/time zone/);
  });
});

// ------------------------------------------------------------------------------------------------

type Events = { schedule?: { rate?: string[] } }[];
type Triggers = { triggerType: string; triggerConfig: { cronExpression?: string } }[];

function awsSchedules(): Map<string, string[]> {
  const functions = loadServerless().functions as Record<string, { events?: Events }>;
  const out = new Map<string, string[]>();
  for (const [name, fn] of Object.entries(functions)) {
    const rates = (fn.events ?? []).flatMap((event) => event.schedule?.rate ?? []);
    if (rates.length > 0) out.set(name, rates);
  }
  return out;
}

function fcSchedules(): Map<string, string[]> {
  const resources = loadSYaml().resources as Record<string, { props: { triggers?: Triggers } }>;
  const out = new Map<string, string[]>();
  for (const [name, resource] of Object.entries(resources)) {
    const crons = (resource.props.triggers ?? [])
      .filter((t) => t.triggerType === 'timer')
      .map((t) => t.triggerConfig.cronExpression ?? '');
    if (crons.length > 0) out.set(name, crons);
  }
  return out;
}

/** The merged fire times of all of one function's schedules. */
function fireTimes(expressions: string[], parse: typeof parseAwsCron, from: Date, count: number): string[] {
  const all = expressions.flatMap((e) => iso(nextFireTimes(parse(e), from, count)));
  return [...new Set(all)].sort().slice(0, count);
}

describe('the schedules of serverless.yml and s.yaml', () => {
  const aws = awsSchedules();
  const fc = fcSchedules();

  it('schedule the same functions on both clouds', () => {
    expect([...aws.keys()].sort()).toEqual(['db-clean', 'health-check', 'trigger-dag']);
    expect([...fc.keys()].sort()).toEqual([...aws.keys()].sort());
  });

  // Fixed starts make failures reproducible; they cover a month end, a leap day and a year end.
  const starts = ['2026-11-21T06:00:00Z', '2028-02-27T23:59:30Z', '2030-12-30T12:00:00Z'].map(
    (s) => new Date(s),
  );

  for (const name of ['trigger-dag', 'health-check', 'db-clean']) {
    it(`fire ${name} at the same instants`, () => {
      const awsExpressions = aws.get(name) ?? [];
      const fcExpressions = fc.get(name) ?? [];
      expect(awsExpressions.length).toBeGreaterThan(0);
      for (const from of starts) {
        const expected = fireTimes(awsExpressions, parseAwsCron, from, 40);
        expect(expected).toHaveLength(40);
        expect(fireTimes(fcExpressions, parseFcCron, from, 40), `${name} from ${from.toISOString()}`).toEqual(
          expected,
        );
      }
    });
  }
});
