import { describe, expect, it } from 'vitest';
import { AirkickError } from '#lib/errors.ts';
import { withRetry } from '#lib/retry.ts';

const retryable = (status: number, retryAfterMs?: number) =>
  new AirkickError('SERVER', `HTTP ${status}`, {
    status,
    retryable: true,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });

describe('withRetry', () => {
  it('backs off exponentially with jitter and succeeds', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls += 1;
        if (calls < 4) throw retryable(503);
        return 'ok';
      },
      { random: () => 1, baseDelayMs: 100, sleep: async (ms) => void sleeps.push(ms) },
    );
    expect(result).toBe('ok');
    expect(sleeps).toEqual([100, 200, 400]);
  });

  it('honours Retry-After', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    await withRetry(
      async () => {
        if (calls++ === 0) throw retryable(429, 2_000);
        return 1;
      },
      { random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) },
    );
    expect(sleeps).toEqual([2_000]);
  });

  it('never retries a non-retryable error, and stops at the deadline', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls += 1;
        throw new AirkickError('CONFLICT', 'exists', { status: 409 });
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(calls).toBe(1);

    calls = 0;
    await expect(
      withRetry(
        async () => {
          calls += 1;
          throw retryable(502);
        },
        { deadline: Date.now() + 50, baseDelayMs: 1_000, random: () => 1 },
      ),
    ).rejects.toMatchObject({ status: 502 });
    expect(calls).toBe(1);
  });
});
