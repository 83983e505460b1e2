/**
 * airkick's token library, the public surface: one client for Airflow on Amazon MWAA, Alibaba Cloud
 * DMS or a self-hosted instance, Airflow 2 or 3. The cloud providers are sub-path exports
 * (`airkick/mwaa`, `airkick/dms`) so a bundle carries only the SDK of the cloud it runs in.
 *
 * @example
 * import { createAirflowClient } from 'airkick';
 * import { mwaaTransport } from 'airkick/mwaa';
 * const airflow = createAirflowClient('mwaa://etl?region=eu-west-1', { providers: { mwaa: mwaaTransport } });
 * const { run } = await airflow.triggerDagRun({ dagId: 'daily_report', runId: 'manual__1' });
 */
export { type ClientOptions, createAirflowClient, type Providers } from './airflow/index.ts';
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
export {
  type DmsSpec,
  describeEnvironment,
  type EnvironmentSpec,
  type MwaaSpec,
  parseEnvironment,
  type SelfHostedSpec,
} from './environment.ts';
export { AirkickError, type ErrorCode, type Fault, isAirkickError } from './errors.ts';
