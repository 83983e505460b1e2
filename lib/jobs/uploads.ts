/**
 * on-upload: one DAG run per uploaded object (or per batch), with the run id derived from the object
 * event's identity, so at-least-once delivery gives exactly one run. Every record that fails is
 * returned for retry; none is dropped.
 */
import { createHash } from 'node:crypto';
import type { UploadConfig } from '../config.ts';
import { AirkickError } from '../errors.ts';
import type { UploadBatch, UploadRecord } from '../runtime/events.ts';
import { uploadRunId } from '../runtime/events.ts';
import { type JobContext, mapLimit } from './context.ts';
import { batchConf, matchRule, type UploadRule, uploadConf } from './upload-rules.ts';

export interface UploadOutcome {
  /** The record ids this outcome covers (one, or a whole group in per-batch mode). */
  ids: string[];
  dagId: string | null;
  runId: string | null;
  alreadyTriggered: boolean;
  error?: AirkickError;
}

export interface UploadSummary {
  outcomes: UploadOutcome[];
  /** Record ids to retry (SQS batchItemFailures); empty when all went through. */
  failedIds: string[];
}

export async function triggerUploads(
  batch: UploadBatch,
  config: UploadConfig,
  ctx: JobContext,
): Promise<UploadSummary> {
  const outcomes: UploadOutcome[] = batch.failures.map((f) => ({
    ids: [f.id],
    dagId: null,
    runId: null,
    alreadyTriggered: false,
    error: f.error,
  }));
  const groups = new Map<UploadRule, UploadRecord[]>();
  for (const record of batch.records) {
    const rule = matchRule(config.rules, record);
    if (!rule) {
      outcomes.push({
        ids: [record.id],
        dagId: null,
        runId: null,
        alreadyTriggered: false,
        error: new AirkickError(
          'BAD_REQUEST',
          `no upload rule matches ${record.source}://${record.bucket}/${record.key}`,
        ),
      });
      continue;
    }
    groups.set(rule, [...(groups.get(rule) ?? []), record]);
  }
  const work: { rule: UploadRule; records: UploadRecord[] }[] = [];
  for (const [rule, records] of groups) {
    if (config.mode === 'per-batch') work.push({ rule, records });
    else for (const record of records) work.push({ rule, records: [record] });
  }
  outcomes.push(
    ...(await mapLimit(work, config.concurrency, (item) =>
      triggerOne(item.rule, item.records, config.mode === 'per-batch', ctx),
    )),
  );

  for (const outcome of outcomes) {
    const keys = { dag_id: outcome.dagId, run_id: outcome.runId, records: outcome.ids };
    if (outcome.error) {
      ctx.metrics.add('TriggerFailures', 1);
      ctx.logger.error('upload not triggered; reported for retry', keys, { error: outcome.error });
    } else {
      ctx.metrics.add(outcome.alreadyTriggered ? 'AlreadyTriggered' : 'DagRunsTriggered', 1);
      ctx.logger.info(outcome.alreadyTriggered ? 'upload already triggered' : 'upload triggered', keys);
    }
  }
  const failedIds = [...new Set(outcomes.filter((o) => o.error).flatMap((o) => o.ids))];
  return { outcomes, failedIds };
}

async function triggerOne(
  rule: UploadRule,
  records: UploadRecord[],
  perBatch: boolean,
  ctx: JobContext,
): Promise<UploadOutcome> {
  const [first] = records;
  const runId =
    !perBatch && first
      ? uploadRunId(first)
      : `batch__${createHash('sha256')
          .update(records.map((r) => r.identity).join('\n'))
          .digest('hex')
          .slice(0, 32)}`;
  const conf = !perBatch && first ? uploadConf(first, rule) : batchConf(records, rule);
  const ids = records.map((r) => r.id);
  try {
    const { alreadyTriggered } = await ctx.client.submitDagRun(
      { dagId: rule.dagId, runId, conf, note: 'airkick on-upload' },
      { deadline: ctx.deadline },
    );
    return { ids, dagId: rule.dagId, runId, alreadyTriggered };
  } catch (error) {
    const wrapped =
      error instanceof AirkickError ? error : new AirkickError('SERVER', String(error), { cause: error });
    return { ids, dagId: rule.dagId, runId, alreadyTriggered: false, error: wrapped };
  }
}
