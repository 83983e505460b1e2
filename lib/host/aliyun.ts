/**
 * Alibaba Cloud Function Compute 3.0: the event arrives as a Buffer, the request id and the
 * function's STS credentials come on the context; the credentials sign the DMS calls.
 */
import { dmsTransport } from '#lib/auth/dms.ts';
import { decodeEvent } from '#lib/events/index.ts';
import { FunctionRuntime } from '#lib/host/function.ts';
import type { FunctionName } from '#lib/host/names.ts';
import type { JobContext } from '#lib/jobs/context.ts';

type Env = Record<string, string | undefined>;

export interface FcContext {
  requestId: string;
  credentials?: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  function?: { name?: string; timeout?: number };
  region?: string;
}

export function fcFunction<C>(name: FunctionName, parse: (env: Env) => C, env: Env = process.env) {
  const runtime = new FunctionRuntime(
    name,
    parse,
    { cloud: 'aliyun', providers: { dms: dmsTransport } },
    env,
  );
  return {
    runtime,
    config: runtime.config,
    handler<R>(run: (event: unknown, job: JobContext) => Promise<R>) {
      return async (event: unknown, context: FcContext): Promise<R> => {
        runtime.logger.appendKeys({ request_id: context.requestId });
        const timeoutMs = (context.function?.timeout ?? 60) * 1000;
        try {
          const job = await runtime.jobContext({
            requestId: context.requestId,
            endsAt: Date.now() + timeoutMs,
            ...(context.credentials ? { aliyunKeys: context.credentials } : {}),
          });
          return await run(decodeEvent(event), job);
        } catch (error) {
          runtime.logger.error('invocation failed', { error });
          throw error;
        } finally {
          runtime.metrics.publishStoredMetrics();
          runtime.logger.removeKeys(['request_id']);
        }
      };
    },
  };
}
