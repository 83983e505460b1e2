/**
 * The web-login session: CreateWebLoginToken, then the web server's login, which also reveals the
 * Airflow major version. Airflow 3's `POST /pluginsv2/aws_mwaa/login` sets `_token`, a JWT sent as a
 * Bearer token to `/api/v2`; Airflow 2's `POST /aws_mwaa/login` sets `session`, a cookie for
 * `/api/v1`. The login of the version asked first is tried first; a 404 or 405 there tries the next
 * with the same one-time token.
 */

import { type Credential, type CredentialSource, jwtExpiry, readCookie } from '#lib/auth/http-session.ts';
import type { ControlPlane } from '#lib/auth/mwaa/control-plane.ts';
import { TokenCache } from '#lib/auth/token-cache.ts';
import type { ApiVersion } from '#lib/environment.ts';
import { AirkickError } from '#lib/errors.ts';
import { httpCall } from '#lib/http.ts';

/** MWAA's web login for each API version: where it is, the cookie it sets, how the API takes it. */
const WEB_LOGIN: Record<
  ApiVersion,
  { path: string; cookie: string; jwt: boolean; headers(cookie: string): Record<string, string> }
> = {
  v1: {
    path: '/aws_mwaa/login',
    cookie: 'session',
    jwt: false,
    headers: (c) => ({ cookie: `session=${c}` }),
  },
  v2: {
    path: '/pluginsv2/aws_mwaa/login',
    cookie: '_token',
    jwt: true,
    headers: (c) => ({ authorization: `Bearer ${c}` }),
  },
};
/** Newest first: a login of unknown version tries Airflow 3's first. */
const NEWEST_FIRST = (Object.keys(WEB_LOGIN) as ApiVersion[]).reverse();

/** Where the web server is: learnt from the token answers, shared with the CLI and the UI links. */
export interface WebServer {
  scheme: 'http' | 'https';
  host?: string;
}

export function webSession(
  controlPlane: ControlPlane,
  web: WebServer,
  options: { api?: ApiVersion; ttlMs: number },
): CredentialSource {
  let preferred: ApiVersion = options.api ?? (NEWEST_FIRST[0] as ApiVersion);
  const session = new TokenCache<{ api: ApiVersion; credential: Credential }>(async (bound) => {
    const { token, host } = await controlPlane.createToken('CreateWebLoginToken', bound);
    web.host = host;
    const baseUrl = `${web.scheme}://${host}`;
    const order = [preferred, ...NEWEST_FIRST.filter((api) => api !== preferred)];
    for (const api of order) {
      const login = WEB_LOGIN[api];
      const url = `${baseUrl}${login.path}`;
      const response = await httpCall({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
        ...bound,
      });
      // The other major version's login path: not there (404), or not for POST (405).
      if ((response.status === 404 || response.status === 405) && api === order[0]) continue;
      const cookie = readCookie(response.headers, login.cookie);
      if (!cookie) {
        throw new AirkickError(
          'AUTH',
          `MWAA web login gave no ${login.cookie} cookie (HTTP ${response.status})`,
          { method: 'POST', url, status: response.status },
        );
      }
      return {
        value: { api, credential: { baseUrl, headers: login.headers(cookie) } },
        expiresAt: (login.jwt ? jwtExpiry(cookie) : undefined) ?? Date.now() + options.ttlMs,
        secrets: [token, cookie],
      };
    }
    throw new AirkickError(
      'AUTH',
      `MWAA web login found none of ${order.map((api) => WEB_LOGIN[api].path).join(', ')}`,
    );
  }, options.ttlMs / 12);
  return {
    async get(api, _request, bound) {
      preferred = api;
      const current = await session.get(bound);
      return current.api === api ? current.credential : undefined;
    },
    invalidate: (_api, credential) => session.invalidateIf((current) => current.credential === credential),
  };
}
