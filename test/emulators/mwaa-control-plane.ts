import type { ServerResponse } from 'node:http';
import { recordRequest } from './faults.ts';
import { type Handler, readBody, requestId, requestUrl, sendJson } from './http.ts';
import { airflowRoleDeniedMessage, type MwaaFault, type MwaaOperation, type MwaaState } from './mwaa.ts';
import { callAirflowApi } from './passthrough.ts';
import { verifySigV4 } from './sigv4.ts';

const ROUTE = /^\/(clitoken|webtoken|restapi)\/([^/]+)$/;
/** AWS's default clock-skew allowance for SigV4. */
const MAX_SKEW_MS = 5 * 60_000;
/** The service's Smithy namespace, as a `__type` prefix. */
const NAMESPACE = 'com.amazonaws.mwaa';

/** Constraints of the service model (botocore `mwaa/2020-07-01`): `EnvironmentName`, `RestApiPath`, `RestApiMethod`. */
const NAME_PATTERN = '[a-zA-Z][0-9a-zA-Z-_]*';
const NAME = /^[a-zA-Z][0-9a-zA-Z_-]*$/;
const NAME_MAX = 80;
const PATH_MIN = 1;
const PATH_MAX = 64;
const METHODS = ['GET', 'PUT', 'POST', 'PATCH', 'DELETE'];

const DEFAULT_MESSAGES: Record<string, string> = {
  ResourceNotFoundException: 'The requested environment was not found.',
  AccessDeniedException: 'You do not have sufficient access to perform this action.',
  ValidationException: 'The input fails to satisfy the constraints specified by the service.',
  InternalServerException: 'An internal error has occurred.',
  ThrottlingException: 'Rate exceeded',
  RestApiClientException: 'The Airflow REST API returned a client error.',
  RestApiServerException: 'The Airflow REST API returned a server error.',
};

/**
 * restJson1 error. The model gives AccessDeniedException a `Message` member and every other error
 * `message`; the type travels in `x-amzn-errortype` unless a fault asks for a body field instead.
 */
function awsError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  options: Pick<MwaaFault, 'typeIn' | 'extra' | 'retryAfterSeconds'> = {},
): void {
  const headers: Record<string, string> = { 'x-amzn-requestid': requestId() };
  const body: Record<string, unknown> = type === 'AccessDeniedException' ? { Message: message } : { message };
  switch (options.typeIn ?? 'header') {
    case 'header':
      headers['x-amzn-errortype'] = type;
      break;
    case 'body-type':
      body.__type = type;
      break;
    case 'body-type-namespaced':
      body.__type = `${NAMESPACE}#${type}`;
      break;
    case 'body-code':
      body.code = type;
      break;
  }
  if (options.retryAfterSeconds !== undefined) headers['retry-after'] = String(options.retryAfterSeconds);
  sendJson(res, status, { ...body, ...options.extra }, headers);
}

/**
 * The member-validation text of AWS's service framework ("1 validation error detected: Value 'x' at
 * 'path' failed to satisfy constraint: ..."), as other AWS services answer it; MWAA documents only
 * the error type, not the wording.
 */
function validationMessage(violations: string[]): string {
  const n = violations.length;
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${violations.join('; ')}`;
}

const valueText = (value: string | undefined) => (value === undefined ? 'null' : `'${value}'`);

function lengthViolations(member: string, value: string | undefined, min: number, max: number): string[] {
  const at = `Value ${valueText(value)} at '${member}' failed to satisfy constraint: Member must`;
  if (value === undefined) return [`${at} not be null`];
  if (value.length < min) return [`${at} have length greater than or equal to ${min}`];
  if (value.length > max) return [`${at} have length less than or equal to ${max}`];
  return [];
}

function nameViolations(name: string): string[] {
  const violations = lengthViolations('name', name, 1, NAME_MAX);
  if (name.length > 0 && !NAME.test(name))
    violations.push(
      `Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ${NAME_PATTERN}`,
    );
  return violations;
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return body.toString('utf8');
  }
}

/**
 * `QueryParameters` is a JSON document in the model; how MWAA turns it into Airflow's query string is
 * not documented. Assumed here: scalars as their string form, arrays as repeated keys, `null` dropped,
 * and anything else (a non-object document, nested objects) refused as a ValidationException.
 */
function toQuery(parameters: unknown): string | undefined {
  if (parameters === undefined || parameters === null) return '';
  if (typeof parameters !== 'object' || Array.isArray(parameters)) return undefined;
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(parameters)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === null || item === undefined) continue;
      if (typeof item === 'object') return undefined;
      query.append(key, String(item));
    }
  }
  return query.toString();
}

interface RestApiInput {
  Method?: unknown;
  Path?: unknown;
  QueryParameters?: unknown;
  Body?: unknown;
}

export function mwaaControlPlane(state: MwaaState): Handler {
  return async (req, res) => {
    const route = ROUTE.exec(requestUrl(req).pathname);
    state.hit(route?.[1] ?? 'unknown');
    const body = await readBody(req);
    state.recorded?.push(recordRequest(route?.[1] ?? 'unknown', req, body));
    const failure = await verifySigV4(
      { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body },
      { credentials: state.credentials, region: state.region, service: 'airflow', maxSkewMs: MAX_SKEW_MS },
    );
    if (failure) return awsError(res, failure.status, failure.type, failure.message);
    if (!route || req.method !== 'POST')
      return awsError(res, 404, 'UnknownOperationException', 'The requested operation does not exist.');
    const operation = route[1] as MwaaOperation;
    const name = decodeURIComponent(route[2] ?? '');

    const fault = state.faults.take(operation);
    if (fault)
      return awsError(
        res,
        fault.status,
        fault.type,
        fault.message ?? DEFAULT_MESSAGES[fault.type] ?? fault.type,
        fault,
      );

    const invalidName = nameViolations(name);
    if (invalidName.length > 0)
      return awsError(res, 400, 'ValidationException', validationMessage(invalidName));
    const ok = { 'x-amzn-requestid': requestId() };

    if (operation === 'restapi' && state.restApi === 'denied')
      return awsError(res, 403, 'AccessDeniedException', airflowRoleDeniedMessage(state.region, name));
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

    // A body that is not a JSON object, or members of the wrong JSON type, never passes an AWS SDK's
    // serializer; SerializationException is what AWS's JSON front ends answer, MWAA does not model it.
    let input: RestApiInput;
    try {
      input = JSON.parse(body.toString('utf8') || '{}') as RestApiInput;
    } catch {
      return awsError(res, 400, 'SerializationException', 'The request body is not valid JSON.');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      return awsError(res, 400, 'SerializationException', 'The request body must be a JSON object.');
    const { Method: method, Path: path } = input;
    if (
      (method !== undefined && typeof method !== 'string') ||
      (path !== undefined && typeof path !== 'string')
    )
      return awsError(res, 400, 'SerializationException', 'Method and Path must be JSON strings.');

    const violations = [
      ...lengthViolations('path', path, PATH_MIN, PATH_MAX),
      ...(method === undefined
        ? [`Value null at 'method' failed to satisfy constraint: Member must not be null`]
        : METHODS.includes(method)
          ? []
          : [
              `Value '${method}' at 'method' failed to satisfy constraint: Member must satisfy enum value set: [${METHODS.join(', ')}]`,
            ]),
    ];
    if (violations.length > 0)
      return awsError(res, 400, 'ValidationException', validationMessage(violations));
    // The model only bounds the length; the leading `/` is the emulator's requirement (the documented
    // examples all start with one, and the path is appended to the API root).
    if (!(path as string).startsWith('/'))
      return awsError(
        res,
        400,
        'ValidationException',
        'Path must be an Airflow REST API path starting with /.',
      );
    const query = toQuery(input.QueryParameters);
    if (query === undefined)
      return awsError(
        res,
        400,
        'ValidationException',
        'QueryParameters must be a JSON object of scalar or array values.',
      );

    const answer = await callAirflowApi(state.airflow, {
      method: method as string,
      path: path as string,
      query,
      ...(input.Body === undefined ? {} : { body: Buffer.from(JSON.stringify(input.Body)) }),
    });
    const response = { RestApiStatusCode: answer.status, RestApiResponse: parseJson(answer.body) };
    if (answer.status >= 500)
      return awsError(res, 400, 'RestApiServerException', DEFAULT_MESSAGES.RestApiServerException as string, {
        extra: response,
      });
    if (answer.status >= 400)
      return awsError(res, 400, 'RestApiClientException', DEFAULT_MESSAGES.RestApiClientException as string, {
        extra: response,
      });
    return sendJson(res, 200, response, ok);
  };
}
