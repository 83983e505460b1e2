/** Airflow 2's stable REST API, `/api/v1`. */
import { bodyExcerpt } from '../http.ts';
import { type AirflowApi, atLeast, dagRunFrom, healthFrom, importErrorsFrom, record, str } from './api.ts';
import type { ApiResponse } from './transport.ts';

/** `note` arrived in Airflow 2.5; marshmallow on 2.2-2.4 rejects unknown fields. */
const NOTE_SINCE = '2.5';

export function apiV1(airflowVersion = 'unknown'): AirflowApi {
  const acceptsNote = airflowVersion === 'unknown' || atLeast(airflowVersion, NOTE_SINCE);
  return {
    name: 'v1',
    airflowVersion,
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
