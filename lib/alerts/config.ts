import { AirkickError } from '#lib/errors.ts';
import * as z from '#lib/zod.ts';
import { DEFAULT_STATE_TIMEOUT_MS } from './monitor.ts';
import {
  awsSecretResolver,
  parseSecretReference,
  registerSecretValue,
  resolveSecretValue,
  type SecretResolver,
} from './secrets.ts';

/** Every variable the alerts read; any other `AIRKICK_ALERT_*` is a typo and fails. */
export const ALERT_ENV = {
  slackUrl: 'AIRKICK_ALERT_SLACK_URL',
  dingtalkUrl: 'AIRKICK_ALERT_DINGTALK_URL',
  dingtalkSecret: 'AIRKICK_ALERT_DINGTALK_SECRET',
  feishuUrl: 'AIRKICK_ALERT_FEISHU_URL',
  feishuSecret: 'AIRKICK_ALERT_FEISHU_SECRET',
  wecomUrl: 'AIRKICK_ALERT_WECOM_URL',
  teamsUrl: 'AIRKICK_ALERT_TEAMS_URL',
  webhookUrl: 'AIRKICK_ALERT_WEBHOOK_URL',
  webhookSecret: 'AIRKICK_ALERT_WEBHOOK_SECRET',
  snsTopicArn: 'AIRKICK_ALERT_SNS_TOPIC_ARN',
  repeatMinutes: 'AIRKICK_ALERT_REPEAT_MINUTES',
  state: 'AIRKICK_ALERT_STATE',
  stateTimeoutMs: 'AIRKICK_ALERT_STATE_TIMEOUT_MS',
  stateTtlDays: 'AIRKICK_ALERT_STATE_TTL_DAYS',
  timeoutMs: 'AIRKICK_ALERT_TIMEOUT_MS',
  retries: 'AIRKICK_ALERT_RETRIES',
} as const;

export const DEFAULT_REPEAT_MINUTES = 60;

export const DEFAULT_STATE_TTL_DAYS = 30;

/**
 * Where de-duplication state lives. `memory` with `implicit` is what an unset `AIRKICK_ALERT_STATE`
 * gives: each container de-duplicates on its own, and the cold start says so at WARN.
 */
export type StateConfig =
  | { kind: 'memory'; implicit?: true }
  | { kind: 'dynamodb'; table: string; region?: string }
  | { kind: 'redis'; url: string }
  | { kind: 'airflow-variable' };

/** The resolved configuration: references replaced by their values, every value checked. */
export interface AlertsConfig {
  slack?: { url: string };
  dingtalk?: { url: string; secret?: string };
  feishu?: { url: string; secret?: string };
  wecom?: { url: string };
  teams?: { url: string };
  webhook?: { url: string; secret: string };
  sns?: { topicArn: string };
  repeatIntervalMs: number;
  state: StateConfig;
  /** Longest one state read or write may take before alerting goes on without it. */
  stateTimeoutMs: number;
  /** States expire this long after their last write (DynamoDB TTL, Redis PX); 0 never. */
  stateTtlMs: number;
  timeoutMs: number;
  retries: number;
}

const REF_HINT = 'or a secret reference (ssm:/name, secretsmanager:name)';
const URL_HINT = `expects an https URL (http only for localhost) ${REF_HINT}`;

export function isWebhookUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

function isRedisUrl(value: string): boolean {
  return /^rediss?:\/\/[^\s]+$/.test(value) && URL.canParse(value);
}

/**
 * `dynamodb://TABLE` or `dynamodb://TABLE?region=eu-west-1`: the table name as DynamoDB allows it
 * (3-255 of `A-Za-z0-9_.-`), the region optional (by default the function's own).
 */
export function parseDynamoDbState(value: string): { table: string; region?: string } | undefined {
  const match = /^dynamodb:\/\/([A-Za-z0-9_.-]{3,255})(?:\?region=([a-z]{2}(?:-[a-z]+)+-\d))?$/.exec(value);
  if (!match?.[1]) return undefined;
  return { table: match[1], ...(match[2] ? { region: match[2] } : {}) };
}

const STATE_HINT =
  'expects dynamodb://TABLE[?region=REGION], a redis:// or rediss:// URL, memory, or airflow-variable';

const isRef = (value: string) => parseSecretReference(value) !== undefined;
const urlOrRef = z.string().check(z.refine((v) => isWebhookUrl(v) || isRef(v), { message: URL_HINT }));
const secretOrRef = z.string().check(z.minLength(1, { message: `expects a non-empty secret ${REF_HINT}` }));
const integer = (min: number, max: number) =>
  z
    .pipe(
      z.string().check(z.regex(/^\d+$/, { message: `expects a whole number from ${min} to ${max}` })),
      z.transform(Number),
    )
    .check(
      z.refine((n) => n >= min && n <= max, { message: `expects a whole number from ${min} to ${max}` }),
    );

const envSchema = z.strictObject({
  [ALERT_ENV.slackUrl]: z.optional(urlOrRef),
  [ALERT_ENV.dingtalkUrl]: z.optional(urlOrRef),
  [ALERT_ENV.dingtalkSecret]: z.optional(secretOrRef),
  [ALERT_ENV.feishuUrl]: z.optional(urlOrRef),
  [ALERT_ENV.feishuSecret]: z.optional(secretOrRef),
  [ALERT_ENV.wecomUrl]: z.optional(urlOrRef),
  [ALERT_ENV.teamsUrl]: z.optional(urlOrRef),
  [ALERT_ENV.webhookUrl]: z.optional(urlOrRef),
  [ALERT_ENV.webhookSecret]: z.optional(secretOrRef),
  [ALERT_ENV.snsTopicArn]: z.optional(
    z.string().check(
      z.regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, {
        message: 'expects an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)',
      }),
    ),
  ),
  [ALERT_ENV.repeatMinutes]: z.optional(integer(0, 10_080)),
  [ALERT_ENV.state]: z.optional(
    z
      .string()
      .check(
        z.refine(
          (v) =>
            v === 'airflow-variable' ||
            v === 'memory' ||
            parseDynamoDbState(v) !== undefined ||
            isRedisUrl(v) ||
            isRef(v),
          { message: `${STATE_HINT} ${REF_HINT}` },
        ),
      ),
  ),
  [ALERT_ENV.stateTimeoutMs]: z.optional(integer(100, 30_000)),
  [ALERT_ENV.stateTtlDays]: z.optional(integer(0, 3_650)),
  [ALERT_ENV.timeoutMs]: z.optional(integer(100, 60_000)),
  [ALERT_ENV.retries]: z.optional(integer(0, 10)),
});

export type AlertsEnv = z.output<typeof envSchema>;

function configError(problems: string[]): AirkickError {
  return new AirkickError('CONFIG', `Invalid alert configuration: ${problems.join('; ')}`);
}

/**
 * Reads the `AIRKICK_ALERT_*` variables and checks them, without resolving references. Empty values
 * count as unset (deployment templates often render unset variables as ""). Throws one `CONFIG`
 * error naming every bad variable and what it expects, never the value (URLs are secrets).
 */
export function parseAlertsEnv(env: Record<string, string | undefined>): AlertsEnv {
  const relevant = Object.fromEntries(
    Object.entries(env).filter(
      ([name, value]) => name.startsWith('AIRKICK_ALERT_') && value !== undefined && value.trim() !== '',
    ),
  );
  const trimmed = Object.fromEntries(Object.entries(relevant).map(([k, v]) => [k, v?.trim()]));
  const parsed = envSchema.safeParse(trimmed);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        problems.push(
          `unknown variable ${issue.keys.join(', ')} (known: ${Object.values(ALERT_ENV).join(', ')})`,
        );
      } else problems.push(`${String(issue.path[0])} ${issue.message}`);
    }
    throw configError(problems);
  }
  const data = parsed.data;
  const pairs: [string, string][] = [
    [ALERT_ENV.dingtalkSecret, ALERT_ENV.dingtalkUrl],
    [ALERT_ENV.feishuSecret, ALERT_ENV.feishuUrl],
    [ALERT_ENV.webhookSecret, ALERT_ENV.webhookUrl],
  ];
  for (const [secret, url] of pairs) {
    if (data[secret as keyof AlertsEnv] !== undefined && data[url as keyof AlertsEnv] === undefined) {
      problems.push(`${secret} is set but ${url} is not`);
    }
  }
  if (data[ALERT_ENV.webhookUrl] !== undefined && data[ALERT_ENV.webhookSecret] === undefined) {
    problems.push(
      `${ALERT_ENV.webhookUrl} needs ${ALERT_ENV.webhookSecret} (receivers verify the HMAC signature)`,
    );
  }
  if (problems.length > 0) throw configError(problems);
  return data;
}

export interface LoadOptions {
  /** Resolves `ssm:`/`secretsmanager:` references; defaults to AWS via Powertools Parameters. */
  resolver?: SecretResolver;
}

/**
 * Parses, resolves and checks the alert configuration. Call it once per cold start and keep the
 * result: resolving references costs a round trip to SSM or Secrets Manager.
 */
export async function loadAlertsConfig(
  env: Record<string, string | undefined>,
  options: LoadOptions = {},
): Promise<Readonly<AlertsConfig>> {
  const data = parseAlertsEnv(env);
  const resolver = options.resolver ?? awsSecretResolver;
  const problems: string[] = [];

  const resolve = async (variable: keyof AlertsEnv): Promise<string | undefined> => {
    const raw = data[variable];
    return typeof raw === 'string' ? resolveSecretValue(variable, raw, resolver) : undefined;
  };
  const secret = async (variable: keyof AlertsEnv): Promise<string | undefined> => {
    const value = await resolve(variable);
    if (value !== undefined) registerSecretValue(value);
    return value;
  };
  const url = async (variable: keyof AlertsEnv): Promise<string | undefined> => {
    const value = await secret(variable);
    if (value !== undefined && !isWebhookUrl(value)) {
      problems.push(`${variable} resolved to a value that is not an https URL (http only for localhost)`);
      return undefined;
    }
    return value;
  };

  const [
    slack,
    dingtalkUrl,
    dingtalkSecret,
    feishuUrl,
    feishuSecret,
    wecom,
    teams,
    webhookUrl,
    webhookSecret,
    state,
  ] = await Promise.all([
    url(ALERT_ENV.slackUrl),
    url(ALERT_ENV.dingtalkUrl),
    secret(ALERT_ENV.dingtalkSecret),
    url(ALERT_ENV.feishuUrl),
    secret(ALERT_ENV.feishuSecret),
    url(ALERT_ENV.wecomUrl),
    url(ALERT_ENV.teamsUrl),
    url(ALERT_ENV.webhookUrl),
    secret(ALERT_ENV.webhookSecret),
    resolve(ALERT_ENV.state),
  ]);

  let stateConfig: StateConfig = { kind: 'memory', implicit: true };
  const dynamodb = state === undefined ? undefined : parseDynamoDbState(state);
  if (state === 'memory') stateConfig = { kind: 'memory' };
  else if (state === 'airflow-variable') stateConfig = { kind: 'airflow-variable' };
  else if (dynamodb) stateConfig = { kind: 'dynamodb', ...dynamodb };
  else if (state !== undefined) {
    if (isRedisUrl(state)) {
      registerSecretValue(state);
      stateConfig = { kind: 'redis', url: state };
    } else
      problems.push(
        `${ALERT_ENV.state} resolved to a value that is not a redis://, rediss:// or dynamodb:// address`,
      );
  }
  if (problems.length > 0) throw configError(problems);

  const topicArn = data[ALERT_ENV.snsTopicArn];
  return Object.freeze({
    ...(slack ? { slack: { url: slack } } : {}),
    ...(dingtalkUrl
      ? { dingtalk: { url: dingtalkUrl, ...(dingtalkSecret ? { secret: dingtalkSecret } : {}) } }
      : {}),
    ...(feishuUrl ? { feishu: { url: feishuUrl, ...(feishuSecret ? { secret: feishuSecret } : {}) } } : {}),
    ...(wecom ? { wecom: { url: wecom } } : {}),
    ...(teams ? { teams: { url: teams } } : {}),
    ...(webhookUrl && webhookSecret ? { webhook: { url: webhookUrl, secret: webhookSecret } } : {}),
    ...(topicArn ? { sns: { topicArn } } : {}),
    repeatIntervalMs: (data[ALERT_ENV.repeatMinutes] ?? DEFAULT_REPEAT_MINUTES) * 60_000,
    state: stateConfig,
    stateTimeoutMs: data[ALERT_ENV.stateTimeoutMs] ?? DEFAULT_STATE_TIMEOUT_MS,
    stateTtlMs: (data[ALERT_ENV.stateTtlDays] ?? DEFAULT_STATE_TTL_DAYS) * 86_400_000,
    timeoutMs: data[ALERT_ENV.timeoutMs] ?? 10_000,
    retries: data[ALERT_ENV.retries] ?? 3,
  });
}
