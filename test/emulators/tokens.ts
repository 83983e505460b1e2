import { randomBytes } from 'node:crypto';

/** Opaque random tokens (CLI/web/login tokens, session ids) that stop working after a fixed lifetime. */
export class TokenStore<T> {
  readonly #entries = new Map<string, { value: T; expiresAt: number }>();

  constructor(readonly ttlMs: number) {}

  issue(value: T): { token: string; expiresAt: number } {
    const token = randomBytes(24).toString('base64url');
    const expiresAt = Date.now() + this.ttlMs;
    this.#entries.set(token, { value, expiresAt });
    return { token, expiresAt };
  }

  /** The value a live token was issued for; `undefined` for unknown or expired tokens. */
  get(token: string | undefined): T | undefined {
    if (token === undefined) return undefined;
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    if (Date.now() >= entry.expiresAt) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry.value;
  }
}
