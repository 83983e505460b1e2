import { AirkickError } from '#lib/errors.ts';
import { check } from '#lib/events/check.ts';
import { decodeObjectKey } from '#lib/events/object-key.ts';
import type { UploadRecord } from '#lib/events/upload-record.ts';
import * as z from '#lib/zod.ts';

const S3NotificationRecord = z.object({
  eventSource: z.literal('aws:s3'),
  eventName: z.string().check(z.minLength(1)),
  eventTime: z.string().check(z.minLength(1)),
  awsRegion: z.optional(z.string()),
  s3: z.object({
    bucket: z.object({ name: z.string().check(z.minLength(1)) }),
    object: z.object({
      key: z.string().check(z.minLength(1)),
      size: z.optional(z.number().check(z.int(), z.gte(0))),
      eTag: z.optional(z.string()),
      // Documented as "object version if bucket is versioning-enabled, otherwise null".
      versionId: z.nullish(z.string()),
      sequencer: z.optional(z.string()),
    }),
  }),
});

const EventBridgeObjectCreated = z.object({
  id: z.string().check(z.minLength(1)),
  'detail-type': z.literal('Object Created'),
  source: z.literal('aws.s3'),
  time: z.string().check(z.minLength(1)),
  region: z.optional(z.string()),
  detail: z.object({
    bucket: z.object({ name: z.string().check(z.minLength(1)) }),
    object: z.object({
      key: z.string().check(z.minLength(1)),
      size: z.optional(z.number().check(z.int(), z.gte(0))),
      etag: z.optional(z.string()),
      'version-id': z.optional(z.string()),
      sequencer: z.optional(z.string()),
    }),
  }),
});

/** The body S3 sends once to a new SQS or SNS destination; it announces no object. */
export function isS3TestEvent(value: Record<string, unknown>): boolean {
  return value.Event === 's3:TestEvent' && value.Service === 'Amazon S3';
}

export function isEventBridgeEvent(value: Record<string, unknown>): boolean {
  return typeof value['detail-type'] === 'string' && typeof value.source === 'string' && 'detail' in value;
}

/** Reads one `Records[]` entry of an S3 event notification (Lambda, SQS or SNS destination). */
export function fromS3NotificationRecord(value: unknown, id: string, what: string): UploadRecord {
  const record = check(S3NotificationRecord, value, what);
  requireCreated(record.eventName.replace(/^s3:/, ''), `${what}.eventName`, record.eventName);
  const { object } = record.s3;
  return s3Upload(id, record.s3.bucket.name, {
    key: object.key,
    size: object.size,
    etag: object.eTag,
    versionId: object.versionId,
    sequencer: object.sequencer,
    eventTime: record.eventTime,
    region: record.awsRegion,
    eventName: record.eventName,
  });
}

/** Reads an EventBridge "Object Created" event from aws.s3 (direct, or as an SQS body). */
export function fromEventBridgeObjectCreated(value: unknown, id: string, what: string): UploadRecord {
  const event = check(EventBridgeObjectCreated, value, what);
  const { object } = event.detail;
  return s3Upload(id, event.detail.bucket.name, {
    key: object.key,
    size: object.size,
    etag: object.etag,
    versionId: object['version-id'],
    sequencer: object.sequencer,
    eventTime: event.time,
    region: event.region,
    eventName: event['detail-type'],
  });
}

interface S3ObjectEvent {
  /** As the event spells it (URL-encoded, spaces as `+`). */
  key: string;
  size: number | undefined;
  etag: string | undefined;
  versionId: string | null | undefined;
  sequencer: string | undefined;
  eventTime: string;
  region: string | undefined;
  eventName: string;
}

/** One upload record from either S3 envelope. */
function s3Upload(id: string, bucket: string, event: S3ObjectEvent): UploadRecord {
  const key = decodeObjectKey(event.key, 'form');
  const etag = event.etag ?? null;
  return {
    id,
    source: 's3',
    bucket,
    key,
    size: event.size ?? null,
    etag,
    eventTime: event.eventTime,
    region: event.region ?? null,
    eventName: event.eventName,
    identity: s3Identity(bucket, key, event.versionId ?? null, event.sequencer, etag, event.eventTime),
  };
}

/**
 * The sequencer orders the events of one key and is repeated verbatim on redelivery, so together
 * with bucket, key and version it names one object event. Events without a sequencer fall back to
 * ETag and event time, which a redelivery repeats as well.
 */
function s3Identity(
  bucket: string,
  key: string,
  versionId: string | null,
  sequencer: string | undefined,
  etag: string | null,
  eventTime: string,
): string {
  const event = sequencer === undefined ? { etag, eventTime } : { sequencer };
  return JSON.stringify(['s3', bucket, key, versionId, event]);
}

/** Only creations are uploads; anything else reaching this function is a mis-filtered trigger. */
export function requireCreated(name: string, where: string, shown: string): void {
  if (!name.startsWith('ObjectCreated:')) {
    throw new AirkickError(
      'BAD_REQUEST',
      `${where}: expected an ObjectCreated event, got ${JSON.stringify(shown.slice(0, 80))}; filter the trigger to ObjectCreated events`,
    );
  }
}
