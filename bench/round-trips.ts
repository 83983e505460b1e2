/**
 * Round trips per trigger, counted where they arrive (the emulated control planes and gateways, or a
 * counting proxy in front of the self-hosted Airflow): the first trigger of a new container (cold),
 * later triggers on the same client (warm), and the approach of the vendors' sample code, which
 * fetches a new token and logs in again for every call (here: a fresh client per call). The API
 * version is pinned (`api=v1|v2`) as a deployment would; a cold trigger with `api=auto` shows what
 * asking the server costs.
 */
import { randomUUID } from 'node:crypto';
import type { AirflowClient } from '#lib/airflow/types.ts';
import type { AirflowInfo } from '#test/airflow/airflow.ts';
import type { TargetKind } from '#test/support/targets.ts';
import { BENCH_DAG } from './support/bundles.ts';
import { elapsedMs, median, ms, ratio, round, table, verdict } from './support/stats.ts';

/** Clients of one environment, and the requests counted on their way. */
export interface CountedSource {
  /** A client with empty caches, as in a new container. */
  coldClient(): AirflowClient;
  counts(): Record<string, number>;
  resetCounts(): void;
}

/** A provider with its API version pinned, and the same provider with `api=auto`. */
export interface CountedTarget extends CountedSource {
  kind: TargetKind;
  auto: CountedSource;
}

export interface RoundTripRow {
  /** The Airflow behind the provider, e.g. `3.3.2`. */
  airflow: string;
  major: 2 | 3;
  provider: TargetKind;
  /** Requests of the first trigger on a new client, and which routes they went to. */
  cold: number;
  coldRoutes: Record<string, number>;
  /** The same with `api=auto`: the version probe included. */
  coldAuto: number;
  coldAutoRoutes: Record<string, number>;
  /** Median requests per trigger on a warm client, and the routes of each warm trigger. */
  warm: number;
  warmRoutes: Record<string, number>[];
  /** Median requests per trigger with a new client (token, login) for every call. */
  perCall: number;
  warmMs: number;
  perCallMs: number;
}

/** Warm triggers need exactly one request where the cached credential is the whole story. */
const ONE_REQUEST_GOAL: ReadonlySet<TargetKind> = new Set(['mwaa', 'dms', 'self-hosted']);

export const meetsWarmGoal = (row: RoundTripRow): boolean =>
  !ONE_REQUEST_GOAL.has(row.provider) || row.warm === 1;

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

async function countedTrigger(source: CountedSource, client: AirflowClient) {
  source.resetCounts();
  const start = process.hrtime.bigint();
  await client.triggerDagRun({ dagId: BENCH_DAG, runId: `bench_rt__${randomUUID()}` });
  const wallMs = elapsedMs(start);
  const routes = source.counts();
  return { requests: total(routes), routes, wallMs };
}

export async function roundTrips(
  airflow: Pick<AirflowInfo, 'version' | 'major'>,
  targets: readonly CountedTarget[],
  calls: number,
  log: (line: string) => void,
): Promise<RoundTripRow[]> {
  const rows: RoundTripRow[] = [];
  for (const target of targets) {
    log(`round trips on Airflow ${airflow.version}: ${target.kind}`);
    const client = target.coldClient();
    const cold = await countedTrigger(target, client);
    const coldAuto = await countedTrigger(target.auto, target.auto.coldClient());
    const warm = [];
    const perCall = [];
    // Interleaved, so both see the same machine load.
    for (let i = 0; i < calls; i++) {
      warm.push(await countedTrigger(target, client));
      perCall.push(await countedTrigger(target, target.coldClient()));
    }
    rows.push({
      airflow: airflow.version,
      major: airflow.major,
      provider: target.kind,
      cold: cold.requests,
      coldRoutes: cold.routes,
      coldAuto: coldAuto.requests,
      coldAutoRoutes: coldAuto.routes,
      warm: median(warm.map((w) => w.requests)),
      warmRoutes: warm.map((w) => w.routes),
      perCall: median(perCall.map((p) => p.requests)),
      warmMs: round(median(warm.map((w) => w.wallMs))),
      perCallMs: round(median(perCall.map((p) => p.wallMs))),
    });
  }
  return rows;
}

const routes = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([route, n]) => `${route} ${n}`)
    .join(', ');

/** The routes `api=auto` called beyond the pinned client's: the probe's cost, route by route. */
function extra(auto: Record<string, number>, pinned: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(auto)
      .map(([route, n]): [string, number] => [route, n - (pinned[route] ?? 0)])
      .filter(([, n]) => n > 0),
  );
}

export function roundTripsTable(rows: readonly RoundTripRow[], calls: number): string {
  return [
    `Round trips per trigger, counted at the emulators / proxy (warm and per-call: median of ${calls}; api pinned, and cold with api=auto)`,
    table(
      [
        'airflow',
        'provider',
        'cold',
        'cold api=auto',
        'warm',
        'warm = 1',
        'new token+login per call',
        'warm ms',
        'per-call ms',
        'per-call/warm',
        'cold routes',
        'api=auto adds',
      ],
      rows.map((r) => [
        r.airflow,
        r.provider,
        String(r.cold),
        String(r.coldAuto),
        String(r.warm),
        ONE_REQUEST_GOAL.has(r.provider) ? verdict(r.warm === 1) : '(not a goal)',
        String(r.perCall),
        ms(r.warmMs),
        ms(r.perCallMs),
        ratio(r.perCallMs / r.warmMs),
        routes(r.coldRoutes),
        routes(extra(r.coldAutoRoutes, r.coldRoutes)) || '-',
      ]),
    ),
  ].join('\n');
}
