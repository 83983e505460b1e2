/**
 * db-clean against the local Airflow. Self-hosted Airflow has no CLI endpoint, so the Lambda
 * handler cannot run there; this runs the same job (`cleanMetadata`, same configuration, logs,
 * metrics and alerts) with `runCli` executing the local `airflow` binary of the harness instead.
 */

import type { Handler } from '#cli/local/functions.ts';
import type { AirflowClient, CliResult } from '#lib/airflow/types.ts';
import { cleanConfig } from '#lib/config.ts';
import { AirkickError } from '#lib/errors.ts';
import { FunctionRuntime } from '#lib/host/function.ts';
import { cleanMetadata } from '#lib/jobs/clean.ts';
import { runCli } from '#test/airflow/airflow.ts';

interface LocalAirflow {
  airflowBin: string;
  env: Record<string, string>;
}

/** The client with a CLI endpoint: the local `airflow` binary. */
export function withLocalCli(client: AirflowClient, airflow: LocalAirflow): AirflowClient {
  const cli = async (args: readonly string[]): Promise<CliResult> => {
    try {
      return await runCli(airflow.airflowBin, [...args], airflow.env, 900_000);
    } catch (cause) {
      throw new AirkickError('SERVER', `local airflow ${args.slice(0, 2).join(' ')} failed`, { cause });
    }
  };
  return new Proxy(client, {
    get(target, prop) {
      if (prop === 'hasCli') return true;
      if (prop === 'runCli') return cli;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export function localDbClean(airflow: LocalAirflow, env: Record<string, string | undefined>): Handler {
  const runtime = new FunctionRuntime('db-clean', cleanConfig, { cloud: 'aws', providers: {} }, env);
  return async (_event, context) => {
    const { awsRequestId, getRemainingTimeInMillis } = context as {
      awsRequestId: string;
      getRemainingTimeInMillis(): number;
    };
    try {
      const job = await runtime.jobContext({
        requestId: awsRequestId,
        endsAt: Date.now() + getRemainingTimeInMillis(),
      });
      return await cleanMetadata(runtime.config, { ...job, client: withLocalCli(job.client, airflow) });
    } catch (error) {
      runtime.logger.error('invocation failed', { error });
      throw error;
    } finally {
      runtime.metrics.publishStoredMetrics();
    }
  };
}
