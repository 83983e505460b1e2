import { describe, expect, it } from 'vitest';
import { type AlertState, decideAlert } from '#lib/alerts/index.ts';

const HOUR = 3_600_000;
const T = 1_700_000_000_000;
const healthySince: AlertState = { status: 'healthy', since: T - 5 * HOUR };
const failing = (lastSentAt: number) => ({
  status: 'unhealthy' as const,
  since: T - 3 * HOUR,
  lastSentAt,
});

describe('decideAlert', () => {
  // previous state x healthy? x time since last alert x repeat interval: every row of the table.
  const table: [string, AlertState | undefined, boolean, number, number, string, AlertState][] = [
    ['first observation, healthy', undefined, true, T, HOUR, 'quiet', { status: 'healthy', since: T }],
    [
      'first observation, unhealthy',
      undefined,
      false,
      T,
      HOUR,
      'send',
      { status: 'unhealthy', since: T, lastSentAt: T },
    ],
    ['healthy stays healthy', healthySince, true, T, HOUR, 'quiet', healthySince],
    [
      'healthy becomes unhealthy',
      healthySince,
      false,
      T,
      HOUR,
      'send',
      { status: 'unhealthy', since: T, lastSentAt: T },
    ],
    ['unhealthy recovers', failing(T - 10), true, T, HOUR, 'recovered', { status: 'healthy', since: T }],
    [
      'unhealthy recovers (repeat off)',
      failing(T - 10),
      true,
      T,
      0,
      'recovered',
      { status: 'healthy', since: T },
    ],
    [
      'unhealthy, interval not yet over',
      failing(T - HOUR + 1),
      false,
      T,
      HOUR,
      'quiet',
      failing(T - HOUR + 1),
    ],
    [
      'unhealthy, interval exactly over',
      failing(T - HOUR),
      false,
      T,
      HOUR,
      'repeat',
      { ...failing(T - HOUR), lastSentAt: T },
    ],
    [
      'unhealthy, interval long over',
      failing(T - 5 * HOUR),
      false,
      T,
      HOUR,
      'repeat',
      { ...failing(T - 5 * HOUR), lastSentAt: T },
    ],
    ['unhealthy, repeats disabled', failing(T - 50 * HOUR), false, T, 0, 'quiet', failing(T - 50 * HOUR)],
    ['unhealthy, clock went backwards', failing(T + HOUR), false, T, HOUR, 'quiet', failing(T + HOUR)],
    [
      'unhealthy, negative interval = off',
      failing(T - 5 * HOUR),
      false,
      T,
      -1,
      'quiet',
      failing(T - 5 * HOUR),
    ],
  ];

  it.each(table)('%s', (_name, previous, healthy, now, repeatMs, action, next) => {
    expect(decideAlert(previous, healthy, now, repeatMs)).toEqual({ action, next });
  });

  it('keeps `since` of the outage across repeats so a recovery can say how long it lasted', () => {
    let state: AlertState | undefined;
    const actions: string[] = [];
    for (const [minute, healthy] of [
      [0, false],
      [30, false],
      [60, false],
      [90, false],
      [121, false],
      [130, true],
      [140, true],
    ] as const) {
      const decision = decideAlert(state, healthy, T + minute * 60_000, HOUR);
      actions.push(decision.action);
      if (decision.action === 'repeat') expect((decision.next as { since: number }).since).toBe(T);
      state = decision.next;
    }
    expect(actions).toEqual(['send', 'quiet', 'repeat', 'quiet', 'repeat', 'recovered', 'quiet']);
  });
});
