import { createHash } from 'node:crypto';
import type { AirflowClient } from '#lib/airflow/types.ts';
import { type AlertStateStore, decodeState, encodeState } from './store.ts';

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

/** Keeps alert state in the Airflow being watched: no extra infrastructure to run. */
export function airflowVariableStateStore(
  airflow: Pick<AirflowClient, 'getVariable' | 'setVariable'>,
): AlertStateStore {
  return {
    async get(key) {
      return decodeState(await airflow.getVariable(variableKey(key)));
    },
    async set(key, state) {
      await airflow.setVariable(variableKey(key), encodeState(state));
    },
  };
}
