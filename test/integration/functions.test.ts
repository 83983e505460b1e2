/**
 * The four functions end to end: real-shaped events into the Lambda and FC handlers, through the
 * emulated MWAA and DMS gateways or directly, into the real Airflow; results checked in Airflow.
 */
import { randomUUID } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scheduleRunId } from '#lib/events/index.ts';
import {
  fcTimerEvent,
  lambdaContext,
  ossEvent,
  s3Notification,
  scheduledEvent,
  sqsBatch,
} from '#test/support/events.ts';
import { coldStartHandler } from '#test/support/handlers.ts';
import { startAlertReceiver } from '#test/support/receiver.ts';
import { airflowApi, startTarget, type Target } from '#test/support/targets.ts';

const airflow = inject('airflow');
const uid = () => randomUUID().slice(0, 8);
/** A schedule slot no other test uses (a random second in 2024). */
const uniqueSlot = () => new Date(Date.UTC(2024, 0, 1) + Math.floor(Math.random() * 3e7) * 1000);
const awsTime = (slot: Date) => slot.toISOString().replace('.000', '');

let mwaa: Target;
let dms: Target;
let selfHosted: Target;
const webhookSecret = 'whsec-functions-test-0123456789';
let receiver: Awaited<ReturnType<typeof startAlertReceiver>>;

// Everything the functions print (the logger writes errors to stderr), to check the log lines' shape
// and that no secret is in them.
const printed: string[] = [];
const streams = [process.stdout, process.stderr] as const;
const writes = streams.map((stream) => stream.write.bind(stream));

beforeAll(async () => {
  streams.forEach((stream, i) => {
    const write = writes[i] as (typeof writes)[number];
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      printed.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof stream.write;
  });
  [mwaa, dms, selfHosted, receiver] = await Promise.all([
    startTarget('mwaa', airflow),
    startTarget('dms', airflow),
    startTarget('self-hosted', airflow),
    startAlertReceiver(webhookSecret),
  ]);
});
afterAll(async () => {
  streams.forEach((stream, i) => {
    stream.write = writes[i] as (typeof writes)[number];
  });
  await Promise.all([mwaa?.stop(), dms?.stop(), receiver?.stop()]);
});

/** The handler as a new container loads it, pointed at `target`. */
function coldStart(fn: string, cloud: 'aws' | 'aliyun', target: Target, env: Record<string, string> = {}) {
  return coldStartHandler(fn, cloud, {
    AIRKICK_ENV: target.environment,
    AIRKICK_ALERT_WEBHOOK_URL: receiver.url,
    AIRKICK_ALERT_WEBHOOK_SECRET: webhookSecret,
    ...(target.kind === 'self-hosted' ? { AIRKICK_AIRFLOW_PASSWORD: airflow.password } : {}),
    ...env,
  });
}

function fcContext() {
  return {
    requestId: `fc-${uid()}`,
    credentials: { accessKeyId: 'EMULATOR-AK-ID', accessKeySecret: 'emulator-ak-secret-not-a-real-one' },
    function: { name: 'airkick-test', timeout: 60 },
    region: 'cn-hangzhou',
  };
}

/** A loopback port nothing listens on (connections are refused). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function jsonLines(chunks: string[]): Record<string, unknown>[] {
  return chunks
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function runsWithPrefix(dagId: string, prefix: string) {
  const newestFirst = airflow.major === 3 ? '-run_after' : '-execution_date';
  const { body } = await airflowApi(airflow, `/dags/${dagId}/dagRuns?limit=100&order_by=${newestFirst}`);
  return (body.dag_runs as { dag_run_id: string; conf: Record<string, unknown> }[]).filter((r) =>
    r.dag_run_id.startsWith(prefix),
  );
}

describe('trigger-dag', () => {
  const cases = [
    ['aws', 'self-hosted'],
    ['aws', 'mwaa'],
    ['aliyun', 'dms'],
  ] as const;
  it.each(cases)('%s via %s: a redelivered schedule event creates exactly one run', async (cloud, kind) => {
    const target = { 'self-hosted': selfHosted, mwaa, dms }[kind];
    const handler = await coldStart('trigger-dag', cloud, target, {
      AIRKICK_TRIGGER_DAGS: 'airkick_conf',
      AIRKICK_TRIGGER_CONF: '{"slot": "{{scheduled_time}}", "source": "schedule"}',
    });
    const slot = uniqueSlot();
    const time = awsTime(slot);
    const event = cloud === 'aws' ? () => scheduledEvent(time) : () => fcTimerEvent(time);
    const context = cloud === 'aws' ? lambdaContext : fcContext;
    const first = (await handler(event(), context())) as { outcomes: { alreadyTriggered: boolean }[] };
    const second = (await handler(event(), context())) as { outcomes: { alreadyTriggered: boolean }[] };
    expect(first.outcomes[0]?.alreadyTriggered).toBe(false);
    expect(second.outcomes[0]?.alreadyTriggered).toBe(true);
    const runId = scheduleRunId('airkick_conf', slot);
    const runs = await runsWithPrefix('airkick_conf', runId);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.conf).toEqual({ slot: slot.toISOString(), source: 'schedule' });
  });

  it('waits for a run and alerts when it fails', async () => {
    const handler = await coldStart('trigger-dag', 'aws', mwaa, {
      AIRKICK_TRIGGER_DAGS: 'airkick_fail',
      AIRKICK_TRIGGER_WAIT: 'true',
      AIRKICK_ALERT_STATE: 'memory',
    });
    const before = receiver.alerts.length;
    const time = awsTime(uniqueSlot());
    const result = (await handler(scheduledEvent(time), lambdaContext(120_000))) as {
      outcomes: { state: string }[];
    };
    expect(result.outcomes[0]?.state).toBe('failed');
    const alert = receiver.alerts.slice(before).find((a) => a.title.includes('airkick_fail'));
    expect(alert?.severity).toBe('critical');
  });

  it('fails the cold start with one message naming a wrong variable', async () => {
    await expect(coldStart('trigger-dag', 'aws', mwaa, { AIRKICK_TRIGGER_CONF: '[1,2]' })).rejects.toThrow(
      /AIRKICK_TRIGGER_DAGS is required; it expects comma-separated DAG ids.*; AIRKICK_TRIGGER_CONF expects a JSON object/,
    );
  });
});

describe('on-upload', () => {
  const hostileKey = `incoming/it's; "quoted"\n../a+b%20 ü${'日本語'.repeat(40)}.csv`;

  it('SQS batch: only the failing records are reported, and a redelivery creates no second run', async () => {
    const handler = await coldStart('on-upload', 'aws', mwaa, {
      AIRKICK_UPLOAD_RULES: JSON.stringify([
        { prefix: 'missing/', dagId: 'no_such_dag' },
        { prefix: 'incoming/', dagId: 'airkick_conf', conf: { pipeline: 'ingest' } },
      ]),
    });
    const bucket = `bucket-${uid()}`;
    const good = { bucket, key: hostileKey, sequencer: `00${uid()}` };
    const batch = sqsBatch([
      { id: 'm-good', objects: [good] },
      { id: 'm-missing-dag', objects: [{ bucket, key: 'missing/x.csv', sequencer: '01' }] },
    ]);
    batch.Records.push({
      ...batch.Records[0],
      messageId: 'm-malformed',
      body: '{"Records": [{"eventSource": 42',
    });
    const response = (await handler(batch, lambdaContext())) as {
      batchItemFailures: { itemIdentifier: string }[];
    };
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'm-malformed',
      'm-missing-dag',
    ]);

    const again = (await handler(sqsBatch([{ id: 'm-good-again', objects: [good] }]), lambdaContext())) as {
      batchItemFailures: unknown[];
    };
    expect(again.batchItemFailures).toEqual([]);
    const runs = (await runsWithPrefix('airkick_conf', 's3__')).filter((r) => r.conf.bucket === bucket);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.conf).toMatchObject({ key: hostileKey, bucket, pipeline: 'ingest', source: 's3' });
  });

  it('direct S3 notification: a record no rule matches is acknowledged, an unreachable Airflow fails the invocation', async () => {
    const handler = await coldStart('on-upload', 'aws', selfHosted, {
      AIRKICK_UPLOAD_RULES: JSON.stringify([{ prefix: 'incoming/', dagId: 'airkick_conf' }]),
    });
    const bucket = `bucket-${uid()}`;
    const event = s3Notification([
      { bucket, key: 'incoming/a.csv', sequencer: '0A' },
      { bucket, key: 'elsewhere/b.csv', sequencer: '0B' },
    ]);
    const from = printed.length;
    // No retry can make a rule match: retrying the invocation would only delay the good record's twin.
    expect(await handler(event, lambdaContext())).toEqual({ triggered: 1, permanentFailures: 1 });
    expect(
      (await runsWithPrefix('airkick_conf', 's3__')).filter((r) => r.conf.bucket === bucket),
    ).toHaveLength(1);
    const failure = jsonLines(printed.slice(from)).find((line) => line.record === 'Records[1]');
    expect(failure).toMatchObject({
      level: 'ERROR',
      permanent: true,
      message: 'upload not triggered; permanent failure, a retry cannot fix it',
    });
    expect(JSON.stringify(failure)).toContain(`no upload rule matches s3://${bucket}/elsewhere/b.csv`);

    // Airflow refusing connections: nothing went through, the platform must redeliver it.
    const closed = await coldStart('on-upload', 'aws', selfHosted, {
      AIRKICK_ENV: `http://${airflow.username}@127.0.0.1:${await closedPort()}/`,
      AIRKICK_UPLOAD_RULES: JSON.stringify([{ prefix: 'incoming/', dagId: 'airkick_conf' }]),
    });
    await expect(closed(event, lambdaContext())).rejects.toThrow(
      /^on-upload: 1 of 2 records failed and will be retried \(Records\[0\]\): network error: .*ECONNREFUSED/,
    );
  });

  it('OSS via DMS: the same upload delivered twice gives one run, with the key intact', async () => {
    const handler = await coldStart('on-upload', 'aliyun', dms, {
      AIRKICK_UPLOAD_RULES: JSON.stringify([{ bucket: 'oss-bucket', suffix: '.csv', dagId: 'airkick_conf' }]),
    });
    const object = { bucket: 'oss-bucket', key: hostileKey, etag: uid(), requestId: uid() };
    await handler(ossEvent([object]), fcContext());
    await handler(ossEvent([object]), fcContext());
    const runs = (await runsWithPrefix('airkick_conf', 'oss__')).filter((r) => r.conf.etag === object.etag);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.conf).toMatchObject({ key: hostileKey, source: 'oss' });
  });

  it('per-batch mode: one run per object, each naming its delivery, and a regrouped redelivery adds none', async () => {
    const handler = await coldStart('on-upload', 'aws', selfHosted, {
      AIRKICK_UPLOAD_RULES: JSON.stringify([{ prefix: 'incoming/', dagId: 'airkick_conf' }]),
      AIRKICK_UPLOAD_MODE: 'per-batch',
    });
    const bucket = `bucket-${uid()}`;
    const objects = ['a', 'b', 'c'].map((n, i) => ({ bucket, key: `incoming/${n}.csv`, sequencer: `0${i}` }));
    const [a, b, c] = objects as [(typeof objects)[0], (typeof objects)[0], (typeof objects)[0]];
    await handler(
      sqsBatch([
        { id: 'm-ab', objects: [a, b] },
        { id: 'm-c', objects: [c] },
      ]),
      lambdaContext(),
    );
    // SQS redelivers in another grouping: b alone, then a with c.
    await handler(sqsBatch([{ id: 'm-b', objects: [b] }]), lambdaContext());
    await handler(
      sqsBatch([
        { id: 'm-a', objects: [a] },
        { id: 'm-c2', objects: [c] },
      ]),
      lambdaContext(),
    );
    const runs = (await runsWithPrefix('airkick_conf', 's3__')).filter((r) => r.conf.bucket === bucket);
    expect(runs.map((r) => r.conf.key).sort()).toEqual([
      'incoming/a.csv',
      'incoming/b.csv',
      'incoming/c.csv',
    ]);
    const batches = new Set(runs.map((r) => JSON.stringify(r.conf.batch)));
    expect(batches.size).toBe(1);
    expect(runs[0]?.conf.batch).toEqual({ id: expect.stringMatching(/^batch__[0-9a-f]{32}$/), size: 3 });
  });
});

describe('health-check', () => {
  it('alerts once when the scheduler stops, stays quiet while it is down, and alerts on recovery', async () => {
    // Airflow 3's dag processor and triggerer beat less often than the 2 s the harness gives Airflow 2's.
    const handler = await coldStart('health-check', 'aws', selfHosted, {
      AIRKICK_HEALTH_MAX_HEARTBEAT_AGE_SECONDS: airflow.major === 3 ? '20' : '6',
      AIRKICK_ALERT_STATE: 'airflow-variable',
    });
    const scheduler = airflow.pids.scheduler as number;
    const mine = () =>
      receiver.alerts.filter(
        (a) => a.title.startsWith('Airflow unhealthy') || a.title.startsWith('Resolved: Airflow unhealthy'),
      );
    const start = mine().length;
    const poll = () => handler({}, lambdaContext()) as Promise<{ healthy: boolean; problems: string[] }>;
    const first = await poll();
    expect(first.healthy, first.problems.join('; ')).toBe(true);
    // Stop the real scheduler (its whole process group) so its heartbeat goes stale.
    process.kill(-scheduler, 'SIGSTOP');
    try {
      let verdict = await poll();
      for (let i = 0; i < 40 && verdict.healthy; i++) {
        await new Promise((r) => setTimeout(r, 1_000));
        verdict = await poll();
      }
      expect(verdict.healthy).toBe(false);
      expect(verdict.problems.join()).toMatch(/scheduler heartbeat is \d+ s old/);
      expect((await poll()).healthy).toBe(false);
      expect(
        mine()
          .slice(start)
          .map((a) => a.severity),
      ).toEqual(['critical']);
    } finally {
      process.kill(-scheduler, 'SIGCONT');
    }
    let verdict = await poll();
    for (let i = 0; i < 40 && !verdict.healthy; i++) {
      await new Promise((r) => setTimeout(r, 1_000));
      verdict = await poll();
    }
    expect(verdict.healthy).toBe(true);
    expect(
      mine()
        .slice(start)
        .map((a) => a.severity),
    ).toEqual(['critical', 'resolved']);
    expect(receiver.badSignatures()).toBe(0);
  });
});

describe('health-check: failed runs', () => {
  it('alerts once when the newest run of a DAG failed, and resolves only when a later run succeeds', async () => {
    const handler = await coldStart('health-check', 'aws', selfHosted, {
      AIRKICK_HEALTH_FAILED_RUNS_DAGS: 'airkick_fail',
      AIRKICK_ALERT_STATE: 'memory',
      AIRKICK_ALERT_REPEAT_MINUTES: '0',
    });
    const mine = () => receiver.alerts.filter((a) => a.title.includes('DAG run failed: airkick_fail'));
    const start = mine().length;
    const poll = () => handler({}, lambdaContext()) as Promise<{ healthy: boolean }>;
    const runTo = async (conf: Record<string, unknown>, state: string) => {
      const runId = `failed_runs_${uid()}`;
      await selfHosted.client.triggerDagRun({ dagId: 'airkick_fail', runId, conf });
      const done = await selfHosted.client.waitForDagRun('airkick_fail', runId, {
        deadline: Date.now() + 90_000,
        pollIntervalMs: 1_000,
      });
      expect(done.state).toBe(state);
      return runId;
    };
    const failed = await runTo({}, 'failed');
    await poll();
    await poll();
    expect(
      mine()
        .slice(start)
        .map((a) => [a.severity, a.runId]),
    ).toEqual([['warning', failed]]);
    await runTo({ succeed: true }, 'success');
    await poll();
    await poll();
    expect(
      mine()
        .slice(start)
        .map((a) => a.severity),
    ).toEqual(['warning', 'resolved']);
  });
});

describe('db-clean', () => {
  const sql = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) => {
    const client = new pg.Client({ connectionString: airflow.databaseUrl.replace('+psycopg2', '') });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  const count = async (table: string, runIds: string[]) =>
    Number(
      (await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE run_id = ANY($1)`, [runIds]))[0]?.n,
    );

  const oldRuns: string[] = [];
  const recentRuns: string[] = [];
  beforeAll(async () => {
    for (const list of [oldRuns, recentRuns]) {
      for (let i = 0; i < 2; i++) {
        const { run } = await selfHosted.client.triggerDagRun({
          dagId: 'airkick_conf',
          runId: `clean-${uid()}`,
        });
        list.push(run.runId);
      }
    }
    for (const runId of [...oldRuns, ...recentRuns]) {
      await selfHosted.client.waitForDagRun('airkick_conf', runId, {
        deadline: Date.now() + 90_000,
        pollIntervalMs: 1_000,
      });
    }
    // Age two finished runs by 200 days, as if they had run then.
    const age = "now() - interval '200 days'";
    await sql(`UPDATE dag_run SET start_date = ${age}, end_date = ${age} WHERE run_id = ANY($1)`, [oldRuns]);
    await sql(`UPDATE task_instance SET start_date = ${age}, end_date = ${age} WHERE run_id = ANY($1)`, [
      oldRuns,
    ]);
    await sql(`UPDATE xcom SET timestamp = ${age} WHERE run_id = ANY($1)`, [oldRuns]);
  });

  it('refuses a retention below the floor', async () => {
    const handler = await coldStart('db-clean', 'aws', mwaa, { AIRKICK_CLEAN_RETENTION_DAYS: '3' });
    await expect(handler({}, lambdaContext())).rejects.toThrow(
      /refusing to clean with a retention of 3 days/,
    );
  });

  it('a dry run through DMS reports what it would remove and removes nothing', async () => {
    const handler = await coldStart('db-clean', 'aliyun', dms, {
      AIRKICK_CLEAN_RETENTION_DAYS: '30',
      AIRKICK_CLEAN_DRY_RUN: 'true',
    });
    const summary = (await handler(Buffer.from('{}'), fcContext())) as {
      dryRun: boolean;
      tables: Record<string, number>;
    };
    expect(summary.dryRun).toBe(true);
    expect(summary.tables.dag_run).toBeGreaterThanOrEqual(2);
    expect(await count('dag_run', oldRuns)).toBe(2);
  });

  it('through MWAA removes old runs and task instances and keeps recent ones', async () => {
    expect(await count('task_instance', oldRuns)).toBe(2);
    const handler = await coldStart('db-clean', 'aws', mwaa, {
      AIRKICK_CLEAN_RETENTION_DAYS: '30',
      AIRKICK_CLEAN_SKIP_ARCHIVE: 'true',
    });
    const summary = (await handler({}, lambdaContext(120_000))) as {
      tables: Record<string, number>;
      total: number;
    };
    expect(summary.tables.dag_run).toBeGreaterThanOrEqual(2);
    expect(await count('dag_run', oldRuns)).toBe(0);
    expect(await count('task_instance', oldRuns)).toBe(0);
    expect(await count('dag_run', recentRuns)).toBe(2);
    expect(await count('task_instance', recentRuns)).toBe(2);
  });

  it('on a self-hosted environment says there is no CLI endpoint', async () => {
    const handler = await coldStart('db-clean', 'aws', selfHosted, { AIRKICK_CLEAN_RETENTION_DAYS: '30' });
    await expect(handler({}, lambdaContext())).rejects.toThrow(/has no CLI endpoint/);
  });
});

describe('logs', () => {
  it('are JSON lines keyed by function, cloud, environment, dag and run, and carry no secret', () => {
    const lines = jsonLines(printed);
    const triggered = lines.find((l) => l.message === 'DAG run triggered' && l.cloud === 'aliyun');
    expect(triggered).toMatchObject({ function: 'trigger-dag', cloud: 'aliyun', dag_id: 'airkick_conf' });
    expect(String(triggered?.environment)).toMatch(/^dms:\/\//);
    expect(String(triggered?.run_id)).toMatch(/^airkick__/);
    const all = printed.join('');
    for (const secret of [
      airflow.password,
      webhookSecret,
      'airkick-emulator-secret-key-not-a-real-one',
      'emulator-ak-secret-not-a-real-one',
    ]) {
      expect(all).not.toContain(secret);
    }
  });
});
