import { describe, expect, it } from 'vitest';
import { parseConf, parseList, parseRetention, parseTimeout } from '#cli/args.ts';
import { buildInvokeRequest } from '#cli/commands/invoke.ts';
import { parseStates } from '#cli/commands/runs.ts';
import { UsageError } from '#cli/exit.ts';
import { localEnv, parseStartArgs } from '#cli/local/options.ts';
import { uploadConfig } from '#lib/config.ts';
import { matchRule } from '#lib/events/upload-rules.ts';

describe('option values', () => {
  it('reads --conf inline or from @file, keeping quotes and unicode', () => {
    const conf = { q: `it's "quoted"`, u: 'ü 日本語 🚀' };
    expect(parseConf(JSON.stringify(conf))).toEqual(conf);
    expect(parseConf('@conf.json', (path) => (path === 'conf.json' ? JSON.stringify(conf) : ''))).toEqual(
      conf,
    );
  });

  it('rejects a --conf that is not a JSON object, or a file that cannot be read', () => {
    expect(() => parseConf('[1,2]')).toThrow(/must be a JSON object/);
    expect(() => parseConf('{nope')).toThrow(/not valid JSON/);
    expect(() => parseConf('@/no/such/file.json')).toThrow(/ENOENT/);
    expect(() => parseConf('{')).toThrow(UsageError);
  });

  it('reads retentions in hours, days and weeks', () => {
    expect(parseRetention('30d')).toBe(30);
    expect(parseRetention('30')).toBe(30);
    expect(parseRetention('2w')).toBe(14);
    expect(parseRetention('36h')).toBe(1.5);
    expect(() => parseRetention('30 days')).toThrow(/30d, 12h or 2w/);
    expect(() => parseRetention('-3d')).toThrow(UsageError);
  });

  it('reads lists, states and timeouts', () => {
    expect(parseList('dag_run, task_instance', '--tables')).toEqual(['dag_run', 'task_instance']);
    expect(() => parseList('a;b', '--tables')).toThrow(/"a;b" is not valid/);
    expect(parseStates('failed,running')).toEqual(['failed', 'running']);
    expect(() => parseStates('broken')).toThrow(/not one of queued, running, success, failed/);
    expect(parseTimeout(undefined, 60)).toBe(60_000);
    expect(parseTimeout('5', 60)).toBe(5_000);
    expect(() => parseTimeout('0', 60)).toThrow(/--timeout/);
  });
});

describe('npm start arguments', () => {
  it('starts the local Airflow when neither --env nor AIRKICK_ENV is given', () => {
    const options = parseStartArgs([], {}, true, '/work');
    expect(options).toEqual({
      mode: 'embedded',
      environment: undefined,
      uploads: '/work/local/uploads',
      once: false,
      logFormat: 'pretty',
      help: false,
    });
    // An empty AIRKICK_ENV (a template's unset value) is no environment either.
    expect(parseStartArgs([], { AIRKICK_ENV: ' ' }, false).mode).toBe('embedded');
  });

  it('uses --env, else AIRKICK_ENV, and logs JSON off a terminal', () => {
    const fromFlag = parseStartArgs(
      ['--env', 'mwaa://a?region=eu-west-1', '--once', '--uploads', 'drop'],
      { AIRKICK_ENV: 'http://x' },
      false,
      '/w',
    );
    expect(fromFlag).toMatchObject({
      mode: 'remote',
      environment: 'mwaa://a?region=eu-west-1',
      once: true,
      uploads: '/w/drop',
      logFormat: 'json',
    });
    expect(parseStartArgs([], { AIRKICK_ENV: 'http://x' }, true)).toMatchObject({
      mode: 'remote',
      environment: 'http://x',
    });
    expect(() => parseStartArgs(['--log-format', 'xml'], {}, true)).toThrow(/pretty or json/);
    expect(() => parseStartArgs(['--nope'], {}, true)).toThrow(UsageError);
  });

  it('gives the functions local defaults without overriding what the user set', () => {
    const env = localEnv(
      { AIRKICK_TRIGGER_DAGS: 'mine', AIRKICK_UPLOAD_RULES: '' },
      { environment: 'http://admin@127.0.0.1:8080', password: 'pw-123456' },
    );
    expect(env).toMatchObject({
      AIRKICK_ENV: 'http://admin@127.0.0.1:8080',
      AIRKICK_AIRFLOW_PASSWORD: 'pw-123456',
      AIRKICK_TRIGGER_DAGS: 'mine',
      AIRKICK_ALERT_STATE: 'memory',
      AIRKICK_CLEAN_DRY_RUN: 'true',
    });
    // The on-upload config parser takes them; landing/ raises an asset event, anything else a run.
    const { rules } = uploadConfig(env);
    const route = (key: string) => matchRule(rules, { bucket: 'local', key });
    expect(route('landing/a.csv')).toMatchObject({ asset: 's3://airkick-assets/landing' });
    expect(route('landing-not/a.csv')).toMatchObject({ dagId: 'airkick_conf' });
    expect(route('x/y.csv')).toMatchObject({ dagId: 'airkick_conf', conf: { source_folder: 'local' } });
    expect(localEnv({}, { environment: 'mwaa://a?region=r' })).not.toHaveProperty('AIRKICK_AIRFLOW_PASSWORD');
  });
});

describe('airkick invoke requests', () => {
  it('names the deployed function airkick-<stage>-<function> and reads the region per cloud', () => {
    const aws = buildInvokeRequest(['trigger-dag', '--cloud', 'aws'], { AWS_REGION: 'eu-west-1' });
    expect(aws.request).toEqual({
      cloud: 'aws',
      functionName: 'airkick-dev-trigger-dag',
      region: 'eu-west-1',
      accountId: undefined,
      endpoint: undefined,
      payload: '{}',
    });
    const fc = buildInvokeRequest(['health-check', '--cloud', 'aliyun', '--stage', 'prod', '--json'], {
      ALIBABA_CLOUD_REGION: 'cn-shanghai',
      ALIBABA_CLOUD_ACCOUNT_ID: '123',
    });
    expect(fc.request).toMatchObject({
      functionName: 'airkick-prod-health-check',
      region: 'cn-shanghai',
      accountId: '123',
    });
    expect(fc.json).toBe(true);
    const named = buildInvokeRequest(
      ['on-upload', '--cloud', 'aws', '--name', 'custom', '--event', 'e.json'],
      {},
      () => '{"Records": []}',
    );
    expect(named.request).toMatchObject({ functionName: 'custom', payload: '{"Records": []}' });
  });

  it('refuses what it cannot send', () => {
    expect(() => buildInvokeRequest(['trigger-dag'], {})).toThrow(/--cloud must be aws or aliyun/);
    expect(() => buildInvokeRequest(['nope', '--cloud', 'aws'], {})).toThrow(/unknown function "nope"/);
    expect(() => buildInvokeRequest(['on-upload', '--cloud', 'aws'], {})).toThrow(/needs --event/);
    expect(() =>
      buildInvokeRequest(['trigger-dag', '--cloud', 'aws', '--event', 'x'], {}, () => 'not json'),
    ).toThrow(/not valid JSON/);
    expect(() => buildInvokeRequest(['trigger-dag', '--cloud', 'aws', '--endpoint', 'ftp://x'], {})).toThrow(
      /http\(s\) URL/,
    );
  });
});
