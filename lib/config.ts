/**
 * Function configuration: environment variables -> validated, frozen config, parsed once at cold
 * start. A missing or wrong setting fails with one message naming each variable and what it expects.
 */
import { parseEnvironment } from '#lib/environment.ts';
import { AirkickError } from '#lib/errors.ts';
import { parseUploadRules, type UploadRule } from '#lib/events/upload-rules.ts';
import * as z from '#lib/zod.ts';

type Env = Record<string, string | undefined>;

const bool = z.pipe(
  z.enum(['true', 'false', '1', '0', 'yes', 'no']),
  z.transform((v) => ['true', '1', 'yes'].includes(v)),
);
const list = z.pipe(
  z.pipe(
    z.string(),
    z.transform((v) => v.split(',').map((s) => s.trim())),
  ),
  z.array(
    z.string().check(z.regex(/^[A-Za-z0-9_.-]+$/, 'expects comma-separated ids (letters, digits, _ . -)')),
  ),
);
const int = (min: number, max: number) => z.coerce.number().check(z.int(), z.gte(min), z.lte(max));
const jsonObject = z.pipe(
  z.string(),
  z.transform((text, ctx) => {
    try {
      const value = JSON.parse(text) as unknown;
      if (value !== null && typeof value === 'object' && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {}
    ctx.issues.push({ code: 'custom', message: 'expects a JSON object, e.g. {"key": "value"}', input: text });
    return z.NEVER;
  }),
);

/** What a required variable looks like, for the message when it is missing. */
const EXPECTS: Record<string, string> = {
  AIRKICK_ENV:
    'an environment string: mwaa://NAME?region=REGION, dms://AIRFLOW_ID?region=REGION or https://user@host[:port]',
  AIRKICK_TRIGGER_DAGS: 'comma-separated DAG ids, e.g. etl_daily,report_hourly',
};

/** Reads the variables of `shape` from `env`; empty strings count as unset. */
function readEnv<S extends z.core.$ZodShape>(env: Env, shape: S): z.output<z.ZodMiniObject<S>> {
  const input = Object.fromEntries(
    Object.keys(shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const result = z.object(shape).safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = String(issue.path[0]);
    const missing = issue.code === 'invalid_type' && input[variable] === undefined;
    const message = missing ? `is required; it expects ${EXPECTS[variable] ?? 'a value'}` : issue.message;
    return `${variable} ${message}`;
  });
  throw new AirkickError('CONFIG', `invalid configuration: ${problems.join('; ')}`);
}

export interface BaseConfig {
  /** The AIRKICK_ENV string (validated). */
  environment: string;
  /** Self-hosted password, or an `ssm:`/`secretsmanager:` reference resolved at cold start. */
  password: string | undefined;
}

export function baseConfig(env: Env): BaseConfig {
  const raw = readEnv(env, {
    AIRKICK_ENV: z.string().check(z.describe('environment')),
    AIRKICK_AIRFLOW_PASSWORD: z.optional(z.string()),
  });
  try {
    parseEnvironment(raw.AIRKICK_ENV);
  } catch (error) {
    throw new AirkickError('CONFIG', `AIRKICK_ENV: ${(error as Error).message}`);
  }
  return { environment: raw.AIRKICK_ENV, password: raw.AIRKICK_AIRFLOW_PASSWORD };
}

export interface TriggerConfig {
  dags: string[];
  /** Conf template; string values may use {{scheduled_time}}, {{scheduled_date}}, {{dag_id}}. */
  conf: Record<string, unknown>;
  wait: boolean;
}

export function triggerConfig(env: Env): Readonly<TriggerConfig> {
  const raw = readEnv(env, {
    AIRKICK_TRIGGER_DAGS: list,
    AIRKICK_TRIGGER_CONF: z.optional(jsonObject),
    AIRKICK_TRIGGER_WAIT: z._default(bool, false),
  });
  return Object.freeze({
    dags: raw.AIRKICK_TRIGGER_DAGS,
    conf: raw.AIRKICK_TRIGGER_CONF ?? {},
    wait: raw.AIRKICK_TRIGGER_WAIT,
  });
}

export interface UploadConfig {
  rules: UploadRule[];
  mode: 'per-object' | 'per-batch';
  concurrency: number;
}

export function uploadConfig(env: Env): Readonly<UploadConfig> {
  const raw = readEnv(env, {
    AIRKICK_UPLOAD_MODE: z._default(z.enum(['per-object', 'per-batch']), 'per-object'),
    AIRKICK_UPLOAD_CONCURRENCY: z._default(int(1, 64), 8),
  });
  let rules: UploadRule[];
  try {
    rules = parseUploadRules(env.AIRKICK_UPLOAD_RULES);
  } catch (error) {
    throw new AirkickError('CONFIG', `invalid configuration: ${(error as Error).message}`);
  }
  return Object.freeze({ rules, mode: raw.AIRKICK_UPLOAD_MODE, concurrency: raw.AIRKICK_UPLOAD_CONCURRENCY });
}

export interface HealthConfig {
  maxHeartbeatAgeSeconds: number;
  importErrors: boolean;
  failedRunsDags: string[];
  /** How far back a failed run counts, normally the check's schedule interval. */
  failedRunsLookbackMinutes: number;
}

export function healthConfig(env: Env): Readonly<HealthConfig> {
  const raw = readEnv(env, {
    AIRKICK_HEALTH_MAX_HEARTBEAT_AGE_SECONDS: z._default(int(5, 86_400), 120),
    AIRKICK_HEALTH_IMPORT_ERRORS: z._default(bool, false),
    AIRKICK_HEALTH_FAILED_RUNS_DAGS: z.optional(list),
    AIRKICK_HEALTH_FAILED_RUNS_LOOKBACK_MINUTES: z._default(int(1, 10_080), 10),
  });
  return Object.freeze({
    maxHeartbeatAgeSeconds: raw.AIRKICK_HEALTH_MAX_HEARTBEAT_AGE_SECONDS,
    importErrors: raw.AIRKICK_HEALTH_IMPORT_ERRORS,
    failedRunsDags: raw.AIRKICK_HEALTH_FAILED_RUNS_DAGS ?? [],
    failedRunsLookbackMinutes: raw.AIRKICK_HEALTH_FAILED_RUNS_LOOKBACK_MINUTES,
  });
}

export interface CleanConfig {
  retentionDays: number;
  minRetentionDays: number;
  force: boolean;
  tables: string[];
  dryRun: boolean;
  skipArchive: boolean;
  dropArchives: boolean;
}

export function cleanConfig(env: Env): Readonly<CleanConfig> {
  const raw = readEnv(env, {
    AIRKICK_CLEAN_RETENTION_DAYS: z._default(z.coerce.number().check(z.gte(0), z.lte(36_500)), 90),
    AIRKICK_CLEAN_MIN_RETENTION_DAYS: z._default(z.coerce.number().check(z.gte(0), z.lte(36_500)), 7),
    AIRKICK_CLEAN_FORCE: z._default(bool, false),
    AIRKICK_CLEAN_TABLES: z.optional(list),
    AIRKICK_CLEAN_DRY_RUN: z._default(bool, false),
    AIRKICK_CLEAN_SKIP_ARCHIVE: z._default(bool, false),
    AIRKICK_CLEAN_DROP_ARCHIVES: z._default(bool, false),
  });
  return Object.freeze({
    retentionDays: raw.AIRKICK_CLEAN_RETENTION_DAYS,
    minRetentionDays: raw.AIRKICK_CLEAN_MIN_RETENTION_DAYS,
    force: raw.AIRKICK_CLEAN_FORCE,
    tables: raw.AIRKICK_CLEAN_TABLES ?? [],
    dryRun: raw.AIRKICK_CLEAN_DRY_RUN,
    skipArchive: raw.AIRKICK_CLEAN_SKIP_ARCHIVE,
    dropArchives: raw.AIRKICK_CLEAN_DROP_ARCHIVES,
  });
}
