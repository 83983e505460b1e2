/**
 * Airflow 3: API server (REST API at /api/v2, JWTs from /auth/token), scheduler, DAG processor,
 * triggerer. Tasks reach the API server's execution API with tokens signed by the shared secret.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ADMIN,
  CREATE_ADMIN,
  getJson,
  type Layout,
  type MajorVersion,
  missingDags,
  sharedEnv,
} from './major.ts';

const FAB_AUTH_MANAGER = 'airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager';

interface Health {
  metadatabase?: { status?: string };
  scheduler?: { status?: string };
  triggerer?: { status?: string };
  dag_processor?: { status?: string };
}

/** A token for the admin user from `POST /auth/token` (201 `{"access_token"}`, either auth manager). */
export async function adminToken(baseUrl: string): Promise<string> {
  const { status, body } = await getJson(`${baseUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  const token = (body as { access_token?: unknown } | undefined)?.access_token;
  if (status !== 201 || typeof token !== 'string') throw new Error(`POST /auth/token answered ${status}`);
  return token;
}

export const airflow3: MajorVersion = {
  major: 3,
  apiPath: '/api/v2',
  sqliteExecutor: 'LocalExecutor',

  env: (layout: Layout) => ({
    ...sharedEnv(layout),
    AIRFLOW__API__BASE_URL: `http://127.0.0.1:${layout.port}`,
    AIRFLOW__API__WORKERS: '1',
    AIRFLOW__API__SECRET_KEY: 'airkick-local-only',
    AIRFLOW__API_AUTH__JWT_SECRET: layout.secret,
    AIRFLOW__CORE__EXECUTION_API_SERVER_URL: `http://127.0.0.1:${layout.port}/execution/`,
    AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL: '30',
    AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL: '30',
    ...(layout.authManager === 'fab'
      ? { AIRFLOW__CORE__AUTH_MANAGER: FAB_AUTH_MANAGER }
      : {
          AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS: `${ADMIN.username}:admin`,
          AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE: join(layout.home, 'passwords.json'),
        }),
  }),

  initialise: (authManager) =>
    authManager === 'fab'
      ? [['db', 'migrate'], ['fab-db', 'migrate'], [...CREATE_ADMIN]]
      : [['db', 'migrate']],

  // The DAG processor parses the folder as soon as it starts; `dags reserialize` would only add a run.
  beforeStart: [],

  prepareHome(layout) {
    // The simple auth manager generates random passwords unless this file names them.
    if (layout.authManager === 'simple')
      writeFileSync(
        join(layout.home, 'passwords.json'),
        JSON.stringify({ [ADMIN.username]: ADMIN.password }),
      );
  },

  components: (port) => [
    ['scheduler', ['scheduler']],
    ['dag-processor', ['dag-processor']],
    ['triggerer', ['triggerer']],
    ['api-server', ['api-server', '--port', String(port), '--host', '127.0.0.1']],
  ],

  async probe(baseUrl) {
    const health = (await getJson(`${baseUrl}/api/v2/monitor/health`)).body as Health | undefined;
    if (
      health?.metadatabase?.status !== 'healthy' ||
      health.scheduler?.status !== 'healthy' ||
      health.triggerer?.status !== 'healthy' ||
      health.dag_processor?.status !== 'healthy'
    )
      return `health: ${JSON.stringify(health)}`;
    const token = await adminToken(baseUrl);
    const dags = await getJson(`${baseUrl}/api/v2/dags?limit=100`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return missingDags(dags.body);
  },
};
