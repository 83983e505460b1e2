/**
 * The clouds' documented contracts as airkick meets them, through the emulators (which enforce the
 * limits and answer the error shapes the official SDKs accept; see conformance.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { AirflowClient } from '#lib/airflow/types.ts';
import { REST_API_PATH_MAX } from '#lib/auth/mwaa/rest-api.ts';
import { createAirflowClient } from '#lib/client.ts';
import { AirkickError, isAirkickError } from '#lib/errors.ts';
import { type DmsEmulator, startDmsEmulator } from '#test/emulators/dms.ts';
import { type MwaaEmulator, startMwaaEmulator } from '#test/emulators/mwaa.ts';
import { allProviders, apiOf } from '#test/support/targets.ts';

const airflow = inject('airflow');
const api = apiOf(airflow);
const uid = () => randomUUID().slice(0, 8);

async function failure(promise: Promise<unknown>): Promise<AirkickError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AirkickError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('MWAA contracts', () => {
  let mwaa: MwaaEmulator;
  const client = (name?: string): AirflowClient =>
    createAirflowClient(
      `mwaa://${name ?? mwaa.environmentName}?region=${mwaa.region}&endpoint=${mwaa.endpoint}&api=${api}`,
      { providers: allProviders, fresh: true, aws: { credentials: mwaa.credentials } },
    );

  beforeAll(async () => {
    mwaa = await startMwaaEmulator(airflow);
  });
  afterAll(async () => {
    await mwaa?.stop();
  });
  beforeEach(() => {
    mwaa.clearFaults();
    mwaa.resetCounts();
  });

  it('sends a path over 64 characters through the web-login session, never to InvokeRestApi', async () => {
    const airflowClient = client();
    const runId = `airkick__${uid()}_${'x'.repeat(40)}`;
    const path = `/dags/airkick_conf/dagRuns/${runId}`;
    expect(path.length).toBeGreaterThan(REST_API_PATH_MAX);
    const { run } = await airflowClient.triggerDagRun({ dagId: 'airkick_conf', runId });
    expect(run.runId).toBe(runId);
    expect((await airflowClient.getDagRun('airkick_conf', runId)).runId).toBe(runId);
    // The trigger's own path is short (InvokeRestApi); the read of the long one went through the session.
    expect(mwaa.counts()).toMatchObject({ restapi: 1, webtoken: 1, login: 1, api: 1 });
  });

  it('names the limit when the session that would carry a long path is refused', async () => {
    mwaa.failNext('webtoken', {
      status: 403,
      type: 'AccessDeniedException',
      message: 'User is not authorized to perform: airflow:CreateWebLoginToken',
    });
    const error = await failure(client().getDagRun('airkick_conf', 'r'.repeat(60)));
    expect(error.code).toBe('CONFIG');
    expect(error.message).toContain("InvokeRestApi's limit of 64");
    expect(error.message).toContain('airflow:CreateWebLoginToken');
  });

  it('reports a wrong environment name as configuration, not as an Airflow "not found"', async () => {
    const error = await failure(client('no-such-env').getVariable('anything'));
    expect(error.code).toBe('CONFIG');
    expect(error.message).toContain('mwaa://no-such-env');
    expect(error.message).toContain('ResourceNotFoundException');
  });

  it.each(['header', 'body-type', 'body-type-namespaced', 'body-code'] as const)(
    'reads the inner Airflow status of a RestApiClientException conveyed as %s',
    async (typeIn) => {
      const airflowClient = client();
      const runId = `dup_${uid()}`;
      await airflowClient.triggerDagRun({ dagId: 'airkick_conf', runId });
      mwaa.failNext('restapi', {
        status: 400,
        type: 'RestApiClientException',
        typeIn,
        extra: {
          RestApiStatusCode: 409,
          RestApiResponse: {
            status: 409,
            title: 'Conflict',
            detail: `DAGRun with DAG ID: 'airkick_conf' and DAGRun ID: '${runId}' already exists`,
          },
        },
      });
      expect(await airflowClient.submitDagRun({ dagId: 'airkick_conf', runId })).toEqual({
        alreadyTriggered: true,
      });
    },
  );

  it('retries InternalServerException and throttling on InvokeRestApi, as the SDK does', async () => {
    mwaa.failNext('restapi', { status: 500, type: 'InternalServerException' });
    mwaa.failNext('restapi', { status: 429, type: 'ThrottlingException', retryAfterSeconds: 1 });
    const started = Date.now();
    const health = await client().health();
    expect(health.metadatabase.status).toBe('healthy');
    expect(mwaa.counts()).toMatchObject({ restapi: 3 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('does not retry a ValidationException', async () => {
    mwaa.failNext('restapi', { status: 400, type: 'ValidationException', message: 'Method is invalid' });
    const error = await failure(client().health());
    expect([error.code, error.retryable]).toEqual(['BAD_REQUEST', false]);
    expect(mwaa.counts()).toMatchObject({ restapi: 1 });
  });

  it('retries an internal error of the CLI token call', async () => {
    mwaa.failNext('clitoken', { status: 500, type: 'InternalServerException' });
    const { stdout } = await client().runCli(['version']);
    expect(stdout.trim()).toMatch(/^\d+\.\d+/);
    expect(mwaa.counts().clitoken).toBe(2);
  });
});

describe('DMS contracts', () => {
  let dms: DmsEmulator;
  const client = (airflowId?: string): AirflowClient =>
    createAirflowClient(
      `dms://${airflowId ?? dms.airflowId}?region=${dms.region}&endpoint=http://${dms.endpoint}&api=${api}`,
      { providers: allProviders, fresh: true, aliyun: { credentials: dms.credentials } },
    );

  beforeAll(async () => {
    dms = await startDmsEmulator(airflow);
  });
  afterAll(async () => {
    await dms?.stop();
  });
  beforeEach(() => {
    dms.clearFaults();
    dms.resetCounts();
  });

  it('retries Throttling.User as RATE_LIMITED, then logs in', async () => {
    dms.failNext({ status: 400, code: 'Throttling.User' });
    const health = await client().health();
    expect(health.metadatabase.status).toBe('healthy');
    expect(dms.counts()).toMatchObject({ token: 2, login: 1 });
  });

  it('reports a failure answered with HTTP 200 and Success:false by its code', async () => {
    dms.failNext({ status: 200, code: 'Throttling', successFalse: true, times: 4 });
    const throttled = await failure(client().health());
    expect(throttled.code).toBe('RATE_LIMITED');
    dms.clearFaults();
    dms.failNext({ status: 403, code: 'NoPermission', successFalse: true, message: 'not allowed' });
    const denied = await failure(client().health());
    expect(denied.code).toBe('AUTH');
    expect(denied.message).toContain('NoPermission');
  });

  it('reports an unknown instance as configuration, naming it', async () => {
    const error = await failure(client('af-doesnotexist').getVariable('x'));
    expect(error.code).toBe('CONFIG');
    expect(error.message).toContain('af-doesnotexist');
    expect(isAirkickError(error, 'NOT_FOUND')).toBe(false);
  });
});
