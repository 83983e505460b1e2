import { cleanConfig } from '#lib/config.ts';
import { lambdaFunction } from '#lib/host/aws.ts';
import { cleanMetadata } from '#lib/jobs/clean.ts';

const fn = lambdaFunction('db-clean', cleanConfig);

/** EventBridge schedule -> `airflow db clean` through MWAA's CLI endpoint. */
export const handler = fn.handler((_event, job) => cleanMetadata(fn.config, job));
