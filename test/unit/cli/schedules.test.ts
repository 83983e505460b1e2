import { describe, expect, it } from 'vitest';
import { scheduledEvent } from '#cli/local/events.ts';
import {
  applyRuleInput,
  functionSchedules,
  loadSchedules,
  nextFire,
  parseExpression,
  ScheduleError,
} from '#cli/local/schedules.ts';
import { parseScheduleEvent } from '#lib/events/index.ts';

const at = (iso: string) => new Date(iso);

describe('schedule expressions', () => {
  it('fires rate() on multiples of its period, strictly after the given time', () => {
    const every5 = parseExpression('rate(5 minutes)');
    expect(nextFire(every5, at('2026-11-20T17:52:10Z')).toISOString()).toBe('2026-11-20T17:55:00.000Z');
    expect(nextFire(every5, at('2026-11-20T17:55:00Z')).toISOString()).toBe('2026-11-20T18:00:00.000Z');
    expect(nextFire(parseExpression('rate(1 day)'), at('2026-11-20T17:52:10Z')).toISOString()).toBe(
      '2026-11-21T00:00:00.000Z',
    );
  });

  it('follows AWS cron, day-of-week 1 = Sunday', () => {
    const weekly = parseExpression('cron(30 3 ? * SUN *)');
    // 2026-11-20 is a Friday.
    expect(nextFire(weekly, at('2026-11-20T00:00:00Z')).toISOString()).toBe('2026-11-22T03:30:00.000Z');
    const fiveMinutes = parseExpression('cron(0/5 * * * ? *)');
    expect(nextFire(fiveMinutes, at('2026-11-20T23:58:00Z')).toISOString()).toBe('2026-11-21T00:00:00.000Z');
  });

  it('rejects what EventBridge would reject', () => {
    expect(() => parseExpression('rate(1 minutes)')).toThrow(/rate\(1 minute\)/);
    expect(() => parseExpression('rate(5 minute)')).toThrow(ScheduleError);
    expect(() => parseExpression('rate(0 hours)')).toThrow(ScheduleError);
    expect(() => parseExpression('cron(0 12 * * * *)')).toThrow(/exactly one/);
    expect(() => parseExpression('0 12 * * ?')).toThrow(/neither cron/);
  });
});

describe('schedules from serverless.yml', () => {
  it('finds the three scheduled functions with their rule input transformers', () => {
    const schedules = loadSchedules();
    expect(schedules.map((s) => [s.function, s.expression.text, s.enabled])).toEqual([
      ['trigger-dag', 'cron(0 2 * * ? *)', true],
      ['health-check', 'cron(0/5 * * * ? *)', true],
      ['db-clean', 'cron(30 3 ? * SUN *)', true],
    ]);
    expect(schedules[0]?.name).toBe('airkick-dev-trigger-dag');
    expect(schedules[0]?.input.kind).toBe('transformer');
  });

  it('reads the short forms, constant inputs and disabled rules', () => {
    const schedules = functionSchedules({
      functions: {
        a: { events: [{ schedule: 'rate(1 hour)' }, { http: {} }] },
        b: {
          events: [
            { schedule: { rate: ['cron(0 1 * * ? *)', 'rate(2 days)'], enabled: false, input: '{"k":1}' } },
          ],
        },
      },
    });
    expect(schedules.map((s) => [s.function, s.expression.text, s.enabled, s.input])).toEqual([
      ['a', 'rate(1 hour)', true, { kind: 'event' }],
      ['b', 'cron(0 1 * * ? *)', false, { kind: 'constant', value: { k: 1 } }],
      ['b', 'rate(2 days)', false, { kind: 'constant', value: { k: 1 } }],
    ]);
  });

  it('delivers what the rule delivers: the transformed input carries the slot to the handler', () => {
    const [trigger] = loadSchedules();
    const slot = at('2026-11-21T02:00:00Z');
    const delivered = applyRuleInput(trigger?.input ?? { kind: 'event' }, scheduledEvent(slot, 'r'));
    expect(delivered).toEqual({ time: '2026-11-21T02:00:00Z', schedule: 'trigger-dag' });
    const parsed = parseScheduleEvent(delivered);
    expect(parsed.slot.toISOString()).toBe(slot.toISOString());
    expect(parsed.input).toEqual({ schedule: 'trigger-dag' });
    // Without an input setting the whole EventBridge event arrives.
    expect(parseScheduleEvent(applyRuleInput({ kind: 'event' }, scheduledEvent(slot, 'r'))).source).toBe(
      'eventbridge',
    );
  });

  it('fills placeholders inside strings with raw text and outside with JSON', () => {
    const input = {
      kind: 'transformer' as const,
      paths: { t: '$.time', region: '$.region', missing: '$.detail.nothing' },
      template: '{"at": "slot <t> in <region>", "raw": <t>, "none": <missing>}',
    };
    expect(applyRuleInput(input, scheduledEvent(at('2026-01-01T00:00:00Z'), 'r'))).toEqual({
      at: 'slot 2026-01-01T00:00:00Z in local-1',
      raw: '2026-01-01T00:00:00Z',
      none: null,
    });
  });
});
