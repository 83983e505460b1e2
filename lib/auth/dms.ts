/**
 * Alibaba Cloud DMS Airflow: CreateAirflowLoginToken (OpenAPI, RPC style, signed here with ACS3; see
 * acs3.ts), then `GET {Host}/login?token=` whose 302 carries the `session` cookie for the REST API
 * (`/api/v1`, Airflow 2) and the CLI endpoint.
 * Airflow 3 instances: not documented by the vendor. Assumed: the same login sets `session` or
 * Airflow 3's `_token` (a JWT); `/api/v2` is called with the cookie and, for `_token`, also as a Bearer
 * token (Airflow 3.0 reads only the header; 3.1+ also the cookie).
 */
import type { AttemptOptions, Transport } from '#lib/airflow/transport.ts';
import type { CliResult } from '#lib/airflow/types.ts';
import { signAcs3 } from '#lib/auth/acs3.ts';
import {
  type Credential,
  type CredentialSource,
  readCookie,
  sendWithCredential,
} from '#lib/auth/http-session.ts';
import { TokenCache } from '#lib/auth/token-cache.ts';
import type { Bound } from '#lib/deadline.ts';
import type { ApiVersion } from '#lib/environment.ts';
import { type DmsSpec, describeEnvironment } from '#lib/environment.ts';
import { AirkickError, codeForStatus, isAirkickError, isRetryableStatus } from '#lib/errors.ts';
import { httpCall, parseJson } from '#lib/http.ts';
import { optionalImport } from '#lib/optional.ts';

/** Documented login validity; the answer carries no expiry. */
const LOGIN_TTL_MS = 2 * 3600_000;
/** Longest wait for CreateAirflowLoginToken's answer when the invocation has more time. */
const LOGIN_TIMEOUT_MS = 10_000;

/** Static keys, e.g. Function Compute's `context.credentials`. */
export interface AliyunKeys {
  /** The AccessKey id. */
  accessKeyId: string;
  /** The AccessKey secret; it signs requests and is never sent or printed. */
  accessKeySecret: string;
  /** Required with temporary (STS) keys, such as Function Compute's. */
  securityToken?: string;
}

/** Options of {@link dmsTransport}, given as `aliyun` in `createAirflowClient`'s options. */
export interface DmsOptions {
  /**
   * Static keys, or a function giving the current ones (Function Compute hands each invocation fresh
   * STS keys on its context); a function is asked at each login, so it should read keys the invocation
   * updates, not capture the first ones. Default: `ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET` (and
   * `ALIBABA_CLOUD_SECURITY_TOKEN`) from the environment, else the @alicloud/credentials default chain
   * (profile, RAM role...).
   */
  credentials?: AliyunKeys | (() => AliyunKeys);
  /** How long a login session is used, in ms; default 2 h, the documented validity. */
  loginTtlMs?: number;
}

/** One login, as the credential for each API version. */
type Login = Record<ApiVersion, Credential>;

/**
 * The Alibaba Cloud DMS Airflow provider: pass it as `providers.dms` to `createAirflowClient`, which calls
 * it with the parsed `dms://` environment and `options.aliyun`. It logs in with CreateAirflowLoginToken
 * (signed here, no SDK) and keeps the session cookie for the REST API (`/api/v1` on Airflow 2, `/api/v2`
 * on Airflow 3) and the CLI.
 *
 * Needs no package when keys are given (`credentials`) or in `ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET`;
 * otherwise the optional peer `@alicloud/credentials`, loaded on the first login, for the default chain;
 * a missing one fails that call with `CONFIG` naming the package.
 */
export function dmsTransport(spec: DmsSpec, options: DmsOptions = {}): Transport {
  const keys = options.credentials;
  const currentKeys: () => Promise<AliyunKeys> =
    typeof keys === 'function' ? async () => keys() : keys ? async () => keys : defaultChain();
  const ttl = options.loginTtlMs ?? LOGIN_TTL_MS;
  let uiBase: string | undefined;

  const login = new TokenCache<Login>(
    async (bound) => {
      const { token, host } = await createLoginToken(spec, currentKeys, bound);
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
 * Keys from `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` (/ `ALIBABA_CLOUD_SECURITY_TOKEN`), else the
 * @alicloud/credentials default chain (profile, ECS/RAM role...), loaded only then (Function Compute
 * always gives keys): it is most of the cold cost otherwise, and an optional peer of the package.
 */
function defaultChain(): () => Promise<AliyunKeys> {
  let chain: Promise<{ getCredential(): Promise<Partial<AliyunKeys>> }> | undefined;
  return async () => {
    // The chain's first link, read here so that keys in the environment need no package at all.
    const {
      ALIBABA_CLOUD_ACCESS_KEY_ID: id,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret,
      ALIBABA_CLOUD_SECURITY_TOKEN: token,
    } = process.env;
    if (id && secret)
      return { accessKeyId: id, accessKeySecret: secret, ...(token ? { securityToken: token } : {}) };
    chain ??= optionalImport(
      () => import('@alicloud/credentials'),
      '@alicloud/credentials',
      'airkick/dms without credentials in its options (the default credential chain)',
    ).then((module) => {
      // The CommonJS default export is the class under Node's loader, the module object under bundlers.
      const exported = module.default as unknown as { default?: unknown };
      const Chain = (typeof exported === 'function' ? exported : exported.default) as new () => {
        getCredential(): Promise<Partial<AliyunKeys>>;
      };
      return new Chain();
    });
    const found = await (await chain).getCredential();
    if (!found.accessKeyId || !found.accessKeySecret) throw new Error('the default chain found no AccessKey');
    return {
      accessKeyId: found.accessKeyId,
      accessKeySecret: found.accessKeySecret,
      ...(found.securityToken ? { securityToken: found.securityToken } : {}),
    };
  };
}

async function createLoginToken(
  spec: DmsSpec,
  currentKeys: () => Promise<AliyunKeys>,
  bound: Bound,
): Promise<{ token: string; host: string }> {
  let keys: AliyunKeys;
  try {
    keys = await currentKeys();
  } catch (cause) {
    // "No credentials" is AUTH, not a network error; a missing optional package stays CONFIG.
    if (isAirkickError(cause, 'CONFIG')) throw cause;
    throw new AirkickError(
      'AUTH',
      `no Alibaba Cloud credentials to call CreateAirflowLoginToken: ${(cause as Error).message}`,
      { cause },
    );
  }
  const signed = signAcs3(
    {
      method: 'POST',
      endpoint: spec.endpoint,
      action: 'CreateAirflowLoginToken',
      version: '2025-04-14',
      query: { AirflowId: spec.airflowId },
    },
    keys,
  );
  const response = await httpCall({
    method: 'POST',
    url: signed.url,
    headers: signed.headers,
    body: '',
    timeoutMs: LOGIN_TIMEOUT_MS,
    ...bound,
  });
  const parsed = parseJson(response.text);
  const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (response.status >= 300) {
    // The documented error body: {Code, Message, RequestId, ...}; throttling may say when to come back.
    const wait = Number(response.headers.get('x-acs-retry-after'));
    throw dmsError(spec, {
      code: String(body.Code ?? ''),
      status: response.status,
      message: String(body.Message ?? (typeof parsed === 'string' ? parsed.slice(0, 200) : '')),
      ...(Number.isFinite(wait) && wait > 0 ? { retryAfterMs: wait } : {}),
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
  /** `x-acs-retry-after`, in milliseconds. */
  retryAfterMs?: number;
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
    ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
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
