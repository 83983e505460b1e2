/**
 * What the harness does differently for Airflow 2 and Airflow 3, behind one interface: one module per
 * major version (`airflow2.ts`, `airflow3.ts`), chosen once per start.
 */
import { join } from 'node:path';
import type { AirflowMajor } from './provision.ts';

export type Component = 'webserver' | 'api-server' | 'scheduler' | 'dag-processor' | 'triggerer';

/** Airflow 2's webserver always authenticates through FAB; Airflow 3 defaults to its simple auth manager. */
export type AuthManager = 'simple' | 'fab';

/** The same user and password on every instance, so tests can share them. */
export const ADMIN = { username: 'admin', password: 'airkick-admin' } as const;

/** `airflow users create` for the admin, on Airflow 2 and on Airflow 3 with the FAB auth manager. */
export const CREATE_ADMIN: readonly string[] = [
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
];

export const DAGS_FOLDER = join(import.meta.dirname, 'dags');
export const EXAMPLE_DAGS = ['airkick_conf', 'airkick_fail', 'airkick_slow', 'airkick_on_asset'] as const;

/** Where one instance lives and listens; fixed before anything starts. */
export interface Layout {
  home: string;
  databaseUrl: string;
  executor: string;
  /** The webserver's (2) or API server's (3) port; 0 for CLI-only use such as building a template. */
  port: number;
  workerLogPort: number;
  triggerLogPort: number;
  authManager: AuthManager;
  /** Random per start; signs the API server's tokens (3). */
  secret: string;
}

export interface MajorVersion {
  readonly major: AirflowMajor;
  readonly apiPath: '/api/v1' | '/api/v2';
  /** The executor when the metadata lives in SQLite. */
  readonly sqliteExecutor: string;
  /** The whole environment of every process and CLI run of the instance. */
  env(layout: Layout): Record<string, string>;
  /** CLI runs that turn an empty metadata database into a migrated one with the admin user. */
  initialise(authManager: AuthManager): string[][];
  /** CLI runs before the components start. */
  readonly beforeStart: string[][];
  /** Writes what the instance's home needs before its first process starts. */
  prepareHome(layout: Layout): void;
  /** The long-running processes, in start order, with their `airflow` arguments. */
  components(port: number): [Component, string[]][];
  /** One readiness check: `undefined` once the instance is usable, otherwise what it still waits for. */
  probe(baseUrl: string): Promise<string | undefined>;
}

/** Settings both major versions read under the same names. */
export function sharedEnv(layout: Layout): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return {
    ...env,
    AIRFLOW_HOME: layout.home,
    AIRFLOW__CORE__DAGS_FOLDER: DAGS_FOLDER,
    AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
    AIRFLOW__CORE__EXECUTOR: layout.executor,
    AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION: 'False',
    AIRFLOW__CORE__PARALLELISM: '8',
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: layout.databaseUrl,
    AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC: '2',
    AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC: '2',
    AIRFLOW__LOGGING__LOGGING_LEVEL: 'WARNING',
    AIRFLOW__LOGGING__BASE_LOG_FOLDER: join(layout.home, 'logs'),
    // The scheduler and the triggerer each serve task logs on a port (default 8793/8794): free ones,
    // so instances of either version run side by side.
    AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT: String(layout.workerLogPort),
    AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT: String(layout.triggerLogPort),
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

/** Fetches JSON; `undefined` for a body that is not JSON. */
export async function getJson(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, init);
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: undefined };
  }
}

/** What `EXAMPLE_DAGS` still lacks in a `/dags` answer; `undefined` when all are listed. */
export function missingDags(body: unknown): string | undefined {
  const ids = new Set((body as { dags?: { dag_id: string }[] } | undefined)?.dags?.map((d) => d.dag_id));
  if (EXAMPLE_DAGS.every((id) => ids.has(id))) return undefined;
  return `DAGs so far: ${[...ids].join(', ') || 'none'}`;
}
