/**
 * Offline checks of everything a deployment is made of: the bundles `npm run build` writes, the
 * CloudFormation that `osls package` renders from serverless.yml, and s.yaml as Serverless Devs
 * renders it. No credentials and no network (the tools run in a network namespace where the system
 * has one); nothing here talks to Airflow.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadServerless, loadSYaml, ROOT, unresolvedReferences } from '#cli/local/config-files.ts';
import { DYNAMODB_KEY, DYNAMODB_TTL_ATTRIBUTE, parseDynamoDbState } from '#lib/alerts/index.ts';
import { parseScheduleEvent } from '#lib/events/schedule-event.ts';
import { FUNCTION_NAMES } from '#lib/host/names.ts';
import { type Fc3Props, sYaml } from '#test/deploy/fc3-schema.ts';
import { hasNetworkNamespace, runNodeOffline } from '#test/deploy/offline.ts';

const exec = promisify(execFile);

const NAMES = FUNCTION_NAMES;
const SCHEDULED = ['trigger-dag', 'health-check', 'db-clean'] as const;
type Name = (typeof NAMES)[number];

/** osls' logical id prefix for a function: `on-upload` -> `OnDashupload`. */
const logicalId = (name: string) => name.charAt(0).toUpperCase() + name.slice(1).replaceAll('-', 'Dash');

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Condition?: string;
}
interface Template {
  Resources: Record<string, CfnResource>;
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  NotAction?: unknown;
}

const FAKE_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:airkick-dev-alerts';
const params = () => (loadServerless().params as { default: Record<string, string> }).default;

let template: Template;
const resources = () => template.Resources;
const props = (id: string): Record<string, unknown> => {
  const resource = resources()[id];
  if (!resource) throw new Error(`no ${id} in the template`);
  return resource.Properties ?? {};
};
const ofType = (type: string) => Object.entries(resources()).filter(([, r]) => r.Type === type);
const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

beforeAll(async () => {
  // Exactly `npm run build:functions` (the functions half of `npm run build`), the script operators run.
  await exec(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'build.ts'], {
    cwd: ROOT,
    timeout: 240_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const out = mkdtempSync(path.join(tmpdir(), 'airkick-osls-'));
  await runNodeOffline(
    path.join(ROOT, 'node_modules/osls/bin/serverless.js'),
    ['package', '--package', out, '--stage', 'dev', '--region', 'eu-west-1'],
    ROOT,
  );
  template = JSON.parse(readFileSync(path.join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 420_000);

describe('npm run build', () => {
  it('writes a CommonJS bundle and a metafile per function and cloud, and a zip per Lambda', () => {
    for (const name of NAMES) {
      for (const cloud of ['aws', 'aliyun']) {
        expect(existsSync(path.join(ROOT, 'dist', cloud, name, 'index.js')), `${cloud}/${name}`).toBe(true);
        expect(
          JSON.parse(readFileSync(path.join(ROOT, 'dist', cloud, name, 'package.json'), 'utf8')),
        ).toMatchObject({
          type: 'commonjs',
        });
        expect(existsSync(path.join(ROOT, 'dist', cloud, `${name}.meta.json`))).toBe(true);
      }
      expect(existsSync(path.join(ROOT, 'dist', 'aws', `${name}.zip`))).toBe(true);
    }
  });

  it('keeps @aws-sdk out of the FC bundles and @alicloud out of the Lambda bundles', () => {
    for (const name of NAMES) {
      for (const [cloud, foreign] of [
        ['aws', '/@alicloud/'],
        ['aliyun', '/@aws-sdk/'],
      ] as const) {
        const meta = JSON.parse(
          readFileSync(path.join(ROOT, 'dist', cloud, `${name}.meta.json`), 'utf8'),
        ) as {
          inputs: Record<string, unknown>;
        };
        const inputs = Object.keys(meta.inputs);
        // The entry point is there, so the metafile is the one of this bundle and lists real inputs.
        expect(inputs).toContain(`functions/${name}/${cloud}.ts`);
        expect(
          inputs.filter((input) => input.includes(`node_modules${foreign}`)),
          `${cloud}/${name}`,
        ).toEqual([]);
      }
    }
  });

  it('loads every bundle in a fresh Node process with the deployed environment and exposes handler', async () => {
    const awsEnv = (name: Name) => {
      const variables = (
        props(`${logicalId(name)}LambdaFunction`).Environment as { Variables: Record<string, unknown> }
      ).Variables;
      return Object.fromEntries(
        Object.entries(variables).map(([k, v]) => [k, typeof v === 'string' ? v : FAKE_TOPIC]),
      ) as Record<string, string>;
    };
    const fcEnv = (name: Name) =>
      (loadSYaml().resources as Record<string, { props: Fc3Props }>)[name]?.props.environmentVariables ?? {};
    const checks = NAMES.flatMap((name) => [
      { file: `./dist/aws/${name}/index.js`, env: { ...awsEnv(name), AWS_REGION: 'eu-west-1' } },
      { file: `./dist/aliyun/${name}/index.js`, env: fcEnv(name) },
    ]);
    await Promise.all(
      checks.map(async ({ file, env }) => {
        const { stdout } = await exec(
          process.execPath,
          ['-e', `const m = require(${JSON.stringify(file)}); process.stdout.write(typeof m.handler)`],
          {
            cwd: ROOT,
            timeout: 60_000,
            env: {
              PATH: process.env.PATH,
              AWS_ACCESS_KEY_ID: 'AKIDAIRKICKOFFLINE',
              AWS_SECRET_ACCESS_KEY: 'fake',
              ...env,
            },
          },
        );
        expect(stdout, file).toBe('function');
      }),
    );
  }, 120_000);
});

describe('osls package (serverless.yml)', () => {
  it('leaves no unresolved osls variable in the template', () => {
    expect(JSON.stringify(template)).not.toMatch(/\$\{(param|self|sls|opt|env|aws|file|cf|ssm|s3):/);
  });

  it('deploys each function from its zip, whose handler file is the bundle', () => {
    for (const name of NAMES) {
      const fn = props(`${logicalId(name)}LambdaFunction`);
      expect(fn).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs22.x', Architectures: ['arm64'] });
      expect((fn.Code as { S3Key: string }).S3Key).toMatch(new RegExp(`/${name}\\.zip$`));
      const [file] = String(fn.Handler).split('.');
      const zip = unzipSync(readFileSync(path.join(ROOT, 'dist', 'aws', `${name}.zip`)));
      expect(Object.keys(zip), name).toContain(`${file}.js`);
      const bundle = readFileSync(path.join(ROOT, 'dist', 'aws', name, 'index.js'));
      expect(
        Buffer.from(zip[`${file}.js`] ?? []).equals(bundle),
        `${name}.zip holds the current bundle`,
      ).toBe(true);
    }
  });

  it('schedules trigger-dag, health-check and db-clean with the slot time passed through', () => {
    const rules = ofType('AWS::Events::Rule');
    const p = params();
    const expected: Record<string, string | undefined> = {
      'trigger-dag': p.triggerSchedule,
      'health-check': p.healthSchedule,
      'db-clean': p.cleanSchedule,
    };
    for (const name of SCHEDULED) {
      const rule = rules.find(([id]) => id.startsWith(`${logicalId(name)}EventsRuleSchedule`))?.[1]
        .Properties;
      expect(rule, name).toBeDefined();
      expect(rule?.ScheduleExpression).toBe(expected[name]);
      expect(rule?.State).toBe('ENABLED');
      const [target] = (rule?.Targets ?? []) as {
        Arn: unknown;
        InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string };
      }[];
      expect(target?.Arn).toEqual({ 'Fn::GetAtt': [`${logicalId(name)}LambdaFunction`, 'Arn'] });
      const transformer = target?.InputTransformer;
      const variable = Object.entries(transformer?.InputPathsMap ?? {}).find(
        ([, jsonPath]) => jsonPath === '$.time',
      )?.[0];
      expect(variable, 'an input path variable for $.time').toBeDefined();
      // What EventBridge delivers, read by the same parser the functions use.
      const delivered = JSON.parse(
        String(transformer?.InputTemplate).replaceAll(
          `<${variable}>`,
          JSON.stringify('2026-11-21T06:00:00Z'),
        ),
      );
      const schedule = parseScheduleEvent(delivered);
      expect(schedule.slot.toISOString()).toBe('2026-11-21T06:00:00.000Z');
      expect(schedule.source).toBe('eventbridge');
    }
    expect(rules).toHaveLength(SCHEDULED.length);
  });

  it('subscribes on-upload to the existing bucket with its prefix and suffix rules', () => {
    const p = params();
    const [, custom] = ofType('Custom::S3').find(([id]) => id.startsWith('OnDashupload')) ?? [];
    expect(custom?.Properties).toMatchObject({
      FunctionName: 'airkick-dev-on-upload',
      BucketName: p.uploadBucket,
      BucketConfigs: [
        { Event: 's3:ObjectCreated:*', Rules: [{ Prefix: p.uploadPrefix }, { Suffix: p.uploadSuffix }] },
      ],
    });
    // The rules the function applies name the same bucket, prefix and suffix.
    const variables = (
      props('OnDashuploadLambdaFunction').Environment as { Variables: Record<string, string> }
    ).Variables;
    const rules = JSON.parse(variables.AIRKICK_UPLOAD_RULES ?? '[]') as Record<string, string>[];
    expect(rules).toContainEqual({
      bucket: p.uploadBucket,
      prefix: p.uploadPrefix,
      suffix: p.uploadSuffix,
      dagId: p.uploadDagId,
    });
    expect(rules.map((r) => r.prefix)).toContain(p.uploadBufferedPrefix);
  });

  it('buffers uploads through SQS with per-record failure reporting and a dead-letter queue', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping').map(([, r]) => r.Properties ?? {});
    const mapping = mappings.find((m) => JSON.stringify(m.EventSourceArn).includes('UploadQueue'));
    expect(mapping).toMatchObject({
      FunctionName: { 'Fn::GetAtt': ['OnDashuploadLambdaFunction', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      Enabled: true,
    });
    const queue = props('UploadQueue');
    expect(queue.RedrivePolicy).toMatchObject({
      deadLetterTargetArn: { 'Fn::GetAtt': ['UploadDeadLetterQueue', 'Arn'] },
    });
    expect((queue.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount).toBeGreaterThanOrEqual(3);
    // A message must stay invisible while the function may still be working on it.
    expect(Number(queue.VisibilityTimeout)).toBeGreaterThanOrEqual(
      Number(props('OnDashuploadLambdaFunction').Timeout),
    );
    expect(Number(props('UploadDeadLetterQueue').MessageRetentionPeriod)).toBe(1_209_600);
    const statement = (props('UploadQueuePolicy').PolicyDocument as { Statement: Statement[] }).Statement[0];
    expect(statement).toMatchObject({
      Principal: { Service: 's3.amazonaws.com' },
      Condition: { ArnEquals: { 'aws:SourceArn': `arn:aws:s3:::${params().uploadBucket}` } },
    });
  });

  it('sends every asynchronous invocation that failed all retries to the failure queue', () => {
    for (const name of NAMES) {
      expect(props(`${logicalId(name)}LambdaEvConf`), name).toMatchObject({
        FunctionName: { Ref: `${logicalId(name)}LambdaFunction` },
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': ['FailedInvocationsQueue', 'Arn'] } },
        },
      });
    }
  });

  it('grants nothing on Resource "*" and no wildcard action, in any policy of the stack', () => {
    const documents: { where: string; statements: Statement[] }[] = [];
    for (const [id, resource] of Object.entries(resources())) {
      const p = resource.Properties ?? {};
      const docs = [
        ...list(p.Policies as { PolicyName: unknown; PolicyDocument: { Statement: Statement[] } }[]).map(
          (x) => x.PolicyDocument,
        ),
        ...(resource.Type.endsWith('Policy') && p.PolicyDocument
          ? [p.PolicyDocument as { Statement: Statement[] }]
          : []),
      ];
      for (const doc of docs) documents.push({ where: id, statements: list(doc.Statement) });
    }
    expect(documents.length).toBeGreaterThanOrEqual(6);
    const problems: string[] = [];
    for (const { where, statements } of documents) {
      for (const s of statements) {
        if (s.Effect !== 'Allow') continue;
        if (s.NotResource !== undefined || s.NotAction !== undefined)
          problems.push(`${where}: NotResource/NotAction`);
        if (s.Resource === undefined) problems.push(`${where}: statement without Resource`);
        for (const r of list(s.Resource))
          if (r === '*') problems.push(`${where}: Resource "*" for ${String(s.Action)}`);
        for (const a of list(s.Action))
          if (a === '*' || a.endsWith(':*')) problems.push(`${where}: action ${a}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives each function its own role, with the MWAA grants on the right ARNs', () => {
    const roles: Record<Name, string> = {
      'trigger-dag': 'TriggerDagRole',
      'on-upload': 'OnUploadRole',
      'health-check': 'HealthCheckRole',
      'db-clean': 'DbCleanRole',
    };
    const p = params();
    for (const name of NAMES) {
      expect(props(`${logicalId(name)}LambdaFunction`).Role).toEqual({ 'Fn::GetAtt': [roles[name], 'Arn'] });
      const [policy] = props(roles[name]).Policies as { PolicyDocument: { Statement: Statement[] } }[];
      const statements = policy?.PolicyDocument.Statement ?? [];
      const grant = (action: string) => statements.find((s) => list(s.Action).includes(action));
      const sub = (s: Statement | undefined) =>
        (s?.Resource as { 'Fn::Sub'?: string } | undefined)?.['Fn::Sub'];
      expect(sub(grant('airflow:InvokeRestApi'))).toBe(
        `arn:\${AWS::Partition}:airflow:\${AWS::Region}:\${AWS::AccountId}:role/${p.mwaaEnvironment}/${p.airflowRole}`,
      );
      expect(grant('airflow:CreateWebLoginToken')).toBe(grant('airflow:InvokeRestApi'));
      const cli = grant('airflow:CreateCliToken');
      if (name === 'db-clean') {
        expect(sub(cli)).toBe(
          `arn:\${AWS::Partition}:airflow:\${AWS::Region}:\${AWS::AccountId}:environment/${p.mwaaEnvironment}`,
        );
      } else expect(cli, `${name} needs no CLI token`).toBeUndefined();
      expect(grant('sns:Publish')?.Resource).toEqual({ Ref: 'AlertTopic' });
      // Alert state: read and conditionally update items of the one table, nothing more.
      const dynamodb = statements.filter((s) => list(s.Action).some((a) => a.startsWith('dynamodb:')));
      expect(dynamodb, name).toEqual([
        expect.objectContaining({
          Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          Resource: { 'Fn::GetAtt': ['AlertStateTable', 'Arn'] },
        }),
      ]);
      expect(sub(grant('ssm:GetParameter'))).toMatch(/:parameter\/airkick\/dev\/\*$/);
      expect(list(grant('sqs:ReceiveMessage')?.Resource)).toEqual(
        name === 'on-upload' ? [{ 'Fn::GetAtt': ['UploadQueue', 'Arn'] }] : [],
      );
      expect(sub(grant('logs:PutLogEvents'))).toMatch(
        new RegExp(`:log-group:/aws/lambda/airkick-dev-${name}:\\*$`),
      );
    }
    expect(ofType('AWS::IAM::Role').map(([id]) => id)).not.toContain('IamRoleLambdaExecution');
  });

  it('keeps alert state in its own DynamoDB table, outside Airflow, and points every function at it', () => {
    expect(props('AlertStateTable')).toMatchObject({
      TableName: 'airkick-dev-alert-state',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: DYNAMODB_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: DYNAMODB_KEY, AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: DYNAMODB_TTL_ATTRIBUTE, Enabled: true },
    });
    for (const name of NAMES) {
      const variables = (
        props(`${logicalId(name)}LambdaFunction`).Environment as { Variables: Record<string, unknown> }
      ).Variables;
      expect(variables.AIRKICK_ALERT_STATE, name).toBe('dynamodb://airkick-dev-alert-state');
      expect(parseDynamoDbState(String(variables.AIRKICK_ALERT_STATE))).toEqual({
        table: 'airkick-dev-alert-state',
      });
    }
  });

  it('adds a dashboard and alarms for function errors and an unhealthy Airflow', () => {
    const body = (props('Dashboard').DashboardBody as { 'Fn::Sub': string })['Fn::Sub'];
    const dashboard = JSON.parse(body.replace(/\$\{[^}]+\}/g, 'x')) as { widgets: unknown[] };
    expect(dashboard.widgets.length).toBeGreaterThanOrEqual(3);
    for (const metric of ['DagRunsTriggered', 'TriggerFailures', 'SchedulerHeartbeatAgeSeconds', 'Healthy']) {
      expect(body).toContain(metric);
    }
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties ?? {});
    for (const name of NAMES) {
      expect(alarms, name).toContainEqual(
        expect.objectContaining({
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: `${logicalId(name)}LambdaFunction` } }],
          AlarmActions: [{ Ref: 'AlertTopic' }],
        }),
      );
    }
    expect(props('UnhealthyAlarm')).toMatchObject({
      Metrics: [{ Expression: 'SELECT MIN(Healthy) FROM airkick', ReturnData: true }],
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });
});

describe('s.yaml (Serverless Devs 3, fc3)', () => {
  const rendered = () => loadSYaml();

  it('renders without s config and matches the fc3 properties the project uses', () => {
    const doc = rendered();
    expect(unresolvedReferences(doc)).toEqual([]);
    const parsed = sYaml.safeParse(doc);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    expect(Object.keys(doc.resources ?? {}).sort()).toEqual([...NAMES].sort());
  });

  it('renders the same with `s preview` itself', async () => {
    if (!hasNetworkNamespace()) {
      // s reports usage and checks for updates in the background; without a network namespace to
      // contain that, this check would reach beyond the npm registry. The schema check above stands.
      console.warn('s preview not run: no network namespace (unshare -rn) on this machine');
      return;
    }
    const { stdout } = await runNodeOffline(
      path.join(ROOT, 'node_modules/@serverless-devs/s/bin/s'),
      ['preview', '-o', 'json'],
      ROOT,
      60_000,
    );
    const preview = JSON.parse(stdout.slice(stdout.indexOf('{'))) as Record<string, unknown>;
    expect(preview.resources).toEqual(rendered().resources);
  }, 90_000);

  it('points each function at its built code folder and handler file', () => {
    const doc = sYaml.parse(rendered());
    for (const name of NAMES) {
      const p = doc.resources[name]?.props;
      expect(p?.code).toBe(`./dist/aliyun/${name}`);
      const [file] = String(p?.handler).split('.');
      expect(existsSync(path.join(ROOT, String(p?.code), `${file}.js`)), name).toBe(true);
    }
  });

  it('gives on-upload an OSS trigger with prefix/suffix, an invocation role, retries and a failure destination', () => {
    const p = sYaml.parse(rendered()).resources['on-upload']?.props;
    const oss = p?.triggers.find((t) => t.triggerType === 'oss');
    expect(oss).toMatchObject({
      invocationRole: expect.stringMatching(/^acs:ram::\d{16}:role\//),
      triggerConfig: { filter: { key: { prefix: 'incoming/', suffix: '.csv' } } },
    });
    expect(p?.asyncInvokeConfig.maxAsyncRetryAttempts).toBeGreaterThan(0);
    expect(p?.asyncInvokeConfig.destinationConfig.onFailure.destination).toMatch(
      /^acs:mns:.*\/queues\/[^/]+\/messages$/,
    );
    const rules = JSON.parse(p?.environmentVariables.AIRKICK_UPLOAD_RULES ?? '[]');
    expect(rules).toEqual([
      { bucket: 'my-landing-bucket', prefix: 'incoming/', suffix: '.csv', dagId: 'example_ingest' },
    ]);
  });

  it('passes each timer slot to the same schedule parser the functions use', () => {
    const doc = sYaml.parse(rendered());
    for (const name of SCHEDULED) {
      const timer = doc.resources[name]?.props.triggers.find((t) => t.triggerType === 'timer');
      expect(timer, name).toBeDefined();
      const event = Buffer.from(
        JSON.stringify({
          triggerTime: '2026-11-21T06:00:00Z',
          triggerName: timer?.triggerName,
          payload: timer?.triggerType === 'timer' ? timer.triggerConfig.payload : undefined,
        }),
      );
      const schedule = parseScheduleEvent(event);
      expect(schedule.slot.toISOString()).toBe('2026-11-21T06:00:00.000Z');
      expect(schedule.source).toBe('fc-timer');
    }
  });

  it('configures the same variables on both clouds, apart from the AWS-only SNS topic', () => {
    const fc = sYaml.parse(rendered());
    for (const name of NAMES) {
      const aws = Object.keys(
        (props(`${logicalId(name)}LambdaFunction`).Environment as { Variables: Record<string, unknown> })
          .Variables,
      ).filter((k) => k !== 'AIRKICK_ALERT_SNS_TOPIC_ARN');
      expect(Object.keys(fc.resources[name]?.props.environmentVariables ?? {}).sort(), name).toEqual(
        aws.sort(),
      );
    }
  });

  it('keeps alert state out of the watched Airflow by default: Redis when configured, else per container', () => {
    const doc = sYaml.parse(rendered());
    for (const name of NAMES) {
      expect(doc.resources[name]?.props.environmentVariables.AIRKICK_ALERT_STATE, name).toBe('');
    }
  });

  it('keeps the RAM policies least-privilege: DMS login tokens, its own log store and failure queue', () => {
    const policies = (
      rendered().vars as unknown as { ramPolicies: Record<string, { Statement: Statement[] }> }
    ).ramPolicies;
    const fn = policies.function?.Statement ?? [];
    expect(fn.flatMap((s) => list(s.Action))).toEqual(
      expect.arrayContaining(['dms:CreateAirflowLoginToken', 'log:PostLogStoreLogs', 'mns:SendMessage']),
    );
    // Only the DMS action, which has no documented resource ARN, may use "*".
    expect(fn.filter((s) => s.Resource === '*').flatMap((s) => list(s.Action))).toEqual([
      'dms:CreateAirflowLoginToken',
    ]);
    expect(policies.ossInvocation?.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['fc:InvokeFunction'],
        Resource: 'acs:fc:cn-hangzhou:1234567890123456:functions/airkick-dev-on-upload',
      },
    ]);
  });
});
