import { type ChannelName, channelRows, type VariableKind } from '#lib/alerts/channels/registry.ts';
import { DEFAULT_STATE_TIMEOUT_MS } from '#lib/alerts/monitor.ts';
import { AirkickError } from '#lib/errors.ts';
import {
  awsSecretResolver,
  parseSecretReference,
  registerSecretValue,
  resolveSecretValue,
  type SecretResolver,
} from '#lib/secrets/references.ts';
import * as z from '#lib/zod.ts';

/**
 * The variables of alerting itself; each channel's are in its row of the channel table
 * (channels/registry.ts). Any other `AIRKICK_ALERT_*` is a typo and fails.
 */
export const ALERT_ENV = {
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

/** A configured channel's resolved values, by option name (`url`, `secret`, `topicArn`). */
export type ChannelValues = Partial<Record<string, string>>;

/** The resolved configuration: references replaced by their values, every value checked. */
export interface AlertsConfig {
  /** The configured channels, in the table's order. */
  channels: Partial<Record<ChannelName, ChannelValues>>;
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

const snsTopicArn = z.string().check(
  z.regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, {
    message: 'expects an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)',
  }),
);
const VALUE_SCHEMA: Record<VariableKind, z.ZodMiniType<string>> = {
  url: urlOrRef,
  secret: secretOrRef,
  'sns-topic-arn': snsTopicArn,
};

/** Every channel variable of the table, as `[env, row name, option name, variable]`. */
const CHANNEL_VARIABLES = channelRows().flatMap(([name, row]) =>
  Object.entries(row.variables).map(([option, variable]) => ({ name, option, ...variable })),
);

const envSchema = z.strictObject({
  ...Object.fromEntries(CHANNEL_VARIABLES.map((v) => [v.env, z.optional(VALUE_SCHEMA[v.kind])])),
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
          `unknown variable ${issue.keys.join(', ')} (known: ${[...CHANNEL_VARIABLES.map((v) => v.env), ...Object.values(ALERT_ENV)].join(', ')})`,
        );
      } else problems.push(`${String(issue.path[0])} ${issue.message}`);
    }
    throw configError(problems);
  }
  const data = parsed.data as AlertsEnv & Record<string, string | undefined>;
  for (const [, row] of channelRows()) {
    const [first, ...others] = Object.values(row.variables);
    if (first === undefined) continue;
    for (const other of others) {
      if (data[first.env] === undefined && data[other.env] !== undefined) {
        problems.push(`${other.env} is set but ${first.env} is not`);
      } else if (data[first.env] !== undefined && data[other.env] === undefined && other.required) {
        problems.push(`${first.env} needs ${other.env}${other.why ? ` (${other.why})` : ''}`);
      }
    }
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
  const raw = data as Record<string, string | number | undefined>;
  const resolver = options.resolver ?? awsSecretResolver;
  const problems: string[] = [];

  const resolve = async (variable: string): Promise<string | undefined> => {
    const value = raw[variable];
    return typeof value === 'string' ? resolveSecretValue(variable, value, resolver) : undefined;
  };
  /** A channel value: resolved, masked from then on when secret, checked again when a URL. */
  const channelValue = async (env: string, kind: VariableKind): Promise<string | undefined> => {
    const value = await resolve(env);
    if (value === undefined || kind === 'sns-topic-arn') return value;
    registerSecretValue(value);
    if (kind === 'url' && !isWebhookUrl(value)) {
      problems.push(`${env} resolved to a value that is not an https URL (http only for localhost)`);
      return undefined;
    }
    return value;
  };

  const [channels, state] = await Promise.all([
    Promise.all(
      channelRows().map(async ([name, row]) => {
        const entries = await Promise.all(
          Object.entries(row.variables).map(
            async ([option, v]) => [option, await channelValue(v.env, v.kind)] as const,
          ),
        );
        const values = Object.fromEntries(entries.filter(([, value]) => value !== undefined));
        const on = Object.entries(row.variables).every(([option, v]) => !v.required || option in values);
        return on ? ([name, values] as const) : undefined;
      }),
    ),
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

  return Object.freeze({
    channels: Object.fromEntries(channels.filter((c) => c !== undefined)),
    repeatIntervalMs: (data[ALERT_ENV.repeatMinutes] ?? DEFAULT_REPEAT_MINUTES) * 60_000,
    state: stateConfig,
    stateTimeoutMs: data[ALERT_ENV.stateTimeoutMs] ?? DEFAULT_STATE_TIMEOUT_MS,
    stateTtlMs: (data[ALERT_ENV.stateTtlDays] ?? DEFAULT_STATE_TTL_DAYS) * 86_400_000,
    timeoutMs: data[ALERT_ENV.timeoutMs] ?? 10_000,
    retries: data[ALERT_ENV.retries] ?? 3,
  });
}
