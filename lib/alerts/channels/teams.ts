import {
  type Alert,
  contextFacts,
  SEVERITY_EMOJI,
  SEVERITY_LABEL,
  type Severity,
} from '#lib/alerts/alert.ts';
import type { AlertChannel, HttpChannelOptions } from '#lib/alerts/channel.ts';
import { limiterFor } from '#lib/alerts/channels/common.ts';
import { postJson } from '#lib/alerts/delivery.ts';
import { fitJsonBody, truncateChars } from '#lib/alerts/truncate.ts';

/** Teams rejects messages over about 28 KB. */
const BODY_MAX = 27_000;

const COLOUR: Record<Severity, string> = {
  critical: 'Attention',
  warning: 'Warning',
  info: 'Accent',
  resolved: 'Good',
};

/** The Adaptive Card (schema 1.4, the newest Teams renders everywhere) for an alert. */
export function renderTeamsCard(alert: Alert, summary: string = alert.summary): Record<string, unknown> {
  const facts = (list: readonly { key: string; value: string }[]) => ({
    type: 'FactSet',
    facts: list.map((f) => ({ title: truncateChars(f.key, 200), value: truncateChars(f.value, 2_000) })),
  });
  const body: Record<string, unknown>[] = [
    {
      type: 'TextBlock',
      text: truncateChars(
        `${SEVERITY_EMOJI[alert.severity]} [${SEVERITY_LABEL[alert.severity]}] ${alert.title}`,
        300,
      ),
      size: 'Large',
      weight: 'Bolder',
      color: COLOUR[alert.severity],
      wrap: true,
    },
    facts(contextFacts(alert)),
  ];
  if (summary.trim()) body.push({ type: 'TextBlock', text: summary, wrap: true });
  if (alert.fields?.length) body.push(facts(alert.fields));
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.4',
    msteams: { width: 'Full' },
    body,
    ...(alert.link
      ? { actions: [{ type: 'Action.OpenUrl', title: 'Open in Airflow', url: alert.link }] }
      : {}),
  };
}

/** The envelope a Teams "post to a channel when a webhook request is received" workflow expects. */
export function teamsEnvelope(card: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'message',
    attachments: [
      { contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card },
    ],
  };
}

export function teamsBody(alert: Alert): string {
  return fitJsonBody(alert.summary, BODY_MAX, (summary) => teamsEnvelope(renderTeamsCard(alert, summary)));
}

export interface TeamsOptions extends HttpChannelOptions {
  /** The HTTP trigger URL of a Teams workflow (Power Automate); its `sig` parameter is the credential. */
  url: string;
}

/** Microsoft Teams through Workflows: answers 202 with no body; no documented rate limit. */
export function teamsChannel(options: TeamsOptions): AlertChannel {
  const limiter = limiterFor(undefined, options);
  const name = options.name ?? 'teams';
  return {
    name,
    async send(alert, send) {
      const body = teamsBody(alert);
      await postJson({ channel: name, limiter, request: () => ({ url: options.url, body }) }, options, send);
    },
  };
}
