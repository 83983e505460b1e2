import { uploadConfig } from '#lib/config.ts';
import { parseUploadEvent } from '#lib/events/index.ts';
import { fcFunction } from '#lib/host/aliyun.ts';
import { settleUploads, triggerUploads } from '#lib/jobs/uploads.ts';

const fn = fcFunction('on-upload', uploadConfig);

/** OSS trigger -> one DAG run per object; a retryable failure fails the invocation so FC retries it. */
export const handler = fn.handler(async (event, job) =>
  settleUploads(await triggerUploads(parseUploadEvent(event), fn.config, job), false),
);
