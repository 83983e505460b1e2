import { describe, expect, it } from 'vitest';
import { AirkickError, codeForStatus } from '#lib/errors.ts';
import { redactSecrets, redactUrl, registerSecret } from '#lib/secrets/redaction.ts';

describe('AirkickError', () => {
  it('names method and URL without secrets and keeps the name and message of the cause', () => {
    const cause = new Error('socket hang up');
    const error = new AirkickError('TRANSPORT', 'request failed', {
      method: 'GET',
      url: 'https://admin:hunter22@host:8080/api/v1/health?token=abc123&x=1',
      cause,
    });
    expect(error.message).toBe(
      'request failed (GET https://admin:***@host:8080/api/v1/health?token=***&x=1)',
    );
    expect(error.cause).toMatchObject({ name: 'Error', message: 'socket hang up' });
    expect(error.fault).toBe('server');
    expect(JSON.stringify(error)).not.toContain('hunter22');
    // A log line says whether the failure will be retried.
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ code: 'TRANSPORT', retryable: false });
    expect(JSON.parse(JSON.stringify(new AirkickError('SERVER', 'x', { retryable: true })))).toMatchObject({
      retryable: true,
    });
  });

  it('keeps of a cause only names and redacted messages, never the objects an SDK hangs on it', () => {
    registerSecret('sk-signed-request-secret');
    // The shapes of a Tea error (the signed request) and an AWS SDK error (the raw response).
    const tea = Object.assign(new Error('Throttling: sk-signed-request-secret was rate limited'), {
      name: 'ThrottlingError',
      lastRequest: { headers: { authorization: 'acs AK:sk-signed-request-secret' } },
      $response: { body: 'raw' },
      cause: new Error('inner ECONNRESET'),
    });
    const error = new AirkickError('RATE_LIMITED', 'CreateAirflowLoginToken failed', { cause: tea });
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.cause).not.toBe(tea);
    expect(error.cause).toMatchObject({
      name: 'ThrottlingError',
      message: 'Throttling: *** was rate limited',
    });
    expect((error.cause as Error).cause).toMatchObject({ message: 'inner ECONNRESET' });
    expect(Object.keys(error.cause as object)).toEqual(['name']);
    expect(String((error.cause as Error).stack)).not.toContain('sk-signed-request-secret');
    expect(new AirkickError('SERVER', 'x', { cause: { token: 'sk-signed-request-secret' } }).cause).toBe(
      '[object Object]',
    );
  });

  it('masks a registered secret wherever it appears in a message', () => {
    registerSecret('tok-very-secret-value');
    const error = new AirkickError('AUTH', 'upstream said: bad token tok-very-secret-value');
    expect(error.message).toBe('upstream said: bad token ***');
    expect(redactSecrets('x tok-very-secret-value y')).toBe('x *** y');
  });

  it('maps HTTP statuses to stable codes', () => {
    expect([200, 204, 301, 302, 307, 308].map(codeForStatus)).toEqual([
      undefined,
      undefined,
      'REDIRECT',
      'REDIRECT',
      'REDIRECT',
      'REDIRECT',
    ]);
    expect([200, 401, 403, 404, 409, 429, 400, 500, 502, 504].map(codeForStatus)).toEqual([
      undefined,
      'AUTH',
      'AUTH',
      'NOT_FOUND',
      'CONFLICT',
      'RATE_LIMITED',
      'BAD_REQUEST',
      'SERVER',
      'SERVER',
      'TIMEOUT',
    ]);
  });

  it('leaves a URL without secrets as it is', () => {
    expect(redactUrl('http://127.0.0.1:8080/api/v1/dags?limit=5')).toBe(
      'http://127.0.0.1:8080/api/v1/dags?limit=5',
    );
  });
});
