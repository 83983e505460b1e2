/**
 * The one retry rule of airkick (Airflow client, token providers, alert delivery): exponential backoff
 * with full jitter, bounded by attempts, the caller's deadline and its abort signal.
 *
 * Full jitter (a wait anywhere from 0 to the exponential step) rather than equal jitter (at least half
 * the step): airkick's heaviest retry load is an upload storm, many invocations retrying against one
 * webserver at once, where full jitter spreads the retries widest and costs the least total work (AWS
 * Architecture Blog, "Exponential Backoff and Jitter"; the AWS SDKs use it too). The case for equal
 * jitter, never retrying at once against a server that asked for a pause, is covered by honouring its
 * `Retry-After`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { AirkickError, isAirkickError } from '#lib/errors.ts';

export interface RetryPolicy {
  /** Attempts in all, the first one included; default 4. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Longest wait a server's `Retry-After` is granted; a longer hint waits this long; default 30 s. */
  maxRetryAfterMs?: number;
  /** Epoch ms; no retry is started that could not sleep and still begin before it. */
  deadline?: number;
  /**
   * Ends the retries: a backoff sleep ends at once and no further attempt starts. The attempt in
   * flight is the attempt's to end: pass the same signal to it (as `httpCall` takes it).
   */
  signal?: AbortSignal;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_MAX_RETRY_AFTER_MS = 30_000;

// Clears its timer on abort, so a cancelled backoff does not hold a CLI process open.
const sleep = (ms: number, signal?: AbortSignal) =>
  delay(ms, undefined, signal ? { signal } : {}).catch(() => {});

/**
 * Retries `attempt` while it throws an AirkickError marked `retryable` (or `isRetryable` says so).
 * When the attempts, the deadline or the signal stop it, the last attempt's error is thrown.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy = {},
  isRetryable: (error: unknown) => boolean = (error) => isAirkickError(error) && error.retryable,
): Promise<T> {
  const maxAttempts = policy.maxAttempts ?? 4;
  const base = policy.baseDelayMs ?? 200;
  const cap = policy.maxDelayMs ?? 5_000;
  const maxHint = policy.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const random = policy.random ?? Math.random;
  const { signal } = policy;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= maxAttempts || !isRetryable(error) || signal?.aborted) throw error;
      const backoff = random() * Math.min(cap, base * 2 ** (n - 1));
      const hinted = error instanceof AirkickError ? (error.retryAfterMs ?? 0) : 0;
      const wait = Math.max(backoff, Math.min(hinted, maxHint));
      if (policy.deadline !== undefined && Date.now() + wait >= policy.deadline) throw error;
      await pause(wait, policy.sleep, signal);
      if (signal?.aborted) throw error;
    }
  }
}

/** Sleeps `ms`, or less when `signal` aborts first, whatever the injected sleep does with it. */
async function pause(
  ms: number,
  injected: ((ms: number) => Promise<void>) | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (injected === undefined) return sleep(ms, signal);
  if (signal === undefined) return injected(ms);
  let wake = () => {};
  const aborted = new Promise<void>((resolve) => {
    wake = resolve;
    signal.addEventListener('abort', wake, { once: true });
  });
  try {
    await Promise.race([injected(ms), aborted]);
  } finally {
    signal.removeEventListener('abort', wake);
  }
}
