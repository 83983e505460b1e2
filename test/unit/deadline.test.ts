import { describe, expect, it } from 'vitest';
import { boundSignal, remainingMs, untilAborted } from '#lib/deadline.ts';
import { AirkickError } from '#lib/errors.ts';

describe('an invocation bound', () => {
  it('is unbounded without a deadline or signal, and never negative with one', () => {
    expect(boundSignal({})).toBeUndefined();
    expect(remainingMs({})).toBe(Number.POSITIVE_INFINITY);
    expect(remainingMs({ deadline: 1_000 }, 5_000)).toBe(0);
  });

  it('aborts at the deadline, or with the caller signal, whichever comes first', async () => {
    const soon = boundSignal({ deadline: Date.now() + 30 });
    expect(soon?.aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(soon?.aborted).toBe(true);

    const caller = new AbortController();
    const either = boundSignal({ deadline: Date.now() + 60_000, signal: caller.signal });
    caller.abort();
    expect(either?.aborted).toBe(true);
  });

  it('stops waiting for work that ignores the signal, with a retryable TIMEOUT naming it', async () => {
    const never = new Promise<never>(() => {});
    const error = await untilAborted(
      never,
      boundSignal({ deadline: Date.now() + 20 }),
      'resolve secret',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirkickError);
    expect(error).toMatchObject({
      code: 'TIMEOUT',
      retryable: true,
      message: 'resolve secret: no answer in time',
    });
  });

  it('keeps an AirkickError given as the abort reason, and passes results and failures through', async () => {
    const controller = new AbortController();
    const reason = new AirkickError('AUTH', 'stop');
    controller.abort(reason);
    await expect(untilAborted(Promise.resolve(1), controller.signal, 'x')).rejects.toBe(reason);
    const open = new AbortController().signal;
    await expect(untilAborted(Promise.resolve(2), open, 'x')).resolves.toBe(2);
    await expect(untilAborted(Promise.reject(new Error('boom')), open, 'x')).rejects.toThrow('boom');
  });
});
