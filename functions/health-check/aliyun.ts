import { healthConfig } from '#lib/config.ts';
import { fcFunction } from '#lib/host/aliyun.ts';
import { checkHealth } from '#lib/jobs/health.ts';

const fn = fcFunction('health-check', healthConfig);

/** FC timer -> judge Airflow's health, emit metrics, alert on changes. */
export const handler = fn.handler((_event, job) => checkHealth(fn.config, job));
