/** AWS Lambda: a middy stack with the Powertools logger and metrics around a job. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { mwaaTransport } from '#lib/auth/mwaa.ts';
import { FunctionRuntime, SAFETY_MARGIN_MS } from '#lib/host/function.ts';
import type { FunctionName } from '#lib/host/names.ts';
import type { JobContext } from '#lib/jobs/context.ts';
import { awsSecretResolver } from '#lib/secrets/references.ts';

type Env = Record<string, string | undefined>;

/** middy answers (with a TimeoutError) this long before Lambda's hard stop if the handler has not. */
const EARLY_TIMEOUT_MS = SAFETY_MARGIN_MS / 2;

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
      // The job's own deadline comes first (SAFETY_MARGIN_MS before the end); middy's early timeout
      // is the backstop that aborts whatever is still running and answers before Lambda kills it.
      return middy(
        async (event: unknown, context: Context, { signal }: { signal: AbortSignal }) => {
          try {
            const job = await runtime.jobContext({
              requestId: context.awsRequestId,
              endsAt: Date.now() + context.getRemainingTimeInMillis(),
              signal,
            });
            return await run(event, job);
          } catch (error) {
            runtime.logger.error('invocation failed', { error });
            throw error;
          }
        },
        { timeoutEarlyInMillis: EARLY_TIMEOUT_MS },
      )
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
