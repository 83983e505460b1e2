import { randomBytes } from 'node:crypto';

/**
 * Tokens (CLI/web/login tokens, session ids, session JWTs) that stop working after a fixed lifetime.
 * An expired token is remembered as expired, so a gateway can tell it from one it never issued.
 */
export class TokenStore<T> {
  readonly #entries = new Map<string, { value: T; expiresAt: number }>();

  constructor(readonly ttlMs: number) {}

  /** Issues `token` (by default a new random one) for `value`, valid for the store's lifetime from now. */
  issue(value: T, token = randomBytes(24).toString('base64url')): { token: string; expiresAt: number } {
    const expiresAt = Date.now() + this.ttlMs;
    this.#entries.set(token, { value, expiresAt });
    return { token, expiresAt };
  }

  /** The value a live token was issued for; `undefined` for unknown or expired tokens. */
  get(token: string | undefined): T | undefined {
    return this.status(token) === 'live' ? this.#entries.get(token as string)?.value : undefined;
  }

  /** Whether this store issued `token` and whether it still lives. */
  status(token: string | undefined): 'live' | 'expired' | 'unknown' {
    const entry = token === undefined ? undefined : this.#entries.get(token);
    if (!entry) return 'unknown';
    return Date.now() < entry.expiresAt ? 'live' : 'expired';
  }

  /** Like `get`, and the token stops working: for one-time tokens. */
  consume(token: string | undefined): T | undefined {
    const value = this.get(token);
    if (value !== undefined) this.#entries.delete(token as string);
    return value;
  }
}
