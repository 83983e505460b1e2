import type { Alert } from '#lib/alerts/alert.ts';
import type { Clock } from '#lib/alerts/clock.ts';
import type { RateLimit } from '#lib/alerts/rate-limit.ts';
import { AirkickError } from '#lib/errors.ts';
import type { RetryPolicy } from '#lib/retry.ts';

export interface SendOptions {
  /** Epoch ms that bounds every attempt; no attempt or retry starts after it (a function's remaining time). */
  deadline?: number;
  /** Ends the delivery wherever it is (waiting, in flight, backing off) as a `TIMEOUT` naming the channel. */
  signal?: AbortSignal;
}

/** One destination for alerts. `send` resolves when the vendor accepted the message, else throws `AirkickError`. */
export interface AlertChannel {
  /** Stable name reported in delivery results, e.g. `slack`. */
  readonly name: string;
  send(alert: Alert, options?: SendOptions): Promise<void>;
}

/**
 * How an HTTP channel retries, with the backoff of `#lib/retry.ts`: `retries` counts the attempts after
 * the first, as `AIRKICK_ALERT_RETRIES` does.
 */
export interface ChannelRetry extends Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs'> {
  retries?: number;
}

/** Knobs shared by the HTTP channels; tests inject the clock, randomness and pacing. */
export interface HttpChannelOptions {
  /** Longest one attempt may take; the deadline may cut it shorter. */
  timeoutMs?: number;
  retry?: ChannelRetry;
  clock?: Clock;
  random?: () => number;
  /** Overrides the vendor's documented limit; `false` turns pacing off. */
  rateLimit?: RateLimit | false;
  /** Overrides the channel name, to tell two channels of one kind apart. */
  name?: string;
}

/** How a delivery the caller aborted ends, whatever it was doing at the time. */
export function abortedDelivery(channel: string, cause: unknown): AirkickError {
  return new AirkickError('TIMEOUT', `${channel}: delivery aborted by the caller`, { cause });
}
