/**
 * Round trips per trigger, counted where they arrive (the emulated control planes and gateways, or a
 * counting proxy in front of the self-hosted Airflow): the first trigger of a new container (cold),
 * later triggers on the same client (warm), and the approach of the vendors' sample code, which
 * fetches a new token and logs in again for every call (here: a fresh client per call).
 */
import { randomUUID } from 'node:crypto';
import type { AirflowClient } from '#lib/airflow/types.ts';
import type { TargetKind } from '#test/support/targets.ts';
import { BENCH_DAG } from './support/bundles.ts';
import { elapsedMs, median, ms, ratio, round, table, verdict } from './support/stats.ts';

/** What the benchmark needs of a provider: clients, and the requests counted on their way. */
export interface CountedTarget {
  kind: TargetKind;
  /** A client with empty caches, as in a new container. */
  coldClient(): AirflowClient;
  counts(): Record<string, number>;
  resetCounts(): void;
}

export interface RoundTripRow {
  provider: TargetKind;
  /** Requests of the first trigger on a new client, and which routes they went to. */
  cold: number;
  coldRoutes: Record<string, number>;
  /** Median requests per trigger on a warm client. */
  warm: number;
  warmRoutes: Record<string, number>;
  /** Median requests per trigger with a new client (token, login) for every call. */
  perCall: number;
  warmMs: number;
  perCallMs: number;
}

/** Warm triggers need exactly one request where the cached credential is the whole story. */
const ONE_REQUEST_GOAL: ReadonlySet<TargetKind> = new Set(['mwaa', 'dms', 'self-hosted']);

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

async function countedTrigger(target: CountedTarget, client: AirflowClient) {
  target.resetCounts();
  const start = process.hrtime.bigint();
  await client.triggerDagRun({ dagId: BENCH_DAG, runId: `bench_rt__${randomUUID()}` });
  const wallMs = elapsedMs(start);
  const routes = target.counts();
  return { requests: total(routes), routes, wallMs };
}

export async function roundTrips(
  targets: readonly CountedTarget[],
  calls: number,
  log: (line: string) => void,
): Promise<RoundTripRow[]> {
  const rows: RoundTripRow[] = [];
  for (const target of targets) {
    log(`round trips: ${target.kind}`);
    const client = target.coldClient();
    const cold = await countedTrigger(target, client);
    const warm = [];
    const perCall = [];
    // Interleaved, so both see the same machine load.
    for (let i = 0; i < calls; i++) {
      warm.push(await countedTrigger(target, client));
      perCall.push(await countedTrigger(target, target.coldClient()));
    }
    rows.push({
      provider: target.kind,
      cold: cold.requests,
      coldRoutes: cold.routes,
      warm: median(warm.map((w) => w.requests)),
      warmRoutes: warm.at(-1)?.routes ?? {},
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

export function roundTripsTable(rows: readonly RoundTripRow[], calls: number): string {
  return [
    `Round trips per trigger, counted at the emulators / proxy (warm and per-call: median of ${calls})`,
    table(
      [
        'provider',
        'cold',
        'warm',
        'warm = 1',
        'new token+login per call',
        'warm ms',
        'per-call ms',
        'per-call/warm',
        'cold routes',
      ],
      rows.map((r) => [
        r.provider,
        String(r.cold),
        String(r.warm),
        ONE_REQUEST_GOAL.has(r.provider) ? verdict(r.warm === 1) : '(not a goal)',
        String(r.perCall),
        ms(r.warmMs),
        ms(r.perCallMs),
        ratio(r.perCallMs / r.warmMs),
        routes(r.coldRoutes),
      ]),
    ),
  ].join('\n');
}
