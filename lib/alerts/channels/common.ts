import type { HttpChannelOptions, SendOptions } from '../channel.ts';
import type { HttpDeliveryOptions } from '../http.ts';
import { type RateLimit, TokenBucket } from '../rate-limit.ts';

export function limiterFor(
  defaultLimit: RateLimit | undefined,
  options: HttpChannelOptions,
): TokenBucket | undefined {
  const limit = options.rateLimit === undefined ? defaultLimit : options.rateLimit;
  return limit ? new TokenBucket(limit, options.clock) : undefined;
}

export function deliveryOptions(
  options: HttpChannelOptions,
  send: SendOptions | undefined,
): HttpDeliveryOptions {
  return {
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(send?.deadline === undefined ? {} : { deadline: send.deadline }),
  };
}
