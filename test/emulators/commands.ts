/**
 * Airflow CLI commands each gateway accepts, as `group subcommand` prefixes.
 *
 * MWAA: the "Supported commands" table of AWS's Apache Airflow CLI command reference for Airflow v2
 * (from the AWS documentation; the page itself is not in `seeds/`, so this list may lag AWS's).
 * DMS: copied verbatim from the "サポートされている CLI コマンド" list of seed page 000; the vendor
 * documents no other list, so it is assumed to hold for Airflow 3 instances too.
 */
export const MWAA_CLI_COMMANDS = [
  'cheat-sheet',
  'connections add',
  'connections delete',
  'dags backfill',
  'dags delete',
  'dags list',
  'dags list-import-errors',
  'dags list-jobs',
  'dags list-runs',
  'dags next-execution',
  'dags pause',
  'dags report',
  'dags reserialize',
  'dags show',
  'dags state',
  'dags test',
  'dags trigger',
  'dags unpause',
  'db check',
  'db clean',
  'plugins',
  'providers behaviours',
  'providers get',
  'providers hooks',
  'providers links',
  'providers list',
  'providers notifications',
  'providers secrets',
  'providers triggerer',
  'providers widgets',
  'roles create',
  'roles list',
  'tasks clear',
  'tasks failed-deps',
  'tasks list',
  'tasks render',
  'tasks state',
  'tasks states-for-dag-run',
  'tasks test',
  'variables delete',
  'variables get',
  'variables list',
  'variables set',
  'version',
] as const;

/**
 * MWAA on Airflow 3. AWS's table for Airflow 3 could not be consulted here, so this is the v2 table
 * carried over to Airflow 3's CLI (assumed): `dags backfill` became `backfill create`, and `db clean`
 * stays because AWS's own metadata clean-up guidance for Airflow 3 runs it through this endpoint.
 */
export const MWAA_CLI_COMMANDS_AIRFLOW3 = [
  ...MWAA_CLI_COMMANDS.filter((command) => command !== 'dags backfill'),
  'backfill create',
] as const;

export const DMS_CLI_COMMANDS = [
  'cheat-sheet',
  'connections add',
  'connections delete',
  'dags backfill',
  'dags delete',
  'dags list',
  'dags list-jobs',
  'dags list-import-errors',
  'dags list-runs',
  'dags next-execution',
  'dags pause',
  'dags report',
  'dags reserialize',
  'dags show',
  'dags state',
  'dags test',
  'dags trigger',
  'dags unpause',
  'db clean',
  'providers behaviours',
  'providers get',
  'providers hooks',
  'providers list',
  'providers links',
  'providers notifications',
  'providers secrets',
  'providers triggerer',
  'providers widgets',
  'tasks clear',
  'tasks failed-deps',
  'tasks list',
  'tasks render',
  'tasks state',
  'tasks states-for-dag-run',
  'tasks test',
  'variables delete',
  'variables get',
  'variables set',
  'variables list',
  'version',
] as const;

export function isSupportedCommand(args: readonly string[], supported: readonly string[]): boolean {
  return supported.some((entry) => entry.split(' ').every((word, i) => args[i] === word));
}

/**
 * A command of a group the gateway serves (e.g. `db`) whose subcommand it does not (e.g. `db reset`):
 * what MWAA on Airflow 3 answers with "sub command not allowed".
 */
export function isBlockedSubcommand(args: readonly string[], supported: readonly string[]): boolean {
  if (isSupportedCommand(args, supported)) return false;
  return supported.some((entry) => entry.includes(' ') && entry.split(' ')[0] === args[0]);
}
