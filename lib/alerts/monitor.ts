import type { Alert } from '#lib/alerts/alert.ts';
import type { SendOptions } from '#lib/alerts/channel.ts';
import { type AlertLogger, silentLogger } from '#lib/alerts/logger.ts';
import type { DeliveryResult, Notifier } from '#lib/alerts/notifier.ts';
import { type AlertAction, type AlertState, decideAlert } from '#lib/alerts/state/decide.ts';
import type { AlertStateStore } from '#lib/alerts/state/store.ts';
import { untilAborted } from '#lib/deadline.ts';
import { AirkickError } from '#lib/errors.ts';
import { redactSecrets } from '#lib/secrets/redaction.ts';

export interface MonitorOptions {
  notifier: Notifier;
  store: AlertStateStore;
  /** Re-alert interval while a problem lasts; 0 never repeats. */
  repeatIntervalMs: number;
  /** Longest one state read or write may take before the monitor goes on without it; default 2000. */
  stateTimeoutMs?: number;
  logger?: AlertLogger;
  now?: () => number;
}

export interface Observation {
  /** Names what is watched, e.g. `health:prod` or `dag:prod:etl_daily`. */
  key: string;
  healthy: boolean;
  /** The alert for the problem; `recovered` alerts are derived from it unless given. */
  alert: Alert;
  recoveredAlert?: Alert;
}

export interface MonitorOutcome {
  action: AlertAction;
  /** Present when an alert was sent. */
  result?: DeliveryResult;
  /** The state could not be read in time: an unhealthy observation was sent as news, a healthy one kept quiet. */
  withoutState?: true;
}

export interface AlertMonitor {
  observe(observation: Observation, options?: SendOptions): Promise<MonitorOutcome>;
}

export const DEFAULT_STATE_TIMEOUT_MS = 2_000;
/** What a store call gets even past the deadline (unless `stateTimeoutMs` is smaller): the alert matters more than the margin. */
const MIN_STATE_BUDGET_MS = 250;

/**
 * Decides from the stored state whether an observation is news and sends it. Delivery never depends
 * on the store:
 * - every store call is bounded (`stateTimeoutMs`, and half the time left before the deadline) and
 *   ends when the caller's signal aborts;
 * - a state that cannot be read counts as unknown: a problem is sent (de-duplication degrades, the
 *   alert carries a note saying so), a recovery waits until the store answers again and still says
 *   unhealthy, so "resolved" goes out once the store and Airflow agree;
 * - a transition is claimed before it is sent, with a write conditional on the version read, so of
 *   two invocations only one sends it; a claim the store cannot confirm is sent anyway;
 * - when no channel took the alert, the claim is given back so the next run tries again;
 * - store failures are logged at WARN, never thrown.
 */
export function createAlertMonitor(options: MonitorOptions): AlertMonitor {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const store = options.store;
  const stateTimeoutMs = options.stateTimeoutMs ?? DEFAULT_STATE_TIMEOUT_MS;

  const floor = Math.min(MIN_STATE_BUDGET_MS, stateTimeoutMs);
  const budget = (deadline: number | undefined) => {
    const half = deadline === undefined ? stateTimeoutMs : (deadline - Date.now()) / 2;
    return Math.round(Math.max(floor, Math.min(stateTimeoutMs, half)));
  };
  // Every store call gets its share of the time left, and ends with the caller's signal too.
  const guarded = <T>(send: SendOptions, call: (signal: AbortSignal) => Promise<T>, what: string) =>
    bounded(budget(send.deadline), send.signal, call, `${store.kind}: ${what}`);
  const read = (key: string, send: SendOptions) =>
    guarded(send, (signal) => store.get(key, { signal }), `read ${key}`);
  const write = async (
    key: string,
    state: AlertState,
    ifVersion: number | undefined,
    send: SendOptions,
  ): Promise<boolean | AirkickError> => {
    const written = await guarded(
      send,
      (signal) => store.set(key, state, { signal, ...(ifVersion === undefined ? {} : { ifVersion }) }),
      `write ${key}`,
    );
    if (written instanceof AirkickError) {
      logger.warn('Could not store alert state; the next run may alert again', {
        key,
        store: store.kind,
        error: describeError(written),
      });
    }
    return written;
  };

  const degraded = async (
    observation: Observation,
    error: AirkickError,
    sendOptions: SendOptions,
  ): Promise<MonitorOutcome> => {
    logger.warn('Could not read alert state; deciding without it (alerts may repeat)', {
      key: observation.key,
      store: store.kind,
      error: describeError(error),
    });
    if (observation.healthy) return { action: 'quiet', withoutState: true };
    const at = now();
    const alert: Alert = {
      ...observation.alert,
      fields: [
        ...(observation.alert.fields ?? []),
        { key: 'Alert state', value: `unavailable (${store.kind}): this may repeat an earlier alert` },
      ],
    };
    const result = await options.notifier.notify(alert, sendOptions);
    if (result.delivered.length > 0 || result.failed.length === 0) {
      const next: AlertState = { status: 'unhealthy', since: at, lastSentAt: at };
      await write(observation.key, next, undefined, sendOptions);
    }
    return { action: 'send', result, withoutState: true };
  };

  return {
    async observe(observation, sendOptions = {}) {
      for (let attempt = 1; ; attempt++) {
        const stored = await read(observation.key, sendOptions);
        if (stored instanceof AirkickError) return degraded(observation, stored, sendOptions);
        const previous = stored.state;
        const at = now();
        const decision = decideAlert(previous, observation.healthy, at, options.repeatIntervalMs);
        if (decision.action === 'quiet') {
          if (previous === undefined)
            await write(observation.key, decision.next, stored.version, sendOptions);
          return { action: 'quiet' };
        }
        const claim = await write(observation.key, decision.next, stored.version, sendOptions);
        if (claim === false) {
          // Another invocation wrote first: decide once more on what it wrote.
          if (attempt < 2) continue;
          logger.info('Another invocation is handling this alert', { key: observation.key });
          return { action: 'quiet' };
        }
        const alert = alertFor(decision.action, observation, previous, at);
        const result = await options.notifier.notify(alert, sendOptions);
        if (claim === true && result.delivered.length === 0 && result.failed.length > 0) {
          // Nothing got through: give the transition back, so the next run tries again.
          const before = previous ?? { status: 'healthy', since: at };
          await write(observation.key, before, stored.version + 1, sendOptions);
        }
        return { action: decision.action, result };
      }
    },
  };
}

/**
 * Runs one store call with an abort signal that fires after `ms` or with the caller's, and stops
 * waiting then even if the store ignores it. Failures are returned, not thrown: the monitor goes on
 * without the store.
 */
async function bounded<T>(
  ms: number,
  caller: AbortSignal | undefined,
  call: (signal: AbortSignal) => Promise<T>,
  what: string,
): Promise<T | AirkickError> {
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new AirkickError('TIMEOUT', `${what}: no answer within ${ms} ms`, { retryable: true }),
      ),
    ms,
  );
  const signal = caller ? AbortSignal.any([controller.signal, caller]) : controller.signal;
  try {
    return await untilAborted(
      Promise.resolve().then(() => call(signal)),
      signal,
      what,
    );
  } catch (error) {
    return error instanceof AirkickError
      ? error
      : new AirkickError('TRANSPORT', `${what}: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
  } finally {
    clearTimeout(timer);
  }
}

function alertFor(
  action: AlertAction,
  observation: Observation,
  previous: AlertState | undefined,
  at: number,
): Alert {
  const since = previous?.status === 'unhealthy' ? previous.since : undefined;
  if (action === 'recovered') {
    if (observation.recoveredAlert) return observation.recoveredAlert;
    const lasted = since === undefined ? [] : [{ key: 'Unhealthy for', value: formatDuration(at - since) }];
    return {
      ...observation.alert,
      severity: 'resolved',
      title: `Resolved: ${observation.alert.title}`,
      fields: [...lasted, ...(observation.alert.fields ?? [])],
    };
  }
  if (action === 'repeat' && since !== undefined) {
    return {
      ...observation.alert,
      title: `Still failing: ${observation.alert.title}`,
      fields: [
        { key: 'Unhealthy since', value: new Date(since).toISOString() },
        ...(observation.alert.fields ?? []),
      ],
    };
  }
  return observation.alert;
}

export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

function describeError(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}
