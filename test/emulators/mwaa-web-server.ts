import type { IncomingMessage, ServerResponse } from 'node:http';
import { CommandSyntaxError, runAirflowCli, shellSplit } from './cli.ts';
import {
  isBlockedSubcommand,
  isSupportedCommand,
  MWAA_CLI_COMMANDS,
  MWAA_CLI_COMMANDS_AIRFLOW3,
} from './commands.ts';
import { type Handler, parseCookies, readBody, requestUrl, sendJson, sleep } from './http.ts';
import { JWT_COOKIE, jwtCredential } from './jwt-sessions.ts';
import type { MwaaState } from './mwaa.ts';
import {
  apiPrefix,
  callAirflowApi,
  forwardToAirflow,
  relayAirflowResponse,
  sendAirflow3Detail,
  sendAirflowUnauthenticated,
} from './passthrough.ts';

/** Where each major version's web server takes a web login token. */
const LOGIN_PATH = { 2: '/aws_mwaa/login', 3: '/pluginsv2/aws_mwaa/login' } as const;

/**
 * `POST /aws_mwaa/cli`. A missing, foreign or expired CLI token answers 403 (the emulator's choice;
 * AWS documents no status). The command runs with HTTP 200 whatever its exit code, as on MWAA.
 * On Airflow 3 a command of a group the endpoint serves but with a subcommand it blocks (`db reset`)
 * answers "sub command not allowed"; AWS documents the text, not the status: assumed HTTP 500 like
 * every other refused command.
 */
async function cli(state: MwaaState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const free = state.gate.enter();
  try {
    const body = await readBody(req);
    if (!free) return sendJson(res, 503, { message: 'another CLI command is running' });
    if (req.method !== 'POST') return sendJson(res, 405, { message: 'Method Not Allowed' });
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (state.cliTokens.get(bearer) !== state.environmentName)
      return sendJson(res, 403, { message: 'Forbidden' });
    if (!String(req.headers['content-type'] ?? '').startsWith('text/plain'))
      return sendJson(res, 400, { message: 'Content-Type must be text/plain' });
    let args: string[];
    try {
      args = await shellSplit(state.airflow, body.toString('utf8'));
    } catch (error) {
      if (error instanceof CommandSyntaxError) return sendJson(res, 500, { message: error.message });
      throw error;
    }
    const supported = state.airflow.major === 3 ? MWAA_CLI_COMMANDS_AIRFLOW3 : MWAA_CLI_COMMANDS;
    if (state.airflow.major === 3 && isBlockedSubcommand(args, supported))
      return sendJson(res, 500, { message: 'sub command not allowed' });
    if (!isSupportedCommand(args, supported))
      return sendJson(res, 500, { message: 'Internal Server Error: command not supported' });
    if (state.cliDelayMs > 0) await sleep(state.cliDelayMs);
    const result = await runAirflowCli(state.airflow, args);
    return sendJson(res, 200, {
      stdout: result.stdout.toString('base64'),
      stderr: result.stderr.toString('base64'),
    });
  } finally {
    state.gate.leave();
  }
}

/**
 * The web login token from the form field `token`, spent by a successful login. AWS documents a 60 s
 * lifetime, not whether a token can be used twice: it is spent here (assumed) so a client that
 * replays one is caught. Only the login route spends it, so a client probing the other version's
 * login path (a 404) can still use it.
 */
async function spendWebToken(state: MwaaState, req: IncomingMessage): Promise<boolean> {
  const form = new URLSearchParams((await readBody(req)).toString('utf8'));
  return req.method === 'POST' && state.webTokens.consume(form.get('token') ?? undefined) !== undefined;
}

function forbidden(res: ServerResponse): void {
  res.writeHead(403, { 'content-type': 'text/plain' });
  res.end('Forbidden');
}

/** Airflow 2: `POST /aws_mwaa/login` with form field `token` trades a web login token for a `session` cookie. */
async function login2(state: MwaaState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!(await spendWebToken(state, req))) return forbidden(res);
  const { token: session } = state.sessions.issue(state.environmentName);
  res.writeHead(302, {
    location: '/home',
    'set-cookie': `session=${session}; Path=/; HttpOnly`,
    'content-type': 'text/html; charset=utf-8',
  });
  res.end('<!doctype html><title>Redirecting...</title><a href="/home">/home</a>');
}

/**
 * Airflow 3: `POST /pluginsv2/aws_mwaa/login` with form field `token` sets `_token`, a JWT of the
 * environment's Airflow, for `Authorization: Bearer` on `/api/v2` (AWS's REST API page, the Amazon
 * provider's MwaaHook).
 *
 * The status is not documented. Assumed 200 with the cookie and no redirect: MwaaHook posts with
 * `requests`, which follows redirects, and then reads `_token` from the final answer's own cookies,
 * which only works when the answer that sets the cookie is the final one. The cookie's attributes are
 * those Airflow 3.3's FAB views give `_token` (HttpOnly, SameSite=Lax, Path=/; Secure only over https).
 */
async function login3(state: MwaaState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!(await spendWebToken(state, req))) return forbidden(res);
  const { token } = await state.jwtSessions.issue();
  const page = '<!doctype html><title>Signed in</title><a href="/">Apache Airflow</a>';
  res.writeHead(200, {
    'set-cookie': `${JWT_COOKIE}=${token}; HttpOnly; Path=/; SameSite=Lax`,
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(page),
  });
  res.end(page);
}

/** Airflow 2: `/api/v1` with the `session` cookie, relayed to Airflow as its admin. */
async function api2(state: MwaaState, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const body = await readBody(req);
  if (state.sessions.get(parseCookies(req.headers.cookie).get('session')) === undefined)
    return sendAirflowUnauthenticated(res, state.airflow);
  const answer = await callAirflowApi(state.airflow, {
    method: req.method ?? 'GET',
    path: url.pathname.slice('/api/v1'.length),
    query: url.search.slice(1),
    body,
    ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
  });
  relayAirflowResponse(res, answer);
}

/**
 * Any other path reaches the real Airflow as it came (credential included on Airflow 3, whose JWTs are
 * Airflow's own), so it answers as the environment's Airflow would: `/api/v1` on Airflow 3 is its 404
 * "/api/v1 has been removed", `/pluginsv2/...` on Airflow 2 its HTML 404.
 */
async function passOn(state: MwaaState, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const body = await readBody(req);
  const credential = state.airflow.major === 3 ? jwtCredential(req) : undefined;
  const answer = await forwardToAirflow(state.airflow, {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.search.slice(1),
    body,
    headers: state.airflow.major === 3 ? req.headers : {},
    ...(credential?.via === 'cookie' ? { cookie: `${JWT_COOKIE}=${credential.token}` } : {}),
  });
  relayAirflowResponse(res, answer);
}

export function mwaaWebServer(state: MwaaState): Handler {
  const major = state.airflow.major;
  const api = `${apiPrefix(state.airflow)}/`;
  return async (req, res) => {
    const url = requestUrl(req);
    if (url.pathname === '/aws_mwaa/cli') {
      state.hit('cli');
      return cli(state, req, res);
    }
    if (url.pathname === LOGIN_PATH[major]) {
      state.hit('login');
      return major === 3 ? login3(state, req, res) : login2(state, req, res);
    }
    if (url.pathname.startsWith(api)) {
      state.hit('api');
      if (major === 2) return api2(state, req, res, url);
      return state.jwtSessions.relay(req, res, {
        path: url.pathname,
        query: url.search.slice(1),
        body: await readBody(req),
      });
    }
    state.hit('unknown');
    if (major === 3 && url.pathname === LOGIN_PATH[2]) {
      // Assumed: on Airflow 3 MWAA serves `/aws_mwaa/cli` from its plugin's own FastAPI app under
      // `/aws_mwaa` (Airflow 3 routes no other root path to a plugin), which has no login route, so
      // FastAPI's 404. A bare Airflow 3.3 would answer this POST with its UI's 405 instead.
      await readBody(req);
      return sendAirflow3Detail(res, 404, 'Not Found');
    }
    return passOn(state, req, res, url);
  };
}
