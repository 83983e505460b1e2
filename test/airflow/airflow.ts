/**
 * Starts a real Apache Airflow 2 or 3 on free loopback ports, with its metadata in the machine's
 * PostgreSQL when reachable (SQLite otherwise), and stops every process it started. Used by the
 * integration tests, the local stack (`npm start`) and the benchmarks.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { airflow2 } from './airflow2.ts';
import { airflow3 } from './airflow3.ts';
import { runCli } from './commands.ts';
import { ADMIN, type AuthManager, type Component, type Layout, type MajorVersion } from './major.ts';
import { prepareDatabase } from './metadata.ts';
import { killTree, reapStaleRuns, spawnComponent, stopAll } from './processes.ts';
import { type AirflowMajor, cacheRoot, ensureAirflowEnv } from './provision.ts';

export { adminToken } from './airflow3.ts';
export { type Captured, capture, runCli } from './commands.ts';
export { type AuthManager, type Component, DAGS_FOLDER, EXAMPLE_DAGS } from './major.ts';
export type { AirflowMajor } from './provision.ts';

const VERSIONS: Readonly<Record<AirflowMajor, MajorVersion>> = { 2: airflow2, 3: airflow3 };

/** What a test process needs to reach the running Airflow (serialisable; crosses worker boundaries). */
export interface AirflowInfo {
  baseUrl: string;
  /** The REST API: `${baseUrl}/api/v1` on Airflow 2, `${baseUrl}/api/v2` on Airflow 3. */
  apiRoot: string;
  major: AirflowMajor;
  /** The installed apache-airflow version, e.g. `2.10.5` or `3.3.2`. */
  version: string;
  /** `fab` on Airflow 2 (its webserver's only one); Airflow 3's `simple` or `fab`. */
  authManager: AuthManager;
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
  /** The major version to run (default 2). */
  version?: AirflowMajor;
  /** Airflow 3 only: its default simple auth manager (default) or FAB's. */
  authManager?: AuthManager;
  /** Names the run directory and database; `persistent` keeps both between starts. */
  name?: string;
  persistent?: boolean;
  port?: number;
  log?: (line: string) => void;
}

const log0 = (line: string) => process.stderr.write(`[airflow] ${line}\n`);
let starts = 0;

export async function startAirflow(options: StartOptions = {}): Promise<AirflowInstance> {
  const log = options.log ?? log0;
  const version = VERSIONS[options.version ?? 2];
  const authManager: AuthManager = version.major === 2 ? 'fab' : (options.authManager ?? 'simple');
  if (version.major === 2 && options.authManager === 'simple')
    throw new Error('Airflow 2 has no simple auth manager: its webserver authenticates through FAB');
  const venv = await ensureAirflowEnv(version.major, log);
  reapStaleRuns(join(cacheRoot(), 'run'), log);

  // Instances of different versions or auth managers never share a home or a database.
  const flavour = version.major === 2 ? '' : authManager === 'fab' ? '-af3-fab' : '-af3';
  const slot = `${options.name ?? 'test'}${flavour}`;
  starts += 1;
  const runId = options.persistent ? slot : `${slot}-${process.pid}-${Date.now().toString(36)}${starts}`;
  const home = join(cacheRoot(), 'run', runId);
  mkdirSync(join(home, 'logs'), { recursive: true });
  writeFileSync(join(home, 'owner.pid'), String(process.pid));

  const db = await prepareDatabase(venv, version, authManager, runId, Boolean(options.persistent), log);
  const [workerLogPort, triggerLogPort, freeApiPort] = await freePorts(3, options.port);
  const layout: Layout = {
    home,
    databaseUrl: db.url,
    executor: db.executor,
    port: options.port ?? (freeApiPort as number),
    workerLogPort: workerLogPort as number,
    triggerLogPort: triggerLogPort as number,
    authManager,
    secret: randomBytes(64).toString('base64url'),
  };
  version.prepareHome(layout);
  const env = version.env(layout);

  const children: Partial<Record<Component, ChildProcess>> = {};
  const pids = () => Object.fromEntries(Object.entries(children).map(([k, c]) => [k, c.pid]));
  const killAll = () => killTree(Object.values(children));
  process.once('exit', killAll);
  const savePids = () => writeFileSync(join(home, 'pids.json'), JSON.stringify(pids()));

  const stop = async () => {
    process.removeListener('exit', killAll);
    await stopAll(Object.values(children));
    if (!options.persistent) {
      await db.drop();
      rmSync(home, { recursive: true, force: true });
    } else rmSync(join(home, 'pids.json'), { force: true });
  };

  try {
    for (const args of version.beforeStart) {
      log(`airflow ${args.join(' ')}`);
      await runCli(venv.airflow, args, env);
    }
    for (const [component, args] of version.components(layout.port)) {
      children[component] = spawnComponent(venv.airflow, args, env, join(home, 'logs', `${component}.log`));
      savePids();
    }
    const baseUrl = `http://127.0.0.1:${layout.port}`;
    log(`waiting for Airflow ${venv.version} at ${baseUrl}`);
    await waitReady(version, baseUrl, children, home);
    log(
      `Airflow ${venv.version} ${baseUrl} is ready (user ${ADMIN.username}, logs in ${join(home, 'logs')})`,
    );
    return {
      baseUrl,
      apiRoot: `${baseUrl}${version.apiPath}`,
      major: version.major,
      version: venv.version,
      authManager,
      ...ADMIN,
      home,
      airflowBin: venv.airflow,
      env,
      databaseUrl: db.url,
      pids: pids(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
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

/** Distinct free ports other than `taken`: asked one after another, the system may repeat itself. */
async function freePorts(count: number, taken?: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = await freePort();
    if (port !== taken) ports.add(port);
  }
  return [...ports];
}

async function waitReady(
  version: MajorVersion,
  baseUrl: string,
  children: Partial<Record<Component, ChildProcess>>,
  home: string,
  timeoutMs = 300_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    for (const [component, child] of Object.entries(children)) {
      if (child.exitCode !== null) {
        const tail = readFileSync(join(home, 'logs', `${component}.log`), 'utf8').slice(-3000);
        throw new Error(`airflow ${component} exited with ${child.exitCode} during start-up:\n${tail}`);
      }
    }
    try {
      const missing = await version.probe(baseUrl);
      if (missing === undefined) return;
      last = missing;
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`Airflow did not become ready at ${baseUrl} within ${timeoutMs / 1000} s: ${last}`);
}
