import { triggerConfig } from '#lib/config.ts';
import { triggerScheduled } from '#lib/jobs/trigger.ts';
import { lambdaFunction } from '#lib/runtime/aws.ts';
import { parseScheduleEvent } from '#lib/runtime/events.ts';

const fn = lambdaFunction('trigger-dag', triggerConfig);

/** EventBridge schedule -> one DAG run per configured DAG for the schedule slot. */
export const handler = fn.handler((event, job) =>
  triggerScheduled(parseScheduleEvent(event), fn.config, job),
);
