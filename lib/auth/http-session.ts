/**
 * REST over HTTP with a credential header (basic auth, session cookie, JWT): the part the self-hosted,
 * DMS and MWAA web-login providers share. A 401/403 (or a redirect to a login page) refreshes the
 * credential and repeats the call once.
 */
import type { ApiRequest, ApiResponse, AttemptOptions } from '#lib/airflow/transport.ts';
import { withQuery } from '#lib/airflow/transport.ts';
import type { ApiVersion } from '#lib/environment.ts';
import { httpCall, parseJson, type ResponseHeaders, retryAfterMs } from '#lib/http.ts';

export interface Credential {
  /** The server root under which `/api/v1` or `/api/v2` lives (DMS and MWAA learn it from the token call). */
  baseUrl: string;
  headers: Record<string, string>;
}

export interface CredentialSource {
  /** The credential for API `api`, or undefined when this server has no such API (an Airflow 2 asked for v2). */
  get(api: ApiVersion, request: ApiRequest, bound: AttemptOptions): Promise<Credential | undefined>;
  /** Forget `credential` when the server rejected it; absent for credentials that cannot be refreshed. */
  invalidate?(api: ApiVersion, credential: Credential): void;
}

export async function sendWithCredential(
  request: ApiRequest,
  options: AttemptOptions,
  source: CredentialSource,
): Promise<ApiResponse> {
  for (let attempt = 1; ; attempt++) {
    const credential = await source.get(request.api, request, options);
    if (!credential) return { status: 404, body: { detail: `this Airflow serves no /api/${request.api}` } };
    const response = await httpCall({
      method: request.method,
      url: withQuery(`${credential.baseUrl}/api/${request.api}${request.path}`, request.query),
      headers: {
        accept: 'application/json',
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...credential.headers,
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    // A session that has expired answers with a redirect to the login page (DMS): refresh it once.
    // A 302 anywhere else is a redirect in front of Airflow, reported as such.
    const session = source.invalidate !== undefined;
    const toLogin =
      session && response.status === 302 && /\/login\b/.test(response.headers.get('location') ?? '');
    const rejected = response.status === 401 || response.status === 403 || toLogin;
    if (rejected && session && attempt === 1) {
      source.invalidate?.(request.api, credential);
      continue;
    }
    const status = toLogin ? 401 : response.status;
    const wait = retryAfterMs(response.headers);
    const location = status >= 300 && status < 400 ? response.headers.get('location') : null;
    return {
      status,
      body: parseJson(response.text),
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
      ...(location ? { location } : {}),
    };
  }
}

/** Reads one cookie's value from a response's `set-cookie` headers. */
export function readCookie(headers: ResponseHeaders, name: string): string | undefined {
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair?.indexOf('=') ?? -1;
    if (pair && eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * When a JWT expires (`exp`, epoch seconds), without verifying it: the server does that. Undefined
 * when the token carries no readable `exp`.
 */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
