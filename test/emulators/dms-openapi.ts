import { verifyAcs3 } from './acs3.ts';
import type { DmsState } from './dms.ts';
import { type Handler, readBody, requestId, requestUrl, sendJson } from './http.ts';

const ACTION = 'CreateAirflowLoginToken';
const VERSION = '2025-04-14';

/** Alibaba Cloud's gateway error shape; the client turns `Code` into the thrown error's code. */
function popError(res: Parameters<Handler>[1], status: number, code: string, message: string): void {
  sendJson(res, status, { RequestId: requestId(), HostId: 'dms.aliyuncs.com', Code: code, Message: message });
}

/** The OpenAPI (RPC style) endpoint; only CreateAirflowLoginToken exists. */
export function dmsOpenApi(state: DmsState): Handler {
  return async (req, res) => {
    state.hit('token');
    const body = await readBody(req);
    const failure = verifyAcs3(
      { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body },
      state.credentials,
      state.nonces,
    );
    if (failure) return popError(res, failure.status, failure.type, failure.message);
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

    const form = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
      ? new URLSearchParams(body.toString('utf8'))
      : new URLSearchParams();
    const airflowId = url.searchParams.get('AirflowId') ?? form.get('AirflowId');
    if (!airflowId) return popError(res, 400, 'MissingAirflowId', 'AirflowId is mandatory for this action.');
    if (airflowId !== state.airflowId)
      return sendJson(res, 404, {
        RequestId: requestId(),
        HttpStatusCode: 404,
        Success: false,
        Code: 'InvalidAirflowId.NotFound',
        ErrorCode: 'InvalidAirflowId.NotFound',
        Message: 'The specified Airflow instance does not exist.',
      });
    const { token } = state.loginTokens.issue(airflowId);
    sendJson(res, 200, {
      RequestId: requestId(),
      HttpStatusCode: 200,
      Success: true,
      Message: 'Successful',
      ErrorCode: 'Success',
      Code: '200',
      Data: { Token: token, Host: state.host },
    });
  };
}
