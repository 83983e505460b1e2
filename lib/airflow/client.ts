/**
 * The Airflow client: each operation is one request shape over a Transport. Retries, error mapping
 * and the idempotent-trigger rules live here once, whatever hosts Airflow; what differs between
 * Airflow 2 and 3 comes from the `AirflowApi` chosen once per client.
 */

import { type AirflowApi, type ApiChoice, arrayField, detectVersion, record } from '#lib/airflow/api.ts';
import { airflowApi } from '#lib/airflow/apis.ts';
import { buildCommand } from '#lib/airflow/cli-args.ts';
import type { ApiRequest, ApiResponse, Transport } from '#lib/airflow/transport.ts';
import type {
  AirflowClient,
  AirflowVersion,
  AssetEvent,
  AssetEventInput,
  CallOptions,
  CliResult,
  DagRun,
  DagRunState,
  Health,
  ImportErrorEntry,
  ListAssetEventsQuery,
  ListRunsQuery,
  TriggerInput,
  TriggerResult,
  WaitOptions,
} from '#lib/airflow/types.ts';
import { AirkickError, codeForStatus, isAirkickError, isRetryableStatus } from '#lib/errors.ts';
import { withRetry } from '#lib/retry.ts';
import { redactUrl } from '#lib/secrets/redaction.ts';

/** Until the version is known: Airflow 2's UI links and error text, the shapes most gateways still give. */
const BEFORE_DETECTION = airflowApi('v1');

const TERMINAL: ReadonlySet<DagRunState> = new Set(['success', 'failed']);

export class RestAirflowClient implements AirflowClient {
  readonly environment: string;
  readonly hasCli: boolean;
  #api: AirflowApi | undefined;
  readonly #assetIds = new Map<string, number>();
  #detecting: Promise<AirflowApi> | undefined;

  constructor(
    private readonly transport: Transport,
    choice: ApiChoice = 'auto',
  ) {
    this.environment = transport.environment;
    this.hasCli = transport.cli !== undefined;
    if (choice !== 'auto') this.#api = airflowApi(choice);
  }

  uiUrl(dagId?: string, runId?: string): string | undefined {
    const base = this.transport.uiBase();
    if (!base) return undefined;
    return (this.#api ?? BEFORE_DETECTION).uiUrl(base, dagId, runId);
  }

  async airflowVersion(options: CallOptions = {}): Promise<AirflowVersion> {
    const api = await this.#resolve(options);
    return { api: api.name, version: api.airflowVersion };
  }

  async triggerDagRun(input: TriggerInput, options: CallOptions = {}): Promise<TriggerResult> {
    const created = await this.#postDagRun(input, options);
    if (created !== 'exists') return { run: created, alreadyTriggered: false };
    return { run: await this.getDagRun(input.dagId, input.runId as string, options), alreadyTriggered: true };
  }

  async submitDagRun(input: TriggerInput & { runId: string }, options: CallOptions = {}) {
    return { alreadyTriggered: (await this.#postDagRun(input, options)) === 'exists' };
  }

  /** The created run, or `exists` when a run with the same id exists (409). */
  async #postDagRun(input: TriggerInput, options: CallOptions): Promise<DagRun | 'exists'> {
    const api = await this.#resolve(options);
    const path = `/dags/${seg(input.dagId)}/dagRuns`;
    // Without a run id a retried POST could start a second run, so it is sent exactly once.
    const idempotent = input.runId !== undefined;
    let body = api.triggerBody(input);
    for (let round = 1; ; round++) {
      const request: ApiRequest = { api: api.name, method: 'POST', path, body };
      const response = await this.#send(api, 'trigger DAG run', request, options, idempotent);
      if (codeForStatus(response.status) === undefined) return this.#createdRun(api, input, response);
      if (response.status === 409 && input.runId !== undefined) {
        const duplicate =
          api.isDuplicateRunId(response, body) ?? (await this.#runExists(input.dagId, input.runId, options));
        if (duplicate) return 'exists';
        throw this.#error(
          api,
          'trigger DAG run',
          request,
          response,
          isRetryableStatus,
          'another run of this DAG has the same logical date',
        );
      }
      const retry = round === 1 ? api.retryTriggerBody?.(response, body) : undefined;
      if (!retry) throw this.#error(api, 'trigger DAG run', request, response);
      body = retry;
    }
  }

  /** A 2xx that is not the DAG run just created (a proxy's page, an empty body) created nothing we know of. */
  #createdRun(api: AirflowApi, input: TriggerInput, response: ApiResponse): DagRun {
    const run = api.toDagRun(response.body);
    const fits = run.runId !== '' && (input.runId === undefined || run.runId === input.runId);
    if (fits) return run;
    throw new AirkickError(
      'SERVER',
      `trigger DAG run ${input.dagId}: the HTTP ${response.status} answer is not the DAG run (${typeof response.body === 'string' ? response.body.slice(0, 120) : JSON.stringify(response.body ?? null).slice(0, 120)})`,
      { status: response.status },
    );
  }

  async #runExists(dagId: string, runId: string, options: CallOptions): Promise<boolean> {
    try {
      await this.getDagRun(dagId, runId, options);
      return true;
    } catch (error) {
      if (isAirkickError(error, 'NOT_FOUND')) return false;
      throw error;
    }
  }

  async getDagRun(dagId: string, runId: string, options: CallOptions = {}): Promise<DagRun> {
    const api = await this.#resolve(options);
    const body = await this.#call(
      api,
      'get DAG run',
      { api: api.name, method: 'GET', path: `/dags/${seg(dagId)}/dagRuns/${seg(runId)}` },
      options,
    );
    return api.toDagRun(body);
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
    const api = await this.#resolve(options);
    const body = await this.#call(
      api,
      'list DAG runs',
      { api: api.name, method: 'GET', path: `/dags/${seg(dagId)}/dagRuns`, query: api.listRunsQuery(query) },
      options,
    );
    return arrayField(body, 'dag_runs').map((run) => api.toDagRun(run));
  }

  async health(options: CallOptions = {}): Promise<Health> {
    const api = await this.#resolve(options);
    const body = await this.#call(
      api,
      'read health',
      { api: api.name, method: 'GET', path: api.healthPath, anonymous: true },
      options,
    );
    return api.toHealth(body, Date.now());
  }

  async listImportErrors(options: CallOptions = {}): Promise<ImportErrorEntry[]> {
    const api = await this.#resolve(options);
    const body = await this.#call(
      api,
      'list import errors',
      { api: api.name, method: 'GET', path: '/importErrors', query: { limit: 100 } },
      options,
    );
    return api.toImportErrors(body);
  }

  async getVariable(key: string, options: CallOptions = {}): Promise<string | undefined> {
    const api = await this.#resolve(options);
    try {
      const body = record(
        await this.#call(
          api,
          'get variable',
          { api: api.name, method: 'GET', path: `/variables/${seg(key)}` },
          options,
        ),
      );
      return typeof body.value === 'string' ? body.value : undefined;
    } catch (error) {
      if (isAirkickError(error, 'NOT_FOUND')) return undefined;
      throw error;
    }
  }

  async setVariable(key: string, value: string, options: CallOptions = {}): Promise<void> {
    const api = await this.#resolve(options);
    try {
      await this.#call(
        api,
        'set variable',
        { api: api.name, method: 'PATCH', path: `/variables/${seg(key)}`, body: { key, value } },
        options,
      );
    } catch (error) {
      if (!isAirkickError(error, 'NOT_FOUND')) throw error;
      await this.#call(
        api,
        'create variable',
        { api: api.name, method: 'POST', path: '/variables', body: { key, value } },
        options,
      );
    }
  }

  async setPaused(dagId: string, paused: boolean, options: CallOptions = {}): Promise<void> {
    const api = await this.#resolve(options);
    await this.#call(
      api,
      paused ? 'pause DAG' : 'unpause DAG',
      {
        api: api.name,
        method: 'PATCH',
        path: `/dags/${seg(dagId)}`,
        query: { update_mask: 'is_paused' },
        body: { is_paused: paused },
      },
      options,
    );
  }

  async createAssetEvent(input: AssetEventInput, options: CallOptions = {}): Promise<AssetEvent> {
    const api = await this.#resolve(options);
    const id = await this.#assetId(api, input.uri, options);
    const request: ApiRequest = {
      api: api.name,
      ...api.assets.create({ id, uri: input.uri }, input.extra ?? {}),
    };
    const operation = `raise ${api.assets.noun} event on ${input.uri}`;
    // Sent once: a repeat of a POST whose answer was lost would raise a second event.
    const response = await this.#send(api, operation, request, options, false);
    if (response.status === 404) this.#assetIds.delete(input.uri);
    if (codeForStatus(response.status) !== undefined) throw this.#error(api, operation, request, response);
    return api.assets.toEvent(response.body);
  }

  async listAssetEvents(
    uri: string,
    query: ListAssetEventsQuery = {},
    options: CallOptions = {},
  ): Promise<AssetEvent[]> {
    const api = await this.#resolve(options);
    const id = await this.#assetId(api, uri, options);
    const body = await this.#call(
      api,
      `list ${api.assets.noun} events of ${uri}`,
      { api: api.name, ...api.assets.list(id, query) },
      options,
      (status) => isRetryableStatus(status) || api.assets.transientStatus(status),
    );
    const events = api.assets.toEvents(body);
    // Airflow 2 cannot filter by time: the newest page is cut here.
    const since = query.since === undefined ? undefined : Date.parse(query.since);
    return since === undefined ? events : events.filter((event) => Date.parse(event.timestamp) >= since);
  }

  /** The asset's id, asked once per client and URI. */
  async #assetId(api: AirflowApi, uri: string, options: CallOptions): Promise<number> {
    if (api.assets.unsupported) throw new AirkickError('UNSUPPORTED', api.assets.unsupported);
    const known = this.#assetIds.get(uri);
    if (known !== undefined) return known;
    const noun = api.assets.noun;
    const body = await this.#call(
      api,
      `find ${noun} ${uri}`,
      { api: api.name, ...api.assets.lookup(uri) },
      options,
    );
    const id = api.assets.idFrom(body, uri);
    if (id === undefined) {
      const declare = noun === 'asset' ? 'Asset' : 'Dataset';
      throw new AirkickError(
        'CONFIG',
        `${this.environment} has no ${noun} ${uri}: declare it in a DAG (schedule=[${declare}("${uri}")] or a task's outlets) so Airflow knows it, and check the URI`,
      );
    }
    this.#assetIds.set(uri, id);
    return id;
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

  /** The API version, decided once per client: from the environment string, or asked of the server. */
  async #resolve(options: CallOptions): Promise<AirflowApi> {
    if (this.#api) return this.#api;
    this.#detecting ??= withRetry(
      () =>
        detectVersion(async (request) => {
          const response = await this.transport.send(request, options);
          if (isRetryableStatus(response.status))
            throw this.#error(BEFORE_DETECTION, 'read the Airflow version', request, response);
          return response;
        }),
      options.deadline === undefined ? {} : { deadline: options.deadline },
    )
      .then(({ api, version }) => {
        this.#api = airflowApi(api, version);
        return this.#api;
      })
      .finally(() => {
        this.#detecting = undefined;
      });
    return this.#detecting;
  }

  /** One request with retries of what is safe to retry; the final answer whatever its status. */
  #send(
    api: AirflowApi,
    operation: string,
    request: ApiRequest,
    options: CallOptions,
    idempotent = true,
    /** Which answers are worth another try (a request may add a server bug known to pass). */
    retryable: (status: number) => boolean = isRetryableStatus,
  ): Promise<ApiResponse> {
    return withRetry(
      async () => {
        const response = await this.transport.send(request, options);
        if (retryable(response.status)) throw this.#error(api, operation, request, response, retryable);
        return response;
      },
      {
        maxAttempts: idempotent ? 4 : 1,
        ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
        // An abort ends a backoff at once, not when the wait is over.
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
    );
  }

  /** The body of a successful answer; any other answer becomes an AirkickError. */
  async #call(
    api: AirflowApi,
    operation: string,
    request: ApiRequest,
    options: CallOptions,
    retryable: (status: number) => boolean = isRetryableStatus,
  ): Promise<unknown> {
    const response = await this.#send(api, operation, request, options, true, retryable);
    if (codeForStatus(response.status) === undefined) return response.body;
    throw this.#error(api, operation, request, response, retryable);
  }

  #error(
    api: AirflowApi,
    operation: string,
    request: ApiRequest,
    response: ApiResponse,
    retryable: (status: number) => boolean = isRetryableStatus,
    why?: string,
  ): AirkickError {
    const code = codeForStatus(response.status) ?? 'SERVER';
    const redirect = response.location
      ? `redirected to ${redactUrl(response.location)}, which airkick does not follow`
      : '';
    const detail = [why, redirect, api.problem(response)].filter(Boolean).join(': ');
    return new AirkickError(code, `${operation} failed: ${response.status} ${detail}`, {
      method: request.method,
      url: `${this.environment}/api/${request.api}${request.path}`,
      status: response.status,
      retryable: retryable(response.status),
      ...(response.retryAfterMs === undefined ? {} : { retryAfterMs: response.retryAfterMs }),
    });
  }
}

const seg = (value: string) => encodeURIComponent(value);
