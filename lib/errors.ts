/**
 * The one error type airkick throws. Branch on `code`, never on the message.
 * Messages name the operation, method and URL, never a token or secret.
 */
import { redactSecrets, redactUrl } from '#lib/secrets/redaction.ts';

/**
 * What went wrong, the one thing to branch on. "Permanent" codes cannot be fixed by sending the same
 * request again; the others may pass on a retry (see `retryable` for whether airkick thinks so).
 * - `AUTH`: credentials missing, refused or short of a permission: HTTP 401/403, AWS `AccessDenied`,
 *   an Alibaba Cloud signature or permission code, a failed web login, no cloud keys found. Not
 *   permanent: fixing a role or password makes the retry pass.
 * - `NOT_FOUND`: Airflow has no such DAG, run or variable (HTTP 404). A missing MWAA environment or DMS
 *   instance is `CONFIG` instead. Permanent.
 * - `CONFLICT`: Airflow refused a clash (HTTP 409), typically another run of the DAG with the same
 *   logical date; a repeated run id is not an error but `alreadyTriggered`. Permanent.
 * - `RATE_LIMITED`: HTTP 429 or cloud throttling; retryable, with `retryAfterMs` when the server said.
 * - `UNSUPPORTED_COMMAND`: `runCli` where there is no CLI (self-hosted), or a command the MWAA or DMS
 *   gateway refused. Permanent.
 * - `UNSUPPORTED`: this Airflow lacks what was asked (dataset events before Airflow 2.9). Permanent.
 * - `TIMEOUT`: no answer in time: an attempt's own timeout or the call's `deadline` (retryable), HTTP
 *   408/504, the caller's `signal` (not retryable), or `waitForDagRun` reaching its deadline.
 * - `TRANSPORT`: no HTTP answer at all (connection refused or reset, DNS); retryable.
 * - `CONFIG`: fix the setup: an invalid environment string, a provider or optional peer package not
 *   installed, an MWAA environment or DMS instance that does not exist. Permanent.
 * - `BAD_REQUEST`: Airflow rejected the request (HTTP 400, 422, another 4xx), or CLI arguments airkick
 *   refuses (none, a leading `airflow`, a NUL). Permanent.
 * - `REDIRECT`: an HTTP 3xx; airkick never follows one (often a proxy or login page in front of
 *   Airflow) and names where it pointed. Permanent.
 * - `SERVER`: HTTP 5xx (502 and 503 retryable), or an answer that is not what Airflow sends (a 2xx that
 *   is not the run, a token call without a token, a server whose version cannot be told).
 */
export type ErrorCode =
  | 'AUTH'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'UNSUPPORTED_COMMAND'
  | 'UNSUPPORTED'
  | 'TIMEOUT'
  | 'TRANSPORT'
  | 'CONFIG'
  | 'BAD_REQUEST'
  | 'REDIRECT'
  | 'SERVER';

/**
 * Whose side has to change: `client` (the request, configuration or credentials) or `server` (Airflow, its
 * host or the network).
 */
export type Fault = 'client' | 'server';

/** The details an {@link AirkickError} is made with. */
export interface ErrorInit {
  /** Overrides the code's usual fault (`server` for `TIMEOUT`, `TRANSPORT` and `SERVER`, else `client`). */
  fault?: Fault;
  /** The HTTP method of the failed request. */
  method?: string;
  /** The failed request's URL; stored and printed with its password and secret query parameters masked. */
  url?: string;
  /** The HTTP status, when an answer came. */
  status?: number;
  /** Safe to retry the same request (network failure, 429, 502/503/504). */
  retryable?: boolean;
  /** Server-suggested wait before a retry, in ms. */
  retryAfterMs?: number;
  /** What it was caused by; only its names and redacted messages are kept, never the object itself. */
  cause?: unknown;
}

const DEFAULT_FAULT: Record<ErrorCode, Fault> = {
  AUTH: 'client',
  NOT_FOUND: 'client',
  CONFLICT: 'client',
  RATE_LIMITED: 'client',
  UNSUPPORTED_COMMAND: 'client',
  UNSUPPORTED: 'client',
  TIMEOUT: 'server',
  TRANSPORT: 'server',
  CONFIG: 'client',
  BAD_REQUEST: 'client',
  REDIRECT: 'client',
  SERVER: 'server',
};

/**
 * The one error type airkick throws. Branch on `code`, never on the message. Messages name the
 * operation, method and URL, never a token, cookie, password or signature: live secrets are masked in
 * the message, the URL and the kept cause. By the time a client call throws, it has already retried what
 * was worth retrying.
 *
 * @example
 * ```ts
 * import { isAirkickError } from 'airkick';
 *
 * try {
 *   await airflow.triggerDagRun({ dagId: 'daily_report', runId: `report-${day}` });
 * } catch (error) {
 *   if (!isAirkickError(error)) throw error;
 *   switch (error.code) {
 *     case 'NOT_FOUND':
 *     case 'CONFIG':
 *       console.error('fix the DAG id or the environment:', error.message);
 *       return; // permanent: a redelivery would fail alike
 *     case 'AUTH':
 *       console.error('check the credentials and the role:', error.message);
 *       throw error;
 *     default:
 *       // Safe to log: no secrets. Retryable ones (TIMEOUT, RATE_LIMITED...) may pass on a redelivery.
 *       console.error(JSON.stringify(error));
 *       throw error;
 *   }
 * }
 * ```
 */
export class AirkickError extends Error {
  /** Always `AirkickError`. */
  override readonly name = 'AirkickError';
  /** What went wrong; see {@link ErrorCode}. */
  readonly code: ErrorCode;
  /** Whose side has to change. */
  readonly fault: Fault;
  /** The HTTP method of the failed request, when there was one. */
  readonly method: string | undefined;
  /** The failed request's URL (or the environment and API path), secrets masked. */
  readonly url: string | undefined;
  /** The HTTP status, when an answer came. */
  readonly status: number | undefined;
  /** Safe to retry the same request (network failure, 429, 502/503/504, throttling). */
  readonly retryable: boolean;
  /** Server-suggested wait before a retry, in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, init: ErrorInit = {}) {
    const where = init.method && init.url ? ` (${init.method} ${redactUrl(init.url)})` : '';
    super(
      redactSecrets(`${message}${where}`),
      init.cause === undefined ? undefined : { cause: sanitiseCause(init.cause) },
    );
    this.code = code;
    this.fault = init.fault ?? DEFAULT_FAULT[code];
    this.method = init.method;
    this.url = init.url === undefined ? undefined : redactUrl(init.url);
    this.status = init.status;
    this.retryable = init.retryable ?? false;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** What `JSON.stringify` and loggers print: the fields that explain the failure, without cause or stack. */
  toJSON() {
    return {
      /** Always `AirkickError`. */
      name: this.name,
      /** What went wrong. */
      code: this.code,
      /** Whose side has to change. */
      fault: this.fault,
      /** The redacted message. */
      message: this.message,
      /** The HTTP method, when there was a request. */
      method: this.method,
      /** The request's URL, secrets masked. */
      url: this.url,
      /** The HTTP status, when an answer came. */
      status: this.status,
      /** Whether airkick thinks the same request may pass on a retry. */
      retryable: this.retryable,
    };
  }
}

/**
 * What an error keeps of its cause: names and redacted messages, a few levels deep. Never the cause
 * itself: an SDK error holds the raw response, a Tea error the signed request (`lastRequest`), and a
 * logger serialises whatever it is given.
 */
function sanitiseCause(cause: unknown, depth = 0): unknown {
  if (cause instanceof AirkickError) return cause;
  if (!(cause instanceof Error)) return redactSecrets(String(cause)).slice(0, 500);
  const inner = depth < 3 && cause.cause !== undefined ? sanitiseCause(cause.cause, depth + 1) : undefined;
  const safe = new Error(
    redactSecrets(cause.message).slice(0, 500),
    inner === undefined ? undefined : { cause: inner },
  );
  safe.name = cause.name;
  // The stack would point here, not where it failed; the message is what helps.
  safe.stack = `${safe.name}: ${safe.message}`;
  return safe;
}

/** Whether `error` is an {@link AirkickError}, and of `code` when one is given. */
export function isAirkickError(error: unknown, code?: ErrorCode): error is AirkickError {
  return error instanceof AirkickError && (code === undefined || error.code === code);
}

/**
 * Maps an HTTP status to an error code; `undefined` for success (2xx). A redirect is an error: airkick
 * never follows one (a protocol step that expects a 302, like DMS's login, reads it itself), since a
 * followed or ignored redirect can turn a trigger into a "success" that created nothing.
 */
export function codeForStatus(status: number): ErrorCode | undefined {
  if (status < 300) return undefined;
  if (status < 400) return 'REDIRECT';
  if (status === 401 || status === 403) return 'AUTH';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 408 || status === 504) return 'TIMEOUT';
  if (status >= 500) return 'SERVER';
  return 'BAD_REQUEST';
}

/**
 * Failures no repeat of the same request can fix: the request, the DAG or the configuration has to
 * change first. AUTH is not among them: a role or password an operator fixes makes the retry succeed.
 */
const PERMANENT_CODES: ReadonlySet<ErrorCode> = new Set([
  'BAD_REQUEST',
  'NOT_FOUND',
  'CONFLICT',
  'CONFIG',
  'REDIRECT',
  'UNSUPPORTED_COMMAND',
  'UNSUPPORTED',
]);

/** Whether retrying can never help (see {@link PERMANENT_CODES}); anything else is worth a retry. */
export function isPermanent(error: unknown): boolean {
  return error instanceof AirkickError && !error.retryable && PERMANENT_CODES.has(error.code);
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}
