import { type Clock, systemClock } from '#lib/alerts/clock.ts';

export interface RateLimit {
  /** Requests that may go out back to back. */
  burst: number;
  /** Sustained rate, in requests per second. */
  perSecond: number;
}

/** An in-process token bucket that makes callers wait their turn, first come first served. */
export class TokenBucket {
  readonly #limit: RateLimit;
  readonly #clock: Clock;
  #tokens: number;
  #updatedAt: number;
  #queue: Promise<void> = Promise.resolve();

  constructor(limit: RateLimit, clock: Clock = systemClock) {
    if (!(limit.burst >= 1) || !(limit.perSecond > 0))
      throw new RangeError('rate limit needs burst >= 1 and perSecond > 0');
    this.#limit = limit;
    this.#clock = clock;
    this.#tokens = limit.burst;
    this.#updatedAt = clock.now();
  }

  /** Resolves when the caller may send one request. */
  take(): Promise<void> {
    const turn = this.#queue.then(() => this.#acquire());
    this.#queue = turn.catch(() => {});
    return turn;
  }

  async #acquire(): Promise<void> {
    for (;;) {
      this.#refill();
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.#clock.sleep(Math.ceil(((1 - this.#tokens) / this.#limit.perSecond) * 1000));
    }
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#updatedAt) / 1000;
    this.#tokens = Math.min(this.#limit.burst, this.#tokens + elapsed * this.#limit.perSecond);
    this.#updatedAt = now;
  }
}
