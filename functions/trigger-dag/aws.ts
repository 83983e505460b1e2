import { triggerConfig } from '#lib/config.ts';
import { parseScheduleEvent } from '#lib/events/index.ts';
import { lambdaFunction } from '#lib/host/aws.ts';
import { triggerScheduled } from '#lib/jobs/trigger.ts';

const fn = lambdaFunction('trigger-dag', triggerConfig);

/** EventBridge schedule -> one DAG run per configured DAG for the schedule slot. */
export const handler = fn.handler((event, job) =>
  triggerScheduled(parseScheduleEvent(event), fn.config, job),
);
