import { AirkickError } from '#lib/errors.ts';

/** The error an aborted store call ends with; an AirkickError given as the abort reason is kept. */
export function abortError(signal: AbortSignal, what: string): AirkickError {
  const reason: unknown = signal.reason;
  if (reason instanceof AirkickError) return reason;
  return new AirkickError('TIMEOUT', `${what}: no answer in time`, { cause: reason, retryable: true });
}

/**
 * Settles with `work` or, once `signal` aborts, with a `TIMEOUT` error, whichever comes first. The
 * caller stops waiting even when the work ignores the signal (a client that cannot be cancelled).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(abortError(signal, what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => {});
      reject(abortError(signal, what));
    };
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
