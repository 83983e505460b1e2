/**
 * An invocation's time, as every call below a job sees it: a deadline (epoch ms) and the platform's
 * abort signal. HTTP calls take both directly; SDK calls take the signal made here; calls that cannot
 * be cancelled (a vendor client without an abort option) are raced against it, so the caller stops
 * waiting even when the work does not.
 */
import { AirkickError } from '#lib/errors.ts';

/** The time a call has: a deadline and an abort signal, either optional; without both it is unbounded. */
export interface Bound {
  /** Epoch ms by which the call must have finished, retries included. */
  deadline?: number;
  /** Aborts when the invocation is about to end (Lambda's early timeout, FC's timer). */
  signal?: AbortSignal;
}

/** The time left before `bound.deadline` (Infinity when there is none), never negative. */
export function remainingMs(bound: Bound, now = Date.now()): number {
  return bound.deadline === undefined ? Number.POSITIVE_INFINITY : Math.max(0, bound.deadline - now);
}

/** One signal for a bound: aborts with the caller's signal or when the deadline passes; undefined when unbounded. */
export function boundSignal(bound: Bound = {}): AbortSignal | undefined {
  const signals: AbortSignal[] = [];
  if (bound.signal) signals.push(bound.signal);
  if (bound.deadline !== undefined) signals.push(AbortSignal.timeout(remainingMs(bound)));
  if (signals.length <= 1) return signals[0];
  return AbortSignal.any(signals);
}

/** The error an aborted call ends with: a retryable `TIMEOUT` naming `what`; an AirkickError given as the abort reason is kept. */
export function abortError(signal: AbortSignal, what: string): AirkickError {
  const reason: unknown = signal.reason;
  if (reason instanceof AirkickError) return reason;
  return new AirkickError('TIMEOUT', `${what}: no answer in time`, { retryable: true });
}

/**
 * Settles with `work`, or with a retryable `TIMEOUT` naming `what` once `signal` aborts, whichever
 * comes first. An AirkickError given as the abort reason is kept.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return work;
  const aborted = () => {
    work.catch(() => {});
    return abortError(signal, what);
  };
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
