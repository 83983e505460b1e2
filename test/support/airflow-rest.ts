/**
 * Straight to the real Airflow of the harness as its admin user, whichever major version it is:
 * Airflow 2 `/api/v1` with basic auth, Airflow 3 `/api/v2` with a JWT from `/auth/token`. For tests,
 * emulators and benchmarks that check what arrived in Airflow, never for the code under test.
 */
import type { AirflowInfo } from '#test/airflow/airflow.ts';

export interface AdminRequest {
  method?: string;
  /** Below the API root, e.g. `/dags/x/dagRuns` (no `/api/v1`). */
  path: string;
  query?: string;
  body?: string | Buffer;
  contentType?: string;
}

const tokens = new Map<string, { token: string; until: number }>();

export function majorOf(airflow: AirflowInfo): 2 | 3 {
  return airflow.major;
}

/** The admin's `Authorization` header value for this Airflow. */
export async function adminAuthorization(airflow: AirflowInfo): Promise<string> {
  if (majorOf(airflow) === 2) {
    return `Basic ${Buffer.from(`${airflow.username}:${airflow.password}`).toString('base64')}`;
  }
  const cached = tokens.get(airflow.baseUrl);
  if (cached && cached.until > Date.now()) return `Bearer ${cached.token}`;
  const response = await fetch(`${airflow.baseUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: airflow.username, password: airflow.password }),
  });
  const { access_token: token } = (await response.json()) as { access_token?: string };
  if (!token) throw new Error(`no admin token from ${airflow.baseUrl}/auth/token (HTTP ${response.status})`);
  tokens.set(airflow.baseUrl, { token, until: Date.now() + 10 * 60_000 });
  return `Bearer ${token}`;
}

export async function adminFetch(airflow: AirflowInfo, request: AdminRequest): Promise<Response> {
  const headers: Record<string, string> = {
    authorization: await adminAuthorization(airflow),
    accept: 'application/json',
  };
  if (request.body !== undefined) headers['content-type'] = request.contentType ?? 'application/json';
  const send = () =>
    fetch(`${airflow.apiRoot}${request.path}${request.query ? `?${request.query}` : ''}`, {
      method: request.method ?? 'GET',
      headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
    });
  // A kept-alive connection the server closed meanwhile fails before any answer: one more try, for
  // the requests a repeat cannot double (every admin request here but a POST).
  return send().catch(async (error: unknown) => {
    if ((request.method ?? 'GET') === 'POST') throw error;
    await new Promise((resolve) => setTimeout(resolve, 500));
    return send();
  });
}

export interface StoredAssetEvent {
  extra: Record<string, unknown>;
}

/**
 * Airflow's own list of asset (dataset) events, every asset, newest first, read directly. Airflow
 * 3.3.2 answers 500 while a listed event's run is still queued (its serializer wants the run's
 * start_date): read again until it has started.
 */
export async function storedAssetEvents(airflow: AirflowInfo, query: string): Promise<StoredAssetEvent[]> {
  const v3 = majorOf(airflow) === 3;
  const path = v3 ? '/assets/events' : '/datasets/events';
  for (let attempt = 1; ; attempt++) {
    const answer = await adminFetch(airflow, { path, query });
    if (answer.status === 500 && v3 && attempt < 60) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      continue;
    }
    if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${await answer.text()}`);
    const body = (await answer.json()) as Record<string, StoredAssetEvent[] | undefined>;
    return (v3 ? body.asset_events : body.dataset_events) ?? [];
  }
}

/** Every stored event raised for an object of `bucket` (its `extra.bucket`), all pages. */
export async function storedAssetEventsOfBucket(
  airflow: AirflowInfo,
  bucket: string,
): Promise<StoredAssetEvent[]> {
  const found: StoredAssetEvent[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = await storedAssetEvents(airflow, `order_by=-timestamp&limit=100&offset=${offset}`);
    found.push(...page.filter((e) => e.extra?.bucket === bucket));
    if (page.length < 100) return found;
  }
}

/** How many stored events carry each object key of `bucket`. */
export async function assetEventsPerKey(airflow: AirflowInfo, bucket: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { extra } of await storedAssetEventsOfBucket(airflow, bucket))
    counts.set(String(extra.key), (counts.get(String(extra.key)) ?? 0) + 1);
  return counts;
}

/**
 * Pauses or unpauses a DAG. A paused DAG takes runs but starts no task, and one scheduled on an
 * asset gets no run (nor a queued event) from the asset's events. Pausing also deletes the DAG's
 * queued runs when `dropQueued`: they would never start, and on Airflow 3.3.2 an asset event whose
 * run is queued makes every event list that holds it a 500.
 */
export async function setDagPaused(
  airflow: AirflowInfo,
  dagId: string,
  paused: boolean,
  { dropQueued = false }: { dropQueued?: boolean } = {},
): Promise<void> {
  const response = await adminFetch(airflow, {
    method: 'PATCH',
    path: `/dags/${dagId}`,
    query: 'update_mask=is_paused',
    body: JSON.stringify({ is_paused: paused }),
  });
  if (response.status !== 200)
    throw new Error(`PATCH /dags/${dagId} is_paused=${paused}: ${response.status} ${await response.text()}`);
  if (!paused || !dropQueued) return;
  for (let page = 0; page < 100; page++) {
    const listed = await adminFetch(airflow, {
      path: `/dags/${dagId}/dagRuns`,
      query: 'state=queued&limit=100',
    });
    if (listed.status !== 200) throw new Error(`listing queued runs of ${dagId}: ${listed.status}`);
    const { dag_runs: runs } = (await listed.json()) as { dag_runs: { dag_run_id: string }[] };
    if (runs.length === 0) return;
    for (const run of runs)
      await adminFetch(airflow, {
        method: 'DELETE',
        path: `/dags/${dagId}/dagRuns/${encodeURIComponent(run.dag_run_id)}`,
      });
  }
}
