import { cleanConfig } from '#lib/config.ts';
import { cleanMetadata } from '#lib/jobs/clean.ts';
import { fcFunction } from '#lib/runtime/aliyun.ts';

const fn = fcFunction('db-clean', cleanConfig);

/** FC timer -> `airflow db clean` through the DMS CLI endpoint. */
export const handler = fn.handler((_event, job) => cleanMetadata(fn.config, job));
