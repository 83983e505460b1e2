/**
 * What a provider implements: one authenticated attempt at an Airflow REST call (a path relative to
 * the root of API `v1` or `v2`; the provider knows where that root is and how to authenticate for it),
 * and the CLI where there is one. Retries, error mapping and the operations live once, in the client;
 * what differs between API versions lives in `api-v1.ts` and `api-v2.ts`.
 */
import type { Bound } from '../deadline.ts';
import type { CliResult } from './types.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
export type QueryValue = string | number | boolean | readonly string[];
export type Query = Record<string, QueryValue | undefined>;

/** `v1`: Airflow 2's stable REST API at `/api/v1`; `v2`: Airflow 3's at `/api/v2`. */
export type ApiVersion = 'v1' | 'v2';

export interface ApiRequest {
  api: ApiVersion;
  method: HttpMethod;
  /** Relative to the API root, e.g. `/dags/x/dagRuns` (no `/api/v1`). */
  path: string;
  query?: Query;
  body?: unknown;
  /** Airflow answers it without credentials (health), so none are fetched for it. */
  anonymous?: boolean;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  retryAfterMs?: number;
  /** Where a 3xx answer pointed (never followed). */
  location?: string;
}

/** The time one attempt has: the invocation's deadline and abort signal. */
export type AttemptOptions = Bound;

export interface Transport {
  /** Safe display name of the environment. */
  readonly environment: string;
  /** One attempt; a rejected credential is refreshed and the call repeated once inside. */
  send(request: ApiRequest, options: AttemptOptions): Promise<ApiResponse>;
  /** Runs one CLI command line (already quoted, without `airflow`). */
  cli?(command: string, options: AttemptOptions): Promise<CliResult>;
  /** Base URL of the Airflow UI when known. */
  uiBase(): string | undefined;
}

export function toSearchParams(query: Query | undefined): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item));
    else params.append(key, String(value));
  }
  return params;
}

export function withQuery(url: string, query: Query | undefined): string {
  const search = toSearchParams(query).toString();
  return search ? `${url}?${search}` : url;
}
