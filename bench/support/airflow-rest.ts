/** Plain REST calls to the real Airflow for counting and cleaning up what the benchmarks created. */
import type { AirflowInfo } from '#test/airflow/airflow.ts';

export interface RunSummary {
  dag_run_id: string;
  conf: Record<string, unknown> | null;
}

export const basicAuth = (airflow: AirflowInfo): string =>
  `Basic ${Buffer.from(`${airflow.username}:${airflow.password}`).toString('base64')}`;

/** Airflow's `maximum_page_limit` default. */
const PAGE = 100;

/** Every queued run of the DAG (the benchmark keeps it paused, so all it creates stays queued). */
export async function queuedRuns(airflow: AirflowInfo, dagId: string): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  // Bounded: 2,000 pages is 200,000 runs, far beyond any storm here.
  for (let page = 0; page < 2_000; page++) {
    const query = `state=queued&limit=${PAGE}&offset=${page * PAGE}&order_by=execution_date`;
    const response = await fetch(`${airflow.baseUrl}/api/v1/dags/${dagId}/dagRuns?${query}`, {
      headers: { authorization: basicAuth(airflow) },
    });
    if (!response.ok) throw new Error(`listing runs of ${dagId}: HTTP ${response.status}`);
    const body = (await response.json()) as { dag_runs: RunSummary[] };
    runs.push(...body.dag_runs);
    if (body.dag_runs.length < PAGE) break;
  }
  return runs;
}

/** Deletes runs with `concurrency` requests in flight; returns how many Airflow refused. */
export async function deleteRuns(
  airflow: AirflowInfo,
  dagId: string,
  runIds: readonly string[],
  concurrency = 8,
): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < runIds.length) {
      const runId = runIds[next++] as string;
      const response = await fetch(
        `${airflow.baseUrl}/api/v1/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}`,
        { method: 'DELETE', headers: { authorization: basicAuth(airflow) } },
      );
      await response.arrayBuffer();
      if (!response.ok && response.status !== 404) failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failed;
}
