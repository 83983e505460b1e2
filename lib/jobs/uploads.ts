/**
 * on-upload: one DAG run per uploaded object, with the run id derived from the object event's
 * identity, so at-least-once delivery gives exactly one run whatever way the platform groups the
 * redeliveries. Every record that fails is reported, labelled permanent (retrying cannot help: no
 * rule, unknown DAG, a 400) or retryable; none is dropped silently.
 */
import { createHash } from 'node:crypto';
import type { UploadConfig } from '#lib/config.ts';
import { AirkickError, isPermanent } from '#lib/errors.ts';
import type { UploadBatch, UploadRecord } from '#lib/events/index.ts';
import { uploadRunId } from '#lib/events/index.ts';
import { matchRule, type UploadRule, uploadConf } from '#lib/events/upload-rules.ts';
import { type JobContext, jobBound, mapLimit } from '#lib/jobs/context.ts';

export interface UploadOutcome {
  /** The record id (SQS messageId, or a position such as `Records[0]`); one message may hold several objects. */
  id: string;
  dagId: string | null;
  runId: string | null;
  alreadyTriggered: boolean;
  error?: AirkickError;
}

export interface UploadSummary {
  outcomes: UploadOutcome[];
  /** Record ids that failed, for any reason (SQS batchItemFailures). */
  failedIds: string[];
  /** Of those, the ones a retry may fix; the others failed permanently. */
  retryableIds: string[];
  /** No record went through and at least one may on a retry: the source (Airflow, the gateway) is down. */
  outage: boolean;
}

export async function triggerUploads(
  batch: UploadBatch,
  config: UploadConfig,
  ctx: JobContext,
): Promise<UploadSummary> {
  const outcomes: UploadOutcome[] = batch.failures.map((f) => failed(f.id, null, null, f.error));
  const work: { rule: UploadRule; record: UploadRecord }[] = [];
  for (const record of batch.records) {
    const rule = matchRule(config.rules, record);
    if (rule) work.push({ rule, record });
    else {
      const where = `${record.source}://${record.bucket}/${record.key}`;
      outcomes.push(
        failed(record.id, null, null, new AirkickError('BAD_REQUEST', `no upload rule matches ${where}`)),
      );
    }
  }
  // Per-batch mode still gives each object its own run: a run for the whole batch would be keyed by
  // how the platform grouped the messages, and a redelivery in another grouping would start a second
  // run over the same objects. The batch is recorded in each run's conf instead.
  const batchInfo =
    config.mode === 'per-batch' && work.length > 0
      ? { id: batchId(work.map((w) => w.record)), size: work.length }
      : undefined;
  outcomes.push(
    ...(await mapLimit(work, config.concurrency, ({ rule, record }) =>
      triggerOne(rule, record, batchInfo, ctx),
    )),
  );

  for (const outcome of outcomes) {
    const keys = { dag_id: outcome.dagId, run_id: outcome.runId, record: outcome.id };
    if (outcome.error) {
      ctx.metrics.add('TriggerFailures', 1);
      const permanent = isPermanent(outcome.error);
      ctx.logger.error(
        permanent
          ? 'upload not triggered; permanent failure, a retry cannot fix it'
          : 'upload not triggered; reported for retry',
        { ...keys, permanent },
        { error: outcome.error },
      );
    } else {
      ctx.metrics.add(outcome.alreadyTriggered ? 'AlreadyTriggered' : 'DagRunsTriggered', 1);
      ctx.logger.info(outcome.alreadyTriggered ? 'upload already triggered' : 'upload triggered', keys);
    }
  }
  return summarize(outcomes);
}

/** Which records to report, and whether the whole delivery failed for a reason a retry may fix. */
export function summarize(outcomes: UploadOutcome[]): UploadSummary {
  // A message holding several objects is one record: it fails if any of its objects failed.
  const failedIds = new Set<string>();
  const retryableIds = new Set<string>();
  for (const { id, error } of outcomes) {
    if (!error) continue;
    failedIds.add(id);
    if (!isPermanent(error)) retryableIds.add(id);
  }
  const ids = new Set(outcomes.map((o) => o.id));
  return {
    outcomes,
    failedIds: [...failedIds],
    retryableIds: [...retryableIds],
    outage: ids.size > 0 && failedIds.size === ids.size && retryableIds.size > 0,
  };
}

async function triggerOne(
  rule: UploadRule,
  record: UploadRecord,
  batch: { id: string; size: number } | undefined,
  ctx: JobContext,
): Promise<UploadOutcome> {
  const runId = uploadRunId(record);
  const conf = { ...uploadConf(record, rule), ...(batch ? { batch } : {}) };
  try {
    const { alreadyTriggered } = await ctx.client.submitDagRun(
      { dagId: rule.dagId, runId, conf, note: 'airkick on-upload' },
      jobBound(ctx),
    );
    return { id: record.id, dagId: rule.dagId, runId, alreadyTriggered };
  } catch (error) {
    const wrapped =
      error instanceof AirkickError ? error : new AirkickError('SERVER', String(error), { cause: error });
    return failed(record.id, rule.dagId, runId, wrapped);
  }
}

function failed(id: string, dagId: string | null, runId: string | null, error: AirkickError): UploadOutcome {
  return { id, dagId, runId, alreadyTriggered: false, error };
}

/** Names one delivery's set of objects (order-independent), for `conf.batch.id`. */
function batchId(records: UploadRecord[]): string {
  const identities = records.map((r) => r.identity).sort();
  return `batch__${createHash('sha256').update(identities.join('\n')).digest('hex').slice(0, 32)}`;
}

/**
 * What a handler answers for a delivery. SQS (`sqs: true`): every failed record is reported, the
 * permanent ones too (SQS cannot be told "never", its redrive policy moves them to the dead-letter
 * queue after maxReceiveCount); a delivery where nothing went through for a retryable reason fails the
 * invocation, so the platform's Errors metric sees the outage. Direct notifications (S3, EventBridge,
 * OSS): a permanent failure is logged and acknowledged, a retryable one fails the invocation so the
 * platform redelivers it (the run ids keep that safe for the records that did go through).
 */
export function settleUploads(
  summary: UploadSummary,
  sqs: boolean,
): { batchItemFailures: { itemIdentifier: string }[] } | { triggered: number; permanentFailures: number } {
  const { failedIds, retryableIds } = summary;
  if (summary.outage || (!sqs && retryableIds.length > 0)) {
    const first = summary.outcomes.find((o) => o.error && !isPermanent(o.error))?.error;
    throw new AirkickError(
      first?.code === 'TIMEOUT' || first?.code === 'TRANSPORT' ? first.code : 'SERVER',
      `on-upload: ${retryableIds.length} of ${new Set(summary.outcomes.map((o) => o.id)).size} records failed and will be retried (${retryableIds.join(', ')}): ${first?.message ?? 'unknown error'}`,
      { retryable: true },
    );
  }
  if (sqs) return { batchItemFailures: failedIds.map((itemIdentifier) => ({ itemIdentifier })) };
  return {
    triggered: summary.outcomes.filter((o) => !o.error).length,
    permanentFailures: failedIds.length,
  };
}
