import { describe, expect, it } from 'vitest';
import type { DmsOptions } from '#lib/auth/dms.ts';
import { healthConfig } from '#lib/config.ts';
import { FunctionRuntime, SAFETY_MARGIN_MS } from '#lib/host/function.ts';
import { redactSecrets } from '#lib/secrets/redaction.ts';

const env = { AIRKICK_ENV: 'dms://af-runtime-test?region=cn-hangzhou', AIRKICK_ALERT_STATE: 'memory' };

/** A runtime whose DMS provider records the options it was built with, and never calls out. */
function runtime() {
  const built: DmsOptions[] = [];
  const fn = new FunctionRuntime(
    'health-check',
    healthConfig,
    {
      cloud: 'aliyun',
      providers: {
        dms: (_spec, options = {}) => {
          built.push(options);
          return {
            environment: 'dms://af-runtime-test',
            send: async () => ({ status: 200, body: {} }),
            uiBase: () => undefined,
          };
        },
      },
    },
    env,
  );
  return { fn, built };
}

const keys = (n: number) => ({
  accessKeyId: `STS.id-${n}`,
  accessKeySecret: `rotating-ak-secret-${n}`,
  securityToken: `rotating-sts-token-${n}`,
});

describe('FunctionRuntime on Function Compute', () => {
  it('keeps one client per container that signs with the current invocation keys, masking only live ones', async () => {
    const { fn, built } = runtime();
    await fn.jobContext({ requestId: 'r1', endsAt: Date.now() + 60_000, aliyunKeys: keys(1) });
    expect(redactSecrets('rotating-ak-secret-1 rotating-sts-token-1')).toBe('*** ***');
    await fn.jobContext({ requestId: 'r2', endsAt: Date.now() + 60_000, aliyunKeys: keys(2) });
    expect(built).toHaveLength(1);
    const current = built[0]?.credentials;
    expect(typeof current === 'function' ? current() : current).toEqual(keys(2));
    expect(redactSecrets('rotating-ak-secret-1 rotating-sts-token-2 rotating-ak-secret-2')).toBe(
      'rotating-ak-secret-1 *** ***',
    );
  });

  it('gives the job a deadline and a signal that fire a margin before the platform stops it', async () => {
    const { fn } = runtime();
    const endsAt = Date.now() + SAFETY_MARGIN_MS + 50;
    const platform = new AbortController();
    const job = await fn.jobContext({ requestId: 'r', endsAt, signal: platform.signal, aliyunKeys: keys(3) });
    expect(job.deadline).toBe(endsAt - SAFETY_MARGIN_MS);
    expect(job.signal?.aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(job.signal?.aborted).toBe(true);

    const early = await fn.jobContext({
      requestId: 'r',
      endsAt: Date.now() + 60_000,
      signal: platform.signal,
    });
    expect(early.signal?.aborted).toBe(false);
    platform.abort();
    expect(early.signal?.aborted).toBe(true);
  });
});
