import { connectResp } from './resp.ts';
import { type AlertStateStore, decodeState, encodeState } from './store.ts';

/** The two commands the store needs; `connectRedis` and a `redis` v5/v6 client both satisfy it. */
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

/** Connects to Redis; keep the result at module scope so a warm function reuses the connection. */
export async function connectRedis(url: string): Promise<RedisLike & { close(): Promise<void> }> {
  const client = await connectResp(url);
  return {
    get: (key) => client.command(['GET', key]),
    set: (key, value) => client.command(['SET', key, value]),
    close: () => client.close(),
  };
}
