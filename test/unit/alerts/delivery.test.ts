import type { SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { slackChannel } from '#lib/alerts/channels/slack.ts';
import { snsChannel } from '#lib/alerts/channels/sns.ts';
import { type HttpDelivery, postJson } from '#lib/alerts/delivery.ts';
import { TokenBucket } from '#lib/alerts/rate-limit.ts';
import { AirkickError } from '#lib/errors.ts';
import { fakeClock } from './fake-clock.ts';
import { baseAlert } from './fixtures.ts';
import { type ScriptedServer, scriptedServers } from './scripted-server.ts';

const retry = { retries: 3, baseDelayMs: 100, maxDelayMs: 1_000 };
/** What a webhook URL carries after its origin: the credential. */
const TOKEN_PATH = '/services/T000/B000/tokentokentokentoken';

const serve = scriptedServers();

/** A delivery to the server's token path; `check` and the limiter as given. */
function to(server: ScriptedServer, more: Partial<HttpDelivery> = {}): HttpDelivery {
  return { channel: 'slack', request: () => ({ url: `${server.url}${TOKEN_PATH}`, body: '{}' }), ...more };
}

/** The rejection of `work`, with how long it took to come. */
async function failure(work: Promise<unknown>): Promise<{ error: AirkickError; ms: number }> {
  const started = Date.now();
  const error = await work.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AirkickError);
  return { error: error as AirkickError, ms: Date.now() - started };
}

function expectNoToken(error: AirkickError): void {
  expect(error.message).not.toContain('tokentoken');
  expect(JSON.stringify(error)).not.toContain('tokentoken');
  expect(error.url).toBeUndefined();
}

describe('postJson against a local server', () => {
  it('retries 429 after its Retry-After, and 5xx and a cut connection with backoff, then succeeds', async () => {
    const server = await serve([
      { status: 429, headers: { 'retry-after': '3' } },
      { status: 500 },
      'drop',
      { status: 200, body: 'ok' },
    ]);
    const clock = fakeClock();
    await postJson(to(server), { clock, retry, random: () => 1 });
    expect(server.requests).toHaveLength(4);
    expect(clock.sleeps).toEqual([3_000, 200, 400]);
  });

  it('does not follow a redirect: a followed POST would become a GET that "delivers" nothing', async () => {
    const server = await serve([
      {
        status: 302,
        headers: { location: 'https://login.example.com/sso?next=/services/T000/B000/tokentokentokentoken' },
      },
      { status: 200, body: 'ok' },
    ]);
    const { error } = await failure(postJson(to(server), { clock: fakeClock(), retry }));
    expect(server.requests).toEqual([TOKEN_PATH]);
    expect(error.code).toBe('REDIRECT');
    expect(error.message).toBe(
      `slack: ${server.url} answered HTTP 302 redirecting to https://login.example.com`,
    );
    expectNoToken(error);
  });

  it('gives up after the configured retries with a typed error naming channel and origin, not the path', async () => {
    const server = await serve([{ status: 503 }]);
    const { error } = await failure(postJson(to(server), { clock: fakeClock(), retry }));
    expect(server.requests).toHaveLength(4);
    expect(error.code).toBe('SERVER');
    expect(error.message).toBe(`slack: ${server.url} answered HTTP 503`);
    expectNoToken(error);
  });

  it('does not retry a 4xx or a vendor error in a 200 body', async () => {
    const bad = await serve([{ status: 400, body: 'invalid_payload' }]);
    const { error: e1 } = await failure(postJson(to(bad), { clock: fakeClock(), retry }));
    expect(e1.code).toBe('BAD_REQUEST');
    expect(e1.message).toContain('invalid_payload');
    expect(bad.requests).toHaveLength(1);

    const vendor = await serve([{ status: 200, body: '{"errcode":310000,"errmsg":"sign not match"}' }]);
    const check = (body: string) =>
      JSON.parse(body).errcode === 0 ? undefined : { message: 'sign not match' };
    const { error: e2 } = await failure(
      postJson(to(vendor, { channel: 'dingtalk', check }), { clock: fakeClock(), retry }),
    );
    expect(e2.message).toBe(`dingtalk: ${vendor.url} refused the message: sign not match`);
    expect(vendor.requests).toHaveLength(1);
  });

  it('builds a fresh request (new signature timestamp) for every attempt', async () => {
    const server = await serve([{ status: 502 }, { status: 200 }]);
    const clock = fakeClock(1_000);
    const request = (now: number) => ({ url: `${server.url}/h?t=${now}`, body: '{}' });
    await postJson({ channel: 't', request }, { clock, retry, random: () => 1 });
    expect(server.requests).toEqual(['/h?t=1000', '/h?t=1100']);
  });

  it('cuts a server that never answers at the deadline, not at the 10 s default, naming only the origin', async () => {
    const server = await serve(['hang']);
    const { error, ms } = await failure(postJson(to(server), { retry }, { deadline: Date.now() + 300 }));
    expect(ms).toBeLessThan(2_000);
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toMatch(new RegExp(`^slack: ${server.url}: no answer within \\d+ ms$`));
    expect(Number(/within (\d+) ms/.exec(error.message)?.[1])).toBeLessThanOrEqual(300);
    // The one attempt used up the time: no retry started after the deadline.
    expect(server.requests).toHaveLength(1);
    expectNoToken(error);
  });

  it('honours Retry-After up to its cap, and starts no retry that would end after the deadline', async () => {
    const capped = await serve([{ status: 429, headers: { 'retry-after': '3600' } }, { status: 200 }]);
    const clock = fakeClock();
    await postJson(to(capped), { clock, retry: { ...retry, maxRetryAfterMs: 2_000 }, random: () => 0 });
    expect(clock.sleeps).toEqual([2_000]);
    expect(capped.requests).toHaveLength(2);

    const late = await serve([{ status: 429, headers: { 'retry-after': '60' } }, { status: 200 }]);
    const { error } = await failure(
      postJson(to(late), { clock: fakeClock(), retry }, { deadline: Date.now() + 10_000 }),
    );
    expect(error.code).toBe('RATE_LIMITED');
    expect(late.requests).toHaveLength(1);
  });

  it('stops an attempt in flight when the signal aborts, as a TIMEOUT naming the channel', async () => {
    const server = await serve(['hang']);
    const { error, ms } = await failure(
      postJson(to(server), { retry }, { signal: AbortSignal.timeout(100) }),
    );
    expect(ms).toBeLessThan(2_000);
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toBe('slack: delivery aborted by the caller');
    expect(server.requests).toHaveLength(1);
    expectNoToken(error);
  });

  it('stops a backoff when the signal aborts, and starts nothing once it has', async () => {
    const server = await serve([{ status: 503 }]);
    const slowRetry = { retries: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 };
    const { error, ms } = await failure(
      postJson(to(server), { retry: slowRetry, random: () => 1 }, { signal: AbortSignal.timeout(200) }),
    );
    expect(ms).toBeLessThan(2_000);
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toBe('slack: delivery aborted by the caller');
    expect(server.requests).toHaveLength(1);

    const { error: before } = await failure(postJson(to(server), { retry }, { signal: AbortSignal.abort() }));
    expect(before.message).toBe('slack: delivery aborted by the caller');
    expect(server.requests).toHaveLength(1);
  });

  it('waits for its turn under the rate limit only until the deadline', async () => {
    const server = await serve([{ status: 200 }]);
    const limiter = new TokenBucket({ burst: 1, perSecond: 1 });
    await postJson(to(server, { limiter }));
    const { error, ms } = await failure(
      postJson(to(server, { limiter }), {}, { deadline: Date.now() + 200 }),
    );
    expect(ms).toBeLessThan(2_000);
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toBe('slack: no turn under the rate limit before the deadline');
    expect(server.requests).toHaveLength(1);
  });

  it('refuses a URL it cannot parse without putting it in the message', async () => {
    const { error } = await failure(
      postJson({ channel: 'slack', request: () => ({ url: 'hooks/tokentokentoken', body: '{}' }) }),
    );
    expect(error.code).toBe('CONFIG');
    expectNoToken(error);
  });
});

describe('channels pass the caller’s signal on', () => {
  it('slack: an aborted signal ends the delivery as a TIMEOUT naming the channel', async () => {
    const server = await serve(['hang']);
    const slack = slackChannel({ url: `${server.url}${TOKEN_PATH}`, rateLimit: false, name: 'slack-ops' });
    const { error } = await failure(slack.send(baseAlert, { signal: AbortSignal.timeout(100) }));
    expect(error.message).toBe('slack-ops: delivery aborted by the caller');
  });

  it('sns: hands the signal to the SDK as abortSignal and stops waiting when it aborts', async () => {
    const given: (AbortSignal | undefined)[] = [];
    // An SDK that notices nothing: the channel must stop waiting on its own.
    const send = (_command: unknown, options?: { abortSignal?: AbortSignal }) => {
      given.push(options?.abortSignal);
      return new Promise<never>(() => {});
    };
    const client = { send } as unknown as Pick<SNSClient, 'send'>;
    const sns = snsChannel({ topicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts', client });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const { error } = await failure(sns.send(baseAlert, { signal: controller.signal }));
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toBe('sns: delivery aborted by the caller');
    expect(given[0]?.aborted).toBe(true);

    const late = await failure(sns.send(baseAlert, { deadline: Date.now() + 100 }));
    expect(late.error.message).toBe(
      'sns: Publish to arn:aws:sns:eu-west-1:123456789012:alerts: no answer before the deadline',
    );
  });
});

describe('TokenBucket', () => {
  it('lets a burst through, then paces at the sustained rate, in arrival order', async () => {
    const clock = fakeClock(0);
    const bucket = new TokenBucket({ burst: 2, perSecond: 0.5 }, clock);
    const order: [number, number][] = [];
    await Promise.all([0, 1, 2, 3].map((i) => bucket.take().then(() => order.push([i, clock.now()]))));
    expect(order).toEqual([
      [0, 0],
      [1, 0],
      [2, 2_000],
      [3, 4_000],
    ]);
  });

  it('never lets more than the documented limit through in any window of the vendor', async () => {
    // DingTalk: 20 per minute. Send 60 and count the worst sliding minute.
    const clock = fakeClock(0);
    const bucket = new TokenBucket({ burst: 10, perSecond: 10 / 60 }, clock);
    const times: number[] = [];
    for (let i = 0; i < 60; i++) {
      await bucket.take();
      times.push(clock.now());
    }
    const worst = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 60_000).length));
    expect(worst).toBeLessThanOrEqual(20);
  });
});
