/** What the alert state of one monitored thing (a DAG, an environment's health) remembers between runs. */
export type AlertState =
  | { status: 'healthy'; since: number }
  | { status: 'unhealthy'; since: number; lastSentAt: number };

export type AlertAction = 'send' | 'repeat' | 'recovered' | 'quiet';

export interface AlertDecision {
  action: AlertAction;
  /** The state to store once the alert (if any) went out. */
  next: AlertState;
}

/**
 * Alerts fire on transitions (healthy -> unhealthy: `send`; unhealthy -> healthy: `recovered`) and,
 * while a problem lasts, at most once per `repeatMs` (`repeat`); `repeatMs <= 0` never repeats.
 * An unknown previous state counts as healthy: the first failure seen is news, the first success is not.
 */
export function decideAlert(
  previous: AlertState | undefined,
  healthy: boolean,
  now: number,
  repeatMs: number,
): AlertDecision {
  if (healthy) {
    if (previous?.status === 'unhealthy')
      return { action: 'recovered', next: { status: 'healthy', since: now } };
    return { action: 'quiet', next: previous ?? { status: 'healthy', since: now } };
  }
  if (previous?.status !== 'unhealthy') {
    return { action: 'send', next: { status: 'unhealthy', since: now, lastSentAt: now } };
  }
  // A clock that went backwards (another function's skew) must not trigger a repeat.
  const due = repeatMs > 0 && now - previous.lastSentAt >= repeatMs;
  if (due) return { action: 'repeat', next: { ...previous, lastSentAt: now } };
  return { action: 'quiet', next: previous };
}
