import { createHash } from 'node:crypto';
import type { AirkickError } from '#lib/errors.ts';

/** One uploaded object, whichever cloud and envelope announced it. */
export interface UploadRecord {
  /** The id to report for a retry: the SQS messageId, else a position such as `Records[0]` or `events[1]`. */
  id: string;
  source: 's3' | 'oss';
  bucket: string;
  /** The object key exactly as stored, decoded from the notification's spelling. */
  key: string;
  size: number | null;
  etag: string | null;
  eventTime: string;
  region: string | null;
  eventName: string;
  /** Stable across redeliveries of one object event, different for a new upload of the same key. */
  identity: string;
}

export interface RecordFailure {
  id: string;
  error: AirkickError;
}

export interface UploadBatch {
  records: UploadRecord[];
  failures: RecordFailure[];
}

/**
 * A run id derived from the record's identity, so at-least-once delivery (S3, SQS, OSS all
 * redeliver) gives one DAG run per upload: the repeat trigger meets Airflow's 409.
 *
 * @example uploadRunId(record) // 's3__3f2a…' (prefix + 32 hex characters)
 */
export function uploadRunId(record: Pick<UploadRecord, 'source' | 'identity'>): string {
  const digest = createHash('sha256').update(record.identity, 'utf8').digest('hex');
  return `${record.source}__${digest.slice(0, 32)}`;
}
