/** What every job gets: the Airflow client, logs, metrics, alerts and the time it has. */
import type { AirflowClient } from '../airflow/types.ts';
import type { Alerting } from '../alerts/index.ts';

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
  /** Epoch ms by which the job must be done (the function's remaining time, less a margin). */
  deadline: number;
  now(): Date;
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
