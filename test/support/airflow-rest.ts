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
  return fetch(`${airflow.apiRoot}${request.path}${request.query ? `?${request.query}` : ''}`, {
    method: request.method ?? 'GET',
    headers,
    ...(request.body === undefined ? {} : { body: request.body }),
    redirect: 'manual',
  });
}
