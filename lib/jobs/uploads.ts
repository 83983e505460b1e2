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
import { assetUri, matchRule, objectConf, type UploadRule, uploadConf } from '#lib/events/upload-rules.ts';
import type { Claim, ClaimTarget } from '#lib/jobs/claims.ts';
import { type JobContext, jobBound, mapLimit } from '#lib/jobs/context.ts';

export interface UploadOutcome {
  /** The record id (SQS messageId, or a position such as `Records[0]`); one message may hold several objects. */
  id: string;
  dagId: string | null;
  /** The run id, or for an asset rule the event's key (`extra.airkick_event`). */
  runId: string | null;
  /** An asset rule's URI for this object. */
  asset?: string;
  alreadyTriggered: boolean;
  error?: AirkickError;
}

/**
 * How far back a redelivered object's event is looked for before a new one is raised: SQS keeps a
 * message at most 14 days, but redeliveries come within minutes to hours. The asset's events are
 * read newest first, 100 a page, up to 1,000, and no further back than this (Airflow 2 cannot filter
 * by time: its pages are cut at the window).
 */
export const ASSET_DEDUPE_WINDOW_MS = 24 * 3600_000;
const PAGE = 100;
const MAX_PAGES = 10;

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
    const keys = outcome.asset
      ? { asset: outcome.asset, event: outcome.runId, record: outcome.id }
      : { dag_id: outcome.dagId, run_id: outcome.runId, record: outcome.id };
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
    } else if (outcome.asset) {
      ctx.metrics.add(outcome.alreadyTriggered ? 'AssetEventsAlreadyRaised' : 'AssetEventsRaised', 1);
      ctx.logger.info(outcome.alreadyTriggered ? 'upload event already raised' : 'upload event raised', keys);
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
  if (rule.asset !== undefined) return raiseOne(rule.asset, rule, record, ctx);
  const dagId = rule.dagId as string;
  const runId = uploadRunId(record);
  const conf = { ...uploadConf(record, rule), ...(batch ? { batch } : {}) };
  try {
    const { alreadyTriggered } = await ctx.client.submitDagRun(
      { dagId, runId, conf, note: 'airkick on-upload' },
      jobBound(ctx),
    );
    return { id: record.id, dagId, runId, alreadyTriggered };
  } catch (error) {
    return failed(record.id, dagId, runId, asAirkickError(error));
  }
}

/**
 * One asset event per object. The API has no idempotency key, so the object's key (the same
 * identity hash as a run id) goes into `extra.airkick_event`. With a shared alert-state store the
 * key is claimed there first (claims.ts), so of two deliveries at the same moment only one raises;
 * without one, or while the store cannot be reached, the asset's recent events are read first: a
 * redelivery that finds its key raises nothing, but two at the same moment can both miss each other.
 */
async function raiseOne(template: string, rule: UploadRule, record: UploadRecord, ctx: JobContext) {
  const uri = assetUri(template, record);
  const key = uploadRunId(record);
  const outcome = { id: record.id, dagId: null, runId: key, asset: uri };
  const target = { environment: ctx.client.environment, uri, event: key };
  const claim = await claimFor(ctx, target);
  const settle = async (raised: boolean) => {
    if (!ctx.claims || !claim || (claim.kind !== 'new' && claim.kind !== 'taken-over')) return;
    const write = raised
      ? ctx.claims.raised(target, claim, ctx.signal)
      : ctx.claims.release(target, claim, ctx.signal);
    await write.catch((error: unknown) =>
      ctx.logger.warn(
        `upload claim not ${raised ? 'marked raised' : 'given up'}; it lapses at its deadline`,
        {
          asset: uri,
          event: key,
          error: asAirkickError(error),
        },
      ),
    );
  };
  try {
    if (claim?.kind === 'raised') return { ...outcome, alreadyTriggered: true };
    if (claim?.kind === 'held') {
      throw new AirkickError(
        'CONFLICT',
        `another delivery of ${record.source}://${record.bucket}/${record.key} is raising its event on ${uri} now (claimed until ${new Date(claim.until).toISOString()})`,
        { retryable: true },
      );
    }
    if (claim?.kind !== 'new' && (await raisedBefore(ctx, uri, key))) {
      await settle(true);
      return { ...outcome, alreadyTriggered: true };
    }
    const extra = { ...rule.extra, ...objectConf(record), airkick_event: key };
    await ctx.client.createAssetEvent({ uri, extra }, jobBound(ctx));
    await settle(true);
    return { ...outcome, alreadyTriggered: false };
  } catch (error) {
    await settle(false);
    return { ...outcome, alreadyTriggered: false, error: asAirkickError(error) };
  }
}

/** The object's claim, or `undefined` without a shared store or while it cannot be reached. */
async function claimFor(ctx: JobContext, target: ClaimTarget): Promise<Claim | undefined> {
  if (!ctx.claims) return undefined;
  try {
    return await ctx.claims.claim(target, ctx.deadline, ctx.signal);
  } catch (error) {
    ctx.logger.warn("upload claim store unavailable; looking in the asset's recent events instead", {
      asset: target.uri,
      event: target.event,
      store: ctx.claims.store.kind,
      error: asAirkickError(error),
    });
    return undefined;
  }
}

/** Whether an event with this key is among the asset's events of the window. */
async function raisedBefore(ctx: JobContext, uri: string, key: string): Promise<boolean> {
  const since = new Date(Date.now() - ASSET_DEDUPE_WINDOW_MS).toISOString();
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = { since, limit: PAGE, offset: page * PAGE };
    const events = await ctx.client.listAssetEvents(uri, query, jobBound(ctx));
    if (events.some((event) => event.extra.airkick_event === key)) return true;
    if (events.length < PAGE) return false;
  }
  return false;
}

function asAirkickError(error: unknown): AirkickError {
  return error instanceof AirkickError ? error : new AirkickError('SERVER', String(error), { cause: error });
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
