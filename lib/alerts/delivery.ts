import { abortedDelivery, type HttpChannelOptions, type SendOptions } from '#lib/alerts/channel.ts';
import { systemClock } from '#lib/alerts/clock.ts';
import type { TokenBucket } from '#lib/alerts/rate-limit.ts';
import { boundSignal, untilAborted } from '#lib/deadline.ts';
import { AirkickError, codeForStatus, type ErrorCode } from '#lib/errors.ts';
import { bodyExcerpt, httpCall, type ResponseHeaders, retryAfterMs } from '#lib/http.ts';
import { withRetry } from '#lib/retry.ts';

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

export type HttpDeliveryOptions = Pick<HttpChannelOptions, 'timeoutMs' | 'retry' | 'clock' | 'random'>;

export interface HttpDelivery {
  /** Channel name used in error messages. */
  channel: string;
  /** Called for every attempt, so signatures and timestamps are fresh after a backoff. */
  request: (now: number) => HttpRequest;
  /** Inspects a 2xx answer; returns the vendor error when the body reports one. */
  check?: (body: string) => VendorError | undefined;
  limiter?: TokenBucket | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRIES = 3;
// Webhook vendors throttle per minute, not per second: back off longer than the Airflow client does.
const DEFAULT_BASE_DELAY_MS = 500;
const DEFAULT_MAX_DELAY_MS = 20_000;

/**
 * POSTs the channel's request, one attempt at a time through `httpCall` and retried by `withRetry`:
 * network errors, 429 and 5xx with backoff (or the server's `Retry-After`, capped). Each attempt waits
 * for its turn under the vendor's rate limit and gets at most `timeoutMs` and never more than is left
 * before the deadline. Messages name the channel and the origin, never the full URL: webhook URLs
 * carry their token in the path or query.
 */
export async function postJson(
  delivery: HttpDelivery,
  options: HttpDeliveryOptions = {},
  send: SendOptions = {},
): Promise<void> {
  const clock = options.clock ?? systemClock;
  const retry = options.retry ?? {};
  const attempt = async () => {
    await takeTurn(delivery, send);
    const request = delivery.request(clock.now());
    const target = `${delivery.channel}: ${originOf(delivery.channel, request.url)}`;
    const response = await httpCall({
      method: 'POST',
      url: request.url,
      headers: { 'content-type': 'application/json; charset=utf-8', ...request.headers },
      body: request.body,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      target,
      ...send,
    });
    const error = answerError(delivery, target, response.status, response.headers, response.text);
    if (error) throw error;
  };
  try {
    await withRetry(attempt, {
      maxAttempts: (retry.retries ?? DEFAULT_RETRIES) + 1,
      baseDelayMs: retry.baseDelayMs ?? DEFAULT_BASE_DELAY_MS,
      maxDelayMs: retry.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
      ...(retry.maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs: retry.maxRetryAfterMs }),
      ...(options.random === undefined ? {} : { random: options.random }),
      // An injected clock paces the backoff too; the default sleep is cancelled by the signal.
      ...(options.clock === undefined ? {} : { sleep: (ms: number) => clock.sleep(ms) }),
      ...send,
    });
  } catch (error) {
    throw send.signal?.aborted ? abortedDelivery(delivery.channel, error) : error;
  }
}

/** Waits for a turn under the vendor's rate limit, but not past the deadline. */
async function takeTurn(delivery: HttpDelivery, send: SendOptions): Promise<void> {
  if (delivery.limiter === undefined) return;
  const { channel } = delivery;
  await untilAborted(delivery.limiter.take(), boundSignal(send), channel).catch((cause: unknown) => {
    throw new AirkickError('TIMEOUT', `${channel}: no turn under the rate limit before the deadline`, {
      cause,
    });
  });
}

/** The URL's origin, the one part of a webhook URL that is safe to show. */
function originOf(channel: string, url: string): string {
  if (!URL.canParse(url)) throw new AirkickError('CONFIG', `${channel}: the webhook URL is not a valid URL`);
  return new URL(url).origin;
}

/** The error an answer means: its status, or a refusal the vendor reports in a 2xx body. */
function answerError(
  delivery: HttpDelivery,
  target: string,
  status: number,
  headers: ResponseHeaders,
  text: string,
): AirkickError | undefined {
  const code = codeForStatus(status);
  if (code !== undefined) {
    // Unlike the Airflow client, a 500 is retried: a repeated alert is better than a lost one.
    const retryable = status === 429 || status >= 500;
    const wait = retryAfterMs(headers);
    const location = code === 'REDIRECT' ? headers.get('location') : null;
    const where = location && URL.canParse(location) ? ` redirecting to ${new URL(location).origin}` : '';
    return new AirkickError(
      code,
      `${target} answered HTTP ${status}${where}${text.trim() ? `: ${bodyExcerpt(text)}` : ''}`,
      {
        status,
        retryable,
        ...(wait === undefined ? {} : { retryAfterMs: wait }),
      },
    );
  }
  const vendor = delivery.check?.(text);
  if (vendor === undefined) return undefined;
  return new AirkickError(vendor.code ?? 'BAD_REQUEST', `${target} refused the message: ${vendor.message}`, {
    status,
  });
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
