/**
 * The operator CLI end to end: the `airkick` bin of the packed tarball (installed by the package
 * global setup; compiled JavaScript, no tsx) as a child process on plain Node, against the real Airflow directly
 * and through the emulated MWAA and DMS gateways; `invoke` against local stand-ins of the Lambda
 * and Function Compute APIs (no cloud is reachable here).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseCliJson } from '#lib/airflow/cli-args.ts';
import { type Captured, capture } from '#test/airflow/airflow.ts';
import { airflowApi, startTarget, type Target } from '#test/support/targets.ts';

const airflow = inject('airflow');
const BIN = inject('cliBin');
const home = mkdtempSync(join(tmpdir(), 'airkick-cli-home-'));

/** A clean environment: no AIRKICK_* from the caller, no cloud credentials, no metadata services. */
const baseEnv: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  HOME: home,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: join(home, 'none'),
  AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
  ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
  ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true',
  ALIBABA_CLOUD_CREDENTIALS_FILE: join(home, 'none'),
  // The chain's credentials-URI provider runs even when unset (it then asks https://undefined/);
  // pointed here, a missing-credentials test stays on the loopback.
  ALIBABA_CLOUD_CREDENTIALS_URI: 'http://127.0.0.1:9/',
  NO_COLOR: '1',
  // The SDK's notice that its 2027 releases need Node 22; it would make every stderr check fuzzy.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
const awsKeys = {
  AWS_ACCESS_KEY_ID: 'AKIDAIRKICKEMULATOR',
  AWS_SECRET_ACCESS_KEY: 'airkick-emulator-secret-key-not-a-real-one',
  AWS_REGION: 'us-east-1',
};
const aliyunKeys = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'EMULATOR-AK-ID',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'emulator-ak-secret-not-a-real-one',
};

function airkick(args: string[], env: Record<string, string> = {}): Promise<Captured> {
  return capture(process.execPath, [BIN, ...args], { env: { ...baseEnv, ...env } });
}

let selfHosted: Target;
let mwaa: Target;
let dms: Target;
let direct: Record<string, string>;

beforeAll(async () => {
  [selfHosted, mwaa, dms] = await Promise.all([
    startTarget('self-hosted', airflow),
    startTarget('mwaa', airflow),
    startTarget('dms', airflow),
  ]);
  direct = { AIRKICK_ENV: selfHosted.environment, AIRKICK_AIRFLOW_PASSWORD: airflow.password };
});
afterAll(async () => {
  await Promise.all([mwaa?.stop(), dms?.stop()]);
});

describe('against the real Airflow', () => {
  const conf = { quote: `it's a "test"; $(echo no)`, unicode: 'ü 日本語 🚀', nested: { n: 1 } };

  it('triggers with a conf holding quotes and unicode, as Airflow then reads it', async () => {
    const runId = `cli-${randomUUID().slice(0, 8)}`;
    const result = await airkick(
      ['trigger', 'airkick_conf', '--conf', JSON.stringify(conf), '--run-id', runId, '--json'],
      direct,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as { runId: string; alreadyTriggered: boolean; conf: unknown };
    expect(printed).toMatchObject({ dagId: 'airkick_conf', runId, alreadyTriggered: false, conf });
    const stored = await airflowApi(airflow, `/dags/airkick_conf/dagRuns/${runId}`);
    expect(stored.body.conf).toEqual(conf);

    const again = await airkick(['trigger', 'airkick_conf', '--run-id', runId], direct);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^already triggered airkick_conf run ${runId}: `));

    const listed = await airkick(['runs', 'airkick_conf', '--limit', '100', '--json'], direct);
    expect((JSON.parse(listed.stdout) as { runId: string }[]).map((r) => r.runId)).toContain(runId);
    const table = await airkick(['runs', 'airkick_conf', '--limit', '100'], direct);
    expect(table.stdout.split('\n')[0]).toMatch(/^RUN ID +STATE +LOGICAL DATE +STARTED +ENDED +TYPE$/);
    expect(table.stdout).toMatch(new RegExp(`\\n${runId} +(queued|running|success) `));
  });

  it('waits for a failing run and exits 1', async () => {
    const result = await airkick(['trigger', 'airkick_fail', '--wait', '--timeout', '110'], direct);
    expect(result.stdout).toMatch(/^triggered airkick_fail run manual__\S+: failed\n/);
    expect(result.code).toBe(1);
  });

  it('reports an unknown DAG in one line with exit 4', async () => {
    const result = await airkick(['trigger', 'no_such_dag'], direct);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^error \[NOT_FOUND\]: .*no_such_dag.*\(hint: check the name/);
  });

  it('exits 5 when the environment is unreachable', async () => {
    const result = await airkick(['health', '--env', 'http://127.0.0.1:1', '--timeout', '10']);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(
      /^error \[TRANSPORT\]: .*127\.0\.0\.1:1.*\(hint: is the environment reachable/,
    );
  });

  it('exits 3 with a hint when the password is wrong, without printing it', async () => {
    const result = await airkick(['health', '--json'], {
      ...direct,
      AIRKICK_AIRFLOW_PASSWORD: 'wrong-password-1',
    });
    // Health needs no login (Airflow 2's /health, Airflow 3's /monitor/health); the DAG list does.
    expect(result.code).toBe(0);
    const runs = await airkick(['runs', 'airkick_conf'], {
      ...direct,
      AIRKICK_AIRFLOW_PASSWORD: 'wrong-password-1',
    });
    expect(runs.code).toBe(3);
    expect(runs.stderr).toMatch(/^error \[AUTH\]: .*\(hint: check the credentials/);
    expect(runs.stderr).not.toContain('wrong-password-1');
  });

  it('reports health with exit 0, as a table or JSON', async () => {
    const table = await airkick(['health'], direct);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^COMPONENT +STATUS +LAST HEARTBEAT +AGE\nmetadatabase +healthy/);
    expect(table.stdout).toMatch(/\nscheduler +healthy +\d{4}-\d\d-\d\d /);
    expect(table.stdout.trim().split('\n').at(-1)).toBe('healthy');
    const json = await airkick(['health', '--json'], direct);
    expect(JSON.parse(json.stdout)).toMatchObject({ healthy: true, problems: [] });
  });

  it('raises an asset event with an extra from a file, lists it back, and names an unknown asset (exit 3)', async () => {
    const marker = `cli-${randomUUID()}`;
    const file = join(home, `extra-${marker}.json`);
    writeFileSync(file, JSON.stringify({ marker, key: 'incoming/x.csv' }));
    const raised = await airkick(
      ['asset-event', 's3://airkick-assets/landing', '--extra', `@${file}`, '--json'],
      direct,
    );
    expect(raised.stderr).toBe('');
    expect(raised.code).toBe(0);
    expect(JSON.parse(raised.stdout)).toMatchObject({
      uri: 's3://airkick-assets/landing',
      extra: { marker, key: 'incoming/x.csv' },
    });
    const listed = await airkick(
      ['asset-events', 's3://airkick-assets/landing', '--limit', '50', '--json'],
      direct,
    );
    const events = JSON.parse(listed.stdout) as { extra: { marker?: string } }[];
    expect(events.filter((e) => e.extra.marker === marker)).toHaveLength(1);
    const table = await airkick(['asset-events', 's3://airkick-assets/landing', '--limit', '5'], direct);
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME +RUNS +EXTRA$/);
    const unknown = await airkick(['asset-event', 's3://airkick-assets/undeclared'], direct);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(
      /^error \[CONFIG\]: .* has no (asset|dataset) s3:\/\/airkick-assets\/undeclared: declare it/,
    );
    const bad = await airkick(['asset-event', 's3://airkick-assets/landing', '--extra', '[1]'], direct);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--extra must be a JSON object');
  });

  it('says a self-hosted Airflow has no CLI endpoint (exit 2)', async () => {
    const result = await airkick(['cli', '--', 'dags', 'list'], direct);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error \[UNSUPPORTED_COMMAND\]: .*has no CLI endpoint/);
  });
});

describe('through the emulated gateways', () => {
  it('MWAA: cli -- dags list -o json prints the CLI output', async () => {
    const result = await airkick(['cli', '--', 'dags', 'list', '-o', 'json'], {
      ...awsKeys,
      AIRKICK_ENV: mwaa.environment,
    });
    expect(result.stderr).not.toMatch(/^error/m); // Airflow's own stderr is passed through
    expect(result.code).toBe(0);
    const dags = parseCliJson<{ dag_id: string }[]>(result.stdout);
    expect(dags.map((d) => d.dag_id)).toEqual(expect.arrayContaining(['airkick_conf', 'airkick_fail']));
  });

  it('MWAA: triggers with a conf from @file and waits for success', async () => {
    const file = join(home, 'conf.json');
    writeFileSync(file, JSON.stringify({ from: 'file', ключ: "l'été" }));
    const result = await airkick(['trigger', 'airkick_conf', '--conf', `@${file}`, '--wait', '--json'], {
      ...awsKeys,
      AIRKICK_ENV: mwaa.environment,
    });
    expect(result.code).toBe(0);
    const run = JSON.parse(result.stdout) as { runId: string; state: string };
    expect(run.state).toBe('success');
    const stored = await airflowApi(airflow, `/dags/airkick_conf/dagRuns/${run.runId}`);
    expect(stored.body.conf).toEqual({ from: 'file', ключ: "l'été" });
  });

  it('DMS: clean --dry-run reports rows per table and deletes nothing', async () => {
    const before = await airflowApi(airflow, '/dags/airkick_conf/dagRuns?limit=1');
    const result = await airkick(
      ['clean', '--retention', '0d', '--force', '--dry-run', '--tables', 'dag_run,task_instance', '--json'],
      { ...aliyunKeys, AIRKICK_ENV: dms.environment },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { dryRun: boolean; tables: Record<string, number> };
    expect(summary.dryRun).toBe(true);
    // Airflow 3 also reports the tables that reference the ones asked for (e.g. deadline -> dag_run).
    expect(Object.keys(summary.tables)).toEqual(expect.arrayContaining(['dag_run', 'task_instance']));
    if (airflow.major === 2) expect(Object.keys(summary.tables).sort()).toEqual(['dag_run', 'task_instance']);
    expect(summary.tables.dag_run).toBeGreaterThanOrEqual(1);
    const after = await airflowApi(airflow, '/dags/airkick_conf/dagRuns?limit=1');
    expect(after.body.total_entries).toBeGreaterThanOrEqual(before.body.total_entries);
  });
});

describe('invoke', () => {
  interface Seen {
    method: string;
    url: string;
    headers: IncomingHttpHeaders;
    body: string;
  }
  let seen: Seen[] = [];
  let reply: { status: number; headers: Record<string, string>; body: string };
  let endpoint: string;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(reply.status, reply.headers).end(reply.body);
    });
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('aws: sends a signed Lambda Invoke with the event and prints the result', async () => {
    seen = [];
    reply = {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"slot":"x","outcomes":[]}',
    };
    const event = join(home, 'event.json');
    writeFileSync(event, '{"slot": "2026-01-01T00:00:00Z"}');
    const result = await airkick(
      [
        'invoke',
        'trigger-dag',
        '--cloud',
        'aws',
        '--stage',
        'prod',
        '--event',
        event,
        '--endpoint',
        endpoint,
        '--json',
      ],
      awsKeys,
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      function: 'airkick-prod-trigger-dag',
      cloud: 'aws',
      statusCode: 200,
      result: { slot: 'x', outcomes: [] },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/2015-03-31/functions/airkick-prod-trigger-dag/invocations',
      body: '{"slot": "2026-01-01T00:00:00Z"}',
    });
    expect(seen[0]?.headers['x-amz-invocation-type']).toBe('RequestResponse');
    expect(seen[0]?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDAIRKICKEMULATOR\/\d{8}\/us-east-1\/lambda\/aws4_request/,
    );
  });

  it('aws: a function error exits 1', async () => {
    reply = {
      status: 200,
      headers: { 'x-amz-function-error': 'Unhandled' },
      body: '{"errorType":"AirkickError","errorMessage":"boom"}',
    };
    const result = await airkick(
      ['invoke', 'health-check', '--cloud', 'aws', '--endpoint', endpoint],
      awsKeys,
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^airkick-dev-health-check \(aws, HTTP 200\): failed \(Unhandled\)\n/);
  });

  it('aliyun: sends a signed FC InvokeFunction with the event', async () => {
    seen = [];
    reply = { status: 200, headers: { 'x-fc-request-id': 'r-1' }, body: '{"healthy":true}' };
    const result = await airkick(
      [
        'invoke',
        'health-check',
        '--cloud',
        'aliyun',
        '--endpoint',
        endpoint,
        '--region',
        'cn-hangzhou',
        '--json',
      ],
      aliyunKeys,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      function: 'airkick-dev-health-check',
      result: { healthy: true },
    });
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/2023-03-30/functions/airkick-dev-health-check/invocations',
      body: '{}',
    });
    expect(seen[0]?.headers['x-fc-invocation-type']).toBe('Sync');
    expect(String(seen[0]?.headers.authorization)).toMatch(/^ACS3-HMAC-SHA256 Credential=EMULATOR-AK-ID,/);
  });

  it('without credentials: exit 3 with a hint, for both clouds', async () => {
    const aws = await airkick(['invoke', 'trigger-dag', '--cloud', 'aws', '--region', 'eu-west-1']);
    expect(aws.code).toBe(3);
    expect(aws.stderr).toMatch(
      /^error \[AUTH\]: invoke airkick-dev-trigger-dag on AWS Lambda: .*hint: check the credentials/,
    );
    const fc = await airkick([
      'invoke',
      'trigger-dag',
      '--cloud',
      'aliyun',
      '--region',
      'cn-hangzhou',
      '--account-id',
      '1',
    ]);
    expect(fc.code).toBe(3);
    expect(fc.stderr).toMatch(/^error \[AUTH\]: invoke airkick-dev-trigger-dag on Function Compute: /);
    const noAccount = await airkick(['invoke', 'trigger-dag', '--cloud', 'aliyun'], aliyunKeys);
    expect(noAccount).toMatchObject({ code: 3, stderr: expect.stringMatching(/account id/) });
  });

  it('unreachable endpoint: exit 5', async () => {
    const result = await airkick(
      ['invoke', 'trigger-dag', '--cloud', 'aws', '--endpoint', 'http://127.0.0.1:9'],
      awsKeys,
    );
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^error \[TRANSPORT\]: invoke airkick-dev-trigger-dag on AWS Lambda: /);
  });
});
