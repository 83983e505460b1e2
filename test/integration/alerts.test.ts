import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type Alert,
  type AlertLogger,
  airflowVariableStateStore,
  connectRedis,
  createAlertingFromEnv,
  createAlertMonitor,
  createNotifier,
  redisStateStore,
  snsChannel,
  variableKey,
} from '#lib/alerts/index.ts';
import { ensurePythonTool } from '#test/airflow/provision.ts';
import { startTarget } from '#test/support/targets.ts';

// ---------------------------------------------------------------------------------------------------
// Local receivers that check each request the way the vendor documents it.

interface Received {
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

type Reply = { status: number; body?: string; headers?: Record<string, string> };

interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

async function receiver(reply: (req: Received, index: number) => Reply): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const entry = {
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      received.push(entry);
      const answer = reply(entry, received.length - 1);
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A port nothing listens on: connections are refused. */
async function deadUrl(): Promise<string> {
  const r = await receiver(() => ({ status: 200 }));
  await r.close();
  return r.url;
}

const json = (value: unknown): Reply => ({
  status: 200,
  body: JSON.stringify(value),
  headers: { 'content-type': 'application/json' },
});

const equalSecrets = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

// Vendor checks, written from the vendors' documentation independently of lib/alerts.
const SECRETS = {
  dingtalk: 'SEC-dingtalk-receiver-secret-0001',
  feishu: 'feishu-receiver-secret-0002',
  webhook: 'whsec-receiver-secret-0003',
};

function dingtalkReceiver(secret: string) {
  return receiver((req) => {
    const timestamp = Number(req.query.get('timestamp'));
    const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
    if (req.query.get('access_token') !== 'dt-token-123456')
      return json({ errcode: 300001, errmsg: 'token is not exist' });
    if (!Number.isFinite(timestamp) || Math.abs(Date.now() - timestamp) > 3_600_000) {
      return json({ errcode: 310000, errmsg: 'invalid timestamp' });
    }
    if (!equalSecrets(req.query.get('sign') ?? '', expected))
      return json({ errcode: 310000, errmsg: 'sign not match' });
    const body = JSON.parse(req.body);
    if (
      body.msgtype !== 'markdown' ||
      typeof body.markdown?.title !== 'string' ||
      typeof body.markdown?.text !== 'string'
    ) {
      return json({ errcode: 40035, errmsg: 'missing parameter' });
    }
    if (Buffer.byteLength(req.body) > 20_000) return json({ errcode: 460101, errmsg: 'message too long' });
    return json({ errcode: 0, errmsg: 'ok' });
  });
}

function feishuReceiver(secret: string) {
  return receiver((req) => {
    const body = JSON.parse(req.body);
    const timestamp = Number(body.timestamp);
    const expected = createHmac('sha256', `${timestamp}\n${secret}`).update(Buffer.alloc(0)).digest('base64');
    if (typeof body.timestamp !== 'string' || Math.abs(Date.now() / 1000 - timestamp) > 3_600) {
      return json({
        code: 19021,
        msg: 'sign match fail or timestamp is not within one hour from current time',
      });
    }
    if (!equalSecrets(String(body.sign ?? ''), expected)) {
      return json({
        code: 19021,
        msg: 'sign match fail or timestamp is not within one hour from current time',
      });
    }
    if (body.msg_type !== 'text' || typeof body.content?.text !== 'string')
      return json({ code: 9499, msg: 'Bad Request' });
    if (Buffer.byteLength(req.body) > 20 * 1024) return json({ code: 9499, msg: 'request body too large' });
    return json({ code: 0, msg: 'success', data: {} });
  });
}

function webhookReceiver(secret: string) {
  return receiver((req) => {
    const timestamp = String(req.headers['x-airkick-timestamp'] ?? '');
    const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${req.body}`).digest('hex')}`;
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return { status: 401, body: 'stale' };
    if (!equalSecrets(String(req.headers['x-airkick-signature'] ?? ''), expected))
      return { status: 401, body: 'bad signature' };
    return { status: 204 };
  });
}

const slackReceiver = () =>
  receiver((req) => {
    const body = JSON.parse(req.body);
    return typeof body.text === 'string' && Array.isArray(body.blocks)
      ? { status: 200, body: 'ok' }
      : { status: 400, body: 'invalid_payload' };
  });

const wecomReceiver = () =>
  receiver((req) => {
    if (req.query.get('key') !== 'wecom-key-123456')
      return json({ errcode: 93000, errmsg: 'invalid webhook url' });
    const body = JSON.parse(req.body);
    if (body.msgtype !== 'markdown') return json({ errcode: 40008, errmsg: 'invalid message type' });
    if (Buffer.byteLength(body.markdown.content) > 4096)
      return json({ errcode: 40058, errmsg: 'content exceed max length' });
    return json({ errcode: 0, errmsg: 'ok' });
  });

const teamsReceiver = () =>
  receiver((req) => {
    const body = JSON.parse(req.body);
    const attachment = body.attachments?.[0];
    const ok =
      body.type === 'message' &&
      attachment?.contentType === 'application/vnd.microsoft.card.adaptive' &&
      attachment.content?.type === 'AdaptiveCard';
    return ok ? { status: 202 } : { status: 400, body: 'bad card' };
  });

function recordingLogger() {
  const lines: { level: string; message: string; extra: unknown[] }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: unknown[]) =>
      lines.push({ level, message, extra });
  const logger: AlertLogger = { info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

const alert: Alert = {
  title: 'DAG run failed',
  severity: 'critical',
  environment: 'integration',
  dagId: 'airkick_fail',
  runId: 'manual__1',
  summary: 'Task `boom` failed: ValueError("expected failure")',
  fields: [{ key: 'Try', value: '1 of 1' }],
  link: 'http://127.0.0.1/dags/airkick_fail/grid',
};

const fastRetry = { retries: 2, baseDelayMs: 50, maxDelayMs: 200 };
const open: Receiver[] = [];
const track = async (r: Promise<Receiver>) => {
  const value = await r;
  open.push(value);
  return value;
};
afterAll(async () => {
  await Promise.all(open.map((r) => r.close()));
});

// ---------------------------------------------------------------------------------------------------

describe('alert channels against local receivers', () => {
  it('delivers one alert to six HTTP channels configured from the environment, each verified as documented', async () => {
    const slack = await track(slackReceiver());
    const dingtalk = await track(dingtalkReceiver(SECRETS.dingtalk));
    const feishu = await track(feishuReceiver(SECRETS.feishu));
    const wecom = await track(wecomReceiver());
    const teams = await track(teamsReceiver());
    const webhook = await track(webhookReceiver(SECRETS.webhook));
    const { logger, lines } = recordingLogger();
    const alerting = await createAlertingFromEnv(
      {
        AIRKICK_ALERT_SLACK_URL: `${slack.url}/services/T0001/B0001/slacktokenslacktoken0001`,
        AIRKICK_ALERT_DINGTALK_URL: `${dingtalk.url}/robot/send?access_token=dt-token-123456`,
        AIRKICK_ALERT_DINGTALK_SECRET: SECRETS.dingtalk,
        AIRKICK_ALERT_FEISHU_URL: `${feishu.url}/open-apis/bot/v2/hook/00000000-0000-0000-0000-000000000001`,
        AIRKICK_ALERT_FEISHU_SECRET: 'ssm:/airkick/feishu-secret',
        AIRKICK_ALERT_WECOM_URL: `${wecom.url}/cgi-bin/webhook/send?key=wecom-key-123456`,
        AIRKICK_ALERT_TEAMS_URL: `${teams.url}/workflows/abc/triggers/manual/paths/invoke?sig=teamssig123456`,
        AIRKICK_ALERT_WEBHOOK_URL: `${webhook.url}/airkick`,
        AIRKICK_ALERT_WEBHOOK_SECRET: 'secretsmanager:airkick/webhook',
        AIRKICK_ALERT_STATE: 'memory',
      },
      {
        logger,
        resolver: async (ref) => (ref.source === 'ssm' ? SECRETS.feishu : SECRETS.webhook),
        http: { retry: fastRetry },
      },
    );
    const result = await alerting.notifier.notify({ ...alert, summary: '長い'.repeat(20_000) });
    expect(result.failed.map((f) => `${f.channel}: ${f.error.message}`)).toEqual([]);
    expect(result.delivered.sort()).toEqual(['dingtalk', 'feishu', 'slack', 'teams', 'webhook', 'wecom']);
    for (const r of [slack, dingtalk, feishu, wecom, teams, webhook]) expect(r.received).toHaveLength(1);
    expect(slack.received[0]?.path).toBe('/services/T0001/B0001/slacktokenslacktoken0001');
    expect(JSON.parse(webhook.received[0]?.body ?? '{}').alert.dagId).toBe('airkick_fail');
    expect(lines.map((l) => l.level)).toEqual(['info']);
  });

  it('reports a delivery as failed when the signing secret differs from the receiver’s', async () => {
    const dingtalk = await track(dingtalkReceiver(SECRETS.dingtalk));
    const feishu = await track(feishuReceiver(SECRETS.feishu));
    const webhook = await track(webhookReceiver(SECRETS.webhook));
    const { logger, lines } = recordingLogger();
    const alerting = await createAlertingFromEnv(
      {
        AIRKICK_ALERT_DINGTALK_URL: `${dingtalk.url}/robot/send?access_token=dt-token-123456`,
        AIRKICK_ALERT_DINGTALK_SECRET: 'SEC-wrong-secret-aaaa',
        AIRKICK_ALERT_FEISHU_URL: `${feishu.url}/open-apis/bot/v2/hook/00000000-0000-0000-0000-000000000002`,
        AIRKICK_ALERT_FEISHU_SECRET: 'feishu-wrong-secret-bbbb',
        AIRKICK_ALERT_WEBHOOK_URL: `${webhook.url}/airkick`,
        AIRKICK_ALERT_WEBHOOK_SECRET: 'whsec-wrong-secret-cccc',
        AIRKICK_ALERT_STATE: 'memory',
      },
      { logger, http: { retry: fastRetry } },
    );
    const result = await alerting.notifier.notify(alert);
    expect(result.delivered).toEqual([]);
    const failures = Object.fromEntries(result.failed.map((f) => [f.channel, f.error.message]));
    expect(failures.dingtalk).toMatch(/refused the message: errcode 310000: sign not match$/);
    expect(failures.feishu).toMatch(/refused the message: code 19021: sign match fail/);
    expect(failures.webhook).toMatch(/answered HTTP 401: bad signature$/);
    // Vendor refusals and 401 are not retried.
    expect([dingtalk.received.length, feishu.received.length, webhook.received.length]).toEqual([1, 1, 1]);
    const logged = JSON.stringify(lines);
    for (const secret of [
      'SEC-wrong-secret-aaaa',
      'feishu-wrong-secret-bbbb',
      'whsec-wrong-secret-cccc',
      'dt-token-123456',
    ]) {
      expect(logged).not.toContain(secret);
    }
  });

  it('retries a 429 after its Retry-After, and a 500 with backoff', async () => {
    const slack = await track(
      receiver((_req, i) =>
        i === 0
          ? { status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' }
          : { status: 200, body: 'ok' },
      ),
    );
    const wecom = await track(
      receiver((_req, i) => (i === 0 ? { status: 500, body: 'oops' } : json({ errcode: 0, errmsg: 'ok' }))),
    );
    const alerting = await createAlertingFromEnv(
      {
        AIRKICK_ALERT_SLACK_URL: `${slack.url}/services/T/B/retrytokenretrytoken0001`,
        AIRKICK_ALERT_WECOM_URL: `${wecom.url}/cgi-bin/webhook/send?key=wecom-key-123456`,
        AIRKICK_ALERT_STATE: 'memory',
      },
      { http: { retry: fastRetry } },
    );
    const result = await alerting.notifier.notify(alert);
    expect(result.delivered.sort()).toEqual(['slack', 'wecom']);
    expect(slack.received).toHaveLength(2);
    expect(wecom.received).toHaveLength(2);
    const [first, second] = slack.received;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('paces Slack at one message a second, in order, delaying rather than dropping', async () => {
    const slack = await track(slackReceiver());
    const alerting = await createAlertingFromEnv(
      {
        AIRKICK_ALERT_SLACK_URL: `${slack.url}/services/T/B/pacetokenpacetoken000001`,
        AIRKICK_ALERT_STATE: 'memory',
      },
      {},
    );
    const results = await Promise.all(
      [1, 2, 3].map((n) => alerting.notifier.notify({ ...alert, title: `alert ${n}` })),
    );
    expect(results.every((r) => r.delivered.includes('slack'))).toBe(true);
    expect(slack.received.map((r) => JSON.parse(r.body).blocks[0].text.text)).toEqual([
      '🔴 alert 1',
      '🔴 alert 2',
      '🔴 alert 3',
    ]);
    const times = slack.received.map((r) => r.at);
    expect((times[2] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(1_900);
  });

  it('delivers to the healthy channels while one is down', async () => {
    const slack = await track(slackReceiver());
    const webhook = await track(webhookReceiver(SECRETS.webhook));
    const alerting = await createAlertingFromEnv(
      {
        AIRKICK_ALERT_SLACK_URL: `${slack.url}/services/T/B/healthytokenhealthytoken1`,
        AIRKICK_ALERT_TEAMS_URL: `${await deadUrl()}/workflows/x?sig=teamssig123456`,
        AIRKICK_ALERT_WEBHOOK_URL: `${webhook.url}/airkick`,
        AIRKICK_ALERT_WEBHOOK_SECRET: SECRETS.webhook,
        AIRKICK_ALERT_STATE: 'memory',
      },
      { http: { retry: fastRetry } },
    );
    const result = await alerting.notifier.notify(alert);
    expect(result.delivered.sort()).toEqual(['slack', 'webhook']);
    expect(result.failed.map((f) => [f.channel, f.error.code])).toEqual([['teams', 'TRANSPORT']]);
    expect(result.failed[0]?.error.message).not.toContain('teamssig123456');
  });

  it('logs the full alert at ERROR, without secrets, when every channel is down', async () => {
    const { logger, lines } = recordingLogger();
    const alerting = await createAlertingFromEnv(
      {
        AIRKICK_ALERT_SLACK_URL: `${await deadUrl()}/services/T/B/downtokendowntokendown01`,
        AIRKICK_ALERT_DINGTALK_URL: `${await deadUrl()}/robot/send?access_token=down-token-7777`,
        AIRKICK_ALERT_DINGTALK_SECRET: 'SEC-down-secret-8888',
        AIRKICK_ALERT_STATE: 'memory',
      },
      { logger, http: { retry: fastRetry } },
    );
    const result = await alerting.notifier.notify(alert);
    expect(result.delivered).toEqual([]);
    expect(result.failed.map((f) => f.channel).sort()).toEqual(['dingtalk', 'slack']);
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toBe('Alert delivery failed on every channel');
    expect(errors[0]?.extra[0]).toMatchObject({ alert });
    const logged = JSON.stringify(lines);
    for (const secret of ['downtokendowntokendown01', 'down-token-7777', 'SEC-down-secret-8888']) {
      expect(logged).not.toContain(secret);
    }
  });
});

// ---------------------------------------------------------------------------------------------------

describe('Amazon SNS through moto_server', () => {
  let moto: ChildProcess | undefined;
  let endpoint = '';

  beforeAll(async () => {
    const tool = await ensurePythonTool('moto', join(import.meta.dirname, '../airflow/moto.lock'));
    const port = Number(new URL(await deadUrl()).port);
    moto = spawn(join(tool.bin, 'moto_server'), ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    endpoint = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const up = await fetch(`${endpoint}/moto-api/`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (i > 150) throw new Error('moto_server did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  afterAll(() => {
    moto?.kill('SIGTERM');
  });

  it('publishes with an ASCII Subject and the plain-text Message, received by an HTTP subscriber', async () => {
    const client = new SNSClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: `airkick-alerts-${process.pid}` }));
    const subscriber = await track(receiver(() => ({ status: 200 })));
    await client.send(
      new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: `${subscriber.url}/sns` }),
    );
    const notifier = createNotifier({ channels: [snsChannel({ topicArn: TopicArn ?? '', client })] });
    const result = await notifier.notify({ ...alert, title: 'DAG 失败', summary: 'x'.repeat(300_000) });
    expect(result).toEqual({ delivered: ['sns'], failed: [] });
    const notifications = subscriber.received
      .map((r) => JSON.parse(r.body))
      .filter((b) => b.Type === 'Notification');
    expect(notifications).toHaveLength(1);
    expect(notifications[0].Subject).toBe('[CRITICAL] integration: DAG');
    expect(notifications[0].Message).toMatch(/^\[CRITICAL\] DAG 失败\nEnvironment: integration/);
    expect(notifications[0].Message).toContain('… [truncated]');
    expect(Buffer.byteLength(notifications[0].Message)).toBeLessThanOrEqual(256 * 1024);
  });

  it('reports a publish to a missing topic as a failure', async () => {
    const client = new SNSClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
    });
    const notifier = createNotifier({
      channels: [snsChannel({ topicArn: 'arn:aws:sns:eu-west-1:123456789012:does-not-exist', client })],
    });
    const result = await notifier.notify(alert);
    expect(result.delivered).toEqual([]);
    expect(result.failed[0]?.error.message).toMatch(
      /^sns: Publish to arn:aws:sns:eu-west-1:123456789012:does-not-exist failed: NotFound/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------

describe('alert state stores', () => {
  it('keeps state in the machine’s Redis', async () => {
    const prefix = `airkick-test:${process.pid}:${Date.now()}:`;
    const raw = createClient({ url: 'redis://127.0.0.1:6379' });
    await raw.connect();
    const connected = await connectRedis('redis://127.0.0.1:6379');
    try {
      const store = redisStateStore(raw, prefix);
      expect(await store.get('health:prod')).toBeUndefined();
      await store.set('health:prod', { status: 'unhealthy', since: 1, lastSentAt: 2 });
      expect(await raw.get(`${prefix}health:prod`)).toBe('{"status":"unhealthy","since":1,"lastSentAt":2}');
      // A second, independently connected store (another function instance) sees the same state.
      expect(await redisStateStore(connected, prefix).get('health:prod')).toEqual({
        status: 'unhealthy',
        since: 1,
        lastSentAt: 2,
      });
      await raw.set(`${prefix}corrupt`, 'not json');
      expect(await store.get('corrupt')).toBeUndefined();
    } finally {
      const keys = await raw.keys(`${prefix}*`);
      if (keys.length > 0) await raw.del(keys);
      await raw.close();
      await connected.close();
    }
  });

  it('keeps state in an Airflow Variable of the real Airflow and drives the monitor with it', async () => {
    const airflow = inject('airflow');
    const auth = `Basic ${Buffer.from(`${airflow.username}:${airflow.password}`).toString('base64')}`;
    const variables = (await startTarget('self-hosted', airflow)).client;
    const key = `itest:${process.pid}:${Date.now()}`;
    const sent: Alert[] = [];
    let now = 1_700_000_000_000;
    const monitor = createAlertMonitor({
      notifier: createNotifier({
        channels: [{ name: 'capture', send: async (a) => void sent.push(a) }],
      }),
      store: airflowVariableStateStore(variables),
      repeatIntervalMs: 60_000,
      now: () => now,
    });
    try {
      const actions: string[] = [];
      for (const [advance, healthy] of [
        [0, false],
        [10_000, false],
        [60_000, false],
        [1_000, true],
        [1_000, true],
      ] as const) {
        now += advance;
        actions.push((await monitor.observe({ key, healthy, alert })).action);
      }
      expect(actions).toEqual(['send', 'quiet', 'repeat', 'recovered', 'quiet']);
      expect(sent.map((a) => a.severity)).toEqual(['critical', 'critical', 'resolved']);
      const stored = JSON.parse((await variables.getVariable(variableKey(key))) ?? '{}');
      expect(stored.status).toBe('healthy');
    } finally {
      await fetch(`${airflow.baseUrl}/api/v1/variables/${encodeURIComponent(variableKey(key))}`, {
        method: 'DELETE',
        headers: { authorization: auth },
      });
    }
  });
});
