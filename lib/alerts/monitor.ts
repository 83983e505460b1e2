import { redactSecrets } from '#lib/errors.ts';
import type { Alert } from './alert.ts';
import type { SendOptions } from './channel.ts';
import { type AlertLogger, silentLogger } from './logger.ts';
import type { DeliveryResult, Notifier } from './notifier.ts';
import { type AlertAction, type AlertState, decideAlert } from './state/decide.ts';
import type { AlertStateStore } from './state/store.ts';

export interface MonitorOptions {
  notifier: Notifier;
  store: AlertStateStore;
  /** Re-alert interval while a problem lasts; 0 never repeats. */
  repeatIntervalMs: number;
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
}

export interface AlertMonitor {
  observe(observation: Observation, options?: SendOptions): Promise<MonitorOutcome>;
}

/**
 * Decides from the stored state whether an observation is news, sends it, and stores the new state.
 * The state is stored only when the alert reached a channel, so a failed alert is tried again next time.
 */
export function createAlertMonitor(options: MonitorOptions): AlertMonitor {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  return {
    async observe(observation, sendOptions) {
      const previous = await readState(options.store, observation.key, logger);
      const at = now();
      const decision = decideAlert(previous, observation.healthy, at, options.repeatIntervalMs);
      if (decision.action === 'quiet') {
        if (previous === undefined) await writeState(options.store, observation.key, decision.next, logger);
        return { action: 'quiet' };
      }
      const alert = alertFor(decision.action, observation, previous, at);
      const result = await options.notifier.notify(alert, sendOptions);
      if (result.delivered.length > 0 || result.failed.length === 0) {
        await writeState(options.store, observation.key, decision.next, logger);
      }
      return { action: decision.action, result };
    },
  };
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

// A store that cannot be read must not silence alerts: treat the state as unknown and alert.
async function readState(
  store: AlertStateStore,
  key: string,
  logger: AlertLogger,
): Promise<AlertState | undefined> {
  try {
    return await store.get(key);
  } catch (error) {
    logger.warn('Could not read alert state; deciding without it', { key, error: describeError(error) });
    return undefined;
  }
}

async function writeState(
  store: AlertStateStore,
  key: string,
  state: AlertState,
  logger: AlertLogger,
): Promise<void> {
  try {
    await store.set(key, state);
  } catch (error) {
    logger.warn('Could not store alert state; the next run may alert again', {
      key,
      error: describeError(error),
    });
  }
}

function describeError(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}
