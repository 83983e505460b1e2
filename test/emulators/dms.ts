import type { AirflowInfo } from '#test/airflow/airflow.ts';
import type { AlibabaCredentials } from './acs3.ts';
import { CliGate, type CliStats } from './cli.ts';
import { createCounters } from './counters.ts';
import { dmsGateway } from './dms-gateway.ts';
import { dmsOpenApi } from './dms-openapi.ts';
import { FaultQueue, type RecordedRequest } from './faults.ts';
import { listen } from './http.ts';
import { JwtSessions } from './jwt-sessions.ts';
import { TokenStore } from './tokens.ts';

export interface DmsEmulatorOptions {
  /** The one Airflow instance that exists; any other id is answered as not found. */
  airflowId?: string;
  region?: string;
  credentials?: AlibabaCredentials;
  /** Login token lifetime (documented: 2 hours). */
  loginTokenTtlMs?: number;
  /**
   * Session cookie lifetime (the documented example cookie expires after 30 days): `session` on
   * Airflow 2, `_token` on Airflow 3.
   */
  sessionTtlMs?: number;
  tenantId?: string;
  workspaceId?: string;
  /** Keep every OpenAPI request as received, for `requests()`. */
  record?: boolean;
}

/**
 * An error answer CreateAirflowLoginToken gives instead of a token. By default the OpenAPI gateway's
 * error body `{RequestId, HostId, Code, Message, Recommend}` with HTTP `status`; with `successFalse`
 * HTTP 200 and the product's own `{Success: false, Code, ErrorCode, Message, HttpStatusCode: status}`.
 * Alibaba's gateway throttles with HTTP 400 and `Throttling.User` (per-user flow control) or `Throttling`.
 */
export interface DmsFault {
  status: number;
  code: string;
  /** Defaults to the gateway's wording for the throttling codes. */
  message?: string;
  /** How many consecutive requests get this answer (default 1). */
  times?: number;
  /**
   * Sent as `x-acs-retry-after`, in milliseconds: the Tea/Darabonba OpenAPI clients read that header,
   * raise a ThrottlingException whose `retry_after` is its value and sleep that many milliseconds
   * before a retry.
   */
  retryAfterSeconds?: number;
  successFalse?: boolean;
}

export interface DmsEmulator {
  /** For `@alicloud/openapi-client` `Config.endpoint` (host:port, used with `protocol: 'http'`). */
  endpoint: string;
  airflowId: string;
  region: string;
  credentials: AlibabaCredentials;
  /** What CreateAirflowLoginToken returns as `Data.Host`. */
  host: string;
  /** Requests received per route: token (OpenAPI), login, api, command (and `unknown`). */
  counts(): Record<string, number>;
  /** Clears the counts, the CLI statistics and the recorded requests. */
  resetCounts(): void;
  stats(): CliStats;
  /**
   * Answers the next CreateAirflowLoginToken request(s) with `fault`, after the signature check.
   *
   * @example
   * dms.failNext({ status: 400, code: 'Throttling.User', retryAfterSeconds: 1 });
   */
  failNext(fault: DmsFault): void;
  clearFaults(): void;
  /** OpenAPI requests as received (only with `record: true`). */
  requests(): RecordedRequest[];
  stop(): Promise<void>;
}

export interface DmsState {
  airflow: AirflowInfo;
  airflowId: string;
  credentials: AlibabaCredentials;
  /** `/airflow/<tenant>/<workspace>/<AirflowId>`, the path part of `Data.Host`. */
  hostPath: string;
  /** Set once the gateway listens. */
  host: string;
  sessionTtlMs: number;
  loginTokens: TokenStore<string>;
  /** Airflow 2's `session` cookies. */
  sessions: TokenStore<string>;
  /** Airflow 3's `_token` JWTs (assumed). */
  jwtSessions: JwtSessions;
  nonces: Set<string>;
  gate: CliGate;
  faults: FaultQueue<DmsFault>;
  /** Set when recording. */
  recorded: RecordedRequest[] | undefined;
  hit(route: string): void;
}

/** Deliberately unlike real AccessKey ids (`LTAI...`), which secret scanners flag. */
export const DMS_EMULATOR_CREDENTIALS: AlibabaCredentials = {
  accessKeyId: 'EMULATOR-AK-ID',
  accessKeySecret: 'emulator-ak-secret-not-a-real-one',
};

/**
 * Emulates Alibaba Cloud DMS Airflow: the signed OpenAPI endpoint with CreateAirflowLoginToken and
 * the instance gateway, passing through to the real Airflow. On Airflow 2 the gateway is the
 * documented one: `/login?token=` -> 302 with a `session` cookie, `/api/v1/...` and the CLI endpoint
 * `/api/v1/command` with it.
 *
 * On Airflow 3 the whole gateway is an ASSUMPTION, to confirm against a live DMS Airflow 3 instance:
 * the vendor documents neither its login nor its API paths. Assumed: the same login sets `_token`
 * (a JWT of the real Airflow, as Airflow 3's own UI login does) instead of `session`; `/api/v2/...`
 * takes it as a cookie or as `Authorization: Bearer` and goes to Airflow untouched; `/api/v1/...`
 * is Airflow 3's 404; the CLI endpoint `/api/v1/command` stays as documented for 2.x.
 *
 * @example
 * const dms = await startDmsEmulator(inject('airflow'), { loginTokenTtlMs: 1000 });
 * const client = new OpenApi.default(new $OpenApi.Config({ endpoint: dms.endpoint, protocol: 'http', ...dms.credentials }));
 */
export async function startDmsEmulator(
  airflow: AirflowInfo,
  options: DmsEmulatorOptions = {},
): Promise<DmsEmulator> {
  const counters = createCounters();
  const gate = new CliGate();
  const airflowId = options.airflowId ?? 'af-airkickemulator0001';
  const sessionTtlMs = options.sessionTtlMs ?? 30 * 24 * 3600_000;
  const state: DmsState = {
    airflow,
    airflowId,
    credentials: options.credentials ?? DMS_EMULATOR_CREDENTIALS,
    hostPath: `/airflow/${options.tenantId ?? '33001'}/${options.workspaceId ?? '869152201700'}/${airflowId}`,
    host: '',
    sessionTtlMs,
    loginTokens: new TokenStore(options.loginTokenTtlMs ?? 2 * 3600_000),
    sessions: new TokenStore(sessionTtlMs),
    jwtSessions: new JwtSessions(airflow, sessionTtlMs),
    nonces: new Set(),
    gate,
    faults: new FaultQueue(),
    recorded: options.record ? [] : undefined,
    hit: counters.hit,
  };
  const gateway = await listen(dmsGateway(state));
  state.host = `http://127.0.0.1:${gateway.port}${state.hostPath}`;
  const openApi = await listen(dmsOpenApi(state));
  return {
    endpoint: `127.0.0.1:${openApi.port}`,
    airflowId,
    region: options.region ?? 'cn-hangzhou',
    credentials: state.credentials,
    host: state.host,
    counts: counters.snapshot,
    resetCounts() {
      counters.reset();
      gate.reset();
      state.recorded?.splice(0);
    },
    stats: () => gate.stats(),
    failNext: (fault) => state.faults.push('token', fault),
    clearFaults: () => state.faults.clear(),
    requests: () => [...(state.recorded ?? [])],
    async stop() {
      await Promise.all([openApi.close(), gateway.close()]);
    },
  };
}
