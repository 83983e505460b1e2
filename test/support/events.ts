/** Real-shaped platform events, built from the documented samples in test/fixtures/events. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '..', 'fixtures', 'events');
// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited field by field
const fixture = (name: string): any => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));

export function scheduledEvent(time: string) {
  return { ...fixture('eventbridge-scheduled'), time };
}

export function fcTimerEvent(triggerTime: string, payload = '') {
  return Buffer.from(JSON.stringify({ ...fixture('fc-timer'), triggerTime, payload }));
}

export interface ObjectSpec {
  bucket: string;
  /** The key as stored; encoded here the way S3 notifications spell it. */
  key: string;
  sequencer: string;
}

/** S3 notifications URL-encode keys with spaces as `+`. */
export const s3EncodeKey = (key: string) => encodeURIComponent(key).replace(/%20/g, '+');

export function s3Notification(objects: ObjectSpec[]) {
  const [template] = fixture('s3-put').Records;
  return {
    Records: objects.map((o) => ({
      ...template,
      s3: {
        ...template.s3,
        bucket: { ...template.s3.bucket, name: o.bucket, arn: `arn:aws:s3:::${o.bucket}` },
        object: { ...template.s3.object, key: s3EncodeKey(o.key), sequencer: o.sequencer },
      },
    })),
  };
}

/** An EventBridge "Object Created" event from aws.s3: one object per event, its key encoded as in S3 notifications. */
export function eventBridgeObjectCreated(object: ObjectSpec & { etag?: string }) {
  const template = fixture('eventbridge-object-created');
  return {
    ...template,
    id: `${template.id.slice(0, 24)}${object.sequencer.padStart(12, '0').slice(-12)}`,
    resources: [`arn:aws:s3:::${object.bucket}`],
    detail: {
      ...template.detail,
      bucket: { name: object.bucket },
      object: {
        ...template.detail.object,
        key: s3EncodeKey(object.key),
        sequencer: object.sequencer,
        ...(object.etag === undefined ? {} : { etag: object.etag }),
      },
    },
  };
}

export function sqsBatch(messages: { id: string; objects: ObjectSpec[] }[]) {
  const [template] = fixture('sqs-s3').Records;
  return {
    Records: messages.map((m) => ({
      ...template,
      messageId: m.id,
      body: JSON.stringify(s3Notification(m.objects)),
    })),
  };
}

export function ossEvent(objects: { bucket: string; key: string; etag: string; requestId: string }[]) {
  const [template] = fixture('fc-oss').events;
  return Buffer.from(
    JSON.stringify({
      events: objects.map((o) => ({
        ...template,
        oss: {
          ...template.oss,
          bucket: { ...template.oss.bucket, name: o.bucket },
          object: { ...template.oss.object, key: o.key, eTag: o.etag },
        },
        responseElements: { requestId: o.requestId },
      })),
    }),
  );
}

/** The Lambda context fields airkick reads. */
export function lambdaContext(timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  return {
    awsRequestId: `req-${Math.random().toString(36).slice(2)}`,
    functionName: 'airkick-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:airkick-test',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/airkick-test',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => end - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
