import { createHmac } from 'node:crypto';
import { type Alert, contextFacts, SEVERITY_LABEL } from '#lib/alerts/alert.ts';
import type { AlertChannel, HttpChannelOptions } from '#lib/alerts/channel.ts';
import { limiterFor } from '#lib/alerts/channels/common.ts';
import { parseVendorJson, postJson, type VendorError } from '#lib/alerts/delivery.ts';
import type { RateLimit } from '#lib/alerts/rate-limit.ts';
import { fitJsonText, type MessageParts, truncateChars } from '#lib/alerts/truncate.ts';

/**
 * DingTalk: 20 messages a minute, then the robot is silenced for 10 minutes; stay at 10 + 10/min.
 * No window of that length ever holds more (burst + refill <= limit).
 */
const RATE_LIMIT: RateLimit = { burst: 10, perSecond: 10 / 60 };

/** DingTalk rejects bodies over 20,000 bytes. */
const BODY_MAX = 20_000;
/** DingTalk's answer when a robot exceeds 20 messages a minute. */
const DINGTALK_SEND_TOO_FAST = 130_101;

/**
 * The DingTalk robot signature: base64(HMAC-SHA256(key = secret, message = `${timestamp}\n${secret}`)),
 * timestamp in milliseconds. Returned un-encoded; `URLSearchParams` does the URL encoding.
 */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

/** The webhook URL with `timestamp` and `sign` appended, as the robot's "加签" setting requires. */
export function dingtalkSignedUrl(url: string, secret: string | undefined, timestampMs: number): string {
  if (!secret) return url;
  const signed = new URL(url);
  signed.searchParams.set('timestamp', String(timestampMs));
  signed.searchParams.set('sign', dingtalkSign(secret, timestampMs));
  return signed.toString();
}

export function renderDingTalkMarkdown(alert: Alert): MessageParts & { title: string } {
  const title = truncateChars(`[${SEVERITY_LABEL[alert.severity]}] ${alert.title}`, 100);
  const head = [`### ${title}`, '', ...contextFacts(alert).map((f) => `- **${f.key}**: ${f.value}`)].join(
    '\n',
  );
  const tail = [
    ...(alert.fields ?? []).map((f) => `- **${f.key}**: ${f.value}`),
    ...(alert.link ? ['', `[Open in Airflow](${alert.link})`] : []),
  ].join('\n');
  return { title, head, summary: alert.summary, tail };
}

/** The request body, within DingTalk's size limit: the summary gives way first. */
export function dingtalkBody(alert: Alert): string {
  const md = renderDingTalkMarkdown(alert);
  return fitJsonText(md, BODY_MAX, (text) => ({ msgtype: 'markdown', markdown: { title: md.title, text } }));
}

export function dingtalkCheck(body: string): VendorError | undefined {
  const json = parseVendorJson(body);
  if (json === undefined) return { message: 'answer is not JSON' };
  if (json.errcode === 0) return undefined;
  return {
    message: `errcode ${String(json.errcode)}: ${String(json.errmsg ?? '')}`.slice(0, 200),
    ...(json.errcode === DINGTALK_SEND_TOO_FAST ? { code: 'RATE_LIMITED' as const } : {}),
  };
}

export interface DingTalkOptions extends HttpChannelOptions {
  /** `https://oapi.dingtalk.com/robot/send?access_token=...` */
  url: string;
  /** The robot's `SEC...` signing secret; omit for robots secured by keyword or IP. */
  secret?: string;
}

export function dingtalkChannel(options: DingTalkOptions): AlertChannel {
  const limiter = limiterFor(RATE_LIMIT, options);
  const name = options.name ?? 'dingtalk';
  return {
    name,
    async send(alert, send) {
      const body = dingtalkBody(alert);
      await postJson(
        {
          channel: name,
          limiter,
          request: (now) => ({ url: dingtalkSignedUrl(options.url, options.secret, now), body }),
          check: dingtalkCheck,
        },
        options,
        send,
      );
    },
  };
}
