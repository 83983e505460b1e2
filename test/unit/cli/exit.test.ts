import { describe, expect, it } from 'vitest';
import { cloudError } from '#cli/commands/invoke.ts';
import { EXIT, exitCodeFor, formatError, UsageError } from '#cli/exit.ts';
import { main } from '#cli/main.ts';
import { AirkickError, type ErrorCode } from '#lib/errors.ts';
import { registerSecret } from '#lib/secrets/redaction.ts';

describe('error -> exit code', () => {
  it('maps every AirkickError code to a documented exit code', () => {
    const expected: Record<ErrorCode, number> = {
      BAD_REQUEST: 2,
      UNSUPPORTED_COMMAND: 2,
      UNSUPPORTED: 3,
      CONFIG: 3,
      AUTH: 3,
      REDIRECT: 3,
      NOT_FOUND: 4,
      CONFLICT: 1,
      TRANSPORT: 5,
      TIMEOUT: 5,
      RATE_LIMITED: 5,
      SERVER: 5,
    };
    for (const [code, exit] of Object.entries(expected)) {
      expect([code, exitCodeFor(new AirkickError(code as ErrorCode, 'x'))]).toEqual([code, exit]);
    }
    expect(exitCodeFor(new UsageError('x'))).toBe(EXIT.USAGE);
    expect(exitCodeFor(new Error('boom'))).toBe(EXIT.FAILED);
  });

  it('writes one line with the code and a hint, secrets masked', () => {
    registerSecret('s3cr3t-token-value');
    const line = formatError(
      new AirkickError('NOT_FOUND', 'DAG nope not found\n  while reading s3cr3t-token-value', {
        method: 'GET',
        url: 'http://u:pw@h/api/v1/dags/nope',
      }),
    );
    expect(line).not.toContain('\n');
    expect(line).not.toContain('s3cr3t-token-value');
    expect(line).not.toContain(':pw@');
    expect(line).toMatch(
      /^error \[NOT_FOUND\]: DAG nope not found while reading \*\*\* .*\(hint: check the name/,
    );
    expect(formatError(new UsageError('missing DAG id'))).toBe('error: missing DAG id (hint: see --help)');
  });

  it('maps cloud SDK failures: no credentials 3, missing function 4, network 5', () => {
    const req = { cloud: 'aws' as const, functionName: 'airkick-dev-trigger-dag' };
    const noCreds = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(exitCodeFor(cloudError(noCreds, req))).toBe(3);
    const missing = Object.assign(new Error('Function not found'), {
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
    expect(exitCodeFor(cloudError(missing, req))).toBe(4);
    const refused = new Error('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
    });
    const mapped = cloudError(refused, { cloud: 'aliyun', functionName: 'f' });
    expect(mapped.code).toBe('TRANSPORT');
    expect(mapped.message).toBe('invoke f on Function Compute: ECONNREFUSED');
    const fcNoCreds = new Error('unable to get credentials from any of the providers in the chain: ...');
    expect(cloudError(fcNoCreds, req).code).toBe('AUTH');
  });
});

describe('airkick main', () => {
  const run = async (argv: string[], env: Record<string, string> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, {
      stdout: { write: (c: string) => out.push(c) },
      stderr: { write: (c: string) => err.push(c) },
      env,
    });
    return { code, out: out.join(''), err: err.join('') };
  };

  it('answers --help on every command with exit 0', async () => {
    for (const command of ['trigger', 'runs', 'health', 'cli', 'clean', 'invoke']) {
      const result = await run([command, '--help']);
      expect([command, result.code]).toEqual([command, 0]);
      expect(result.out).toMatch(new RegExp(`^Usage: airkick ${command}`));
    }
    expect((await run(['--help'])).out).toMatch(/Exit codes: 0 ok, 1 unhealthy/);
  });

  it('exits 2 on usage errors and 3 without an environment, before any network', async () => {
    expect((await run([])).code).toBe(2);
    expect(await run(['frobnicate'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/unknown command/),
    });
    expect(await run(['runs'])).toMatchObject({ code: 2, err: expect.stringMatching(/missing DAG id/) });
    expect((await run(['runs', 'x', '--limit', 'lots'])).code).toBe(2);
    expect((await run(['trigger', 'x', '--conf', '[1]'])).code).toBe(2);
    expect((await run(['clean'])).err).toMatch(/--retention is required/);
    expect(await run(['runs', 'x'])).toMatchObject({
      code: 3,
      err: expect.stringMatching(/^error \[CONFIG\]: no Airflow environment: pass --env or set AIRKICK_ENV/),
    });
    expect((await run(['health', '--env', 'ftp://x'])).code).toBe(3);
    expect(await run(['clean', '--retention', '3d', '--env', 'http://127.0.0.1:1'])).toMatchObject({
      code: 3,
      err: expect.stringMatching(/below the floor of 7 days; add --force/),
    });
  });

  it('keeps -h after -- for the Airflow command', async () => {
    const result = await run(['cli', '--', 'dags', '-h']);
    expect(result.code).toBe(3); // reached the environment lookup instead of printing help
  });
});
