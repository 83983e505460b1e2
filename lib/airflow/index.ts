/**
 * The entry point: `createAirflowClient('mwaa://my-env?region=us-east-1', { providers })` gives an
 * AirflowClient. Providers are passed in so a Lambda bundle carries only the AWS SDK and a Function
 * Compute bundle only the Alibaba one. Clients are kept per environment at module scope, so their
 * token and session caches survive warm invocations.
 */
import type { DmsOptions } from '../auth/dms.ts';
import type { MwaaOptions } from '../auth/mwaa.ts';
import { selfHostedTransport } from '../auth/self-hosted.ts';
import { type DmsSpec, type EnvironmentSpec, type MwaaSpec, parseEnvironment } from '../environment.ts';
import { AirkickError } from '../errors.ts';
import { RestAirflowClient } from './client.ts';
import type { Transport } from './transport.ts';
import type { AirflowClient } from './types.ts';

export interface Providers {
  mwaa?: (spec: MwaaSpec, options?: MwaaOptions) => Transport;
  dms?: (spec: DmsSpec, options?: DmsOptions) => Transport;
}

export interface ClientOptions {
  providers: Providers;
  /** Password of a self-hosted environment when the URL carries only the user. */
  password?: string | undefined;
  aws?: MwaaOptions;
  aliyun?: DmsOptions;
  /** Skip the per-environment cache (tests and benchmarks that need a cold client). */
  fresh?: boolean;
}

const clients = new Map<string, AirflowClient>();

export function createAirflowClient(
  environment: string | EnvironmentSpec,
  options: ClientOptions,
): AirflowClient {
  const spec =
    typeof environment === 'string' ? parseEnvironment(environment, options.password) : environment;
  // Static keys are part of the identity; a key provider (Function Compute) stays one client per container.
  const keys = options.aliyun?.credentials;
  const key = JSON.stringify([
    spec,
    typeof keys === 'function' ? 'current-keys' : (keys?.accessKeyId ?? null),
  ]);
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
