import { AirkickError } from '#lib/errors.ts';
import type { UploadRecord } from '#lib/events/upload-record.ts';
import * as z from '#lib/zod.ts';

export const UPLOAD_RULES_ENV = 'AIRKICK_UPLOAD_RULES';

/** Airflow's DAG id rule (`KEY_REGEX`, at most 250 characters). */
const DAG_ID = /^[\w.-]{1,250}$/;

/**
 * One routing rule. Unknown keys are rejected so a typo (`prefx`) fails at cold start instead of
 * silently widening the match.
 */
const RuleFields = z.strictObject({
  bucket: z.optional(z.string().check(z.minLength(1))),
  prefix: z.optional(z.string().check(z.minLength(1))),
  suffix: z.optional(z.string().check(z.minLength(1))),
  dagId: z.optional(
    z.string().check(z.regex(DAG_ID, { message: 'expects an Airflow DAG id (letters, digits, _ . -)' })),
  ),
  conf: z.optional(z.record(z.string(), z.unknown())),
  /** An asset (dataset) URI, fixed or a template with `{bucket}` and `{key}`, e.g. `s3://{bucket}/landing`. */
  asset: z.optional(
    z.string().check(
      z.regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/, {
        message: 'expects an asset URI such as s3://{bucket}/landing (placeholders {bucket} and {key})',
      }),
    ),
  ),
  extra: z.optional(z.record(z.string(), z.unknown())),
});

export const UploadRuleSchema = RuleFields.check(
  z.refine((rule) => (rule.dagId === undefined) !== (rule.asset === undefined), {
    message: 'expects exactly one of dagId (one DAG run per object) or asset (an asset event per object)',
  }),
  z.refine((rule) => !(rule.asset !== undefined && rule.conf !== undefined), {
    message: 'conf is for dagId rules; an asset rule takes extra',
  }),
  z.refine((rule) => !(rule.dagId !== undefined && rule.extra !== undefined), {
    message: 'extra is for asset rules; a dagId rule takes conf',
  }),
);

/** `AIRKICK_UPLOAD_RULES`: a JSON array of rules, tried in order. */
export const UploadRulesSchema = z
  .array(UploadRuleSchema)
  .check(z.minLength(1, { message: 'expects at least one rule' }));

export type UploadRule = z.output<typeof UploadRuleSchema>;

/** An asset rule's URI for one object: `{bucket}` and `{key}` replaced. */
export function assetUri(template: string, record: Pick<UploadRecord, 'bucket' | 'key'>): string {
  return template.replaceAll('{bucket}', record.bucket).replaceAll('{key}', record.key);
}

/**
 * Parses `AIRKICK_UPLOAD_RULES` once at cold start.
 *
 * @example parseUploadRules('[{"prefix":"incoming/","suffix":".csv","dagId":"load_csv"}]')
 * @throws AirkickError CONFIG naming the variable and the first failing paths.
 */
export function parseUploadRules(raw: string | undefined): UploadRule[] {
  if (raw === undefined || raw.trim() === '') {
    throw new AirkickError(
      'CONFIG',
      `${UPLOAD_RULES_ENV} is not set; it expects a JSON array of rules, e.g. [{"prefix":"incoming/","suffix":".csv","dagId":"load_csv"}]`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (cause) {
    throw new AirkickError(
      'CONFIG',
      `${UPLOAD_RULES_ENV} is not valid JSON (${(cause as Error).message}); it expects a JSON array of rules, e.g. [{"prefix":"incoming/","dagId":"load"}]`,
    );
  }
  const result = UploadRulesSchema.safeParse(json);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 3).map((issue) => {
    const path = issue.path
      .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
      .join('');
    return `${UPLOAD_RULES_ENV}${path}: ${issue.message}`;
  });
  throw new AirkickError('CONFIG', issues.join('; '));
}

/**
 * The first rule whose bucket, prefix and suffix all match the record (an absent field matches
 * anything); `undefined` when none does, for the caller to report.
 */
export function matchRule(
  rules: readonly UploadRule[],
  record: Pick<UploadRecord, 'bucket' | 'key'>,
): UploadRule | undefined {
  return rules.find(
    (rule) =>
      (rule.bucket === undefined || rule.bucket === record.bucket) &&
      (rule.prefix === undefined || record.key.startsWith(rule.prefix)) &&
      (rule.suffix === undefined || record.key.endsWith(rule.suffix)),
  );
}

/** The object fields a DAG receives, in the snake_case Airflow users expect in `dag_run.conf`. */
export interface ObjectConf {
  bucket: string;
  key: string;
  size: number | null;
  etag: string | null;
  event_time: string;
  region: string | null;
  source: 's3' | 'oss';
}

export function objectConf(record: UploadRecord): ObjectConf {
  return {
    bucket: record.bucket,
    key: record.key,
    size: record.size,
    etag: record.etag,
    event_time: record.eventTime,
    region: record.region,
    source: record.source,
  };
}

/**
 * The DAG run conf for one object: the rule's `conf` with the object fields on top.
 *
 * The object fields win over a rule `conf` key of the same name (`bucket`, `key`, `size`, `etag`,
 * `event_time`, `region`, `source`): the run must describe the object that arrived, and a rule
 * cannot point a DAG at another one. Other `conf` keys pass through unchanged.
 *
 * @example uploadConf(record, { dagId: 'load', conf: { target: 'raw' } })
 * // { target: 'raw', bucket: 'b', key: 'incoming/a.csv', size: 5, etag: '…', event_time: '…', region: 'us-east-1', source: 's3' }
 */
export function uploadConf(record: UploadRecord, rule: UploadRule): Record<string, unknown> & ObjectConf {
  return { ...rule.conf, ...objectConf(record) };
}
