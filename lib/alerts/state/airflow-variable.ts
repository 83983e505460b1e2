import { createHash } from 'node:crypto';
import type { AirflowClient } from '#lib/airflow/types.ts';
import {
  type AlertStateStore,
  alertStateCodec,
  decodeStored,
  encodeStored,
} from '#lib/alerts/state/store.ts';

export const VARIABLE_PREFIX = 'airkick_alert_state__';
const KEY_MAX = 250;

/**
 * Airflow Variable keys allow letters, digits, `_`, `-` and `.` and 250 characters. Other keys are
 * made safe and suffixed with a hash of the original, so two different keys never share a variable.
 */
export function variableKey(key: string): string {
  const safe = key.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (safe === key && VARIABLE_PREFIX.length + key.length <= KEY_MAX) return VARIABLE_PREFIX + key;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
  return `${VARIABLE_PREFIX}${safe.slice(0, KEY_MAX - VARIABLE_PREFIX.length - 13)}_${hash}`;
}

/**
 * Keeps alert state in the Airflow being watched: no extra infrastructure, but when that Airflow is
 * down its state is too, and every run then alerts again (the monitor still delivers). Only by
 * explicit choice (`AIRKICK_ALERT_STATE=airflow-variable`). The Variables API has no conditional
 * write: `ifVersion` is compared with a fresh read, so two invocations racing may both claim.
 */
export function airflowVariableStateStore(
  airflow: Pick<AirflowClient, 'getVariable' | 'setVariable'>,
): AlertStateStore {
  const read = async (key: string, signal: AbortSignal | undefined) =>
    decodeStored(alertStateCodec, await airflow.getVariable(variableKey(key), signal ? { signal } : {}));
  return {
    kind: 'airflow-variable',
    get: (key, options = {}) => read(key, options.signal),
    async set(key, state, options = {}) {
      const current = await read(key, options.signal);
      if (options.ifVersion !== undefined && options.ifVersion !== current.version) return false;
      await airflow.setVariable(
        variableKey(key),
        encodeStored(alertStateCodec, state, current.version + 1),
        options.signal ? { signal: options.signal } : {},
      );
      return true;
    },
  };
}
