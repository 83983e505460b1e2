/** `airkick <command> ...`: dispatch, help, and the one place errors become an exit code. */
import { airflowCli } from '#cli/commands/airflow-cli.ts';
import { assetEvent, assetEvents } from '#cli/commands/asset-events.ts';
import { clean } from '#cli/commands/clean.ts';
import type { Command } from '#cli/commands/command.ts';
import { health } from '#cli/commands/health.ts';
import { invoke } from '#cli/commands/invoke.ts';
import { runs } from '#cli/commands/runs.ts';
import { trigger } from '#cli/commands/trigger.ts';
import { EXIT, type ExitCode, exitCodeFor, formatError, UsageError } from '#cli/exit.ts';
import type { Io } from '#cli/output.ts';

export const COMMANDS: readonly Command[] = [
  trigger,
  runs,
  health,
  assetEvent,
  assetEvents,
  airflowCli,
  clean,
  invoke,
];

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: airkick <command> [options]

Operate Apache Airflow on Amazon MWAA, Alibaba Cloud DMS or self-hosted.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "airkick <command> --help" for a command's options.

Environment: --env or AIRKICK_ENV (mwaa://NAME?region=R, dms://AIRFLOW_ID?region=R,
http(s)://user@host with the password in the URL or AIRKICK_AIRFLOW_PASSWORD).

Exit codes: 0 ok, 1 unhealthy or failed run, 2 usage error, 3 configuration or
authentication, 4 not found, 5 transport, timeout or server error.`;
}

export async function main(argv: string[], io: Io): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(`${mainHelp()}\n`);
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`${formatError(new UsageError(`unknown command "${name}"`))}\n\n${mainHelp()}\n`);
    return EXIT.USAGE;
  }
  // Before `--` only: after it, -h belongs to the Airflow command.
  const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (own.includes('--help') || own.includes('-h')) {
    io.stdout.write(`${command.help}\n`);
    return EXIT.OK;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    io.stderr.write(`${formatError(error)}\n`);
    if (error instanceof UsageError) io.stderr.write(`Run "airkick ${command.name} --help" for usage.\n`);
    return exitCodeFor(error);
  }
}
