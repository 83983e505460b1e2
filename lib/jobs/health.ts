/**
 * health-check: read Airflow's health, judge it, log one structured result, emit metrics, and alert
 * on a change to unhealthy and on recovery (the alert monitor keeps the state), not on every poll.
 */
import type { Health } from '../airflow/types.ts';
import type { HealthConfig } from '../config.ts';
import { countAlertFailures, type JobContext } from './context.ts';

export interface HealthVerdict {
  healthy: boolean;
  problems: string[];
  health: Health | null;
  importErrors: number | null;
  failedRuns: { dagId: string; runId: string }[];
}

/** Pure: what is wrong with a health reading, in words an operator reads in an alert. */
export function judgeHealth(health: Health, config: Pick<HealthConfig, 'maxHeartbeatAgeSeconds'>): string[] {
  const problems: string[] = [];
  if (health.metadatabase.status !== 'healthy')
    problems.push(`metadatabase is ${health.metadatabase.status}`);
  const components = [
    ['scheduler', health.scheduler],
    ['triggerer', health.triggerer],
    ['dag processor', health.dagProcessor],
  ] as const;
  for (const [name, component] of components) {
    if (!component) continue;
    const age = component.heartbeatAgeSeconds;
    if (component.status !== 'healthy') {
      problems.push(
        `${name} is ${component.status}${age === null ? '' : ` (last heartbeat ${Math.round(age)} s ago)`}`,
      );
    } else if (age !== null && age > config.maxHeartbeatAgeSeconds) {
      problems.push(
        `${name} heartbeat is ${Math.round(age)} s old (limit ${config.maxHeartbeatAgeSeconds} s)`,
      );
    }
  }
  return problems;
}

/** Kept from Airflow's share of the time, so an Airflow that never answers still leaves time to alert. */
export const ALERTING_RESERVE_MS = 5_000;

export async function checkHealth(config: HealthConfig, ctx: JobContext): Promise<HealthVerdict> {
  const options = { deadline: ctx.deadline - ALERTING_RESERVE_MS };
  const alerting = { deadline: ctx.deadline };
  const verdict: HealthVerdict = {
    healthy: true,
    problems: [],
    health: null,
    importErrors: null,
    failedRuns: [],
  };
  try {
    verdict.health = await ctx.client.health(options);
    verdict.problems.push(...judgeHealth(verdict.health, config));
    if (config.importErrors) {
      const errors = await ctx.client.listImportErrors(options);
      verdict.importErrors = errors.length;
      if (errors.length > 0) {
        verdict.problems.push(
          `${errors.length} DAG import error(s): ${errors.map((e) => e.filename).join(', ')}`,
        );
      }
    }
  } catch (error) {
    verdict.problems.push(`Airflow is unreachable: ${(error as Error).message}`);
  }
  verdict.healthy = verdict.problems.length === 0;

  const since = new Date(ctx.now().getTime() - config.failedRunsLookbackMinutes * 60_000).toISOString();
  for (const dagId of config.failedRunsDags) {
    const runs = await ctx.client
      .listDagRuns(dagId, { state: ['failed'], endDateGte: since, limit: 20 }, options)
      .catch(() => []);
    verdict.failedRuns.push(...runs.map((r) => ({ dagId, runId: r.runId })));
  }

  const scheduler = verdict.health?.scheduler.heartbeatAgeSeconds;
  ctx.metrics.add('Healthy', verdict.healthy ? 1 : 0, 'Count');
  if (scheduler !== null && scheduler !== undefined)
    ctx.metrics.add('SchedulerHeartbeatAgeSeconds', scheduler, 'Seconds');
  if (verdict.importErrors !== null) ctx.metrics.add('ImportErrors', verdict.importErrors, 'Count');
  if (verdict.failedRuns.length > 0) ctx.metrics.add('DagRunsFailed', verdict.failedRuns.length, 'Count');
  (verdict.healthy ? ctx.logger.info : ctx.logger.warn).call(
    ctx.logger,
    verdict.healthy ? 'healthy' : 'unhealthy',
    {
      healthy: verdict.healthy,
      problems: verdict.problems,
      scheduler_heartbeat_age_s: scheduler ?? null,
      import_errors: verdict.importErrors,
      failed_runs: verdict.failedRuns,
    },
  );

  const environment = ctx.client.environment;
  const link = ctx.client.uiUrl();
  const outcome = await ctx.alerting.monitor.observe(
    {
      key: `health:${environment}`,
      healthy: verdict.healthy,
      alert: {
        title: `Airflow unhealthy: ${environment}`,
        severity: 'critical',
        environment,
        summary: verdict.problems.join('\n') || 'All components are healthy.',
        ...(link ? { link } : {}),
      },
    },
    alerting,
  );
  countAlertFailures(ctx, outcome.result);
  for (const dagId of config.failedRunsDags) {
    const failed = verdict.failedRuns.filter((r) => r.dagId === dagId);
    const dagLink = ctx.client.uiUrl(dagId);
    const dagOutcome = await ctx.alerting.monitor.observe(
      {
        key: `failed-runs:${environment}:${dagId}`,
        healthy: failed.length === 0,
        alert: {
          title: `DAG runs failed: ${dagId}`,
          severity: 'warning',
          environment,
          dagId,
          ...(failed[0] ? { runId: failed[0].runId } : {}),
          summary: `${failed.length} run(s) of ${dagId} failed in the last ${config.failedRunsLookbackMinutes} minutes: ${failed.map((r) => r.runId).join(', ')}`,
          ...(dagLink ? { link: dagLink } : {}),
        },
      },
      alerting,
    );
    countAlertFailures(ctx, dagOutcome.result);
  }
  if (outcome.action !== 'quiet')
    ctx.logger.info(`health alert: ${outcome.action}`, { alert_action: outcome.action });
  return verdict;
}
