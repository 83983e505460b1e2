/**
 * REST through InvokeRestApi: the Airflow call travels inside a signed control-plane request, so the
 * caller needs only IAM (`airflow:InvokeRestApi` on the Airflow role), no web session.
 */
import type { ApiRequest, ApiResponse, AttemptOptions } from '#lib/airflow/transport.ts';
import type { ControlPlane } from '#lib/auth/mwaa/control-plane.ts';

/** InvokeRestApi's `Path` limit (service model `RestApiPath`: 1 to 64 characters). */
export const REST_API_PATH_MAX = 64;

/**
 * One REST call through InvokeRestApi: Airflow's answer (also its 4xx/5xx, which arrive as
 * `RestApiClientException` / `RestApiServerException`), or `fallback` when the Airflow role lacks
 * the grant and the web-login session should be used instead.
 */
export function invokeRestApi(controlPlane: ControlPlane, environmentName: string) {
  const path = `/restapi/${encodeURIComponent(environmentName)}`;
  return async (request: ApiRequest, attempt: AttemptOptions): Promise<ApiResponse | 'fallback'> => {
    const payload: Record<string, unknown> = { Method: request.method, Path: request.path };
    const query = Object.fromEntries(Object.entries(request.query ?? {}).filter(([, v]) => v !== undefined));
    if (Object.keys(query).length > 0) payload.QueryParameters = query;
    if (request.body !== undefined) payload.Body = request.body;
    const out = await controlPlane.call('InvokeRestApi', path, JSON.stringify(payload), attempt);
    const { answer, type } = out;
    if (out.status === 200 || type === 'RestApiClientException' || type === 'RestApiServerException') {
      return { status: Number(answer?.RestApiStatusCode ?? out.status), body: answer?.RestApiResponse };
    }
    const message = String(answer?.message ?? answer?.Message ?? '');
    if (type === 'AccessDeniedException' && /airflow role/i.test(message)) return 'fallback';
    throw controlPlane.failure('InvokeRestApi', out);
  };
}
