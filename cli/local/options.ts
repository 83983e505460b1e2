/** `npm start` arguments and the environment the local functions run with. */
import { resolve } from 'node:path';
import { parse } from '#cli/args.ts';
import { UsageError } from '#cli/exit.ts';

type Env = Record<string, string | undefined>;

export interface StartOptions {
  /** `embedded`: start the harness's local Airflow; `remote`: use `environment`. */
  mode: 'embedded' | 'remote';
  environment: string | undefined;
  /** `--airflow`: the major version of the local Airflow (the harness's default, 2, when absent). */
  airflow?: 2 | 3;
  uploads: string;
  once: boolean;
  logFormat: 'pretty' | 'json';
  help: boolean;
}

export const START_HELP = `Usage: npm start -- [--env ENV | --airflow 2|3] [--uploads DIR] [--once] [--log-format pretty|json]

Runs the four airkick functions locally on the schedules declared in serverless.yml, through
their Lambda handlers. Without --env (or AIRKICK_ENV) it starts the local Airflow first.

Options:
  --env ENV          use this environment instead of the local Airflow (default $AIRKICK_ENV)
  --airflow 2|3      the major version of the local Airflow (default 2)
  --uploads DIR      the folder standing in for the upload bucket (default ./local/uploads): a
                     file under DIR/landing/ raises an asset event on s3://airkick-assets/landing
                     (the example DAG airkick_on_asset runs on it), any other triggers airkick_conf
  --once             run each function once, then stop
  --log-format F     pretty (default on a terminal) or json
  -h, --help         this help

Ctrl-C stops everything, the local Airflow included.`;

export function parseStartArgs(argv: string[], env: Env, isTTY: boolean, cwd = process.cwd()): StartOptions {
  const { values, positionals } = parse(argv, {
    env: { type: 'string' },
    airflow: { type: 'string' },
    uploads: { type: 'string' },
    once: { type: 'boolean', default: false },
    'log-format': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const format = values['log-format'] ?? (isTTY ? 'pretty' : 'json');
  if (format !== 'pretty' && format !== 'json') throw new UsageError('--log-format must be pretty or json');
  const environment = values.env ?? (env.AIRKICK_ENV?.trim() || undefined);
  if (values.airflow !== undefined && values.airflow !== '2' && values.airflow !== '3')
    throw new UsageError('--airflow must be 2 or 3');
  if (values.airflow !== undefined && environment !== undefined)
    throw new UsageError('--airflow picks the local Airflow; it does not go with --env or AIRKICK_ENV');
  return {
    mode: environment === undefined ? 'embedded' : 'remote',
    environment,
    ...(values.airflow === undefined ? {} : { airflow: values.airflow === '3' ? 3 : 2 }),
    uploads: resolve(cwd, values.uploads ?? 'local/uploads'),
    once: values.once,
    logFormat: format,
    help: values.help,
  };
}

/** The local run's upload rules unless AIRKICK_UPLOAD_RULES says otherwise. */
export const LOCAL_UPLOAD_RULES = [
  { prefix: 'landing/', asset: 's3://airkick-assets/landing', extra: { source_folder: 'local' } },
  { dagId: 'airkick_conf', conf: { source_folder: 'local' } },
];

/**
 * The function settings for a local run: the user's own `AIRKICK_*` variables win; what they leave
 * unset gets a default that works against the local Airflow and its example DAGs.
 */
export function localEnv(env: Env, airflow: { environment: string; password?: string }): Env {
  const defaults: Env = {
    AIRKICK_TRIGGER_DAGS: 'airkick_conf',
    AIRKICK_TRIGGER_CONF: '{"scheduled_time":"{{scheduled_time}}","source":"npm start"}',
    // A file under landing/ raises an event on the asset the example DAG airkick_on_asset is
    // scheduled on; any other file triggers a run of airkick_conf.
    AIRKICK_UPLOAD_RULES: JSON.stringify(LOCAL_UPLOAD_RULES),
    AIRKICK_ALERT_STATE: 'memory',
    // A local run must never delete history by surprise: db-clean reports unless told otherwise.
    AIRKICK_CLEAN_DRY_RUN: 'true',
    POWERTOOLS_SERVICE_NAME: 'airkick-local',
  };
  const out: Env = { ...env, AIRKICK_ENV: airflow.environment };
  if (airflow.password !== undefined) out.AIRKICK_AIRFLOW_PASSWORD = airflow.password;
  for (const [key, value] of Object.entries(defaults)) if (!out[key]) out[key] = value;
  return out;
}
