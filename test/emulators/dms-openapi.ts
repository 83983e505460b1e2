import { verifyAcs3 } from './acs3.ts';
import type { DmsFault, DmsState } from './dms.ts';
import { recordRequest } from './faults.ts';
import { type Handler, readBody, requestId, requestUrl, sendJson } from './http.ts';

const ACTION = 'CreateAirflowLoginToken';
const VERSION = '2025-04-14';

const DEFAULT_MESSAGES: Record<string, string> = {
  'Throttling.User': 'Request was denied due to user flow control.',
  Throttling: 'Request was denied due to request throttling.',
  'Throttling.Api': 'Request was denied due to api flow control.',
  InternalError: 'The request processing has failed due to some unknown error.',
  ServiceUnavailable: 'The request has failed due to a temporary failure of the server.',
};

/**
 * The OpenAPI gateway's documented error body for RPC-style APIs; the SDKs turn `Code` into the
 * raised error's code. `Recommend` is the troubleshooting link real answers carry.
 */
function popError(
  res: Parameters<Handler>[1],
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(
    res,
    status,
    {
      RequestId: requestId(),
      HostId: 'dms.aliyuncs.com',
      Code: code,
      Message: message,
      Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=Dms`,
    },
    headers,
  );
}

/**
 * Not documented for DMS: the product-level error answer, shaped after the response model of
 * `alibabacloud-dms20250414` (`Success`, `Code`, `ErrorCode`, `Message`, `HttpStatusCode`).
 */
function productError(
  res: Parameters<Handler>[1],
  httpStatus: number,
  fault: DmsFault,
  message: string,
): void {
  sendJson(res, httpStatus, {
    RequestId: requestId(),
    HttpStatusCode: fault.status,
    Success: false,
    Code: fault.code,
    ErrorCode: fault.code,
    Message: message,
  });
}

function answerFault(res: Parameters<Handler>[1], fault: DmsFault): void {
  const message = fault.message ?? DEFAULT_MESSAGES[fault.code] ?? fault.code;
  if (fault.successFalse) {
    productError(res, 200, fault, message);
    return;
  }
  const headers: Record<string, string> =
    fault.retryAfterSeconds === undefined
      ? {}
      : { 'x-acs-retry-after': String(Math.round(fault.retryAfterSeconds * 1000)) };
  popError(res, fault.status, fault.code, message, headers);
}

/** The OpenAPI (RPC style) endpoint; only CreateAirflowLoginToken exists. */
export function dmsOpenApi(state: DmsState): Handler {
  return async (req, res) => {
    state.hit('token');
    const body = await readBody(req);
    state.recorded?.push(recordRequest('token', req, body));
    const failure = verifyAcs3(
      { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body },
      state.credentials,
      state.nonces,
    );
    if (failure) return popError(res, failure.status, failure.type, failure.message);
    const fault = state.faults.take('token');
    if (fault) return answerFault(res, fault);
    const url = requestUrl(req);
    const action = req.headers['x-acs-action'] ?? url.searchParams.get('Action');
    if (req.method !== 'POST' || url.pathname !== '/' || action !== ACTION)
      return popError(
        res,
        404,
        'InvalidAction.NotFound',
        'Specified api is not found, please check your url and method.',
      );
    if ((req.headers['x-acs-version'] ?? url.searchParams.get('Version')) !== VERSION)
      return popError(res, 400, 'InvalidVersion', 'Specified parameter Version is not valid.');

    // RPC parameters may come in the query (as the SDKs send them) or a form body.
    const form = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
      ? new URLSearchParams(body.toString('utf8'))
      : new URLSearchParams();
    const airflowId = url.searchParams.get('AirflowId') ?? form.get('AirflowId');
    if (!airflowId) return popError(res, 400, 'MissingAirflowId', 'AirflowId is mandatory for this action.');
    // Not documented: the code and the HTTP status of an unknown AirflowId.
    if (airflowId !== state.airflowId)
      return productError(
        res,
        404,
        { status: 404, code: 'InvalidAirflowId.NotFound' },
        'The specified Airflow instance does not exist.',
      );
    const { token } = state.loginTokens.issue(airflowId);
    // The SDK's model: `Code` 200 on success, `ErrorCode` "is not returned" unless the request fails.
    sendJson(res, 200, {
      RequestId: requestId(),
      HttpStatusCode: 200,
      Success: true,
      Message: 'Successful',
      Code: '200',
      Data: { Token: token, Host: state.host },
    });
  };
}
