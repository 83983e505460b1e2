/**
 * health-check: read Airflow's health, judge it, log one structured result, emit metrics, and alert
 * on a change to unhealthy and on recovery (the alert monitor keeps the state), not on every poll.
 */
import type { DagRun, Health } from '#lib/airflow/types.ts';
import type { HealthConfig } from '#lib/config.ts';
import { airflowBound, countAlertFailures, type JobContext, jobBound } from '#lib/jobs/context.ts';

export interface HealthVerdict {
  healthy: boolean;
  problems: string[];
  health: Health | null;
  importErrors: number | null;
  failedRuns: { dagId: string; runId: string }[];
}

/** What the failed-runs check found for one DAG. */
export type RunsFinding =
  | { dagId: string; failing: boolean; latest: DagRun | undefined; recentFailures: DagRun[] }
  | { dagId: string; error: string };

/**
 * Pure: a DAG is failing while its newest finished run failed, so the alert resolves when a later run
 * succeeds, not when the failure slides out of a time window. `recentFailures`: failed runs that ended
 * since `since`, for logs and metrics.
 */
export function judgeRuns(dagId: string, finishedNewestFirst: DagRun[], since: string): RunsFinding {
  const latest = finishedNewestFirst[0];
  return {
    dagId,
    failing: latest?.state === 'failed',
    latest,
    recentFailures: finishedNewestFirst.filter(
      (run) => run.state === 'failed' && (run.endDate ?? '') >= since,
    ),
  };
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

export async function checkHealth(config: HealthConfig, ctx: JobContext): Promise<HealthVerdict> {
  const options = airflowBound(ctx);
  const alerting = jobBound(ctx);
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
  const findings: RunsFinding[] = [];
  for (const dagId of config.failedRunsDags) {
    try {
      const runs = await ctx.client.listDagRuns(
        dagId,
        { state: ['success', 'failed'], orderBy: '-end_date', limit: 20 },
        options,
      );
      const finding = judgeRuns(dagId, runs, since);
      findings.push(finding);
      if ('recentFailures' in finding)
        verdict.failedRuns.push(...finding.recentFailures.map((r) => ({ dagId, runId: r.runId })));
    } catch (error) {
      findings.push({ dagId, error: (error as Error).message });
    }
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
  for (const finding of findings) {
    const { dagId } = finding;
    const dagLink = ctx.client.uiUrl(dagId);
    const key = `failed-runs:${environment}:${dagId}`;
    if ('error' in finding) {
      // With Airflow unreachable the health alert says so; a per-DAG alert would only repeat it.
      if (verdict.health === null) continue;
      ctx.logger.warn('cannot check failed runs', { dag_id: dagId, error: finding.error });
    }
    const failing = 'error' in finding || finding.failing;
    const latest = 'error' in finding ? undefined : finding.latest;
    const dagOutcome = await ctx.alerting.monitor.observe(
      {
        key,
        healthy: !failing,
        alert:
          'error' in finding
            ? {
                title: `Cannot check failed runs of ${dagId}`,
                severity: 'warning',
                environment,
                dagId,
                summary: `Listing the runs of ${dagId} failed: ${finding.error}`,
                ...(dagLink ? { link: dagLink } : {}),
              }
            : {
                title: `DAG run failed: ${dagId}`,
                severity: 'warning',
                environment,
                dagId,
                ...(latest ? { runId: latest.runId } : {}),
                summary: `The latest finished run of ${dagId}${latest ? `, ${latest.runId},` : ''} failed; ${finding.recentFailures.length} run(s) failed in the last ${config.failedRunsLookbackMinutes} minutes. This resolves when a later run succeeds.`,
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
