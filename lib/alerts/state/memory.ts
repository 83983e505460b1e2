import type { AlertState } from './decide.ts';
import type { AlertStateStore } from './store.ts';

/** Lives as long as the process: enough for tests, a long-running CLI, or one warm function container. */
export function memoryStateStore(): AlertStateStore {
  const states = new Map<string, AlertState>();
  return {
    async get(key) {
      return states.get(key);
    },
    async set(key, state) {
      states.set(key, state);
    },
  };
}
