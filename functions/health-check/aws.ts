import { healthConfig } from '#lib/config.ts';
import { lambdaFunction } from '#lib/host/aws.ts';
import { checkHealth } from '#lib/jobs/health.ts';

const fn = lambdaFunction('health-check', healthConfig);

/** EventBridge schedule -> judge Airflow's health, emit metrics, alert on changes. */
export const handler = fn.handler((_event, job) => checkHealth(fn.config, job));
