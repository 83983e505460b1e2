/**
 * `npm run bench`: for each Airflow major version asked for (default 2 and 3, one after the other so
 * the two never share the machine), starts a real Airflow and the MWAA and DMS emulators in front of
 * it and runs the round trips and the upload storm against it; cold start and memory, which do not
 * depend on the Airflow version, run once, against the first. The bundles, and the peers the bench
 * builds next to them, run on the Node major version of the runtime each cloud deploys to. Prints a
 * table per benchmark (a row per Airflow version where it matters) and writes
 * bench/results/latest.json. Ratios matter more than absolute times: the numbers come from whatever
 * machine ran them, under whatever load it had, which the report records.
 *
 * @example npm run bench
 * @example npm run bench -- --airflow 2 --n 100 --runs 5 --reps 1 --sweep 1,10,50
 * @example npm run bench -- --airflow 3 --only round-trips
 * @example npm run bench -- --only upload-storm --n 5000 --delete-runs
 */
import { readdirSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createAirflowClient } from '#lib/client.ts';
import { CLOUDS, type Cloud, FUNCTION_NAMES } from '#lib/host/names.ts';
import { type AirflowInstance, type AirflowMajor, startAirflow } from '#test/airflow/airflow.ts';
import { allProviders, apiOf, startTarget, type Target, type TargetKind } from '#test/support/targets.ts';
import {
  type ColdStartResult,
  coldStart,
  coldStartTable,
  isGoal,
  MAX_BUNDLE_BYTES,
  meetsAnswerGoal,
} from './cold-start.ts';
import { memoryTable, rssGoalMet } from './memory.ts';
import {
  type CountedTarget,
  meetsWarmGoal,
  type RoundTripRow,
  roundTrips,
  roundTripsTable,
} from './round-trips.ts';
import { deleteRuns, queuedRuns } from './support/airflow-rest.ts';
import {
  BENCH_ASSET_DAG,
  BENCH_DAG,
  type BundleEnvironments,
  bundlePath,
  snapshotBundles,
} from './support/bundles.ts';
import { type CountingProxy, startCountingProxy } from './support/counting-proxy.ts';
import { describeDatabase } from './support/database.ts';
import { deployedRuntimes, type NodeRuntime } from './support/node-runtimes.ts';
import { buildPeers } from './support/peers.ts';
import { meterServerTime } from './support/server-time.ts';
import { MIN_STORM_RATIO, type StormResult, uploadStorm, uploadStormTable } from './upload-storm.ts';

const BENCHMARKS = ['round-trips', 'cold-start', 'memory', 'upload-storm'] as const;
type Benchmark = (typeof BENCHMARKS)[number];
const ROOT = join(import.meta.dirname, '..');

const { values } = parseArgs({
  options: {
    airflow: { type: 'string', default: '2,3' },
    n: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '15' },
    'cli-runs': { type: 'string', default: '3' },
    calls: { type: 'string', default: '5' },
    invocations: { type: 'string', default: '2' },
    'per-invocation': { type: 'string', default: '5' },
    reps: { type: 'string', default: '3' },
    sweep: { type: 'string', default: '1,2,5,10,20,50' },
    'sweep-n': { type: 'string', default: '200' },
    'delete-runs': { type: 'boolean', default: false },
    only: { type: 'string', default: BENCHMARKS.join(',') },
    out: { type: 'string', default: join(ROOT, 'bench', 'results', 'latest.json') },
  },
});

function positive(name: keyof typeof values): number {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} expects a positive integer`);
  return value;
}

const options = {
  n: positive('n'),
  runs: positive('runs'),
  cliRuns: positive('cli-runs'),
  calls: positive('calls'),
  invocations: positive('invocations'),
  perInvocation: positive('per-invocation'),
  reps: positive('reps'),
  sweep: (values.sweep ?? '').split(',').map((part) => {
    const inFlight = Number(part);
    if (!Number.isInteger(inFlight) || inFlight < 1)
      throw new Error(`--sweep expects requests in flight such as 1,2,5,10,20,50; got "${part}"`);
    return inFlight;
  }),
  sweepN: positive('sweep-n'),
};
const selected = new Set(
  (values.only ?? '').split(',').map((name) => {
    if (!(BENCHMARKS as readonly string[]).includes(name))
      throw new Error(`--only expects some of ${BENCHMARKS.join(', ')}; got "${name}"`);
    return name as Benchmark;
  }),
);
const majors: AirflowMajor[] = [
  ...new Set(
    (values.airflow ?? '').split(',').map((part) => {
      if (part !== '2' && part !== '3') throw new Error(`--airflow expects 2, 3 or 2,3; got "${part}"`);
      return Number(part) as AirflowMajor;
    }),
  ),
];
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** Newest modification time under a folder, to warn when the bundles are older than the code. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function checkBundles(): void {
  const bundles = CLOUDS.flatMap((cloud) => FUNCTION_NAMES.map((name) => bundlePath(ROOT, cloud, name)));
  const missing = bundles.filter((file) => {
    try {
      return !statSync(file).isFile();
    } catch {
      return true;
    }
  });
  if (missing.length > 0) throw new Error(`bundles missing (run \`npm run build\`): ${missing.join(', ')}`);
  const source = Math.max(newestMtime(join(ROOT, 'lib')), newestMtime(join(ROOT, 'functions')));
  const oldest = Math.min(...bundles.map((file) => statSync(file).mtimeMs));
  if (oldest < source)
    log('warning: dist/ is older than lib/ or functions/; `npm run build` to measure the current code');
}

/** One Airflow with everything in front of it that the benchmarks reach it through. */
interface Stack {
  airflow: AirflowInstance;
  database: string;
  /** Every provider with its API pinned to this Airflow's, each with an `api=auto` twin. */
  counted: CountedTarget[];
  /** The pinned MWAA and DMS environments, for the bundles of cold start and memory. */
  environments: BundleEnvironments;
  pause(paused: boolean): Promise<void>;
  stop(): Promise<void>;
}

let current: Stack | undefined;
let stopping: Promise<void> | undefined;
const cleanups: (() => Promise<void>)[] = [];

/** Stops what is running and removes the bundle snapshot; safe to call twice. */
function stopAll(): Promise<void> {
  stopping ??= Promise.allSettled([current?.stop(), ...cleanups.map((c) => c())]).then(() => {});
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void stopAll().finally(() => process.exit(130));
  });
}

const EMULATED = ['mwaa', 'mwaa-session', 'dms'] as const satisfies readonly TargetKind[];

async function startStack(major: AirflowMajor): Promise<Stack> {
  const airflow = await startAirflow({ version: major, name: 'bench', log });
  const emulators: Target[] = [];
  const keep = (target: Target) => {
    emulators.push(target);
    return target;
  };
  let proxy: CountingProxy | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await Promise.allSettled([...emulators.map((t) => t.stop()), proxy?.stop()]);
      log(`stopping Airflow ${airflow.version}`);
      await airflow.stop();
    })();
    return stopped;
  };
  try {
    const pairs = await Promise.all(
      EMULATED.map(async (kind) => {
        const [pinned, auto] = await Promise.all([
          startTarget(kind, airflow).then(keep),
          startTarget(kind, airflow, { api: 'auto' }).then(keep),
        ]);
        return { ...pinned, kind, auto };
      }),
    );
    proxy = await startCountingProxy(airflow.baseUrl);
    const counting = proxy;
    const selfHosted = (api: string) =>
      createAirflowClient(`http://${airflow.username}@${new URL(counting.url).host}?api=${api}`, {
        password: airflow.password,
        providers: allProviders,
        fresh: true,
      });
    const counted: CountedTarget[] = [...pairs];
    counted.push({
      kind: 'self-hosted',
      coldClient: () => selfHosted(apiOf(airflow)),
      counts: counting.counts,
      resetCounts: counting.resetCounts,
      auto: {
        coldClient: () => selfHosted('auto'),
        counts: counting.counts,
        resetCounts: counting.resetCounts,
      },
    });
    const direct = new URL(airflow.baseUrl);
    direct.username = airflow.username;
    const admin = createAirflowClient(`${direct.toString().replace(/\/$/, '')}?api=${apiOf(airflow)}`, {
      password: airflow.password,
      providers: allProviders,
      fresh: true,
    });
    const environment = (kind: TargetKind) => pairs.find((t) => t.kind === kind)?.environment ?? '';
    return {
      airflow,
      database: await describeDatabase(airflow.databaseUrl),
      counted,
      environments: {
        aws: environment('mwaa'),
        aliyun: environment('dms'),
        // Through the counting proxy, an HTTP server of this process, so its time counts as the services'.
        selfHosted: `http://${airflow.username}@${new URL(counting.url).host}?api=${apiOf(airflow)}`,
        password: airflow.password,
      },
      pause: async (paused) => {
        for (const dag of [BENCH_DAG, BENCH_ASSET_DAG]) await admin.setPaused(dag, paused);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** How loaded the machine was while a benchmark ran: other work on it skews absolute times. */
interface Section {
  benchmark: Benchmark;
  airflow: string;
  seconds: number;
  /** One-minute load average when the benchmark started and ended. */
  loadBefore: number;
  loadAfter: number;
}

const sections: Section[] = [];

async function section<T>(benchmark: Benchmark, airflow: string, run: () => Promise<T>): Promise<T> {
  const loadBefore = loadavg()[0] ?? 0;
  const start = Date.now();
  const result = await run();
  sections.push({
    benchmark,
    airflow,
    seconds: Math.round((Date.now() - start) / 1000),
    loadBefore: Math.round(loadBefore * 10) / 10,
    loadAfter: Math.round((loadavg()[0] ?? 0) * 10) / 10,
  });
  return result;
}

async function main(): Promise<number> {
  const started = Date.now();
  const coldSelected = selected.has('cold-start') || selected.has('memory');
  let bundles = ROOT;
  let runtimes: Record<Cloud, NodeRuntime> | undefined;
  if (coldSelected || selected.has('upload-storm')) {
    checkBundles();
    bundles = snapshotBundles(ROOT);
    const snapshot = bundles;
    cleanups.push(() => rm(snapshot, { recursive: true, force: true }));
    runtimes = deployedRuntimes(log);
  }
  if (coldSelected) await buildPeers(bundles);
  // The emulators serve in this process: how long they held a cold process's requests is measurable.
  const services = meterServerTime();
  cleanups.push(async () => services.close());

  const airflows: { major: AirflowMajor; version: string; database: string }[] = [];
  const failures: { major: AirflowMajor; error: string }[] = [];
  const rounds: RoundTripRow[] = [];
  const storms: StormResult[] = [];
  let cold: (ColdStartResult & { airflow: string }) | undefined;

  for (const major of majors) {
    try {
      current = await startStack(major);
      const { airflow, database, counted, environments } = current;
      airflows.push({ major, version: airflow.version, database });
      // Paused, the DAG still takes runs but the scheduler starts no task for them: a storm of queued
      // runs would otherwise start a task process each on a two-core machine and skew every number.
      await current.pause(true);

      if (selected.has('round-trips'))
        rounds.push(
          ...(await section('round-trips', airflow.version, () =>
            roundTrips(airflow, counted, options.calls, log),
          )),
        );
      // The bundles answer through the emulators to whichever Airflow runs first; loading a bundle and
      // its memory do not depend on it. Memory comes from the same processes as the cold start.
      if (coldSelected && runtimes && !cold) {
        const setup = { root: bundles, environments, runtimes, services };
        const result = await section('cold-start', airflow.version, () => coldStart(setup, options, log));
        cold = { airflow: airflow.version, ...result };
      }
      if (selected.has('upload-storm') && runtimes) {
        const storm = { ...options, deleteRuns: values['delete-runs'] ?? false };
        const setup = { root: bundles, node: runtimes.aws };
        storms.push(
          await section('upload-storm', airflow.version, () =>
            uploadStorm(airflow, database, setup, storm, log),
          ),
        );
      }

      // The benchmark's Airflow database is dropped on stop, so deleting thousands of runs one REST
      // call at a time is only worth it on request; unpausing with them still queued would start them.
      const left = await queuedRuns(airflow, BENCH_DAG);
      if (values['delete-runs']) {
        log(`deleting ${left.length} queued runs the benchmarks created`);
        await deleteRuns(
          airflow,
          BENCH_DAG,
          left.map((run) => run.dag_run_id),
        );
        await current.pause(false);
      } else log(`leaving ${left.length} queued runs in the paused ${BENCH_DAG}; its database goes on stop`);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`Airflow ${major} failed: ${message}`);
      failures.push({ major, error: message.split('\n')[0] ?? message });
    } finally {
      await current?.stop();
      current = undefined;
    }
  }

  const goals: Record<string, boolean> = {};
  const tables: string[] = [];
  if (selected.has('round-trips')) {
    tables.push(roundTripsTable(rounds, options.calls));
    for (const { version } of airflows)
      goals[`oneRequestPerWarmTrigger[${version}]`] =
        rounds.some((r) => r.airflow === version) &&
        rounds.filter((r) => r.airflow === version).every(meetsWarmGoal);
  }
  if (cold && selected.has('cold-start')) {
    tables.push(
      withTitleNote(coldStartTable(cold), `first answers through the emulators to Airflow ${cold.airflow}`),
    );
    const functions = cold.rows.filter((r) => !r.peer);
    goals.bundlesUnder1MiB = functions.every((r) => r.bytes < MAX_BUNDLE_BYTES);
    goals.everyBundleAnswered = cold.rows.every((r) => r.errors.length === 0);
    for (const cloud of ['aws', 'aliyun'] as const)
      goals[`coldOwnAnswerWithin2xFloor[${cloud}]`] = functions
        .filter((r) => r.cloud === cloud && isGoal(r))
        .every(meetsAnswerGoal);
  }
  if (cold && selected.has('memory')) {
    tables.push(
      withTitleNote(memoryTable(cold), `answering through the emulators to Airflow ${cold.airflow}`),
    );
    goals.peakRssAtMost64MiB = rssGoalMet(cold);
  }
  if (selected.has('upload-storm')) {
    tables.push(uploadStormTable(storms));
    for (const storm of storms) {
      goals[`stormAtLeast0_9xRaw[${storm.airflow}]`] = storm.ratio >= MIN_STORM_RATIO;
      goals[`stormExactlyN[${storm.airflow}]`] = [...storm.airkick, storm.airkickTwice].every(
        (p) => p.runsCreated === options.n,
      );
      goals[`stormAssetRuleExactlyN[${storm.airflow}]`] = storm.assets.airkick.runsCreated === options.n;
      goals[`stormAssetClaimsExactlyNTwice[${storm.airflow}]`] =
        storm.assets.claims.runsCreated === options.n && storm.assets.claimsTwice.runsCreated === options.n;
      goals[`stormWithFaultsNoneLostNoneTwice[${storm.airflow}]`] =
        storm.withFaults.lost === 0 && storm.withFaults.duplicates === 0;
    }
  }
  tables.push(loadTable(sections));
  for (const failure of failures) goals[`airflow${failure.major}Ran`] = false;

  const report = {
    date: new Date().toISOString(),
    minutes: Math.round((Date.now() - started) / 6000) / 10,
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      runtimes: runtimes && { aws: runtimes.aws.version, aliyun: runtimes.aliyun.version },
    },
    options: { ...options, airflow: majors },
    airflow: airflows,
    load: sections,
    failures,
    goals,
    roundTrips: { calls: options.calls, rows: rounds },
    coldStart: cold,
    uploadStorm: storms,
  };
  await mkdir(dirname(values.out ?? '.'), { recursive: true });
  await writeFile(values.out ?? 'latest.json', `${JSON.stringify(report, null, 1)}\n`);
  console.log(`\n${tables.join('\n\n')}\n`);
  console.log(
    `Goals: ${Object.entries(goals)
      .map(([goal, met]) => `${goal} ${met ? 'met' : 'NOT met'}`)
      .join('; ')}`,
  );
  for (const failure of failures) console.log(`Airflow ${failure.major} did not run: ${failure.error}`);
  console.log(`Written to ${values.out} after ${report.minutes} min`);
  return failures.length === 0 ? 0 : 1;
}

/** Adds a note to a table's title line. */
function withTitleNote(text: string, note: string): string {
  const [title, ...rest] = text.split('\n');
  return [`${title}; ${note}`, ...rest].join('\n');
}

function loadTable(rows: readonly Section[]): string {
  return [
    `Machine load while each benchmark ran (1-minute load average on ${cpus().length} cores, start -> end)`,
    ...rows.map(
      (r) =>
        `  ${r.benchmark.padEnd(12)}  Airflow ${r.airflow.padEnd(7)}  ${r.loadBefore} -> ${r.loadAfter}  (${r.seconds} s)`,
    ),
  ].join('\n');
}

try {
  process.exitCode = await main();
} finally {
  await stopAll();
}
