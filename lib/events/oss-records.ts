import { check } from '#lib/events/check.ts';
import { decodeObjectKey } from '#lib/events/object-key.ts';
import { requireCreated } from '#lib/events/s3-records.ts';
import type { UploadRecord } from '#lib/events/upload-record.ts';
import * as z from '#lib/zod.ts';

const OssEventRecord = z.object({
  eventName: z.string().check(z.minLength(1)),
  eventSource: z.literal('acs:oss'),
  eventTime: z.string().check(z.minLength(1)),
  region: z.optional(z.string()),
  oss: z.object({
    bucket: z.object({ name: z.string().check(z.minLength(1)) }),
    object: z.object({
      key: z.string().check(z.minLength(1)),
      size: z.optional(z.number().check(z.int(), z.gte(0))),
      eTag: z.optional(z.string()),
    }),
  }),
  responseElements: z.optional(z.object({ requestId: z.string().check(z.minLength(1)) })),
});

/** Reads one `events[]` entry of an FC OSS trigger event. */
export function fromOssEventRecord(value: unknown, id: string, what: string): UploadRecord {
  const record = check(OssEventRecord, value, what);
  // FC delivers "ObjectCreated:PutObject"; the trigger configuration spells it "oss:ObjectCreated:…".
  requireCreated(record.eventName.replace(/^oss:/, ''), `${what}.eventName`, record.eventName);
  const { bucket, object } = record.oss;
  const key = decodeObjectKey(object.key, 'raw');
  const etag = object.eTag ?? null;
  // OSS events carry no sequencer; the request id names the write, the ETag its content.
  const requestId = record.responseElements?.requestId ?? null;
  return {
    id,
    source: 'oss',
    bucket: bucket.name,
    key,
    size: object.size ?? null,
    etag,
    eventTime: record.eventTime,
    region: record.region ?? null,
    eventName: record.eventName,
    identity: JSON.stringify(['oss', bucket.name, key, etag, requestId ?? { eventTime: record.eventTime }]),
  };
}
