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
import { adminFetch, majorOf } from '#test/support/airflow-rest.ts';
import { startTarget, type Target, type TargetKind } from '#test/support/targets.ts';

const airflow = inject('airflow');
const LANDING = 's3://airkick-assets/landing';
const v3 = majorOf(airflow) === 3;
const events = v3 ? '/assets/events' : '/datasets/events';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until the event with this marker lists a run Airflow created from it. */
async function createdRunsOf(client: AirflowClient, marker: string, deadline: number): Promise<AssetEvent> {
  for (;;) {
    const found = (await client.listAssetEvents(LANDING, { limit: 100 })).find(
      (e) => e.extra.marker === marker,
    );
    if (found && found.createdRuns.length > 0) return found;
    if (Date.now() > deadline) {
      const runs = await adminFetch(airflow, {
        path: '/dags/airkick_on_asset/dagRuns?limit=5&order_by=-start_date',
      });
      console.error(
        `no run from ${marker}; event ${JSON.stringify(found)}; newest runs ${await runs.text()}`,
      );
      throw new Error(`no run of airkick_on_asset was created from event ${marker}`);
    }
    await sleep(1_000);
  }
}

describe('data-aware scheduling from a REST event', () => {
  it('runs the DAG scheduled on the asset, and the event names the run it created', async () => {
    const target = await startTarget('self-hosted', airflow);
    const marker = `scheduled-${randomUUID()}`;
    await target.client.createAssetEvent({ uri: LANDING, extra: { marker } });
    const withRun = await createdRunsOf(target.client, marker, Date.now() + 180_000);
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
    const stored = await adminFetch(airflow, { path: `${events}?order_by=-timestamp&limit=50` });
    const body = (await stored.json()) as Record<string, { extra: Record<string, unknown> }[]>;
    const list = v3 ? body.asset_events : body.dataset_events;
    expect(list?.filter((e) => e.extra?.marker === marker)).toHaveLength(1);
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
