import type { Alert } from './alert.ts';
import type { Clock } from './clock.ts';
import type { RateLimit } from './rate-limit.ts';
import type { RetryPolicy } from './retry.ts';

export interface SendOptions {
  /** Epoch ms after which no retry starts (a function's remaining time). */
  deadline?: number;
}

/** One destination for alerts. `send` resolves when the vendor accepted the message, else throws `AirkickError`. */
export interface AlertChannel {
  /** Stable name reported in delivery results, e.g. `slack`. */
  readonly name: string;
  send(alert: Alert, options?: SendOptions): Promise<void>;
}

/** Knobs shared by the HTTP channels; tests inject the clock, randomness and pacing. */
export interface HttpChannelOptions {
  timeoutMs?: number;
  retry?: RetryPolicy;
  clock?: Clock;
  random?: () => number;
  /** Overrides the vendor's documented limit; `false` turns pacing off. */
  rateLimit?: RateLimit | false;
  /** Overrides the channel name, to tell two channels of one kind apart. */
  name?: string;
}
