import type { HttpChannelOptions } from '../channel.ts';
import { type RateLimit, TokenBucket } from '../rate-limit.ts';

export function limiterFor(
  defaultLimit: RateLimit | undefined,
  options: HttpChannelOptions,
): TokenBucket | undefined {
  const limit = options.rateLimit === undefined ? defaultLimit : options.rateLimit;
  return limit ? new TokenBucket(limit, options.clock) : undefined;
}
