import { type AlertStateStore, decodeState, encodeState } from './store.ts';

/** The two commands the store needs; a `redis` v5/v6 client satisfies it. */
export interface RedisLike {
  get(key: string): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
}

export const DEFAULT_REDIS_PREFIX = 'airkick:alert-state:';

export function redisStateStore(client: RedisLike, prefix = DEFAULT_REDIS_PREFIX): AlertStateStore {
  return {
    async get(key) {
      const raw = await client.get(prefix + key);
      return decodeState(typeof raw === 'string' ? raw : raw == null ? undefined : String(raw));
    },
    async set(key, state) {
      await client.set(prefix + key, encodeState(state));
    },
  };
}

/**
 * Connects a `redis` client, loading the package only when Redis is configured. Keep the result at
 * module scope: a warm function reuses the connection.
 */
export async function connectRedis(url: string): Promise<RedisLike & { close(): Promise<void> }> {
  const { createClient } = await import('redis');
  const client = createClient({ url, socket: { connectTimeout: 5_000, reconnectStrategy: false } });
  // Without a listener an 'error' event would crash the process; failures surface on the next command.
  client.on('error', () => {});
  await client.connect();
  return {
    get: (key) => client.get(key),
    set: (key, value) => client.set(key, value),
    close: async () => {
      await client.close();
    },
  };
}
