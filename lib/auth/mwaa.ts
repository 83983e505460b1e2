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
import type { ApiRequest, ApiResponse, AttemptOptions, Transport } from '../airflow/transport.ts';
import type { CliResult } from '../airflow/types.ts';
import { describeEnvironment, type MwaaSpec } from '../environment.ts';
import { AirkickError, codeForStatus, isRetryableStatus } from '../errors.ts';
import { httpCall, parseJson, retryAfterMs } from '../http.ts';
import { type Credential, readCookie, sendWithCredential } from './http-session.ts';
import { serially } from './serial.ts';
import { TokenCache } from './token-cache.ts';

/** Documented token lifetime for both CLI and web-login tokens. */
const TOKEN_TTL_MS = 60_000;
/** The Airflow web session lasts about 12 h; refresh well before. */
const SESSION_TTL_MS = 12 * 3600_000;

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
  const restUrl = new URL(
    `${spec.endpoint ?? `https://env.airflow.${spec.region}.amazonaws.com`}/restapi/${encodeURIComponent(spec.name)}`,
  );
  const signer = new SignatureV4({
    service: 'airflow',
    region: spec.region,
    credentials: client.config.credentials,
    sha256: client.config.sha256,
  });
  const tokenTtl = options.tokenTtlMs ?? TOKEN_TTL_MS;
  let webHost: string | undefined;
  let mode = spec.auth;

  const cliToken = new TokenCache<WebToken>(async () => {
    const out = await sdk('CreateCliToken', () =>
      client.send(new CreateCliTokenCommand({ Name: spec.name })),
    );
    const value = tokenOf(out.CliToken, out.WebServerHostname, 'CreateCliToken');
    webHost = value.host;
    return { value, expiresAt: Date.now() + tokenTtl, secrets: [value.token] };
  }, tokenTtl / 4);

  const session = new TokenCache<Credential>(
    async () => {
      const out = await sdk('CreateWebLoginToken', () =>
        client.send(new CreateWebLoginTokenCommand({ Name: spec.name })),
      );
      const { token, host } = tokenOf(out.WebToken, out.WebServerHostname, 'CreateWebLoginToken');
      webHost = host;
      const url = `${webScheme}://${host}/aws_mwaa/login`;
      const response = await httpCall({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
        redirect: 'manual',
      });
      const cookie = readCookie(response.headers, 'session');
      if (!cookie) {
        throw new AirkickError('AUTH', `MWAA web login gave no session cookie (HTTP ${response.status})`, {
          method: 'POST',
          url,
          status: response.status,
        });
      }
      return {
        value: { apiRoot: `${webScheme}://${host}/api/v1`, headers: { cookie: `session=${cookie}` } },
        expiresAt: Date.now() + (options.sessionTtlMs ?? SESSION_TTL_MS),
        secrets: [token, cookie],
      };
    },
    (options.sessionTtlMs ?? SESSION_TTL_MS) / 12,
  );

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
    const type = (response.headers.get('x-amzn-errortype') ?? String(answer?.__type ?? '')).split(':')[0];
    if (response.status === 200 || type === 'RestApiClientException' || type === 'RestApiServerException') {
      return { status: Number(answer?.RestApiStatusCode ?? response.status), body: answer?.RestApiResponse };
    }
    const message = String(answer?.message ?? answer?.Message ?? '');
    if (response.status === 403 && /airflow role/i.test(message)) return 'fallback';
    const wait = retryAfterMs(response.headers);
    return {
      status: response.status,
      body: { title: type || `HTTP ${response.status}`, detail: message },
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
    };
  }

  const sessionSource = { get: () => session.get(), invalidate: (c: Credential) => session.invalidate(c) };

  async function cliOnce(command: string, attempt: AttemptOptions): Promise<CliResult> {
    const words = command.split(' ', 2).filter((w) => /^[a-z][a-z_-]*$/.test(w));
    for (let n = 1; ; n++) {
      const { token, host } = await cliToken.get();
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
    apiVersion: 'v1',
    async send(request, attempt) {
      if (mode === 'rest') {
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

/** Turns an SDK failure into an AirkickError; the SDK's messages carry no credentials. */
async function sdk<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (cause) {
    const error = cause as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = error.$metadata?.httpStatusCode;
    const code =
      error.name === 'ResourceNotFoundException'
        ? 'NOT_FOUND'
        : error.name === 'AccessDeniedException' || status === 403
          ? 'AUTH'
          : status === undefined
            ? 'TRANSPORT'
            : (codeForStatus(status) ?? 'SERVER');
    throw new AirkickError(code, `${operation} failed: ${error.name ?? 'Error'}: ${error.message ?? ''}`, {
      ...(status === undefined ? {} : { status }),
      retryable: status === undefined || isRetryableStatus(status),
      cause,
    });
  }
}
