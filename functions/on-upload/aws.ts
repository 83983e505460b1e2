import type { SQSBatchResponse } from 'aws-lambda';
import { uploadConfig } from '#lib/config.ts';
import { AirkickError } from '#lib/errors.ts';
import { triggerUploads } from '#lib/jobs/uploads.ts';
import { isSqsBatch, lambdaFunction } from '#lib/runtime/aws.ts';
import { parseUploadEvent } from '#lib/runtime/events.ts';

const fn = lambdaFunction('on-upload', uploadConfig);

/** S3 notifications (direct, via SQS or EventBridge) -> one DAG run per object; failures go back for retry. */
export const handler = fn.handler(async (event, job): Promise<SQSBatchResponse | { triggered: number }> => {
  const summary = await triggerUploads(parseUploadEvent(event), fn.config, job);
  if (isSqsBatch(event))
    return { batchItemFailures: summary.failedIds.map((itemIdentifier) => ({ itemIdentifier })) };
  if (summary.failedIds.length > 0) {
    throw new AirkickError(
      'SERVER',
      `on-upload: records failed and will be retried: ${summary.failedIds.join(', ')}`,
    );
  }
  return { triggered: summary.outcomes.length };
});
