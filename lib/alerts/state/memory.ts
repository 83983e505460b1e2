import type { AlertState } from '#lib/alerts/state/decide.ts';
import { type AlertStateStore, NOTHING_STORED, type StoredState } from '#lib/alerts/state/store.ts';

/**
 * Lives as long as the process: enough for tests, a long-running CLI, or one warm function container
 * (then each container de-duplicates on its own).
 */
export function memoryStateStore(): AlertStateStore {
  const states = new Map<string, StoredState>();
  return {
    kind: 'memory',
    async get(key) {
      return states.get(key) ?? NOTHING_STORED;
    },
    async set(key, state: AlertState, options = {}) {
      const version = states.get(key)?.version ?? 0;
      if (options.ifVersion !== undefined && options.ifVersion !== version) return false;
      states.set(key, { state, version: version + 1 });
      return true;
    },
  };
}
