import { uploadConfig } from '#lib/config.ts';
import { AirkickError } from '#lib/errors.ts';
import { triggerUploads } from '#lib/jobs/uploads.ts';
import { fcFunction } from '#lib/runtime/aliyun.ts';
import { parseUploadEvent } from '#lib/runtime/events.ts';

const fn = fcFunction('on-upload', uploadConfig);

/** OSS trigger -> one DAG run per object; a failure fails the invocation so FC retries it. */
export const handler = fn.handler(async (event, job) => {
  const summary = await triggerUploads(parseUploadEvent(event), fn.config, job);
  if (summary.failedIds.length > 0) {
    throw new AirkickError(
      'SERVER',
      `on-upload: records failed and will be retried: ${summary.failedIds.join(', ')}`,
    );
  }
  return { triggered: summary.outcomes.length };
});
