import { MWAAClient } from '@aws-sdk/client-mwaa';
import { describe, expect, it } from 'vitest';
import { RestAirflowClient } from '#lib/airflow/client.ts';
import type { ApiRequest, Transport } from '#lib/airflow/transport.ts';
import { awsErrorType, controlPlaneError } from '#lib/auth/aws-errors.ts';
import { dmsError } from '#lib/auth/dms.ts';
import { restApiEndpoint } from '#lib/auth/mwaa/control-plane.ts';
import { REST_API_PATH_MAX } from '#lib/auth/mwaa/rest-api.ts';
import type { DmsSpec } from '#lib/environment.ts';
import { scheduleRunId } from '#lib/events/index.ts';

describe('awsErrorType reads the error type as the SDKs do', () => {
  it('prefers the x-amzn-errortype header, then the body code, then __type', () => {
    expect(awsErrorType('ThrottlingException', { code: 'Other', __type: 'Else' })).toBe(
      'ThrottlingException',
    );
    expect(awsErrorType(null, { code: 'ValidationException', __type: 'Else' })).toBe('ValidationException');
    expect(awsErrorType(undefined, { __type: 'InternalServerException' })).toBe('InternalServerException');
    expect(awsErrorType(null, 'not json')).toBe('');
  });

  it('strips the :uri suffix and the namespace# prefix', () => {
    expect(
      awsErrorType(
        'RestApiClientException:http://internal.amazon.com/coral/com.amazonaws.airflow/',
        undefined,
      ),
    ).toBe('RestApiClientException');
    expect(awsErrorType(null, { __type: 'com.amazonaws.airflow#RestApiClientException' })).toBe(
      'RestApiClientException',
    );
    expect(awsErrorType(null, { code: 'com.amazonaws.airflow#ResourceNotFoundException:x' })).toBe(
      'ResourceNotFoundException',
    );
  });
});

describe('controlPlaneError classifies MWAA failures', () => {
  const base = { operation: 'InvokeRestApi', environment: 'mwaa://etl?region=us-east-1', message: 'm' };

  it('makes a missing environment a configuration error that names it, never NOT_FOUND', () => {
    const error = controlPlaneError({ ...base, type: 'ResourceNotFoundException', status: 404 });
    expect(error.code).toBe('CONFIG');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('mwaa://etl?region=us-east-1');
    expect(error.message).toContain('name and region');
  });

  it('retries what the SDKs retry: throttling and internal errors', () => {
    const throttled = controlPlaneError({
      ...base,
      type: 'ThrottlingException',
      status: 429,
      retryAfterMs: 700,
    });
    expect([throttled.code, throttled.retryable, throttled.retryAfterMs]).toEqual([
      'RATE_LIMITED',
      true,
      700,
    ]);
    const internal = controlPlaneError({ ...base, type: 'InternalServerException', status: 500 });
    expect([internal.code, internal.retryable]).toEqual(['SERVER', true]);
    const network = controlPlaneError({ ...base, type: 'TimeoutError', status: undefined });
    expect([network.code, network.retryable]).toEqual(['TRANSPORT', true]);
  });

  it('does not retry validation or access errors', () => {
    const invalid = controlPlaneError({ ...base, type: 'ValidationException', status: 400 });
    expect([invalid.code, invalid.retryable]).toEqual(['BAD_REQUEST', false]);
    const denied = controlPlaneError({ ...base, type: 'AccessDeniedException', status: 403 });
    expect([denied.code, denied.retryable]).toEqual(['AUTH', false]);
  });
});

describe('dmsError classifies CreateAirflowLoginToken failures', () => {
  const spec: DmsSpec = { kind: 'dms', airflowId: 'af-1', region: 'cn-hangzhou', endpoint: 'https://x' };

  it('makes every Throttling code RATE_LIMITED and retryable, not BAD_REQUEST', () => {
    for (const code of ['Throttling', 'Throttling.User', 'Throttling.Api']) {
      const error = dmsError(spec, { code, status: 400, message: 'Request was denied due to flow control.' });
      expect([error.code, error.retryable]).toEqual(['RATE_LIMITED', true]);
    }
  });

  it('makes an unknown instance a configuration error naming the id and region', () => {
    const error = dmsError(spec, { code: 'InvalidAirflowId.NotFound', status: 404, message: '' });
    expect(error.code).toBe('CONFIG');
    expect(error.message).toContain('af-1');
    expect(error.message).toContain('cn-hangzhou');
  });

  it('keeps signature failures AUTH and retries server errors and lost answers', () => {
    expect(dmsError(spec, { code: 'SignatureDoesNotMatch', status: 400, message: '' }).code).toBe('AUTH');
    const server = dmsError(spec, { code: 'ServiceUnavailable', status: 503, message: '' });
    expect([server.code, server.retryable]).toEqual(['SERVER', true]);
    const lost = dmsError(spec, { code: 'ECONNRESET', status: undefined, message: '' });
    expect([lost.code, lost.retryable]).toEqual(['TRANSPORT', true]);
  });
});

describe('InvokeRestApi path limit', () => {
  /** Every request path the client builds, for one DAG id and run id. */
  async function pathsFor(dagId: string, runId: string): Promise<ApiRequest[]> {
    const sent: ApiRequest[] = [];
    const run = { dag_id: dagId, dag_run_id: runId, state: 'success', conf: {} };
    const transport: Transport = {
      environment: 'recording',
      async send(request) {
        sent.push(request);
        if (request.method === 'POST' && request.path.endsWith('/dagRuns')) return { status: 409, body: {} };
        if (request.path === '/health') return { status: 200, body: { metadatabase: { status: 'healthy' } } };
        return { status: 200, body: request.path.includes('/dagRuns/') ? run : { dag_runs: [] } };
      },
      uiBase: () => undefined,
    };
    const client = new RestAirflowClient(transport, 'v1');
    await client.triggerDagRun({ dagId, runId });
    await client.waitForDagRun(dagId, runId);
    await client.listDagRuns(dagId);
    await client.setPaused(dagId, false);
    await client.health();
    return sent;
  }

  it('fits every path of a scheduled trigger for DAG ids up to 26 characters', async () => {
    const latest = scheduleRunId('x', new Date('2099-12-31T23:59:59Z'));
    expect(latest.length).toBe(25);
    for (let length = 1; length <= 26; length++) {
      const dagId = 'd'.repeat(length);
      const runId = scheduleRunId(dagId, new Date('2026-11-21T06:00:00Z'));
      for (const request of await pathsFor(dagId, runId)) {
        expect(request.path.length, `${request.method} ${request.path}`).toBeLessThanOrEqual(
          REST_API_PATH_MAX,
        );
      }
    }
  });

  it('knows which paths of the longest DAG id Airflow allows (250) exceed the limit', async () => {
    const dagId = 'd'.repeat(250);
    const long = (await pathsFor(dagId, scheduleRunId(dagId, new Date()))).filter(
      (request) => request.path.length > REST_API_PATH_MAX,
    );
    // These go through the web-login session; see the MWAA integration tests.
    expect(long.map((r) => r.method).sort()).toEqual(['GET', 'GET', 'GET', 'PATCH', 'POST']);
  });
});

describe('InvokeRestApi endpoint', () => {
  it('follows the partition as the SDK resolves CreateCliToken (China, GovCloud)', async () => {
    const regions = [
      'us-east-1',
      'eu-west-1',
      'cn-north-1',
      'cn-northwest-1',
      'us-gov-west-1',
      'ap-southeast-7',
    ];
    for (const region of regions) {
      // The SDK's own resolver, with the operations' `env.` host prefix, is the judge.
      const client = new MWAAClient({
        region,
        credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      });
      const sdk = new URL(
        client.config.endpointProvider({ Region: region, UseFIPS: false, UseDualStack: false }).url.href,
      );
      expect(await restApiEndpoint({ kind: 'mwaa', name: 'etl', region, auth: 'rest' })).toBe(
        `https://env.${sdk.host}`,
      );
    }
    expect(await restApiEndpoint({ kind: 'mwaa', name: 'etl', region: 'cn-north-1', auth: 'rest' })).toBe(
      'https://env.airflow.cn-north-1.amazonaws.com.cn',
    );
  });

  it('keeps an explicit endpoint (VPC endpoint, proxy)', async () => {
    const spec = {
      kind: 'mwaa',
      name: 'e',
      region: 'eu-west-1',
      auth: 'rest',
      endpoint: 'http://127.0.0.1:9/',
    } as const;
    expect(await restApiEndpoint(spec)).toBe('http://127.0.0.1:9');
  });
});
