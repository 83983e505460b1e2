import type { AlertState } from '#lib/alerts/state/decide.ts';
import {
  type AlertStateStore,
  NOTHING_STORED,
  type StateStore,
  type StoredState,
} from '#lib/alerts/state/store.ts';

/**
 * Lives as long as the process: enough for tests, a long-running CLI, or one warm function container
 * (then each container de-duplicates on its own).
 */
export function memoryStore<S>(): StateStore<S> {
  const states = new Map<string, StoredState<S>>();
  return {
    kind: 'memory',
    async get(key) {
      return states.get(key) ?? NOTHING_STORED;
    },
    async set(key, state, options = {}) {
      const version = states.get(key)?.version ?? 0;
      if (options.ifVersion !== undefined && options.ifVersion !== version) return false;
      states.set(key, { state, version: version + 1 });
      return true;
    },
  };
}

/** The alert states of one process. */
export const memoryStateStore = (): AlertStateStore => memoryStore<AlertState>();
