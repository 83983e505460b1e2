/**
 * Caches one expiring credential (token, session cookie) across warm invocations: refreshed a safety
 * margin before it expires, fetched once for any number of concurrent callers (single flight).
 */
import { forgetSecret, registerSecret } from '../errors.ts';

export interface Expiring<T> {
  value: T;
  /** Epoch ms. */
  expiresAt: number;
  /** Secret strings inside `value`, masked in every message while they live. */
  secrets?: string[];
}

export class TokenCache<T> {
  #current: Expiring<T> | undefined;
  #pending: Promise<Expiring<T>> | undefined;
  /** How many times the fetcher ran (for tests and benchmarks). */
  fetches = 0;

  constructor(
    private readonly fetcher: () => Promise<Expiring<T>>,
    private readonly marginMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<T> {
    const current = this.#current;
    if (current && this.now() < current.expiresAt - this.marginMs) return current.value;
    this.#pending ??= this.#refresh();
    return (await this.#pending).value;
  }

  /** Drops the cached value, but only if it is still `stale` (another caller may have refreshed it). */
  invalidate(stale?: T): void {
    this.invalidateIf((value) => stale === undefined || value === stale);
  }

  /** Drops the cached value when `stale` says so of it. */
  invalidateIf(stale: (value: T) => boolean): void {
    if (this.#current && stale(this.#current.value)) {
      for (const secret of this.#current?.secrets ?? []) forgetSecret(secret);
      this.#current = undefined;
    }
  }

  async #refresh(): Promise<Expiring<T>> {
    try {
      this.fetches += 1;
      const next = await this.fetcher();
      for (const secret of next.secrets ?? []) registerSecret(secret);
      this.#current = next;
      return next;
    } finally {
      this.#pending = undefined;
    }
  }
}
