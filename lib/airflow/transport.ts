/**
 * What a provider implements: one authenticated attempt at an Airflow REST call (a path relative to
 * the root of API `v1` or `v2`; the provider knows where that root is and how to authenticate for it),
 * and the CLI where there is one. Retries, error mapping and the operations live once, in the client;
 * what differs between API versions lives in `api-v1.ts` and `api-v2.ts`.
 */

import type { CliResult } from '#lib/airflow/types.ts';
import type { Bound } from '#lib/deadline.ts';
import type { ApiVersion } from '#lib/environment.ts';

/** The HTTP methods Airflow's REST API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
/** One query parameter's value; an array repeats the parameter once per item (`state=a&state=b`). */
export type QueryValue = string | number | boolean | readonly string[];
/** Query parameters; an `undefined` value is left out. */
export type Query = Record<string, QueryValue | undefined>;

/** One Airflow REST call, independent of where Airflow runs and how it authenticates. */
export interface ApiRequest {
  /** The REST API it is for: `v1` (Airflow 2) or `v2` (Airflow 3). */
  api: ApiVersion;
  /** The HTTP method. */
  method: HttpMethod;
  /** Relative to the API root, e.g. `/dags/x/dagRuns` (no `/api/v1`). */
  path: string;
  /** Query parameters. */
  query?: Query;
  /** Sent as JSON; absent: no body. */
  body?: unknown;
  /** Airflow answers it without credentials (health), so none are fetched for it. */
  anonymous?: boolean;
}

/** Airflow's answer, whatever its status: the client decides what is an error. */
export interface ApiResponse {
  /** Airflow's HTTP status (on MWAA's InvokeRestApi, the one Airflow gave, not the gateway's 200). */
  status: number;
  /** The parsed JSON; the text itself when it is not JSON; `undefined` when empty. */
  body: unknown;
  /** The server's `Retry-After`, in ms. */
  retryAfterMs?: number;
  /** Where a 3xx answer pointed (never followed). */
  location?: string;
}

/** The time one attempt has: the invocation's deadline and abort signal. */
export type AttemptOptions = Bound;

/**
 * What a provider (`mwaaTransport`, `dmsTransport`, the built-in self-hosted one) gives the client: one
 * authenticated attempt at a REST call and, where there is one, the CLI. It caches its own tokens and
 * sessions. `send` resolves with any HTTP answer from Airflow, errors included, and throws an
 * {@link AirkickError} only when there is none (network, timeout, a refused login, token or control-plane
 * call); `cli` throws for any failed command.
 */
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
