/** The typed surface every function, the CLI and the jobs use to reach Airflow, whatever hosts it. */

export type DagRunState = 'queued' | 'running' | 'success' | 'failed';

export interface DagRun {
  dagId: string;
  runId: string;
  state: DagRunState;
  logicalDate: string | null;
  startDate: string | null;
  endDate: string | null;
  conf: Record<string, unknown>;
  note: string | null;
  runType: string | null;
}

export interface TriggerInput {
  dagId: string;
  conf?: Record<string, unknown>;
  /** Makes the trigger idempotent: a second trigger with the same id reports `alreadyTriggered`. */
  runId?: string;
  logicalDate?: string;
  note?: string;
}

export interface TriggerResult {
  run: DagRun;
  /** The run id existed already (a redelivered event); `run` is the existing run. */
  alreadyTriggered: boolean;
}

export type ComponentStatus = 'healthy' | 'unhealthy' | 'unknown';

export interface ComponentHealth {
  status: ComponentStatus;
  latestHeartbeat: string | null;
  /** Seconds since the latest heartbeat, when Airflow reports one. */
  heartbeatAgeSeconds: number | null;
}

export interface Health {
  metadatabase: { status: ComponentStatus };
  scheduler: ComponentHealth;
  /** Absent when the deployment has none (Airflow reports `null`). */
  triggerer?: ComponentHealth;
  dagProcessor?: ComponentHealth;
  checkedAt: string;
}

export interface ImportErrorEntry {
  filename: string;
  stackTrace: string;
  timestamp: string | null;
}

export interface ListRunsQuery {
  state?: DagRunState[];
  limit?: number;
  /** Only runs whose end date is at or after this ISO time. */
  endDateGte?: string;
  /** Default `-logical_date` (Airflow 2: `execution_date`; Airflow 3: `run_after`, as runs may have no logical date). */
  orderBy?: 'start_date' | '-start_date' | 'logical_date' | '-logical_date' | 'end_date' | '-end_date';
}

export interface AirflowVersion {
  /** `v1` for Airflow 2, `v2` for Airflow 3. */
  api: 'v1' | 'v2';
  /** As the server reported it (`2.10.5`), or `unknown` when the API version was configured, not asked. */
  version: string;
}

export interface CliResult {
  stdout: string;
  stderr: string;
}

export interface CallOptions {
  /** Epoch ms by which the call must have finished, retries included (a function's remaining time). */
  deadline?: number;
  signal?: AbortSignal;
}

export interface WaitOptions extends CallOptions {
  pollIntervalMs?: number;
}

export interface AirflowClient {
  /** A display name of the environment, safe to log (no credentials). */
  readonly environment: string;
  /** Whether `runCli` is available (MWAA and DMS; not self-hosted). */
  readonly hasCli: boolean;
  /** Link to the Airflow UI when known. */
  uiUrl(dagId?: string, runId?: string): string | undefined;
  /** Which Airflow this is; asks the server once per client unless the environment string says (`api=`). */
  airflowVersion(options?: CallOptions): Promise<AirflowVersion>;

  triggerDagRun(input: TriggerInput, options?: CallOptions): Promise<TriggerResult>;
  /**
   * Triggers like `triggerDagRun` but does not read the existing run on a duplicate run id: one
   * request per trigger even when an event is delivered again (uploads, where only the fact counts).
   */
  submitDagRun(
    input: TriggerInput & { runId: string },
    options?: CallOptions,
  ): Promise<{ alreadyTriggered: boolean }>;
  getDagRun(dagId: string, runId: string, options?: CallOptions): Promise<DagRun>;
  /** Polls until the run is `success` or `failed`; throws `TIMEOUT` when the deadline comes first. */
  waitForDagRun(dagId: string, runId: string, options?: WaitOptions): Promise<DagRun>;
  listDagRuns(dagId: string, query?: ListRunsQuery, options?: CallOptions): Promise<DagRun[]>;
  health(options?: CallOptions): Promise<Health>;
  listImportErrors(options?: CallOptions): Promise<ImportErrorEntry[]>;
  getVariable(key: string, options?: CallOptions): Promise<string | undefined>;
  setVariable(key: string, value: string, options?: CallOptions): Promise<void>;
  setPaused(dagId: string, paused: boolean, options?: CallOptions): Promise<void>;
  /** Runs an Airflow CLI command given as an argument array, without the leading `airflow`. */
  runCli(args: readonly string[], options?: CallOptions): Promise<CliResult>;
}
