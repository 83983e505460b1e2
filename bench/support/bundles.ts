/**
 * Runs a built function bundle in a fresh `node` process (see invoke-bundle.cjs) with the
 * configuration and a real-shaped sample event for each function and cloud.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLOUDS, type Cloud, FUNCTION_NAMES, type FunctionName } from '#lib/host/names.ts';
import { DMS_EMULATOR_CREDENTIALS } from '#test/emulators/dms.ts';
import { MWAA_EMULATOR_CREDENTIALS } from '#test/emulators/mwaa.ts';
import { fcTimerEvent, ossEvent, scheduledEvent, sqsBatch } from '#test/support/events.ts';
import type { PeerName } from './peers.ts';
import { elapsedMs } from './stats.ts';

export const RUNNER = join(import.meta.dirname, 'invoke-bundle.cjs');
/** The runs of every bundle go to this DAG, kept paused by the benchmark so nothing executes them. */
export const BENCH_DAG = 'airkick_conf';
/** The asset (dataset) the upload storm's asset rule raises events on, and the DAG scheduled on it, kept paused too. */
export const BENCH_ASSET = 's3://airkick-assets/landing';
export const BENCH_ASSET_DAG = 'airkick_on_asset';

export const bundlePath = (root: string, cloud: Cloud, name: FunctionName | PeerName): string =>
  join(root, 'dist', cloud, name, 'index.js');

/**
 * Copies every bundle (with its `package.json`) to a temporary folder, so a `npm run build` running
 * meanwhile (it empties each folder first) cannot pull a bundle away between runs.
 */
export function snapshotBundles(root: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'airkick-bench-'));
  for (const cloud of CLOUDS) {
    for (const name of FUNCTION_NAMES) {
      mkdirSync(join(copy, 'dist', cloud, name), { recursive: true });
      for (const file of ['index.js', 'package.json'])
        copyFileSync(join(root, 'dist', cloud, name, file), join(copy, 'dist', cloud, name, file));
    }
  }
  return copy;
}

export interface BundleEnvironments {
  /** AIRKICK_ENV for the Lambda bundles (the MWAA emulator). */
  aws: string;
  /** AIRKICK_ENV for the Function Compute bundles (the DMS emulator). */
  aliyun: string;
  /** The Airflow itself (`http://admin@host:port?api=v1`), for the consumer peer on airkick core. */
  selfHosted: string;
  password: string;
}

/** What the in-process runner reports; times are milliseconds since the process started. */
export interface RunnerResult {
  startedMs?: number;
  loadedMs?: number;
  answeredMs?: number;
  error?: string | null;
  maxRssKb?: number;
  vmHwmKb?: number | null;
}

export interface ProcessRun {
  /** Spawn to exit, measured by the parent. */
  wallMs: number;
  exitCode: number | null;
  result: RunnerResult | undefined;
  stderr: string;
}

/** A process environment with nothing inherited but the basics, as on a fresh function container. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** Spawns `node <args>` (the given binary, or this process's) and measures it from spawn to exit. */
export function timedNode(
  args: readonly string[],
  env: Record<string, string> = {},
  node: string = process.execPath,
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(node, args, {
      env: { ...baseEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (exitCode) => {
      const wallMs = elapsedMs(start);
      child.on('close', () => {
        const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
        const result = line ? (JSON.parse(line.slice('BENCH_RESULT '.length)) as RunnerResult) : undefined;
        resolve({ wallMs, exitCode, result, stderr: stderr.slice(-2000) });
      });
    });
  });
}

/** The bare baseline: a node process that imports and runs nothing. */
export const bareNode = (node?: string): Promise<ProcessRun> => timedNode(['-e', ''], {}, node);

/** A schedule slot no other run uses, so every trigger really creates a run. */
const freshSlot = () =>
  new Date(Date.UTC(2020, 0, 1) + Math.floor(Math.random() * 1e8) * 1000).toISOString().replace('.000', '');

/**
 * The function's own variables and one sample event, as the platform would deliver it. The AWS
 * sample peer gets the MWAA emulator of the Lambda bundles' environment
 * (`mwaa://NAME?region=R&endpoint=URL`) and the DAG.
 */
function sample(
  name: FunctionName | PeerName,
  cloud: Cloud,
  environments: BundleEnvironments,
): { env: Record<string, string>; event: string } {
  const schedule = () =>
    cloud === 'aws' ? JSON.stringify(scheduledEvent(freshSlot())) : fcTimerEvent(freshSlot()).toString();
  switch (name) {
    case 'trigger-dag':
      return { env: { AIRKICK_TRIGGER_DAGS: BENCH_DAG }, event: schedule() };
    case 'on-upload': {
      const bucket = 'airkick-bench-cold';
      const key = `incoming/${randomUUID()}.csv`;
      const event =
        cloud === 'aws'
          ? JSON.stringify(sqsBatch([{ id: randomUUID(), objects: [{ bucket, key, sequencer: '0A' }] }]))
          : ossEvent([{ bucket, key, etag: randomUUID(), requestId: randomUUID() }]).toString();
      return {
        env: { AIRKICK_UPLOAD_RULES: JSON.stringify([{ prefix: 'incoming/', dagId: BENCH_DAG }]) },
        event,
      };
    }
    case 'health-check':
    case 'floor':
      return { env: {}, event: schedule() };
    case 'db-clean':
      return {
        env: { AIRKICK_CLEAN_RETENTION_DAYS: '30', AIRKICK_CLEAN_DRY_RUN: 'true' },
        event: schedule(),
      };
    case 'aws-sample': {
      const mwaa = new URL(environments.aws);
      const env = {
        MWAA_ENV_NAME: mwaa.hostname,
        MWAA_ENDPOINT: mwaa.searchParams.get('endpoint') ?? '',
        DAG_ID: BENCH_DAG,
      };
      return { env, event: schedule() };
    }
    case 'consumer':
      return {
        env: {
          AIRKICK_ENV: environments.selfHosted,
          AIRKICK_AIRFLOW_PASSWORD: environments.password,
          DAG_ID: BENCH_DAG,
        },
        event: schedule(),
      };
  }
}

/**
 * Starts a bundle (a function's, or a peer's: see peers.ts) in a fresh process; `require` stops
 * after loading, `invoke` answers one event.
 */
export function runBundle(
  root: string,
  cloud: Cloud,
  name: FunctionName | PeerName,
  mode: 'require' | 'invoke',
  environments: BundleEnvironments,
  node?: string,
): Promise<ProcessRun> {
  const { env, event } = sample(name, cloud, environments);
  const platform =
    cloud === 'aws'
      ? {
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: MWAA_EMULATOR_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: MWAA_EMULATOR_CREDENTIALS.secretAccessKey,
        }
      : {
          BENCH_FC_CONTEXT: JSON.stringify({
            requestId: randomUUID(),
            credentials: DMS_EMULATOR_CREDENTIALS,
            function: { name: `airkick-${name}`, timeout: 60 },
            region: 'cn-hangzhou',
          }),
        };
  return timedNode(
    [RUNNER, bundlePath(root, cloud, name), mode, cloud],
    { ...platform, AIRKICK_ENV: environments[cloud], BENCH_EVENT: event, ...env },
    node,
  );
}
