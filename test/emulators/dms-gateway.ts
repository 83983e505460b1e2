import type { IncomingMessage, ServerResponse } from 'node:http';
import { CommandSyntaxError, runAirflowCli, shellSplit } from './cli.ts';
import { DMS_CLI_COMMANDS, isSupportedCommand } from './commands.ts';
import type { DmsState } from './dms.ts';
import { type Handler, parseCookies, readBody, requestUrl, sendJson } from './http.ts';
import { JWT_COOKIE } from './jwt-sessions.ts';
import {
  callAirflowApi,
  forwardToAirflow,
  relayAirflowResponse,
  sendAirflowUnauthenticated,
} from './passthrough.ts';

/**
 * `GET {Host}/login?token=`: the 302 and cookie attributes copy the seed page's example response.
 * Airflow 3 (assumed, to confirm against a live instance): the same 302, its cookie `_token` holding
 * a JWT of the real Airflow instead of `session`, with the documented cookie's attributes.
 */
async function login(state: DmsState, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (
    req.method !== 'GET' ||
    state.loginTokens.get(url.searchParams.get('token') ?? undefined) !== state.airflowId
  ) {
    res.writeHead(401, { 'content-type': 'text/plain' });
    return void res.end('Unauthorized');
  }
  const name = state.airflow.major === 3 ? JWT_COOKIE : 'session';
  const { token: value, expiresAt } =
    state.airflow.major === 3 ? await state.jwtSessions.issue() : state.sessions.issue(state.airflowId);
  const home = `${state.hostPath}/home`;
  res.writeHead(302, {
    location: home,
    'cache-control': 'no-store',
    'set-cookie': `${name}=${value}; Expires=${new Date(expiresAt).toUTCString()}; Secure; HttpOnly; Path=/; SameSite=None; Partitioned`,
    'content-type': 'text/html; charset=utf-8',
  });
  res.end(`<!doctype html>\n<title>Redirecting...</title>\n<a href="${home}">${home}</a>`);
}

/** `POST {Host}/api/v1/command?command=...`: plain-text stdout/stderr, HTTP 200 whatever the exit code. */
async function command(state: DmsState, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') return sendJson(res, 405, { message: 'Method Not Allowed' });
  const text = url.searchParams.get('command');
  if (!text) return sendJson(res, 400, { message: 'missing command' });
  let args: string[];
  try {
    args = await shellSplit(state.airflow, text);
  } catch (error) {
    if (error instanceof CommandSyntaxError) return sendJson(res, 400, { message: error.message });
    throw error;
  }
  if (!isSupportedCommand(args, DMS_CLI_COMMANDS))
    return sendJson(res, 400, { message: 'command not supported' });
  state.gate.enter();
  try {
    const result = await runAirflowCli(state.airflow, args);
    sendJson(res, 200, { stderr: result.stderr.toString('utf8'), stdout: result.stdout.toString('utf8') });
  } finally {
    state.gate.leave();
  }
}

/** Airflow 2: `/api/v1/...` with the `session` cookie; the CLI endpoint shares the prefix. */
async function airflow2(state: DmsState, path: string, url: URL, req: IncomingMessage, res: ServerResponse) {
  const body = await readBody(req);
  if (!path.startsWith('/api/v1/')) {
    state.hit('unknown');
    return sendJson(res, 404, { message: 'Not Found' });
  }
  const signedIn = state.sessions.get(parseCookies(req.headers.cookie).get('session')) !== undefined;
  if (path === '/api/v1/command') {
    state.hit('command');
    return signedIn ? command(state, url, req, res) : sendAirflowUnauthenticated(res, state.airflow);
  }
  state.hit('api');
  if (!signedIn) return sendAirflowUnauthenticated(res, state.airflow);
  const answer = await callAirflowApi(state.airflow, {
    method: req.method ?? 'GET',
    path: path.slice('/api/v1'.length),
    query: url.search.slice(1),
    body,
    ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
  });
  relayAirflowResponse(res, answer);
}

/**
 * Airflow 3 (assumed): `/api/v2/...` with the `_token` cookie or the same JWT as a Bearer token goes
 * to the real Airflow untouched, which judges it; the documented CLI endpoint `/api/v1/command` stays
 * and takes the same credential; any other `/api/v1/...` is Airflow 3's own 404.
 */
async function airflow3(state: DmsState, path: string, url: URL, req: IncomingMessage, res: ServerResponse) {
  const body = await readBody(req);
  if (path === '/api/v1/command') {
    state.hit('command');
    if (state.jwtSessions.refuse(req, res)) return;
    return command(state, url, req, res);
  }
  if (path.startsWith('/api/v2/')) {
    state.hit('api');
    return state.jwtSessions.relay(req, res, { path, query: url.search.slice(1), body });
  }
  state.hit('unknown');
  if (!path.startsWith('/api/v1/')) return sendJson(res, 404, { message: 'Not Found' });
  const answer = await forwardToAirflow(state.airflow, {
    method: req.method ?? 'GET',
    path,
    query: url.search.slice(1),
    body,
  });
  relayAirflowResponse(res, answer);
}

export function dmsGateway(state: DmsState): Handler {
  return async (req, res) => {
    const url = requestUrl(req);
    const path = url.pathname.startsWith(`${state.hostPath}/`)
      ? url.pathname.slice(state.hostPath.length)
      : '';
    if (path === '/login') {
      state.hit('login');
      await readBody(req);
      return login(state, url, req, res);
    }
    return state.airflow.major === 3
      ? airflow3(state, path, url, req, res)
      : airflow2(state, path, url, req, res);
  };
}
