/**
 * Cold start and memory per function and cloud, next to two peers built the same way (see
 * support/peers.ts): the floor, a middy + Powertools handler that answers at once, and AWS's sample
 * shape (client-mwaa CreateCliToken, then the MWAA CLI with `fetch`). Each cloud's bundles and peers
 * run on the Node major version of the runtime the project deploys to. A round is one fresh process
 * per subject that only loads it (`require`) and one that loads it and answers one event (`invoke`),
 * with a bare `node` per runtime first; rounds are interleaved so machine noise hits all alike. The
 * invoke process reports its peak RSS, so the memory table comes from the same processes.
 *
 * A first answer waits on the services too: the emulators and Airflow behind them, and for the AWS
 * sample a whole `airflow dags trigger` CLI process. The emulators run in this process, so the time
 * they held the cold process's requests is measured (support/server-time.ts) and the rest is the
 * function's own: what the floor is compared with.
 */
import { statSync } from 'node:fs';
import { CLOUDS, type Cloud, FUNCTION_NAMES, type FunctionName } from '#lib/host/names.ts';
import {
  type BundleEnvironments,
  bundlePath,
  type ProcessRun,
  runBundle,
  timedNode,
} from './support/bundles.ts';
import type { NodeRuntime } from './support/node-runtimes.ts';
import { PEER_CLOUDS, PEERS, type PeerName } from './support/peers.ts';
import type { ServerTime } from './support/server-time.ts';
import { kib, median, ms, ratio, round, table, verdict } from './support/stats.ts';

export const MAX_BUNDLE_BYTES = 1024 * 1024;
/** Goal: a cold first answer of at most this times the floor's, for the functions in GOAL_FUNCTIONS. */
export const MAX_FLOOR_RATIO = 2;
export const GOAL_FUNCTIONS: readonly string[] = ['trigger-dag', 'on-upload', 'health-check'];
/**
 * Subjects whose answer waits on a whole `airflow` CLI process (`dags trigger`, `db clean`): 7 s or
 * more each on two cores, so they answer in the first `cliRuns` rounds only (and load in every one).
 */
const CLI_BOUND: readonly string[] = ['aws-sample', 'db-clean'];

/** One subject of the rounds: an airkick bundle, or a peer on a cloud's runtime. */
export interface Subject {
  cloud: Cloud;
  /** The function's name, or the peer's. */
  name: FunctionName | PeerName;
  peer: boolean;
}

export interface ColdStartRow extends Subject {
  node: string;
  bytes: number;
  /** Median wall time of a process that only loads the bundle. */
  initMs: number;
  initRatio: number;
  /** Median wall time of a process that loads the bundle and answers one event. */
  answerMs: number;
  answerRatio: number;
  /** Median time the services (emulators, Airflow) held that process's requests. */
  servicesMs: number;
  /** Median of first answer minus services, per process: the function's own share. */
  ownMs: number;
  ownRatio: number;
  /** Median and largest peak RSS of the invoke processes, bytes. */
  peakRssBytes: number;
  worstRssBytes: number;
  rssRatio: number;
  errors: string[];
}

export interface RuntimeBaseline {
  cloud: Cloud;
  node: string;
  /** Set when the deployed major version could not be had and the machine's node ran instead. */
  fallback?: string;
  /** Bare `node`: median wall time and peak RSS. */
  bareMs: number;
  bareRssBytes: number;
}

export interface ColdStartResult {
  runs: number;
  /** Rounds in which the CLI-bound subjects answered. */
  cliRuns: number;
  runtimes: RuntimeBaseline[];
  rows: ColdStartRow[];
}

interface Samples {
  require: ProcessRun[];
  invoke: ProcessRun[];
  servicesMs: number[];
}

/** Per cloud: its peers, then its functions. */
const SUBJECTS: readonly Subject[] = CLOUDS.flatMap((cloud) => [
  ...PEERS.filter((name) => PEER_CLOUDS[name].includes(cloud)).map((name) => ({ cloud, name, peer: true })),
  ...FUNCTION_NAMES.map((name) => ({ cloud, name, peer: false })),
]);

const key = (s: Subject) => `${s.cloud}/${s.name}`;
const BARE = `process.stdout.write('BENCH_RESULT ' + JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }) + '\\n')`;
/** VmHWM and maxRSS agree on Linux; the larger, to be safe. */
const peakRss = (run: ProcessRun) => Math.max(run.result?.maxRssKb ?? 0, run.result?.vmHwmKb ?? 0) * 1024;
const failure = (run: ProcessRun) =>
  run.result?.error ?? (run.result ? null : `no result (exit ${run.exitCode}): ${run.stderr}`);

export interface ColdStartSetup {
  /** Holds dist/ with the bundles and the peers (a snapshot: see snapshotBundles and buildPeers). */
  root: string;
  environments: BundleEnvironments;
  runtimes: Record<Cloud, NodeRuntime>;
  services: ServerTime;
}

export async function coldStart(
  setup: ColdStartSetup,
  rounds: { runs: number; cliRuns: number },
  log: (line: string) => void,
): Promise<ColdStartResult> {
  const { runs } = rounds;
  const cliRuns = Math.min(rounds.cliRuns, runs);
  const { root, environments, runtimes, services } = setup;
  const run = (s: Subject, mode: 'require' | 'invoke') =>
    runBundle(root, s.cloud, s.name, mode, environments, runtimes[s.cloud].path);
  const samples = new Map<string, Samples>(
    SUBJECTS.map((s) => [key(s), { require: [], invoke: [], servicesMs: [] }]),
  );
  const bare = new Map<Cloud, ProcessRun[]>(CLOUDS.map((cloud) => [cloud, []]));
  // One unmeasured pass warms the file cache and the emulators' sockets.
  for (const cloud of CLOUDS) await timedNode(['-e', BARE], {}, runtimes[cloud].path);
  for (const s of SUBJECTS) await run(s, 'require');
  for (let pass = 1; pass <= runs; pass++) {
    log(`cold start: round ${pass}/${runs}`);
    for (const cloud of CLOUDS)
      bare.get(cloud)?.push(await timedNode(['-e', BARE], {}, runtimes[cloud].path));
    for (const s of SUBJECTS) {
      const entry = samples.get(key(s));
      entry?.require.push(await run(s, 'require'));
      if (CLI_BOUND.includes(s.name) && pass > cliRuns) continue;
      services.reset();
      entry?.invoke.push(await run(s, 'invoke'));
      entry?.servicesMs.push(services.busyMs());
    }
  }

  const baselines = CLOUDS.map((cloud): RuntimeBaseline => {
    const runsOf = bare.get(cloud) ?? [];
    const { version, fallback } = runtimes[cloud];
    return {
      cloud,
      node: version,
      ...(fallback === undefined ? {} : { fallback }),
      bareMs: round(median(runsOf.map((r) => r.wallMs))),
      bareRssBytes: median(runsOf.map(peakRss)),
    };
  });
  const summary = (s: Subject) => {
    const entry = samples.get(key(s)) ?? { require: [], invoke: [], servicesMs: [] };
    const peaks = entry.invoke.map(peakRss);
    const errors = [...entry.require, ...entry.invoke]
      .map(failure)
      .filter((e): e is string => Boolean(e))
      .map((e) => e.split('\n')[0] ?? e);
    return {
      initMs: median(entry.require.map((r) => r.wallMs)),
      answerMs: median(entry.invoke.map((r) => r.wallMs)),
      servicesMs: median(entry.servicesMs),
      ownMs: median(entry.invoke.map((r, i) => r.wallMs - (entry.servicesMs[i] ?? 0))),
      peakRssBytes: median(peaks),
      worstRssBytes: Math.max(...peaks),
      errors: [...new Set(errors)],
    };
  };
  const rows = SUBJECTS.map((s): ColdStartRow => {
    const own = summary(s);
    const floor = summary({ cloud: s.cloud, name: 'floor', peer: true });
    return {
      ...s,
      node: runtimes[s.cloud].version,
      bytes: statSync(bundlePath(root, s.cloud, s.name)).size,
      initMs: round(own.initMs),
      initRatio: round(own.initMs / floor.initMs, 2),
      answerMs: round(own.answerMs),
      answerRatio: round(own.answerMs / floor.answerMs, 2),
      servicesMs: round(own.servicesMs),
      ownMs: round(own.ownMs),
      ownRatio: round(own.ownMs / floor.ownMs, 2),
      peakRssBytes: round(own.peakRssBytes, 0),
      worstRssBytes: own.worstRssBytes,
      rssRatio: round(own.peakRssBytes / floor.peakRssBytes, 2),
      errors: own.errors,
    };
  });
  return { runs, cliRuns, runtimes: baselines, rows };
}

/** The row's label: the function, or what the peer is. */
export function subjectLabel(s: Subject): string {
  if (!s.peer) return s.name;
  const labels: Record<PeerName, string> = {
    floor: 'floor: middy + Powertools',
    'aws-sample': 'AWS sample: client-mwaa + fetch',
    consumer: 'consumer: a handler on airkick core',
  };
  return labels[s.name as PeerName];
}

/** Whether a row is held to the goals (the functions; a peer is what they are held against). */
export const isGoal = (r: Subject): boolean => !r.peer && GOAL_FUNCTIONS.includes(r.name);

export const meetsAnswerGoal = (r: ColdStartRow): boolean => r.ownRatio <= MAX_FLOOR_RATIO;

/** `aws v22.23.3: bare node 40 ms / 41.2 MiB`, with the fallback said where there was one. */
export function runtimesLine(result: ColdStartResult, show: (b: RuntimeBaseline) => string): string {
  return result.runtimes
    .map((b) => `${b.cloud} on node ${b.node}${b.fallback ? ` (${b.fallback})` : ''}: ${show(b)}`)
    .join('; ');
}

export function coldStartTable(result: ColdStartResult): string {
  const rows = result.rows.map((r) => [
    r.cloud,
    subjectLabel(r),
    kib(r.bytes),
    verdict(r.bytes < MAX_BUNDLE_BYTES),
    ms(r.initMs),
    ratio(r.initRatio),
    ms(r.answerMs),
    ratio(r.answerRatio),
    ms(r.servicesMs),
    ms(r.ownMs),
    ratio(r.ownRatio),
    isGoal(r) ? verdict(meetsAnswerGoal(r)) : '',
    r.errors.length === 0 ? 'ok' : `ERROR: ${r.errors[0]?.slice(0, 80)}`,
  ]);
  return [
    `Cold start: median of ${result.runs} interleaved rounds of fresh processes (answers of the AWS sample and db-clean, which wait on an \`airflow\` CLI process, in ${result.cliRuns}); ${runtimesLine(
      result,
      (b) => `bare \`node\` ${ms(b.bareMs)}`,
    )}`,
    table(
      [
        'cloud',
        'function',
        'bundle',
        '< 1 MiB',
        'load',
        'load/floor',
        'first answer',
        'answer/floor',
        'services',
        'own',
        'own/floor',
        `<= ${MAX_FLOOR_RATIO}x floor`,
        'answered',
      ],
      rows,
    ),
  ].join('\n');
}
