/**
 * How the AWS SDKs read and classify a restJson1 error, applied to the answers of the calls airkick
 * signs itself (InvokeRestApi) and to the SDK's own exceptions (the token calls), so both map alike.
 */
import { AirkickError, type ErrorCode } from '#lib/errors.ts';

/**
 * The error type as botocore's and smithy's restJson1 parsers read it: the `x-amzn-errortype` header,
 * else the body's `code`, else its `__type`; without the `:<uri>` suffix and the `namespace#` prefix.
 */
export function awsErrorType(header: string | null | undefined, body: unknown): string {
  const fields = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const raw = header || stringField(fields.code) || stringField(fields.__type) || '';
  const name = raw.split(':')[0] ?? '';
  return name.slice(name.lastIndexOf('#') + 1);
}

const stringField = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** The throttling codes botocore's standard retry mode retries (`botocore/retries/standard.py`). */
const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);

export interface ControlPlaneFailure {
  operation: string;
  /** The environment as the user named it, e.g. `mwaa://etl?region=us-east-1`. */
  environment: string;
  type: string;
  status: number | undefined;
  message: string;
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * Classifies an MWAA control-plane failure. A missing environment is a configuration error (wrong name
 * or region), never the NOT_FOUND of an Airflow object; throttling and internal errors are retried,
 * as the SDKs do.
 */
export function controlPlaneError(failure: ControlPlaneFailure): AirkickError {
  const { operation, environment, type, status, message } = failure;
  const detail = `${operation} failed: ${type || `HTTP ${status ?? '?'}`}${message ? `: ${message}` : ''}`;
  const init = {
    ...(status === undefined ? {} : { status }),
    ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
    ...(failure.cause === undefined ? {} : { cause: failure.cause }),
  };
  if (type === 'ResourceNotFoundException') {
    return new AirkickError(
      'CONFIG',
      `${detail} (the MWAA environment ${environment} does not exist: check its name and region)`,
      init,
    );
  }
  let code: ErrorCode;
  let retryable = false;
  if (THROTTLING.has(type) || status === 429) {
    code = 'RATE_LIMITED';
    retryable = true;
  } else if (type === 'AccessDeniedException' || status === 401 || status === 403) code = 'AUTH';
  else if (type === 'ValidationException') code = 'BAD_REQUEST';
  else if (type === 'InternalServerException' || status === undefined || status >= 500) {
    code = status === 504 ? 'TIMEOUT' : status === undefined ? 'TRANSPORT' : 'SERVER';
    retryable = true;
  } else code = 'BAD_REQUEST';
  return new AirkickError(code, detail, { ...init, retryable });
}
