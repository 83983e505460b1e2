import { describe, expect, it } from 'vitest';
import type { AirkickError } from '#lib/errors.ts';
import { httpCall, retryAfterMs } from '#lib/http.ts';
import { withRetry } from '#lib/retry.ts';
import { scriptedServers } from './alerts/scripted-server.ts';

const serve = scriptedServers();

const rejection = (work: Promise<unknown>) =>
  work.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error as AirkickError,
  );

describe('httpCall', () => {
  it('bounds the attempt by the deadline when that comes before its own timeout', async () => {
    const server = await serve(['hang']);
    const started = Date.now();
    const error = await rejection(
      httpCall({ method: 'GET', url: `${server.url}/slow`, timeoutMs: 10_000, deadline: Date.now() + 200 }),
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(error.message).toMatch(new RegExp(`^no answer within \\d+ ms \\(GET ${server.url}/slow\\)$`));
  });

  it('starts nothing once the deadline has passed', async () => {
    const server = await serve([{ status: 200 }]);
    const error = await rejection(httpCall({ method: 'GET', url: server.url, deadline: Date.now() - 1 }));
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: false });
    expect(server.requests).toEqual([]);
  });

  it('names a target instead of the URL when one is given, and keeps no URL', async () => {
    const server = await serve(['drop']);
    const error = await rejection(
      httpCall({ method: 'POST', url: `${server.url}/hook/secret-path`, target: `slack: ${server.url}` }),
    );
    expect(error).toMatchObject({ code: 'TRANSPORT', retryable: true, url: undefined });
    expect(error.message).toMatch(new RegExp(`^slack: ${server.url}: network error: `));
    expect(error.message).not.toContain('secret-path');
  });

  it('ends an attempt in flight when the signal aborts, and withRetry retries nothing after it', async () => {
    const server = await serve(['hang']);
    const signal = AbortSignal.timeout(100);
    const started = Date.now();
    const error = await rejection(
      withRetry(() => httpCall({ method: 'GET', url: server.url, signal }), { signal, maxAttempts: 4 }),
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: false });
    expect(error.message).toMatch(/^aborted by the caller/);
    expect(server.requests).toHaveLength(1);
  });
});

describe('retryAfterMs', () => {
  const headers = (value?: string) => new Headers(value === undefined ? {} : { 'retry-after': value });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs(headers('2'))).toBe(2_000);
    expect(retryAfterMs(headers('0.5'))).toBe(500);
    expect(retryAfterMs(headers(new Date(10_000).toUTCString()), 7_000)).toBe(3_000);
    expect(retryAfterMs(headers(new Date(1_000).toUTCString()), 7_000)).toBe(0);
    expect(retryAfterMs(headers('soon'))).toBeUndefined();
    expect(retryAfterMs(headers())).toBeUndefined();
  });
});
