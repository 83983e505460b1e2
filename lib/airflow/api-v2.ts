/** Airflow 3's REST API, `/api/v2` (FastAPI: strict bodies, `{detail}` errors). */

import {
  type AirflowApi,
  assetDialect,
  dagRunFrom,
  healthFrom,
  importErrorsFrom,
  record,
  str,
} from '#lib/airflow/api.ts';
import type { ApiResponse } from '#lib/airflow/transport.ts';
import { bodyExcerpt } from '#lib/http.ts';

export function apiV2(airflowVersion = 'unknown'): AirflowApi {
  return {
    name: 'v2',
    airflowVersion,
    assets: assetDialect({
      noun: 'asset',
      unsupported: undefined,
      // By id: URIs stopped being unique in Airflow 3 (an asset is its name and URI).
      createBody: (asset, extra) => ({ asset_id: asset.id, extra }),
      listQuery: (id, query) => ({
        asset_id: id,
        order_by: '-timestamp',
        limit: query.limit ?? 100,
        offset: query.offset,
        timestamp_gte: query.since,
      }),
      // Airflow 3.3.2 answers 500 for a list holding an event whose run is still queued (its
      // serializer requires the run's start_date); it passes once the run starts.
      transientStatus: (status) => status === 500,
    }),
    triggerBody(input) {
      // `logical_date` must be present (null: no logical date); unknown fields are rejected (422).
      const body: Record<string, unknown> = {
        logical_date: input.logicalDate ?? null,
        conf: input.conf ?? {},
      };
      if (input.runId !== undefined) body.dag_run_id = input.runId;
      if (input.note !== undefined) body.note = input.note;
      return body;
    },
    retryTriggerBody(response, body) {
      // A gateway that drops JSON nulls leaves Airflow without `logical_date` (422 "Field required"):
      // the next best is the current time, which Airflow 2 also used for a trigger without a date.
      if (response.status !== 422 || body.logical_date !== null) return undefined;
      const missing = validationErrors(response).some(
        (item) => item.type === 'missing' && JSON.stringify(item.loc ?? []).includes('logical_date'),
      );
      return missing ? { ...body, logical_date: new Date().toISOString() } : undefined;
    },
    // A duplicate run id and a repeated logical date are both 409 "Unique constraint violation" with
    // the statement hidden: without a logical date only the run id can clash; with one, ask.
    isDuplicateRunId: (_response, body) => (body.logical_date === null ? true : undefined),
    listRunsQuery(query) {
      // Runs triggered without a logical date have none: order by when they were due to run instead.
      const order = (query.orderBy ?? '-logical_date').replace('logical_date', 'run_after');
      return {
        state: query.state,
        limit: query.limit ?? 25,
        order_by: order,
        end_date_gte: query.endDateGte,
      };
    },
    healthPath: '/monitor/health',
    toDagRun: (body) => {
      const run = record(body);
      return dagRunFrom(run, str(run.logical_date));
    },
    toHealth: healthFrom,
    toImportErrors: importErrorsFrom,
    problem,
    uiUrl(base, dagId, runId) {
      if (!dagId) return base;
      const dag = `${base}/dags/${encodeURIComponent(dagId)}`;
      return runId ? `${dag}/runs/${encodeURIComponent(runId)}` : dag;
    },
  };
}

interface ValidationItem {
  type?: string;
  loc?: unknown[];
  msg?: string;
}

function validationErrors(response: ApiResponse): ValidationItem[] {
  const detail = record(response.body).detail;
  return Array.isArray(detail) ? (detail as ValidationItem[]) : [];
}

/** FastAPI errors: `{detail: string | [{loc, msg, type}] | {reason, ...}}`. */
function problem(response: ApiResponse): string {
  const detail = record(response.body).detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return (detail as ValidationItem[])
      .map((item) => `${(item.loc ?? []).filter((part) => part !== 'body').join('.')}: ${item.msg ?? ''}`)
      .join('; ');
  }
  if (detail && typeof detail === 'object') {
    const fields = detail as Record<string, unknown>;
    return (
      [fields.reason, fields.message].filter((part) => typeof part === 'string').join(': ') ||
      JSON.stringify(detail).slice(0, 300)
    );
  }
  return typeof response.body === 'string' ? bodyExcerpt(response.body) : '';
}
