/**
 * The Airflow client: each operation is one request shape over a Transport. Retries, error mapping
 * and the idempotent-trigger rules live here once, whatever hosts Airflow.
 */
import { AirkickError, codeForStatus, isAirkickError, isRetryableStatus } from '../errors.ts';
import { withRetry } from '../retry.ts';
import { buildCommand } from './cli-args.ts';
import type { ApiRequest, ApiResponse, Transport } from './transport.ts';
import type {
  AirflowClient,
  CallOptions,
  CliResult,
  ComponentHealth,
  DagRun,
  DagRunState,
  Health,
  ImportErrorEntry,
  ListRunsQuery,
  TriggerInput,
  TriggerResult,
  WaitOptions,
} from './types.ts';

const TERMINAL: ReadonlySet<DagRunState> = new Set(['success', 'failed']);

export class RestAirflowClient implements AirflowClient {
  readonly environment: string;
  readonly hasCli: boolean;

  constructor(private readonly transport: Transport) {
    this.environment = transport.environment;
    this.hasCli = transport.cli !== undefined;
  }

  uiUrl(dagId?: string, runId?: string): string | undefined {
    const base = this.transport.uiBase();
    if (!base || !dagId) return base;
    const grid = `${base}/dags/${encodeURIComponent(dagId)}/grid`;
    return runId ? `${grid}?dag_run_id=${encodeURIComponent(runId)}` : grid;
  }

  async triggerDagRun(input: TriggerInput, options: CallOptions = {}): Promise<TriggerResult> {
    const created = await this.#postDagRun(input, options);
    if (created) return { run: toDagRun(created.body), alreadyTriggered: false };
    return { run: await this.getDagRun(input.dagId, input.runId as string, options), alreadyTriggered: true };
  }

  async submitDagRun(input: TriggerInput & { runId: string }, options: CallOptions = {}) {
    return { alreadyTriggered: (await this.#postDagRun(input, options)) === undefined };
  }

  /** The created run, or undefined when a run with the same id exists (409). */
  async #postDagRun(input: TriggerInput, options: CallOptions): Promise<{ body: unknown } | undefined> {
    const body: Record<string, unknown> = { conf: input.conf ?? {} };
    if (input.runId !== undefined) body.dag_run_id = input.runId;
    if (input.logicalDate !== undefined) body.logical_date = input.logicalDate;
    if (input.note !== undefined) body.note = input.note;
    const request: ApiRequest = { method: 'POST', path: `/dags/${seg(input.dagId)}/dagRuns`, body };
    // Without a run id a retried POST could start a second run, so it is sent exactly once.
    const idempotent = input.runId !== undefined;
    try {
      return { body: await this.#call('trigger DAG run', request, options, idempotent) };
    } catch (error) {
      if (isAirkickError(error, 'CONFLICT') && input.runId !== undefined) return undefined;
      throw error;
    }
  }

  async getDagRun(dagId: string, runId: string, options: CallOptions = {}): Promise<DagRun> {
    const body = await this.#call(
      'get DAG run',
      { method: 'GET', path: `/dags/${seg(dagId)}/dagRuns/${seg(runId)}` },
      options,
    );
    return toDagRun(body);
  }

  async waitForDagRun(dagId: string, runId: string, options: WaitOptions = {}): Promise<DagRun> {
    const interval = options.pollIntervalMs ?? 2_000;
    for (;;) {
      const run = await this.getDagRun(dagId, runId, options);
      if (TERMINAL.has(run.state)) return run;
      if (options.deadline !== undefined && Date.now() + interval >= options.deadline) {
        throw new AirkickError('TIMEOUT', `DAG run ${dagId}/${runId} is still ${run.state} at the deadline`);
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }

  async listDagRuns(dagId: string, query: ListRunsQuery = {}, options: CallOptions = {}): Promise<DagRun[]> {
    const body = await this.#call(
      'list DAG runs',
      {
        method: 'GET',
        path: `/dags/${seg(dagId)}/dagRuns`,
        query: {
          state: query.state,
          limit: query.limit ?? 25,
          order_by: query.orderBy ?? '-execution_date',
          end_date_gte: query.endDateGte,
        },
      },
      options,
    );
    return arrayField(body, 'dag_runs').map(toDagRun);
  }

  async health(options: CallOptions = {}): Promise<Health> {
    const body = record(await this.#call('read health', { method: 'GET', path: '/health' }, options));
    const now = Date.now();
    const component = (key: string, heartbeatKey: string): ComponentHealth | undefined => {
      const value = body[key];
      if (value === null || typeof value !== 'object') return undefined;
      const entry = value as Record<string, unknown>;
      if (entry.status === null || entry.status === undefined) return undefined;
      const beat = typeof entry[heartbeatKey] === 'string' ? (entry[heartbeatKey] as string) : null;
      return {
        status: toStatus(entry.status),
        latestHeartbeat: beat,
        heartbeatAgeSeconds: beat ? Math.max(0, (now - Date.parse(beat)) / 1000) : null,
      };
    };
    const triggerer = component('triggerer', 'latest_triggerer_heartbeat');
    const dagProcessor = component('dag_processor', 'latest_dag_processor_heartbeat');
    return {
      metadatabase: { status: toStatus(record(body.metadatabase).status) },
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

  async listImportErrors(options: CallOptions = {}): Promise<ImportErrorEntry[]> {
    const body = await this.#call(
      'list import errors',
      { method: 'GET', path: '/importErrors', query: { limit: 100 } },
      options,
    );
    return arrayField(body, 'import_errors').map((entry) => {
      const e = record(entry);
      return {
        filename: String(e.filename ?? ''),
        stackTrace: String(e.stack_trace ?? ''),
        timestamp: typeof e.timestamp === 'string' ? e.timestamp : null,
      };
    });
  }

  async getVariable(key: string, options: CallOptions = {}): Promise<string | undefined> {
    try {
      const body = record(
        await this.#call('get variable', { method: 'GET', path: `/variables/${seg(key)}` }, options),
      );
      return typeof body.value === 'string' ? body.value : undefined;
    } catch (error) {
      if (isAirkickError(error, 'NOT_FOUND')) return undefined;
      throw error;
    }
  }

  async setVariable(key: string, value: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.#call(
        'set variable',
        { method: 'PATCH', path: `/variables/${seg(key)}`, body: { key, value } },
        options,
      );
    } catch (error) {
      if (!isAirkickError(error, 'NOT_FOUND')) throw error;
      await this.#call(
        'create variable',
        { method: 'POST', path: '/variables', body: { key, value } },
        options,
      );
    }
  }

  async setPaused(dagId: string, paused: boolean, options: CallOptions = {}): Promise<void> {
    await this.#call(
      paused ? 'pause DAG' : 'unpause DAG',
      {
        method: 'PATCH',
        path: `/dags/${seg(dagId)}`,
        query: { update_mask: 'is_paused' },
        body: { is_paused: paused },
      },
      options,
    );
  }

  async runCli(args: readonly string[], options: CallOptions = {}): Promise<CliResult> {
    const cli = this.transport.cli;
    if (!cli) {
      throw new AirkickError(
        'UNSUPPORTED_COMMAND',
        `${this.environment} has no CLI endpoint (self-hosted Airflow): run "airflow ${args.slice(0, 2).join(' ')}" on the host, or use an mwaa:// or dms:// environment`,
      );
    }
    return cli.call(this.transport, buildCommand(args), options);
  }

  async #call(
    operation: string,
    request: ApiRequest,
    options: CallOptions,
    idempotent = true,
  ): Promise<unknown> {
    const attempt = async () => {
      const response = await this.transport.send(request, options);
      const code = codeForStatus(response.status);
      if (code === undefined) return response.body;
      throw new AirkickError(code, `${operation} failed: ${response.status} ${problem(response)}`, {
        method: request.method,
        url: `${this.environment}${request.path}`,
        status: response.status,
        retryable: isRetryableStatus(response.status),
        ...(response.retryAfterMs === undefined ? {} : { retryAfterMs: response.retryAfterMs }),
      });
    };
    return withRetry(attempt, {
      maxAttempts: idempotent ? 4 : 1,
      ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    });
  }
}

const seg = (value: string) => encodeURIComponent(value);

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

function arrayField(body: unknown, key: string): unknown[] {
  const value = record(body)[key];
  return Array.isArray(value) ? value : [];
}

function toStatus(value: unknown): 'healthy' | 'unhealthy' | 'unknown' {
  return value === 'healthy' ? 'healthy' : value === 'unhealthy' ? 'unhealthy' : 'unknown';
}

const str = (value: unknown) => (typeof value === 'string' ? value : null);

function toDagRun(value: unknown): DagRun {
  const run = record(value);
  return {
    dagId: String(run.dag_id ?? ''),
    runId: String(run.dag_run_id ?? ''),
    state: (str(run.state) ?? 'queued') as DagRunState,
    logicalDate: str(run.logical_date) ?? str(run.execution_date),
    startDate: str(run.start_date),
    endDate: str(run.end_date),
    conf: record(run.conf),
    note: str(run.note),
    runType: str(run.run_type),
  };
}

/** Airflow answers errors as problem+json: `{title, detail, status}`. */
function problem(response: ApiResponse): string {
  const body = record(response.body);
  const text = [body.title, body.detail].filter((part) => typeof part === 'string' && part).join(': ');
  if (text) return text;
  return typeof response.body === 'string' ? response.body.slice(0, 300) : '';
}
