/**
 * trigger-dag: trigger the configured DAGs for one schedule slot. The run id is derived from the slot,
 * so a redelivered schedule event meets Airflow's 409 instead of creating a second run.
 */
import type { DagRun } from '#lib/airflow/types.ts';
import type { TriggerConfig } from '#lib/config.ts';
import { AirkickError, isAirkickError, isPermanent } from '#lib/errors.ts';
import { type ScheduleInput, scheduleRunId } from '#lib/events/index.ts';
import { airflowBound, countAlertFailures, type JobContext, jobBound } from '#lib/jobs/context.ts';

export interface TriggerOutcome {
  dagId: string;
  runId: string;
  alreadyTriggered: boolean;
  /** Final state when the job waited for the run. */
  state: DagRun['state'] | null;
  error?: string;
}

export interface TriggerSummary {
  slot: string;
  outcomes: TriggerOutcome[];
}

/** `{{scheduled_time}}`-style placeholders in string values, replaced recursively. */
export function renderConf(template: unknown, values: Record<string, string>): unknown {
  if (typeof template === 'string') {
    return template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole);
  }
  if (Array.isArray(template)) return template.map((item) => renderConf(item, values));
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, renderConf(v, values)]));
  }
  return template;
}

export async function triggerScheduled(
  schedule: ScheduleInput,
  config: TriggerConfig,
  ctx: JobContext,
): Promise<TriggerSummary> {
  const dags = Array.isArray(schedule.input.dags) ? schedule.input.dags.map(String) : config.dags;
  const template = isObject(schedule.input.conf) ? { ...config.conf, ...schedule.input.conf } : config.conf;
  const slot = schedule.slot.toISOString();
  const outcomes = await Promise.all(
    dags.map(async (dagId): Promise<TriggerOutcome> => {
      const runId = scheduleRunId(dagId, schedule.slot);
      const keys = { dag_id: dagId, run_id: runId };
      const conf = renderConf(template, {
        scheduled_time: slot,
        scheduled_date: slot.slice(0, 10),
        dag_id: dagId,
      });
      try {
        const { run, alreadyTriggered } = await ctx.client.triggerDagRun(
          { dagId, runId, conf: conf as Record<string, unknown>, note: `airkick trigger-dag, slot ${slot}` },
          airflowBound(ctx),
        );
        ctx.metrics.add(alreadyTriggered ? 'AlreadyTriggered' : 'DagRunsTriggered', 1);
        ctx.logger.info(
          alreadyTriggered ? 'DAG run already triggered for this slot' : 'DAG run triggered',
          keys,
        );
        const state = config.wait ? await waitAndAlert(run, ctx) : null;
        return { dagId, runId, alreadyTriggered, state };
      } catch (error) {
        ctx.metrics.add('TriggerFailures', 1);
        // A permanent failure (unknown DAG, bad conf) still fails the invocation: a scheduled trigger
        // that can never work must show in the platform's Errors alarm, and its retries are harmless.
        ctx.logger.error('DAG run trigger failed', { ...keys, permanent: isPermanent(error) }, { error });
        return {
          dagId,
          runId,
          alreadyTriggered: false,
          state: null,
          error: String((error as Error).message),
        };
      }
    }),
  );
  const failed = outcomes.filter((o) => o.error !== undefined);
  if (failed.length > 0) {
    // Failing the invocation lets the scheduler retry; the slot-derived run ids keep the retry safe.
    throw new AirkickError(
      'SERVER',
      `trigger-dag: ${failed.length} of ${outcomes.length} DAGs failed: ${failed.map((o) => `${o.dagId} (${o.error})`).join('; ')}`,
    );
  }
  return { slot, outcomes };
}

async function waitAndAlert(run: DagRun, ctx: JobContext): Promise<DagRun['state']> {
  const keys = { dag_id: run.dagId, run_id: run.runId };
  try {
    const done = await ctx.client.waitForDagRun(run.dagId, run.runId, {
      ...airflowBound(ctx),
      pollIntervalMs: 2_000,
    });
    if (done.state === 'failed') {
      ctx.metrics.add('DagRunsFailed', 1);
      ctx.logger.warn('DAG run failed', keys);
      const link = ctx.client.uiUrl(run.dagId, run.runId);
      const result = await ctx.alerting.notifier.notify(
        {
          title: `DAG run failed: ${run.dagId}`,
          severity: 'critical',
          environment: ctx.client.environment,
          dagId: run.dagId,
          runId: run.runId,
          summary: `The run ${run.runId} of ${run.dagId} ended in state "failed".`,
          ...(link ? { link } : {}),
        },
        jobBound(ctx),
      );
      countAlertFailures(ctx, result);
    } else ctx.logger.info(`DAG run finished: ${done.state}`, keys);
    return done.state;
  } catch (error) {
    if (!isAirkickError(error, 'TIMEOUT')) throw error;
    ctx.logger.warn('DAG run still running when the function ran out of time', keys);
    return run.state;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
