import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AirflowInfo } from '#test/airflow/airflow.ts';
import { adminFetch } from '#test/support/airflow-rest.ts';

export interface AirflowRequest {
  method: string;
  /** Path below the API root (`/api/v1` on Airflow 2, `/api/v2` on Airflow 3), starting with `/`. */
  path: string;
  /** Query string without `?`, passed on untouched. */
  query?: string;
  body?: Buffer;
  contentType?: string;
}

export interface AirflowResponse {
  status: number;
  contentType: string | undefined;
  body: Buffer;
  /** Cookies Airflow set or cleared (Airflow 3 clears a rejected `_token`). */
  setCookie?: string[];
  /** Where a redirect points (Airflow 2's web server sends anonymous callers to its login page). */
  location?: string;
}

/** The REST API root each major version serves; a gateway routes only this one to the API. */
export function apiPrefix(airflow: AirflowInfo): '/api/v1' | '/api/v2' {
  return airflow.major === 3 ? '/api/v2' : '/api/v1';
}

const hasBody = (method: string, body: Buffer | undefined): body is Buffer =>
  body !== undefined && body.length > 0 && !['GET', 'HEAD'].includes(method);

async function answerOf(response: Response): Promise<AirflowResponse> {
  const setCookie = response.headers.getSetCookie();
  const location = response.headers.get('location');
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? undefined,
    body: Buffer.from(await response.arrayBuffer()),
    ...(setCookie.length > 0 ? { setCookie } : {}),
    ...(location ? { location } : {}),
  };
}

/**
 * Calls the real Airflow's REST API as the admin user, the identity every gateway maps callers to:
 * `/api/v1` with basic auth on Airflow 2, `/api/v2` with an admin JWT on Airflow 3.
 */
export async function callAirflowApi(
  airflow: AirflowInfo,
  request: AirflowRequest,
): Promise<AirflowResponse> {
  const response = await adminFetch(airflow, {
    method: request.method,
    path: request.path,
    ...(request.query ? { query: request.query } : {}),
    ...(hasBody(request.method, request.body)
      ? { body: request.body, contentType: request.contentType ?? 'application/json' }
      : {}),
  });
  return answerOf(response);
}

export interface ForwardedRequest {
  method: string;
  /** Path from the server root, e.g. `/api/v2/dags` or `/pluginsv2/aws_mwaa/login`. */
  path: string;
  query?: string;
  body?: Buffer;
  /** The caller's headers; only the credential and the body's type are passed on. */
  headers?: IncomingHttpHeaders;
  /** Replaces the caller's `Cookie` header (undefined: send none). */
  cookie?: string;
}

/**
 * Sends a request to the real Airflow with the caller's own credential (its `Authorization` header
 * and the cookie the gateway chose), so Airflow itself judges it: what a gateway that only routes
 * traffic to the web server does. Without a credential, Airflow answers as it would anyone.
 */
export async function forwardToAirflow(
  airflow: AirflowInfo,
  request: ForwardedRequest,
): Promise<AirflowResponse> {
  const headers: Record<string, string> = { accept: request.headers?.accept ?? 'application/json' };
  const authorization = request.headers?.authorization;
  if (authorization) headers.authorization = authorization;
  if (request.cookie) headers.cookie = request.cookie;
  const body = hasBody(request.method, request.body) ? request.body : undefined;
  if (body) headers['content-type'] = request.headers?.['content-type'] ?? 'application/json';
  const query = request.query ? `?${request.query}` : '';
  const response = await fetch(`${airflow.baseUrl}${request.path}${query}`, {
    method: request.method,
    headers,
    ...(body ? { body } : {}),
    redirect: 'manual',
  });
  return answerOf(response);
}

/** Status, type and body of Airflow's answer; its cookies only when asked (`withCookies`). */
export function relayAirflowResponse(
  res: ServerResponse,
  answer: AirflowResponse,
  withCookies = false,
): void {
  res.writeHead(answer.status, {
    ...(answer.contentType ? { 'content-type': answer.contentType } : {}),
    'content-length': answer.body.length,
    ...(answer.location ? { location: answer.location } : {}),
    ...(withCookies && answer.setCookie ? { 'set-cookie': answer.setCookie } : {}),
  });
  res.end(answer.body);
}

/** Airflow 2.10's own answer to an unauthenticated API call, so clients see the shape they would in production. */
const AIRFLOW2_UNAUTHENTICATED = JSON.stringify({
  detail: null,
  status: 401,
  title: 'Unauthorized',
  type: 'https://airflow.apache.org/docs/apache-airflow/2.10.5/stable-rest-api-ref.html#section/Errors/Unauthenticated',
});

/**
 * The real Airflow's answer to an API call without a credential: Airflow 2's problem document, or
 * Airflow 3's `401 {"detail":"Not authenticated"}` (both checked against the harness's instances).
 */
export function sendAirflowUnauthenticated(res: ServerResponse, airflow: AirflowInfo): void {
  if (airflow.major === 3) {
    sendAirflow3Detail(res, 401, 'Not authenticated');
    return;
  }
  res.writeHead(401, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(AIRFLOW2_UNAUTHENTICATED),
  });
  res.end(AIRFLOW2_UNAUTHENTICATED);
}

/** Airflow 3's error body: `{"detail": "..."}` as FastAPI writes it. */
export function sendAirflow3Detail(
  res: ServerResponse,
  status: number,
  detail: string,
  headers: Record<string, string | string[]> = {},
): void {
  const body = JSON.stringify({ detail });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}
