import { describe, expect, it } from 'vitest';
import { TokenCache } from '#lib/auth/token-cache.ts';
import { AirkickError } from '#lib/errors.ts';
import { redactSecrets } from '#lib/secrets/redaction.ts';

describe('TokenCache', () => {
  it('shares one fetch between concurrent callers and reuses it until the safety margin', async () => {
    let now = 0;
    let issued = 0;
    const cache = new TokenCache(
      async () => {
        issued += 1;
        await new Promise((r) => setTimeout(r, 5));
        return { value: `token-${issued}`, expiresAt: now + 60_000 };
      },
      15_000,
      () => now,
    );
    const first = await Promise.all(Array.from({ length: 20 }, () => cache.get()));
    expect(new Set(first)).toEqual(new Set(['token-1']));
    now = 44_999;
    expect(await cache.get()).toBe('token-1');
    now = 45_000; // inside the margin: refresh before the server would reject it
    expect(await cache.get()).toBe('token-2');
    expect(cache.fetches).toBe(2);
  });

  it('invalidates only the value that was rejected', async () => {
    let issued = 0;
    const cache = new TokenCache(async () => ({ value: `t${++issued}`, expiresAt: Date.now() + 60_000 }), 0);
    const stale = await cache.get();
    cache.invalidate(stale);
    const fresh = await cache.get();
    cache.invalidate(stale); // a late caller with the old token must not drop the new one
    expect(await cache.get()).toBe(fresh);
    expect(cache.fetches).toBe(2);
  });

  it('masks the secrets of a live token in error messages and lets a failed fetch be retried', async () => {
    let fail = true;
    const cache = new TokenCache(async () => {
      if (fail) throw new Error('control plane down');
      return { value: 'x', expiresAt: Date.now() + 60_000, secrets: ['session-cookie-value-123'] };
    }, 0);
    await expect(cache.get()).rejects.toThrow('control plane down');
    fail = false;
    expect(await cache.get()).toBe('x');
    expect(new AirkickError('AUTH', 'rejected session-cookie-value-123').message).toBe('rejected ***');
  });
});

describe('TokenCache secrets and bounds', () => {
  it('stops masking an expired token once it is replaced, and masks the new one', async () => {
    let now = 0;
    let issued = 0;
    const cache = new TokenCache(
      async () => {
        issued += 1;
        const value = `expiring-secret-token-${issued}`;
        return { value, expiresAt: now + 60_000, secrets: [value] };
      },
      0,
      () => now,
    );
    await cache.get();
    expect(redactSecrets('a expiring-secret-token-1 b')).toBe('a *** b');
    now = 60_000;
    await cache.get();
    expect(redactSecrets('expiring-secret-token-1 expiring-secret-token-2')).toBe(
      'expiring-secret-token-1 ***',
    );
  });

  it('fetches within the bound of the caller that found it missing', async () => {
    const seen: unknown[] = [];
    const cache = new TokenCache(async (bound) => {
      seen.push(bound.deadline);
      return { value: 'v', expiresAt: Date.now() + 60_000 };
    }, 0);
    await Promise.all([cache.get({ deadline: 123 }), cache.get({ deadline: 456 })]);
    expect(seen).toEqual([123]);
  });
});
