import { AirkickError, codeForStatus, type ErrorCode, redactSecrets } from '#lib/errors.ts';
import { type Clock, systemClock } from './clock.ts';
import type { TokenBucket } from './rate-limit.ts';
import { backoffDelay, DEFAULT_RETRY, parseRetryAfter, type RetryPolicy } from './retry.ts';

export interface HttpRequest {
  url: string;
  body: string;
  headers?: Record<string, string>;
}

/** A failure the vendor reports inside a successful HTTP answer (DingTalk `errcode`, Feishu `code`). */
export interface VendorError {
  message: string;
  code?: ErrorCode;
}

export interface HttpDeliveryOptions {
  timeoutMs?: number;
  retry?: RetryPolicy;
  /** Epoch ms after which no new attempt starts (a function's remaining time). */
  deadline?: number;
  clock?: Clock;
  random?: () => number;
  fetch?: typeof fetch;
}

export interface HttpDelivery {
  /** Channel name used in error messages. */
  channel: string;
  /** Called for every attempt, so signatures and timestamps are fresh after a backoff. */
  request: (now: number) => HttpRequest;
  /** Inspects a 2xx answer; returns the vendor error when the body reports one. */
  check?: (body: string) => VendorError | undefined;
  limiter?: TokenBucket | undefined;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * POSTs with a per-attempt timeout, retrying network errors, 429 and 5xx with exponential backoff and
 * jitter (or the server's `Retry-After`). Messages name the channel and the host, never the full URL:
 * webhook URLs carry their token in the path.
 */
export async function postJson(delivery: HttpDelivery, options: HttpDeliveryOptions = {}): Promise<void> {
  const clock = options.clock ?? systemClock;
  const retry = options.retry ?? DEFAULT_RETRY;
  const doFetch = options.fetch ?? fetch;
  for (let attempt = 0; ; attempt++) {
    await delivery.limiter?.take();
    const error = await attemptOnce(delivery, doFetch, clock.now(), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (error === undefined) return;
    if (!error.retryable || attempt >= retry.retries) throw error;
    const wait = error.retryAfterMs ?? backoffDelay(attempt, retry, options.random);
    if (options.deadline !== undefined && clock.now() + wait >= options.deadline) throw error;
    await clock.sleep(wait);
  }
}

async function attemptOnce(
  delivery: HttpDelivery,
  doFetch: typeof fetch,
  now: number,
  timeoutMs: number,
): Promise<AirkickError | undefined> {
  const request = delivery.request(now);
  const where = safeOrigin(request.url);
  let response: Response;
  let text: string;
  try {
    response = await doFetch(request.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...request.headers },
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (cause) {
    const timedOut = cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
    return new AirkickError(
      timedOut ? 'TIMEOUT' : 'TRANSPORT',
      timedOut
        ? `${delivery.channel}: no answer from ${where} within ${timeoutMs} ms`
        : `${delivery.channel}: could not reach ${where}: ${describe(cause)}`,
      { retryable: true, cause },
    );
  }
  const code = codeForStatus(response.status);
  if (code !== undefined) {
    const retryable = response.status === 429 || response.status >= 500;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now);
    return new AirkickError(
      code,
      `${delivery.channel}: ${where} answered HTTP ${response.status}${excerpt(text)}`,
      { status: response.status, retryable, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
    );
  }
  const vendor = delivery.check?.(text);
  if (vendor !== undefined) {
    return new AirkickError(
      vendor.code ?? 'BAD_REQUEST',
      `${delivery.channel}: ${where} refused the message: ${vendor.message}`,
      {
        status: response.status,
      },
    );
  }
  return undefined;
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid URL';
  }
}

function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return 'unknown error';
  const inner = cause.cause instanceof Error ? ` (${cause.cause.message})` : '';
  return redactSecrets(`${cause.message}${inner}`).slice(0, 300);
}

function excerpt(text: string): string {
  const trimmed = text.trim();
  return trimmed === '' ? '' : `: ${trimmed.slice(0, 200)}`;
}

/** Parses a vendor's JSON answer; a non-JSON 2xx body is the vendor saying something unexpected. */
export function parseVendorJson(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
