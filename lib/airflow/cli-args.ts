/**
 * Builds the command line the MWAA and DMS CLI gateways split shell-style (POSIX `shlex`).
 * Every argument becomes exactly one word: quoting leaves nothing for the splitter to interpret,
 * so `$()`, `;`, quotes or newlines in a conf are data, never a new argument or command.
 */
import { AirkickError } from '#lib/errors.ts';

const BARE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new AirkickError('BAD_REQUEST', 'a CLI argument contains a NUL character');
  if (BARE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'"'"'`)}'`;
}

/** `['dags', 'trigger', 'x', '--conf', '{"a":"it\'s"}']` -> one command string without `airflow`. */
export function buildCommand(args: readonly string[]): string {
  if (args.length === 0) throw new AirkickError('BAD_REQUEST', 'a CLI command needs at least one argument');
  if (args[0] === 'airflow') {
    throw new AirkickError('BAD_REQUEST', 'give the CLI command without the leading "airflow"');
  }
  return args.map(quoteArg).join(' ');
}

/** Reads the JSON that `-o json` prints, skipping any log lines Airflow wrote before it. */
export function parseCliJson<T = unknown>(stdout: string): T {
  const lines = stdout.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').trim();
    if (line.startsWith('[') || line.startsWith('{')) {
      try {
        return JSON.parse(lines.slice(i).join('\n')) as T;
      } catch {
        // a log line that happens to start with a bracket; keep looking upwards
      }
    }
  }
  throw new AirkickError('SERVER', `the CLI printed no JSON: ${stdout.slice(0, 200)}`);
}
