import { AirkickError } from '#lib/errors.ts';
import { decodeEvent, describeValue, isPlainObject } from '#lib/events/decode-event.ts';
import { fromOssEventRecord } from '#lib/events/oss-records.ts';
import {
  fromEventBridgeObjectCreated,
  fromS3NotificationRecord,
  isEventBridgeEvent,
  isS3TestEvent,
} from '#lib/events/s3-records.ts';
import type { RecordFailure, UploadBatch, UploadRecord } from '#lib/events/upload-record.ts';

const EXPECTED =
  'an S3 notification (Records from aws:s3, or aws:sqs/aws:sns wrapping one), an EventBridge ' +
  '"Object Created" event from aws.s3, or an FC OSS trigger event (events from acs:oss)';

/**
 * Reads upload notifications from every supported envelope into one list of records.
 *
 * - S3 notification direct to Lambda: one record per `Records[i]`, id `Records[i]`.
 * - SQS batch: each body may be an S3 notification, an SNS envelope around one, or an EventBridge
 *   "Object Created" event; every record of a message carries its `messageId`. A message that
 *   cannot be read fails as a whole (it is retried as a whole), and only that message fails.
 *   The `s3:TestEvent` body S3 sends when a destination is added yields no record and no failure.
 * - SNS to Lambda: `Records[i].Sns.Message` is the S3 notification.
 * - EventBridge "Object Created": one record, id = the EventBridge event id.
 * - FC OSS trigger (also as a Buffer): one record per `events[i]`, id `events[i]`.
 *
 * Only ObjectCreated events are uploads: other event names fail their record, never vanish.
 *
 * @throws AirkickError BAD_REQUEST when the whole event is of no supported kind.
 */
export function parseUploadEvent(event: unknown): UploadBatch {
  const value = decodeEvent(event);
  if (!isPlainObject(value)) throw unexpected(value);
  if (Array.isArray(value.Records)) return fromRecords(value.Records);
  if (Array.isArray(value.events)) return fromOssEvents(value.events);
  if (isEventBridgeEvent(value)) {
    requireS3ObjectCreated(value);
    const id = typeof value.id === 'string' ? value.id : 'event';
    return collect([[id, () => [fromEventBridgeObjectCreated(value, id, 'event')]]]);
  }
  if (isS3TestEvent(value)) return { records: [], failures: [] };
  throw unexpected(value);
}

type Read = [id: string, read: () => UploadRecord[]];

function fromRecords(entries: unknown[]): UploadBatch {
  const sources = entries.map(eventSourceOf);
  if (entries.length > 0 && sources.every((source) => !KNOWN_RECORD_SOURCES.has(source ?? ''))) {
    const seen = [...new Set(sources.map((source) => source ?? 'none'))].slice(0, 5).join(', ');
    throw new AirkickError('BAD_REQUEST', `expected ${EXPECTED}, got Records with eventSource ${seen}`);
  }
  return collect(entries.map((entry, index): Read => readRecord(entry, index, sources[index])));
}

const KNOWN_RECORD_SOURCES = new Set(['aws:s3', 'aws:sqs', 'aws:sns']);

function readRecord(entry: unknown, index: number, source: string | undefined): Read {
  const at = `Records[${index}]`;
  if (source === 'aws:s3') return [at, () => [fromS3NotificationRecord(entry, at, at)]];
  if (source === 'aws:sqs' && isPlainObject(entry)) {
    const id = typeof entry.messageId === 'string' && entry.messageId !== '' ? entry.messageId : at;
    return [
      id,
      () => fromPayload(parseBody(entry.body, `SQS message ${id} body`), id, `SQS message ${id} body`),
    ];
  }
  if (source === 'aws:sns' && isPlainObject(entry)) {
    const sns = isPlainObject(entry.Sns) ? entry.Sns : {};
    return [
      at,
      () => fromPayload(parseBody(sns.Message, `${at}.Sns.Message`), at, `${at}.Sns.Message`, false),
    ];
  }
  return [
    at,
    () => {
      throw new AirkickError(
        'BAD_REQUEST',
        `${at}: expected a record from aws:s3, aws:sqs or aws:sns, got ${describeValue(entry)}`,
      );
    },
  ];
}

/** SNS spells the field `EventSource`, S3 and SQS `eventSource`. */
function eventSourceOf(entry: unknown): string | undefined {
  if (!isPlainObject(entry)) return undefined;
  const source = entry.eventSource ?? entry.EventSource;
  return typeof source === 'string' ? source : undefined;
}

/** What an SQS body or SNS message may hold; SNS may wrap a notification once, never twice. */
function fromPayload(payload: unknown, id: string, what: string, snsAllowed = true): UploadRecord[] {
  if (!isPlainObject(payload)) throw unexpected(payload, what);
  if (Array.isArray(payload.Records)) {
    return payload.Records.map((entry, index) =>
      fromS3NotificationRecord(entry, id, `${what}.Records[${index}]`),
    );
  }
  if (isS3TestEvent(payload)) return [];
  if (snsAllowed && payload.Type === 'Notification' && 'Message' in payload) {
    return fromPayload(parseBody(payload.Message, `${what}.Message`), id, `${what}.Message`, false);
  }
  if (isEventBridgeEvent(payload)) {
    requireS3ObjectCreated(payload, what);
    return [fromEventBridgeObjectCreated(payload, id, what)];
  }
  throw unexpected(payload, what);
}

function parseBody(body: unknown, what: string): unknown {
  if (typeof body !== 'string') {
    throw new AirkickError('BAD_REQUEST', `${what}: expected a JSON string, got ${describeValue(body)}`);
  }
  try {
    return JSON.parse(body);
  } catch (cause) {
    throw new AirkickError(
      'BAD_REQUEST',
      `${what}: expected JSON, got ${body.length} character(s) that are not JSON`,
      {
        cause,
      },
    );
  }
}

function fromOssEvents(entries: unknown[]): UploadBatch {
  const isOss = (entry: unknown) => isPlainObject(entry) && entry.eventSource === 'acs:oss';
  if (entries.length > 0 && !entries.some(isOss)) {
    throw new AirkickError('BAD_REQUEST', `expected ${EXPECTED}, got events[] without an acs:oss entry`);
  }
  return collect(
    entries.map((entry, index): Read => {
      const at = `events[${index}]`;
      return [at, () => [fromOssEventRecord(entry, at, at)]];
    }),
  );
}

function requireS3ObjectCreated(event: Record<string, unknown>, what = 'event'): void {
  if (event.source !== 'aws.s3' || event['detail-type'] !== 'Object Created') {
    const type = JSON.stringify(String(event['detail-type']).slice(0, 60));
    const source = JSON.stringify(String(event.source).slice(0, 60));
    throw new AirkickError(
      'BAD_REQUEST',
      `${what}: expected an EventBridge "Object Created" event from aws.s3, got detail-type ${type} from ${source}`,
    );
  }
}

/** Runs each read on its own, so one unreadable entry fails only its own id. */
function collect(reads: Read[]): UploadBatch {
  const records: UploadRecord[] = [];
  const failures: RecordFailure[] = [];
  for (const [id, read] of reads) {
    try {
      records.push(...read());
    } catch (error) {
      failures.push({ id, error: asBadRequest(error, id) });
    }
  }
  return { records, failures };
}

function asBadRequest(error: unknown, id: string): AirkickError {
  if (error instanceof AirkickError) return error;
  return new AirkickError('BAD_REQUEST', `record ${id} could not be read`, { cause: error });
}

function unexpected(value: unknown, what?: string): AirkickError {
  const where = what === undefined ? '' : `${what}: `;
  return new AirkickError('BAD_REQUEST', `${where}expected ${EXPECTED}, got ${describeValue(value)}`);
}
