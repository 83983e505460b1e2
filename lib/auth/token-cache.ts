/**
 * Caches one expiring credential (token, session cookie) across warm invocations: refreshed a safety
 * margin before it expires, fetched once for any number of concurrent callers (single flight).
 */
import type { Bound } from '#lib/deadline.ts';
import { forgetSecret, registerSecret } from '#lib/secrets/redaction.ts';

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
    private readonly fetcher: (bound: Bound) => Promise<Expiring<T>>,
    private readonly marginMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached value, or a fresh one fetched within `bound` (the first caller's, when several wait). */
  async get(bound: Bound = {}): Promise<T> {
    const current = this.#current;
    if (current && this.now() < current.expiresAt - this.marginMs) return current.value;
    if (current) this.#drop(current);
    this.#pending ??= this.#refresh(bound);
    return (await this.#pending).value;
  }

  /** Drops the cached value, but only if it is still `stale` (another caller may have refreshed it). */
  invalidate(stale?: T): void {
    this.invalidateIf((value) => stale === undefined || value === stale);
  }

  /** Drops the cached value when `stale` says so of it. */
  invalidateIf(stale: (value: T) => boolean): void {
    if (this.#current && stale(this.#current.value)) this.#drop(this.#current);
  }

  /** An expired or rejected value is forgotten, its secrets too: the set of masked strings stays small. */
  #drop(current: Expiring<T>): void {
    for (const secret of current.secrets ?? []) forgetSecret(secret);
    if (this.#current === current) this.#current = undefined;
  }

  async #refresh(bound: Bound): Promise<Expiring<T>> {
    try {
      this.fetches += 1;
      const next = await this.fetcher(bound);
      for (const secret of next.secrets ?? []) registerSecret(secret);
      this.#current = next;
      return next;
    } finally {
      this.#pending = undefined;
    }
  }
}
