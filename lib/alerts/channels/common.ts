import type { HttpChannelOptions } from '#lib/alerts/channel.ts';
import { type RateLimit, TokenBucket } from '#lib/alerts/rate-limit.ts';

export function limiterFor(
  defaultLimit: RateLimit | undefined,
  options: HttpChannelOptions,
): TokenBucket | undefined {
  const limit = options.rateLimit === undefined ? defaultLimit : options.rateLimit;
  return limit ? new TokenBucket(limit, options.clock) : undefined;
}
