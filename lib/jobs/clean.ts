/**
 * db-clean: `airflow db clean` through the environment's CLI endpoint (MWAA, DMS), with a retention
 * floor so a typo cannot wipe recent history.
 */
import type { CleanConfig } from '../config.ts';
import { AirkickError } from '../errors.ts';
import { countAlertFailures, type JobContext } from './context.ts';

export interface CleanSummary {
  cleanBefore: string;
  dryRun: boolean;
  /** Rows found per table (deleted, or that would be in a dry run). */
  tables: Record<string, number>;
  total: number;
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

/** Pure: `Checking table x` / `Found N rows meeting deletion criteria.` pairs from the CLI's output. */
export function parseCleanOutput(output: string): Record<string, number> {
  const tables: Record<string, number> = {};
  let current: string | undefined;
  for (const line of output.split('\n')) {
    const table = /^Checking table (\S+)/.exec(line.trim());
    if (table) current = table[1];
    const found = /^Found (\d+) rows? meeting deletion criteria/.exec(line.trim());
    if (found && current) tables[current] = Number(found[1]);
  }
  return tables;
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
    const result = await ctx.client.runCli(cleanArgs(config, cleanBefore), { deadline: ctx.deadline });
    const output = `${result.stdout}\n${result.stderr}`;
    const tables = parseCleanOutput(output);
    if (Object.keys(tables).length === 0) {
      throw new AirkickError('SERVER', `db clean printed no table report: ${output.trim().slice(-500)}`);
    }
    let archivesDropped = false;
    if (config.dropArchives && !config.dryRun) {
      await ctx.client.runCli(['db', 'drop-archived', '--yes'], { deadline: ctx.deadline });
      archivesDropped = true;
    }
    const total = Object.values(tables).reduce((a, b) => a + b, 0);
    const summary = {
      cleanBefore: cleanBefore.toISOString(),
      dryRun: config.dryRun,
      tables,
      total,
      archivesDropped,
    };
    if (!config.dryRun) ctx.metrics.add('CleanedRows', total, 'Count');
    ctx.logger.info(config.dryRun ? 'db clean dry run' : 'db clean done', {
      clean_before: summary.cleanBefore,
      dry_run: config.dryRun,
      tables,
      total,
      archives_dropped: archivesDropped,
    });
    return summary;
  } catch (error) {
    ctx.logger.error('db clean failed', { error });
    const result = await ctx.alerting.notifier.notify({
      title: `Airflow db clean failed: ${ctx.client.environment}`,
      severity: 'warning',
      environment: ctx.client.environment,
      summary: (error as Error).message,
    });
    countAlertFailures(ctx, result);
    throw error;
  }
}
