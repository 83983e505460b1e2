import { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dingtalkSign, dingtalkSignedUrl } from '#lib/alerts/channels/dingtalk.ts';
import { feishuSign } from '#lib/alerts/channels/feishu.ts';
import { webhookSignature } from '#lib/alerts/channels/webhook.ts';

// Reference HMACs computed through WebCrypto, a different API from the node:crypto `createHmac` the code uses.
async function hmac(key: string, message: string): Promise<Uint8Array> {
  const enc = new TextEncoder();
  const k = await webcrypto.subtle.importKey(
    'raw',
    enc.encode(key),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return new Uint8Array(await webcrypto.subtle.sign('HMAC', k, enc.encode(message)));
}
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('DingTalk signing', () => {
  const secret = 'SECb0b1ddc6a2e84e1fa3b6b6a6c1e1f2e3';
  const ts = 1_700_000_000_123;

  it('is base64(HMAC-SHA256(key=secret, msg=timestamp\\nsecret)) with the timestamp in ms', async () => {
    expect(dingtalkSign(secret, ts)).toBe(b64(await hmac(secret, `${ts}\n${secret}`)));
  });

  it('differs when the secret or timestamp differs', () => {
    expect(dingtalkSign(secret, ts)).not.toBe(dingtalkSign(`${secret}x`, ts));
    expect(dingtalkSign(secret, ts)).not.toBe(dingtalkSign(secret, ts + 1));
  });

  it('puts timestamp and URL-encoded sign on the webhook URL, keeping access_token', async () => {
    const url = dingtalkSignedUrl('https://oapi.dingtalk.com/robot/send?access_token=abc123', secret, ts);
    const raw = url.split('?')[1] ?? '';
    const params = new URLSearchParams(raw);
    expect(params.get('access_token')).toBe('abc123');
    expect(params.get('timestamp')).toBe(String(ts));
    const expected = b64(await hmac(secret, `${ts}\n${secret}`));
    expect(params.get('sign')).toBe(expected);
    // The raw query must carry the percent-encoded form: a bare `+` would be read as a space.
    expect(raw).toContain(`sign=${encodeURIComponent(expected)}`);
  });

  it('leaves the URL alone without a secret', () => {
    expect(dingtalkSignedUrl('https://oapi.dingtalk.com/robot/send?access_token=x', undefined, ts)).toBe(
      'https://oapi.dingtalk.com/robot/send?access_token=x',
    );
  });
});

describe('Feishu signing', () => {
  it('is base64(HMAC-SHA256(key=timestamp\\nsecret, msg="")) with the timestamp in seconds', async () => {
    const secret = 'nIMtb7r3N9pkXyXdtAbx6e';
    const ts = 1_599_360_473;
    expect(feishuSign(secret, ts)).toBe(b64(await hmac(`${ts}\n${secret}`, '')));
  });

  it('is not the DingTalk construction (key and message are swapped)', () => {
    expect(feishuSign('secret-value', 1)).not.toBe(dingtalkSign('secret-value', 1));
  });
});

describe('generic webhook signing', () => {
  it('is sha256=hex(HMAC-SHA256(secret, timestamp + "." + body))', async () => {
    const body = '{"version":1,"alert":{"title":"x"}}';
    expect(webhookSignature('whsec-123456', 1_700_000_000, body)).toBe(
      `sha256=${hex(await hmac('whsec-123456', `1700000000.${body}`))}`,
    );
  });

  it('changes when the body or timestamp changes', () => {
    const signature = webhookSignature('whsec-123456', 1, '{"a":1}');
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(webhookSignature('whsec-123456', 1, '{"a":2}')).not.toBe(signature);
    expect(webhookSignature('whsec-123456', 2, '{"a":1}')).not.toBe(signature);
  });
});
