/**
 * Self-hosted Airflow. Airflow 2 (`/api/v1`): basic auth. Airflow 3 (`/api/v2`): basic auth is refused;
 * a JWT from `POST /auth/token` is sent as a Bearer token, cached until shortly before its `exp`. No
 * CLI endpoint.
 */
import type { Transport } from '#lib/airflow/transport.ts';
import {
  type Credential,
  type CredentialSource,
  jwtExpiry,
  sendWithCredential,
} from '#lib/auth/http-session.ts';
import { TokenCache } from '#lib/auth/token-cache.ts';
import type { Bound } from '#lib/deadline.ts';
import type { ApiVersion } from '#lib/environment.ts';
import { describeEnvironment, type SelfHostedSpec } from '#lib/environment.ts';
import { AirkickError, codeForStatus, isRetryableStatus } from '#lib/errors.ts';
import { httpCall, parseJson } from '#lib/http.ts';
import { registerSecret } from '#lib/secrets/redaction.ts';

/** Airflow's default `[api_auth] jwt_expiration_time`, for a token whose `exp` cannot be read. */
const DEFAULT_JWT_TTL_MS = 24 * 3600_000;
/** Refresh this long before `exp`, so a token never expires between the check and the request. */
const JWT_MARGIN_MS = 60_000;

/** How each API version authenticates: Airflow 2 basic auth, Airflow 3 a JWT from `POST /auth/token`. */
const AUTH: Record<ApiVersion, 'basic' | 'jwt'> = { v1: 'basic', v2: 'jwt' };

export function selfHostedTransport(spec: SelfHostedSpec): Transport {
  const basic: Credential = { baseUrl: spec.baseUrl, headers: {} };
  if (spec.username !== undefined) {
    const encoded = Buffer.from(`${spec.username}:${spec.password ?? ''}`).toString('base64');
    registerSecret(spec.password);
    registerSecret(encoded);
    basic.headers.authorization = `Basic ${encoded}`;
  }
  const jwt = new TokenCache<Credential | undefined>(async (bound) => {
    const token = await fetchToken(spec, bound);
    if (token === undefined) return { value: undefined, expiresAt: Date.now() + 60_000 };
    return {
      value: { baseUrl: spec.baseUrl, headers: { authorization: `Bearer ${token}` } },
      expiresAt: jwtExpiry(token) ?? Date.now() + DEFAULT_JWT_TTL_MS,
      secrets: [token],
    };
  }, JWT_MARGIN_MS);
  const anonymous = spec.username === undefined;
  const publicCall: Credential = { baseUrl: spec.baseUrl, headers: {} };
  const source: CredentialSource = {
    // Airflow 3 answers health without a token: a wrong password must not make a health read fail.
    get: async (api: ApiVersion, request, bound) =>
      AUTH[api] === 'basic' || anonymous ? basic : request.anonymous ? publicCall : jwt.get(bound),
    ...(anonymous
      ? {}
      : { invalidate: (api: ApiVersion, c: Credential) => AUTH[api] === 'jwt' && jwt.invalidate(c) }),
  };
  return {
    environment: describeEnvironment(spec),
    send: (request, options) => sendWithCredential(request, options, source),
    uiBase: () => spec.baseUrl,
  };
}

/** Airflow 3's token endpoint; undefined when the server has none (an Airflow 2 answers 404). */
async function fetchToken(spec: SelfHostedSpec, bound: Bound): Promise<string | undefined> {
  const url = `${spec.baseUrl}/auth/token`;
  const response = await httpCall({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ username: spec.username, password: spec.password ?? '' }),
    ...bound,
  });
  if (response.status === 404 || response.status === 405) return undefined;
  const where = { method: 'POST', url, status: response.status };
  if (response.status === 401 || response.status === 403) {
    throw new AirkickError(
      'AUTH',
      `Airflow refused the username or password of ${spec.username} (HTTP ${response.status})`,
      where,
    );
  }
  const token = (parseJson(response.text) as { access_token?: unknown } | undefined)?.access_token;
  if (response.status >= 300 || typeof token !== 'string') {
    throw new AirkickError(
      codeForStatus(response.status) ?? 'SERVER',
      `Airflow's token endpoint answered HTTP ${response.status} without an access_token`,
      { ...where, retryable: isRetryableStatus(response.status) },
    );
  }
  return token;
}
