import { createHmac } from 'node:crypto';
import type { Alert } from '#lib/alerts/alert.ts';
import type { AlertChannel, HttpChannelOptions } from '#lib/alerts/channel.ts';
import { limiterFor } from '#lib/alerts/channels/common.ts';
import { postJson } from '#lib/alerts/delivery.ts';
import { truncateBytes } from '#lib/alerts/truncate.ts';

export const WEBHOOK_TIMESTAMP_HEADER = 'X-Airkick-Timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'X-Airkick-Signature';
/** Keeps a runaway summary (a huge log excerpt) from becoming a multi-megabyte POST. */
const SUMMARY_MAX = 64 * 1024;

/**
 * `sha256=` + hex(HMAC-SHA256(key = secret, message = `${timestamp}.${body}`)), timestamp in Unix
 * seconds. Signing the timestamp with the body lets receivers reject replays of old requests.
 */
export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** The documented JSON payload: the alert as given, plus the payload version and the send time. */
export function webhookPayload(alert: Alert, nowMs: number): Record<string, unknown> {
  return {
    version: 1,
    sentAt: new Date(nowMs).toISOString(),
    alert: {
      title: alert.title,
      severity: alert.severity,
      environment: alert.environment,
      dagId: alert.dagId ?? null,
      runId: alert.runId ?? null,
      summary: truncateBytes(alert.summary, SUMMARY_MAX),
      fields: alert.fields ?? [],
      link: alert.link ?? null,
    },
  };
}

export function webhookRequest(
  alert: Alert,
  secret: string,
  nowMs: number,
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(webhookPayload(alert, nowMs));
  const timestamp = Math.floor(nowMs / 1000);
  return {
    body,
    headers: {
      [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
      [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(secret, timestamp, body),
    },
  };
}

export interface WebhookOptions extends HttpChannelOptions {
  url: string;
  secret: string;
}

/** A generic JSON webhook signed with HMAC-SHA256; any 2xx counts as delivered. */
export function webhookChannel(options: WebhookOptions): AlertChannel {
  const limiter = limiterFor(undefined, options);
  const name = options.name ?? 'webhook';
  return {
    name,
    async send(alert, send) {
      await postJson(
        {
          channel: name,
          limiter,
          request: (now) => ({ url: options.url, ...webhookRequest(alert, options.secret, now) }),
        },
        options,
        send,
      );
    },
  };
}
