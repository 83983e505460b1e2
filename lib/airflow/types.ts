/** The typed surface every function, the CLI and the jobs use to reach Airflow, whatever hosts it. */
import type { ApiVersion } from '#lib/environment.ts';

/** A DAG run's state; a state airkick does not know (none in Airflow 2 or 3 today) reads as `queued`. */
export type DagRunState = 'queued' | 'running' | 'success' | 'failed';

/** A DAG run, in one shape whichever Airflow reported it; times are ISO 8601 strings as Airflow sent them. */
export interface DagRun {
  /** The DAG's id. */
  dagId: string;
  /** The run's id (Airflow's `dag_run_id`). */
  runId: string;
  /** Where the run is; `success` and `failed` are final. */
  state: DagRunState;
  /** `null` for an Airflow 3 run triggered without one; Airflow 2 runs always have one (`execution_date`). */
  logicalDate: string | null;
  /** `null` until the run has started. */
  startDate: string | null;
  /** `null` until the run has finished. */
  endDate: string | null;
  /** The run's configuration; `{}` when it has none. */
  conf: Record<string, unknown>;
  /** The run's note (Airflow 2.5 and later), else `null`. */
  note: string | null;
  /** How the run came about: `manual`, `scheduled`, `backfill`...; `null` when Airflow does not say. */
  runType: string | null;
}

/** What to trigger. */
export interface TriggerInput {
  /** The DAG to run; a DAG that does not exist fails with `NOT_FOUND`. */
  dagId: string;
  /** The run's configuration; default `{}`. */
  conf?: Record<string, unknown>;
  /**
   * Makes the trigger idempotent: a second trigger with the same id reports `alreadyTriggered`. Without
   * one Airflow names the run and the request is sent exactly once (a retry could start a second run).
   */
  runId?: string;
  /**
   * ISO 8601. Absent: Airflow 2 uses the current time; Airflow 3 gives the run no logical date (sent as
   * `null`, or as the current time when a gateway drops JSON nulls). A date another run already has
   * fails with `CONFLICT`.
   */
  logicalDate?: string;
  /** A note on the run; dropped for Airflow 2.2 to 2.4, which have none and reject unknown fields. */
  note?: string;
}

/** An event to raise on an asset (Airflow 3) or dataset (Airflow 2). */
export interface AssetEventInput {
  /** The asset's URI as a DAG declares it, e.g. `s3://bucket/prefix`. */
  uri: string;
  /** Stored with the event and handed to the runs it triggers; default `{}`. */
  extra?: Record<string, unknown>;
}

/** Which events {@link AirflowClient.listAssetEvents} reads. */
export interface ListAssetEventsQuery {
  /** At most this many, newest first; default 100. */
  limit?: number;
  /** Skip this many of the newest first, to page; default 0. */
  offset?: number;
  /** ISO 8601: only events recorded at or after it. */
  since?: string;
}

/** An asset (Airflow 3) or dataset (Airflow 2) event, in one shape. */
export interface AssetEvent {
  /** The asset's (dataset's) id in this Airflow. */
  assetId: number;
  /** The asset's URI. */
  uri: string;
  /** The event's extra as Airflow stored it (Airflow 3 adds `from_rest_api: true`). */
  extra: Record<string, unknown>;
  /** When Airflow recorded the event (ISO 8601). */
  timestamp: string;
  /** The runs Airflow has created from this event so far. */
  createdRuns: {
    /** The DAG scheduled on the asset. */
    dagId: string;
    /** The run Airflow created. */
    runId: string;
  }[];
}

/** The outcome of {@link AirflowClient.triggerDagRun}. */
export interface TriggerResult {
  /** The run created, or the one that already had the run id. */
  run: DagRun;
  /** The run id existed already (a redelivered event); `run` is the existing run. */
  alreadyTriggered: boolean;
}

/** One component's health as Airflow reports it; `unknown` when it reports none or something else. */
export type ComponentStatus = 'healthy' | 'unhealthy' | 'unknown';

/** The health of a component that heartbeats (scheduler, triggerer, DAG processor). */
export interface ComponentHealth {
  /** What Airflow says of it. */
  status: ComponentStatus;
  /** ISO time of the latest heartbeat, `null` when there was none. */
  latestHeartbeat: string | null;
  /** Seconds since the latest heartbeat, when Airflow reports one. */
  heartbeatAgeSeconds: number | null;
}

/**
 * Airflow's health endpoint (`/api/v1/health` on Airflow 2, `/api/v2/monitor/health` on Airflow 3), read
 * without credentials.
 */
export interface Health {
  /** The metadata database. */
  metadatabase: {
    /** Whether Airflow reaches its database. */
    status: ComponentStatus;
  };
  /** Always present: status `unknown`, no heartbeat, when Airflow reports none. */
  scheduler: ComponentHealth;
  /** Absent when the deployment has none (Airflow reports `null`). */
  triggerer?: ComponentHealth;
  /** Absent when the deployment runs none of its own (Airflow reports `null`). */
  dagProcessor?: ComponentHealth;
  /** When airkick read it (ISO time, this machine's clock): the base of `heartbeatAgeSeconds`. */
  checkedAt: string;
}

/** A DAG file Airflow could not import. */
export interface ImportErrorEntry {
  /** The file's path on the Airflow side. */
  filename: string;
  /** Python's traceback of the failed import. */
  stackTrace: string;
  /** ISO time of the failed import, `null` when Airflow does not say. */
  timestamp: string | null;
}

/** Which runs {@link AirflowClient.listDagRuns} returns. */
export interface ListRunsQuery {
  /** Only runs in one of these states; default any. */
  state?: DagRunState[];
  /** At most this many runs (one page; Airflow caps it, 100 by default); default 25. */
  limit?: number;
  /** Only runs whose end date is at or after this ISO time. */
  endDateGte?: string;
  /** Default `-logical_date` (Airflow 2: `execution_date`; Airflow 3: `run_after`, as runs may have no logical date). */
  orderBy?: 'start_date' | '-start_date' | 'logical_date' | '-logical_date' | 'end_date' | '-end_date';
}

/** Which Airflow a client speaks to, from {@link AirflowClient.airflowVersion}. */
export interface AirflowVersion {
  /** `v1` for Airflow 2, `v2` for Airflow 3. */
  api: ApiVersion;
  /** As the server reported it (`2.10.5`), or `unknown` when the API version was configured, not asked. */
  version: string;
}

/** What an Airflow CLI command printed; its exit status is not reported. */
export interface CliResult {
  /** Standard output, decoded as UTF-8. */
  stdout: string;
  /** Standard error, decoded as UTF-8. */
  stderr: string;
}

/** The time a client call may take; without either, each HTTP attempt still times out (30 s; CLI 120 s). */
export interface CallOptions {
  /** Epoch ms by which the call must have finished, retries included (a function's remaining time). */
  deadline?: number;
  /** Aborts the call: the request in flight fails with a non-retryable `TIMEOUT`, and no retry follows. */
  signal?: AbortSignal;
}

/** {@link CallOptions} of {@link AirflowClient.waitForDagRun}; without a `deadline` it polls to the end. */
export interface WaitOptions extends CallOptions {
  /** Pause between two reads of the run, in ms; default 2000. */
  pollIntervalMs?: number;
}

/**
 * One Airflow environment, Airflow 2 or 3, whatever hosts it; made by `createAirflowClient`. Every call
 * retries what is safe to retry (network failures, 429, 502 to 504, throttling: up to 4 attempts with
 * jittered backoff, honouring `Retry-After`) within `options.deadline`, and fails with an
 * {@link AirkickError} whose message carries no credential. The Airflow version is learnt on the first
 * call and kept.
 */
export interface AirflowClient {
  /** A display name of the environment, safe to log (no credentials). */
  readonly environment: string;
  /** Whether `runCli` is available (MWAA and DMS; not self-hosted). */
  readonly hasCli: boolean;
  /** Link to the Airflow UI when known. */
  uiUrl(dagId?: string, runId?: string): string | undefined;
  /** Which Airflow this is; asks the server once per client unless the environment string says (`api=`). */
  airflowVersion(options?: CallOptions): Promise<AirflowVersion>;

  /**
   * Starts a DAG run. With a `runId` it is idempotent: a run with that id already there is no error,
   * but is read and returned with `alreadyTriggered`. Without one the request is never retried.
   * Another run on the same logical date fails with `CONFLICT`, an unknown DAG with `NOT_FOUND`.
   */
  triggerDagRun(input: TriggerInput, options?: CallOptions): Promise<TriggerResult>;
  /**
   * Triggers like `triggerDagRun` but does not read the existing run on a duplicate run id: one
   * request per trigger even when an event is delivered again (uploads, where only the fact counts).
   */
  submitDagRun(
    input: TriggerInput & { runId: string },
    options?: CallOptions,
  ): Promise<{
    /** A run with this id existed already; nothing was started. */
    alreadyTriggered: boolean;
  }>;
  /** Reads one run; `NOT_FOUND` when the DAG or the run does not exist. */
  getDagRun(dagId: string, runId: string, options?: CallOptions): Promise<DagRun>;
  /** Polls until the run is `success` or `failed`; throws `TIMEOUT` when the deadline comes first. */
  waitForDagRun(dagId: string, runId: string, options?: WaitOptions): Promise<DagRun>;
  /** One page of a DAG's runs, newest logical date first unless `query.orderBy` says otherwise. */
  listDagRuns(dagId: string, query?: ListRunsQuery, options?: CallOptions): Promise<DagRun[]>;
  /** Reads Airflow's health endpoint, which needs no credentials (a wrong password does not fail it). */
  health(options?: CallOptions): Promise<Health>;
  /** The DAG files that failed to import, at most the first 100. */
  listImportErrors(options?: CallOptions): Promise<ImportErrorEntry[]>;
  /** An Airflow Variable's value; `undefined` when there is no such variable. */
  getVariable(key: string, options?: CallOptions): Promise<string | undefined>;
  /** Sets an Airflow Variable, creating it when it does not exist. */
  setVariable(key: string, value: string, options?: CallOptions): Promise<void>;
  /** Pauses (`true`) or unpauses (`false`) a DAG; `NOT_FOUND` when there is no such DAG. */
  setPaused(dagId: string, paused: boolean, options?: CallOptions): Promise<void>;
  /**
   * Raises an event on an asset (Airflow 3) or dataset (Airflow 2.9 and later), which Airflow's
   * data-aware scheduling then turns into runs of the DAGs scheduled on it (events that arrive before
   * a consuming run starts are collapsed into one run). The asset is found by URI once per client;
   * one the Airflow does not know is `CONFIG`, an Airflow before 2.9 `UNSUPPORTED`. Sent once, never
   * retried: the API has no idempotency key, so a repeat would raise a second event.
   */
  createAssetEvent(input: AssetEventInput, options?: CallOptions): Promise<AssetEvent>;
  /** The newest events of an asset (dataset), newest first. */
  listAssetEvents(uri: string, query?: ListAssetEventsQuery, options?: CallOptions): Promise<AssetEvent[]>;
  /**
   * Runs an Airflow CLI command given as an argument array, without the leading `airflow`. Each argument
   * stays one word (quoted, never interpreted by a shell); sent once, never retried; on MWAA one command
   * at a time per environment. `UNSUPPORTED_COMMAND` where there is no CLI (`hasCli` false) or the
   * gateway refuses the command; `BAD_REQUEST` for no arguments or a leading `airflow`.
   */
  runCli(args: readonly string[], options?: CallOptions): Promise<CliResult>;
}
