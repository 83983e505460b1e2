/**
 * Amazon MWAA. REST goes through InvokeRestApi, signed with the SDK's own SigV4 signer because the
 * reachable @aws-sdk/client-mwaa (3.523) predates InvokeRestApiCommand. Without the
 * airflow:InvokeRestApi grant on the Airflow role it falls back to the web-login session. The CLI goes
 * through CreateCliToken and /aws_mwaa/cli, one command at a time per environment.
 */
import {
  CreateCliTokenCommand,
  CreateWebLoginTokenCommand,
  MWAAClient,
  type MWAAClientConfig,
} from '@aws-sdk/client-mwaa';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ApiRequest, ApiResponse, ApiVersion, AttemptOptions, Transport } from '../airflow/transport.ts';
import type { CliResult } from '../airflow/types.ts';
import { type Bound, boundSignal } from '../deadline.ts';
import { describeEnvironment, type MwaaSpec } from '../environment.ts';
import { AirkickError, codeForStatus, isAirkickError, isRetryableStatus } from '../errors.ts';
import { httpCall, parseJson, retryAfterMs } from '../http.ts';
import { awsErrorType, controlPlaneError } from './aws-errors.ts';
import {
  type Credential,
  type CredentialSource,
  jwtExpiry,
  readCookie,
  sendWithCredential,
} from './http-session.ts';
import { serially } from './serial.ts';
import { TokenCache } from './token-cache.ts';

/** Documented token lifetime for both CLI and web-login tokens. */
const TOKEN_TTL_MS = 60_000;
/** The Airflow web session lasts about 12 h; refresh well before. */
const SESSION_TTL_MS = 12 * 3600_000;
/** InvokeRestApi's `Path` limit (service model `RestApiPath`: 1 to 64 characters). */
export const REST_API_PATH_MAX = 64;

export interface MwaaOptions {
  credentials?: MWAAClientConfig['credentials'];
  /** Token and session lifetimes; the defaults are the documented ones. */
  tokenTtlMs?: number;
  sessionTtlMs?: number;
}

interface WebToken {
  token: string;
  host: string;
}

export function mwaaTransport(spec: MwaaSpec, options: MwaaOptions = {}): Transport {
  const environment = describeEnvironment(spec);
  const client = new MWAAClient({
    region: spec.region,
    ...(spec.endpoint ? { endpoint: spec.endpoint, disableHostPrefix: true } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  // A control-plane override with http (a local proxy or emulator) means the web server is plain http too.
  const webScheme = spec.endpoint?.startsWith('http://') ? 'http' : 'https';
  const restUrl = new URL(`${restApiEndpoint(spec, client)}/restapi/${encodeURIComponent(spec.name)}`);
  const signer = new SignatureV4({
    service: 'airflow',
    region: spec.region,
    credentials: client.config.credentials,
    sha256: client.config.sha256,
  });
  const tokenTtl = options.tokenTtlMs ?? TOKEN_TTL_MS;
  let webHost: string | undefined;
  let mode = spec.auth;

  const cliToken = new TokenCache<WebToken>(async (bound) => {
    const out = await sdk('CreateCliToken', environment, bound, (options) =>
      client.send(new CreateCliTokenCommand({ Name: spec.name }), options),
    );
    const value = tokenOf(out.CliToken, out.WebServerHostname, 'CreateCliToken');
    webHost = value.host;
    return { value, expiresAt: Date.now() + tokenTtl, secrets: [value.token] };
  }, tokenTtl / 4);

  const sessionTtl = options.sessionTtlMs ?? SESSION_TTL_MS;
  /**
   * The web-login session, which also reveals the Airflow major version: Airflow 3's
   * `POST /pluginsv2/aws_mwaa/login` sets `_token`, a JWT sent as a Bearer token to `/api/v2`;
   * Airflow 2's `POST /aws_mwaa/login` sets `session`, a cookie for `/api/v1`. The login for the
   * version asked first is tried first; a 404 there tries the other with the same one-time token.
   */
  let preferred: ApiVersion = spec.api ?? 'v2';
  const session = new TokenCache<{ api: ApiVersion; credential: Credential }>(async (bound) => {
    const out = await sdk('CreateWebLoginToken', environment, bound, (options) =>
      client.send(new CreateWebLoginTokenCommand({ Name: spec.name }), options),
    );
    const { token, host } = tokenOf(out.WebToken, out.WebServerHostname, 'CreateWebLoginToken');
    webHost = host;
    const baseUrl = `${webScheme}://${host}`;
    const order: ApiVersion[] = preferred === 'v2' ? ['v2', 'v1'] : ['v1', 'v2'];
    for (const api of order) {
      const url = `${baseUrl}${api === 'v1' ? '/aws_mwaa/login' : '/pluginsv2/aws_mwaa/login'}`;
      const response = await httpCall({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
        ...bound,
      });
      // The other major version's login path: not there (404), or not for POST (405).
      if ((response.status === 404 || response.status === 405) && api === order[0]) continue;
      const name = api === 'v1' ? 'session' : '_token';
      const cookie = readCookie(response.headers, name);
      if (!cookie) {
        throw new AirkickError('AUTH', `MWAA web login gave no ${name} cookie (HTTP ${response.status})`, {
          method: 'POST',
          url,
          status: response.status,
        });
      }
      const headers = api === 'v1' ? { cookie: `session=${cookie}` } : { authorization: `Bearer ${cookie}` };
      return {
        value: { api, credential: { baseUrl, headers } },
        expiresAt: (api === 'v2' ? jwtExpiry(cookie) : undefined) ?? Date.now() + sessionTtl,
        secrets: [token, cookie],
      };
    }
    throw new AirkickError(
      'AUTH',
      'MWAA web login found neither /pluginsv2/aws_mwaa/login nor /aws_mwaa/login',
    );
  }, sessionTtl / 12);
  const sessionSource: CredentialSource = {
    async get(api, _request, bound) {
      preferred = api;
      const current = await session.get(bound);
      return current.api === api ? current.credential : undefined;
    },
    invalidate: (_api, credential) => session.invalidateIf((current) => current.credential === credential),
  };

  async function invokeRestApi(
    request: ApiRequest,
    attempt: AttemptOptions,
  ): Promise<ApiResponse | 'fallback'> {
    const payload: Record<string, unknown> = { Method: request.method, Path: request.path };
    const query = Object.fromEntries(Object.entries(request.query ?? {}).filter(([, v]) => v !== undefined));
    if (Object.keys(query).length > 0) payload.QueryParameters = query;
    if (request.body !== undefined) payload.Body = request.body;
    const body = JSON.stringify(payload);
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: restUrl.protocol,
        hostname: restUrl.hostname,
        ...(restUrl.port ? { port: Number(restUrl.port) } : {}),
        path: restUrl.pathname,
        headers: { 'content-type': 'application/json', host: restUrl.host },
        body,
      }),
    );
    const { host: _host, ...headers } = signed.headers;
    const response = await httpCall({
      method: 'POST',
      url: restUrl.toString(),
      headers,
      body,
      ...(attempt.deadline === undefined ? {} : { deadline: attempt.deadline }),
      ...(attempt.signal === undefined ? {} : { signal: attempt.signal }),
    });
    const answer = parseJson(response.text) as Record<string, unknown> | undefined;
    const type = awsErrorType(response.headers.get('x-amzn-errortype'), answer);
    if (response.status === 200 || type === 'RestApiClientException' || type === 'RestApiServerException') {
      return { status: Number(answer?.RestApiStatusCode ?? response.status), body: answer?.RestApiResponse };
    }
    const message = String(answer?.message ?? answer?.Message ?? '');
    if (type === 'AccessDeniedException' && /airflow role/i.test(message)) return 'fallback';
    const wait = retryAfterMs(response.headers);
    throw controlPlaneError({
      operation: 'InvokeRestApi',
      environment,
      type,
      status: response.status,
      message,
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
    });
  }

  /** A path InvokeRestApi would refuse (a long DAG id) goes through the web-login session, which has no such limit. */
  async function sendLongPath(request: ApiRequest, attempt: AttemptOptions): Promise<ApiResponse> {
    try {
      return await sendWithCredential(request, attempt, sessionSource);
    } catch (error) {
      if (!isAirkickError(error, 'AUTH')) throw error;
      throw new AirkickError(
        'CONFIG',
        `${request.method} ${request.path} is ${request.path.length} characters, over InvokeRestApi's limit of ${REST_API_PATH_MAX}, and the web-login session that has no such limit was refused (${error.message}): grant airflow:CreateWebLoginToken on the Airflow role of ${environment} or use a shorter DAG id`,
        { cause: error },
      );
    }
  }

  async function cliOnce(command: string, attempt: AttemptOptions): Promise<CliResult> {
    const words = command.split(' ', 2).filter((w) => /^[a-z][a-z_-]*$/.test(w));
    for (let n = 1; ; n++) {
      const { token, host } = await cliToken.get(attempt);
      const url = `${webScheme}://${host}/aws_mwaa/cli`;
      const response = await httpCall({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: command,
        timeoutMs: 120_000,
        ...(attempt.deadline === undefined ? {} : { deadline: attempt.deadline }),
        ...(attempt.signal === undefined ? {} : { signal: attempt.signal }),
      });
      if ((response.status === 401 || response.status === 403) && n === 1) {
        cliToken.invalidate();
        continue;
      }
      const where = { method: 'POST', url, status: response.status };
      if (response.status === 500) {
        throw new AirkickError(
          'UNSUPPORTED_COMMAND',
          `MWAA refused the CLI command "${words.join(' ')}" (HTTP 500): it is not supported on this environment or could not start`,
          where,
        );
      }
      if (response.status === 504) {
        throw new AirkickError(
          'TIMEOUT',
          `the MWAA web server timed out running "${words.join(' ')}" (HTTP 504); commands that parse DAG files can exceed the gateway limit`,
          where,
        );
      }
      const code = codeForStatus(response.status);
      if (code) {
        throw new AirkickError(code, `MWAA CLI call failed with HTTP ${response.status}`, {
          ...where,
          retryable: isRetryableStatus(response.status),
        });
      }
      const out = parseJson(response.text) as { stdout?: string; stderr?: string } | undefined;
      return { stdout: fromBase64(out?.stdout), stderr: fromBase64(out?.stderr) };
    }
  }

  return {
    environment,
    async send(request, attempt) {
      if (mode === 'rest') {
        if (request.path.length > REST_API_PATH_MAX) return sendLongPath(request, attempt);
        const answer = await invokeRestApi(request, attempt);
        if (answer !== 'fallback') return answer;
        // Lacking airflow:InvokeRestApi on the Airflow role: the web-login session needs only CreateWebLoginToken.
        mode = 'session';
      }
      return sendWithCredential(request, attempt, sessionSource);
    },
    cli: (command, attempt) => serially(`mwaa:${spec.region}:${spec.name}`, () => cliOnce(command, attempt)),
    uiBase: () => (webHost ? `${webScheme}://${webHost}` : undefined),
  };
}

function tokenOf(token: string | undefined, host: string | undefined, operation: string): WebToken {
  if (!token || !host)
    throw new AirkickError('SERVER', `${operation} answered without a token or web server host`);
  return { token, host };
}

function fromBase64(value: string | undefined): string {
  return value ? Buffer.from(value, 'base64').toString('utf8') : '';
}

/**
 * One SDK call within `bound` (the SDK's own `abortSignal`), its failure turned into an AirkickError.
 * The SDK's messages carry no credentials; the cause kept is only its name and message.
 */
async function sdk<T>(
  operation: string,
  environment: string,
  bound: Bound,
  call: (options: { abortSignal?: AbortSignal }) => Promise<T>,
): Promise<T> {
  const signal = boundSignal(bound);
  try {
    return await call(signal ? { abortSignal: signal } : {});
  } catch (cause) {
    if (signal?.aborted) {
      throw new AirkickError(
        'TIMEOUT',
        `MWAA ${operation} for ${environment}: no answer before the deadline`,
        {
          retryable: true,
        },
      );
    }
    const error = cause as {
      name?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number; attempts?: number };
    };
    const failure = controlPlaneError({
      operation,
      environment,
      type: error.name ?? 'Error',
      status: error.$metadata?.httpStatusCode,
      message: error.message ?? '',
      cause,
    });
    // The SDK already retried what its standard mode retries; do not multiply its attempts.
    throw (error.$metadata?.attempts ?? 1) > 1 ? notRetryable(failure) : failure;
  }
}

function notRetryable(error: AirkickError): AirkickError {
  return new AirkickError(error.code, error.message, {
    ...(error.status === undefined ? {} : { status: error.status }),
    cause: error.cause,
  });
}

/**
 * The InvokeRestApi endpoint as the SDK resolves CreateCliToken's: the partition's DNS suffix
 * (`amazonaws.com.cn` in China, GovCloud's own), with the operations' `env.` host prefix.
 */
export function restApiEndpoint(spec: MwaaSpec, client: MWAAClient): string {
  if (spec.endpoint) return spec.endpoint.replace(/\/+$/, '');
  const resolved = client.config.endpointProvider({
    Region: spec.region,
    UseFIPS: false,
    UseDualStack: false,
  });
  const url = new URL(resolved.url.href);
  url.hostname = `env.${url.hostname}`;
  return url.origin;
}
