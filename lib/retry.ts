/** Exponential backoff with full jitter, bounded by attempts and by the caller's deadline. */
import { AirkickError, isAirkickError } from './errors.ts';

export interface RetryPolicy {
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Epoch ms; no retry is started that could not sleep and still begin before it. */
  deadline?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retries `attempt` while it throws an AirkickError marked `retryable` (or `isRetryable` says so). */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy = {},
  isRetryable: (error: unknown) => boolean = (error) => isAirkickError(error) && error.retryable,
): Promise<T> {
  const maxAttempts = policy.maxAttempts ?? 4;
  const base = policy.baseDelayMs ?? 200;
  const cap = policy.maxDelayMs ?? 5_000;
  const random = policy.random ?? Math.random;
  const wait = policy.sleep ?? sleep;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= maxAttempts || !isRetryable(error)) throw error;
      const backoff = random() * Math.min(cap, base * 2 ** (n - 1));
      const hinted = error instanceof AirkickError ? (error.retryAfterMs ?? 0) : 0;
      const delay = Math.max(backoff, Math.min(hinted, cap * 6));
      if (policy.deadline !== undefined && Date.now() + delay >= policy.deadline) throw error;
      await wait(delay);
    }
  }
}
