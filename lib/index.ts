/**
 * airkick's token library: one client for Apache Airflow 2 or 3 on Amazon MWAA, Alibaba Cloud DMS or
 * a self-hosted instance. The cloud providers are sub-path exports (`airkick/mwaa`, `airkick/dms`),
 * so code that uses neither loads no cloud SDK.
 *
 * @example
 * import { createAirflowClient } from 'airkick';
 * const airflow = createAirflowClient('https://admin@airflow.internal:8080', {
 *   providers: {},
 *   password: process.env.AIRFLOW_PASSWORD,
 * });
 * const { run } = await airflow.triggerDagRun({ dagId: 'daily_report', conf: { day: '2026-12-01' } });
 *
 * @module airkick
 */

export type {
  ApiRequest,
  ApiResponse,
  AttemptOptions,
  HttpMethod,
  Query,
  QueryValue,
  Transport,
} from '#lib/airflow/transport.ts';
export type {
  AirflowClient,
  AirflowVersion,
  AssetEvent,
  AssetEventInput,
  CallOptions,
  CliResult,
  ComponentHealth,
  ComponentStatus,
  DagRun,
  DagRunState,
  Health,
  ImportErrorEntry,
  ListAssetEventsQuery,
  ListRunsQuery,
  TriggerInput,
  TriggerResult,
  WaitOptions,
} from '#lib/airflow/types.ts';
export { type ClientOptions, createAirflowClient, type Providers } from '#lib/client.ts';
export type { Bound } from '#lib/deadline.ts';
export {
  type ApiVersion,
  type DmsSpec,
  describeEnvironment,
  type EnvironmentSpec,
  type MwaaSpec,
  parseEnvironment,
  type SelfHostedSpec,
} from '#lib/environment.ts';
export { AirkickError, type ErrorCode, type ErrorInit, type Fault, isAirkickError } from '#lib/errors.ts';
