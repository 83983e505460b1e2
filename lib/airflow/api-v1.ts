/** Airflow 2's stable REST API, `/api/v1`. */

import {
  type AirflowApi,
  assetDialect,
  atLeast,
  dagRunFrom,
  healthFrom,
  importErrorsFrom,
  record,
  str,
} from '#lib/airflow/api.ts';
import type { ApiResponse } from '#lib/airflow/transport.ts';
import { bodyExcerpt } from '#lib/http.ts';

/** `note` arrived in Airflow 2.5; marshmallow on 2.2-2.4 rejects unknown fields. */
const NOTE_SINCE = '2.5';
/** `POST /datasets/events` arrived in Airflow 2.9. */
const DATASET_EVENTS_SINCE = '2.9';

export function apiV1(airflowVersion = 'unknown'): AirflowApi {
  const acceptsNote = airflowVersion === 'unknown' || atLeast(airflowVersion, NOTE_SINCE);
  return {
    name: 'v1',
    airflowVersion,
    assets: assetDialect({
      noun: 'dataset',
      unsupported:
        airflowVersion === 'unknown' || atLeast(airflowVersion, DATASET_EVENTS_SINCE)
          ? undefined
          : `Airflow ${airflowVersion} takes no dataset events over its REST API (POST /datasets/events came in Airflow ${DATASET_EVENTS_SINCE}): upgrade, or trigger the DAG with a dagId rule`,
      createBody: (asset, extra) => ({ dataset_uri: asset.uri, extra }),
      // Airflow 2 filters events by dataset, not by time: `since` is applied to the newest page here.
      listQuery: (id, query) => ({
        dataset_id: id,
        order_by: '-timestamp',
        limit: query.limit ?? 100,
        offset: query.offset,
      }),
    }),
    triggerBody(input) {
      const body: Record<string, unknown> = { conf: input.conf ?? {} };
      if (input.runId !== undefined) body.dag_run_id = input.runId;
      if (input.logicalDate !== undefined) body.logical_date = input.logicalDate;
      if (input.note !== undefined && acceptsNote) body.note = input.note;
      return body;
    },
    // `DAGRun with DAG ID: 'x' and DAGRun ID: 'y' already exists`; a clash of logical dates says
    // `DAGRun logical date: '...' already exists` instead.
    isDuplicateRunId: (response) => !/logical date/i.test(problem(response)),
    listRunsQuery(query) {
      const order = query.orderBy ?? '-logical_date';
      return {
        state: query.state,
        limit: query.limit ?? 25,
        order_by: order.replace('logical_date', 'execution_date'),
        end_date_gte: query.endDateGte,
      };
    },
    healthPath: '/health',
    toDagRun(body) {
      const run = record(body);
      return dagRunFrom(run, str(run.logical_date) ?? str(run.execution_date));
    },
    toHealth: healthFrom,
    toImportErrors: importErrorsFrom,
    problem,
    uiUrl(base, dagId, runId) {
      if (!dagId) return base;
      const grid = `${base}/dags/${encodeURIComponent(dagId)}/grid`;
      return runId ? `${grid}?dag_run_id=${encodeURIComponent(runId)}` : grid;
    },
  };
}

/** Airflow 2 answers errors as problem+json: `{title, detail, status}`. */
function problem(response: ApiResponse): string {
  const body = record(response.body);
  // `error`: what an Airflow 3 answers on /api/v1 ("/api/v1 has been removed in Airflow 3 ...").
  const text = [body.title, body.detail, body.error]
    .filter((part) => typeof part === 'string' && part)
    .join(': ');
  if (text) return text;
  return typeof response.body === 'string' ? bodyExcerpt(response.body) : '';
}
