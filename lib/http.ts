/** One HTTP attempt over fetch, with a deadline, turned into airkick's errors on failure. */
import { AirkickError, type ErrorCode, type ErrorInit } from './errors.ts';

export interface HttpCall {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | URLSearchParams;
  /** Epoch ms; the attempt is aborted when it passes. */
  deadline?: number;
  /** Upper bound for this attempt alone. */
  timeoutMs?: number;
  /** Aborts the attempt; it then fails as a `TIMEOUT` that is not retryable. */
  signal?: AbortSignal;
  /**
   * Names the request in error messages instead of its method and URL, for a URL that is itself a
   * credential (a webhook with its token in the path); the errors then carry no `url` either. With
   * `slack: https://hooks.slack.com`: "slack: https://hooks.slack.com: no answer within 500 ms".
   */
  target?: string;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export async function httpCall(call: HttpCall): Promise<HttpResult> {
  const budget = Math.min(
    call.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    (call.deadline ?? Number.POSITIVE_INFINITY) - Date.now(),
  );
  if (budget <= 0) throw failure(call, 'TIMEOUT', 'no time left before the deadline');
  const timeout = AbortSignal.timeout(budget);
  const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  try {
    const response = await fetch(call.url, {
      method: call.method,
      headers: call.headers ?? {},
      // A redirect is the answer, never followed: a followed POST becomes a GET that "succeeds"
      // without doing anything; callers treat a 3xx as an error unless a protocol step expects it.
      redirect: 'manual',
      signal,
      ...(call.body === undefined ? {} : { body: call.body }),
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  } catch (cause) {
    if (timeout.aborted) {
      throw failure(call, 'TIMEOUT', `no answer within ${budget} ms`, { retryable: true, cause });
    }
    if (call.signal?.aborted) {
      // The invocation's own signal fires at its deadline (a TimeoutError); anything else is a caller's abort.
      const why =
        (call.signal.reason as Error | undefined)?.name === 'TimeoutError'
          ? "the invocation's deadline came first"
          : 'aborted by the caller';
      throw failure(call, 'TIMEOUT', why, { cause });
    }
    const detail =
      cause instanceof Error && cause.cause instanceof Error ? cause.cause.message : String(cause);
    throw failure(call, 'TRANSPORT', `network error: ${detail}`, { retryable: true, cause });
  }
}

function failure(call: HttpCall, code: ErrorCode, message: string, init: ErrorInit = {}): AirkickError {
  return call.target === undefined
    ? new AirkickError(code, message, { method: call.method, url: call.url, ...init })
    : new AirkickError(code, `${call.target}: ${message}`, init);
}

export function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `Retry-After` as ms (seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
