import { healthConfig } from '#lib/config.ts';
import { checkHealth } from '#lib/jobs/health.ts';
import { lambdaFunction } from '#lib/runtime/aws.ts';

const fn = lambdaFunction('health-check', healthConfig);

/** EventBridge schedule -> judge Airflow's health, emit metrics, alert on changes. */
export const handler = fn.handler((_event, job) => checkHealth(fn.config, job));
