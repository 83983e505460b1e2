import { describe, expect, it } from 'vitest';
import { AirkickError } from '#lib/errors.ts';
import { type RetryPolicy, withRetry } from '#lib/retry.ts';

const retryable = (status: number, retryAfterMs?: number) =>
  new AirkickError('SERVER', `HTTP ${status}`, {
    status,
    retryable: true,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });

/** Runs withRetry over attempts that fail with `errors` in turn, then succeed; records every sleep. */
async function run(errors: AirkickError[], policy: RetryPolicy = {}) {
  const sleeps: number[] = [];
  let calls = 0;
  const outcome = await withRetry(
    async () => {
      const error = errors[calls++];
      if (error) throw error;
      return 'ok';
    },
    { sleep: async (ms) => void sleeps.push(ms), ...policy },
  ).catch((error: unknown) => error);
  return { outcome, calls, sleeps };
}

describe('withRetry', () => {
  it('backs off exponentially with jitter and succeeds', async () => {
    const { outcome, sleeps } = await run([retryable(503), retryable(503), retryable(503)], {
      random: () => 1,
      baseDelayMs: 100,
    });
    expect(outcome).toBe('ok');
    expect(sleeps).toEqual([100, 200, 400]);
  });

  it('draws each wait anywhere from 0 to the exponential step (full jitter), the step capped', async () => {
    const errors = () => Array.from({ length: 5 }, () => retryable(503));
    const policy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 500 };
    expect((await run(errors(), { ...policy, random: () => 0 })).sleeps).toEqual([0, 0, 0, 0, 0]);
    expect((await run(errors(), { ...policy, random: () => 0.5 })).sleeps).toEqual([50, 100, 200, 250, 250]);
    expect((await run(errors(), { ...policy, random: () => 1 })).sleeps).toEqual([100, 200, 400, 500, 500]);
  });

  it('stops after maxAttempts with the last attempt’s error', async () => {
    const last = retryable(504);
    const { outcome, calls } = await run([retryable(502), retryable(503), last], { maxAttempts: 3 });
    expect(outcome).toBe(last);
    expect(calls).toBe(3);
  });

  it('honours Retry-After, capped by maxRetryAfterMs', async () => {
    expect((await run([retryable(429, 2_000)], { random: () => 0.5 })).sleeps).toEqual([2_000]);
    expect((await run([retryable(429, 3_600_000)], { random: () => 0 })).sleeps).toEqual([30_000]);
    const capped = await run([retryable(429, 60_000)], { random: () => 0, maxRetryAfterMs: 1_000 });
    expect(capped.sleeps).toEqual([1_000]);
    expect(capped.outcome).toBe('ok');
  });

  it('never retries a non-retryable error, and starts no retry that would begin after the deadline', async () => {
    const conflict = new AirkickError('CONFLICT', 'exists', { status: 409 });
    expect(await run([conflict])).toMatchObject({ outcome: conflict, calls: 1 });

    const deadline = Date.now() + 5_000;
    const hinted = await run([retryable(429, 10_000)], { deadline });
    expect(hinted).toMatchObject({ calls: 1, sleeps: [] });
    expect(hinted.outcome).toMatchObject({ status: 429 });
    const backoff = await run([retryable(502)], {
      deadline: Date.now() + 50,
      baseDelayMs: 1_000,
      random: () => 1,
    });
    expect(backoff).toMatchObject({ calls: 1, sleeps: [] });
  });

  it('ends a backoff at once when the signal aborts, and starts no further attempt', async () => {
    const last = retryable(503);
    let calls = 0;
    const started = Date.now();
    const outcome = await withRetry(
      async () => {
        calls += 1;
        throw last;
      },
      { baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 1, signal: AbortSignal.timeout(100) },
    ).catch((error: unknown) => error);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(outcome).toBe(last);
    expect(calls).toBe(1);
  });

  it('ends the wait even when an injected sleep ignores the signal', async () => {
    const controller = new AbortController();
    const { outcome, calls } = await run([retryable(503), retryable(503)], {
      signal: controller.signal,
      sleep: async () => {
        controller.abort();
        await new Promise(() => {});
      },
    });
    expect(outcome).toMatchObject({ status: 503 });
    expect(calls).toBe(1);
  });
});
