import { type Alert, contextFacts, SEVERITY_LABEL, type Severity } from '../alert.ts';
import type { AlertChannel, HttpChannelOptions } from '../channel.ts';
import { parseVendorJson, postJson, type VendorError } from '../delivery.ts';
import { CHANNEL_RATE_LIMITS } from '../rate-limit.ts';
import { fitText, type MessageParts } from '../truncate.ts';
import { limiterFor } from './common.ts';

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
  const limiter = limiterFor(CHANNEL_RATE_LIMITS.wecom, options);
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
