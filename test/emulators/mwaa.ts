import type { AirflowInfo } from '#test/airflow/airflow.ts';
import type { CliStats } from './cli.ts';
import { CliGate } from './cli.ts';
import { createCounters } from './counters.ts';
import { FaultQueue, type RecordedRequest } from './faults.ts';
import { listen } from './http.ts';
import { JwtSessions } from './jwt-sessions.ts';
import { mwaaControlPlane } from './mwaa-control-plane.ts';
import { mwaaWebServer } from './mwaa-web-server.ts';
import type { AwsCredentials } from './sigv4.ts';
import { TokenStore } from './tokens.ts';

export interface MwaaEmulatorOptions {
  /** The one environment that exists; any other name is a ResourceNotFoundException. */
  environmentName?: string;
  region?: string;
  credentials?: AwsCredentials;
  /** CreateCliToken lifetime (AWS: 60 s). */
  cliTokenTtlMs?: number;
  /** CreateWebLoginToken lifetime (AWS: 60 s). */
  webTokenTtlMs?: number;
  /**
   * Lifetime of the web login session (AWS: about 12 h): the `session` cookie from `/aws_mwaa/login`
   * on Airflow 2, the `_token` JWT from `/pluginsv2/aws_mwaa/login` on Airflow 3.
   */
  sessionTtlMs?: number;
  /** `denied` answers InvokeRestApi with the AccessDenied a caller without the Airflow role grant gets. */
  restApi?: 'allowed' | 'denied';
  /** Extra time each CLI command holds the web server's single CLI slot, to make overlaps observable. */
  cliDelayMs?: number;
  /** Keep every control-plane request as received, for `requests()`. */
  record?: boolean;
}

/** The control-plane operations a fault can be queued for. */
export type MwaaOperation = 'clitoken' | 'webtoken' | 'restapi';

/**
 * An error answer the control plane gives instead of running the operation. restJson1 clients read
 * the error type from the `x-amzn-errortype` header first, then a body `code`, then `__type`;
 * `typeIn` picks which one carries it, so each parsing path can be exercised:
 * `header` (how MWAA answers), `body-type` (`__type: "X"`), `body-type-namespaced`
 * (`__type: "com.amazonaws.mwaa#X"`, the service's Smithy namespace) or `body-code` (`code: "X"`).
 */
export interface MwaaFault {
  status: number;
  type: string;
  /** Defaults to a message like the service's for the known types. */
  message?: string;
  /** How many consecutive requests of the operation get this answer (default 1). */
  times?: number;
  typeIn?: 'header' | 'body-type' | 'body-type-namespaced' | 'body-code';
  /** More members of the error body, e.g. `{ RestApiStatusCode, RestApiResponse }`. */
  extra?: Record<string, unknown>;
  /** Sent as `Retry-After`. MWAA documents no such header; it is here to test clients that honour one. */
  retryAfterSeconds?: number;
}

export interface MwaaEmulator {
  /** Control-plane endpoint for the SDK (`endpoint`, with `disableHostPrefix: true`). */
  endpoint: string;
  /** What the token operations return as WebServerHostname (`127.0.0.1:<port>`, plain http). */
  webServerHostname: string;
  environmentName: string;
  region: string;
  credentials: AwsCredentials;
  /**
   * Requests received per route: clitoken, webtoken, restapi, cli, login, api, and `unknown` (any
   * other path, such as the other major version's login path).
   */
  counts(): Record<string, number>;
  /** Clears the counts, the CLI statistics and the recorded requests. */
  resetCounts(): void;
  stats(): CliStats;
  /**
   * Answers the next request(s) of `operation` with `fault`, after the signature check (an unsigned
   * or badly signed request still fails on its signature first).
   *
   * @example
   * mwaa.failNext('restapi', { status: 429, type: 'ThrottlingException', times: 2 });
   */
  failNext(operation: MwaaOperation, fault: MwaaFault): void;
  clearFaults(): void;
  /** Control-plane requests as received (only with `record: true`). */
  requests(): RecordedRequest[];
  stop(): Promise<void>;
}

/** Shared by the control plane and the web server of one emulated environment. */
export interface MwaaState {
  airflow: AirflowInfo;
  environmentName: string;
  region: string;
  credentials: AwsCredentials;
  /** Set once the web server listens. */
  webServerHostname: string;
  restApi: 'allowed' | 'denied';
  cliDelayMs: number;
  cliTokens: TokenStore<string>;
  webTokens: TokenStore<string>;
  /** Airflow 2's `session` cookies. */
  sessions: TokenStore<string>;
  /** Airflow 3's `_token` JWTs. */
  jwtSessions: JwtSessions;
  gate: CliGate;
  faults: FaultQueue<MwaaFault>;
  /** Set when recording. */
  recorded: RecordedRequest[] | undefined;
  hit(route: string): void;
}

const ACCOUNT = '123456789012';

/**
 * The AccessDenied text for a caller without `airflow:InvokeRestApi` on the environment's Airflow role;
 * clients recognise "Airflow role" in it and fall back to the web login session.
 */
export function airflowRoleDeniedMessage(region: string, environmentName: string): string {
  const role = `arn:aws:airflow:${region}:${ACCOUNT}:role/${environmentName}/Admin`;
  return `User: arn:aws:iam::${ACCOUNT}:user/airkick-emulator is not authorized to perform: airflow:InvokeRestApi on resource: ${role} (the Airflow role of the environment) because no identity-based policy allows the airflow:InvokeRestApi action`;
}

/** Not a real key: AWS key ids start with AKIA/ASIA, and secret scanners look for exactly that. */
export const MWAA_EMULATOR_CREDENTIALS: AwsCredentials = {
  accessKeyId: 'AKIDAIRKICKEMULATOR',
  secretAccessKey: 'airkick-emulator-secret-key-not-a-real-one',
};

/**
 * Emulates one Amazon MWAA environment: the SigV4-signed control plane (CreateCliToken,
 * CreateWebLoginToken, InvokeRestApi) and the environment's web server, all passing through to the
 * real Airflow, whose major version picks what the web server serves:
 *
 * - Airflow 2: `/aws_mwaa/cli`, `POST /aws_mwaa/login` -> 302 with a `session` cookie, `/api/v1` with it.
 * - Airflow 3: `/aws_mwaa/cli`, `POST /pluginsv2/aws_mwaa/login` -> `_token` cookie holding a JWT of
 *   the real Airflow, `/api/v2` with it as `Authorization: Bearer` (or the cookie), relayed untouched.
 *
 * Each version answers the other's login path with a 404, which clients use to find the version.
 * InvokeRestApi's relative `Path` goes to `/api/v1` or `/api/v2` accordingly.
 *
 * @example
 * const mwaa = await startMwaaEmulator(inject('airflow'), { cliTokenTtlMs: 1000 });
 * const client = new MWAAClient({ endpoint: mwaa.endpoint, disableHostPrefix: true, region: mwaa.region, credentials: mwaa.credentials });
 */
export async function startMwaaEmulator(
  airflow: AirflowInfo,
  options: MwaaEmulatorOptions = {},
): Promise<MwaaEmulator> {
  const counters = createCounters();
  const gate = new CliGate();
  const sessionTtlMs = options.sessionTtlMs ?? 12 * 3600_000;
  const state: MwaaState = {
    airflow,
    environmentName: options.environmentName ?? 'airkick-test',
    region: options.region ?? 'us-east-1',
    credentials: options.credentials ?? MWAA_EMULATOR_CREDENTIALS,
    webServerHostname: '',
    restApi: options.restApi ?? 'allowed',
    cliDelayMs: options.cliDelayMs ?? 0,
    cliTokens: new TokenStore(options.cliTokenTtlMs ?? 60_000),
    webTokens: new TokenStore(options.webTokenTtlMs ?? 60_000),
    sessions: new TokenStore(sessionTtlMs),
    jwtSessions: new JwtSessions(airflow, sessionTtlMs),
    gate,
    faults: new FaultQueue(),
    recorded: options.record ? [] : undefined,
    hit: counters.hit,
  };
  const server = await listen(mwaaWebServer(state));
  state.webServerHostname = `127.0.0.1:${server.port}`;
  const control = await listen(mwaaControlPlane(state));
  return {
    endpoint: `http://127.0.0.1:${control.port}`,
    webServerHostname: state.webServerHostname,
    environmentName: state.environmentName,
    region: state.region,
    credentials: state.credentials,
    counts: counters.snapshot,
    resetCounts() {
      counters.reset();
      gate.reset();
      state.recorded?.splice(0);
    },
    stats: () => gate.stats(),
    failNext: (operation, fault) => state.faults.push(operation, fault),
    clearFaults: () => state.faults.clear(),
    requests: () => [...(state.recorded ?? [])],
    async stop() {
      await Promise.all([control.close(), server.close()]);
    },
  };
}
