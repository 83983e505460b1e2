import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AirkickError } from '#lib/errors.ts';
import {
  decodeEvent,
  decodeObjectKey,
  parseScheduleEvent,
  parseUploadEvent,
  scheduleRunId,
  type UploadRecord,
  uploadRunId,
} from '#lib/events/index.ts';

const FIXTURES = new URL('../fixtures/events/', import.meta.url);
const raw = (name: string) => readFileSync(new URL(name, FIXTURES));
const fixture = (name: string): Record<string, unknown> => JSON.parse(raw(name).toString('utf8'));

/** Airflow's default `allowed_run_id_pattern`. */
const AIRFLOW_RUN_ID = /^[A-Za-z0-9_.~:+-]+$/;

function thrown(fn: () => unknown): AirkickError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AirkickError);
    return error as AirkickError;
  }
  throw new Error('expected a throw');
}

/** Spells a key the way S3 notifications do (application/x-www-form-urlencoded). */
const formEncode = (key: string) => new URLSearchParams({ k: key }).toString().slice(2);

function s3Record(
  key: string,
  overrides: { sequencer?: string; versionId?: string; eventName?: string } = {},
) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2026-11-21T06:00:01.123Z',
    eventName: overrides.eventName ?? 'ObjectCreated:Put',
    userIdentity: { principalId: 'EXAMPLE' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': 'EXAMPLE123456789', 'x-amz-id-2': 'EXAMPLE123/abc' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'testConfigRule',
      bucket: { name: 'uploads', ownerIdentity: { principalId: 'EXAMPLE' }, arn: 'arn:aws:s3:::uploads' },
      object: {
        key: formEncode(key),
        size: 42,
        eTag: '0123456789abcdef0123456789abcdef',
        ...(overrides.versionId === undefined ? {} : { versionId: overrides.versionId }),
        sequencer: overrides.sequencer ?? '0A1B2C3D4E5F678901',
      },
    },
  };
}

function sqsMessage(messageId: string, body: string) {
  const template = (fixture('sqs-s3.json').Records as Record<string, unknown>[])[0];
  return { ...template, messageId, body };
}

const only = (batch: { records: UploadRecord[]; failures: unknown[] }): UploadRecord => {
  expect(batch.failures).toEqual([]);
  expect(batch.records).toHaveLength(1);
  return batch.records[0] as UploadRecord;
};

const HOSTILE_KEYS = [
  'it\'s "quoted" report.csv',
  'semi;colon;key.txt',
  'line one\nline two.txt',
  '../../etc/passwd',
  'c++/notes+plus.txt',
  '100% done %2B literal.txt',
  'two  spaces and trailing ',
  'a&b=c?d#e@f:g,h$i.txt',
  `${'日本語ファイル名-ünïcødé-🚀-'.repeat(40)}end.parquet`,
];

describe('decodeEvent', () => {
  it('decodes Buffers, Uint8Arrays and strings of JSON, and passes objects through', () => {
    const object = { a: 1, b: ['x'] };
    expect(decodeEvent(Buffer.from(JSON.stringify(object)))).toEqual(object);
    expect(decodeEvent(new TextEncoder().encode(JSON.stringify(object)))).toEqual(object);
    expect(decodeEvent(JSON.stringify(object))).toEqual(object);
    expect(decodeEvent(object)).toBe(object);
  });

  it('rejects bytes that are not JSON or not UTF-8 without echoing them', () => {
    const notJson = thrown(() => decodeEvent(Buffer.from('token=hunter2-secret')));
    expect(notJson.code).toBe('BAD_REQUEST');
    expect(notJson.message).toContain('not JSON');
    expect(notJson.message).not.toContain('hunter2');
    expect(thrown(() => decodeEvent(Buffer.from([0x7b, 0xff, 0x7d]))).message).toContain('not UTF-8');
  });
});

describe('parseScheduleEvent', () => {
  it('reads the EventBridge scheduled event, also as a Buffer', () => {
    const expected = { slot: new Date('2015-10-08T16:53:06Z'), source: 'eventbridge', input: {} };
    expect(parseScheduleEvent(fixture('eventbridge-scheduled.json'))).toEqual(expected);
    expect(parseScheduleEvent(raw('eventbridge-scheduled.json'))).toEqual(expected);
  });

  it('reads an input transformer object: slot from time, the rest as input', () => {
    const event = { time: '2026-11-21T06:00:00Z', tables: ['orders'], full: true };
    expect(parseScheduleEvent(event)).toEqual({
      slot: new Date('2026-11-21T06:00:00Z'),
      source: 'eventbridge',
      input: { tables: ['orders'], full: true },
    });
  });

  it('reads the FC timer event from its Buffer; a text payload becomes { payload }', () => {
    expect(parseScheduleEvent(raw('fc-timer.json'))).toEqual({
      slot: new Date('2023-12-26T07:49:00Z'),
      source: 'fc-timer',
      input: { payload: 'awesome-fc' },
    });
  });

  it('parses an FC timer payload holding a JSON object into the input, and only an object', () => {
    const timer = (payload: string) => ({
      triggerTime: '2022-08-03T13:52:30Z',
      triggerName: 'timer',
      payload,
    });
    expect(parseScheduleEvent(timer('{"tables":["a"],"n":1}')).input).toEqual({ tables: ['a'], n: 1 });
    expect(parseScheduleEvent(timer('[1,2]')).input).toEqual({ payload: '[1,2]' });
    expect(parseScheduleEvent(timer('42')).input).toEqual({ payload: '42' });
    expect(parseScheduleEvent(timer('')).input).toEqual({});
    expect(parseScheduleEvent(Buffer.from(JSON.stringify(timer('{"x":1}')))).input).toEqual({ x: 1 });
  });

  it('truncates the slot to the second', () => {
    const { slot } = parseScheduleEvent({ time: '2026-11-21T06:00:00.999Z' });
    expect(slot.toISOString()).toBe('2026-11-21T06:00:00.000Z');
  });

  it('reads a manual invocation with or without a slot', () => {
    expect(parseScheduleEvent({ slot: '2026-01-02T03:04:05Z', dry: true })).toEqual({
      slot: new Date('2026-01-02T03:04:05Z'),
      source: 'manual',
      input: { dry: true },
    });
    const now = () => new Date('2026-05-05T05:05:05.555Z');
    expect(parseScheduleEvent({}, { now })).toEqual({
      slot: new Date('2026-05-05T05:05:05Z'),
      source: 'manual',
      input: {},
    });
  });

  it('rejects upload events, other EventBridge events and non-objects, naming what arrived', () => {
    const s3 = thrown(() => parseScheduleEvent(fixture('s3-put.json')));
    expect(s3.code).toBe('BAD_REQUEST');
    expect(s3.message).toContain('Scheduled Event');
    expect(s3.message).toContain('"Records"');
    expect(s3.message).not.toContain('example-bucket');

    const created = thrown(() => parseScheduleEvent(fixture('eventbridge-object-created.json')));
    expect(created.message).toContain('"Object Created"');
    expect(created.message).toContain('"aws.s3"');

    expect(thrown(() => parseScheduleEvent(raw('fc-oss.json'))).message).toContain('"events"');
    expect(thrown(() => parseScheduleEvent([1, 2])).message).toContain('an array of 2 item(s)');
    expect(thrown(() => parseScheduleEvent(7)).message).toContain('a number');
  });

  it('rejects an unreadable time, naming the field but not the value', () => {
    const bad = thrown(() =>
      parseScheduleEvent({ triggerTime: 'secret-ish-value', triggerName: 't', payload: '' }),
    );
    expect(bad.message).toContain('"triggerTime"');
    expect(bad.message).not.toContain('secret-ish-value');
    expect(thrown(() => parseScheduleEvent({ time: 1_700_000_000 })).message).toContain('"time"');
    expect(thrown(() => parseScheduleEvent({ time: '2026-13-45T99:00:00Z' })).message).toContain('ISO-8601');
  });
});

describe('scheduleRunId', () => {
  it('derives a stable, Airflow-valid id from the slot truncated to the second', () => {
    const id = scheduleRunId('etl', new Date('2026-11-21T06:00:00.750Z'));
    expect(id).toBe('airkick__20261121T0600Z');
    expect(id).toMatch(AIRFLOW_RUN_ID);
    expect(scheduleRunId('etl', new Date('2026-11-21T06:00:00Z'))).toBe(id);
    const withSeconds = scheduleRunId('etl', new Date('2026-11-21T06:00:01Z'));
    expect(withSeconds).toBe('airkick__20261121T060001Z');
    expect(withSeconds).toMatch(AIRFLOW_RUN_ID);
  });

  it('gives distinct slots distinct ids (minute and second slots never collide)', () => {
    const ids = new Set<string>();
    const start = Date.parse('2026-12-31T23:00:00Z');
    for (let s = 0; s < 7200; s += 7) ids.add(scheduleRunId('etl', new Date(start + s * 1000)));
    expect(ids.size).toBe(Math.ceil(7200 / 7));
  });

  it('gives every delivery of one EventBridge event the same id', () => {
    const first = parseScheduleEvent(fixture('eventbridge-scheduled.json'));
    const again = parseScheduleEvent(raw('eventbridge-scheduled.json'));
    expect(scheduleRunId('etl', first.slot)).toBe(scheduleRunId('etl', again.slot));
  });

  it('rejects an invalid slot or an empty DAG id', () => {
    expect(thrown(() => scheduleRunId('etl', new Date(Number.NaN))).code).toBe('BAD_REQUEST');
    expect(thrown(() => scheduleRunId('', new Date())).code).toBe('BAD_REQUEST');
  });
});

describe('decodeObjectKey', () => {
  it('turns + into a space before percent-decoding, so %2B stays a literal +', () => {
    expect(decodeObjectKey('red+flower.jpg', 'form')).toBe('red flower.jpg');
    expect(decodeObjectKey('c%2B%2B+notes.txt', 'form')).toBe('c++ notes.txt');
    expect(decodeObjectKey('100%25+done%252B.txt', 'form')).toBe('100% done%2B.txt');
    expect(decodeObjectKey('test%2F10%3A47%3A07.log', 'form')).toBe('test/10:47:07.log');
  });

  it('round-trips hostile keys exactly', () => {
    for (const key of HOSTILE_KEYS) expect(decodeObjectKey(formEncode(key), 'form')).toBe(key);
  });

  it('leaves raw keys alone and rejects malformed escapes', () => {
    expect(decodeObjectKey('a+b %2B 100%.txt', 'raw')).toBe('a+b %2B 100%.txt');
    expect(thrown(() => decodeObjectKey('bad%E0%A4%A', 'form')).code).toBe('BAD_REQUEST');
  });
});

describe('parseUploadEvent: S3 notification direct to Lambda', () => {
  it('reads the AWS sample event', () => {
    const record = only(parseUploadEvent(fixture('s3-put.json')));
    expect(record).toEqual({
      id: 'Records[0]',
      source: 's3',
      bucket: 'example-bucket',
      key: 'test/key',
      size: 1024,
      etag: '0123456789abcdef0123456789abcdef',
      eventTime: '1970-01-01T00:00:00.000Z',
      region: 'us-east-1',
      eventName: 'ObjectCreated:Put',
      identity: expect.any(String),
    });
  });

  it('decodes hostile keys exactly', () => {
    const event = { Records: HOSTILE_KEYS.map((key) => s3Record(key)) };
    const batch = parseUploadEvent(event);
    expect(batch.failures).toEqual([]);
    expect(batch.records.map((record) => record.key)).toEqual(HOSTILE_KEYS);
    expect(batch.records.map((record) => record.id)).toEqual(
      HOSTILE_KEYS.map((_, index) => `Records[${index}]`),
    );
  });

  it('fails only the record with a malformed key or a non-create event name', () => {
    const broken = s3Record('ok.txt');
    broken.s3.object.key = 'bad%E0%A4%A';
    const removed = s3Record('gone.txt', { eventName: 'ObjectRemoved:Delete' });
    const batch = parseUploadEvent({ Records: [s3Record('first.txt'), broken, removed] });
    expect(batch.records.map((record) => record.key)).toEqual(['first.txt']);
    expect(batch.failures.map((failure) => failure.id)).toEqual(['Records[1]', 'Records[2]']);
    expect(batch.failures[0]?.error.message).toContain('malformed % escape');
    expect(batch.failures[1]?.error.message).toContain('"ObjectRemoved:Delete"');
    expect(batch.failures.every((failure) => failure.error.code === 'BAD_REQUEST')).toBe(true);
  });
});

describe('parseUploadEvent: SQS', () => {
  it('reads an SQS batch of S3 notifications, with the messageId as id', () => {
    const record = only(parseUploadEvent(fixture('sqs-s3.json')));
    expect(record).toMatchObject({
      id: '059f36b4-87a3-44ab-83d2-661975830a7d',
      source: 's3',
      bucket: 'amzn-s3-demo-bucket',
      key: 'incoming/report 2026-11-21.csv',
      size: 1305107,
      etag: 'b21b84d653bb07b05b1e6b33684dc11b',
      region: 'us-east-2',
    });
  });

  it('ignores the s3:TestEvent body without failing it', () => {
    expect(parseUploadEvent(fixture('sqs-s3-test-event.json'))).toEqual({ records: [], failures: [] });
  });

  it('reads SNS-wrapped notifications inside SQS', () => {
    const record = only(parseUploadEvent(fixture('sqs-sns-s3.json')));
    expect(record.id).toBe('79406a00-bf15-46ca-978c-22c3613fcb30');
    expect(record.key).toBe('incoming/report 2026-11-21.csv');
    expect(record.identity).toBe(only(parseUploadEvent(fixture('sqs-s3.json'))).identity);
  });

  it('gives several S3 records of one message the same messageId', () => {
    const body = JSON.stringify({ Records: [s3Record('a.csv'), s3Record('b;c.csv')] });
    const batch = parseUploadEvent({ Records: [sqsMessage('m-1', body)] });
    expect(batch.failures).toEqual([]);
    expect(batch.records.map((record) => [record.id, record.key])).toEqual([
      ['m-1', 'a.csv'],
      ['m-1', 'b;c.csv'],
    ]);
  });

  it('fails only the malformed messages, by messageId', () => {
    const good = (key: string) => JSON.stringify({ Records: [s3Record(key)] });
    const halfBad = {
      Records: [
        s3Record('fine.csv'),
        { ...s3Record('x'), s3: { bucket: { name: 'b' }, object: { key: 'k', size: '3' } } },
      ],
    };
    const batch = parseUploadEvent({
      Records: [
        sqsMessage('ok-1', good('one.csv')),
        sqsMessage('not-json', 'password=hunter2 this is not json'),
        sqsMessage('foreign', JSON.stringify({ hello: 'world' })),
        sqsMessage('half-bad', JSON.stringify(halfBad)),
        sqsMessage('ok-2', good('two.csv')),
      ],
    });
    expect(batch.records.map((record) => [record.id, record.key])).toEqual([
      ['ok-1', 'one.csv'],
      ['ok-2', 'two.csv'],
    ]);
    expect(batch.failures.map((failure) => failure.id)).toEqual(['not-json', 'foreign', 'half-bad']);
    const [notJson, foreign, halfBadFailure] = batch.failures.map((failure) => failure.error.message);
    expect(notJson).toContain('not JSON');
    expect(notJson).not.toContain('hunter2');
    expect(foreign).toContain('"hello"');
    expect(foreign).not.toContain('world');
    expect(halfBadFailure).toContain('.Records[1].s3.object.size');
  });

  it('reads EventBridge "Object Created" events delivered through SQS', () => {
    const body = JSON.stringify(fixture('eventbridge-object-created.json'));
    const record = only(parseUploadEvent({ Records: [sqsMessage('eb-1', body)] }));
    expect(record).toMatchObject({ id: 'eb-1', bucket: 'amzn-s3-demo-bucket1', key: 'example-key' });
  });
});

describe('parseUploadEvent: SNS and EventBridge', () => {
  it('reads an S3 notification from SNS direct to Lambda', () => {
    const event = {
      Records: [
        {
          EventSource: 'aws:sns',
          EventVersion: '1.0',
          EventSubscriptionArn: 'arn:aws:sns:us-east-1:123456789012:topic:sub',
          Sns: {
            Type: 'Notification',
            MessageId: 'sns-1',
            Message: JSON.stringify({ Records: [s3Record('x y.csv')] }),
          },
        },
      ],
    };
    expect(only(parseUploadEvent(event))).toMatchObject({ id: 'Records[0]', key: 'x y.csv' });
  });

  it('reads the EventBridge "Object Created" sample', () => {
    const record = only(parseUploadEvent(fixture('eventbridge-object-created.json')));
    expect(record).toEqual({
      id: '17793124-05d4-b198-2fde-7ededc63b103',
      source: 's3',
      bucket: 'amzn-s3-demo-bucket1',
      key: 'example-key',
      size: 5,
      etag: 'b1946ac92492d2347c6235b4d2611184',
      eventTime: '2021-11-12T00:00:00Z',
      region: 'ca-central-1',
      eventName: 'Object Created',
      identity: expect.any(String),
    });
  });

  it('decodes EventBridge keys like notification keys', () => {
    const event = fixture('eventbridge-object-created.json');
    const detail = event.detail as { object: { key: string } };
    for (const key of HOSTILE_KEYS) {
      detail.object.key = formEncode(key);
      expect(only(parseUploadEvent(event)).key).toBe(key);
    }
  });

  it('rejects other S3 EventBridge events, naming the detail-type', () => {
    const deleted = { ...fixture('eventbridge-object-created.json'), 'detail-type': 'Object Deleted' };
    const error = thrown(() => parseUploadEvent(deleted));
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toContain('"Object Deleted"');
  });
});

describe('parseUploadEvent: FC OSS trigger', () => {
  it('reads the FC sample from its Buffer', () => {
    const record = only(parseUploadEvent(raw('fc-oss.json')));
    expect(record).toEqual({
      id: 'events[0]',
      source: 'oss',
      bucket: 'testbucket',
      key: 'source/a.png',
      size: 122539,
      etag: '688A7BF4F233DC9C88A80BF985AB****',
      eventTime: '2022-08-13T06:45:43.000Z',
      region: 'cn-hangzhou',
      eventName: 'ObjectCreated:PutObject',
      identity: expect.any(String),
    });
  });

  it('keeps OSS keys verbatim, hostile ones included', () => {
    const event = fixture('fc-oss.json');
    const entry = (event.events as { oss: { object: { key: string } } }[])[0];
    if (entry === undefined) throw new Error('fixture has no event');
    for (const key of [...HOSTILE_KEYS, 'a+b%2B.txt']) {
      entry.oss.object.key = key;
      expect(only(parseUploadEvent(Buffer.from(JSON.stringify(event)))).key).toBe(key);
    }
  });

  it('fails a non-create OSS entry by its position', () => {
    const event = fixture('fc-oss.json');
    const first = (event.events as Record<string, unknown>[])[0];
    event.events = [first, { ...first, eventName: 'ObjectRemoved:DeleteObject' }];
    const batch = parseUploadEvent(event);
    expect(batch.records.map((record) => record.id)).toEqual(['events[0]']);
    expect(batch.failures.map((failure) => failure.id)).toEqual(['events[1]']);
    expect(batch.failures[0]?.error.message).toContain('"ObjectRemoved:DeleteObject"');
  });
});

describe('identity and uploadRunId', () => {
  it('is the same for a redelivered event, from an object or a Buffer', () => {
    const first = only(parseUploadEvent(fixture('s3-put.json')));
    const again = only(parseUploadEvent(raw('s3-put.json')));
    expect(again.identity).toBe(first.identity);
    expect(uploadRunId(again)).toBe(uploadRunId(first));
    expect(uploadRunId(first)).toMatch(/^s3__[0-9a-f]{32}$/);
    expect(uploadRunId(first)).toMatch(AIRFLOW_RUN_ID);
  });

  it('differs for a new sequencer or version of the same key', () => {
    const id = (record: object) => only(parseUploadEvent({ Records: [record] }));
    const base = id(s3Record('same/key.csv'));
    const later = id(s3Record('same/key.csv', { sequencer: '0A1B2C3D4E5F678902' }));
    const versioned = id(s3Record('same/key.csv', { versionId: '3HL4kqtJlcpXroDTDmjVBH40Nrjfkd' }));
    expect(later.identity).not.toBe(base.identity);
    expect(versioned.identity).not.toBe(base.identity);
    expect(uploadRunId(later)).not.toBe(uploadRunId(base));
    expect(id(s3Record('other/key.csv')).identity).not.toBe(base.identity);
  });

  it('distinguishes OSS writes by request id and stays stable across redelivery', () => {
    const event = fixture('fc-oss.json');
    const first = only(parseUploadEvent(event));
    expect(only(parseUploadEvent(raw('fc-oss.json'))).identity).toBe(first.identity);
    const entry = (event.events as { responseElements: { requestId: string } }[])[0];
    if (entry === undefined) throw new Error('fixture has no event');
    entry.responseElements.requestId = '58F9FF2D3DF792092E12044D';
    const second = only(parseUploadEvent(event));
    expect(second.identity).not.toBe(first.identity);
    expect(uploadRunId(first)).toMatch(/^oss__[0-9a-f]{32}$/);
  });
});

describe('parseUploadEvent: foreign events', () => {
  it('rejects a stream of another service, naming its eventSource', () => {
    const error = thrown(() =>
      parseUploadEvent({
        Records: [{ eventSource: 'aws:dynamodb', dynamodb: { Keys: { pk: { S: 'secret' } } } }],
      }),
    );
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toContain('aws:dynamodb');
    expect(error.message).not.toContain('secret');
  });

  it('rejects unknown objects and non-objects, naming the keys that arrived', () => {
    expect(thrown(() => parseUploadEvent({ foo: 1, bar: 'hunter2' })).message).toMatch(
      /keys \["foo", "bar"\]/,
    );
    expect(thrown(() => parseUploadEvent({ foo: 1, bar: 'hunter2' })).message).not.toContain('hunter2');
    expect(thrown(() => parseUploadEvent(fixture('eventbridge-scheduled.json'))).message).toContain(
      '"Scheduled Event"',
    );
    expect(thrown(() => parseUploadEvent(raw('fc-timer.json'))).message).toContain('"triggerTime"');
    expect(thrown(() => parseUploadEvent(null)).message).toContain('got null');
    expect(thrown(() => parseUploadEvent({ events: [{ eventSource: 'acs:mns' }] })).message).toContain(
      'acs:oss',
    );
  });

  it('fails an unknown record among known ones instead of dropping it', () => {
    const batch = parseUploadEvent({ Records: [s3Record('a.csv'), { eventSource: 'aws:kinesis' }] });
    expect(batch.records).toHaveLength(1);
    expect(batch.failures.map((failure) => failure.id)).toEqual(['Records[1]']);
  });
});
