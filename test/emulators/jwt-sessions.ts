import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AirflowInfo, adminToken } from '#test/airflow/airflow.ts';
import { parseCookies } from './http.ts';
import {
  forwardToAirflow,
  relayAirflowResponse,
  sendAirflow3Detail,
  sendAirflowUnauthenticated,
} from './passthrough.ts';
import { TokenStore } from './tokens.ts';

/** Airflow 3's cookie for the UI's JWT (`COOKIE_NAME_JWT_TOKEN`). */
export const JWT_COOKIE = '_token';

/** How Airflow 3 clears a `_token` cookie it rejected (seen on the harness's 3.3.2). */
const CLEAR_JWT_COOKIE = `${JWT_COOKIE}=""; HttpOnly; Max-Age=0; Path=/; SameSite=lax`;

export interface JwtCredential {
  token: string;
  via: 'bearer' | 'cookie';
}

/**
 * The credential Airflow 3 reads from a request, in its order: an `Authorization: Bearer` header
 * wins over the `_token` cookie (accepted since Airflow 3.1).
 */
export function jwtCredential(req: IncomingMessage): JwtCredential | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer) return { token: bearer, via: 'bearer' };
  const cookie = parseCookies(req.headers.cookie).get(JWT_COOKIE);
  return cookie ? { token: cookie, via: 'cookie' } : undefined;
}

/**
 * Web sessions of an Airflow 3 gateway. Each login gets a fresh JWT minted by the real Airflow
 * (`POST /auth/token` as the admin, the identity the gateways map callers to), so requests that carry
 * it can go to the real Airflow untouched and Airflow itself judges them. Only the session's lifetime
 * is the gateway's own: the JWT lives a day (`jwt_expiration_time`), the emulated session `ttlMs`.
 */
export class JwtSessions {
  readonly #tokens: TokenStore<true>;

  constructor(
    readonly airflow: AirflowInfo,
    ttlMs: number,
  ) {
    this.#tokens = new TokenStore(ttlMs);
  }

  async issue(): Promise<{ token: string; expiresAt: number }> {
    return this.#tokens.issue(true, await adminToken(this.airflow.baseUrl));
  }

  status(token: string | undefined): 'live' | 'expired' | 'unknown' {
    return this.#tokens.status(token);
  }

  /** Refuses a request the gateway itself serves (not Airflow) unless it carries a live session. */
  refuse(req: IncomingMessage, res: ServerResponse): boolean {
    const credential = jwtCredential(req);
    if (!credential) {
      sendAirflowUnauthenticated(res, this.airflow);
      return true;
    }
    const status = this.status(credential.token);
    if (status === 'live') return false;
    if (status === 'expired') sendTokenExpired(res, credential);
    else sendAirflow3Detail(res, 403, 'Invalid JWT token', clearCookie(credential));
    return true;
  }

  /**
   * Passes an API request to the real Airflow with the caller's own credential. A session this
   * gateway issued and that has since expired is answered as Airflow answers an expired JWT: Airflow
   * is asked without it, and where it wants a credential (401) the answer is its `Token Expired`;
   * endpoints open to anyone (`/monitor/health`) still answer.
   */
  async relay(
    req: IncomingMessage,
    res: ServerResponse,
    request: { path: string; query: string; body: Buffer },
  ): Promise<void> {
    const credential = jwtCredential(req);
    const method = req.method ?? 'GET';
    if (credential && this.status(credential.token) === 'expired') {
      const { authorization: _, ...anonymous } = req.headers;
      const answer = await forwardToAirflow(this.airflow, { method, ...request, headers: anonymous });
      if (answer.status === 401) return sendTokenExpired(res, credential);
      return relayAirflowResponse(res, answer);
    }
    const answer = await forwardToAirflow(this.airflow, {
      method,
      ...request,
      headers: req.headers,
      ...(credential?.via === 'cookie' ? { cookie: `${JWT_COOKIE}=${credential.token}` } : {}),
    });
    relayAirflowResponse(res, answer, true);
  }
}

function clearCookie(credential: JwtCredential): Record<string, string> {
  return credential.via === 'cookie' ? { 'set-cookie': CLEAR_JWT_COOKIE } : {};
}

/** Airflow 3's answer to an expired JWT: 401 `Token Expired`, clearing the cookie it came in. */
function sendTokenExpired(res: ServerResponse, credential: JwtCredential): void {
  sendAirflow3Detail(res, 401, 'Token Expired', clearCookie(credential));
}
