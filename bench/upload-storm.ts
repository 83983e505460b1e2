/**
 * Upload storm: N object uploads through the built on-upload Lambda bundle (dist/aws/on-upload, SQS
 * batches of 10, several invocations in flight, as SQS pollers deliver them) into the real Airflow,
 * with the production log level and metrics on, next to a minimal raw client that POSTs the same N
 * dagRuns with `fetch` at the same number of requests in flight. Each sender runs in a `node` process
 * of its own on Lambda's Node version (support/served-bundle.ts), so its CPU time is the client's.
 *
 * First the raw client alone, swept over the requests in flight, finds where Airflow's throughput of
 * `POST dagRuns` stops growing: that plateau is the limit any client meets on this machine. Then
 * airkick and the raw client in adjacent pairs at equal requests in flight; then every record
 * delivered twice, in shuffled batches: still exactly N runs. Then the storm once more through an HTTP
 * fault proxy that loses some answers after Airflow took the POST, answers some with 503 and some with
 * 429, the handler's reported records redelivered until none is left: still exactly N runs, none
 * lost, none twice. Last, the asset rule: N uploads each raising an asset (dataset) event, next to the
 * raw client POSTing N events, then every record twice: how many events, and the cost of airkick's
 * look-up of the asset's recent events before each one. Either major version: the raw client speaks
 * `/api/v1` with basic auth to Airflow 2 and `/api/v2` with a JWT (fetched once, before the phase) to
 * Airflow 3.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { SQSBatchResponse } from 'aws-lambda';
import { describeEnvironment, parseEnvironment } from '#lib/environment.ts';
import type { AirflowInfo } from '#test/airflow/airflow.ts';
import { assetEventsPerKey } from '#test/support/airflow-rest.ts';
import { type ObjectSpec, sqsBatch } from '#test/support/events.ts';
import { type RequestFault, startFaultProxy } from '#test/support/fault-proxy.ts';
import { apiOf, reachedAt } from '#test/support/targets.ts';
import {
  assetEventRequest,
  dagRunBody,
  deleteClaims,
  deleteRuns,
  queuedRuns,
  rawAuthorization,
} from './support/airflow-rest.ts';
import { BENCH_ASSET, BENCH_DAG, bundlePath } from './support/bundles.ts';
import type { NodeRuntime } from './support/node-runtimes.ts';
import { type ServedBundle, type ServeResult, serveBundle } from './support/served-bundle.ts';
import { median, ratio, round, table, verdict } from './support/stats.ts';

export interface StormOptions {
  /** Uploads per phase. */
  n: number;
  /** Handler invocations in flight (Lambda's concurrent SQS batches). */
  invocations: number;
  /** AIRKICK_UPLOAD_CONCURRENCY: triggers in flight within one invocation. */
  perInvocation: number;
  /** Repetitions of the single-delivery comparison; the median is reported. */
  reps: number;
  /** The raw client's requests in flight for the sweep, e.g. 1, 2, 5, 10, 20, 50. */
  sweep: readonly number[];
  /** Uploads per step of the sweep. */
  sweepN: number;
  /** Delete each phase's runs after counting them (for an Airflow that outlives the benchmark). */
  deleteRuns: boolean;
}

/** Where the senders run: Lambda's Node, and the folder holding dist/aws/on-upload (a snapshot). */
export interface StormSetup {
  root: string;
  node: NodeRuntime;
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
  /** CPU time (user + system) the sending process spent per upload: the client's own cost. */
  cpuMsPerRun: number;
  /** What the sender wrote to stdout and stderr (logs, EMF metrics) per upload. */
  logBytesPerRun: number;
  /** The machine's one-minute load average when the phase ended. */
  load: number;
}

/** One step of the raw client's sweep over requests in flight. */
export interface SweepStep extends StormPhase {
  inFlight: number;
}

export interface StormResult {
  /** The Airflow the storm ran against, e.g. `3.3.2`, and its metadata database. */
  airflow: string;
  major: 2 | 3;
  database: string;
  /** The node the senders ran on. */
  node: string;
  options: Omit<StormOptions, 'deleteRuns'>;
  sweep: SweepStep[];
  /** The sweep's best runs/s, and the fewest requests in flight that came within 10% of it. */
  plateau: { runsPerSecond: number; fromInFlight: number };
  /** airkick's median runs/s over the plateau's. */
  plateauRatio: number;
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
  /** The same storm with an asset rule: asset (dataset) events instead of runs. */
  assets: AssetStorm;
}

/** An asset phase's figures (`runsCreated`, `runsPerSecond`: events). */
export interface AssetPhase extends StormPhase {
  /** Objects without an event afterwards. */
  lost: number;
  /** Events beyond one per object. */
  duplicates: number;
}

export interface AssetStorm {
  /** airkick without a shared store (it reads the asset's recent events), one delivery per object. */
  airkick: AssetPhase;
  /** The same, every record delivered twice in shuffled batches, invocations in flight side by side. */
  twice: AssetPhase;
  /** airkick with its claims in Redis (AIRKICK_ALERT_STATE), one delivery per object. */
  claims: AssetPhase;
  /** The same, every record twice. */
  claimsTwice: AssetPhase;
  /** The raw client: one `POST` event per upload, nothing looked up. */
  raw: AssetPhase;
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

/** Each invocation's Lambda timeout: the longest Lambda allows, so no batch is cut short. */
const TIMEOUT_MS = 900_000;

/** The bundles' environment string: the Airflow as a self-hosted URL, its API version pinned. */
function benchEnvironment(airflow: AirflowInfo): string {
  const url = new URL(airflow.baseUrl);
  url.username = airflow.username;
  return `${url.toString().replace(/\/$/, '')}?api=${apiOf(airflow)}`;
}

/**
 * The built on-upload bundle in a container of its own, configured as a deployment would be: the
 * production log level (INFO, a line per record) and metrics on (an EMF blob per invocation). The API
 * version is pinned, as in the round trips.
 */
function serveOnUpload(
  airflow: AirflowInfo,
  setup: StormSetup,
  perInvocation: number,
  rules: readonly Record<string, unknown>[] = [{ prefix: 'incoming/', dagId: BENCH_DAG }],
  env: Record<string, string> = {},
): ServedBundle {
  return serveBundle(
    bundlePath(setup.root, 'aws', 'on-upload'),
    {
      AIRKICK_ENV: benchEnvironment(airflow),
      AIRKICK_AIRFLOW_PASSWORD: airflow.password,
      AIRKICK_UPLOAD_RULES: JSON.stringify(rules),
      AIRKICK_UPLOAD_CONCURRENCY: String(perInvocation),
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: 'airkick-on-upload',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_METRICS_NAMESPACE: 'airkick',
      ...env,
    },
    setup.node.path,
  );
}

/** The raw client (support/raw-client.cjs) in a process of its own, driven like a bundle. */
const serveRawClient = (setup: StormSetup): ServedBundle =>
  serveBundle(join(import.meta.dirname, 'support', 'raw-client.cjs'), {}, setup.node.path);

/** What a phase's sender reports. */
interface Sent {
  seconds: number;
  failures: number;
  failedStatuses: Record<string, number>;
  cpuUs: number;
  logBytes: number;
}

const sent = (result: ServeResult, failures: number, failedStatuses: Record<string, number> = {}): Sent => ({
  seconds: result.seconds,
  failures,
  failedStatuses,
  cpuUs: result.cpuUs,
  logBytes: result.logBytes,
});

/** A phase's figures: N uploads sent as `deliveries` deliveries, and the runs found afterwards. */
const summarize = (n: number, deliveries: number, sending: Sent, runsCreated: number): StormPhase => ({
  deliveries,
  seconds: round(sending.seconds, 2),
  runsPerSecond: round(n / sending.seconds),
  runsCreated,
  failures: sending.failures,
  failedStatuses: sending.failedStatuses,
  cpuMsPerRun: round(sending.cpuUs / 1000 / n, 2),
  logBytesPerRun: round(sending.logBytes / n, 0),
  load: round(loadavg()[0] ?? 0),
});

type Message = { id: string; objects: ObjectSpec[] };

/** SQS batches of 10 through the bundle, `invocations` at a time; the messages each one reported. */
async function deliver(bundle: ServedBundle, messages: Message[], invocations: number) {
  const batches: Message[][] = [];
  for (let i = 0; i < messages.length; i += BATCH) batches.push(messages.slice(i, i + BATCH));
  const result = await bundle.run({
    events: batches.map(sqsBatch),
    inFlight: invocations,
    timeoutMs: TIMEOUT_MS,
  });
  const reported = batches.flatMap((batch, i) => {
    // An invocation that failed as a whole: SQS delivers the whole batch again.
    if (result.errors[i] !== null) return batch;
    const ids = new Set(
      (result.answers[i] as SQSBatchResponse).batchItemFailures.map((f) => f.itemIdentifier),
    );
    return batch.filter((m) => ids.has(m.id));
  });
  return { result, reported, invocations: batches.length };
}

/**
 * One upload to send before measuring: a served process's first job pays for what loads lazily
 * (`fetch`'s undici, the first connections), which a warm container has done long before.
 */
const warmUp = (): ObjectSpec[] => objects(`bench-storm-warm-up-${randomUUID().slice(0, 8)}`, 1);

const objects = (bucket: string, n: number): ObjectSpec[] =>
  Array.from({ length: n }, (_, i) => ({
    bucket,
    key: `incoming/storm-${i}.csv`,
    sequencer: i.toString(16).toUpperCase().padStart(16, '0'),
  }));

async function airkickPhase(bundle: ServedBundle, uploads: ObjectSpec[], invocations: number): Promise<Sent> {
  const messages = uploads.map((object) => ({ id: randomUUID(), objects: [object] }));
  const { result, reported } = await deliver(bundle, messages, invocations);
  return sent(result, reported.length);
}

/** The baseline: what a hand-written client does, one POST per upload, 409 meaning "already there". */
async function rawPhase(
  client: ServedBundle,
  airflow: AirflowInfo,
  uploads: ObjectSpec[],
  inFlight: number,
): Promise<Sent> {
  const url = `${airflow.apiRoot}/dags/${BENCH_DAG}/dagRuns`;
  const authorization = await rawAuthorization(airflow);
  const events = uploads.map((upload) => ({
    url,
    authorization,
    body: dagRunBody(airflow, `raw__${upload.bucket}__${upload.sequencer}`, {
      bucket: upload.bucket,
      key: upload.key,
    }),
  }));
  return rawSend(client, events, inFlight);
}

/** The raw client raising one asset (dataset) event per upload: the POST alone, nothing looked up. */
async function rawAssetPhase(
  client: ServedBundle,
  airflow: AirflowInfo,
  uploads: ObjectSpec[],
  inFlight: number,
): Promise<Sent> {
  const [{ url, body }, authorization] = await Promise.all([
    assetEventRequest(airflow, BENCH_ASSET),
    rawAuthorization(airflow),
  ]);
  const events = uploads.map((upload) => ({
    url,
    authorization,
    body: body({ bucket: upload.bucket, key: upload.key }),
  }));
  return rawSend(client, events, inFlight);
}

/** Sends the raw client's POSTs; a 2xx (or 409: already there) answer is a success. */
async function rawSend(
  client: ServedBundle,
  events: { url: string; authorization: string; body: string }[],
  inFlight: number,
): Promise<Sent> {
  const result = await client.run({ events, inFlight, timeoutMs: TIMEOUT_MS });
  const failedStatuses: Record<string, number> = {};
  result.answers.forEach((answer, i) => {
    const status = (answer as { status: number } | null)?.status;
    if (status !== undefined && ((status >= 200 && status < 300) || status === 409)) return;
    const label = status === undefined ? (result.errors[i]?.split(':')[0] ?? 'error') : String(status);
    failedStatuses[label] = (failedStatuses[label] ?? 0) + 1;
  });
  const failures = Object.values(failedStatuses).reduce((sum, n) => sum + n, 0);
  return sent(result, failures, failedStatuses);
}

/** The sweep's best runs/s, and the fewest requests in flight within 10% of it: where it flattens. */
export function plateauOf(steps: readonly SweepStep[]): StormResult['plateau'] {
  const best = Math.max(...steps.map((s) => s.runsPerSecond));
  const first = steps.find((s) => s.runsPerSecond >= 0.9 * best);
  return { runsPerSecond: best, fromInFlight: first?.inFlight ?? Number.NaN };
}

export async function uploadStorm(
  airflow: AirflowInfo,
  database: string,
  setup: StormSetup,
  options: StormOptions,
  log: (line: string) => void,
): Promise<StormResult> {
  const concurrency = options.invocations * options.perInvocation;
  const bundle = serveOnUpload(airflow, setup, options.perInvocation);
  const client = serveRawClient(setup);

  /** Runs one phase, then counts the runs carrying its bucket and (unless kept) deletes them. */
  const phase = async (
    label: string,
    n: number,
    send: (uploads: ObjectSpec[]) => Promise<Sent>,
    twice: boolean,
  ): Promise<StormPhase> => {
    const bucket = `bench-storm-${randomUUID().slice(0, 8)}`;
    const unique = objects(bucket, n);
    const deliveries = twice ? shuffle([...unique, ...unique]) : unique;
    log(`upload storm on Airflow ${airflow.version}: ${label}, ${deliveries.length} deliveries`);
    const result = await send(deliveries);
    const mine = await collect(airflow, options, bucket, log);
    return summarize(n, deliveries.length, result, mine.length);
  };
  const raw = (inFlight: number) => (uploads: ObjectSpec[]) => rawPhase(client, airflow, uploads, inFlight);
  const viaAirkick = (uploads: ObjectSpec[]) => airkickPhase(bundle, uploads, options.invocations);

  try {
    await Promise.all([viaAirkick(warmUp()), raw(1)(warmUp())]);
    const sweep: SweepStep[] = [];
    for (const inFlight of options.sweep)
      sweep.push({
        inFlight,
        ...(await phase(`raw fetch sweep, ${inFlight} in flight`, options.sweepN, raw(inFlight), false)),
      });
    const airkick: StormPhase[] = [];
    const rawPhases: StormPhase[] = [];
    for (let rep = 0; rep < options.reps; rep++) {
      // Alternating which goes first evens out any drift of the machine's load.
      const order = rep % 2 === 0 ? (['raw', 'airkick'] as const) : (['airkick', 'raw'] as const);
      for (const who of order) {
        if (who === 'raw') rawPhases.push(await phase('raw fetch', options.n, raw(concurrency), false));
        else airkick.push(await phase('airkick', options.n, viaAirkick, false));
      }
    }
    const rawTwice = await phase('raw fetch, every record twice', options.n, raw(concurrency), true);
    const airkickTwice = await phase('airkick, every record twice', options.n, viaAirkick, true);
    const withFaults = await faultStorm(airflow, setup, options, log);
    const assets = await assetStorm(airflow, setup, options, log);
    const { deleteRuns: _, ...shown } = options;
    const pairRatios = airkick.map((p, i) =>
      round(p.runsPerSecond / (rawPhases[i]?.runsPerSecond ?? Number.NaN), 2),
    );
    const plateau = plateauOf(sweep);
    return {
      airflow: airflow.version,
      major: airflow.major,
      database,
      node: setup.node.version,
      options: shown,
      sweep,
      plateau,
      plateauRatio: round(median(airkick.map((p) => p.runsPerSecond)) / plateau.runsPerSecond, 2),
      airkick,
      raw: rawPhases,
      airkickTwice,
      rawTwice,
      pairRatios,
      ratio: round(median(pairRatios), 2),
      withFaults,
      assets,
    };
  } finally {
    await Promise.all([bundle.close(), client.close()]);
  }
}

/** The runs of the DAG that carry `bucket` in their conf; deleted afterwards when asked to. */
async function collect(
  airflow: AirflowInfo,
  options: StormOptions,
  bucket: string,
  log: (line: string) => void,
) {
  const mine = (await queuedRuns(airflow, BENCH_DAG)).filter((run) => run.conf?.bucket === bucket);
  if (options.deleteRuns) {
    const refused = await deleteRuns(
      airflow,
      BENCH_DAG,
      mine.map((run) => run.dag_run_id),
    );
    if (refused > 0) log(`upload storm: Airflow refused to delete ${refused} runs`);
  }
  return mine;
}

/**
 * N uploads once each, through the bundle of a container whose Airflow is behind the fault proxy;
 * whatever a delivery reports (every message of an invocation that failed) is delivered again, as SQS
 * does after the visibility timeout, until nothing is reported. Then runs are counted per object.
 */
async function faultStorm(
  airflow: AirflowInfo,
  setup: StormSetup,
  options: StormOptions,
  log: (line: string) => void,
): Promise<FaultStorm> {
  const proxy = await startFaultProxy(airflow.baseUrl);
  const bundle = serveOnUpload(reachedAt(airflow, proxy.url), setup, options.perInvocation);
  try {
    await airkickPhase(bundle, warmUp(), 1);
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
    let pending: Message[] = unique.map((object) => ({ id: randomUUID(), objects: [object] }));
    let deliveries = 0;
    let invocations = 0;
    let failures = 0;
    let rounds = 0;
    let seconds = 0;
    let cpuUs = 0;
    let logBytes = 0;
    while (pending.length > 0 && rounds < MAX_ROUNDS) {
      rounds++;
      deliveries += pending.length;
      const delivered = await deliver(bundle, pending, options.invocations);
      invocations += delivered.invocations;
      seconds += delivered.result.seconds;
      cpuUs += delivered.result.cpuUs;
      logBytes += delivered.result.logBytes;
      failures += delivered.reported.length;
      pending = delivered.reported;
    }
    proxy.rule(undefined);
    const mine = await collect(airflow, options, bucket, log);
    const perKey = new Map<unknown, number>();
    for (const run of mine) perKey.set(run.conf?.key, (perKey.get(run.conf?.key) ?? 0) + 1);
    const injected: Record<string, number> = {};
    for (const request of proxy.requests())
      if (request.fault !== 'forward') injected[request.fault] = (injected[request.fault] ?? 0) + 1;
    const sending = { seconds, failures, failedStatuses: {}, cpuUs, logBytes };
    return {
      ...summarize(options.n, deliveries, sending, mine.length),
      invocations,
      rounds,
      lost: unique.filter((o) => !perKey.has(o.key)).length,
      duplicates: mine.length - perKey.size,
      injected,
    };
  } finally {
    await bundle.close();
    await proxy.close();
  }
}

/** The machine's Redis, for the claims of the asset rule's storm (their keys are deleted afterwards). */
const CLAIMS_REDIS = 'redis://127.0.0.1:6379/0';

/**
 * The storm with an asset rule, its own bundles and raw client: airkick without a shared store once
 * per object and with every record twice, the same with claims in Redis, then the raw client.
 * airkick runs first, so its look-up of the asset's events of the last 24 h reads a list that grows
 * from empty over its own phases (Airflow keeps events: the benchmark's database is dropped on stop).
 */
async function assetStorm(
  airflow: AirflowInfo,
  setup: StormSetup,
  options: StormOptions,
  log: (line: string) => void,
): Promise<AssetStorm> {
  const rules = [{ prefix: 'incoming/', asset: BENCH_ASSET }];
  const bundle = serveOnUpload(airflow, setup, options.perInvocation, rules);
  const claiming = serveOnUpload(airflow, setup, options.perInvocation, rules, {
    AIRKICK_ALERT_STATE: CLAIMS_REDIS,
  });
  const client = serveRawClient(setup);
  const claimed: ObjectSpec[] = [];
  const inFlight = options.invocations * options.perInvocation;
  const phase = async (label: string, send: (uploads: ObjectSpec[]) => Promise<Sent>, twice: boolean) => {
    const bucket = `bench-assets-${randomUUID().slice(0, 8)}`;
    const unique = objects(bucket, options.n);
    const deliveries = twice ? shuffle([...unique, ...unique]) : unique;
    log(`upload storm on Airflow ${airflow.version}: ${label}, ${deliveries.length} deliveries`);
    const result = await send(deliveries);
    const perKey = await assetEventsPerKey(airflow, bucket);
    const created = [...perKey.values()].reduce((sum, n) => sum + n, 0);
    return {
      ...summarize(options.n, deliveries.length, result, created),
      lost: unique.filter((o) => !perKey.has(o.key)).length,
      duplicates: created - perKey.size,
    };
  };
  const viaAirkick = (uploads: ObjectSpec[]) => airkickPhase(bundle, uploads, options.invocations);
  const withClaims = (uploads: ObjectSpec[]) => {
    claimed.push(...uploads);
    return airkickPhase(claiming, uploads, options.invocations);
  };
  try {
    await Promise.all([
      viaAirkick(warmUp()),
      withClaims(warmUp()),
      rawAssetPhase(client, airflow, warmUp(), 1),
    ]);
    const airkick = await phase('asset rule, airkick', viaAirkick, false);
    const twice = await phase('asset rule, airkick, every record twice', viaAirkick, true);
    const claims = await phase('asset rule, airkick, claims in Redis', withClaims, false);
    const claimsTwice = await phase(
      'asset rule, airkick, claims in Redis, every record twice',
      withClaims,
      true,
    );
    const raw = await phase(
      'asset rule, raw fetch POST events',
      (u) => rawAssetPhase(client, airflow, u, inFlight),
      false,
    );
    return { airkick, twice, claims, claimsTwice, raw };
  } finally {
    await Promise.all([bundle.close(), claiming.close(), client.close()]);
    const environment = describeEnvironment(parseEnvironment(benchEnvironment(airflow)));
    await deleteClaims(CLAIMS_REDIS, { environment, uri: BENCH_ASSET }, claimed);
  }
}

/** Goal: airkick's throughput at least this share of the raw client's at equal requests in flight. */
export const MIN_STORM_RATIO = 0.9;

/** Failed deliveries, with the HTTP statuses (or errors) behind the raw client's. */
function failed(phases: readonly StormPhase[]): string {
  const statuses: Record<string, number> = {};
  for (const phase of phases)
    for (const [status, n] of Object.entries(phase.failedStatuses))
      statuses[status] = (statuses[status] ?? 0) + n;
  const total = phases.reduce((sum, p) => sum + p.failures, 0);
  const detail = Object.entries(statuses).map(
    ([status, n]) => `${/^\d+$/.test(status) ? 'HTTP ' : ''}${status} x${n}`,
  );
  return detail.length > 0 ? `${total} (${detail.join(', ')})` : String(total);
}

const perRun = (phases: readonly StormPhase[], field: 'cpuMsPerRun' | 'logBytesPerRun') =>
  median(phases.map((p) => p[field]));

/** The sweep of the raw client over requests in flight, for every Airflow. */
function sweepTable(results: readonly StormResult[], first: StormResult): string {
  const { sweepN } = first.options;
  return [
    `Upload storm, where Airflow flattens: the raw client alone, N=${sweepN} per step, requests in flight swept; senders on node ${first.node}`,
    table(
      [
        'airflow',
        'in flight',
        'time',
        'runs/s',
        'of plateau',
        'runs created',
        `exactly ${sweepN}`,
        'failed',
        'client CPU/run',
      ],
      results.flatMap((result) =>
        result.sweep.map((step) => [
          result.airflow,
          String(step.inFlight),
          `${step.seconds.toFixed(1)} s`,
          step.runsPerSecond.toFixed(1),
          ratio(step.runsPerSecond / result.plateau.runsPerSecond),
          String(step.runsCreated),
          verdict(step.runsCreated === sweepN),
          failed([step]),
          `${step.cpuMsPerRun.toFixed(2)} ms`,
        ]),
      ),
    ),
    ...results.map(
      (r) =>
        `Airflow ${r.airflow}: plateau ${r.plateau.runsPerSecond.toFixed(1)} runs/s, reached (within 10%) from ${r.plateau.fromInFlight} in flight`,
    ),
  ].join('\n');
}

/** The asset rule's storm for every Airflow: events/s, events created, lost and duplicated. */
function assetTable(results: readonly StormResult[], first: StormResult): string {
  const { n } = first.options;
  const row = (result: StormResult, label: string, p: AssetPhase) => [
    result.airflow,
    label,
    String(p.deliveries),
    `${p.seconds.toFixed(1)} s`,
    p.runsPerSecond.toFixed(1),
    String(p.runsCreated),
    verdict(p.runsCreated === n),
    String(p.lost),
    String(p.duplicates),
    failed([p]),
    `${p.cpuMsPerRun.toFixed(2)} ms`,
  ];
  return [
    `Upload storm, asset rule: N=${n}, an asset (dataset) event per upload on ${BENCH_ASSET}, same bundle settings and requests in flight as above`,
    table(
      [
        'airflow',
        'sender',
        'deliveries',
        'time',
        'events/s',
        'events created',
        `exactly ${n}`,
        'lost',
        'duplicates',
        'failed deliveries',
        'client CPU/event',
      ],
      results.flatMap((result) => [
        row(result, 'airkick on-upload, asset rule', result.assets.airkick),
        row(result, `raw fetch POST ${result.major === 3 ? 'assets' : 'datasets'}/events`, result.assets.raw),
        row(result, 'airkick, every record delivered twice', result.assets.twice),
        row(result, 'airkick, claims in Redis', result.assets.claims),
        row(result, 'airkick, claims in Redis, every record twice', result.assets.claimsTwice),
      ]),
    ),
    ...results.map(
      ({ airflow, assets }) =>
        `Airflow ${airflow}: asset rule / raw events/s ${ratio(assets.airkick.runsPerSecond / assets.raw.runsPerSecond)} reading the asset's recent events before each POST, ${ratio(assets.claims.runsPerSecond / assets.raw.runsPerSecond)} with claims in Redis`,
    ),
  ].join('\n');
}

/** The sweep, then one table for the storms against every Airflow, then each one's ratios. */
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
      `${perRun(phases, 'cpuMsPerRun').toFixed(2)} ms`,
      `${perRun(phases, 'logBytesPerRun').toFixed(0)} B`,
    ];
  };
  const databases = [...new Set(results.map((r) => r.database))].join(', ');
  return [
    sweepTable(results, first),
    '',
    `Upload storm: N=${n}, the built on-upload bundle (log level INFO, metrics on), ${invocations} invocations x ${perInvocation} triggers in flight (AIRKICK_UPLOAD_CONCURRENCY=${perInvocation}; raw: ${
      invocations * perInvocation
    } requests in flight); median of ${reps}; each sender a node ${first.node} process of its own; metadata database ${databases}`,
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
        'client CPU/run',
        'logs/run',
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
    '',
    assetTable(results, first),
    ...results.map(
      (result) =>
        `Airflow ${result.airflow}: airkick / raw throughput at ${invocations * perInvocation} in flight ${ratio(result.ratio)}, median of the reps' ${result.pairRatios
          .map(ratio)
          .join(
            ', ',
          )} (goal >= ${MIN_STORM_RATIO}x: ${verdict(result.ratio >= MIN_STORM_RATIO)}); airkick / plateau ${ratio(result.plateauRatio)}`,
    ),
  ].join('\n');
}
