import { triggerConfig } from '#lib/config.ts';
import { parseScheduleEvent } from '#lib/events/index.ts';
import { fcFunction } from '#lib/host/aliyun.ts';
import { triggerScheduled } from '#lib/jobs/trigger.ts';

const fn = fcFunction('trigger-dag', triggerConfig);

/** FC timer trigger -> one DAG run per configured DAG for the schedule slot. */
export const handler = fn.handler((event, job) =>
  triggerScheduled(parseScheduleEvent(event), fn.config, job),
);
