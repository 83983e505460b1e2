import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { s3EncodeKey, s3PutNotification } from '#cli/local/events.ts';
import { sequencer, UploadFolder } from '#cli/local/uploads.ts';
import { parseUploadEvent, uploadRunId } from '#lib/events/index.ts';

describe('the local upload folder', () => {
  it('announces a file once it stopped changing, with key, size, md5 etag and a stable sequencer', async () => {
    const root = mkdtempSync(join(tmpdir(), 'airkick-uploads-'));
    const folder = new UploadFolder(root);
    mkdirSync(join(root, 'incoming'));
    const path = join(root, 'incoming', "it's a+b.csv");
    writeFileSync(path, 'a,b\n');
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    writeFileSync(join(root, '.partial.swp'), 'x');
    expect(await folder.scan()).toEqual([]); // first sighting: maybe still being written
    const [object, ...rest] = await folder.scan();
    expect(rest).toEqual([]);
    expect(object).toMatchObject({
      bucket: 'local',
      key: "incoming/it's a+b.csv",
      size: 4,
      etag: createHash('md5').update('a,b\n').digest('hex'),
      sequencer: sequencer(1_700_000_000_000, 4),
    });
    expect(await folder.scan()).toEqual([]); // reported once

    writeFileSync(path, 'a,b\n1,2\n');
    expect(await folder.scan()).toEqual([]);
    const [changed] = await folder.scan();
    expect(changed?.size).toBe(8);
    expect(changed?.sequencer).not.toBe(object?.sequencer);
  });

  it('becomes an S3 notification the on-upload envelope reads back to the same key', async () => {
    const object = {
      bucket: 'local',
      key: "incoming/it's a+b 日本.csv",
      size: 4,
      etag: 'e',
      sequencer: sequencer(1, 4),
      eventTime: new Date(0),
    };
    expect(s3EncodeKey(object.key)).toBe("incoming/it's+a%2Bb+%E6%97%A5%E6%9C%AC.csv");
    const batch = parseUploadEvent(s3PutNotification([object]));
    expect(batch.failures).toEqual([]);
    expect(batch.records[0]).toMatchObject({ bucket: 'local', key: object.key, size: 4, etag: 'e' });
    // The same file announced again (a restart) maps to the same run id.
    const again = parseUploadEvent(s3PutNotification([object]));
    expect(uploadRunId(again.records[0] as never)).toBe(uploadRunId(batch.records[0] as never));
  });
});
