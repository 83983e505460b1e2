/**
 * The emulators and airkick's own control-plane requests, checked with the vendors' official Python
 * SDKs (boto3; alibabacloud-dms20250414) from the pinned lock in test/conformance. The Python side
 * runs every check and reports each one; this file asserts per check, so a failure names it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAirflowClient } from '#lib/client.ts';
import { ensurePythonTool } from '#test/airflow/provision.ts';
import { type DmsEmulator, startDmsEmulator } from '#test/emulators/dms.ts';
import type { RecordedRequest } from '#test/emulators/faults.ts';
import {
  type Handler,
  type Listening,
  listen,
  readBody,
  requestUrl,
  sendJson,
} from '#test/emulators/http.ts';
import {
  airflowRoleDeniedMessage,
  type MwaaEmulator,
  type MwaaOperation,
  startMwaaEmulator,
} from '#test/emulators/mwaa.ts';
import { allProviders } from '#test/support/targets.ts';

const airflow = inject('airflow');
const conformance = join(import.meta.dirname, '../conformance');

/** Every check the Python side runs; it must run exactly these. */
const CHECKS = [
  'signature.mwaa.invoke_rest_api',
  'signature.mwaa.create_cli_token',
  'signature.mwaa.create_web_login_token',
  'signature.dms.create_airflow_login_token',
  'signature.control.sigv4_detects_wrong_secret',
  'signature.control.acs3_detects_wrong_secret',
  'mwaa.create_cli_token',
  'mwaa.create_web_login_token',
  'mwaa.invoke_rest_api.get',
  'mwaa.invoke_rest_api.post',
  'mwaa.error_type_in.header',
  'mwaa.error_type_in.body-type',
  'mwaa.error_type_in.body-type-namespaced',
  'mwaa.error_type_in.body-code',
  'mwaa.resource_not_found',
  'mwaa.access_denied.airflow_role',
  'mwaa.access_denied.plain',
  'mwaa.validation.path_65',
  'mwaa.validation.path_empty',
  'mwaa.validation.method',
  'mwaa.rest_api_client.404',
  'mwaa.rest_api_server',
  'mwaa.internal_server.retried',
  'mwaa.internal_server.recovers',
  'mwaa.throttling.retried',
  'mwaa.throttling.body_type_400',
  'mwaa.retry_mode',
  'dms.create_airflow_login_token',
  'dms.unknown_airflow_id',
  'dms.throttling',
  'dms.throttling.retry_after',
  'dms.throttling.retry_policy',
  'dms.success_false',
  'dms.server_error',
] as const;

interface CheckResult {
  id: string;
  ok: boolean;
  detail: string;
  observed: Record<string, unknown>;
  ms: number;
}

/** Lets the Python side queue faults and read counts, over loopback, while it drives the SDKs. */
function testControl(mwaa: MwaaEmulator, dms: DmsEmulator): Handler {
  return async (req, res) => {
    const path = requestUrl(req).pathname;
    const input = JSON.parse((await readBody(req)).toString('utf8') || 'null') as {
      target?: 'mwaa' | 'dms';
      operation?: MwaaOperation;
      fault?: never;
    } | null;
    if (req.method === 'POST' && path === '/reset') {
      for (const emulator of [mwaa, dms]) {
        emulator.resetCounts();
        emulator.clearFaults();
      }
      return sendJson(res, 200, {});
    }
    if (req.method === 'POST' && path === '/fail' && input?.fault) {
      if (input.target === 'mwaa' && input.operation) mwaa.failNext(input.operation, input.fault);
      else if (input.target === 'dms') dms.failNext(input.fault);
      else return sendJson(res, 400, { message: 'target must be mwaa (with operation) or dms' });
      return sendJson(res, 200, {});
    }
    if (req.method === 'GET' && path === '/counts')
      return sendJson(res, 200, { mwaa: mwaa.counts(), dms: dms.counts() });
    sendJson(res, 404, { message: 'unknown control route' });
  };
}

/** Runs the Python side; exit status 1 is an answer (some check failed), not an error. */
function runPython(
  python: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(python, args, { timeout: 240_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

const asJson = (requests: RecordedRequest[]) =>
  requests.map((r) => ({ ...r, body: r.body.toString('base64') }));

/** Makes airkick's public client send each signed control-plane request once or more. */
async function sendAirkickRequests(mwaa: MwaaEmulator, dms: DmsEmulator): Promise<void> {
  const mwaaEnvironment = `mwaa://${mwaa.environmentName}?region=${mwaa.region}&endpoint=${mwaa.endpoint}`;
  const aws = { aws: { credentials: mwaa.credentials }, providers: allProviders, fresh: true };
  const rest = createAirflowClient(mwaaEnvironment, aws);
  await rest.health();
  await rest.listDagRuns('airkick_conf', { limit: 1 });
  await rest.triggerDagRun({
    dagId: 'airkick_conf',
    runId: `conformance-${Date.now()}`,
    conf: { quote: "it's", unicode: 'データ' },
  });
  await rest.runCli(['version']);
  await createAirflowClient(`${mwaaEnvironment}&auth=session`, aws).health();
  const dmsEnvironment = `dms://${dms.airflowId}?region=${dms.region}&endpoint=http://${dms.endpoint}`;
  await createAirflowClient(dmsEnvironment, {
    aliyun: { credentials: dms.credentials },
    providers: allProviders,
    fresh: true,
  }).health();
}

describe('the official SDKs against the emulators and airkick', () => {
  const results = new Map<string, CheckResult>();
  let mwaa: MwaaEmulator;
  let dms: DmsEmulator;
  let control: Listening;
  let workDir: string;
  let recorded: { mwaa: RecordedRequest[]; dms: RecordedRequest[] };

  beforeAll(async () => {
    const started = Date.now();
    const [tool, mwaaEmulator, dmsEmulator] = await Promise.all([
      ensurePythonTool('sdk-conformance', join(conformance, 'sdk.lock')),
      startMwaaEmulator(airflow, { record: true }),
      startDmsEmulator(airflow, { record: true }),
    ]);
    mwaa = mwaaEmulator;
    dms = dmsEmulator;
    control = await listen(testControl(mwaa, dms));
    workDir = mkdtempSync(join(tmpdir(), 'airkick-conformance-'));

    await sendAirkickRequests(mwaa, dms);
    recorded = { mwaa: mwaa.requests(), dms: dms.requests() };
    const config = {
      control: `http://127.0.0.1:${control.port}`,
      airflowRoleDeniedMessage: airflowRoleDeniedMessage(mwaa.region, mwaa.environmentName),
      mwaa: {
        endpoint: mwaa.endpoint,
        region: mwaa.region,
        name: mwaa.environmentName,
        webServerHostname: mwaa.webServerHostname,
        ...mwaa.credentials,
      },
      dms: {
        endpoint: dms.endpoint,
        region: dms.region,
        airflowId: dms.airflowId,
        host: dms.host,
        ...dms.credentials,
      },
      recorded: { mwaa: asJson(recorded.mwaa), dms: asJson(recorded.dms) },
    };
    const configFile = join(workDir, 'config.json');
    const resultsFile = join(workDir, 'results.json');
    writeFileSync(configFile, JSON.stringify(config));
    const run = await runPython(join(tool.bin, 'python'), [
      join(conformance, 'sdk_conformance.py'),
      configFile,
      resultsFile,
    ]);
    process.stdout.write(`${run.stdout}\n[conformance] ${Math.round((Date.now() - started) / 1000)} s\n`);
    // Exit status 1 means "some check failed", reported per check below; anything else is a crash.
    if ((run.code !== 0 && run.code !== 1) || !existsSync(resultsFile))
      throw new Error(`sdk_conformance.py exited with ${run.code}:\n${run.stderr.slice(-3000)}`);
    const report = JSON.parse(readFileSync(resultsFile, 'utf8')) as { results: CheckResult[] };
    for (const result of report.results) results.set(result.id, result);
  }, 600_000);

  afterAll(async () => {
    await Promise.all([mwaa?.stop(), dms?.stop(), control?.close()]);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('airkick sent every signed operation to the emulators', () => {
    expect(new Set(recorded.mwaa.map((r) => r.route))).toEqual(new Set(['restapi', 'clitoken', 'webtoken']));
    expect(recorded.dms.map((r) => r.route)).toContain('token');
  });

  it('the Python side ran exactly the listed checks', () => {
    expect([...results.keys()].sort()).toEqual([...CHECKS].sort());
  });

  it.each(CHECKS)('%s', (id) => {
    const result = results.get(id);
    expect(result, `${id} did not run`).toBeDefined();
    expect(result?.ok, `${id}: ${result?.detail}`).toBe(true);
  });

  it('records what the SDKs do with each error', () => {
    const observed = (id: (typeof CHECKS)[number]) => results.get(id)?.observed;
    expect(observed('mwaa.throttling.retried')).toMatchObject({
      class: 'ClientError',
      code: 'ThrottlingException',
      modeled: false,
      attempts: 3,
    });
    expect(observed('mwaa.internal_server.retried')).toMatchObject({
      class: 'InternalServerException',
      attempts: 3,
    });
    expect(observed('mwaa.rest_api_client.404')).toMatchObject({
      class: 'RestApiClientException',
      httpStatus: 400,
      RestApiStatusCode: 404,
    });
    expect(observed('mwaa.validation.path_empty')).toMatchObject({ class: 'ParamValidationError' });
    expect(observed('dms.throttling')).toMatchObject({ class: 'ClientException', code: 'Throttling.User' });
    expect(observed('dms.throttling.retry_after')).toMatchObject({
      class: 'ThrottlingException',
      retryAfter: 1000,
    });
    expect(observed('dms.success_false')).toMatchObject({ raised: false, success: false });
    expect(observed('dms.server_error')).toMatchObject({ class: 'ServerException', statusCode: 500 });
  });
});
