/**
 * The seam between the client and Airflow's REST API versions: Airflow 2 speaks `/api/v1`, Airflow 3
 * `/api/v2`. Everything that differs between them (request bodies, query names, response fields,
 * error shapes, UI links) lives in one module per version behind `AirflowApi`; the client picks one
 * once, from the environment string (`api=v1|v2`) or by asking the server (`auto`).
 */

import type { ApiRequest, ApiResponse, Query } from '#lib/airflow/transport.ts';
import type {
  AssetEvent,
  DagRun,
  DagRunState,
  Health,
  ImportErrorEntry,
  ListAssetEventsQuery,
  ListRunsQuery,
  TriggerInput,
} from '#lib/airflow/types.ts';
import { API_VERSIONS, type ApiVersion } from '#lib/environment.ts';
import { AirkickError } from '#lib/errors.ts';

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
  readonly assets: AssetDialect;
}

/** Asset events (Airflow 3, `/assets`) or dataset events (Airflow 2, `/datasets`). */
export interface AssetDialect {
  /** What this version calls them, for messages. */
  readonly noun: 'asset' | 'dataset';
  /** Why this Airflow takes no events over REST, or undefined when it does. */
  readonly unsupported: string | undefined;
  /** Finds the asset by URI (`uri_pattern` is a substring match: the exact URI is picked out of the answer). */
  lookup(uri: string): Pick<ApiRequest, 'method' | 'path' | 'query'>;
  idFrom(body: unknown, uri: string): number | undefined;
  create(
    asset: { id: number; uri: string },
    extra: Record<string, unknown>,
  ): Pick<ApiRequest, 'method' | 'path' | 'body'>;
  list(assetId: number, query: ListAssetEventsQuery): Pick<ApiRequest, 'method' | 'path' | 'query'>;
  toEvent(body: unknown): AssetEvent;
  toEvents(body: unknown): AssetEvent[];
  /** A status the event list answers while a transient server bug lasts, worth retrying. */
  transientStatus(status: number): boolean;
}

/**
 * The parts both versions share: they differ in the collection's name (`assets` / `datasets`), the
 * id and URI fields (`asset_id`, `uri` / `dataset_id`, `dataset_uri`) and how a created run is named.
 */
export function assetDialect(names: {
  noun: 'asset' | 'dataset';
  unsupported: string | undefined;
  createBody(asset: { id: number; uri: string }, extra: Record<string, unknown>): Record<string, unknown>;
  listQuery(assetId: number, query: ListAssetEventsQuery): Query;
  transientStatus?: (status: number) => boolean;
}): AssetDialect {
  const plural = `${names.noun}s`;
  const idField = `${names.noun}_id`;
  const uriField = names.noun === 'asset' ? 'uri' : 'dataset_uri';
  const toEvent = (body: unknown): AssetEvent => {
    const event = record(body);
    const runs = Array.isArray(event.created_dagruns) ? event.created_dagruns : [];
    return {
      assetId: Number(event[idField]),
      uri: String(event[uriField] ?? ''),
      extra: record(event.extra),
      timestamp: String(event.timestamp ?? ''),
      createdRuns: runs.map((run) => {
        const r = record(run);
        return { dagId: String(r.dag_id ?? ''), runId: String(r.run_id ?? r.dag_run_id ?? '') };
      }),
    };
  };
  return {
    noun: names.noun,
    unsupported: names.unsupported,
    lookup: (uri) => ({ method: 'GET', path: `/${plural}`, query: { uri_pattern: uri, limit: 100 } }),
    idFrom(body, uri) {
      const found = arrayField(body, plural)
        .map(record)
        .find((asset) => asset.uri === uri);
      return typeof found?.id === 'number' ? found.id : undefined;
    },
    create: (asset, extra) => ({
      method: 'POST',
      path: `/${plural}/events`,
      body: names.createBody(asset, extra),
    }),
    list: (assetId, query) => ({
      method: 'GET',
      path: `/${plural}/events`,
      query: names.listQuery(assetId, query),
    }),
    toEvent,
    toEvents: (body) => arrayField(body, `${names.noun}_events`).map(toEvent),
    transientStatus: names.transientStatus ?? (() => false),
  };
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
  for (const api of NEWEST_FIRST) {
    const response = await send({ api, method: 'GET', path: '/version', anonymous: true });
    const version = record(response.body).version;
    if (response.status === 200 && typeof version === 'string') {
      return { api: apiForAirflow(version), version };
    }
    answers.push(`/api/${api}/version: HTTP ${response.status}`);
    if (response.status !== 404) break;
  }
  const names = Object.entries(API_VERSIONS).map(([api, v]) => `api=${api} (Airflow ${v.airflowMajor})`);
  throw new AirkickError(
    'SERVER',
    `cannot tell which Airflow this is (${answers.join('; ')}); set ${names.join(' or ')} in the environment string`,
  );
}

const NEWEST_FIRST = (Object.keys(API_VERSIONS) as ApiVersion[]).reverse();

/** The newest API version an Airflow of this version (`2.10.5`, `3.3.2`) has; the oldest for an older one. */
export function apiForAirflow(version: string): ApiVersion {
  const major = Number.parseInt(version, 10);
  return (
    NEWEST_FIRST.find((api) => API_VERSIONS[api].airflowMajor <= major) ?? (NEWEST_FIRST.at(-1) as ApiVersion)
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
    // A heartbeat that is no date has no age (null, like none at all), never NaN.
    const at = beat ? Date.parse(beat) : Number.NaN;
    return {
      status: toStatus(entry.status),
      latestHeartbeat: beat,
      heartbeatAgeSeconds: Number.isFinite(at) ? Math.max(0, (now - at) / 1000) : null,
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
