/** What went wrong, in channel-neutral form; each channel renders it into its own format. */
export type Severity = 'critical' | 'warning' | 'info' | 'resolved';

export interface AlertField {
  key: string;
  value: string;
}

export interface Alert {
  title: string;
  severity: Severity;
  /** Display name of the Airflow environment (never a URL with credentials). */
  environment: string;
  dagId?: string;
  runId?: string;
  /** What happened, in plain text; may be long (a stack trace), channels truncate it. */
  summary: string;
  fields?: readonly AlertField[];
  /** Link to the Airflow UI. */
  link?: string;
}

export const SEVERITY_LABEL: Record<Severity, string> = {
  critical: 'CRITICAL',
  warning: 'WARNING',
  info: 'INFO',
  resolved: 'RESOLVED',
};

export const SEVERITY_EMOJI: Record<Severity, string> = {
  critical: '🔴',
  warning: '🟠',
  info: 'ℹ️',
  resolved: '✅',
};

/** Environment, DAG and run as label/value pairs, the context every channel shows first. */
export function contextFacts(alert: Alert): AlertField[] {
  const facts: AlertField[] = [{ key: 'Environment', value: alert.environment }];
  if (alert.dagId) facts.push({ key: 'DAG', value: alert.dagId });
  if (alert.runId) facts.push({ key: 'Run', value: alert.runId });
  return facts;
}

/** The whole alert as plain text: SNS, log lines and the channels without markup share it. */
export function renderPlainText(alert: Alert): { head: string; summary: string; tail: string } {
  const head = [
    `[${SEVERITY_LABEL[alert.severity]}] ${alert.title}`,
    ...contextFacts(alert).map((f) => `${f.key}: ${f.value}`),
  ].join('\n');
  const tail = [
    ...(alert.fields ?? []).map((f) => `${f.key}: ${f.value}`),
    ...(alert.link ? [`Airflow: ${alert.link}`] : []),
  ].join('\n');
  return { head, summary: alert.summary, tail };
}
