/**
 * Alibaba Cloud DMS Airflow: CreateAirflowLoginToken (OpenAPI, RPC style, signed by
 * @alicloud/openapi-client since no dms20250414 SDK is published), then `GET {Host}/login?token=`
 * whose 302 carries the `session` cookie for the REST API (`/api/v1`, Airflow 2) and the CLI endpoint.
 * Airflow 3 instances: not documented by the vendor. Assumed: the same login sets `session` or
 * Airflow 3's `_token` (a JWT); `/api/v2` is called with the cookie and, for `_token`, also as a Bearer
 * token (Airflow 3.0 reads only the header; 3.1+ also the cookie).
 */
import * as credentials from '@alicloud/credentials';
import * as openapi from '@alicloud/openapi-client';
import { RuntimeOptions } from '@alicloud/tea-util';
import type { ApiVersion, AttemptOptions, Transport } from '../airflow/transport.ts';
import type { CliResult } from '../airflow/types.ts';
import { type Bound, boundSignal, remainingMs, untilAborted } from '../deadline.ts';
import { type DmsSpec, describeEnvironment } from '../environment.ts';
import { AirkickError, codeForStatus, isAirkickError, isRetryableStatus } from '../errors.ts';
import { httpCall, parseJson } from '../http.ts';
import { type Credential, type CredentialSource, readCookie, sendWithCredential } from './http-session.ts';
import { TokenCache } from './token-cache.ts';

/** Documented login validity; the answer carries no expiry. */
const LOGIN_TTL_MS = 2 * 3600_000;
/** Longest wait for CreateAirflowLoginToken's answer when the invocation has more time. */
const LOGIN_TIMEOUT_MS = 10_000;

/** Static keys, e.g. Function Compute's `context.credentials`. */
export interface AliyunKeys {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface DmsOptions {
  /**
   * Static keys, or a function giving the current ones (Function Compute hands each invocation fresh
   * STS keys on its context). Defaults to the @alicloud/credentials default chain (env, profile, RAM role...).
   */
  credentials?: AliyunKeys | (() => AliyunKeys);
  loginTtlMs?: number;
}

/** One login, as the credential for each API version. */
type Login = Record<ApiVersion, Credential>;

/**
 * The default export of these CommonJS packages is the class under Node's ESM loader but the
 * module object under bundlers that honour `__esModule`; accept both.
 */
function cjsDefault<T>(value: T | { default: T }): T {
  return typeof value === 'function' ? (value as T) : (value as { default: T }).default;
}

const OpenApiClient = cjsDefault<typeof openapi.default.default>(openapi.default);
const DefaultCredential = cjsDefault<typeof credentials.default.default>(credentials.default);

export function dmsTransport(spec: DmsSpec, options: DmsOptions = {}): Transport {
  const endpoint = new URL(spec.endpoint);
  const protocol = endpoint.protocol === 'http:' ? 'HTTP' : 'HTTPS';
  const keys = options.credentials;
  const api = new OpenApiClient(
    new openapi.Config({
      endpoint: endpoint.host,
      protocol: protocol.toLowerCase(),
      regionId: spec.region,
      credential: keys
        ? currentKeys(typeof keys === 'function' ? keys : () => keys)
        : new DefaultCredential(),
    }),
  );
  const ttl = options.loginTtlMs ?? LOGIN_TTL_MS;
  let uiBase: string | undefined;

  const login = new TokenCache<Login>(
    async (bound) => {
      const { token, host } = await createLoginToken(api, spec, protocol, bound);
      const url = `${host}/login?token=${encodeURIComponent(token)}`;
      const response = await httpCall({ method: 'GET', url, ...bound });
      const jwt = readCookie(response.headers, '_token');
      const cookieName = jwt ? '_token' : 'session';
      const cookie = jwt ?? readCookie(response.headers, 'session');
      if (response.status !== 302 || !cookie) {
        throw new AirkickError(
          'AUTH',
          `DMS Airflow login answered HTTP ${response.status} without a session`,
          {
            method: 'GET',
            url,
            status: response.status,
          },
        );
      }
      uiBase = host;
      const headers = { cookie: `${cookieName}=${cookie}` };
      const v2Headers = jwt ? { ...headers, authorization: `Bearer ${jwt}` } : headers;
      return {
        value: { v1: { baseUrl: host, headers }, v2: { baseUrl: host, headers: v2Headers } },
        expiresAt: Date.now() + ttl,
        secrets: [token, cookie],
      };
    },
    Math.min(ttl / 10, 5 * 60_000),
  );
  const source: CredentialSource = {
    get: async (api, _request, bound) => (await login.get(bound))[api],
    invalidate: (api, credential) => login.invalidateIf((current) => current[api] === credential),
  };

  async function cli(command: string, attempt: AttemptOptions): Promise<CliResult> {
    for (let n = 1; ; n++) {
      const session = (await login.get(attempt)).v1;
      // The documented CLI endpoint; for Airflow 3 instances it is assumed unchanged.
      const root = `${session.baseUrl}/api/v1/command`;
      const url = `${root}?command=${encodeURIComponent(command)}`;
      const response = await httpCall({
        method: 'POST',
        url,
        headers: session.headers,
        timeoutMs: 120_000,
        ...(attempt.deadline === undefined ? {} : { deadline: attempt.deadline }),
        ...(attempt.signal === undefined ? {} : { signal: attempt.signal }),
      });
      if ([302, 401, 403].includes(response.status) && n === 1) {
        login.invalidateIf((current) => current.v1 === session);
        continue;
      }
      const where = { method: 'POST', url: root, status: response.status };
      const code = codeForStatus(response.status === 302 ? 401 : response.status);
      const out = parseJson(response.text) as { stdout?: unknown; stderr?: unknown } | string | undefined;
      if (code) {
        const detail = typeof out === 'string' ? out.slice(0, 300) : JSON.stringify(out ?? '').slice(0, 300);
        throw new AirkickError(
          code === 'BAD_REQUEST' ? 'UNSUPPORTED_COMMAND' : code,
          `DMS CLI call failed with HTTP ${response.status}: ${detail}`,
          { ...where, retryable: isRetryableStatus(response.status) },
        );
      }
      if (typeof out !== 'object' || out === null) {
        throw new AirkickError('SERVER', 'DMS CLI answer is not the documented {stdout, stderr} JSON', where);
      }
      return { stdout: String(out.stdout ?? ''), stderr: String(out.stderr ?? '') };
    }
  }

  return {
    environment: describeEnvironment(spec),
    send: (request, attempt) => sendWithCredential(request, attempt, source),
    cli,
    uiBase: () => uiBase,
  };
}

/**
 * A credential for the Tea client that reads the keys at each call, so a long-lived client signs
 * with the invocation's current STS keys.
 */
function currentKeys(read: () => AliyunKeys) {
  return {
    getCredential: async () => {
      const k = read();
      return {
        accessKeyId: k.accessKeyId,
        accessKeySecret: k.accessKeySecret,
        securityToken: k.securityToken ?? '',
        type: k.securityToken ? 'sts' : 'access_key',
      };
    },
    getAccessKeyId: async () => read().accessKeyId,
    getAccessKeySecret: async () => read().accessKeySecret,
    getSecurityToken: async () => read().securityToken ?? '',
    getBearerToken: () => '',
    getType: () => (read().securityToken ? 'sts' : 'access_key'),
  };
}

async function createLoginToken(
  api: InstanceType<typeof OpenApiClient>,
  spec: DmsSpec,
  protocol: string,
  bound: Bound,
): Promise<{ token: string; host: string }> {
  const params = new openapi.Params({
    action: 'CreateAirflowLoginToken',
    version: '2025-04-14',
    protocol,
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    pathname: '/',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  const request = new openapi.OpenApiRequest({ query: { AirflowId: spec.airflowId } });
  try {
    // Resolve the credential chain apart from the call, so "no credentials" is AUTH, not a network error.
    await api.getAccessKeyId();
  } catch (cause) {
    throw new AirkickError(
      'AUTH',
      `no Alibaba Cloud credentials to call CreateAirflowLoginToken: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  let body: Record<string, unknown>;
  // Tea's client takes no abort signal: its timeouts are cut to the time left, and the caller stops
  // waiting when the invocation's signal fires.
  const timeout = Math.max(1, Math.min(LOGIN_TIMEOUT_MS, remainingMs(bound)));
  try {
    const answer = await untilAborted(
      api.callApi(params, request, new RuntimeOptions({ readTimeout: timeout, connectTimeout: timeout })),
      boundSignal(bound),
      `CreateAirflowLoginToken for ${spec.airflowId}`,
    );
    body = (answer.body ?? {}) as Record<string, unknown>;
  } catch (cause) {
    if (isAirkickError(cause)) throw cause;
    const error = cause as { code?: string; data?: Record<string, unknown>; message?: string };
    const status = typeof error.data?.statusCode === 'number' ? error.data.statusCode : undefined;
    throw dmsError(spec, {
      code: error.code ?? '',
      status,
      message: String(error.data?.Message ?? error.message ?? ''),
      cause,
    });
  }
  const data = (body.Data ?? {}) as { Token?: string; Host?: string };
  if (body.Success === false) {
    // Some Alibaba Cloud APIs answer a failure with HTTP 200 and the real status inside the body.
    const inner = Number(body.HttpStatusCode);
    throw dmsError(spec, {
      code: String(body.Code ?? body.ErrorCode ?? ''),
      status: Number.isInteger(inner) && inner >= 400 ? inner : 400,
      message: String(body.Message ?? ''),
    });
  }
  if (!data.Token || !data.Host) {
    throw new AirkickError(
      'SERVER',
      `CreateAirflowLoginToken for ${spec.airflowId} answered without Data.Token and Data.Host`,
    );
  }
  return { token: data.Token, host: data.Host.replace(/\/+$/, '') };
}

interface DmsFailure {
  code: string;
  /** HTTP status; undefined when no answer came. */
  status: number | undefined;
  message: string;
  cause?: unknown;
}

/**
 * Classifies a CreateAirflowLoginToken failure: throttling (`Throttling`, `Throttling.User`, ...) is
 * retried like a 429, a missing instance is a configuration error naming it, signature and
 * permission codes are AUTH.
 */
export function dmsError(spec: DmsSpec, failure: DmsFailure): AirkickError {
  const { code, status, message } = failure;
  const text = `CreateAirflowLoginToken failed for ${spec.airflowId}: ${code || `HTTP ${status ?? '?'}`}${message ? ` ${message}` : ''}`;
  const init = {
    ...(status === undefined ? {} : { status }),
    ...(failure.cause === undefined ? {} : { cause: failure.cause }),
  };
  if (/^Throttling/i.test(code) || status === 429) {
    return new AirkickError('RATE_LIMITED', text, { ...init, retryable: true });
  }
  if (/NotFound/i.test(code) || status === 404) {
    return new AirkickError(
      'CONFIG',
      `${text} (no DMS Airflow instance ${spec.airflowId} in ${spec.region}: check the id and region)`,
      init,
    );
  }
  if (/Signature|AccessKey|Forbidden|NoPermission|Credential|Unauthorized|SecurityToken/i.test(code)) {
    return new AirkickError('AUTH', text, init);
  }
  if (status === undefined) return new AirkickError('TRANSPORT', text, { ...init, retryable: true });
  if (status >= 500) return new AirkickError('SERVER', text, { ...init, retryable: true });
  return new AirkickError(codeForStatus(status) ?? 'BAD_REQUEST', text, init);
}
