/** Airflow 2: webserver (stable REST API at /api/v1, basic auth through FAB), scheduler, triggerer. */
import {
  ADMIN,
  CREATE_ADMIN,
  getJson,
  type Layout,
  type MajorVersion,
  missingDags,
  sharedEnv,
} from './major.ts';

const basicAuth = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;

interface Health {
  metadatabase?: { status?: string };
  scheduler?: { status?: string };
  triggerer?: { status?: string };
}

export const airflow2: MajorVersion = {
  major: 2,
  apiPath: '/api/v1',
  sqliteExecutor: 'SequentialExecutor',

  env: (layout: Layout) => ({
    ...sharedEnv(layout),
    AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS: 'False',
    AIRFLOW__API__AUTH_BACKENDS: 'airflow.api.auth.backend.basic_auth,airflow.api.auth.backend.session',
    AIRFLOW__API__ENABLE_XCOM_DESERIALIZE_SUPPORT: 'True',
    AIRFLOW__WEBSERVER__SECRET_KEY: 'airkick-local-only',
    AIRFLOW__WEBSERVER__WEB_SERVER_PORT: String(layout.port),
    AIRFLOW__WEBSERVER__WORKERS: '3',
    AIRFLOW__WEBSERVER__BASE_URL: `http://127.0.0.1:${layout.port}`,
    AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL: '30',
    AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL: '30',
  }),

  initialise: () => [['db', 'migrate'], [...CREATE_ADMIN]],

  // The scheduler's own first parse can take a while; serialised DAGs answer the API at once.
  beforeStart: [['dags', 'reserialize']],

  prepareHome: () => {},

  components: (port) => [
    ['scheduler', ['scheduler']],
    ['triggerer', ['triggerer']],
    ['webserver', ['webserver', '-p', String(port), '-H', '127.0.0.1']],
  ],

  async probe(baseUrl) {
    const health = (await getJson(`${baseUrl}/api/v1/health`)).body as Health | undefined;
    if (
      health?.metadatabase?.status !== 'healthy' ||
      health.scheduler?.status !== 'healthy' ||
      health.triggerer?.status !== 'healthy'
    )
      return `health: ${JSON.stringify(health)}`;
    const dags = await getJson(`${baseUrl}/api/v1/dags`, { headers: { authorization: basicAuth } });
    return missingDags(dags.body);
  },
};
