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
export { type ClientOptions, createAirflowClient, type Providers } from './airflow/index.ts';
export type {
  ApiRequest,
  ApiResponse,
  ApiVersion,
  AttemptOptions,
  HttpMethod,
  Query,
  QueryValue,
  Transport,
} from './airflow/transport.ts';
export type {
  AirflowClient,
  AirflowVersion,
  CallOptions,
  CliResult,
  ComponentHealth,
  ComponentStatus,
  DagRun,
  DagRunState,
  Health,
  ImportErrorEntry,
  ListRunsQuery,
  TriggerInput,
  TriggerResult,
  WaitOptions,
} from './airflow/types.ts';
export type { Bound } from './deadline.ts';
export {
  type DmsSpec,
  describeEnvironment,
  type EnvironmentSpec,
  type MwaaSpec,
  parseEnvironment,
  type SelfHostedSpec,
} from './environment.ts';
export { AirkickError, type ErrorCode, type ErrorInit, type Fault, isAirkickError } from './errors.ts';
