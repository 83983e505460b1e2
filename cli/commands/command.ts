import type { ExitCode } from '#cli/exit.ts';
import type { Io } from '#cli/output.ts';

/** One `airkick <name>` command: its help text and what it does with the rest of the line. */
export interface Command {
  name: string;
  summary: string;
  /** The full `--help` text. */
  help: string;
  run(args: string[], io: Io): Promise<ExitCode>;
}

export const COMMON_HELP = `Common options:
  --env ENV        mwaa://NAME?region=R, dms://AIRFLOW_ID?region=R or http(s)://user@host
                   (default: $AIRKICK_ENV; self-hosted password: in the URL or $AIRKICK_AIRFLOW_PASSWORD)
  --json           machine-readable output on stdout
  --timeout SECS   give up after this long
  -h, --help       this help`;
