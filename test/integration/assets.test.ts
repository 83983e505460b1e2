/**
 * Asset (Airflow 3) and dataset (Airflow 2) events through the client, on every provider: the event
 * arrives with its extra and is listed back, an unknown asset is a CONFIG error that says what to
 * declare; and the scheduler starts the DAG scheduled on the asset (airkick_on_asset) from one.
 * Checked against Airflow's own API.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AirflowClient, AssetEvent } from '#lib/airflow/types.ts';
import { isAirkickError } from '#lib/errors.ts';
import { DMS_EMULATOR_CREDENTIALS } from '#test/emulators/dms.ts';
import {
  adminFetch,
  assetEventsPerKey,
  majorOf,
  setDagPaused,
  storedAssetEvents,
  storedAssetEventsOfBucket,
} from '#test/support/airflow-rest.ts';
import {
  eventBridgeObjectCreated,
  lambdaContext,
  ossEvent,
  s3Notification,
  sqsBatch,
} from '#test/support/events.ts';
import { coldStartHandler } from '#test/support/handlers.ts';
import { startTarget, type Target, type TargetKind } from '#test/support/targets.ts';

const airflow = inject('airflow');
const LANDING = 's3://airkick-assets/landing';
const ASSET_DAG = 'airkick_on_asset';
const v3 = majorOf(airflow) === 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Airflow's own list of events, read directly. */
const storedEvents = (query: string) => storedAssetEvents(airflow, query);

/** Polls until an event with `extra[field] === value` lists a run Airflow created from it. */
async function createdRunsOf(
  client: AirflowClient,
  [field, value]: [string, unknown],
  deadline: number,
): Promise<AssetEvent> {
  for (;;) {
    const matching = (await client.listAssetEvents(LANDING, { limit: 100 })).filter(
      (e) => e.extra[field] === value,
    );
    const found = matching.find((e) => e.createdRuns.length > 0) ?? matching[0];
    if (found && found.createdRuns.length > 0) return found;
    if (Date.now() > deadline) {
      const runs = await adminFetch(airflow, {
        path: '/dags/airkick_on_asset/dagRuns?limit=5&order_by=-start_date',
      });
      console.error(`no run from ${value}; event ${JSON.stringify(found)}; newest runs ${await runs.text()}`);
      throw new Error(`no run of airkick_on_asset was created from event ${field}=${value}`);
    }
    await sleep(1_000);
  }
}

describe('data-aware scheduling from a REST event', () => {
  it('runs the DAG scheduled on the asset, and the event names the run it created', async () => {
    const target = await startTarget('self-hosted', airflow);
    const marker = `scheduled-${randomUUID()}`;
    await target.client.createAssetEvent({ uri: LANDING, extra: { marker } });
    const withRun = await createdRunsOf(target.client, ['marker', marker], Date.now() + 180_000);
    expect(withRun.createdRuns[0]?.dagId).toBe('airkick_on_asset');
    const run = await target.client.waitForDagRun(
      'airkick_on_asset',
      withRun.createdRuns[0]?.runId as string,
      {
        deadline: Date.now() + 120_000,
        pollIntervalMs: 1_000,
      },
    );
    expect(run.state).toBe('success');
  });
});

describe.each<TargetKind>(['self-hosted', 'mwaa', 'mwaa-session', 'dms'])('asset events via %s', (kind) => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget(kind, airflow);
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('raises an event with its extra, as Airflow then stores it', async () => {
    const marker = `${kind}-${randomUUID()}`;
    const before = Date.now();
    const event = await target.client.createAssetEvent({
      uri: LANDING,
      extra: { marker, key: 'incoming/a b.csv', nested: { n: 1 } },
    });
    expect(event).toMatchObject({
      uri: LANDING,
      extra: { marker, key: 'incoming/a b.csv', nested: { n: 1 } },
    });
    expect(Date.parse(event.timestamp)).toBeGreaterThanOrEqual(before - 5_000);

    // Airflow's own record of it, read directly.
    const list = await storedEvents('order_by=-timestamp&limit=50');
    expect(list.filter((e) => e.extra?.marker === marker)).toHaveLength(1);
  });

  it('lists events newest first and cuts them at `since`', async () => {
    const marker = `${kind}-since-${randomUUID()}`;
    const first = await target.client.createAssetEvent({ uri: LANDING, extra: { marker, n: 1 } });
    await sleep(1_100);
    const second = await target.client.createAssetEvent({ uri: LANDING, extra: { marker, n: 2 } });
    const mine = (await target.client.listAssetEvents(LANDING, { limit: 100 })).filter(
      (e) => e.extra.marker === marker,
    );
    expect(mine.map((e) => e.extra.n)).toEqual([2, 1]);
    const recent = (await target.client.listAssetEvents(LANDING, { since: second.timestamp })).filter(
      (e) => e.extra.marker === marker,
    );
    expect(recent.map((e) => e.extra.n)).toEqual([2]);
    expect(Date.parse(first.timestamp)).toBeLessThan(Date.parse(second.timestamp));
  });

  it('names an asset Airflow does not know as CONFIG, with what to declare', async () => {
    const uri = `s3://airkick-assets/nobody-declares-${randomUUID().slice(0, 8)}`;
    const error = await target.client.createAssetEvent({ uri }).catch((e: unknown) => e);
    expect(isAirkickError(error, 'CONFIG')).toBe(true);
    expect((error as Error).message).toContain(
      `has no ${v3 ? 'asset' : 'dataset'} ${uri}: declare it in a DAG`,
    );
  });
});

const eventsForBucket = (bucket: string) => storedAssetEventsOfBucket(airflow, bucket);
const byKey = (bucket: string) => assetEventsPerKey(airflow, bucket);

describe('on-upload with asset rules, through the real handlers', () => {
  let mwaa: Target;
  let dms: Target;
  beforeAll(async () => {
    [mwaa, dms] = await Promise.all([startTarget('mwaa', airflow), startTarget('dms', airflow)]);
    // Hundreds of events would each start a run (a task process each) on a 2-core machine, and the
    // DAG's max_active_runs would hold back the one run a test waits for: only that test unpauses it.
    await setDagPaused(airflow, ASSET_DAG, true, { dropQueued: true });
  });
  afterAll(async () => {
    await setDagPaused(airflow, ASSET_DAG, false);
    await Promise.all([mwaa?.stop(), dms?.stop()]);
  });
  const rules = JSON.stringify([{ prefix: 'landing/', asset: LANDING, extra: { pipeline: 'ingest' } }]);

  it('Lambda + SQS: 100 objects delivered twice, regrouped, raise exactly 100 events', async () => {
    const handler = await coldStartHandler('on-upload', 'aws', {
      AIRKICK_ENV: mwaa.environment,
      AIRKICK_UPLOAD_RULES: rules,
    });
    const bucket = `assets-${randomUUID().slice(0, 8)}`;
    const objects = Array.from({ length: 100 }, (_, i) => ({
      bucket,
      key: `landing/part-${i}.csv`,
      sequencer: `0A${i}`,
    }));
    // As SQS would: a reported record comes back (in its batch) until it goes through.
    let redelivered = 0;
    const deliver = async (size: number) => {
      for (let i = 0; i < objects.length; i += size) {
        let chunk = objects.slice(i, i + size);
        for (let round = 0; chunk.length > 0; round++) {
          expect(round, 'a record still failing after 10 deliveries').toBeLessThan(10);
          const batch = sqsBatch(chunk.map((o) => ({ id: `m-${o.key}`, objects: [o] })));
          const answer = (await handler(batch, lambdaContext())) as {
            batchItemFailures: { itemIdentifier: string }[];
          };
          const failed = new Set(answer.batchItemFailures.map((f) => f.itemIdentifier));
          chunk = chunk.filter((o) => failed.has(`m-${o.key}`));
          redelivered += chunk.length;
        }
      }
    };
    await deliver(10);
    await deliver(7);
    const stored = await eventsForBucket(bucket);
    expect(stored).toHaveLength(100);
    expect([...(await byKey(bucket)).values()].every((n) => n === 1)).toBe(true);
    expect(stored[0]?.extra).toMatchObject({ pipeline: 'ingest', bucket, source: 's3' });
    expect(new Set(stored.map((e) => e.extra.airkick_event)).size).toBe(100);
    console.log(
      `asset rules, Airflow ${airflow.version}: 200 deliveries of 100 objects, ${redelivered} redelivered after a reported failure, 100 events`,
    );
  });

  it('FC + OSS: the same upload delivered twice raises one event, with the key intact', async () => {
    const handler = await coldStartHandler('on-upload', 'aliyun', {
      AIRKICK_ENV: dms.environment,
      AIRKICK_UPLOAD_RULES: rules,
    });
    const bucket = `oss-assets-${randomUUID().slice(0, 8)}`;
    const object = { bucket, key: `landing/it's "x" ü.csv`, etag: randomUUID(), requestId: randomUUID() };
    const context = {
      requestId: 'fc-1',
      credentials: DMS_EMULATOR_CREDENTIALS,
      function: { name: 'on-upload', timeout: 60 },
    };
    await handler(ossEvent([object]), context);
    await handler(ossEvent([object]), { ...context, requestId: 'fc-2' });
    const stored = await eventsForBucket(bucket);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.extra).toMatchObject({ key: object.key, source: 'oss', pipeline: 'ingest' });
  });

  it('Lambda, S3 notification and EventBridge direct: each object raises one event, delivered twice', async () => {
    const handler = await coldStartHandler('on-upload', 'aws', {
      AIRKICK_ENV: mwaa.environment,
      AIRKICK_UPLOAD_RULES: rules,
    });
    const bucket = `direct-${randomUUID().slice(0, 8)}`;
    const s3 = s3Notification([
      { bucket, key: 'landing/a b.csv', sequencer: '0C1' },
      { bucket, key: 'landing/c.csv', sequencer: '0C2' },
    ]);
    const bridged = eventBridgeObjectCreated({ bucket, key: 'landing/d+e.csv', sequencer: '0C3' });
    // A direct notification is redelivered whole (S3's and EventBridge's own retries).
    for (const event of [s3, s3, bridged, bridged])
      expect(await handler(event, lambdaContext())).toEqual({
        triggered: event === s3 ? 2 : 1,
        permanentFailures: 0,
      });
    expect(Object.fromEntries(await byKey(bucket))).toEqual({
      'landing/a b.csv': 1,
      'landing/c.csv': 1,
      'landing/d+e.csv': 1,
    });
    const bridgedEvent = (await mwaa.client.listAssetEvents(LANDING, { limit: 100 })).find(
      (e) => e.extra.bucket === bucket && e.extra.key === 'landing/d+e.csv',
    );
    expect(bridgedEvent?.extra).toMatchObject({ source: 's3', pipeline: 'ingest', size: 5 });
    // That Airflow starts the DAG scheduled on the asset from such an event is the first test's (the
    // same client call); here the DAG stays paused.
  });

  it('concurrent duplicates: none lost; how many are raised twice is measured and printed', async () => {
    const handler = await coldStartHandler('on-upload', 'aws', {
      AIRKICK_ENV: mwaa.environment,
      AIRKICK_UPLOAD_RULES: rules,
    });
    const bucket = `race-${randomUUID().slice(0, 8)}`;
    const objects = Array.from({ length: 20 }, (_, i) => ({
      bucket,
      key: `landing/r-${i}.csv`,
      sequencer: `0B${i}`,
    }));
    const batch = (tag: string) => sqsBatch(objects.map((o) => ({ id: `${tag}-${o.key}`, objects: [o] })));
    await Promise.all([handler(batch('a'), lambdaContext()), handler(batch('b'), lambdaContext())]);
    const counts = await byKey(bucket);
    expect(counts.size).toBe(20);
    const twice = [...counts.values()].filter((n) => n > 1).length;
    console.log(
      `asset rules, Airflow ${airflow.version}: 20 objects delivered twice at once -> ${twice} raised twice`,
    );
    expect([...counts.values()].every((n) => n <= 2)).toBe(true);
  });
});
