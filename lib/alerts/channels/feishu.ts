import { createHmac } from 'node:crypto';
import { type Alert, renderPlainText, SEVERITY_EMOJI } from '#lib/alerts/alert.ts';
import type { AlertChannel, HttpChannelOptions } from '#lib/alerts/channel.ts';
import { limiterFor } from '#lib/alerts/channels/common.ts';
import { parseVendorJson, postJson, type VendorError } from '#lib/alerts/delivery.ts';
import type { RateLimit } from '#lib/alerts/rate-limit.ts';
import { fitJsonText, type MessageParts } from '#lib/alerts/truncate.ts';

/**
 * Feishu / Lark: 100 a minute and 5 a second per bot.
 * No window of that length ever holds more (burst + refill <= limit).
 */
const RATE_LIMIT: RateLimit = { burst: 3, perSecond: 1.6 };

/** Feishu/Lark reject request bodies over 20 KB. */
const BODY_MAX = 20_000;

/**
 * The Feishu/Lark custom bot signature: base64(HMAC-SHA256(key = `${timestamp}\n${secret}`, message = "")),
 * timestamp in seconds. Note the key/message inversion compared with DingTalk.
 */
export function feishuSign(secret: string, timestampSeconds: number): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}

export function renderFeishuText(alert: Alert): MessageParts {
  const plain = renderPlainText(alert);
  return { ...plain, head: `${SEVERITY_EMOJI[alert.severity]} ${plain.head}` };
}

/** The body for one attempt: signed with the current time when a secret is set. */
export function feishuBody(alert: Alert, secret: string | undefined, nowMs: number): string {
  const timestamp = Math.floor(nowMs / 1000);
  const signature = secret ? { timestamp: String(timestamp), sign: feishuSign(secret, timestamp) } : {};
  return fitJsonText(renderFeishuText(alert), BODY_MAX, (text) => ({
    ...signature,
    msg_type: 'text',
    content: { text },
  }));
}

/** Current bots answer `{code, msg}`; older ones `{StatusCode, StatusMessage}`. Either non-zero is a failure. */
export function feishuCheck(body: string): VendorError | undefined {
  const json = parseVendorJson(body);
  if (json === undefined) return { message: 'answer is not JSON' };
  if ('code' in json && json.code !== 0)
    return { message: `code ${String(json.code)}: ${String(json.msg ?? '')}`.slice(0, 200) };
  if ('StatusCode' in json && json.StatusCode !== 0) {
    return {
      message: `StatusCode ${String(json.StatusCode)}: ${String(json.StatusMessage ?? '')}`.slice(0, 200),
    };
  }
  if (!('code' in json) && !('StatusCode' in json)) return { message: 'answer has no status code' };
  return undefined;
}

export interface FeishuOptions extends HttpChannelOptions {
  /** `https://open.feishu.cn/open-apis/bot/v2/hook/<id>` (or the Lark equivalent) */
  url: string;
  /** The bot's signature secret; omit for bots secured by keyword or IP. */
  secret?: string;
}

export function feishuChannel(options: FeishuOptions): AlertChannel {
  const limiter = limiterFor(RATE_LIMIT, options);
  const name = options.name ?? 'feishu';
  return {
    name,
    async send(alert, send) {
      await postJson(
        {
          channel: name,
          limiter,
          request: (now) => ({ url: options.url, body: feishuBody(alert, options.secret, now) }),
          check: feishuCheck,
        },
        options,
        send,
      );
    },
  };
}
