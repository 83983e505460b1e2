// The event envelopes of both clouds, one import for handlers and jobs.
export { decodeEvent, describeValue } from '#lib/events/decode-event.ts';
export { decodeObjectKey, type KeyEncoding } from '#lib/events/object-key.ts';
export {
  parseScheduleEvent,
  type ScheduleInput,
  type ScheduleOptions,
  type ScheduleSource,
  scheduleRunId,
} from '#lib/events/schedule-event.ts';
export { parseUploadEvent } from '#lib/events/upload-event.ts';
export {
  type RecordFailure,
  type UploadBatch,
  type UploadRecord,
  uploadRunId,
} from '#lib/events/upload-record.ts';
