/**
 * The seam between the client and Airflow's REST API versions: Airflow 2 speaks `/api/v1`, Airflow 3
 * `/api/v2`. Everything that differs between them (request bodies, query names, response fields,
 * error shapes, UI links) lives in one module per version behind `AirflowApi`; the client picks one
 * once, from the environment string (`api=v1|v2`) or by asking the server (`auto`).
 */
import { AirkickError } from '../errors.ts';
import type { ApiRequest, ApiResponse, ApiVersion, Query } from './transport.ts';
import type { DagRun, DagRunState, Health, ImportErrorEntry, ListRunsQuery, TriggerInput } from './types.ts';

export interface AirflowApi {
  readonly name: ApiVersion;
  /** The Airflow version the server reported (`2.10.5`, `3.3.2`), or `unknown` when it was not asked. */
  readonly airflowVersion: string;
  /** The body of `POST /dags/{id}/dagRuns`, with only the fields this version accepts. */
  triggerBody(input: TriggerInput): Record<string, unknown>;
  /**
   * A second body to send when the answer shows the first lost a field on the way (a gateway that
   * drops JSON nulls); undefined when the answer is final.
   */
  retryTriggerBody?(
    response: ApiResponse,
    body: Record<string, unknown>,
  ): Record<string, unknown> | undefined;
  /**
   * A 409 on trigger: true when it means a run with this run id exists, false for another clash (a
   * repeated logical date), undefined when the answer cannot tell (the client then reads the run).
   */
  isDuplicateRunId(response: ApiResponse, body: Record<string, unknown>): boolean | undefined;
  listRunsQuery(query: ListRunsQuery): Query;
  readonly healthPath: string;
  toDagRun(body: unknown): DagRun;
  toHealth(body: unknown, now: number): Health;
  toImportErrors(body: unknown): ImportErrorEntry[];
  /** The human part of an error answer. */
  problem(response: ApiResponse): string;
  uiUrl(base: string, dagId?: string, runId?: string): string | undefined;
}

export type ApiChoice = ApiVersion | 'auto';

/** Sends one request and returns the answer, for the version probe. */
export type ProbeSend = (request: ApiRequest) => Promise<ApiResponse>;

/**
 * Asks the server which Airflow it is: `GET /version` on `/api/v2`, then on `/api/v1`. A gateway that
 * routes by version itself (MWAA's InvokeRestApi) answers the first; the version string decides.
 */
export async function detectVersion(send: ProbeSend): Promise<{ api: ApiVersion; version: string }> {
  const answers: string[] = [];
  for (const api of ['v2', 'v1'] as const) {
    const response = await send({ api, method: 'GET', path: '/version', anonymous: true });
    const version = record(response.body).version;
    if (response.status === 200 && typeof version === 'string') {
      return { api: Number.parseInt(version, 10) >= 3 ? 'v2' : 'v1', version };
    }
    answers.push(`/api/${api}/version: HTTP ${response.status}`);
    if (response.status !== 404) break;
  }
  throw new AirkickError(
    'SERVER',
    `cannot tell which Airflow this is (${answers.join('; ')}); set api=v1 (Airflow 2) or api=v2 (Airflow 3) in the environment string`,
  );
}

// Shapes both versions share, kept here so each version module holds only what differs.

export function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

export function arrayField(body: unknown, key: string): unknown[] {
  const value = record(body)[key];
  return Array.isArray(value) ? value : [];
}

export const str = (value: unknown) => (typeof value === 'string' ? value : null);

const STATES: ReadonlySet<string> = new Set(['queued', 'running', 'success', 'failed']);

export function dagRunFrom(run: Record<string, unknown>, logicalDate: string | null): DagRun {
  const state = str(run.state);
  return {
    dagId: String(run.dag_id ?? ''),
    runId: String(run.dag_run_id ?? ''),
    state: (state && STATES.has(state) ? state : 'queued') as DagRunState,
    logicalDate,
    startDate: str(run.start_date),
    endDate: str(run.end_date),
    conf: record(run.conf),
    note: str(run.note),
    runType: str(run.run_type),
  };
}

/** Both versions report `{metadatabase, scheduler, triggerer, dag_processor}` with heartbeats. */
export function healthFrom(body: unknown, now: number): Health {
  const fields = record(body);
  const component = (key: string, heartbeatKey: string) => {
    const entry = record(fields[key]);
    if (entry.status === null || entry.status === undefined) return undefined;
    const beat = str(entry[heartbeatKey]);
    return {
      status: toStatus(entry.status),
      latestHeartbeat: beat,
      heartbeatAgeSeconds: beat ? Math.max(0, (now - Date.parse(beat)) / 1000) : null,
    };
  };
  const triggerer = component('triggerer', 'latest_triggerer_heartbeat');
  const dagProcessor = component('dag_processor', 'latest_dag_processor_heartbeat');
  return {
    metadatabase: { status: toStatus(record(fields.metadatabase).status) },
    scheduler: component('scheduler', 'latest_scheduler_heartbeat') ?? {
      status: 'unknown',
      latestHeartbeat: null,
      heartbeatAgeSeconds: null,
    },
    ...(triggerer ? { triggerer } : {}),
    ...(dagProcessor ? { dagProcessor } : {}),
    checkedAt: new Date(now).toISOString(),
  };
}

function toStatus(value: unknown): 'healthy' | 'unhealthy' | 'unknown' {
  return value === 'healthy' ? 'healthy' : value === 'unhealthy' ? 'unhealthy' : 'unknown';
}

export function importErrorsFrom(body: unknown): ImportErrorEntry[] {
  return arrayField(body, 'import_errors').map((entry) => {
    const e = record(entry);
    return {
      filename: String(e.filename ?? ''),
      stackTrace: String(e.stack_trace ?? ''),
      timestamp: str(e.timestamp),
    };
  });
}

/** Compares dotted versions numerically: `atLeast('2.10.5', '2.5')`. */
export function atLeast(version: string, floor: string): boolean {
  const a = version.split(/[.+-]/).map((part) => Number.parseInt(part, 10));
  const b = floor.split('.').map((part) => Number.parseInt(part, 10));
  for (let i = 0; i < b.length; i++) {
    const x = Number.isNaN(a[i] as number) ? 0 : (a[i] as number);
    const y = b[i] as number;
    if (x !== y) return x > y;
  }
  return true;
}
