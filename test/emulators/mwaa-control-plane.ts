import type { ServerResponse } from 'node:http';
import { type Handler, readBody, requestId, requestUrl, sendJson } from './http.ts';
import type { MwaaState } from './mwaa.ts';
import { callAirflowApi } from './passthrough.ts';
import { verifySigV4 } from './sigv4.ts';

const ROUTE = /^\/(clitoken|webtoken|restapi)\/([^/]+)$/;
const ENVIRONMENT_NAME = /^[a-zA-Z][0-9a-zA-Z_-]{0,79}$/;
const METHODS = new Set(['GET', 'PUT', 'POST', 'PATCH', 'DELETE']);
const ACCOUNT = '123456789012';
/** AWS's default clock-skew allowance for SigV4. */
const MAX_SKEW_MS = 5 * 60_000;

/**
 * restJson1 error: the SDK reads the type from `x-amzn-errortype`; MWAA's AccessDeniedException
 * carries `Message`, every other error `message`.
 */
function awsError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  extra: Record<string, unknown> = {},
): void {
  const text = type === 'AccessDeniedException' ? { Message: message } : { message };
  sendJson(res, status, { ...text, ...extra }, { 'x-amzn-errortype': type, 'x-amzn-requestid': requestId() });
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return body.toString('utf8');
  }
}

function toQuery(parameters: unknown): string | undefined {
  if (parameters === undefined || parameters === null) return '';
  if (typeof parameters !== 'object' || Array.isArray(parameters)) return undefined;
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(parameters)) {
    for (const item of Array.isArray(value) ? value : [value])
      if (item !== null && item !== undefined) query.append(key, String(item));
  }
  return query.toString();
}

export function mwaaControlPlane(state: MwaaState): Handler {
  return async (req, res) => {
    const route = ROUTE.exec(requestUrl(req).pathname);
    state.hit(route?.[1] ?? 'unknown');
    const body = await readBody(req);
    const failure = await verifySigV4(
      { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body },
      { credentials: state.credentials, region: state.region, service: 'airflow', maxSkewMs: MAX_SKEW_MS },
    );
    if (failure) return awsError(res, failure.status, failure.type, failure.message);
    if (!route || req.method !== 'POST')
      return awsError(res, 404, 'UnknownOperationException', 'The requested operation does not exist.');
    const [, operation, rawName = ''] = route;
    const name = decodeURIComponent(rawName);
    if (!ENVIRONMENT_NAME.test(name))
      return awsError(
        res,
        400,
        'ValidationException',
        'Name must match ^[a-zA-Z][0-9a-zA-Z-_]*$ (1-80 chars).',
      );
    const ok = { 'x-amzn-requestid': requestId() };

    if (operation === 'restapi' && state.restApi === 'denied') {
      const role = `arn:aws:airflow:${state.region}:${ACCOUNT}:role/${name}/Admin`;
      return awsError(
        res,
        403,
        'AccessDeniedException',
        `User: arn:aws:iam::${ACCOUNT}:user/airkick-emulator is not authorized to perform: airflow:InvokeRestApi on resource: ${role} (the Airflow role of the environment) because no identity-based policy allows the airflow:InvokeRestApi action`,
      );
    }
    if (name !== state.environmentName)
      return awsError(res, 404, 'ResourceNotFoundException', `Environment ${name} does not exist.`);

    if (operation === 'clitoken') {
      const { token } = state.cliTokens.issue(name);
      return sendJson(res, 200, { CliToken: token, WebServerHostname: state.webServerHostname }, ok);
    }
    if (operation === 'webtoken') {
      const { token } = state.webTokens.issue(name);
      return sendJson(
        res,
        200,
        {
          WebToken: token,
          WebServerHostname: state.webServerHostname,
          IamIdentity: 'user/airkick-emulator',
          AirflowIdentity: 'airkick-emulator',
        },
        ok,
      );
    }

    let input: { Method?: unknown; Path?: unknown; QueryParameters?: unknown; Body?: unknown };
    try {
      input = JSON.parse(body.toString('utf8') || '{}') as typeof input;
    } catch {
      return awsError(res, 400, 'ValidationException', 'The request body is not valid JSON.');
    }
    const query = toQuery(input.QueryParameters);
    if (typeof input.Method !== 'string' || !METHODS.has(input.Method))
      return awsError(
        res,
        400,
        'ValidationException',
        'Method must be one of GET, PUT, POST, PATCH, DELETE.',
      );
    if (typeof input.Path !== 'string' || !input.Path.startsWith('/') || input.Path.length > 2048)
      return awsError(
        res,
        400,
        'ValidationException',
        'Path must be an Airflow REST API path starting with /.',
      );
    if (query === undefined)
      return awsError(res, 400, 'ValidationException', 'QueryParameters must be an object.');

    const answer = await callAirflowApi(state.airflow, {
      method: input.Method,
      path: input.Path,
      query,
      ...(input.Body === undefined ? {} : { body: Buffer.from(JSON.stringify(input.Body)) }),
    });
    const response = { RestApiStatusCode: answer.status, RestApiResponse: parseJson(answer.body) };
    if (answer.status >= 500)
      return awsError(
        res,
        400,
        'RestApiServerException',
        'The Airflow REST API returned a server error.',
        response,
      );
    if (answer.status >= 400)
      return awsError(
        res,
        400,
        'RestApiClientException',
        'The Airflow REST API returned a client error.',
        response,
      );
    return sendJson(res, 200, response, ok);
  };
}
