/**
 * Plain REST calls to the real Airflow, either major version: the raw client's credential, and
 * counting and cleaning up what the benchmarks created (as the harness admin).
 */
import { DEFAULT_REDIS_PREFIX } from '#lib/alerts/state/redis.ts';
import { createRespClient } from '#lib/alerts/state/resp.ts';
import { parseUploadEvent, uploadRunId } from '#lib/events/index.ts';
import { claimKey } from '#lib/jobs/claims.ts';
import type { AirflowInfo } from '#test/airflow/airflow.ts';
import { adminFetch } from '#test/support/airflow-rest.ts';
import { type ObjectSpec, sqsBatch } from '#test/support/events.ts';

export interface RunSummary {
  dag_run_id: string;
  conf: Record<string, unknown> | null;
}

/**
 * What a hand-written client sends as `Authorization`: basic auth on Airflow 2; on Airflow 3, which
 * refuses it, a JWT from one `POST /auth/token` (valid for a day by default, so fetched once).
 */
export async function rawAuthorization(airflow: AirflowInfo): Promise<string> {
  if (airflow.major === 2)
    return `Basic ${Buffer.from(`${airflow.username}:${airflow.password}`).toString('base64')}`;
  const response = await fetch(`${airflow.baseUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: airflow.username, password: airflow.password }),
  });
  const { access_token: token } = (await response.json()) as { access_token?: string };
  if (!token) throw new Error(`no token from ${airflow.baseUrl}/auth/token (HTTP ${response.status})`);
  return `Bearer ${token}`;
}

/**
 * The body of `POST dagRuns` for a run id and conf: Airflow 3 requires `logical_date` (null: none)
 * and refuses unknown fields, Airflow 2 takes the two alone.
 */
export function dagRunBody(airflow: AirflowInfo, runId: string, conf: Record<string, unknown>): string {
  return JSON.stringify(
    airflow.major === 2 ? { dag_run_id: runId, conf } : { dag_run_id: runId, logical_date: null, conf },
  );
}

/** Airflow's `maximum_page_limit` default. */
const PAGE = 100;

/** Every queued run of the DAG (the benchmark keeps it paused, so all it creates stays queued). */
export async function queuedRuns(airflow: AirflowInfo, dagId: string): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  // Offsets only page reliably over a unique order: the row id exists on both versions, while
  // `execution_date` is gone from Airflow 3 and its runs without a logical date may share `run_after`.
  // Bounded: 2,000 pages is 200,000 runs, far beyond any storm here.
  for (let page = 0; page < 2_000; page++) {
    const response = await adminFetch(airflow, {
      path: `/dags/${dagId}/dagRuns`,
      query: `state=queued&limit=${PAGE}&offset=${page * PAGE}&order_by=id`,
    });
    if (!response.ok)
      throw new Error(`listing runs of ${dagId}: HTTP ${response.status} ${await response.text()}`);
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
      const response = await adminFetch(airflow, {
        method: 'DELETE',
        path: `/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}`,
      });
      await response.arrayBuffer();
      if (!response.ok && response.status !== 404) failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failed;
}

/**
 * The raw client's asset event POST for `uri`: Airflow 3 `POST /assets/events {asset_id, extra}` (the
 * id looked up once here, as a hand-written client would), Airflow 2 `POST /datasets/events
 * {dataset_uri, extra}`.
 */
export async function assetEventRequest(
  airflow: AirflowInfo,
  uri: string,
): Promise<{ url: string; body: (extra: Record<string, unknown>) => string }> {
  if (airflow.major === 2)
    return {
      url: `${airflow.apiRoot}/datasets/events`,
      body: (extra) => JSON.stringify({ dataset_uri: uri, extra }),
    };
  const response = await adminFetch(airflow, {
    path: '/assets',
    query: `uri_pattern=${encodeURIComponent(uri)}&limit=100`,
  });
  const { assets } = (await response.json()) as { assets: { id: number; uri: string }[] };
  const asset = assets.find((a) => a.uri === uri);
  if (!asset) throw new Error(`Airflow has no asset ${uri} (HTTP ${response.status})`);
  return {
    url: `${airflow.apiRoot}/assets/events`,
    body: (extra) => JSON.stringify({ asset_id: asset.id, extra }),
  };
}

/**
 * Deletes the Redis keys of the claims airkick made for `objects` (delivered in SQS batches) on
 * `uri` in the environment the client names `environment`.
 */
export async function deleteClaims(
  url: string,
  scope: { environment: string; uri: string },
  objects: readonly ObjectSpec[],
): Promise<void> {
  if (objects.length === 0) return;
  const batch = sqsBatch(objects.map((o, i) => ({ id: `m-${i}`, objects: [o] })));
  const keys = parseUploadEvent(batch).records.map(
    (record) => `${DEFAULT_REDIS_PREFIX}${claimKey({ ...scope, event: uploadRunId(record) })}`,
  );
  const redis = createRespClient(url);
  try {
    for (let i = 0; i < keys.length; i += 500) await redis.command(['DEL', ...keys.slice(i, i + 500)]);
  } finally {
    await redis.close();
  }
}
