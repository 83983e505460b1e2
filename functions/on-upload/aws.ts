import { uploadConfig } from '#lib/config.ts';
import { parseUploadEvent } from '#lib/events/index.ts';
import { isSqsBatch, lambdaFunction } from '#lib/host/aws.ts';
import { settleUploads, triggerUploads } from '#lib/jobs/uploads.ts';

const fn = lambdaFunction('on-upload', uploadConfig);

/** S3 notifications (direct, via SQS or EventBridge) -> one DAG run per object; failures reported as settleUploads says. */
export const handler = fn.handler(async (event, job) =>
  settleUploads(await triggerUploads(parseUploadEvent(event), fn.config, job), isSqsBatch(event)),
);
