import { type Alert, contextFacts, renderPlainText, SEVERITY_EMOJI } from '#lib/alerts/alert.ts';
import type { AlertChannel, HttpChannelOptions } from '#lib/alerts/channel.ts';
import { limiterFor } from '#lib/alerts/channels/common.ts';
import { postJson } from '#lib/alerts/delivery.ts';
import type { RateLimit } from '#lib/alerts/rate-limit.ts';
import { truncateChars } from '#lib/alerts/truncate.ts';

/**
 * Slack: about one message a second per webhook (429 + Retry-After beyond).
 * No window of that length ever holds more (burst + refill <= limit).
 */
const RATE_LIMIT: RateLimit = { burst: 1, perSecond: 1 };

/** Slack's documented limits: message text 40,000 chars, section text 3,000, header 150, 10 fields. */
const TEXT_MAX = 40_000;
const SECTION_MAX = 3_000;
const HEADER_MAX = 150;

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

/** mrkdwn treats `&`, `<` and `>` as control characters. */
export function escapeSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

export function renderSlack(alert: Alert): SlackMessage {
  const plain = renderPlainText(alert);
  const text = truncateChars([plain.head, plain.summary, plain.tail].filter(Boolean).join('\n\n'), TEXT_MAX);
  const section = (markdown: string) => ({
    type: 'section',
    text: { type: 'mrkdwn', text: truncateChars(markdown, SECTION_MAX) },
  });
  const blocks: Record<string, unknown>[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncateChars(`${SEVERITY_EMOJI[alert.severity]} ${alert.title}`, HEADER_MAX),
      },
    },
    section(
      contextFacts(alert)
        .map((f) => `*${f.key}:* ${escapeSlack(f.value)}`)
        .join('  |  '),
    ),
  ];
  if (alert.summary.trim()) blocks.push(section(escapeSlack(alert.summary)));
  if (alert.fields?.length) {
    blocks.push(
      section(alert.fields.map((f) => `*${escapeSlack(f.key)}:* ${escapeSlack(f.value)}`).join('\n')),
    );
  }
  if (alert.link) blocks.push(section(`<${alert.link}|Open in Airflow>`));
  return { text, blocks };
}

export interface SlackOptions extends HttpChannelOptions {
  url: string;
}

/** Slack incoming webhook: the URL is the credential; the answer is the plain text `ok`. */
export function slackChannel(options: SlackOptions): AlertChannel {
  const limiter = limiterFor(RATE_LIMIT, options);
  const name = options.name ?? 'slack';
  return {
    name,
    async send(alert, send) {
      const body = JSON.stringify(renderSlack(alert));
      await postJson({ channel: name, limiter, request: () => ({ url: options.url, body }) }, options, send);
    },
  };
}
