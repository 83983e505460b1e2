import type { Alert } from '#lib/alerts/index.ts';

export const baseAlert: Alert = {
  title: 'Scheduler heartbeat is stale',
  severity: 'critical',
  environment: 'prod-mwaa',
  dagId: 'etl_daily',
  runId: 'scheduled__2025-01-01T00:00:00+00:00',
  summary: 'The scheduler last reported 312 s ago.',
  fields: [
    { key: 'Heartbeat age', value: '312 s' },
    { key: 'Threshold', value: '120 s' },
  ],
  link: 'https://airflow.example.com/dags/etl_daily/grid',
};

/** A summary far beyond every channel's limit, multibyte on purpose (UTF-8 length != string length). */
export const hugeSummary = 'Traceback 失敗 🚨 "quoted" <tag> & more\n'.repeat(20_000);
