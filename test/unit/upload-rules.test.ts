import { describe, expect, it } from 'vitest';
import { AirkickError } from '#lib/errors.ts';
import type { UploadRecord } from '#lib/events/index.ts';
import {
  assetUri,
  matchRule,
  parseUploadRules,
  type UploadRule,
  uploadConf,
} from '#lib/events/upload-rules.ts';

function record(bucket: string, key: string, overrides: Partial<UploadRecord> = {}): UploadRecord {
  return {
    id: 'Records[0]',
    source: 's3',
    bucket,
    key,
    size: 5,
    etag: 'b1946ac92492d2347c6235b4d2611184',
    eventTime: '2026-11-21T06:00:01.123Z',
    region: 'us-east-1',
    eventName: 'ObjectCreated:Put',
    identity: JSON.stringify(['s3', bucket, key]),
    ...overrides,
  };
}

function configError(raw: string | undefined): AirkickError {
  try {
    parseUploadRules(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(AirkickError);
    expect((error as AirkickError).code).toBe('CONFIG');
    return error as AirkickError;
  }
  throw new Error('expected a CONFIG error');
}

describe('parseUploadRules', () => {
  it('reads a JSON array of rules', () => {
    const rules = parseUploadRules(
      JSON.stringify([
        {
          bucket: 'landing',
          prefix: 'incoming/',
          suffix: '.csv',
          dagId: 'load_csv',
          conf: { target: 'raw' },
        },
        { dagId: 'catch_all' },
      ]),
    );
    expect(rules).toEqual([
      { bucket: 'landing', prefix: 'incoming/', suffix: '.csv', dagId: 'load_csv', conf: { target: 'raw' } },
      { dagId: 'catch_all' },
    ]);
  });

  it('names the variable and the failing path', () => {
    expect(configError(undefined).message).toContain('AIRKICK_UPLOAD_RULES is not set');
    expect(configError('[{').message).toContain('not valid JSON');
    expect(configError('[]').message).toContain('at least one rule');
    expect(configError('{"dagId":"x"}').message).toContain('AIRKICK_UPLOAD_RULES');
    expect(configError('[{"prefix":"a/"}]').message).toBe(
      'AIRKICK_UPLOAD_RULES[0]: expects exactly one of dagId (one DAG run per object) or asset (an asset event per object)',
    );
    expect(configError('[{"dagId":"ok"},{"dagId":"bad id!"}]').message).toContain('[1].dagId');
    expect(configError('[{"dagId":"x","conf":[1]}]').message).toContain('[0].conf');
  });

  it('takes an asset rule with extra instead of a dagId, and refuses to mix the two', () => {
    const [rule] = parseUploadRules(
      '[{"prefix":"landing/","asset":"s3://{bucket}/landing","extra":{"team":"a"}}]',
    );
    expect(rule).toEqual({ prefix: 'landing/', asset: 's3://{bucket}/landing', extra: { team: 'a' } });
    expect(assetUri('s3://{bucket}/{key}', { bucket: 'b', key: 'landing/x.csv' })).toBe(
      's3://b/landing/x.csv',
    );
    expect(configError('[{"dagId":"x","asset":"s3://b/l"}]').message).toContain(
      'expects exactly one of dagId',
    );
    expect(configError('[{"asset":"s3://b/l","conf":{}}]').message).toContain('conf is for dagId rules');
    expect(configError('[{"dagId":"x","extra":{}}]').message).toContain('extra is for asset rules');
    expect(configError('[{"asset":"landing"}]').message).toContain('[0].asset: expects an asset URI');
  });

  it('rejects unknown keys so a typo cannot widen a rule', () => {
    expect(configError('[{"dagId":"x","prefx":"incoming/"}]').message).toContain('prefx');
  });
});

describe('matchRule', () => {
  const rules: UploadRule[] = [
    { bucket: 'landing', prefix: 'incoming/', suffix: '.csv', dagId: 'landing_csv' },
    { prefix: 'incoming/', dagId: 'any_incoming' },
    { suffix: '.parquet', dagId: 'parquet' },
    { bucket: 'archive', dagId: 'archive' },
  ];

  it('returns the first rule whose bucket, prefix and suffix all match', () => {
    expect(matchRule(rules, record('landing', 'incoming/a.csv'))?.dagId).toBe('landing_csv');
    expect(matchRule(rules, record('other', 'incoming/a.csv'))?.dagId).toBe('any_incoming');
    expect(matchRule(rules, record('landing', 'incoming/a.json'))?.dagId).toBe('any_incoming');
    expect(matchRule(rules, record('landing', 'out/x.parquet'))?.dagId).toBe('parquet');
    expect(matchRule(rules, record('archive', 'incoming/x.parquet'))?.dagId).toBe('any_incoming');
    expect(matchRule(rules, record('archive', 'old/x.txt'))?.dagId).toBe('archive');
  });

  it('matches prefixes and suffixes literally and case-sensitively', () => {
    expect(matchRule(rules, record('other', 'Incoming/a.csv'))).toBeUndefined();
    expect(matchRule(rules, record('other', 'x/incoming/a.txt'))).toBeUndefined();
    expect(matchRule(rules, record('other', 'x.parquet.tmp'))).toBeUndefined();
    expect(matchRule([{ prefix: 'a.*', dagId: 'glob' }], record('b', 'abc'))).toBeUndefined();
    expect(matchRule([{ prefix: 'a.*', dagId: 'glob' }], record('b', 'a.*c'))?.dagId).toBe('glob');
  });

  it('returns undefined when nothing matches, and a filterless rule matches everything', () => {
    expect(matchRule(rules, record('other', 'old/x.txt'))).toBeUndefined();
    expect(matchRule([], record('b', 'k'))).toBeUndefined();
    expect(matchRule([{ dagId: 'all' }], record('b', 'any/key with spaces'))?.dagId).toBe('all');
  });
});

describe('uploadConf', () => {
  it('builds the snake_case DAG conf on top of the rule conf', () => {
    const rule: UploadRule = { dagId: 'load', conf: { target: 'raw', retries: 2 } };
    expect(uploadConf(record('landing', 'incoming/a b.csv'), rule)).toEqual({
      target: 'raw',
      retries: 2,
      bucket: 'landing',
      key: 'incoming/a b.csv',
      size: 5,
      etag: 'b1946ac92492d2347c6235b4d2611184',
      event_time: '2026-11-21T06:00:01.123Z',
      region: 'us-east-1',
      source: 's3',
    });
    expect(uploadConf(record('b', 'k'), { dagId: 'load' })).not.toHaveProperty('target');
  });

  it('lets the object data win over rule conf keys of the same name, without mutating the rule', () => {
    const conf = { bucket: 'forged', key: 'other.csv', source: 'oss', extra: 1 };
    const rule: UploadRule = { dagId: 'load', conf };
    const result = uploadConf(record('landing', 'real.csv', { size: null, etag: null, region: null }), rule);
    expect(result).toMatchObject({ bucket: 'landing', key: 'real.csv', source: 's3', extra: 1 });
    expect(result.size).toBeNull();
    expect(conf).toEqual({ bucket: 'forged', key: 'other.csv', source: 'oss', extra: 1 });
  });
});
