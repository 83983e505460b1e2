/** AWS Lambda: a middy stack with the Powertools logger and metrics around a job. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { awsSecretResolver } from '../alerts/index.ts';
import { mwaaTransport } from '../auth/mwaa.ts';
import type { JobContext } from '../jobs/context.ts';
import { type FunctionName, FunctionRuntime } from './function.ts';

type Env = Record<string, string | undefined>;

export function lambdaFunction<C>(name: FunctionName, parse: (env: Env) => C, env: Env = process.env) {
  const runtime = new FunctionRuntime(
    name,
    parse,
    {
      cloud: 'aws',
      providers: { mwaa: mwaaTransport },
      resolver: awsSecretResolver,
    },
    env,
  );
  return {
    runtime,
    config: runtime.config,
    handler<R>(run: (event: unknown, job: JobContext) => Promise<R>) {
      return middy(async (event: unknown, context: Context) => {
        try {
          const job = await runtime.jobContext({
            requestId: context.awsRequestId,
            endsAt: Date.now() + context.getRemainingTimeInMillis(),
          });
          return await run(event, job);
        } catch (error) {
          runtime.logger.error('invocation failed', { error });
          throw error;
        }
      })
        .use(injectLambdaContext(runtime.logger, { resetKeys: true }))
        .use(logMetrics(runtime.metrics));
    },
  };
}

/** SQS batches answer with the failed message ids (ReportBatchItemFailures); other sources fail whole. */
export function isSqsBatch(event: unknown): boolean {
  const records = (event as { Records?: { eventSource?: string }[] } | null)?.Records;
  return Array.isArray(records) && records.some((r) => r?.eventSource === 'aws:sqs');
}
