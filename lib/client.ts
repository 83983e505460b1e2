/**
 * The entry point: `createAirflowClient('mwaa://my-env?region=us-east-1', { providers })` gives an
 * AirflowClient. Providers are passed in so a Lambda bundle carries only the AWS SDK and a Function
 * Compute bundle only the Alibaba one. Clients are kept per environment at module scope, so their
 * token and session caches survive warm invocations.
 */

import { RestAirflowClient } from '#lib/airflow/client.ts';
import type { Transport } from '#lib/airflow/transport.ts';
import type { AirflowClient } from '#lib/airflow/types.ts';
import type { DmsOptions } from '#lib/auth/dms.ts';
import type { MwaaOptions } from '#lib/auth/mwaa.ts';
import { selfHostedTransport } from '#lib/auth/self-hosted.ts';
import { type DmsSpec, type EnvironmentSpec, type MwaaSpec, parseEnvironment } from '#lib/environment.ts';
import { AirkickError } from '#lib/errors.ts';

/**
 * The cloud providers a bundle carries; a `mwaa://` or `dms://` environment without its provider fails
 * with `CONFIG`. Self-hosted needs none: it is built in.
 */
export interface Providers {
  /** For `mwaa://` environments: `mwaaTransport` from `airkick/mwaa`. */
  mwaa?: (spec: MwaaSpec, options?: MwaaOptions) => Transport;
  /** For `dms://` environments: `dmsTransport` from `airkick/dms`. */
  dms?: (spec: DmsSpec, options?: DmsOptions) => Transport;
}

/** How {@link createAirflowClient} builds a client. */
export interface ClientOptions {
  /** The cloud providers this code may need; `{}` when it only reaches self-hosted Airflow. */
  providers: Providers;
  /** Password of a self-hosted environment when the URL carries only the user. */
  password?: string | undefined;
  /** Passed to `providers.mwaa`: AWS credentials and token lifetimes. */
  aws?: MwaaOptions;
  /** Passed to `providers.dms`: Alibaba Cloud keys and the login lifetime. */
  aliyun?: DmsOptions;
  /** Skip the per-environment cache (tests and benchmarks that need a cold client). */
  fresh?: boolean;
}

const clients = new Map<string, AirflowClient>();

/**
 * The client for an environment string (see {@link parseEnvironment}) or an {@link EnvironmentSpec}. It
 * makes no request: tokens are fetched and the Airflow version learnt on the first call. Clients are kept
 * per environment (and static Alibaba Cloud key) at module scope, so their token and session caches
 * survive warm invocations; a later call for the same environment returns that client as it was first
 * made, whatever the options (`fresh` makes a new one). Throws `CONFIG` for an invalid environment string
 * or a provider missing from `options.providers`, with any password masked.
 *
 * @example Self-hosted Airflow 2 or 3
 * ```ts
 * import { createAirflowClient } from 'airkick';
 *
 * const airflow = createAirflowClient('https://admin@airflow.internal:8080', {
 *   providers: {},
 *   password: process.env.AIRFLOW_PASSWORD,
 * });
 * // A run id makes the trigger idempotent: a redelivered event finds the run already there.
 * const { run, alreadyTriggered } = await airflow.triggerDagRun({
 *   dagId: 'daily_report',
 *   runId: 'report-2026-12-01',
 *   conf: { day: '2026-12-01' },
 * });
 * ```
 *
 * @example Amazon MWAA from AWS Lambda, bounded by the function's remaining time
 * ```ts
 * import { createAirflowClient } from 'airkick';
 * import { mwaaTransport } from 'airkick/mwaa';
 * import type { Context } from 'aws-lambda';
 *
 * // Module scope: one client per container, its tokens kept across warm invocations.
 * const airflow = createAirflowClient('mwaa://etl?region=eu-west-1', { providers: { mwaa: mwaaTransport } });
 *
 * export async function handler(event: { day: string }, context: Context) {
 *   // Retries stop in time to report, one second before Lambda ends the invocation.
 *   const deadline = Date.now() + context.getRemainingTimeInMillis() - 1_000;
 *   const { run } = await airflow.triggerDagRun(
 *     { dagId: 'daily_report', runId: `report-${event.day}`, conf: event },
 *     { deadline },
 *   );
 *   return airflow.waitForDagRun(run.dagId, run.runId, { deadline, pollIntervalMs: 5_000 });
 * }
 * ```
 *
 * @example Alibaba Cloud DMS from Function Compute, with the invocation's STS keys and an abort signal
 * ```ts
 * import { createAirflowClient } from 'airkick';
 * import { type AliyunKeys, dmsTransport } from 'airkick/dms';
 *
 * // The client (and its login) lives across invocations; each invocation brings fresh keys.
 * let keys: AliyunKeys;
 * const airflow = createAirflowClient('dms://af-123?region=cn-hangzhou', {
 *   providers: { dms: dmsTransport },
 *   aliyun: { credentials: () => keys },
 * });
 *
 * export async function handler(event: Buffer, context: { credentials: AliyunKeys }) {
 *   keys = context.credentials;
 *   const health = await airflow.health({ signal: AbortSignal.timeout(5_000) });
 *   return health.scheduler.status;
 * }
 * ```
 */
export function createAirflowClient(
  environment: string | EnvironmentSpec,
  options: ClientOptions,
): AirflowClient {
  const spec =
    typeof environment === 'string' ? parseEnvironment(environment, options.password) : environment;
  // Static keys are part of the identity (two callers with different keys get two clients); a key
  // provider (Function Compute's per-invocation keys, an SDK chain) stays one client per container.
  const keyId = (keys: { accessKeyId: string } | (() => unknown) | undefined) =>
    typeof keys === 'function' ? 'provider' : (keys?.accessKeyId ?? null);
  const key = JSON.stringify([spec, keyId(options.aliyun?.credentials), keyId(options.aws?.credentials)]);
  const cached = options.fresh ? undefined : clients.get(key);
  if (cached) return cached;
  const client = new RestAirflowClient(transportFor(spec, options), spec.api ?? 'auto');
  if (!options.fresh) clients.set(key, client);
  return client;
}

function transportFor(spec: EnvironmentSpec, options: ClientOptions): Transport {
  const missing = (cloud: string): never => {
    throw new AirkickError(
      'CONFIG',
      `${spec.kind}:// environments need the ${cloud} provider, not built into this bundle`,
    );
  };
  switch (spec.kind) {
    case 'mwaa':
      return (options.providers.mwaa ?? missing('AWS'))(spec, options.aws);
    case 'dms':
      return (options.providers.dms ?? missing('Alibaba Cloud'))(spec, options.aliyun);
    case 'self-hosted':
      return selfHostedTransport(spec);
  }
}
