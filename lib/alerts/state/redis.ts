import {
  createRespClient,
  type RespCommandOptions,
  type RespOptions,
  type RespValue,
} from '#lib/alerts/state/resp.ts';
import {
  type AlertStateStore,
  alertStateCodec,
  decodeStored,
  type StateCodec,
  type StateStore,
} from '#lib/alerts/state/store.ts';
import { AirkickError } from '#lib/errors.ts';

/** What the store needs of a Redis client; `createRedisClient` gives one. */
export interface RedisLike {
  command(args: readonly string[], options?: RespCommandOptions): Promise<RespValue>;
}

export const DEFAULT_REDIS_PREFIX = 'airkick:alert-state:';

export interface RedisStateOptions {
  prefix?: string;
  /** Expire a state this long after its last write; 0 keeps it for ever. */
  ttlMs?: number;
}

/**
 * Compare-and-set in one step: the stored JSON carries its version; the new value gets the next one.
 * KEYS[1] key; ARGV[1] state JSON (an object, no version); ARGV[2] expected version or "";
 * ARGV[3] TTL in ms or "0". Returns the new version, or -1 when the version did not match.
 */
const SET_IF_VERSION = `
local current = redis.call('GET', KEYS[1])
local version = 0
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == 'table' and tonumber(decoded.version) then version = tonumber(decoded.version) end
end
if ARGV[2] ~= '' and tonumber(ARGV[2]) ~= version then return -1 end
local value = string.sub(ARGV[1], 1, -2) .. ',"version":' .. (version + 1) .. '}'
if ARGV[3] ~= '0' then
  redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], value)
end
return version + 1
`;

/**
 * Keeps alert states in Redis (ApsaraDB for Redis / Tair on Function Compute), one JSON string per
 * key: `{"status":"unhealthy","since":...,"lastSentAt":...,"version":3}`.
 */
export function redisStateStore(client: RedisLike, options: RedisStateOptions = {}): AlertStateStore {
  return redisStore(client, alertStateCodec, options);
}

/** States of any kind `codec` keeps, one JSON string per key as {@link redisStateStore} keeps alert states. */
export function redisStore<S>(
  client: RedisLike,
  codec: StateCodec<S>,
  options: RedisStateOptions = {},
): StateStore<S> {
  const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
  const ttl = String(Math.max(0, Math.round(options.ttlMs ?? 0)));
  return {
    kind: 'redis',
    async get(key, callOptions = {}) {
      const raw = await client.command(['GET', prefix + key], {
        idempotent: true,
        ...(callOptions.signal ? { signal: callOptions.signal } : {}),
      });
      return decodeStored(codec, typeof raw === 'string' ? raw : undefined);
    },
    async set(key, state, callOptions = {}) {
      const expected = callOptions.ifVersion === undefined ? '' : String(callOptions.ifVersion);
      const reply = await client.command(
        ['EVAL', SET_IF_VERSION, '1', prefix + key, codec.encode(state), expected, ttl],
        callOptions.signal ? { signal: callOptions.signal } : {},
      );
      if (typeof reply !== 'number') {
        throw new AirkickError('SERVER', `Redis: unexpected answer to the state update: ${String(reply)}`);
      }
      return reply >= 0;
    },
  };
}

/**
 * A Redis client for the store: it connects on first use (not at cold start, so an unreachable
 * Redis never fails a function) and again after any failure. Keep it at module scope.
 */
export function createRedisClient(
  url: string,
  options: RespOptions = {},
): RedisLike & { close(): Promise<void> } {
  return createRespClient(url, options);
}
