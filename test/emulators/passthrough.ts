import type { ServerResponse } from 'node:http';
import type { AirflowInfo } from '#test/airflow/airflow.ts';

export interface AirflowRequest {
  method: string;
  /** Path below `/api/v1`, starting with `/`. */
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
}

/** Calls the real Airflow stable REST API as the admin user, the identity every gateway maps callers to. */
export async function callAirflowApi(
  airflow: AirflowInfo,
  request: AirflowRequest,
): Promise<AirflowResponse> {
  const auth = Buffer.from(`${airflow.username}:${airflow.password}`).toString('base64');
  const headers: Record<string, string> = { authorization: `Basic ${auth}`, accept: 'application/json' };
  const hasBody =
    request.body !== undefined && request.body.length > 0 && !['GET', 'HEAD'].includes(request.method);
  if (hasBody) headers['content-type'] = request.contentType ?? 'application/json';
  const query = request.query ? `?${request.query}` : '';
  const response = await fetch(`${airflow.baseUrl}/api/v1${request.path}${query}`, {
    method: request.method,
    headers,
    ...(hasBody ? { body: request.body } : {}),
    redirect: 'manual',
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? undefined,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

export function relayAirflowResponse(res: ServerResponse, answer: AirflowResponse): void {
  res.writeHead(answer.status, {
    ...(answer.contentType ? { 'content-type': answer.contentType } : {}),
    'content-length': answer.body.length,
  });
  res.end(answer.body);
}

/** Airflow 2.10's own answer to an unauthenticated API call, so clients see the shape they would in production. */
export function sendAirflowUnauthenticated(res: ServerResponse): void {
  const body = JSON.stringify({
    detail: null,
    status: 401,
    title: 'Unauthorized',
    type: 'https://airflow.apache.org/docs/apache-airflow/2.10.5/stable-rest-api-ref.html#section/Errors/Unauthenticated',
  });
  res.writeHead(401, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
