/**
 * The one error type airkick throws. Branch on `code`, never on the message.
 * Messages name the operation, method and URL, never a token or secret.
 */
export type ErrorCode =
  | 'AUTH'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'UNSUPPORTED_COMMAND'
  | 'TIMEOUT'
  | 'TRANSPORT'
  | 'CONFIG'
  | 'BAD_REQUEST'
  | 'REDIRECT'
  | 'SERVER';

export type Fault = 'client' | 'server';

export interface ErrorInit {
  fault?: Fault;
  method?: string;
  url?: string;
  status?: number;
  /** Safe to retry the same request (network failure, 429, 502/503/504). */
  retryable?: boolean;
  /** Server-suggested wait before a retry, in ms. */
  retryAfterMs?: number;
  cause?: unknown;
}

const DEFAULT_FAULT: Record<ErrorCode, Fault> = {
  AUTH: 'client',
  NOT_FOUND: 'client',
  CONFLICT: 'client',
  RATE_LIMITED: 'client',
  UNSUPPORTED_COMMAND: 'client',
  TIMEOUT: 'server',
  TRANSPORT: 'server',
  CONFIG: 'client',
  BAD_REQUEST: 'client',
  REDIRECT: 'client',
  SERVER: 'server',
};

export class AirkickError extends Error {
  override readonly name = 'AirkickError';
  readonly code: ErrorCode;
  readonly fault: Fault;
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly status: number | undefined;
  readonly retryable: boolean;
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

  toJSON() {
    return {
      name: this.name,
      code: this.code,
      fault: this.fault,
      message: this.message,
      method: this.method,
      url: this.url,
      status: this.status,
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
]);

/** Whether retrying can never help (see {@link PERMANENT_CODES}); anything else is worth a retry. */
export function isPermanent(error: unknown): boolean {
  return error instanceof AirkickError && !error.retryable && PERMANENT_CODES.has(error.code);
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

const SECRET_PARAMS =
  /^(token|access_token|sign|signature|key|password|secret|x-amz-security-token|x-amz-signature)$/i;

/** Drops userinfo passwords and secret-bearing query parameters from a URL. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return redactSecrets(raw);
  }
  if (url.password) url.password = '***';
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_PARAMS.test(name)) url.searchParams.set(name, '***');
  }
  return redactSecrets(url.toString().replaceAll('%2A%2A%2A', '***'));
}

// Live secrets (tokens, cookies, passwords) registered by the code that holds them. Anything that
// builds a message or log line passes through `redactSecrets`, so a secret that slips into an upstream
// error text is still masked.
const liveSecrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) liveSecrets.add(value);
}

export function forgetSecret(value: string | undefined): void {
  if (value) liveSecrets.delete(value);
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of liveSecrets) {
    if (out.includes(secret)) out = out.replaceAll(secret, '***');
  }
  return out;
}
