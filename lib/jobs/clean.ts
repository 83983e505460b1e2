/**
 * db-clean: `airflow db clean` through the environment's CLI endpoint (MWAA, DMS), with a retention
 * floor so a typo cannot wipe recent history.
 */
import type { CleanConfig } from '#lib/config.ts';
import { AirkickError } from '#lib/errors.ts';
import { airflowBound, countAlertFailures, type JobContext, jobBound } from '#lib/jobs/context.ts';

export interface CleanSummary {
  cleanBefore: string;
  dryRun: boolean;
  /** Rows per table that met the criteria: deleted, or that a dry run would delete. */
  tables: Record<string, number>;
  total: number;
  /** Rows deleted: `total` of a run that finished every table, 0 for a dry run. */
  deleted: number;
  archivesDropped: boolean;
}

/** Pure: the argument array for `airflow db clean`. */
export function cleanArgs(config: CleanConfig, cleanBefore: Date): string[] {
  const args = ['db', 'clean', '--clean-before-timestamp', cleanBefore.toISOString(), '--yes'];
  if (config.tables.length > 0) args.push('--tables', config.tables.join(','));
  if (config.dryRun) args.push('--dry-run');
  if (config.skipArchive) args.push('--skip-archive');
  return args;
}

export interface CleanReport {
  /** Rows per table that met the deletion criteria (deleted, or that would be in a dry run). */
  tables: Record<string, number>;
  /** What went wrong, when the output shows a traceback or an error line; empty when it did not. */
  errors: string[];
}

const FAILURE = /^(Traceback \(most recent call last\)|[\w.]*(Error|Exception): |ERROR\b|.*\bERROR - )/;

/**
 * Pure: `Checking table x` / `Found N rows meeting deletion criteria.` pairs from the CLI's output,
 * and the errors it printed. The CLI endpoints of MWAA and DMS return output, not an exit status,
 * so a traceback or error line after some tables is how a failed clean shows; the tables it had
 * not finished do not count as cleaned.
 */
export function parseCleanOutput(output: string): CleanReport {
  const tables: Record<string, number> = {};
  const errors: string[] = [];
  let current: string | undefined;
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    const table = /^Checking table (\S+)/.exec(line);
    if (table) current = table[1];
    const found = /^Found (\d+) rows? meeting deletion criteria/.exec(line);
    if (found && current) tables[current] = Number(found[1]);
    if (FAILURE.test(line) && !/^\s*warnings\.warn/.test(line) && !/Warning: /.test(line)) {
      errors.push(current ? `${line.slice(0, 300)} (at table ${current})` : line.slice(0, 300));
      if (current) delete tables[current];
    }
  }
  return { tables, errors };
}

/** The per-table report of a finished `db clean`; a traceback, an error line or no report is a failure. */
export function readCleanOutput(output: string): { tables: Record<string, number>; total: number } {
  const { tables, errors } = parseCleanOutput(output);
  const names = Object.keys(tables);
  if (errors.length > 0) {
    throw new AirkickError(
      'SERVER',
      `db clean failed after ${names.length} table(s) (${names.join(', ') || 'none'}): ${errors.slice(0, 3).join('; ')}`,
    );
  }
  if (names.length === 0) {
    throw new AirkickError('SERVER', `db clean printed no table report: ${output.trim().slice(-500)}`);
  }
  return { tables, total: Object.values(tables).reduce((a, b) => a + b, 0) };
}

export async function cleanMetadata(config: CleanConfig, ctx: JobContext): Promise<CleanSummary> {
  if (config.retentionDays < config.minRetentionDays && !config.force) {
    throw new AirkickError(
      'CONFIG',
      `refusing to clean with a retention of ${config.retentionDays} days, below the floor of ${config.minRetentionDays} days; set AIRKICK_CLEAN_FORCE=true to override`,
    );
  }
  const cleanBefore = new Date(ctx.now().getTime() - config.retentionDays * 86_400_000);
  try {
    const result = await ctx.client.runCli(cleanArgs(config, cleanBefore), airflowBound(ctx));
    const output = `${result.stdout}\n${result.stderr}`;
    const { tables, total } = readCleanOutput(output);
    let archivesDropped = false;
    if (config.dropArchives && !config.dryRun) {
      await ctx.client.runCli(['db', 'drop-archived', '--yes'], airflowBound(ctx));
      archivesDropped = true;
    }
    const summary = {
      cleanBefore: cleanBefore.toISOString(),
      dryRun: config.dryRun,
      tables,
      total,
      deleted: config.dryRun ? 0 : total,
      archivesDropped,
    };
    if (!config.dryRun) ctx.metrics.add('CleanedRows', total, 'Count');
    ctx.logger.info(config.dryRun ? 'db clean dry run' : 'db clean done', {
      clean_before: summary.cleanBefore,
      dry_run: config.dryRun,
      tables,
      total,
      rows_deleted: summary.deleted,
      archives_dropped: archivesDropped,
    });
    return summary;
  } catch (error) {
    ctx.logger.error('db clean failed', { error });
    const result = await ctx.alerting.notifier.notify(
      {
        title: `Airflow db clean failed: ${ctx.client.environment}`,
        severity: 'warning',
        environment: ctx.client.environment,
        summary: (error as Error).message,
      },
      jobBound(ctx),
    );
    countAlertFailures(ctx, result);
    throw error;
  }
}
