import { describe, expect, it } from 'vitest';
import { baseConfig, cleanConfig, healthConfig, triggerConfig, uploadConfig } from '#lib/config.ts';

describe('function configuration', () => {
  it('applies defaults and parses types', () => {
    expect(triggerConfig({ AIRKICK_TRIGGER_DAGS: 'a, b_2,c.d' })).toEqual({
      dags: ['a', 'b_2', 'c.d'],
      conf: {},
      wait: false,
    });
    expect(healthConfig({})).toEqual({
      maxHeartbeatAgeSeconds: 120,
      importErrors: false,
      failedRunsDags: [],
      failedRunsLookbackMinutes: 10,
    });
    expect(cleanConfig({ AIRKICK_CLEAN_RETENTION_DAYS: '30', AIRKICK_CLEAN_DRY_RUN: 'yes' })).toMatchObject({
      retentionDays: 30,
      minRetentionDays: 7,
      dryRun: true,
      tables: [],
    });
    expect(
      uploadConfig({
        AIRKICK_UPLOAD_RULES: '[{"prefix":"in/","dagId":"load"}]',
        AIRKICK_UPLOAD_CONCURRENCY: '4',
      }),
    ).toMatchObject({ mode: 'per-object', concurrency: 4, rules: [{ prefix: 'in/', dagId: 'load' }] });
  });

  it('fails with one message naming every wrong variable and what it expects', () => {
    expect(() => triggerConfig({ AIRKICK_TRIGGER_CONF: '"text"', AIRKICK_TRIGGER_WAIT: 'maybe' })).toThrow(
      /AIRKICK_TRIGGER_DAGS is required; it expects comma-separated DAG ids.*; AIRKICK_TRIGGER_CONF expects a JSON object.*; AIRKICK_TRIGGER_WAIT/,
    );
    expect(() => uploadConfig({ AIRKICK_UPLOAD_RULES: '[]' })).toThrow(/AIRKICK_UPLOAD_RULES/);
    expect(() =>
      uploadConfig({ AIRKICK_UPLOAD_RULES: '[{"dagId":"x"}]', AIRKICK_UPLOAD_MODE: 'sometimes' }),
    ).toThrow(/AIRKICK_UPLOAD_MODE/);
    expect(() => baseConfig({})).toThrow(
      /AIRKICK_ENV is required; it expects an environment string: mwaa:\/\/NAME/,
    );
    expect(() => baseConfig({ AIRKICK_ENV: 'mwaa://x' })).toThrow(/AIRKICK_ENV: .*region is required/);
  });

  it('never echoes a password from a bad environment string', () => {
    let message = '';
    try {
      baseConfig({ AIRKICK_ENV: 'ftp://admin:hunter2-secret@host' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/unknown scheme/);
    expect(message).not.toContain('hunter2-secret');
  });
});
