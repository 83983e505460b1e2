/**
 * Real-shaped platform events for the local runner, as the AWS and FC documentation show them:
 * EventBridge "Scheduled Event", S3 `ObjectCreated:Put` notifications, FC timer and OSS events,
 * and the Lambda / FC contexts the handlers read.
 */
import { randomUUID } from 'node:crypto';

const ACCOUNT = '000000000000';
const REGION = 'local-1';

/** The EventBridge event a schedule rule emits at `slot` (its `time` is the fire time). */
export function scheduledEvent(slot: Date, rule: string) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time: slot.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/${rule}`],
    detail: {},
  };
}

export interface LocalObject {
  bucket: string;
  /** The key as stored. */
  key: string;
  size: number;
  etag: string;
  sequencer: string;
  eventTime: Date;
}

/** S3 notifications spell keys form-URL-encoded: a space is `+`, a literal `+` is `%2B`. */
export const s3EncodeKey = (key: string) =>
  key
    .split('/')
    .map((part) => encodeURIComponent(part).replace(/%20/g, '+'))
    .join('/');

export function s3PutNotification(objects: LocalObject[]) {
  return {
    Records: objects.map((o) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: REGION,
      eventTime: o.eventTime.toISOString(),
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'AWS:LOCAL' },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: { 'x-amz-request-id': randomUUID(), 'x-amz-id-2': randomUUID() },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'airkick-local-uploads',
        bucket: { name: o.bucket, ownerIdentity: { principalId: 'LOCAL' }, arn: `arn:aws:s3:::${o.bucket}` },
        object: { key: s3EncodeKey(o.key), size: o.size, eTag: o.etag, sequencer: o.sequencer },
      },
    })),
  };
}

/** FC OSS trigger event (keys as stored); the request id is derived from the sequencer so redelivery is stable. */
export function ossPutEvent(objects: LocalObject[]) {
  return Buffer.from(
    JSON.stringify({
      events: objects.map((o) => ({
        eventName: 'ObjectCreated:PutObject',
        eventSource: 'acs:oss',
        eventTime: o.eventTime.toISOString(),
        eventVersion: '1.0',
        oss: {
          bucket: { arn: `acs:oss:${REGION}:${ACCOUNT}:${o.bucket}`, name: o.bucket, ownerIdentity: ACCOUNT },
          object: { deltaSize: o.size, eTag: o.etag.toUpperCase(), key: o.key, size: o.size },
          ossSchemaVersion: '1.0',
          ruleId: 'airkick-local-uploads',
        },
        region: REGION,
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { requestId: o.sequencer },
        userIdentity: { principalId: ACCOUNT },
      })),
    }),
  );
}

export function fcTimerEvent(slot: Date, triggerName: string, payload: unknown) {
  return Buffer.from(
    JSON.stringify({
      triggerTime: slot.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      triggerName,
      payload: payload === undefined ? '' : JSON.stringify(payload),
    }),
  );
}

/** The Lambda context: the handlers read the request id and the remaining time. */
export function lambdaContext(functionName: string, timeoutSeconds: number) {
  const end = Date.now() + timeoutSeconds * 1000;
  return {
    awsRequestId: randomUUID(),
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '256',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, end - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** The FC context, without credentials: the DMS transport then uses the default credential chain. */
export function fcContext(functionName: string, timeoutSeconds: number) {
  return {
    requestId: randomUUID(),
    function: { name: functionName, timeout: timeoutSeconds },
    region: REGION,
  };
}
