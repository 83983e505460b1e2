import { cleanConfig } from '#lib/config.ts';
import { fcFunction } from '#lib/host/aliyun.ts';
import { cleanMetadata } from '#lib/jobs/clean.ts';

const fn = fcFunction('db-clean', cleanConfig);

/** FC timer -> `airflow db clean` through the DMS CLI endpoint. */
export const handler = fn.handler((_event, job) => cleanMetadata(fn.config, job));
