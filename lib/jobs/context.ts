/** What every job gets: the Airflow client, logs, metrics, alerts and the time it has. */
import type { AirflowClient } from '#lib/airflow/types.ts';
import type { Alerting } from '#lib/alerts/index.ts';
import type { Bound } from '#lib/deadline.ts';
import type { UploadClaims } from '#lib/jobs/claims.ts';

/** Compatible with the Powertools logger: extra objects become keys of the JSON line. */
export interface JobLogger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export type MetricName =
  | 'DagRunsTriggered'
  | 'AlreadyTriggered'
  | 'AssetEventsRaised'
  | 'AssetEventsAlreadyRaised'
  | 'TriggerFailures'
  | 'DagRunsFailed'
  | 'Healthy'
  | 'SchedulerHeartbeatAgeSeconds'
  | 'ImportErrors'
  | 'CleanedRows'
  | 'AlertFailures';

export interface JobMetrics {
  add(name: MetricName, value: number, unit?: 'Count' | 'Seconds' | 'None'): void;
}

export interface JobContext {
  client: AirflowClient;
  logger: JobLogger;
  metrics: JobMetrics;
  alerting: Pick<Alerting, 'notifier' | 'monitor'>;
  /** Claims on asset events in the alert-state store, when that store is shared by every container. */
  claims?: UploadClaims;
  /** Epoch ms by which the job must be done, alerts included (the function's remaining time, less a margin). */
  deadline: number;
  /** Aborts at the deadline or when the platform is about to stop the invocation. */
  signal?: AbortSignal;
  now(): Date;
}

/** Kept from Airflow's share of the time, so an Airflow that never answers still leaves time to alert. */
export const ALERTING_RESERVE_MS = 5_000;

/**
 * The bound of a call to Airflow: the job's time less the slice kept for alerts (5 s, or half the
 * time left when that is shorter).
 */
export function airflowBound(ctx: Pick<JobContext, 'deadline' | 'signal'>): Bound {
  const reserve = Math.min(ALERTING_RESERVE_MS, Math.max(0, ctx.deadline - Date.now()) / 2);
  return { deadline: ctx.deadline - reserve, ...(ctx.signal ? { signal: ctx.signal } : {}) };
}

/** All the time the job has: the bound of alert deliveries, and of calls in jobs that send no alert. */
export function jobBound(ctx: Pick<JobContext, 'deadline' | 'signal'>): Bound {
  return { deadline: ctx.deadline, ...(ctx.signal ? { signal: ctx.signal } : {}) };
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the input order in the result. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Counts alert deliveries that failed (the notifier itself logs an alert no channel took, in full). */
export function countAlertFailures(
  ctx: Pick<JobContext, 'metrics'>,
  result: { delivered: string[]; failed: { channel: string }[] } | undefined,
): void {
  if (result && result.failed.length > 0) ctx.metrics.add('AlertFailures', result.failed.length);
}
