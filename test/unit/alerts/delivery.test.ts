import { describe, expect, it } from 'vitest';
import { postJson } from '#lib/alerts/http.ts';
import { TokenBucket } from '#lib/alerts/rate-limit.ts';
import { backoffDelay, parseRetryAfter } from '#lib/alerts/retry.ts';
import { isAirkickError } from '#lib/errors.ts';
import { fakeClock } from './fake-clock.ts';

type Answer = { status: number; body?: string; headers?: Record<string, string> } | Error;

/** A scripted `fetch`: no network, one answer per call. */
function scriptedFetch(answers: Answer[]) {
  const calls: string[] = [];
  const fn = (async (url: string | URL | Request) => {
    calls.push(String(url));
    const next = answers.shift();
    if (next === undefined) throw new Error('unexpected call');
    if (next instanceof Error) throw next;
    return new Response(next.body ?? '', { status: next.status, headers: next.headers ?? {} });
  }) as typeof fetch;
  return { fn, calls };
}

const retry = { retries: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

describe('retry helpers', () => {
  it('grows exponentially with jitter between half and the full step, capped', () => {
    expect(backoffDelay(0, retry, () => 0)).toBe(50);
    expect(backoffDelay(0, retry, () => 1)).toBe(100);
    expect(backoffDelay(2, retry, () => 0.5)).toBe(300);
    expect(backoffDelay(10, retry, () => 1)).toBe(1_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2_000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 7_000)).toBe(3_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('postJson', () => {
  it('retries 429 after exactly Retry-After and 5xx/network errors with backoff, then succeeds', async () => {
    const clock = fakeClock();
    const { fn, calls } = scriptedFetch([
      { status: 429, headers: { 'retry-after': '3' } },
      { status: 500 },
      new TypeError('fetch failed'),
      { status: 200, body: 'ok' },
    ]);
    await postJson(
      { channel: 'test', request: () => ({ url: 'https://example.com/hook', body: '{}' }) },
      { fetch: fn, clock, retry, random: () => 0 },
    );
    expect(calls).toHaveLength(4);
    expect(clock.sleeps).toEqual([3_000, 100, 200]);
  });

  it('gives up after the configured retries with a typed error naming channel and host, not the path', async () => {
    const clock = fakeClock();
    const { fn, calls } = scriptedFetch(Array.from({ length: 4 }, () => ({ status: 503 })));
    const error = await postJson(
      {
        channel: 'slack',
        request: () => ({ url: 'https://hooks.example.com/services/SECRETPATH', body: '{}' }),
      },
      { fetch: fn, clock, retry },
    ).catch((e: unknown) => e);
    expect(calls).toHaveLength(4);
    expect(isAirkickError(error, 'SERVER')).toBe(true);
    expect((error as Error).message).toBe('slack: https://hooks.example.com answered HTTP 503');
  });

  it('does not retry a 4xx or a vendor error in a 200 body', async () => {
    const clock = fakeClock();
    const bad = scriptedFetch([{ status: 400, body: 'invalid_payload' }]);
    const e1 = await postJson(
      { channel: 'slack', request: () => ({ url: 'https://x.example/h', body: '{}' }) },
      { fetch: bad.fn, clock, retry },
    ).catch((e: unknown) => e);
    expect(isAirkickError(e1, 'BAD_REQUEST')).toBe(true);
    expect((e1 as Error).message).toContain('invalid_payload');
    expect(bad.calls).toHaveLength(1);

    const vendor = scriptedFetch([{ status: 200, body: '{"errcode":310000,"errmsg":"sign not match"}' }]);
    const e2 = await postJson(
      {
        channel: 'dingtalk',
        request: () => ({ url: 'https://x.example/h', body: '{}' }),
        check: (body) => (JSON.parse(body).errcode === 0 ? undefined : { message: 'sign not match' }),
      },
      { fetch: vendor.fn, clock, retry },
    ).catch((e: unknown) => e);
    expect((e2 as Error).message).toBe('dingtalk: https://x.example refused the message: sign not match');
    expect(vendor.calls).toHaveLength(1);
  });

  it('builds a fresh request (new signature timestamp) for every attempt', async () => {
    const clock = fakeClock(1_000);
    const { fn, calls } = scriptedFetch([{ status: 502 }, { status: 200 }]);
    await postJson(
      { channel: 't', request: (now) => ({ url: `https://x.example/h?t=${now}`, body: '{}' }) },
      { fetch: fn, clock, retry, random: () => 0 },
    );
    expect(calls).toEqual(['https://x.example/h?t=1000', 'https://x.example/h?t=1050']);
  });

  it('starts no retry that would end after the deadline', async () => {
    const clock = fakeClock(0);
    const { fn, calls } = scriptedFetch([{ status: 429, headers: { 'retry-after': '60' } }, { status: 200 }]);
    const error = await postJson(
      { channel: 't', request: () => ({ url: 'https://x.example/h', body: '{}' }) },
      { fetch: fn, clock, retry, deadline: 10_000 },
    ).catch((e: unknown) => e);
    expect(isAirkickError(error, 'RATE_LIMITED')).toBe(true);
    expect(calls).toHaveLength(1);
  });
});

describe('TokenBucket', () => {
  it('lets a burst through, then paces at the sustained rate, in arrival order', async () => {
    const clock = fakeClock(0);
    const bucket = new TokenBucket({ burst: 2, perSecond: 0.5 }, clock);
    const order: [number, number][] = [];
    await Promise.all([0, 1, 2, 3].map((i) => bucket.take().then(() => order.push([i, clock.now()]))));
    expect(order).toEqual([
      [0, 0],
      [1, 0],
      [2, 2_000],
      [3, 4_000],
    ]);
  });

  it('never lets more than the documented limit through in any window of the vendor', async () => {
    // DingTalk: 20 per minute. Send 60 and count the worst sliding minute.
    const clock = fakeClock(0);
    const bucket = new TokenBucket({ burst: 10, perSecond: 10 / 60 }, clock);
    const times: number[] = [];
    for (let i = 0; i < 60; i++) {
      await bucket.take();
      times.push(clock.now());
    }
    const worst = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 60_000).length));
    expect(worst).toBeLessThanOrEqual(20);
  });
});
