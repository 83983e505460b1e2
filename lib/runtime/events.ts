// The event envelopes of both clouds, one import for handlers and jobs.
export { decodeEvent, describeValue } from './decode-event.ts';
export { decodeObjectKey, type KeyEncoding } from './object-key.ts';
export {
  parseScheduleEvent,
  type ScheduleInput,
  type ScheduleOptions,
  type ScheduleSource,
  scheduleRunId,
} from './schedule-event.ts';
export { parseUploadEvent } from './upload-event.ts';
export { type RecordFailure, type UploadBatch, type UploadRecord, uploadRunId } from './upload-record.ts';
