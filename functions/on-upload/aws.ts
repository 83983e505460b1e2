import { uploadConfig } from '#lib/config.ts';
import { settleUploads, triggerUploads } from '#lib/jobs/uploads.ts';
import { isSqsBatch, lambdaFunction } from '#lib/runtime/aws.ts';
import { parseUploadEvent } from '#lib/runtime/events.ts';

const fn = lambdaFunction('on-upload', uploadConfig);

/** S3 notifications (direct, via SQS or EventBridge) -> one DAG run per object; failures reported as settleUploads says. */
export const handler = fn.handler(async (event, job) =>
  settleUploads(await triggerUploads(parseUploadEvent(event), fn.config, job), isSqsBatch(event)),
);
