/**
 * The registry of Airflow REST API dialects: one row per version named in `API_VERSIONS`
 * (lib/environment.ts). The `Record` makes a version without a dialect a type error, so a new API
 * version is its module (like api-v2.ts) plus one row here and one in `API_VERSIONS`.
 */
import type { AirflowApi } from '#lib/airflow/api.ts';
import { apiV1 } from '#lib/airflow/api-v1.ts';
import { apiV2 } from '#lib/airflow/api-v2.ts';
import type { ApiVersion } from '#lib/environment.ts';

const DIALECTS: Record<ApiVersion, (airflowVersion?: string) => AirflowApi> = { v1: apiV1, v2: apiV2 };

/** The dialect of `api`, for an Airflow that reported `airflowVersion` (`unknown` when not asked). */
export function airflowApi(api: ApiVersion, airflowVersion?: string): AirflowApi {
  return DIALECTS[api](airflowVersion);
}
