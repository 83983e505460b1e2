/**
 * `npm run bench`: starts one real Airflow and the MWAA and DMS emulators, runs every benchmark side
 * by side, prints a table per benchmark and writes bench/results/latest.json. Ratios matter more than
 * absolute times: the numbers come from whatever machine ran them.
 *
 * @example npm run bench
 * @example npm run bench -- --n 200 --runs 3 --reps 1
 * @example npm run bench -- --only round-trips,memory
 * @example npm run bench -- --only upload-storm --n 5000 --delete-runs
 */
import { readdirSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createAirflowClient } from '#lib/airflow/index.ts';
import { type AirflowInstance, startAirflow } from '#test/airflow/airflow.ts';
import { allProviders, startTarget, type Target } from '#test/support/targets.ts';
import { coldStart, coldStartTable, MAX_BUNDLE_BYTES, MAX_INIT_RATIO } from './cold-start.ts';
import { MAX_RSS_BYTES, memory, memoryTable } from './memory.ts';
import { type CountedTarget, roundTrips, roundTripsTable } from './round-trips.ts';
import { deleteRuns, queuedRuns } from './support/airflow-rest.ts';
import { BENCH_DAG, bundlePath, CLOUDS, FUNCTIONS, snapshotBundles } from './support/bundles.ts';
import { type CountingProxy, startCountingProxy } from './support/counting-proxy.ts';
import { uploadStorm, uploadStormTable } from './upload-storm.ts';

const BENCHMARKS = ['round-trips', 'cold-start', 'memory', 'upload-storm'] as const;
type Benchmark = (typeof BENCHMARKS)[number];
const ROOT = join(import.meta.dirname, '..');

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '5' },
    calls: { type: 'string', default: '5' },
    'memory-runs': { type: 'string', default: '3' },
    invocations: { type: 'string', default: '2' },
    'per-invocation': { type: 'string', default: '5' },
    reps: { type: 'string', default: '3' },
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
  calls: positive('calls'),
  memoryRuns: positive('memory-runs'),
  invocations: positive('invocations'),
  perInvocation: positive('per-invocation'),
  reps: positive('reps'),
};
const selected = new Set(
  (values.only ?? '').split(',').map((name) => {
    if (!(BENCHMARKS as readonly string[]).includes(name))
      throw new Error(`--only expects some of ${BENCHMARKS.join(', ')}; got "${name}"`);
    return name as Benchmark;
  }),
);
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
  const bundles = CLOUDS.flatMap((cloud) => FUNCTIONS.map((name) => bundlePath(ROOT, cloud, name)));
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

let airflow: AirflowInstance | undefined;
const targets: Target[] = [];
let proxy: CountingProxy | undefined;
let stopping: Promise<void> | undefined;
const cleanups: (() => Promise<void>)[] = [];

/** Deletes what the benchmarks left queued, unpauses the DAG and stops everything; safe to call twice. */
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    await Promise.allSettled([...targets.map((t) => t.stop()), proxy?.stop(), ...cleanups.map((c) => c())]);
    if (airflow) {
      log('stopping Airflow');
      await airflow.stop();
    }
  })();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void stopAll().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  let bundles = ROOT;
  if (selected.has('cold-start') || selected.has('memory')) {
    checkBundles();
    bundles = snapshotBundles(ROOT);
    cleanups.push(() => rm(bundles, { recursive: true, force: true }));
  }
  airflow = await startAirflow({ name: 'bench', log });
  const info = airflow;
  const [mwaa, mwaaSession, dms] = await Promise.all([
    startTarget('mwaa', info),
    startTarget('mwaa-session', info),
    startTarget('dms', info),
  ]);
  targets.push(mwaa, mwaaSession, dms);
  proxy = await startCountingProxy(info.baseUrl);
  const counted = proxy;
  const selfHosted: CountedTarget = {
    kind: 'self-hosted',
    coldClient: () =>
      createAirflowClient(`http://${info.username}@${new URL(counted.url).host}`, {
        password: info.password,
        providers: allProviders,
        fresh: true,
      }),
    counts: counted.counts,
    resetCounts: counted.resetCounts,
  };
  const direct = new URL(info.baseUrl);
  direct.username = info.username;
  const admin = createAirflowClient(direct.toString().replace(/\/$/, ''), {
    password: info.password,
    providers: allProviders,
    fresh: true,
  });
  // Paused, the DAG still takes runs but the scheduler starts no task for them: a storm of queued
  // runs would otherwise start a task process each on a two-core machine and skew every number.
  await admin.setPaused(BENCH_DAG, true);

  const results: Record<string, unknown> = {};
  const tables: string[] = [];
  const goals: Record<string, boolean> = {};
  const environments = { aws: mwaa.environment, aliyun: dms.environment };

  if (selected.has('round-trips')) {
    const rows = await roundTrips([mwaa, mwaaSession, dms, selfHosted], options.calls, log);
    results.roundTrips = { calls: options.calls, rows };
    tables.push(roundTripsTable(rows, options.calls));
    goals.oneRequestPerWarmTrigger = rows
      .filter((r) => r.provider !== 'mwaa-session')
      .every((r) => r.warm === 1);
  }
  if (selected.has('cold-start')) {
    const result = await coldStart(bundles, environments, options.runs, log);
    results.coldStart = result;
    tables.push(coldStartTable(result));
    goals.bundlesUnder1MiB = result.rows.every((r) => r.bytes < MAX_BUNDLE_BYTES);
    goals.initUnder1_5xBare = result.rows.every((r) => r.initRatio < MAX_INIT_RATIO);
    goals.everyBundleAnswered = result.rows.every((r) => r.errors.length === 0);
  }
  if (selected.has('memory')) {
    const result = await memory(bundles, environments, options.memoryRuns, log);
    results.memory = result;
    tables.push(memoryTable(result));
    goals.peakRssUnder128MiB = result.rows.every((r) => r.worstRssBytes < MAX_RSS_BYTES);
  }
  if (selected.has('upload-storm')) {
    const result = await uploadStorm(info, { ...options, deleteRuns: values['delete-runs'] ?? false }, log);
    results.uploadStorm = result;
    tables.push(uploadStormTable(result));
    goals.stormAtLeast0_8xRaw = result.ratio >= 0.8;
    goals.stormExactlyN = [...result.airkick, result.airkickTwice].every((p) => p.runsCreated === options.n);
  }

  // The benchmark's Airflow database is dropped on stop, so deleting thousands of runs one REST call
  // at a time is only worth it on request; unpausing with them still queued would start them all.
  const left = await queuedRuns(info, BENCH_DAG);
  if (values['delete-runs']) {
    log(`deleting ${left.length} queued runs the benchmarks created`);
    await deleteRuns(
      info,
      BENCH_DAG,
      left.map((run) => run.dag_run_id),
    );
    await admin.setPaused(BENCH_DAG, false);
  } else log(`leaving ${left.length} queued runs in the paused ${BENCH_DAG}; its database goes on stop`);

  const report = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    options,
    goals,
    ...results,
  };
  await mkdir(dirname(values.out ?? '.'), { recursive: true });
  await writeFile(values.out ?? 'latest.json', `${JSON.stringify(report, null, 1)}\n`);
  console.log(`\n${tables.join('\n\n')}\n`);
  console.log(
    `Goals: ${Object.entries(goals)
      .map(([goal, met]) => `${goal} ${met ? 'met' : 'NOT met'}`)
      .join('; ')}`,
  );
  console.log(`Written to ${values.out}`);
}

try {
  await main();
} finally {
  await stopAll();
}
