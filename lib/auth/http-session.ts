/**
 * REST over HTTP with a credential header (basic auth, session cookie): the part the self-hosted,
 * DMS and MWAA web-login providers share. A 401/403 (or a redirect to a login page) refreshes the
 * credential and repeats the call once.
 */
import type { ApiRequest, ApiResponse, AttemptOptions } from '../airflow/transport.ts';
import { withQuery } from '../airflow/transport.ts';
import { httpCall, parseJson, retryAfterMs } from '../http.ts';

export interface Credential {
  /** Where the API lives (DMS and MWAA learn it from the token call) and the headers that authenticate. */
  apiRoot: string;
  headers: Record<string, string>;
}

export interface CredentialSource {
  get(): Promise<Credential>;
  /** Forget `credential` when the server rejected it; absent for credentials that cannot be refreshed. */
  invalidate?(credential: Credential): void;
}

export async function sendWithCredential(
  request: ApiRequest,
  options: AttemptOptions,
  source: CredentialSource,
): Promise<ApiResponse> {
  for (let attempt = 1; ; attempt++) {
    const credential = await source.get();
    const response = await httpCall({
      method: request.method,
      url: withQuery(`${credential.apiRoot}${request.path}`, request.query),
      headers: {
        accept: 'application/json',
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...credential.headers,
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      redirect: 'manual',
    });
    const rejected = response.status === 401 || response.status === 403 || response.status === 302;
    if (rejected && source.invalidate && attempt === 1) {
      source.invalidate(credential);
      continue;
    }
    const status = response.status === 302 ? 401 : response.status;
    const wait = retryAfterMs(response.headers);
    return { status, body: parseJson(response.text), ...(wait === undefined ? {} : { retryAfterMs: wait }) };
  }
}

/** Reads one cookie's value from a response's `set-cookie` headers. */
export function readCookie(headers: Headers, name: string): string | undefined {
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair?.indexOf('=') ?? -1;
    if (pair && eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
