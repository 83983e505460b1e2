/**
 * The three ways the integration suites reach the one real Airflow: directly (self-hosted), through
 * the emulated MWAA control plane and web server, and through the emulated DMS OpenAPI and gateway.
 */

import type { AirflowClient } from '#lib/airflow/types.ts';
import { dmsTransport } from '#lib/auth/dms.ts';
import { mwaaTransport } from '#lib/auth/mwaa.ts';
import { type ClientOptions, createAirflowClient, type Providers } from '#lib/client.ts';
import type { AirflowInfo } from '#test/airflow/airflow.ts';
import { type DmsEmulatorOptions, startDmsEmulator } from '#test/emulators/dms.ts';
import { type MwaaEmulator, type MwaaEmulatorOptions, startMwaaEmulator } from '#test/emulators/mwaa.ts';
import { adminFetch, majorOf } from './airflow-rest.ts';

export const allProviders: Providers = { mwaa: mwaaTransport, dms: dmsTransport };

export type TargetKind = 'self-hosted' | 'mwaa' | 'mwaa-session' | 'dms';

export interface Target {
  kind: TargetKind;
  /** What a user would put in AIRKICK_ENV. */
  environment: string;
  client: AirflowClient;
  /** Builds another, cold client for the same environment (a new container). */
  coldClient(): AirflowClient;
  /** Requests seen by the emulator per route (empty for self-hosted). */
  counts(): Record<string, number>;
  resetCounts(): void;
  maxCliConcurrency(): number;
  stop(): Promise<void>;
}

export interface TargetOptions {
  mwaa?: MwaaEmulatorOptions;
  dms?: DmsEmulatorOptions;
  /**
   * The `api=` of the environment string. Default: the harness Airflow's own version, so request
   * counts do not include the version probe; `auto` tests the probe.
   */
  api?: 'v1' | 'v2' | 'auto';
  /**
   * Where Airflow's webserver is reached instead of its own address, e.g. a fault proxy in front of
   * it: the emulators pass every call through to it, a self-hosted client calls it directly.
   */
  upstream?: string;
}

/** The harness Airflow as seen at `upstream`: same instance, every HTTP call to that address. */
export function reachedAt(airflow: AirflowInfo, upstream: string | undefined): AirflowInfo {
  if (upstream === undefined) return airflow;
  const baseUrl = upstream.replace(/\/$/, '');
  return { ...airflow, baseUrl, apiRoot: `${baseUrl}${new URL(airflow.apiRoot).pathname}` };
}

/** The API version the harness Airflow speaks. */
export function apiOf(airflow: AirflowInfo): 'v1' | 'v2' {
  return majorOf(airflow) === 3 ? 'v2' : 'v1';
}

export async function startTarget(
  kind: TargetKind,
  harness: AirflowInfo,
  options: TargetOptions = {},
): Promise<Target> {
  const airflow = reachedAt(harness, options.upstream);
  const api = options.api ?? apiOf(airflow);
  if (kind === 'self-hosted') {
    const url = new URL(airflow.baseUrl);
    url.username = airflow.username;
    const environment = `${url.toString().replace(/\/$/, '')}?api=${api}`;
    const make = (fresh: boolean) =>
      createAirflowClient(environment, { password: airflow.password, providers: allProviders, fresh });
    return {
      kind,
      environment,
      client: make(true),
      coldClient: () => make(true),
      counts: () => ({}),
      resetCounts: () => {},
      maxCliConcurrency: () => 0,
      stop: async () => {},
    };
  }
  if (kind === 'dms') {
    const dms = await startDmsEmulator(airflow, options.dms);
    return emulated(
      kind,
      `dms://${dms.airflowId}?region=${dms.region}&endpoint=http://${dms.endpoint}&api=${api}`,
      dms,
      {
        aliyun: { credentials: dms.credentials },
      },
    );
  }
  const mwaa = await startMwaaEmulator(airflow, options.mwaa);
  const auth = kind === 'mwaa-session' ? '&auth=session' : '';
  const environment = `mwaa://${mwaa.environmentName}?region=${mwaa.region}&endpoint=${mwaa.endpoint}${auth}&api=${api}`;
  return emulated(kind, environment, mwaa, { aws: { credentials: mwaa.credentials } });
}

type Emulator = Pick<MwaaEmulator, 'counts' | 'resetCounts' | 'stats' | 'stop'>;

function emulated(
  kind: TargetKind,
  environment: string,
  emulator: Emulator,
  credentials: Pick<ClientOptions, 'aws' | 'aliyun'>,
): Target {
  const make = () =>
    createAirflowClient(environment, { providers: allProviders, fresh: true, ...credentials });
  return {
    kind,
    environment,
    client: make(),
    coldClient: make,
    counts: emulator.counts,
    resetCounts: emulator.resetCounts,
    maxCliConcurrency: () => emulator.stats().maxCliConcurrency,
    stop: emulator.stop,
  };
}

/** Straight to the real Airflow as its admin, to check what arrived there (either major version). */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary fields of Airflow's JSON answers
export async function airflowApi(airflow: AirflowInfo, path: string): Promise<{ status: number; body: any }> {
  const response = await adminFetch(airflow, { path });
  return { status: response.status, body: await response.json() };
}
