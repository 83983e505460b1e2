import { AirkickError } from '#lib/errors.ts';
import { decodeEvent, describeValue, isPlainObject } from '#lib/events/decode-event.ts';

export type ScheduleSource = 'eventbridge' | 'fc-timer' | 'manual';

export interface ScheduleInput {
  /** The schedule slot the invocation stands for, truncated to the second. */
  slot: Date;
  source: ScheduleSource;
  /** User input that came with the schedule (an input transformer's fields, an FC timer payload). */
  input: Record<string, unknown>;
}

export interface ScheduleOptions {
  /** Clock for manual invocations that name no slot. */
  now?: () => Date;
}

const EXPECTED =
  'an EventBridge "Scheduled Event", an input-transformer object with "time", an FC timer event ' +
  '(triggerTime, triggerName, payload) or a manual object with an optional "slot"';

/**
 * Reads a schedule invocation from either cloud.
 *
 * - EventBridge scheduled event: slot = `time`, input = {}.
 * - EventBridge rule with an input transformer delivering `{"time": "<aws.events.event.time>", ...}`:
 *   slot = `time`, input = the other fields.
 * - FC timer: slot = `triggerTime`; a payload holding a JSON object becomes the input, any other
 *   non-empty payload becomes `{ payload }`.
 * - Manual (a rule with a constant input, a console test): `{"slot"?: "<ISO time>", ...input}`;
 *   without `slot` the slot is now, so retries of that invocation are not deduplicated.
 *
 * Events of other sources (S3, SQS, OSS, other EventBridge detail types) are rejected rather than
 * read as manual input, so a mis-wired trigger fails loudly.
 *
 * @throws AirkickError BAD_REQUEST naming what was expected and the shape that arrived.
 */
export function parseScheduleEvent(event: unknown, options: ScheduleOptions = {}): ScheduleInput {
  const value = decodeEvent(event);
  if (!isPlainObject(value)) throw badSchedule(value);

  if ('detail-type' in value && 'source' in value) return fromEventBridge(value);
  if ('triggerTime' in value && 'triggerName' in value) return fromFcTimer(value);
  if ('Records' in value || 'events' in value || 'Event' in value) throw badSchedule(value);

  if ('time' in value) {
    const { time, ...input } = value;
    return { slot: readTime(time, 'time'), source: 'eventbridge', input };
  }
  const { slot, ...input } = value;
  const now = options.now ?? (() => new Date());
  return { slot: slot === undefined ? truncate(now()) : readTime(slot, 'slot'), source: 'manual', input };
}

function fromEventBridge(event: Record<string, unknown>): ScheduleInput {
  const type = event['detail-type'];
  const source = event.source;
  if (type !== 'Scheduled Event' || source !== 'aws.events') {
    throw new AirkickError(
      'BAD_REQUEST',
      `expected an EventBridge "Scheduled Event" from aws.events, got detail-type ${label(type)} from ${label(source)}`,
    );
  }
  return { slot: readTime(event.time, 'time'), source: 'eventbridge', input: {} };
}

function fromFcTimer(event: Record<string, unknown>): ScheduleInput {
  const slot = readTime(event.triggerTime, 'triggerTime');
  const payload = event.payload;
  if (payload === undefined || payload === null || payload === '')
    return { slot, source: 'fc-timer', input: {} };
  if (typeof payload !== 'string') {
    throw new AirkickError(
      'BAD_REQUEST',
      `expected the FC timer payload to be a string, got ${describeValue(payload)}`,
    );
  }
  return { slot, source: 'fc-timer', input: payloadInput(payload) };
}

function payloadInput(payload: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(payload);
    if (isPlainObject(parsed)) return parsed;
  } catch {
    // A plain-text trigger message is legitimate input, not an error.
  }
  return { payload };
}

function readTime(value: unknown, field: string): Date {
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new AirkickError(
      'BAD_REQUEST',
      `expected "${field}" to be an ISO-8601 time such as 2026-11-21T06:00:00Z, got ${typeof value === 'string' ? 'an unparseable string' : describeValue(value)}`,
    );
  }
  return truncate(date);
}

function truncate(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function label(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : describeValue(value);
}

function badSchedule(value: unknown): AirkickError {
  return new AirkickError('BAD_REQUEST', `expected ${EXPECTED}, got ${describeValue(value)}`);
}

const RUN_ID_PREFIX = 'airkick__';

/**
 * A run id that is the same for every delivery of one schedule slot, so a retried or duplicated
 * invocation meets Airflow's 409 instead of starting a second run. Compact ISO 8601 in UTC, seconds
 * only when the slot has them, so `/dags/<dag>/dagRuns/<run>` stays within InvokeRestApi's 64-character
 * path limit for DAG ids up to 26 characters; within the default `allowed_run_id_pattern`
 * (`^[A-Za-z0-9_.~:+-]+$`). The DAG id is not part of it: run ids are unique per DAG already.
 *
 * @example scheduleRunId('etl', new Date('2026-11-21T06:00:00.750Z')) // 'airkick__20261121T0600Z'
 * @example scheduleRunId('etl', new Date('2026-11-21T06:00:30Z'))     // 'airkick__20261121T060030Z'
 */
export function scheduleRunId(dagId: string, slot: Date): string {
  if (dagId.length === 0) throw new AirkickError('BAD_REQUEST', 'scheduleRunId needs a DAG id');
  if (Number.isNaN(slot.getTime()))
    throw new AirkickError('BAD_REQUEST', `scheduleRunId for ${dagId} got an invalid slot`);
  const iso = truncate(slot).toISOString(); // 2026-11-21T06:00:00.000Z
  const minutes = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}`;
  const seconds = iso.slice(17, 19);
  return `${RUN_ID_PREFIX}${minutes}${seconds === '00' ? '' : seconds}Z`;
}
