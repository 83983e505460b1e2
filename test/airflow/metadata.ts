/**
 * The metadata database of one instance: a copy of a migrated template in the machine's PostgreSQL
 * when reachable, SQLite otherwise.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { runCli } from './commands.ts';
import type { AuthManager, Layout, MajorVersion } from './major.ts';
import { type AirflowEnv, cacheRoot, envKey } from './provision.ts';

const PG_ADMIN_URL = process.env.AIRKICK_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface Database {
  url: string;
  executor: string;
  drop(): Promise<void>;
}

async function postgresReachable(): Promise<boolean> {
  if (process.env.AIRKICK_AIRFLOW_DB === 'sqlite') return false;
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function withPg<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function pgUrl(database: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  url.protocol = 'postgresql+psycopg2:';
  return url.toString();
}

/**
 * A migrated template database (one per lock, and per auth manager where it adds tables) makes every
 * later database a cheap `CREATE DATABASE ... TEMPLATE` instead of a full `airflow db migrate`.
 */
export async function prepareDatabase(
  venv: AirflowEnv,
  version: MajorVersion,
  authManager: AuthManager,
  runId: string,
  persistent: boolean,
  log: (line: string) => void,
): Promise<Database> {
  const dbName = `airkick_${runId.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`;
  if (await postgresReachable()) {
    const suffix = version.major === 3 && authManager === 'fab' ? '_fab' : '';
    const template = `airkick_tpl_${envKey(version.major)}${suffix}`;
    const exists = async (name: string) =>
      withPg(
        async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1,
      );
    if (!(await exists(template))) {
      log(`creating template database ${template} (first run only)`);
      const building = `${template}_build_${process.pid}`;
      await withPg((c) => c.query(`DROP DATABASE IF EXISTS ${building}`));
      await withPg((c) => c.query(`CREATE DATABASE ${building}`));
      const home = join(cacheRoot(), 'run', `template-${process.pid}-${version.major}${suffix}`);
      await initialiseMetadata(
        venv,
        version,
        cliLayout(home, pgUrl(building), 'LocalExecutor', authManager),
        log,
      );
      rmSync(home, { recursive: true, force: true });
      await withPg(async (c) => {
        if (!(await exists(template))) await c.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
        else await c.query(`DROP DATABASE ${building}`);
      });
    }
    if (!persistent || !(await exists(dbName))) {
      await withPg((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
      await withPg((c) => c.query(`CREATE DATABASE ${dbName} TEMPLATE ${template}`));
    }
    log(`metadata database: PostgreSQL ${dbName}`);
    return {
      url: pgUrl(dbName),
      executor: 'LocalExecutor',
      drop: () => withPg((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)).then(() => {}),
    };
  }
  const home = join(cacheRoot(), 'run', runId);
  const file = join(home, 'airflow.db');
  const url = `sqlite:///${file}`;
  if (!existsSync(file)) {
    log('metadata database: SQLite (PostgreSQL not reachable, or AIRKICK_AIRFLOW_DB=sqlite)');
    await initialiseMetadata(venv, version, cliLayout(home, url, version.sqliteExecutor, authManager), log);
  }
  return { url, executor: version.sqliteExecutor, drop: async () => rmSync(file, { force: true }) };
}

/** A layout for CLI runs only: nothing listens. */
function cliLayout(home: string, databaseUrl: string, executor: string, authManager: AuthManager): Layout {
  return {
    home,
    databaseUrl,
    executor,
    port: 0,
    workerLogPort: 0,
    triggerLogPort: 0,
    authManager,
    secret: 'airkick-metadata-initialisation-only-airkick-metadata-initialisation-only',
  };
}

async function initialiseMetadata(
  venv: AirflowEnv,
  version: MajorVersion,
  layout: Layout,
  log: (line: string) => void,
): Promise<void> {
  mkdirSync(layout.home, { recursive: true });
  version.prepareHome(layout);
  const env = version.env(layout);
  for (const args of version.initialise(layout.authManager)) {
    log(`airflow ${args.slice(0, 2).join(' ')}`);
    await runCli(venv.airflow, args, env);
  }
}
