import type { IncomingMessage, ServerResponse } from 'node:http';
import { CommandSyntaxError, runAirflowCli, shellSplit } from './cli.ts';
import { isSupportedCommand, MWAA_CLI_COMMANDS } from './commands.ts';
import { type Handler, parseCookies, readBody, requestUrl, sendJson, sleep } from './http.ts';
import type { MwaaState } from './mwaa.ts';
import { callAirflowApi, relayAirflowResponse, sendAirflowUnauthenticated } from './passthrough.ts';

/**
 * `POST /aws_mwaa/cli`. A missing, foreign or expired CLI token answers 403 (the emulator's choice;
 * AWS documents no status). The command runs with HTTP 200 whatever its exit code, as on MWAA.
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
    if (!isSupportedCommand(args, MWAA_CLI_COMMANDS))
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

/** `POST /aws_mwaa/login` with form field `token`: trades a web login token for a `session` cookie. */
async function login(state: MwaaState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const form = new URLSearchParams((await readBody(req)).toString('utf8'));
  const token = form.get('token') ?? undefined;
  if (req.method !== 'POST' || state.webTokens.get(token) !== state.environmentName) {
    res.writeHead(403, { 'content-type': 'text/plain' });
    return void res.end('Forbidden');
  }
  const { token: session } = state.sessions.issue(state.environmentName);
  res.writeHead(302, {
    location: '/home',
    'set-cookie': `session=${session}; Path=/; HttpOnly`,
    'content-type': 'text/html; charset=utf-8',
  });
  res.end('<!doctype html><title>Redirecting...</title><a href="/home">/home</a>');
}

async function api(state: MwaaState, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const body = await readBody(req);
  if (state.sessions.get(parseCookies(req.headers.cookie).get('session')) === undefined)
    return sendAirflowUnauthenticated(res);
  const answer = await callAirflowApi(state.airflow, {
    method: req.method ?? 'GET',
    path: url.pathname.slice('/api/v1'.length),
    query: url.search.slice(1),
    body,
    ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
  });
  relayAirflowResponse(res, answer);
}

export function mwaaWebServer(state: MwaaState): Handler {
  return async (req, res) => {
    const url = requestUrl(req);
    if (url.pathname === '/aws_mwaa/cli') {
      state.hit('cli');
      return cli(state, req, res);
    }
    if (url.pathname === '/aws_mwaa/login') {
      state.hit('login');
      return login(state, req, res);
    }
    if (url.pathname.startsWith('/api/v1/')) {
      state.hit('api');
      return api(state, req, res, url);
    }
    state.hit('unknown');
    sendJson(res, 404, { message: 'Not Found' });
  };
}
