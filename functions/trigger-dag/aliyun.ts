import { triggerConfig } from '#lib/config.ts';
import { triggerScheduled } from '#lib/jobs/trigger.ts';
import { fcFunction } from '#lib/runtime/aliyun.ts';
import { parseScheduleEvent } from '#lib/runtime/events.ts';

const fn = fcFunction('trigger-dag', triggerConfig);

/** FC timer trigger -> one DAG run per configured DAG for the schedule slot. */
export const handler = fn.handler((event, job) =>
  triggerScheduled(parseScheduleEvent(event), fn.config, job),
);
