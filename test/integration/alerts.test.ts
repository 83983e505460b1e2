import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  GetItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadServerless } from '#cli/local/config-files.ts';
import { snsChannel } from '#lib/alerts/channels/sns.ts';
import {
  type Alert,
  type AlertLogger,
  type AlertStateStore,
  airflowVariableStateStore,
  createAlertingFromEnv,
  createAlertMonitor,
  createNotifier,
  createRedisClient,
  DYNAMODB_KEY,
  DYNAMODB_TTL_ATTRIBUTE,
  dynamodbStateStore,
  type MonitorOptions,
  type RespOptions,
  redisStateStore,
  variableKey,
} from '#lib/alerts/index.ts';
import { createAirflowClient } from '#lib/client.ts';
import { ALERTING_RESERVE_MS } from '#lib/jobs/context.ts';
import { checkHealth } from '#lib/jobs/health.ts';
import { ensurePythonTool } from '#test/airflow/provision.ts';
import { adminFetch } from '#test/support/airflow-rest.ts';
import { tcpProxy } from '#test/support/fault-proxy.ts';
import { allProviders, apiOf, startTarget } from '#test/support/targets.ts';

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

/**
 * moto_server's own entry point, serving one request at a time. DynamoDB applies the writes to one
 * item one after another, each condition checked against the write before; moto's default threaded
 * server checks and writes without a lock, so two racing conditional writes could both pass there.
 */
const SERIAL_MOTO_SERVER = `
import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
run_simple(sys.argv[1], int(sys.argv[2]), DomainDispatcherApplication(create_backend_app),
           threaded=False, request_handler=MotoRequestHandler)
`;

/** One moto server for the file, started on first use: SNS and DynamoDB share it. */
let motoServer: Promise<{ endpoint: string; process: ChildProcess }> | undefined;
function moto(): Promise<string> {
  motoServer ??= (async () => {
    const tool = await ensurePythonTool('moto', join(import.meta.dirname, '../airflow/moto.lock'));
    const port = Number(new URL(await deadUrl()).port);
    const child = spawn(join(tool.bin, 'python'), ['-c', SERIAL_MOTO_SERVER, '127.0.0.1', String(port)], {
      stdio: 'ignore',
      env: { ...process.env, MOTO_PORT: String(port) },
    });
    const endpoint = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const up = await fetch(`${endpoint}/moto-api/`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (i > 150) throw new Error('moto server did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    return { endpoint, process: child };
  })();
  return motoServer.then((m) => m.endpoint);
}
afterAll(async () => {
  (await motoServer?.catch(() => undefined))?.process.kill('SIGTERM');
});
const fakeCredentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

describe('Amazon SNS through moto', () => {
  let endpoint = '';

  beforeAll(async () => {
    endpoint = await moto();
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
// Faults between a client and a real server.

const REDIS_URL = 'redis://127.0.0.1:6379';
const until = async (condition: () => boolean) => {
  for (let i = 0; !condition(); i++) {
    if (i > 500) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
};

function captureMonitor(store: AlertStateStore, extra: Partial<MonitorOptions> = {}) {
  const sent: Alert[] = [];
  const { logger, lines } = recordingLogger();
  const monitor = createAlertMonitor({
    notifier: createNotifier({ channels: [{ name: 'capture', send: async (a) => void sent.push(a) }] }),
    store,
    repeatIntervalMs: 3_600_000,
    logger,
    ...extra,
  });
  const observe = async (healthy: boolean, key = 'health:prod') =>
    (await monitor.observe({ key, healthy, alert })).action;
  return { monitor, observe, sent, lines };
}

const failing = { status: 'unhealthy', since: 1_700_000_000_000, lastSentAt: 1_700_000_060_000 } as const;
const fine = { status: 'healthy', since: 1_700_000_120_000 } as const;

describe('alert state in the machine’s Redis', () => {
  const prefix = `airkick-test:${process.pid}:${Date.now()}:`;
  const raw = createClient({ url: REDIS_URL });
  const opened: { close(): Promise<void> }[] = [];
  const redis = (url: string, options: RespOptions = {}) => {
    const client = createRedisClient(url, options);
    opened.push(client);
    return client;
  };
  beforeAll(async () => {
    await raw.connect();
  });
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()));
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(keys);
    await raw.close();
  });

  it('keeps versioned state with a TTL, which another container reads the same', async () => {
    const store = redisStateStore(redis(REDIS_URL), { prefix, ttlMs: 86_400_000 });
    expect(await store.get('health:prod')).toEqual({ state: undefined, version: 0 });
    expect(await store.set('health:prod', failing, { ifVersion: 0 })).toBe(true);
    expect(await raw.get(`${prefix}health:prod`)).toBe(
      '{"status":"unhealthy","since":1700000000000,"lastSentAt":1700000060000,"version":1}',
    );
    expect(await raw.pTTL(`${prefix}health:prod`)).toBeGreaterThan(86_000_000);
    // A second, independently connected store (another function instance) sees the same state.
    expect(await redisStateStore(redis(REDIS_URL), { prefix }).get('health:prod')).toEqual({
      state: failing,
      version: 1,
    });
    await raw.set(`${prefix}corrupt`, 'not json');
    expect(await store.get('corrupt')).toEqual({ state: undefined, version: 0 });
    expect(await store.set('corrupt', fine, { ifVersion: 0 })).toBe(true);
    expect(await store.get('corrupt')).toEqual({ state: fine, version: 1 });
  });

  it('lets one of two writers that read the same version win', async () => {
    const a = redisStateStore(redis(REDIS_URL), { prefix });
    const b = redisStateStore(redis(REDIS_URL), { prefix });
    expect(await a.set('race', fine)).toBe(true);
    const results = await Promise.all([
      a.set('race', failing, { ifVersion: 1 }),
      b.set('race', failing, { ifVersion: 1 }),
    ]);
    expect(results.sort()).toEqual([false, true]);
    expect(await b.get('race')).toEqual({ state: failing, version: 2 });
    // Two monitors racing on one transition: one alert.
    const first = captureMonitor(a);
    const second = captureMonitor(b);
    await Promise.all([first.observe(false, 'race-monitor'), second.observe(false, 'race-monitor')]);
    expect(first.sent.length + second.sent.length).toBe(1);
  });

  it('reconnects on the next call after Redis killed its connection (CLIENT KILL)', async () => {
    // Database 9 marks this client's connections in CLIENT LIST.
    const client = redis(`${REDIS_URL}/9`);
    const { observe, sent, lines } = captureMonitor(redisStateStore(client, { prefix }));
    const ours = async () =>
      String(await raw.sendCommand(['CLIENT', 'LIST']))
        .split('\n')
        .filter((line) => / db=9 /.test(line))
        .map((line) => /^id=(\d+)/.exec(line)?.[1] ?? '');
    expect(await observe(false)).toBe('send');
    const [before] = await ours();
    expect(before).toBeDefined();
    await raw.sendCommand(['CLIENT', 'KILL', 'ID', before ?? '']);
    // The warm container's next invocation: still de-duplicated, through a new connection.
    expect(await observe(false)).toBe('quiet');
    expect(await observe(true)).toBe('recovered');
    expect(sent.map((a) => a.severity)).toEqual(['critical', 'resolved']);
    const after = await ours();
    expect(after).toHaveLength(1);
    expect(after).not.toContain(before);
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('fails a write whose connection is reset mid-command, and recovers on the next call', async () => {
    const proxy = await tcpProxy(6379);
    try {
      const store = redisStateStore(
        redis(`redis://127.0.0.1:${proxy.port}`, { connectTimeoutMs: 1_000, commandTimeoutMs: 5_000 }),
        { prefix },
      );
      expect(await store.set('mid', failing, { ifVersion: 0 })).toBe(true);
      await proxy.set('blackhole');
      const write = store.set('mid', fine, { ifVersion: 1 });
      await until(() => proxy.swallowed() > 0);
      proxy.killConnections();
      await expect(write).rejects.toMatchObject({ code: 'TRANSPORT' });
      await proxy.set('forward');
      expect(await store.get('mid')).toEqual({ state: failing, version: 1 });
      expect(await store.set('mid', fine, { ifVersion: 1 })).toBe(true);
      expect(proxy.accepted()).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it('ends a call by its deadline when Redis stops answering mid-run, then reconnects', async () => {
    const proxy = await tcpProxy(6379);
    try {
      const store = redisStateStore(redis(`redis://127.0.0.1:${proxy.port}`, { commandTimeoutMs: 10_000 }), {
        prefix,
      });
      expect(await store.set('hole', failing)).toBe(true);
      await proxy.set('blackhole');
      await expect(store.get('hole', { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      await expect(store.set('hole', fine, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      await proxy.set('forward');
      // The silent connection was dropped with the first timeout: nothing waits on it any more.
      expect(await store.get('hole')).toEqual({ state: failing, version: 1 });
      expect(proxy.accepted()).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  it('gives up on an address that accepts connections and never answers, and the alert still goes out', async () => {
    const silent = await tcpProxy(undefined);
    try {
      const url = `redis://:black-hole-pw-5521@127.0.0.1:${silent.port}/0`;
      const store = redisStateStore(redis(url, { connectTimeoutMs: 300, commandTimeoutMs: 300 }), { prefix });
      const error = await store.get('k').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'TIMEOUT' });
      expect(String((error as Error).message)).not.toContain('black-hole-pw-5521');
      const { monitor, sent } = captureMonitor(store, { stateTimeoutMs: 500 });
      const outcome = await monitor.observe({ key: 'k', healthy: false, alert });
      expect(outcome).toMatchObject({ action: 'send', withoutState: true });
      expect(sent).toHaveLength(1);
    } finally {
      await silent.close();
    }
  });
});

/** A DynamoDB client for the file's moto server, as one function container would hold it. */
const dynamodbClient = async () =>
  new DynamoDBClient({ endpoint: await moto(), region: 'eu-west-1', credentials: fakeCredentials });

/** Creates `name` exactly as serverless.yml declares AlertStateTable. */
async function createStateTable(client: DynamoDBClient, name: string): Promise<void> {
  const resources = (
    loadServerless() as { resources: { Resources: Record<string, { Properties: Record<string, unknown> }> } }
  ).resources.Resources;
  const declared = resources.AlertStateTable?.Properties ?? {};
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: declared.BillingMode as 'PAY_PER_REQUEST',
      KeySchema: declared.KeySchema as CreateTableCommandInput['KeySchema'],
      AttributeDefinitions: declared.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: declared.TimeToLiveSpecification as {
        AttributeName: string;
        Enabled: boolean;
      },
    }),
  );
}

describe('alert state in DynamoDB through moto', () => {
  const table = `airkick-alert-state-${process.pid}`;
  let client: DynamoDBClient;

  beforeAll(async () => {
    client = await dynamodbClient();
    await createStateTable(client, table);
  });

  it('keeps versioned state with an expiry, read consistently by another container', async () => {
    const store = dynamodbStateStore({ table, client, ttlMs: 30 * 86_400_000 });
    expect(await store.get('health:prod')).toEqual({ state: undefined, version: 0 });
    expect(await store.set('health:prod', failing, { ifVersion: 0 })).toBe(true);
    const { Item } = await client.send(
      new GetItemCommand({ TableName: table, Key: { [DYNAMODB_KEY]: { S: 'health:prod' } } }),
    );
    expect(Item?.state?.S).toBe('{"status":"unhealthy","since":1700000000000,"lastSentAt":1700000060000}');
    expect(Item?.version?.N).toBe('1');
    const expires = Number(Item?.[DYNAMODB_TTL_ATTRIBUTE]?.N);
    expect(expires).toBeGreaterThan(Date.now() / 1000 + 29 * 86_400);
    const other = dynamodbStateStore({
      table,
      client: await dynamodbClient(),
    });
    expect(await other.get('health:prod')).toEqual({ state: failing, version: 1 });
    expect(await other.set('health:prod', fine, { ifVersion: 0 })).toBe(false);
    expect(await other.set('health:prod', fine, { ifVersion: 1 })).toBe(true);
    expect(await store.get('health:prod')).toEqual({ state: fine, version: 2 });
  });

  it('lets one of two writers that read the same version win (ConditionExpression on version)', async () => {
    const a = dynamodbStateStore({ table, client });
    const b = dynamodbStateStore({
      table,
      client: await dynamodbClient(),
    });
    // In either order, the second write finds the version the first one made: it loses.
    expect((await a.get('ordered')).version).toBe(0);
    expect((await b.get('ordered')).version).toBe(0);
    expect(await b.set('ordered', failing, { ifVersion: 0 })).toBe(true);
    expect(await a.set('ordered', failing, { ifVersion: 0 })).toBe(false);
    // Side by side, as two containers would.
    const first = await Promise.all([
      a.set('race', failing, { ifVersion: 0 }),
      b.set('race', failing, { ifVersion: 0 }),
    ]);
    expect(first.sort()).toEqual([false, true]);
    const again = await Promise.all([
      a.set('race', fine, { ifVersion: 1 }),
      b.set('race', fine, { ifVersion: 1 }),
    ]);
    expect(again.sort()).toEqual([false, true]);
    expect(await a.get('race')).toEqual({ state: fine, version: 2 });
    const one = captureMonitor(a);
    const two = captureMonitor(b);
    await Promise.all([one.observe(false, 'race-monitor'), two.observe(false, 'race-monitor')]);
    expect(one.sent.length + two.sent.length).toBe(1);
  });

  it('names a missing table as a configuration error', async () => {
    const store = dynamodbStateStore({ table: 'airkick-no-such-table', client });
    await expect(store.get('k')).rejects.toMatchObject({
      code: 'CONFIG',
      message: expect.stringMatching(
        /^DynamoDB table airkick-no-such-table: GetItem failed: ResourceNotFoundException/,
      ),
    });
  });

  it('ends a call by its deadline when the endpoint accepts connections and never answers', async () => {
    const silent = await tcpProxy(undefined);
    try {
      const store = dynamodbStateStore({
        table,
        client: new DynamoDBClient({
          endpoint: `http://127.0.0.1:${silent.port}`,
          region: 'eu-west-1',
          credentials: fakeCredentials,
        }),
      });
      await expect(store.get('k', { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      await expect(store.set('k', fine, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      const { monitor, sent } = captureMonitor(store, { stateTimeoutMs: 500 });
      expect(await monitor.observe({ key: 'k', healthy: false, alert })).toMatchObject({
        action: 'send',
        withoutState: true,
      });
      expect(sent).toHaveLength(1);
    } finally {
      await silent.close();
    }
  });
});

describe('alert state in an Airflow Variable (explicit opt-in)', () => {
  it('keeps state in an Airflow Variable of the real Airflow and drives the monitor with it', async () => {
    const airflow = inject('airflow');
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
      expect(stored).toMatchObject({ status: 'healthy', version: 3 });
    } finally {
      await adminFetch(airflow, {
        method: 'DELETE',
        path: `/variables/${encodeURIComponent(variableKey(key))}`,
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------------

describe('health-check with its alarm state outside the Airflow it watches', () => {
  const config = {
    maxHeartbeatAgeSeconds: 300,
    importErrors: false,
    failedRunsDags: [],
    failedRunsLookbackMinutes: 10,
  };

  it.each(['dynamodb', 'redis'] as const)(
    '%s: one alert while the webserver refuses or never answers, one "resolved" once it is back',
    async (kind) => {
      const airflow = inject('airflow');
      const webhook = await track(webhookReceiver(SECRETS.webhook));
      // The webserver as the functions reach it: closed, black-holed, or the real one.
      const proxy = await tcpProxy(Number(new URL(airflow.baseUrl).port));
      const url = new URL(airflow.baseUrl);
      url.port = String(proxy.port);
      url.username = airflow.username;
      const client = createAirflowClient(`${url.toString().replace(/\/$/, '')}?api=${apiOf(airflow)}`, {
        password: airflow.password,
        providers: allProviders,
        fresh: true,
      });
      const table = `airkick-e2e-${process.pid}-${kind}`;
      const dynamodb = await dynamodbClient();
      if (kind === 'dynamodb') await createStateTable(dynamodb, table);
      const { logger, lines } = recordingLogger();
      const alerting = await createAlertingFromEnv(
        {
          AIRKICK_ALERT_WEBHOOK_URL: `${webhook.url}/airkick`,
          AIRKICK_ALERT_WEBHOOK_SECRET: SECRETS.webhook,
          AIRKICK_ALERT_STATE: kind === 'dynamodb' ? `dynamodb://${table}` : `${REDIS_URL}/0`,
        },
        { logger, dynamodb, http: { retry: fastRetry } },
      );
      const run = (budgetMs: number) =>
        checkHealth(config, {
          client,
          logger: { ...logger, debug() {} },
          metrics: { add() {} },
          alerting,
          deadline: Date.now() + budgetMs,
          now: () => new Date(),
        });
      const received = () =>
        webhook.received.map((r) => {
          const { title, severity } = JSON.parse(r.body).alert as Alert;
          return `${severity}: ${title}`;
        });
      try {
        await proxy.set('closed');
        const refused = await run(30_000);
        expect(refused.healthy).toBe(false);
        expect(refused.problems.join()).toMatch(/^Airflow is unreachable: /);
        expect((await run(30_000)).healthy).toBe(false);
        // Accepts connections, never answers: Airflow's share of the time runs out, alerting keeps its own.
        await proxy.set('blackhole');
        const silent = await run(ALERTING_RESERVE_MS + 3_000);
        expect(silent.problems.join()).toMatch(/^Airflow is unreachable: /);
        expect(proxy.swallowed()).toBeGreaterThan(0);
        expect(received()).toEqual([`critical: Airflow unhealthy: ${client.environment}`]);

        await proxy.set('forward');
        const back = await run(30_000);
        expect(back).toMatchObject({ healthy: true, problems: [] });
        expect((await run(30_000)).healthy).toBe(true);
        expect(received()).toEqual([
          `critical: Airflow unhealthy: ${client.environment}`,
          `resolved: Resolved: Airflow unhealthy: ${client.environment}`,
        ]);
        // The store answered every time: nothing was decided without it.
        expect(lines.filter((l) => /alert state/i.test(l.message))).toEqual([]);
      } finally {
        await alerting.close();
        await proxy.close();
        if (kind === 'redis') {
          const raw = createClient({ url: REDIS_URL });
          await raw.connect();
          await raw.del(`airkick:alert-state:health:${client.environment}`);
          await raw.close();
        }
      }
    },
  );

  it('airflow-variable (opt-in): a webserver that never answers still gets its alert out, noted as undeduplicated', async () => {
    const airflow = inject('airflow');
    const webhook = await track(webhookReceiver(SECRETS.webhook));
    const proxy = await tcpProxy(Number(new URL(airflow.baseUrl).port));
    const url = new URL(airflow.baseUrl);
    url.port = String(proxy.port);
    url.username = airflow.username;
    const client = createAirflowClient(`${url.toString().replace(/\/$/, '')}?api=${apiOf(airflow)}`, {
      password: airflow.password,
      providers: allProviders,
      fresh: true,
    });
    const { logger, lines } = recordingLogger();
    const alerting = await createAlertingFromEnv(
      {
        AIRKICK_ALERT_WEBHOOK_URL: `${webhook.url}/airkick`,
        AIRKICK_ALERT_WEBHOOK_SECRET: SECRETS.webhook,
        AIRKICK_ALERT_STATE: 'airflow-variable',
      },
      { logger, airflow: client, http: { retry: fastRetry } },
    );
    try {
      await proxy.set('blackhole');
      const verdict = await checkHealth(config, {
        client,
        logger: { ...logger, debug() {} },
        metrics: { add() {} },
        alerting,
        deadline: Date.now() + ALERTING_RESERVE_MS + 3_000,
        now: () => new Date(),
      });
      expect(verdict.healthy).toBe(false);
      const sent = webhook.received.map((r) => JSON.parse(r.body).alert as Alert);
      expect(sent.map((a) => a.title)).toEqual([`Airflow unhealthy: ${client.environment}`]);
      expect(sent[0]?.fields).toContainEqual({
        key: 'Alert state',
        value: 'unavailable (airflow-variable): this may repeat an earlier alert',
      });
      expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual(
        expect.arrayContaining([
          'Could not read alert state; deciding without it (alerts may repeat)',
          'Could not store alert state; the next run may alert again',
        ]),
      );
    } finally {
      await proxy.close();
    }
  });
});
