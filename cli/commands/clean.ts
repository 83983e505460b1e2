import { COMMON_OPTIONS, parse, parseList, parseRetention, parseTimeout } from '#cli/args.ts';
import { COMMON_HELP, type Command } from '#cli/commands/command.ts';
import { connect } from '#cli/connect.ts';
import { EXIT, UsageError } from '#cli/exit.ts';
import { Output } from '#cli/output.ts';
import { AirkickError } from '#lib/errors.ts';
import { cleanArgs, readCleanOutput } from '#lib/jobs/clean.ts';

/** The same floor as the db-clean function's default: a typo must not wipe last week's history. */
const MIN_RETENTION_DAYS = 7;

export const clean: Command = {
  name: 'clean',
  summary: 'airflow db clean, as the db-clean function runs it',
  help: `Usage: airkick clean --retention 30d [--dry-run] [--tables a,b] [--skip-archive] [--force]

Deletes metadata older than the retention through the CLI endpoint (MWAA, DMS) with the
arguments the db-clean function uses, and reports the rows per table.

Options:
  --retention DUR  keep this much history: 30d, 12h, 2w (required)
  --dry-run        report what would be deleted, delete nothing
  --tables LIST    only these tables (comma-separated)
  --skip-archive   do not keep archive tables of the deleted rows
  --force          allow a retention below ${MIN_RETENTION_DAYS} days
${COMMON_HELP}

Exit: 0 done, 3 retention below the floor without --force, 5 transport.`,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...COMMON_OPTIONS,
      retention: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      tables: { type: 'string' },
      'skip-archive': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.retention === undefined) throw new UsageError('--retention is required, e.g. --retention 30d');
    const retentionDays = parseRetention(values.retention);
    if (retentionDays < MIN_RETENTION_DAYS && !values.force) {
      throw new AirkickError(
        'CONFIG',
        `refusing to clean with a retention of ${retentionDays} days, below the floor of ${MIN_RETENTION_DAYS} days; add --force to override`,
      );
    }
    const config = {
      tables: values.tables === undefined ? [] : parseList(values.tables, '--tables'),
      dryRun: values['dry-run'],
      skipArchive: values['skip-archive'],
    };
    const cleanBefore = new Date(Date.now() - retentionDays * 86_400_000);
    const out = new Output(io, values.json);
    const client = await connect(values.env, io.env);
    const result = await out.spin(
      config.dryRun ? 'airflow db clean --dry-run' : 'airflow db clean',
      client.runCli(
        cleanArgs(
          { ...config, retentionDays, minRetentionDays: 0, force: false, dropArchives: false },
          cleanBefore,
        ),
        {
          deadline: Date.now() + parseTimeout(values.timeout, 900),
        },
      ),
    );
    const output = `${result.stdout}\n${result.stderr}`;
    const { tables, total } = readCleanOutput(output);
    const summary = { cleanBefore: cleanBefore.toISOString(), dryRun: config.dryRun, tables, total };
    if (values.json) {
      out.printJson(summary);
      return EXIT.OK;
    }
    out.table(
      ['TABLE', config.dryRun ? 'ROWS TO DELETE' : 'ROWS DELETED'],
      Object.entries(tables).map(([table, rows]) => [table, String(rows)]),
    );
    out.line();
    out.line(
      `${config.dryRun ? 'dry run: would delete' : 'deleted'} ${total} row(s) older than ${summary.cleanBefore}`,
    );
    return EXIT.OK;
  },
};
