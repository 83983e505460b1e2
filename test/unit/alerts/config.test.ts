import { describe, expect, it } from 'vitest';
import { loadAlertsConfig, parseAlertsEnv, type SecretResolver } from '#lib/alerts/index.ts';
import { AirkickError, isAirkickError } from '#lib/errors.ts';

const noResolver: SecretResolver = async () => {
  throw new Error('no reference expected');
};

function configMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isAirkickError(error, 'CONFIG')).toBe(true);
    return (error as AirkickError).message;
  }
  throw new Error('expected a CONFIG error');
}

async function asyncConfigMessage(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAirkickError(error, 'CONFIG')).toBe(true);
  return (error as AirkickError).message;
}

describe('alert configuration', () => {
  it('defaults to no channel, per-container state (never the watched Airflow) and a 60 min repeat', async () => {
    const config = await loadAlertsConfig({ PATH: '/bin' }, { resolver: noResolver });
    expect(config).toEqual({
      channels: {},
      repeatIntervalMs: 3_600_000,
      state: { kind: 'memory', implicit: true },
      stateTimeoutMs: 2_000,
      stateTtlMs: 30 * 86_400_000,
      timeoutMs: 10_000,
      retries: 3,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads several channels at once and treats empty values as unset', async () => {
    const config = await loadAlertsConfig(
      {
        AIRKICK_ALERT_SLACK_URL:
          'https://hooks.slack.com/services/example-team/B000/abcdefghijklmnopqrstuvwx',
        AIRKICK_ALERT_DINGTALK_URL: 'https://oapi.dingtalk.com/robot/send?access_token=tok123456',
        AIRKICK_ALERT_DINGTALK_SECRET: 'SECabcdef',
        AIRKICK_ALERT_FEISHU_URL: ' ',
        AIRKICK_ALERT_SNS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:alerts',
        AIRKICK_ALERT_REPEAT_MINUTES: '0',
        AIRKICK_ALERT_STATE: 'redis://127.0.0.1:6379/0',
      },
      { resolver: noResolver },
    );
    expect(config.channels.slack?.url).toContain('hooks.slack.com');
    expect(config.channels.dingtalk).toEqual({
      url: 'https://oapi.dingtalk.com/robot/send?access_token=tok123456',
      secret: 'SECabcdef',
    });
    expect(config.channels.feishu).toBeUndefined();
    expect(config.channels.sns).toEqual({ topicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts' });
    expect(config.repeatIntervalMs).toBe(0);
    expect(config.state).toEqual({ kind: 'redis', url: 'redis://127.0.0.1:6379/0' });
  });

  it.each([
    ['dynamodb://airkick-prod-alert-state', { kind: 'dynamodb', table: 'airkick-prod-alert-state' }],
    [
      'dynamodb://airkick.alerts_v2?region=cn-north-1',
      { kind: 'dynamodb', table: 'airkick.alerts_v2', region: 'cn-north-1' },
    ],
    [
      'rediss://:pw@r-bp1.redis.rds.aliyuncs.com:6380/2',
      { kind: 'redis', url: 'rediss://:pw@r-bp1.redis.rds.aliyuncs.com:6380/2' },
    ],
    ['memory', { kind: 'memory' }],
    ['airflow-variable', { kind: 'airflow-variable' }],
  ])('reads AIRKICK_ALERT_STATE=%s', async (value, expected) => {
    const config = await loadAlertsConfig(
      {
        AIRKICK_ALERT_STATE: value,
        AIRKICK_ALERT_STATE_TIMEOUT_MS: '750',
        AIRKICK_ALERT_STATE_TTL_DAYS: '0',
      },
      { resolver: noResolver },
    );
    expect(config.state).toEqual(expected);
    expect([config.stateTimeoutMs, config.stateTtlMs]).toEqual([750, 0]);
  });

  it('resolves a state reference to a Redis URL with its password, and masks it', async () => {
    const config = await loadAlertsConfig(
      { AIRKICK_ALERT_STATE: 'secretsmanager:airkick/redis' },
      { resolver: async () => 'redis://:state-pw-7781@10.0.0.5:6379/0' },
    );
    expect(config.state).toEqual({ kind: 'redis', url: 'redis://:state-pw-7781@10.0.0.5:6379/0' });
    expect(
      new AirkickError('TRANSPORT', 'could not use redis://:state-pw-7781@10.0.0.5').message,
    ).not.toContain('state-pw-7781');
  });

  it('resolves ssm: and secretsmanager: references through the injected resolver', async () => {
    const seen: string[] = [];
    const resolver: SecretResolver = async (ref) => {
      seen.push(`${ref.source}|${ref.name}`);
      return ref.source === 'ssm'
        ? 'https://hooks.slack.com/services/example-team/B1/resolvedresolvedresolved'
        : 'whsec-resolved';
    };
    const config = await loadAlertsConfig(
      {
        AIRKICK_ALERT_SLACK_URL: 'ssm:/airkick/slack-url',
        AIRKICK_ALERT_WEBHOOK_URL: 'https://example.com/hook',
        AIRKICK_ALERT_WEBHOOK_SECRET: 'secretsmanager:airkick/webhook',
      },
      { resolver },
    );
    expect(seen.sort()).toEqual(['secretsmanager|airkick/webhook', 'ssm|/airkick/slack-url']);
    expect(config.channels.slack?.url).toBe(
      'https://hooks.slack.com/services/example-team/B1/resolvedresolvedresolved',
    );
    expect(config.channels.webhook?.secret).toBe('whsec-resolved');
  });

  it('names the variable and what it expects, without echoing the (secret) value', () => {
    const message = configMessage(() =>
      parseAlertsEnv({ AIRKICK_ALERT_SLACK_URL: 'hooks.slack.com/services/T/B/supersecrettoken' }),
    );
    expect(message).toBe(
      'Invalid alert configuration: AIRKICK_ALERT_SLACK_URL expects an https URL (http only for localhost) or a secret reference (ssm:/name, secretsmanager:name)',
    );
    expect(message).not.toContain('supersecrettoken');
  });

  it('refuses plain http except on localhost', () => {
    expect(
      configMessage(() => parseAlertsEnv({ AIRKICK_ALERT_TEAMS_URL: 'http://example.com/x' })),
    ).toContain('AIRKICK_ALERT_TEAMS_URL expects an https URL');
    expect(parseAlertsEnv({ AIRKICK_ALERT_TEAMS_URL: 'http://127.0.0.1:8080/x' })).toEqual({
      AIRKICK_ALERT_TEAMS_URL: 'http://127.0.0.1:8080/x',
    });
  });

  it.each([
    [
      'AIRKICK_ALERT_REPEAT_MINUTES',
      'soon',
      'AIRKICK_ALERT_REPEAT_MINUTES expects a whole number from 0 to 10080',
    ],
    [
      'AIRKICK_ALERT_REPEAT_MINUTES',
      '-5',
      'AIRKICK_ALERT_REPEAT_MINUTES expects a whole number from 0 to 10080',
    ],
    [
      'AIRKICK_ALERT_STATE',
      'dynamodb',
      'AIRKICK_ALERT_STATE expects dynamodb://TABLE[?region=REGION], a redis:// or rediss:// URL, memory, or airflow-variable',
    ],
    ['AIRKICK_ALERT_STATE', 'dynamodb://x', 'AIRKICK_ALERT_STATE expects dynamodb://TABLE[?region=REGION]'],
    [
      'AIRKICK_ALERT_STATE',
      'dynamodb://alert-state?region=Europe',
      'AIRKICK_ALERT_STATE expects dynamodb://TABLE[?region=REGION]',
    ],
    [
      'AIRKICK_ALERT_STATE_TIMEOUT_MS',
      '50',
      'AIRKICK_ALERT_STATE_TIMEOUT_MS expects a whole number from 100 to 30000',
    ],
    [
      'AIRKICK_ALERT_STATE_TTL_DAYS',
      'forever',
      'AIRKICK_ALERT_STATE_TTL_DAYS expects a whole number from 0 to 3650',
    ],
    ['AIRKICK_ALERT_SNS_TOPIC_ARN', 'alerts', 'AIRKICK_ALERT_SNS_TOPIC_ARN expects an SNS topic ARN'],
    ['AIRKICK_ALERT_RETRIES', '99', 'AIRKICK_ALERT_RETRIES expects a whole number from 0 to 10'],
  ])('rejects %s=%s', (name, value, expected) => {
    expect(configMessage(() => parseAlertsEnv({ [name]: value }))).toContain(expected);
  });

  it('catches a misspelt variable', () => {
    expect(configMessage(() => parseAlertsEnv({ AIRKICK_ALERT_SLAK_URL: 'https://x' }))).toContain(
      'unknown variable AIRKICK_ALERT_SLAK_URL',
    );
  });

  it('reports a secret without its URL, and a webhook without its secret', () => {
    const message = configMessage(() =>
      parseAlertsEnv({
        AIRKICK_ALERT_FEISHU_SECRET: 'abcdef',
        AIRKICK_ALERT_WEBHOOK_URL: 'https://example.com/h',
      }),
    );
    expect(message).toContain('AIRKICK_ALERT_FEISHU_SECRET is set but AIRKICK_ALERT_FEISHU_URL is not');
    expect(message).toContain('AIRKICK_ALERT_WEBHOOK_URL needs AIRKICK_ALERT_WEBHOOK_SECRET');
  });

  it('names the variable and reference when resolution fails, and checks the resolved value', async () => {
    const failing: SecretResolver = async () => {
      throw Object.assign(new Error('Parameter not found'), { name: 'ParameterNotFound' });
    };
    expect(
      await asyncConfigMessage(
        loadAlertsConfig({ AIRKICK_ALERT_WECOM_URL: 'ssm:/nope' }, { resolver: failing }),
      ),
    ).toBe('AIRKICK_ALERT_WECOM_URL: could not resolve ssm:/nope (ParameterNotFound: Parameter not found)');
    const notUrl: SecretResolver = async () => 'not-a-url-but-secret';
    const message = await asyncConfigMessage(
      loadAlertsConfig({ AIRKICK_ALERT_WECOM_URL: 'secretsmanager:wecom' }, { resolver: notUrl }),
    );
    expect(message).toContain('AIRKICK_ALERT_WECOM_URL resolved to a value that is not an https URL');
    expect(message).not.toContain('not-a-url-but-secret');
  });

  it('registers resolved secrets so AirkickError messages mask them', async () => {
    await loadAlertsConfig(
      { AIRKICK_ALERT_DINGTALK_URL: 'https://oapi.dingtalk.com/robot/send?access_token=tok-registered-42' },
      { resolver: noResolver },
    );
    expect(new AirkickError('TRANSPORT', 'upstream said tok-registered-42').message).toBe(
      'upstream said ***',
    );
  });
});
