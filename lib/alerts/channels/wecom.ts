import { type Alert, contextFacts, SEVERITY_LABEL, type Severity } from '#lib/alerts/alert.ts';
import type { AlertChannel, HttpChannelOptions } from '#lib/alerts/channel.ts';
import { limiterFor } from '#lib/alerts/channels/common.ts';
import { parseVendorJson, postJson, type VendorError } from '#lib/alerts/delivery.ts';
import type { RateLimit } from '#lib/alerts/rate-limit.ts';
import { fitText, type MessageParts } from '#lib/alerts/truncate.ts';

/**
 * WeCom: 20 messages a minute per robot.
 * No window of that length ever holds more (burst + refill <= limit).
 */
const RATE_LIMIT: RateLimit = { burst: 10, perSecond: 10 / 60 };

/** WeCom limits the markdown content (not the body) to 4096 bytes of UTF-8. */
export const WECOM_CONTENT_MAX = 4096;
const WECOM_FREQUENCY_LIMIT = 45_009;

// WeCom markdown knows three font colours: info (green), comment (grey), warning (orange-red).
const COLOUR: Record<Severity, string> = {
  critical: 'warning',
  warning: 'warning',
  info: 'comment',
  resolved: 'info',
};

export function renderWeComMarkdown(alert: Alert): MessageParts {
  const head = [
    `**<font color="${COLOUR[alert.severity]}">[${SEVERITY_LABEL[alert.severity]}]</font> ${alert.title}**`,
    ...contextFacts(alert).map((f) => `> ${f.key}: ${f.value}`),
  ].join('\n');
  const tail = [
    ...(alert.fields ?? []).map((f) => `> ${f.key}: ${f.value}`),
    ...(alert.link ? [`[Open in Airflow](${alert.link})`] : []),
  ].join('\n');
  return { head, summary: alert.summary, tail };
}

export function wecomBody(alert: Alert): string {
  const content = fitText(renderWeComMarkdown(alert), WECOM_CONTENT_MAX);
  return JSON.stringify({ msgtype: 'markdown', markdown: { content } });
}

export function wecomCheck(body: string): VendorError | undefined {
  const json = parseVendorJson(body);
  if (json === undefined) return { message: 'answer is not JSON' };
  if (json.errcode === 0) return undefined;
  return {
    message: `errcode ${String(json.errcode)}: ${String(json.errmsg ?? '')}`.slice(0, 200),
    ...(json.errcode === WECOM_FREQUENCY_LIMIT ? { code: 'RATE_LIMITED' as const } : {}),
  };
}

export interface WeComOptions extends HttpChannelOptions {
  /** `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...` */
  url: string;
}

/** WeCom (企业微信) group robot: the `key` in the URL is the credential. */
export function wecomChannel(options: WeComOptions): AlertChannel {
  const limiter = limiterFor(RATE_LIMIT, options);
  const name = options.name ?? 'wecom';
  return {
    name,
    async send(alert, send) {
      const body = wecomBody(alert);
      await postJson(
        { channel: name, limiter, request: () => ({ url: options.url, body }), check: wecomCheck },
        options,
        send,
      );
    },
  };
}
