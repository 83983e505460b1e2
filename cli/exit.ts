/**
 * What the CLI's exit codes mean, and how an error becomes one readable line with a hint.
 * Scripts branch on the code; people read the line.
 *
 *   0 ok · 1 unhealthy, failed run or failed invocation · 2 usage · 3 config or auth
 *   4 not found · 5 transport, timeout or server
 */
import { type ErrorCode, isAirkickError } from '#lib/errors.ts';
import { redactSecrets } from '#lib/secrets/redaction.ts';

export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  CONFIG: 3,
  NOT_FOUND: 4,
  TRANSPORT: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake on the command line: the command's usage is printed with it. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const EXIT_FOR_CODE: Record<ErrorCode, ExitCode> = {
  BAD_REQUEST: EXIT.USAGE,
  REDIRECT: EXIT.CONFIG,
  UNSUPPORTED_COMMAND: EXIT.USAGE,
  UNSUPPORTED: EXIT.CONFIG,
  CONFIG: EXIT.CONFIG,
  AUTH: EXIT.CONFIG,
  NOT_FOUND: EXIT.NOT_FOUND,
  CONFLICT: EXIT.FAILED,
  TRANSPORT: EXIT.TRANSPORT,
  TIMEOUT: EXIT.TRANSPORT,
  RATE_LIMITED: EXIT.TRANSPORT,
  SERVER: EXIT.TRANSPORT,
};

const HINT_FOR_CODE: Record<ErrorCode, string> = {
  BAD_REQUEST: 'Airflow rejected the request; check the arguments (see --help)',
  REDIRECT:
    'the environment URL redirects (http to https, a path prefix): point --env / AIRKICK_ENV at the URL it redirects to',
  UNSUPPORTED_COMMAND: 'this environment or gateway does not run that command; see --help',
  UNSUPPORTED: 'this Airflow version does not offer that; see the README for the versions each feature needs',
  CONFIG: 'check --env / AIRKICK_ENV: mwaa://NAME?region=R, dms://AIRFLOW_ID?region=R or http(s)://user@host',
  AUTH: "check the credentials: the password (URL or AIRKICK_AIRFLOW_PASSWORD), the AWS credential chain (AWS_PROFILE, AWS_ACCESS_KEY_ID) or ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET, and the role's permissions",
  NOT_FOUND: 'check the name: `airkick runs <dag>` needs an existing DAG id (`airkick cli -- dags list`)',
  CONFLICT: 'a run with that id exists already; pick another --run-id',
  TRANSPORT: 'is the environment reachable from here (host, port, VPN, proxy)?',
  TIMEOUT: 'the call took too long; retry, or give it more time with --timeout',
  RATE_LIMITED: 'the service is throttling; wait a little and retry',
  SERVER: 'the service failed; retry, and check its logs if it persists',
};

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError) return EXIT.USAGE;
  if (isAirkickError(error)) return EXIT_FOR_CODE[error.code];
  return EXIT.FAILED;
}

export function hintFor(error: unknown): string | undefined {
  if (error instanceof UsageError) return 'see --help';
  if (isAirkickError(error)) return HINT_FOR_CODE[error.code];
  return undefined;
}

/** `error [NOT_FOUND]: <message> (hint: ...)` on one line, secrets masked. */
export function formatError(error: unknown): string {
  const code = isAirkickError(error) ? ` [${error.code}]` : '';
  const message = redactSecrets(error instanceof Error ? error.message : String(error))
    .replace(/\s*\n\s*/g, ' ')
    .trim();
  const hint = hintFor(error);
  return `error${code}: ${message}${hint ? ` (hint: ${hint})` : ''}`;
}
