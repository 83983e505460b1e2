/**
 * Fault injection (issue 13): the real Lambda and FC handlers, cold-started with their environment,
 * against the real Airflow through the MWAA and DMS emulators (or directly), with an HTTP fault proxy
 * in front of Airflow's webserver; a black hole, refused connections, answers lost after the POST
 * arrived, slow answers, 3xx, 5xx and 429 with Retry-After; the scheduler and the webserver stopped
 * (SIGSTOP: the harness cannot restart a killed component, and every later suite needs them); the
 * alert store's Redis connection reset mid-command. For each: the function ends before its deadline,
 * every upload is either triggered or reported and, redelivered as the platform would, ends as
 * exactly one DAG run (or, for an asset rule, one asset event); alerts go out once and resolve once;
 * no output line carries a secret. Asset rules also with their claims in the alert-state store:
 * duplicates delivered at the same moment to two containers, and a claim store that never answers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseUploadEvent, uploadRunId } from '#lib/events/index.ts';
import type { Cloud } from '#lib/host/names.ts';
import { claimKey } from '#lib/jobs/claims.ts';
import { freePort } from '#test/airflow/airflow.ts';
import { ensurePythonTool } from '#test/airflow/provision.ts';
import { DMS_EMULATOR_CREDENTIALS } from '#test/emulators/dms.ts';
import { MWAA_EMULATOR_CREDENTIALS } from '#test/emulators/mwaa.ts';
import { adminFetch, assetEventsPerKey, setDagPaused } from '#test/support/airflow-rest.ts';
import {
  fcTimerEvent,
  lambdaContext,
  type ObjectSpec,
  ossEvent,
  scheduledEvent,
  sqsBatch,
} from '#test/support/events.ts';
import {
  type FaultProxy,
  type RequestFault,
  type RequestMatch,
  startFaultProxy,
  tcpProxy,
} from '#test/support/fault-proxy.ts';
import { coldStartHandler, type Handler } from '#test/support/handlers.ts';
import { startAlertReceiver } from '#test/support/receiver.ts';
import { startTarget, type Target, type TargetKind } from '#test/support/targets.ts';

const airflow = inject('airflow');
const DAG = 'airkick_conf';
/** The DAG scheduled on LANDING, the asset (dataset) the asset rules raise events on. */
const ASSET_DAG = 'airkick_on_asset';
const LANDING = 's3://airkick-assets/landing';
const REDIS_URL = 'redis://127.0.0.1:6379';
const uid = () => randomUUID().slice(0, 8);
/** Every bucket this file uploads to starts with it, so its runs can be found and removed. */
const BUCKETS = `faults-${process.pid}-${uid()}`;
const webhookSecret = 'whsec-faults-test-4c8e1f0a9b7d';
const table = `airkick-faults-${process.pid}`;
const POST_DAG_RUNS = { method: 'POST', path: /\/dags\/[^/]+\/dagRuns$/ };
const POST_ASSET_EVENTS = { method: 'POST', path: /\/(assets|datasets)\/events$/ };
const LIST_ASSET_EVENTS = { method: 'GET', path: /\/(assets|datasets)\/events$/ };

let receiver: Awaited<ReturnType<typeof startAlertReceiver>>;
let motoEndpoint = '';
let moto: ChildProcess | undefined;
const savedEnv = { ...process.env };
const opened: { stop(): Promise<void> }[] = [];
const proxies: FaultProxy[] = [];
const redisKeys: string[] = [];

// Everything printed while the handlers ran (Powertools writes INFO to stdout, WARN and ERROR to stderr).
const printed: string[] = [];
const writeOut = process.stdout.write.bind(process.stdout);
const writeErr = process.stderr.write.bind(process.stderr);
const capture =
  (write: typeof writeOut) =>
  (chunk: string | Uint8Array, ...rest: never[]) => {
    printed.push(String(chunk));
    return write(chunk, ...rest);
  };

/** One moto server, requests served one at a time, for the DynamoDB alert state of the Lambda functions. */
const SERIAL_MOTO_SERVER = `
import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
run_simple(sys.argv[1], int(sys.argv[2]), DomainDispatcherApplication(create_backend_app),
           threaded=False, request_handler=MotoRequestHandler)
`;

async function startMoto(): Promise<void> {
  const tool = await ensurePythonTool('moto', join(import.meta.dirname, '../airflow/moto.lock'));
  const port = await freePort();
  moto = spawn(join(tool.bin, 'python'), ['-c', SERIAL_MOTO_SERVER, '127.0.0.1', String(port)], {
    stdio: 'ignore',
  });
  motoEndpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${motoEndpoint}/moto-api/`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (i > 150) throw new Error('moto server did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  const dynamodb = new DynamoDBClient({
    endpoint: motoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    }),
  );
}

const setPaused = async (paused: boolean) => {
  await setDagPaused(airflow, DAG, paused);
  await setDagPaused(airflow, ASSET_DAG, paused, { dropQueued: true });
};

interface Run {
  dag_run_id: string;
  conf: { bucket?: string; key?: string; objects?: { bucket: string; key: string }[] } | null;
}

/** Every run of the DAG (paged by row id, which both major versions order by). */
async function allRuns(): Promise<Run[]> {
  const runs: Run[] = [];
  for (let page = 0; page < 200; page++) {
    const response = await adminFetch(airflow, {
      path: `/dags/${DAG}/dagRuns`,
      query: `limit=100&offset=${page * 100}&order_by=id`,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { dag_runs: Run[] };
    runs.push(...body.dag_runs);
    if (body.dag_runs.length < 100) break;
  }
  return runs;
}

/** The object keys a run carries: one per object (per-object runs), or a list (a per-batch run). */
const keysOf = (run: Run, bucket: string): string[] =>
  run.conf?.bucket === bucket && run.conf.key !== undefined
    ? [run.conf.key]
    : (run.conf?.objects ?? []).filter((o) => o.bucket === bucket).map((o) => o.key);

/** How many runs carry each key of `bucket`. */
async function runsPerKey(bucket: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const run of await allRuns())
    for (const key of keysOf(run, bucket)) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

type PerKey = (bucket: string) => Promise<Map<string, number>>;

/** How many asset events carry each key of `bucket`. */
const eventsPerKey: PerKey = (bucket) => assetEventsPerKey(airflow, bucket);

/** Exactly one run (or, with `perKey = eventsPerKey`, one asset event) per object. */
async function expectOneRunPerObject(
  bucket: string,
  objects: { key: string }[],
  perKey: PerKey = runsPerKey,
): Promise<void> {
  const counts = await perKey(bucket);
  expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(objects.map((o) => [o.key, 1])));
}

beforeAll(async () => {
  process.stdout.write = capture(writeOut) as typeof process.stdout.write;
  process.stderr.write = capture(writeErr) as typeof process.stderr.write;
  [receiver] = await Promise.all([startAlertReceiver(webhookSecret), startMoto()]);
  // Queued runs of a paused DAG start no task: a task process per run would load the 2-core machine.
  // A paused DAG scheduled on an asset gets no run from its events either.
  await setPaused(true);
});

afterAll(async () => {
  process.stdout.write = writeOut;
  process.stderr.write = writeErr;
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  await Promise.allSettled([...opened.map((o) => o.stop()), ...proxies.map((p) => p.close())]);
  await receiver?.stop();
  moto?.kill('SIGTERM');
  const mine = (await allRuns()).filter((run) =>
    [run.conf?.bucket, ...(run.conf?.objects ?? []).map((o) => o.bucket)].some((b) => b?.startsWith(BUCKETS)),
  );
  for (const run of mine)
    await adminFetch(airflow, {
      method: 'DELETE',
      path: `/dags/${DAG}/dagRuns/${encodeURIComponent(run.dag_run_id)}`,
    });
  await setPaused(false);
  if (redisKeys.length > 0) {
    const raw = createClient({ url: REDIS_URL });
    await raw.connect();
    await raw.del(redisKeys);
    await raw.close();
  }
});

/** A fault proxy in front of Airflow's webserver, and a target whose every call to Airflow goes through it. */
async function behindProxy(kind: TargetKind): Promise<{ proxy: FaultProxy; target: Target }> {
  const proxy = await startFaultProxy(airflow.baseUrl);
  proxies.push(proxy);
  // Its own environment name, so its alert state and alert titles are its own.
  const name = `faults${uid()}`;
  const target = await startTarget(kind, airflow, {
    upstream: proxy.url,
    mwaa: { environmentName: name },
    dms: { airflowId: `af-${name}` },
  });
  opened.push(target);
  return { proxy, target };
}

/** The alert state each cloud keeps outside the Airflow it watches: DynamoDB on AWS, Redis on FC. */
function stateFor(cloud: Cloud, target: Target, redisUrl = `${REDIS_URL}/0`): Record<string, string> {
  if (cloud === 'aws') return { AIRKICK_ALERT_STATE: `dynamodb://${table}` };
  redisKeys.push(`airkick:alert-state:health:${target.client.environment}`);
  return { AIRKICK_ALERT_STATE: redisUrl };
}

/** The handler as a new container loads it, pointed at `target`. */
function coldStart(fn: string, cloud: Cloud, target: Target, env: Record<string, string> = {}) {
  return coldStartHandler(fn, cloud, {
    AIRKICK_ENV: target.environment,
    AIRKICK_ALERT_WEBHOOK_URL: receiver.url,
    AIRKICK_ALERT_WEBHOOK_SECRET: webhookSecret,
    AWS_ENDPOINT_URL_DYNAMODB: motoEndpoint,
    ...(target.kind === 'self-hosted' ? { AIRKICK_AIRFLOW_PASSWORD: airflow.password } : {}),
    ...env,
  });
}

function fcContext(timeoutMs: number) {
  return {
    requestId: `fc-${uid()}`,
    credentials: DMS_EMULATOR_CREDENTIALS,
    function: { name: 'airkick-faults', timeout: timeoutMs / 1000 },
    region: 'cn-hangzhou',
  };
}

interface Invocation<R> {
  result?: R;
  error?: Error;
  /** When the platform would have stopped the invocation, and when it ended. */
  deadline: number;
  ended: number;
}

/** One invocation with `budgetMs` left on the platform's clock (Lambda's remaining time, FC's timeout). */
async function invoke<R>(handler: Handler, cloud: Cloud, event: unknown, budgetMs: number) {
  const deadline = Date.now() + budgetMs;
  const context = cloud === 'aws' ? lambdaContext(budgetMs) : fcContext(budgetMs);
  const outcome: Invocation<R> = { deadline, ended: 0 };
  try {
    outcome.result = (await handler(event, context)) as R;
  } catch (error) {
    outcome.error = error as Error;
  }
  outcome.ended = Date.now();
  return outcome;
}

// ---------------------------------------------------------------------------------------------------

interface Verdict {
  healthy: boolean;
  problems: string[];
}

const CLOUDS = [
  { cloud: 'aws', kind: 'mwaa', via: 'Lambda via MWAA, state in DynamoDB' },
  { cloud: 'aliyun', kind: 'dms', via: 'FC via DMS, state in Redis' },
] as const;

const healthEvent = (cloud: Cloud) => {
  const now = new Date().toISOString().replace(/\.\d{3}/, '');
  return cloud === 'aws' ? scheduledEvent(now) : fcTimerEvent(now);
};

/** The health alerts the receiver got for one environment, oldest first. */
const healthAlerts = (target: Target) =>
  receiver.alerts
    .filter((a) => a.title.endsWith(`Airflow unhealthy: ${target.client.environment}`))
    .map((a) => a.severity);

describe('health-check', () => {
  it.each(CLOUDS)(
    '$via: with the webserver black-holed it alerts before its deadline',
    async ({ cloud, kind }) => {
      const { proxy, target } = await behindProxy(kind);
      const handler = await coldStart('health-check', cloud, target, stateFor(cloud, target));
      await proxy.set('blackhole');
      const run = await invoke<Verdict>(handler, cloud, healthEvent(cloud), 12_000);
      expect(run.error).toBeUndefined();
      expect(run.ended).toBeLessThan(run.deadline);
      expect(run.result?.healthy).toBe(false);
      expect(run.result?.problems.join()).toMatch(/^Airflow is unreachable: /);
      expect(proxy.held()).toBeGreaterThan(0);
      expect(healthAlerts(target)).toEqual(['critical']);
      await proxy.set('forward');
    },
  );

  it.each(CLOUDS)(
    '$via: a webserver refusing for three runs alerts once; back, "resolved" once; then nothing',
    async ({ cloud, kind }) => {
      const { proxy, target } = await behindProxy(kind);
      const handler = await coldStart('health-check', cloud, target, stateFor(cloud, target));
      await proxy.set('refuse');
      for (let i = 0; i < 3; i++) {
        const run = await invoke<Verdict>(handler, cloud, healthEvent(cloud), 30_000);
        expect(run.ended).toBeLessThan(run.deadline);
        expect(run.result?.healthy, `run ${i + 1}`).toBe(false);
        expect(run.result?.problems.join()).toMatch(/^Airflow is unreachable: /);
      }
      expect(healthAlerts(target)).toEqual(['critical']);
      await proxy.set('forward');
      const back = await invoke<Verdict>(handler, cloud, healthEvent(cloud), 30_000);
      expect(back.result).toMatchObject({ healthy: true, problems: [] });
      expect(healthAlerts(target)).toEqual(['critical', 'resolved']);
      const again = await invoke<Verdict>(handler, cloud, healthEvent(cloud), 30_000);
      expect(again.result?.healthy).toBe(true);
      expect(healthAlerts(target)).toEqual(['critical', 'resolved']);
    },
  );

  it('Lambda via MWAA: the scheduler stopped (SIGSTOP) alerts once; continued (SIGCONT), "resolved" once', async () => {
    const { target } = await behindProxy('mwaa');
    // Airflow 3's dag processor and triggerer beat less often than the 2 s the harness gives Airflow 2's.
    const handler = await coldStart('health-check', 'aws', target, {
      ...stateFor('aws', target),
      AIRKICK_HEALTH_MAX_HEARTBEAT_AGE_SECONDS: airflow.major === 3 ? '20' : '6',
    });
    // Every verdict, in order: the alerts must be exactly its transitions.
    const verdicts: Verdict[] = [];
    const poll = async () => {
      const run = await invoke<Verdict>(handler, 'aws', healthEvent('aws'), 30_000);
      expect(run.ended).toBeLessThan(run.deadline);
      verdicts.push(run.result as Verdict);
      return run.result as Verdict;
    };
    const pollUntil = async (healthy: boolean) => {
      let verdict = await poll();
      for (let i = 0; i < 40 && verdict.healthy !== healthy; i++) {
        await new Promise((r) => setTimeout(r, 1_000));
        verdict = await poll();
      }
      return verdict;
    };
    expect((await poll()).healthy).toBe(true);
    const scheduler = airflow.pids.scheduler as number;
    process.kill(-scheduler, 'SIGSTOP');
    try {
      const verdict = await pollUntil(false);
      expect(verdict.healthy).toBe(false);
      // airkick's own limit, or Airflow's (its scheduler_health_check_threshold, 30 s), whichever first.
      expect(verdict.problems.join()).toMatch(/scheduler (heartbeat is \d+ s old|is unhealthy)/);
      expect((await poll()).healthy).toBe(false);
      expect(healthAlerts(target)).toEqual(['critical']);
    } finally {
      process.kill(-scheduler, 'SIGCONT');
    }
    expect(await pollUntil(true)).toMatchObject({ healthy: true });
    expect(await poll()).toMatchObject({ healthy: true });
    // A scheduler that catches up after the stop may miss a beat once more on a loaded machine: each
    // transition seen gets its alert, none more.
    const transitions = verdicts.flatMap((v, i) =>
      i > 0 && v.healthy !== verdicts[i - 1]?.healthy ? [v.healthy ? 'resolved' : 'critical'] : [],
    );
    expect(transitions.slice(0, 2)).toEqual(['critical', 'resolved']);
    expect(healthAlerts(target)).toEqual(transitions);
    if (transitions.length > 2)
      console.log(
        `scheduler continued after SIGSTOP flapped: ${JSON.stringify(verdicts.map((v) => v.problems))}`,
      );
  });

  it('FC via DMS: the Redis connection reset while the state is read still gets the alert out, once', async () => {
    const { proxy, target } = await behindProxy('dms');
    const redis = await tcpProxy(6379);
    try {
      const handler = await coldStart(
        'health-check',
        'aliyun',
        target,
        stateFor('aliyun', target, `redis://127.0.0.1:${redis.port}/0`),
      );
      // A warm container: its Redis connection is open.
      const first = await invoke<Verdict>(handler, 'aliyun', healthEvent('aliyun'), 30_000);
      expect(first.result?.healthy).toBe(true);
      await proxy.set('refuse');
      await redis.set('blackhole');
      const before = redis.swallowed();
      const running = invoke<Verdict>(handler, 'aliyun', healthEvent('aliyun'), 30_000);
      // The state read is on the wire: Redis (or a middlebox) resets the connection under it.
      for (let i = 0; redis.swallowed() === before; i++) {
        if (i > 1_000) throw new Error('the state read never reached Redis');
        await new Promise((r) => setTimeout(r, 10));
      }
      redis.killConnections();
      await redis.set('forward');
      const run = await running;
      expect(run.ended).toBeLessThan(run.deadline);
      expect(run.result?.healthy).toBe(false);
      expect(healthAlerts(target)).toEqual(['critical']);
      // Still refusing: the state written after the alert keeps the next run quiet.
      const next = await invoke<Verdict>(handler, 'aliyun', healthEvent('aliyun'), 30_000);
      expect(next.result?.healthy).toBe(false);
      expect(healthAlerts(target)).toEqual(['critical']);
      await proxy.set('forward');
      expect((await invoke<Verdict>(handler, 'aliyun', healthEvent('aliyun'), 30_000)).result?.healthy).toBe(
        true,
      );
      expect(healthAlerts(target)).toEqual(['critical', 'resolved']);
    } finally {
      await redis.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------

interface Message {
  id: string;
  objects: ObjectSpec[];
}

type Delivery = { batchItemFailures: { itemIdentifier: string }[] } | { triggered: number };

const uploads = (bucket: string, n: number): ObjectSpec[] =>
  Array.from({ length: n }, (_, i) => ({
    bucket,
    key: `incoming/fault-${i}.csv`,
    sequencer: `00${i.toString(16).toUpperCase().padStart(14, '0')}`,
  }));

const RULES = JSON.stringify([{ prefix: 'incoming/', dagId: DAG }]);

/** The `POST dagRuns` requests the proxy saw. */
const posts = (proxy: FaultProxy) =>
  proxy.requests().filter((r) => r.method === POST_DAG_RUNS.method && POST_DAG_RUNS.path.test(r.path));

interface Redelivery {
  /** Counts what arrived per object key (default: DAG runs). */
  perKey?: PerKey;
  /** Runs after each delivery, before the next (to lift a standing fault). */
  afterDelivery?: (round: number) => Promise<void>;
}

/**
 * Delivers `messages` as one SQS batch, then redelivers what each invocation reported (all of them
 * when it failed as a whole), as SQS does, until nothing is reported. After each invocation every
 * message it did not report must have its run (or event) in Airflow. Returns the ids reported per round.
 */
async function sqsUntilDone(
  handler: Handler,
  messages: Message[],
  budgetMs: number,
  bucket: string,
  { perKey = runsPerKey, afterDelivery }: Redelivery = {},
): Promise<{ reported: string[][]; errors: string[] }> {
  let pending = messages;
  const reported: string[][] = [];
  const errors: string[] = [];
  for (let round = 1; pending.length > 0; round++) {
    if (round > 8)
      throw new Error(`still reported after 8 deliveries: ${pending.map((m) => m.id).join(', ')}`);
    const run = await invoke<Delivery>(handler, 'aws', sqsBatch(pending), budgetMs);
    expect(run.ended, `delivery ${round} ended after its deadline`).toBeLessThan(run.deadline);
    if (run.error) errors.push(run.error.message);
    const failed = run.error
      ? pending.map((m) => m.id)
      : (run.result as { batchItemFailures: { itemIdentifier: string }[] }).batchItemFailures.map(
          (f) => f.itemIdentifier,
        );
    reported.push(failed);
    await afterDelivery?.(round);
    const triggered = await perKey(bucket);
    for (const message of pending) {
      const key = message.objects[0]?.key ?? '';
      if (!failed.includes(message.id))
        expect(triggered.get(key), `${message.id} (${key}) was not reported: it needs exactly one run`).toBe(
          1,
        );
    }
    pending = pending.filter((m) => failed.includes(m.id));
  }
  return { reported, errors };
}

/** The OSS notification of `objects`, as FC passes it to the handler. */
const ossFor = (objects: ObjectSpec[]) =>
  ossEvent(objects.map((o) => ({ bucket: o.bucket, key: o.key, etag: o.sequencer, requestId: o.sequencer })));

/** Redelivers a direct OSS event while the invocation fails (FC's retries of an asynchronous invocation). */
async function ossUntilDone(
  handler: Handler,
  objects: ObjectSpec[],
  budgetMs: number,
  { afterDelivery }: Pick<Redelivery, 'afterDelivery'> = {},
): Promise<{ deliveries: number; errors: string[] }> {
  const event = () => ossFor(objects);
  const errors: string[] = [];
  for (let round = 1; ; round++) {
    if (round > 8) throw new Error(`still failing after 8 deliveries: ${errors.at(-1)}`);
    const run = await invoke<Delivery>(handler, 'aliyun', event(), budgetMs);
    expect(run.ended, `delivery ${round} ended after its deadline`).toBeLessThan(run.deadline);
    await afterDelivery?.(round);
    if (!run.error) return { deliveries: round, errors };
    errors.push(run.error.message);
  }
}

interface FaultCase {
  name: string;
  /** Queued in order for the requests `match` names (default `POST dagRuns`), each for `times` requests. */
  faults: { fault: RequestFault; times: number; match?: RequestMatch }[];
  /** The platform's time for each delivery. */
  budgetMs: number;
  /** The proxy's standing mode during the first delivery; every later one is forwarded. */
  first?: 'refuse' | 'blackhole';
}

const FAULTS: FaultCase[] = [
  {
    name: 'the first answer to POST dagRuns lost',
    faults: [{ fault: { mode: 'answer-then-drop' }, times: 1 }],
    budgetMs: 30_000,
  },
  // Held past the invocation's deadline: the run was created, its answer never came in time.
  {
    name: 'the first answer slow past the deadline',
    faults: [{ fault: { mode: 'slow', delayMs: 12_000 }, times: 1 }],
    budgetMs: 10_000,
  },
  {
    name: '502 on three POSTs, then 503 on nine',
    faults: [
      { fault: { mode: 'status', status: 502 }, times: 3 },
      { fault: { mode: 'status', status: 503 }, times: 9 },
    ],
    budgetMs: 30_000,
  },
  {
    name: '429 Retry-After 1 on five POSTs',
    faults: [{ fault: { mode: 'rate-limit', retryAfterSeconds: 1 }, times: 5 }],
    budgetMs: 30_000,
  },
];

/** Queues a case's faults, and after the deliveries checks that each was used as often as asked. */
function queueFaults(proxy: FaultProxy, { faults }: FaultCase): () => void {
  for (const { fault, times, match = POST_DAG_RUNS } of faults) proxy.next(fault, { times, match });
  const queuedFor = ({ method, path }: { method: string; path: string }) =>
    faults.some(({ match = POST_DAG_RUNS }) => match.method === method && (match.path?.test(path) ?? true));
  return () => {
    proxy.clear();
    const used = proxy
      .requests()
      .filter((r) => r.fault !== 'forward' && r.fault !== 'blackhole' && queuedFor(r))
      .map((r) => r.fault);
    expect(used).toEqual(faults.flatMap(({ fault, times }) => Array<string>(times).fill(fault.mode)));
  };
}

describe('on-upload: ten uploads through a faulty network end as exactly ten runs', () => {
  const SQS_TARGETS = [
    { kind: 'mwaa', via: 'Lambda SQS batch via MWAA' },
    { kind: 'self-hosted', via: 'Lambda SQS batch, self-hosted' },
  ] as const;

  for (const { kind, via } of SQS_TARGETS) {
    it.each(FAULTS)(`${via}: $name`, async (faultCase) => {
      const { proxy, target } = await behindProxy(kind);
      const handler = await coldStart('on-upload', 'aws', target, { AIRKICK_UPLOAD_RULES: RULES });
      const bucket = `${BUCKETS}-${uid()}`;
      const objects = uploads(bucket, 10);
      const checkFaults = queueFaults(proxy, faultCase);
      await sqsUntilDone(
        handler,
        objects.map((o, i) => ({ id: `m-${i}`, objects: [o] })),
        faultCase.budgetMs,
        bucket,
      );
      checkFaults();
      await expectOneRunPerObject(bucket, objects);
    });
  }

  it.each(FAULTS)('FC OSS event via DMS: $name', async (faultCase) => {
    const { proxy, target } = await behindProxy('dms');
    const handler = await coldStart('on-upload', 'aliyun', target, { AIRKICK_UPLOAD_RULES: RULES });
    const bucket = `${BUCKETS}-${uid()}`;
    const objects = uploads(bucket, 10);
    const checkFaults = queueFaults(proxy, faultCase);
    await ossUntilDone(handler, objects, faultCase.budgetMs);
    checkFaults();
    await expectOneRunPerObject(bucket, objects);
  });

  it('self-hosted: a 429 is retried no sooner than its Retry-After', async () => {
    const { proxy, target } = await behindProxy('self-hosted');
    const handler = await coldStart('on-upload', 'aws', target, { AIRKICK_UPLOAD_RULES: RULES });
    const bucket = `${BUCKETS}-${uid()}`;
    const [object] = uploads(bucket, 1) as [ObjectSpec];
    proxy.next({ mode: 'rate-limit', retryAfterSeconds: 2 }, { match: POST_DAG_RUNS });
    const run = await invoke<Delivery>(handler, 'aws', sqsBatch([{ id: 'm-0', objects: [object] }]), 30_000);
    expect(run.result).toEqual({ batchItemFailures: [] });
    const [limited, retried, ...more] = posts(proxy);
    expect([limited?.fault, retried?.fault, more]).toEqual(['rate-limit', 'forward', []]);
    expect((retried?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(2_000);
    await expectOneRunPerObject(bucket, [object]);
  });

  it('Lambda SQS via MWAA: every POST failing with 503 fails the invocation as a whole', async () => {
    const { proxy, target } = await behindProxy('mwaa');
    const handler = await coldStart('on-upload', 'aws', target, { AIRKICK_UPLOAD_RULES: RULES });
    const bucket = `${BUCKETS}-${uid()}`;
    const objects = uploads(bucket, 4);
    proxy.rule(({ method, path }) =>
      method === 'POST' && POST_DAG_RUNS.path.test(path) ? { mode: 'status', status: 503 } : undefined,
    );
    const messages = objects.map((o, i) => ({ id: `m-${i}`, objects: [o] }));
    const down = await invoke<Delivery>(handler, 'aws', sqsBatch(messages), 20_000);
    expect(down.ended).toBeLessThan(down.deadline);
    // The platform's Errors metric must see an outage, not a batch of item failures.
    expect(down.result, 'a batch where nothing went through must fail the invocation').toBeUndefined();
    expect(down.error?.message).toMatch(/records failed/);
    proxy.clear();
    expect((await sqsUntilDone(handler, messages, 20_000, bucket)).reported).toEqual([[]]);
    await expectOneRunPerObject(bucket, objects);
  });

  it('Lambda SQS via MWAA, per-batch mode: redelivered in another grouping, still one run per object', async () => {
    const { proxy, target } = await behindProxy('mwaa');
    const handler = await coldStart('on-upload', 'aws', target, {
      AIRKICK_UPLOAD_RULES: RULES,
      AIRKICK_UPLOAD_MODE: 'per-batch',
    });
    const bucket = `${BUCKETS}-${uid()}`;
    const objects = uploads(bucket, 9);
    const messages = objects.map((o, i) => ({ id: `m-${i}`, objects: [o] }));
    proxy.next({ mode: 'answer-then-drop' }, { match: POST_DAG_RUNS });
    await sqsUntilDone(handler, messages.slice(0, 6), 30_000, bucket);
    // At-least-once: messages that went through come again, grouped with new ones.
    await sqsUntilDone(handler, messages.slice(3), 30_000, bucket);
    await expectOneRunPerObject(bucket, objects);
  });

  it('Lambda SQS via MWAA: the webserver stopped (SIGSTOP) mid-batch; after SIGCONT redelivery ends as one run per object', async () => {
    const { proxy, target } = await behindProxy('mwaa');
    const handler = await coldStart('on-upload', 'aws', target, {
      AIRKICK_UPLOAD_RULES: RULES,
      AIRKICK_UPLOAD_CONCURRENCY: '2',
    });
    const bucket = `${BUCKETS}-${uid()}`;
    const objects = uploads(bucket, 10);
    const messages = objects.map((o, i) => ({ id: `m-${i}`, objects: [o] }));
    // Slow enough that the batch is still going when the webserver stops.
    proxy.rule(({ method, path }) =>
      method === 'POST' && POST_DAG_RUNS.path.test(path) ? { mode: 'slow', delayMs: 300 } : undefined,
    );
    const webserver = (airflow.pids.webserver ?? airflow.pids['api-server']) as number;
    const running = invoke<Delivery>(handler, 'aws', sqsBatch(messages), 10_000);
    const first = await (async () => {
      try {
        for (let i = 0; posts(proxy).length < 4; i++) {
          if (i > 2_000) throw new Error('the batch never reached Airflow');
          await new Promise((r) => setTimeout(r, 10));
        }
        process.kill(-webserver, 'SIGSTOP');
        return await running;
      } finally {
        process.kill(-webserver, 'SIGCONT');
      }
    })();
    proxy.clear();
    expect(first.ended).toBeLessThan(first.deadline);
    const failed = first.error
      ? messages.map((m) => m.id)
      : (first.result as { batchItemFailures: { itemIdentifier: string }[] }).batchItemFailures.map(
          (f) => f.itemIdentifier,
        );
    expect(failed.length).toBeGreaterThan(0);
    await sqsUntilDone(
      handler,
      messages.filter((m) => failed.includes(m.id)),
      30_000,
      bucket,
    );
    await expectOneRunPerObject(bucket, objects);
  });
});

describe('on-upload with an asset rule: ten uploads through a faulty network end as exactly ten events', () => {
  // The event POST is sent once (a repeat could raise a second event): each of these leaves records
  // to redeliver, and the redelivery finds the events that did arrive in the asset's recent list.
  // `redelivered`: whether the fault leaves records for the platform to deliver again; a read of the
  // event list is retried within the invocation.
  const ASSET_FAULTS: (FaultCase & { redelivered: boolean })[] = [
    {
      name: 'connections refused during the first delivery',
      faults: [],
      budgetMs: 15_000,
      first: 'refuse',
      redelivered: true,
    },
    {
      name: 'a black hole during the first delivery',
      faults: [],
      budgetMs: 8_000,
      first: 'blackhole',
      redelivered: true,
    },
    {
      name: 'the first answer to POST events lost',
      faults: [{ fault: { mode: 'answer-then-drop' }, times: 1, match: POST_ASSET_EVENTS }],
      budgetMs: 30_000,
      redelivered: true,
    },
    {
      name: '502 on three event POSTs, then 503 on two',
      faults: [
        { fault: { mode: 'status', status: 502 }, times: 3, match: POST_ASSET_EVENTS },
        { fault: { mode: 'status', status: 503 }, times: 2, match: POST_ASSET_EVENTS },
      ],
      budgetMs: 30_000,
      redelivered: true,
    },
    // Fewer than a read's four attempts: whichever reads get them, each is retried to an answer.
    {
      name: '503 on three reads of the event list',
      faults: [{ fault: { mode: 'status', status: 503 }, times: 3, match: LIST_ASSET_EVENTS }],
      budgetMs: 30_000,
      redelivered: false,
    },
  ];
  const rules = JSON.stringify([{ prefix: 'incoming/', asset: LANDING }]);
  const lift = (proxy: FaultProxy, faultCase: FaultCase) => {
    if (faultCase.first) return proxy.set(faultCase.first);
  };
  const afterFirst = (proxy: FaultProxy) => async (round: number) => {
    if (round === 1) await proxy.set('forward');
  };

  it.each(ASSET_FAULTS)('Lambda SQS batch via MWAA: $name', async (faultCase) => {
    const { proxy, target } = await behindProxy('mwaa');
    const handler = await coldStart('on-upload', 'aws', target, { AIRKICK_UPLOAD_RULES: rules });
    const bucket = `${BUCKETS}-${uid()}`;
    const objects = uploads(bucket, 10);
    const checkFaults = queueFaults(proxy, faultCase);
    await lift(proxy, faultCase);
    const { reported } = await sqsUntilDone(
      handler,
      objects.map((o, i) => ({ id: `m-${i}`, objects: [o] })),
      faultCase.budgetMs,
      bucket,
      { perKey: eventsPerKey, afterDelivery: afterFirst(proxy) },
    );
    checkFaults();
    expect((reported[0]?.length ?? 0) > 0, 'records reported by the first delivery').toBe(
      faultCase.redelivered,
    );
    await expectOneRunPerObject(bucket, objects, eventsPerKey);
  });

  it.each(ASSET_FAULTS)('FC OSS event via DMS: $name', async (faultCase) => {
    const { proxy, target } = await behindProxy('dms');
    const handler = await coldStart('on-upload', 'aliyun', target, { AIRKICK_UPLOAD_RULES: rules });
    const bucket = `${BUCKETS}-${uid()}`;
    const objects = uploads(bucket, 10);
    const checkFaults = queueFaults(proxy, faultCase);
    await lift(proxy, faultCase);
    const { deliveries } = await ossUntilDone(handler, objects, faultCase.budgetMs, {
      afterDelivery: afterFirst(proxy),
    });
    checkFaults();
    expect(deliveries > 1, 'the first delivery failed').toBe(faultCase.redelivered);
    await expectOneRunPerObject(bucket, objects, eventsPerKey);
  });
});

describe('on-upload with an asset rule and claims in the alert-state store', () => {
  const rules = JSON.stringify([{ prefix: 'incoming/', asset: LANDING }]);
  /** The store keys of a delivery's claims in `target`, for the Redis clean-up. */
  const claimKeys = (event: unknown, target: Target) =>
    parseUploadEvent(event).records.map(
      (r) =>
        `airkick:alert-state:${claimKey({ environment: target.client.environment, uri: LANDING, event: uploadRunId(r) })}`,
    );

  it.each(CLOUDS)(
    '$via: 20 objects delivered twice at the same moment, to two containers, raise 20 events',
    async ({ cloud, kind }) => {
      const { target } = await behindProxy(kind);
      const env = { AIRKICK_UPLOAD_RULES: rules, ...stateFor(cloud, target) };
      // Two containers: each its own module graph (loaded one after the other, as a cold start resets
      // the module registry), client and store connection.
      const a = await coldStart('on-upload', cloud, target, env);
      const b = await coldStart('on-upload', cloud, target, env);
      expect(a).not.toBe(b);
      const bucket = `${BUCKETS}-${uid()}`;
      const objects = uploads(bucket, 20);
      const from = printed.length;
      // A reported record comes back after a while (SQS's visibility timeout, FC's retry delay).
      const afterDelivery = () => new Promise<void>((resolve) => setTimeout(resolve, 1_000));
      if (cloud === 'aws') {
        const messages = (tag: string) => objects.map((o, i) => ({ id: `${tag}-${i}`, objects: [o] }));
        const redelivery = { perKey: eventsPerKey, afterDelivery };
        await Promise.all([
          sqsUntilDone(a, messages('a'), 30_000, bucket, redelivery),
          sqsUntilDone(b, messages('b'), 30_000, bucket, redelivery),
        ]);
      } else {
        redisKeys.push(...claimKeys(JSON.parse(String(ossFor(objects))), target));
        await Promise.all([
          ossUntilDone(a, objects, 30_000, { afterDelivery }),
          ossUntilDone(b, objects, 30_000, { afterDelivery }),
        ]);
      }
      await expectOneRunPerObject(bucket, objects, eventsPerKey);
      // The race happened: deliveries found their object claimed by the other container.
      const held = logLines(from).filter((l) =>
        JSON.stringify(l.error ?? '').includes('another delivery of'),
      );
      expect(held.length).toBeGreaterThan(0);
      console.log(
        `claims (${cloud}), Airflow ${airflow.version}: 20 objects twice at once -> 20 events, ${held.length} deliveries held and redelivered`,
      );
    },
  );

  it('FC via DMS: a claim store that never answers falls back to the event list: one event per object', async () => {
    const { target } = await behindProxy('dms');
    const redis = await tcpProxy(6379);
    try {
      await redis.set('blackhole');
      const handler = await coldStart('on-upload', 'aliyun', target, {
        AIRKICK_UPLOAD_RULES: rules,
        AIRKICK_ALERT_STATE: `redis://127.0.0.1:${redis.port}/0`,
        AIRKICK_ALERT_STATE_TIMEOUT_MS: '300',
      });
      const bucket = `${BUCKETS}-${uid()}`;
      const objects = uploads(bucket, 3);
      const from = printed.length;
      // Delivered twice, one after the other: the second finds the events in Airflow's list.
      expect((await ossUntilDone(handler, objects, 20_000)).deliveries).toBe(1);
      expect((await ossUntilDone(handler, objects, 20_000)).deliveries).toBe(1);
      await expectOneRunPerObject(bucket, objects, eventsPerKey);
      const warnings = logLines(from).filter((l) =>
        String(l.message).startsWith('upload claim store unavailable'),
      );
      expect(warnings).toHaveLength(6);
      expect(redis.swallowed()).toBeGreaterThan(0);
    } finally {
      await redis.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------

/** The handlers' JSON log lines printed since `from`. */
const logLines = (from: number): Record<string, unknown>[] =>
  printed
    .slice(from)
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });

describe('on-upload: a redirect in front of Airflow', () => {
  const LOCATION = 'https://sso.example.invalid/login?next=%2Fapi';

  it.each(['mwaa', 'self-hosted'] as const)(
    'Lambda SQS batch via %s: no run, every record reported, logged as a permanent REDIRECT',
    async (kind) => {
      const { proxy, target } = await behindProxy(kind);
      const handler = await coldStart('on-upload', 'aws', target, { AIRKICK_UPLOAD_RULES: RULES });
      const bucket = `${BUCKETS}-${uid()}`;
      const objects = uploads(bucket, 3);
      proxy.rule(({ method, path }) =>
        method === 'POST' && POST_DAG_RUNS.path.test(path)
          ? { mode: 'redirect', status: 301, location: LOCATION }
          : undefined,
      );
      const from = printed.length;
      const run = await invoke<Delivery>(
        handler,
        'aws',
        sqsBatch(objects.map((o, i) => ({ id: `m-${i}`, objects: [o] }))),
        30_000,
      );
      proxy.clear();
      expect(run.error).toBeUndefined();
      expect(run.result).toEqual({
        batchItemFailures: [{ itemIdentifier: 'm-0' }, { itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }],
      });
      // A redirect is not retried within the invocation either: one POST per record.
      expect(posts(proxy)).toHaveLength(3);
      expect((await runsPerKey(bucket)).size).toBe(0);
      const failures = logLines(from).filter((l) => String(l.message).startsWith('upload not triggered'));
      expect(failures).toHaveLength(3);
      for (const line of failures) {
        expect(line).toMatchObject({ level: 'ERROR', permanent: true });
        expect(JSON.stringify(line.error)).toContain('REDIRECT');
        // MWAA's InvokeRestApi passes on the status, not the redirect's Location.
        if (kind === 'self-hosted') expect(JSON.stringify(line.error)).toContain(LOCATION.split('?')[0]);
      }
    },
  );

  it('FC OSS event via DMS: a 302 elsewhere than a login page is no expired session: no run, logged with where it points, acknowledged', async () => {
    // DMS's own expired session is a 302 to its login page; any other 302 is a redirect in front of Airflow.
    const MOVED = 'https://status.example.invalid/maintenance';
    const { proxy, target } = await behindProxy('dms');
    const handler = await coldStart('on-upload', 'aliyun', target, { AIRKICK_UPLOAD_RULES: RULES });
    const bucket = `${BUCKETS}-${uid()}`;
    const objects = uploads(bucket, 2);
    proxy.rule(({ method, path }) =>
      method === 'POST' && POST_DAG_RUNS.path.test(path)
        ? { mode: 'redirect', status: 302, location: MOVED }
        : undefined,
    );
    const from = printed.length;
    const run = await invoke<Delivery>(
      handler,
      'aliyun',
      ossEvent(objects.map((o) => ({ bucket, key: o.key, etag: o.sequencer, requestId: o.sequencer }))),
      30_000,
    );
    proxy.clear();
    expect((await runsPerKey(bucket)).size).toBe(0);
    const failures = logLines(from).filter((l) => String(l.message).startsWith('upload not triggered'));
    expect(failures).toHaveLength(2);
    for (const line of failures) {
      expect(line).toMatchObject({ level: 'ERROR', permanent: true });
      expect(JSON.stringify(line.error)).toContain('REDIRECT');
      expect(JSON.stringify(line.error)).toContain(MOVED);
    }
    expect(run.error?.message).toBeUndefined();
    expect(run.result).toMatchObject({ triggered: 0 });
  });
});

// ---------------------------------------------------------------------------------------------------

describe('output', () => {
  it('no line the handlers printed carries a password, key, token, cookie or the webhook secret', () => {
    const lines = logLines(0);
    // The suites above logged through both clouds' handlers.
    expect([...new Set(lines.map((l) => l.cloud).filter(Boolean))].sort()).toEqual(['aliyun', 'aws']);
    const secrets = new Set([
      airflow.password,
      webhookSecret,
      MWAA_EMULATOR_CREDENTIALS.secretAccessKey,
      DMS_EMULATOR_CREDENTIALS.accessKeySecret,
      ...proxies.flatMap((p) => p.credentials()),
    ]);
    expect(secrets.size).toBeGreaterThan(4);
    const all = printed.join('');
    for (const secret of secrets)
      expect(all.includes(secret), `a printed line contains ${secret.slice(0, 4)}…`).toBe(false);
  });
});
