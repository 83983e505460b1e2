/**
 * Upload storm: N object uploads through the on-upload Lambda handler (SQS batches of 10, several
 * invocations in flight, as SQS pollers deliver them) into the real Airflow, next to a minimal raw
 * client that POSTs the same N dagRuns with fetch at the same number of requests in flight. Then the
 * same with every record delivered twice, in shuffled batches: still exactly N runs. Then the storm
 * once more through an HTTP fault proxy that loses some answers after Airflow took the POST, answers
 * some with 503 and some with 429, the handler's reported records redelivered until none is left:
 * still exactly N runs, none lost, none twice. Either major version: the raw client speaks `/api/v1`
 * with basic auth to Airflow 2 and `/api/v2` with a JWT to Airflow 3.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import type { SQSBatchResponse } from 'aws-lambda';
import type { AirflowInfo } from '#test/airflow/airflow.ts';
import { lambdaContext, type ObjectSpec, sqsBatch } from '#test/support/events.ts';
import { type RequestFault, startFaultProxy } from '#test/support/fault-proxy.ts';
import { apiOf, reachedAt } from '#test/support/targets.ts';
import { dagRunBody, deleteRuns, queuedRuns, rawAuthorization } from './support/airflow-rest.ts';
import { BENCH_DAG } from './support/bundles.ts';
import { elapsedMs, median, ratio, round, table, verdict } from './support/stats.ts';

export interface StormOptions {
  /** Uploads per phase. */
  n: number;
  /** Handler invocations in flight (Lambda's concurrent SQS batches). */
  invocations: number;
  /** AIRKICK_UPLOAD_CONCURRENCY: triggers in flight within one invocation. */
  perInvocation: number;
  /** Repetitions of the single-delivery comparison; the median is reported. */
  reps: number;
  /** Delete each phase's runs after counting them (for an Airflow that outlives the benchmark). */
  deleteRuns: boolean;
}

export interface StormPhase {
  /** Deliveries sent (N, or 2N when every record is delivered twice). */
  deliveries: number;
  seconds: number;
  runsPerSecond: number;
  /** Runs found in Airflow afterwards carrying this phase's marker. */
  runsCreated: number;
  /** Deliveries the sender saw fail (handler batchItemFailures, or non-2xx/409 answers). */
  failures: number;
  /** The raw client's failed answers per HTTP status (the handler logs its own reasons). */
  failedStatuses: Record<string, number>;
  /** CPU time (user + system) the sending process spent per run created: the sender's own cost. */
  cpuMsPerRun: number;
  /** The machine's one-minute load average when the phase ended. */
  load: number;
}

export interface StormResult {
  /** The Airflow the storm ran against, e.g. `3.3.2`, and its metadata database. */
  airflow: string;
  major: 2 | 3;
  database: string;
  options: Omit<StormOptions, 'deleteRuns'>;
  airkick: StormPhase[];
  raw: StormPhase[];
  airkickTwice: StormPhase;
  rawTwice: StormPhase;
  /** Per repetition, airkick runs/s over the raw client's in the phase next to it. */
  pairRatios: number[];
  /** Their median: a drift of the machine's load between repetitions hits both sides of each pair. */
  ratio: number;
  /** The single-delivery storm through the fault proxy, redelivered until nothing was reported. */
  withFaults: FaultStorm;
}

/** The storm with injected faults: what arrived in Airflow, and what the proxy did to get there. */
export interface FaultStorm extends StormPhase {
  /** Handler invocations, first deliveries and redeliveries together. */
  invocations: number;
  /** Delivery rounds until no record was reported (1: nothing needed a redelivery). */
  rounds: number;
  /** Objects without a run afterwards (0 expected). */
  lost: number;
  /** Runs beyond one per object (0 expected). */
  duplicates: number;
  /** `POST dagRuns` answers the proxy replaced or dropped, per fault. */
  injected: Record<string, number>;
}

type Handler = (event: unknown, context: unknown) => Promise<SQSBatchResponse>;

const BATCH = 10;

/**
 * The share of `POST dagRuns` requests each fault gets in the storm with injected faults: answers lost
 * after Airflow created the run, a gateway's 503, and throttling with a Retry-After.
 */
const FAULT_MIX: readonly { fault: RequestFault; share: number }[] = [
  { fault: { mode: 'answer-then-drop' }, share: 0.05 },
  { fault: { mode: 'status', status: 503 }, share: 0.05 },
  { fault: { mode: 'rate-limit', retryAfterSeconds: 1 }, share: 0.03 },
];
/** Redelivery rounds before the fault storm gives up on the records still reported. */
const MAX_ROUNDS = 10;

/** A deterministic pseudo-random sequence in [0, 1), so a phase is the same from run to run. */
function seeded(seed = 42): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** A deterministic shuffle, so the duplicate phase is the same interleaving from run to run. */
function shuffle<T>(items: T[], seed = 42): T[] {
  const random = seeded(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** Runs `fn` over `items` with `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The handler, imported as a new Lambda container would: configuration from the environment first.
 * Each Airflow gets its own instance of the module (a query on its URL), so the configuration parsed
 * at import is this Airflow's; the API version is pinned, as in the round trips.
 */
async function loadHandler(airflow: AirflowInfo, perInvocation: number): Promise<Handler> {
  const url = new URL(airflow.baseUrl);
  url.username = airflow.username;
  Object.assign(process.env, {
    AIRKICK_ENV: `${url.toString().replace(/\/$/, '')}?api=${apiOf(airflow)}`,
    AIRKICK_AIRFLOW_PASSWORD: airflow.password,
    AIRKICK_UPLOAD_RULES: JSON.stringify([{ prefix: 'incoming/', dagId: BENCH_DAG }]),
    AIRKICK_UPLOAD_CONCURRENCY: String(perInvocation),
    AWS_REGION: 'us-east-1',
    // A log line per record and an EMF blob per batch would bury the tables; Lambda would keep them.
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const entry = new URL(
    `../functions/on-upload/aws.ts?airflow=${encodeURIComponent(airflow.baseUrl)}`,
    import.meta.url,
  );
  const module = (await import(entry.href)) as { handler: Handler };
  return module.handler;
}

const objects = (bucket: string, n: number): ObjectSpec[] =>
  Array.from({ length: n }, (_, i) => ({
    bucket,
    key: `incoming/storm-${i}.csv`,
    sequencer: i.toString(16).toUpperCase().padStart(16, '0'),
  }));

async function airkickPhase(handler: Handler, uploads: ObjectSpec[], invocations: number) {
  const messages = uploads.map((object) => ({ id: randomUUID(), objects: [object] }));
  const batches: (typeof messages)[] = [];
  for (let i = 0; i < messages.length; i += BATCH) batches.push(messages.slice(i, i + BATCH));
  let failures = 0;
  const start = process.hrtime.bigint();
  await pool(batches, invocations, async (batch) => {
    const response = await handler(sqsBatch(batch), lambdaContext(900_000));
    failures += response.batchItemFailures.length;
  });
  return { seconds: elapsedMs(start) / 1000, failures, failedStatuses: {} };
}

/**
 * The baseline: what a hand-written client does, one POST per upload, 409 meaning "already there";
 * on Airflow 3 one token request first, timed with the rest.
 */
async function rawPhase(airflow: AirflowInfo, uploads: ObjectSpec[], concurrency: number) {
  const url = `${airflow.apiRoot}/dags/${BENCH_DAG}/dagRuns`;
  let failures = 0;
  const failedStatuses: Record<string, number> = {};
  const start = process.hrtime.bigint();
  const auth = await rawAuthorization(airflow);
  await pool(uploads, concurrency, async (upload) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: dagRunBody(airflow, `raw__${upload.bucket}__${upload.sequencer}`, {
        bucket: upload.bucket,
        key: upload.key,
      }),
    });
    await response.arrayBuffer();
    if (!response.ok && response.status !== 409) {
      failures++;
      failedStatuses[response.status] = (failedStatuses[response.status] ?? 0) + 1;
    }
  });
  return { seconds: elapsedMs(start) / 1000, failures, failedStatuses };
}

export async function uploadStorm(
  airflow: AirflowInfo,
  database: string,
  options: StormOptions,
  log: (line: string) => void,
): Promise<StormResult> {
  const handler = await loadHandler(airflow, options.perInvocation);
  const concurrency = options.invocations * options.perInvocation;

  /** Runs one phase, then counts the runs carrying its bucket and (unless kept) deletes them. */
  const phase = async (
    label: string,
    send: (
      uploads: ObjectSpec[],
    ) => Promise<{ seconds: number; failures: number; failedStatuses: Record<string, number> }>,
    twice: boolean,
  ): Promise<StormPhase> => {
    const bucket = `bench-storm-${randomUUID().slice(0, 8)}`;
    const unique = objects(bucket, options.n);
    const deliveries = twice ? shuffle([...unique, ...unique]) : unique;
    log(`upload storm on Airflow ${airflow.version}: ${label}, ${deliveries.length} deliveries`);
    const cpu = process.cpuUsage();
    const { seconds, failures, failedStatuses } = await send(deliveries);
    const { user, system } = process.cpuUsage(cpu);
    const mine = (await queuedRuns(airflow, BENCH_DAG)).filter((run) => run.conf?.bucket === bucket);
    if (options.deleteRuns) {
      const refused = await deleteRuns(
        airflow,
        BENCH_DAG,
        mine.map((run) => run.dag_run_id),
      );
      if (refused > 0) log(`upload storm: Airflow refused to delete ${refused} runs`);
    }
    return {
      deliveries: deliveries.length,
      seconds: round(seconds, 2),
      runsPerSecond: round(options.n / seconds),
      runsCreated: mine.length,
      failures,
      failedStatuses,
      cpuMsPerRun: round((user + system) / 1000 / options.n, 2),
      load: round(loadavg()[0] ?? 0),
    };
  };

  const airkick: StormPhase[] = [];
  const raw: StormPhase[] = [];
  for (let rep = 0; rep < options.reps; rep++) {
    // Alternating which goes first evens out any drift of the machine's load.
    const order = rep % 2 === 0 ? (['raw', 'airkick'] as const) : (['airkick', 'raw'] as const);
    for (const who of order) {
      if (who === 'raw') raw.push(await phase('raw fetch', (u) => rawPhase(airflow, u, concurrency), false));
      else airkick.push(await phase('airkick', (u) => airkickPhase(handler, u, options.invocations), false));
    }
  }
  const rawTwice = await phase(
    'raw fetch, every record twice',
    (u) => rawPhase(airflow, u, concurrency),
    true,
  );
  const airkickTwice = await phase(
    'airkick, every record twice',
    (u) => airkickPhase(handler, u, options.invocations),
    true,
  );
  const withFaults = await faultStorm(airflow, options, log);
  const { deleteRuns: _, ...shown } = options;
  const pairRatios = airkick.map((p, i) => round(p.runsPerSecond / (raw[i]?.runsPerSecond ?? Number.NaN), 2));
  return {
    airflow: airflow.version,
    major: airflow.major,
    database,
    options: shown,
    airkick,
    raw,
    airkickTwice,
    rawTwice,
    pairRatios,
    ratio: round(median(pairRatios), 2),
    withFaults,
  };
}

/**
 * N uploads once each, through the handler of a container whose Airflow is behind the fault proxy;
 * whatever a delivery reports (every message of an invocation that failed) is delivered again, as SQS
 * does after the visibility timeout, until nothing is reported. Then runs are counted per object.
 */
async function faultStorm(
  airflow: AirflowInfo,
  options: StormOptions,
  log: (line: string) => void,
): Promise<FaultStorm> {
  const proxy = await startFaultProxy(airflow.baseUrl);
  try {
    const handler = await loadHandler(reachedAt(airflow, proxy.url), options.perInvocation);
    const random = seeded(7);
    proxy.rule(({ method, path }) => {
      if (method !== 'POST' || !/\/dagRuns$/.test(path)) return undefined;
      let draw = random();
      for (const { fault, share } of FAULT_MIX) {
        if (draw < share) return fault;
        draw -= share;
      }
      return undefined;
    });
    const bucket = `bench-storm-faults-${randomUUID().slice(0, 8)}`;
    const unique = objects(bucket, options.n);
    log(`upload storm on Airflow ${airflow.version}: with injected faults, ${unique.length} uploads`);
    let pending = unique.map((object) => ({ id: randomUUID(), objects: [object] }));
    let deliveries = 0;
    let invocations = 0;
    let failures = 0;
    let rounds = 0;
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    while (pending.length > 0 && rounds < MAX_ROUNDS) {
      rounds++;
      const batches: (typeof pending)[] = [];
      for (let i = 0; i < pending.length; i += BATCH) batches.push(pending.slice(i, i + BATCH));
      const reported: typeof pending = [];
      await pool(batches, options.invocations, async (batch) => {
        deliveries += batch.length;
        invocations++;
        try {
          const response = await handler(sqsBatch(batch), lambdaContext(900_000));
          const ids = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
          reported.push(...batch.filter((m) => ids.has(m.id)));
        } catch {
          // The invocation failed as a whole: SQS delivers the whole batch again.
          reported.push(...batch);
        }
      });
      failures += reported.length;
      pending = reported;
    }
    const seconds = elapsedMs(start) / 1000;
    const { user, system } = process.cpuUsage(cpu);
    proxy.rule(undefined);
    const mine = (await queuedRuns(airflow, BENCH_DAG)).filter((run) => run.conf?.bucket === bucket);
    const perKey = new Map<unknown, number>();
    for (const run of mine) perKey.set(run.conf?.key, (perKey.get(run.conf?.key) ?? 0) + 1);
    if (options.deleteRuns) {
      const refused = await deleteRuns(
        airflow,
        BENCH_DAG,
        mine.map((run) => run.dag_run_id),
      );
      if (refused > 0) log(`upload storm: Airflow refused to delete ${refused} runs`);
    }
    const injected: Record<string, number> = {};
    for (const request of proxy.requests())
      if (request.fault !== 'forward') injected[request.fault] = (injected[request.fault] ?? 0) + 1;
    return {
      deliveries,
      seconds: round(seconds, 2),
      runsPerSecond: round(options.n / seconds),
      runsCreated: mine.length,
      failures,
      failedStatuses: {},
      cpuMsPerRun: round((user + system) / 1000 / options.n, 2),
      load: round(loadavg()[0] ?? 0),
      invocations,
      rounds,
      lost: unique.filter((o) => !perKey.has(o.key)).length,
      duplicates: mine.length - perKey.size,
      injected,
    };
  } finally {
    await proxy.close();
  }
}

/** Failed deliveries, with the HTTP statuses behind the raw client's. */
function failed(phases: readonly StormPhase[]): string {
  const statuses: Record<string, number> = {};
  for (const phase of phases)
    for (const [status, n] of Object.entries(phase.failedStatuses))
      statuses[status] = (statuses[status] ?? 0) + n;
  const total = phases.reduce((sum, p) => sum + p.failures, 0);
  const detail = Object.entries(statuses).map(([status, n]) => `HTTP ${status} x${n}`);
  return detail.length > 0 ? `${total} (${detail.join(', ')})` : String(total);
}

/** One table for the storms against every Airflow, then each one's throughput ratio. */
export function uploadStormTable(results: readonly StormResult[]): string {
  const first = results[0];
  if (!first) return 'Upload storm: not run';
  const { n, invocations, perInvocation, reps } = first.options;
  const row = (result: StormResult, label: string, phases: readonly StormPhase[]) => {
    const rate = median(phases.map((p) => p.runsPerSecond));
    return [
      result.airflow,
      label,
      String(phases[0]?.deliveries ?? 0),
      `${median(phases.map((p) => p.seconds)).toFixed(1)} s`,
      rate.toFixed(1),
      phases.length > 1 ? phases.map((p) => p.runsPerSecond.toFixed(1)).join(', ') : '',
      phases.map((p) => p.runsCreated).join(', '),
      verdict(phases.every((p) => p.runsCreated === n)),
      failed(phases),
      `${median(phases.map((p) => p.cpuMsPerRun)).toFixed(2)} ms`,
    ];
  };
  const databases = [...new Set(results.map((r) => r.database))].join(', ');
  return [
    `Upload storm: N=${n}, ${invocations} invocations x ${perInvocation} triggers in flight (raw: ${
      invocations * perInvocation
    } requests in flight); median of ${reps}; metadata database ${databases}`,
    table(
      [
        'airflow',
        'sender',
        'deliveries',
        'time',
        'runs/s',
        'runs/s per rep',
        'runs created',
        `exactly ${n}`,
        'failed deliveries',
        'sender CPU/run',
      ],
      results.flatMap((result) => [
        row(result, 'airkick on-upload (SQS batches of 10)', result.airkick),
        row(result, `raw fetch POST dagRuns (/api/${result.major === 3 ? 'v2' : 'v1'})`, result.raw),
        row(result, 'airkick, every record delivered twice', [result.airkickTwice]),
        row(result, 'raw fetch, every record delivered twice', [result.rawTwice]),
        row(result, 'storm with injected faults (redelivered until done)', [result.withFaults]),
      ]),
    ),
    ...results.map(({ airflow, withFaults: f }) => {
      const injected = Object.entries(f.injected)
        .map(([fault, count]) => `${fault} x${count}`)
        .join(', ');
      return `Airflow ${airflow}: storm with injected faults (${injected || 'none'}): N=${n}, ${f.deliveries} deliveries in ${f.invocations} invocations over ${f.rounds} round(s), runs created ${f.runsCreated}, lost ${f.lost} (0 expected: ${verdict(f.lost === 0)}), duplicates ${f.duplicates} (0 expected: ${verdict(f.duplicates === 0)})`;
    }),
    ...results.map(
      (result) =>
        `Airflow ${result.airflow}: airkick / raw throughput ${ratio(result.ratio)}, median of the reps' ${result.pairRatios
          .map(ratio)
          .join(', ')} (goal >= 0.8x: ${verdict(result.ratio >= 0.8)})`,
    ),
  ].join('\n');
}
