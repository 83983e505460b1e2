import type { Alert, AlertChannel, AlertLogger } from '#lib/alerts/index.ts';
import { AirkickError } from '#lib/errors.ts';

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

/** A logger that keeps every line, to assert on levels and messages. */
export function recordingLogger() {
  const lines: { level: string; message: string; extra: Record<string, unknown>[] }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      lines.push({ level, message, extra });
  const logger: AlertLogger = { info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

/** A channel that records what it was given and then succeeds or fails. */
export function channel(name: string, behaviour: 'ok' | 'fail', sent: Alert[] = []): AlertChannel {
  return {
    name,
    async send(alert) {
      sent.push(alert);
      if (behaviour === 'fail') throw new AirkickError('SERVER', `${name}: down`);
    },
  };
}
