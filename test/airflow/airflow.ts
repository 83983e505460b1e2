/**
 * Starts a real Apache Airflow (webserver, scheduler, triggerer) on free loopback ports, with its
 * metadata in the machine's PostgreSQL when reachable (SQLite otherwise), and stops every process
 * it started. Used by the integration tests, the local stack (`npm start`) and the benchmarks.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { type AirflowEnv, cacheRoot, ensureAirflowEnv, envKey, isAlive } from './provision.ts';

export const DAGS_FOLDER = join(import.meta.dirname, 'dags');
export const EXAMPLE_DAGS = ['airkick_conf', 'airkick_fail', 'airkick_slow'] as const;
const ADMIN = { username: 'admin', password: 'airkick-admin' };
const PG_ADMIN_URL = process.env.AIRKICK_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export type Component = 'webserver' | 'scheduler' | 'triggerer';

/** What a test process needs to reach the running Airflow (serialisable; crosses worker boundaries). */
export interface AirflowInfo {
  baseUrl: string;
  username: string;
  password: string;
  home: string;
  airflowBin: string;
  /** Environment for running the `airflow` CLI against this instance. */
  env: Record<string, string>;
  /** SQLAlchemy URL of the metadata database (`postgresql://...` or `sqlite:///...`). */
  databaseUrl: string;
  /** Process-group ids of the running components. */
  pids: Partial<Record<Component, number>>;
}

export interface AirflowInstance extends AirflowInfo {
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Names the run directory and database; `persistent` keeps both between starts. */
  name?: string;
  persistent?: boolean;
  port?: number;
  log?: (line: string) => void;
}

const log0 = (line: string) => process.stderr.write(`[airflow] ${line}\n`);

export async function startAirflow(options: StartOptions = {}): Promise<AirflowInstance> {
  const log = options.log ?? log0;
  const name = options.name ?? 'test';
  const venv = await ensureAirflowEnv(log);
  reapStaleRuns(log);

  const runId = options.persistent ? name : `${name}-${process.pid}-${Date.now().toString(36)}`;
  const home = join(cacheRoot(), 'run', runId);
  mkdirSync(join(home, 'logs'), { recursive: true });
  writeFileSync(join(home, 'owner.pid'), String(process.pid));

  const db = await prepareDatabase(venv, runId, Boolean(options.persistent), log);
  const port = options.port ?? (await freePort());
  const env = airflowEnv(home, db.url, db.executor, port);

  const children: Partial<Record<Component, ChildProcess>> = {};
  const killAll = () => {
    // The scheduler's DagFileProcessorManager runs in a process group of its own: kill every descendant.
    const pids = Object.values(children).flatMap((child) =>
      child.pid ? [child.pid, ...descendants(child.pid)] : [],
    );
    for (const pid of pids) killGroup(pid, 'SIGKILL');
  };
  process.once('exit', killAll);
  const savePids = () =>
    writeFileSync(
      join(home, 'pids.json'),
      JSON.stringify(Object.fromEntries(Object.entries(children).map(([k, c]) => [k, c.pid]))),
    );

  const stop = async () => {
    process.removeListener('exit', killAll);
    const all = Object.values(children);
    for (const child of all) killGroup(child.pid, 'SIGTERM');
    await Promise.all(all.map((child) => waitForExit(child, 15_000)));
    killAll();
    if (!options.persistent) {
      await db.drop();
      rmSync(home, { recursive: true, force: true });
    } else rmSync(join(home, 'pids.json'), { force: true });
  };

  try {
    log('serialising example DAGs');
    await runCli(venv.airflow, ['dags', 'reserialize'], env);
    for (const component of ['scheduler', 'triggerer', 'webserver'] as const) {
      const args =
        component === 'webserver' ? ['webserver', '-p', String(port), '-H', '127.0.0.1'] : [component];
      children[component] = spawnComponent(venv.airflow, args, env, join(home, 'logs', `${component}.log`));
      savePids();
    }
    const baseUrl = `http://127.0.0.1:${port}`;
    log(`waiting for ${baseUrl}/api/v1/health`);
    await waitHealthy(baseUrl, children, home);
    log(`Airflow ${baseUrl} is healthy (user ${ADMIN.username}, logs in ${join(home, 'logs')})`);
    return {
      baseUrl,
      ...ADMIN,
      home,
      airflowBin: venv.airflow,
      env,
      databaseUrl: db.url,
      pids: Object.fromEntries(Object.entries(children).map(([k, c]) => [k, c.pid])),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function airflowEnv(home: string, dbUrl: string, executor: string, port: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return {
    ...env,
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__DAGS_FOLDER: DAGS_FOLDER,
    AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
    AIRFLOW__CORE__EXECUTOR: executor,
    AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION: 'False',
    AIRFLOW__CORE__PARALLELISM: '8',
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: dbUrl,
    AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS: 'False',
    AIRFLOW__API__AUTH_BACKENDS: 'airflow.api.auth.backend.basic_auth,airflow.api.auth.backend.session',
    AIRFLOW__API__ENABLE_XCOM_DESERIALIZE_SUPPORT: 'True',
    AIRFLOW__WEBSERVER__SECRET_KEY: 'airkick-local-only',
    AIRFLOW__WEBSERVER__WEB_SERVER_PORT: String(port),
    AIRFLOW__WEBSERVER__WORKERS: '3',
    AIRFLOW__WEBSERVER__BASE_URL: `http://127.0.0.1:${port}`,
    AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC: '2',
    AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL: '30',
    AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL: '30',
    AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC: '2',
    AIRFLOW__LOGGING__LOGGING_LEVEL: 'WARNING',
    AIRFLOW__LOGGING__BASE_LOG_FOLDER: join(home, 'logs'),
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

interface Database {
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
 * A migrated template database (one per lock hash) makes every later database a cheap
 * `CREATE DATABASE ... TEMPLATE` instead of a full `airflow db migrate`.
 */
async function prepareDatabase(
  venv: AirflowEnv,
  runId: string,
  persistent: boolean,
  log: (line: string) => void,
): Promise<Database> {
  const dbName = `airkick_${runId.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`;
  if (await postgresReachable()) {
    const template = `airkick_tpl_${envKey()}`;
    const exists = async (name: string) =>
      withPg(
        async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1,
      );
    if (!(await exists(template))) {
      log(`creating template database ${template} (first run only)`);
      const building = `${template}_build_${process.pid}`;
      await withPg((c) => c.query(`DROP DATABASE IF EXISTS ${building}`));
      await withPg((c) => c.query(`CREATE DATABASE ${building}`));
      const env = airflowEnv(
        join(cacheRoot(), 'run', `template-${process.pid}`),
        pgUrl(building),
        'LocalExecutor',
        0,
      );
      await initialiseMetadata(venv, env, log);
      rmSync(env.AIRFLOW_HOME as string, { recursive: true, force: true });
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
  const file = join(cacheRoot(), 'run', runId, 'airflow.db');
  const url = `sqlite:///${file}`;
  if (!existsSync(file)) {
    log('metadata database: SQLite (PostgreSQL not reachable, or AIRKICK_AIRFLOW_DB=sqlite)');
    await initialiseMetadata(
      venv,
      airflowEnv(join(cacheRoot(), 'run', runId), url, 'SequentialExecutor', 0),
      log,
    );
  }
  return { url, executor: 'SequentialExecutor', drop: async () => rmSync(file, { force: true }) };
}

async function initialiseMetadata(venv: AirflowEnv, env: Record<string, string>, log: (l: string) => void) {
  mkdirSync(env.AIRFLOW_HOME as string, { recursive: true });
  log('airflow db migrate');
  await runCli(venv.airflow, ['db', 'migrate'], env);
  log('creating the admin user');
  await runCli(
    venv.airflow,
    [
      'users',
      'create',
      '-u',
      ADMIN.username,
      '-p',
      ADMIN.password,
      '-r',
      'Admin',
      '-f',
      'Air',
      '-l',
      'Kick',
      '-e',
      'admin@airkick.local',
    ],
    env,
  );
}

export interface Captured {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and captures its output (for the CLI, the local stack, tests). */
export function capture(
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 300_000,
      ...(options.env ? { env: options.env } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the `airflow` CLI to completion; rejects with its output when it fails. */
export async function runCli(
  airflowBin: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 300_000,
): Promise<{ stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await capture(airflowBin, args, { env, timeoutMs });
  if (code !== 0) throw new Error(`airflow ${args.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`);
  return { stdout, stderr };
}

function spawnComponent(airflowBin: string, args: string[], env: Record<string, string>, logFile: string) {
  const out = openSync(logFile, 'a');
  // Own process group, so stopping it also stops gunicorn workers and task processes.
  return spawn(airflowBin, args, { env, detached: true, stdio: ['ignore', out, out] });
}

/** Every process below `root`, from /proc (Linux). */
function descendants(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Kills what an earlier, killed run left behind (its owner process is gone) and drops its database. */
function reapStaleRuns(log: (line: string) => void): void {
  const root = join(cacheRoot(), 'run');
  if (!existsSync(root)) return;
  for (const dir of readdirSync(root)) {
    const home = join(root, dir);
    const ownerFile = join(home, 'owner.pid');
    if (!existsSync(ownerFile)) continue;
    const owner = Number(readFileSync(ownerFile, 'utf8'));
    if (isAlive(owner)) continue;
    const pidsFile = join(home, 'pids.json');
    if (existsSync(pidsFile)) {
      const pids = JSON.parse(readFileSync(pidsFile, 'utf8')) as Record<string, number>;
      for (const pid of Object.values(pids)) killGroup(pid, 'SIGKILL');
      rmSync(pidsFile, { force: true });
      log(`stopped Airflow processes left by an earlier run (${dir})`);
    }
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitHealthy(
  baseUrl: string,
  children: Partial<Record<Component, ChildProcess>>,
  home: string,
  timeoutMs = 240_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const auth = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    for (const [component, child] of Object.entries(children)) {
      if (child.exitCode !== null) {
        const tail = readFileSync(join(home, 'logs', `${component}.log`), 'utf8').slice(-3000);
        throw new Error(`airflow ${component} exited with ${child.exitCode} during start-up:\n${tail}`);
      }
    }
    try {
      const health = (await (await fetch(`${baseUrl}/api/v1/health`)).json()) as {
        metadatabase?: { status?: string };
        scheduler?: { status?: string };
        triggerer?: { status?: string };
      };
      last = JSON.stringify(health);
      if (
        health.metadatabase?.status === 'healthy' &&
        health.scheduler?.status === 'healthy' &&
        health.triggerer?.status === 'healthy'
      ) {
        const dags = (await (
          await fetch(`${baseUrl}/api/v1/dags`, { headers: { authorization: auth } })
        ).json()) as {
          dags?: { dag_id: string }[];
        };
        const ids = new Set(dags.dags?.map((d) => d.dag_id));
        if (EXAMPLE_DAGS.every((id) => ids.has(id))) return;
        last = `DAGs so far: ${[...ids].join(', ')}`;
      }
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`Airflow did not become healthy at ${baseUrl} within ${timeoutMs / 1000} s: ${last}`);
}
