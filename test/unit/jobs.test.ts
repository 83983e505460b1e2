import { describe, expect, it } from 'vitest';
import type { DagRun, Health } from '#lib/airflow/types.ts';
import { AirkickError, isPermanent } from '#lib/errors.ts';
import { cleanArgs, parseCleanOutput } from '#lib/jobs/clean.ts';
import { judgeHealth, judgeRuns } from '#lib/jobs/health.ts';
import { renderConf } from '#lib/jobs/trigger.ts';
import { settleUploads, summarize, type UploadOutcome } from '#lib/jobs/uploads.ts';

const healthy: Health = {
  metadatabase: { status: 'healthy' },
  scheduler: { status: 'healthy', latestHeartbeat: '2026-01-01T00:00:00Z', heartbeatAgeSeconds: 3 },
  triggerer: { status: 'healthy', latestHeartbeat: '2026-01-01T00:00:00Z', heartbeatAgeSeconds: 2 },
  checkedAt: '2026-01-01T00:00:03Z',
};

describe('judgeHealth', () => {
  it('finds nothing wrong with a healthy reading', () => {
    expect(judgeHealth(healthy, { maxHeartbeatAgeSeconds: 60 })).toEqual([]);
  });

  it('names each problem: database, stale or unhealthy components', () => {
    const problems = judgeHealth(
      {
        ...healthy,
        metadatabase: { status: 'unhealthy' },
        scheduler: { status: 'healthy', latestHeartbeat: 'x', heartbeatAgeSeconds: 95.4 },
        triggerer: { status: 'unhealthy', latestHeartbeat: 'x', heartbeatAgeSeconds: 400 },
        dagProcessor: { status: 'unknown', latestHeartbeat: null, heartbeatAgeSeconds: null },
      },
      { maxHeartbeatAgeSeconds: 60 },
    );
    expect(problems).toEqual([
      'metadatabase is unhealthy',
      'scheduler heartbeat is 95 s old (limit 60 s)',
      'triggerer is unhealthy (last heartbeat 400 s ago)',
      'dag processor is unknown',
    ]);
  });
});

describe('renderConf', () => {
  it('fills placeholders in nested strings and leaves unknown ones and other values alone', () => {
    const values = { scheduled_time: '2026-11-21T06:00:00.000Z', dag_id: 'etl' };
    expect(
      renderConf(
        { at: '{{scheduled_time}}', nested: ['{{ dag_id }}', 1, null, { x: '{{nope}}' }], flag: true },
        values,
      ),
    ).toEqual({ at: values.scheduled_time, nested: ['etl', 1, null, { x: '{{nope}}' }], flag: true });
  });
});

describe('db clean', () => {
  const config = {
    retentionDays: 30,
    minRetentionDays: 7,
    force: false,
    tables: [] as string[],
    dryRun: false,
    skipArchive: false,
    dropArchives: false,
  };
  const before = new Date('2026-10-22T00:00:00.000Z');

  it('builds the argument array with only the options asked for', () => {
    expect(cleanArgs(config, before)).toEqual([
      'db',
      'clean',
      '--clean-before-timestamp',
      '2026-10-22T00:00:00.000Z',
      '--yes',
    ]);
    expect(
      cleanArgs({ ...config, tables: ['dag_run', 'xcom'], dryRun: true, skipArchive: true }, before),
    ).toEqual([
      'db',
      'clean',
      '--clean-before-timestamp',
      '2026-10-22T00:00:00.000Z',
      '--yes',
      '--tables',
      'dag_run,xcom',
      '--dry-run',
      '--skip-archive',
    ]);
  });

  it('reads the per-table counts Airflow prints, dry run or not', () => {
    const output = [
      'Performing dry run for table dag_run',
      'Checking table dag_run',
      'Found 12 rows meeting deletion criteria.',
      '',
      'Checking table task_instance',
      'Found 1 row meeting deletion criteria.',
      '[2026-11-21T05:50:54.379+0000] {db_cleanup.py:298} DEBUG - noise',
      'Checking table xcom',
      'Found 0 rows meeting deletion criteria.',
    ].join('\n');
    expect(parseCleanOutput(output)).toEqual({
      tables: { dag_run: 12, task_instance: 1, xcom: 0 },
      errors: [],
    });
    expect(parseCleanOutput('nothing useful')).toEqual({ tables: {}, errors: [] });
  });

  it('finds a traceback after some tables, and does not count the table it broke in', () => {
    const output = [
      'Checking table dag_run',
      'Found 12 rows meeting deletion criteria.',
      'Checking table task_instance',
      'Found 3 rows meeting deletion criteria.',
      'Traceback (most recent call last):',
      '  File "/usr/lib/python3.11/site-packages/airflow/utils/db_cleanup.py", line 210, in _do_delete',
      'sqlalchemy.exc.OperationalError: (psycopg2.errors.QueryCanceled) canceling statement due to statement timeout',
    ].join('\n');
    const report = parseCleanOutput(output);
    expect(report.tables).toEqual({ dag_run: 12 });
    expect(report.errors).toHaveLength(2);
    expect(report.errors[1]).toContain('OperationalError');
    expect(report.errors[1]).toContain('at table task_instance');
  });

  it('ignores warnings that Airflow prints before the report', () => {
    const output = [
      '/opt/airflow/lib/graphviz/__init__.py:1: UserWarning: graphviz is not installed',
      '  warnings.warn(',
      'Checking table log',
      'Found 4 rows meeting deletion criteria.',
    ].join('\n');
    expect(parseCleanOutput(output)).toEqual({ tables: { log: 4 }, errors: [] });
  });
});

describe('judgeRuns', () => {
  const run = (runId: string, state: 'success' | 'failed', endDate: string): DagRun => ({
    dagId: 'etl',
    runId,
    state,
    logicalDate: null,
    startDate: null,
    endDate,
    conf: {},
    note: null,
    runType: 'manual',
  });

  it('is failing while the newest finished run failed, whatever its age', () => {
    const old = judgeRuns('etl', [run('r2', 'failed', '2026-01-01T00:00:00Z')], '2026-06-01T00:00:00Z');
    expect(old).toMatchObject({ failing: true, recentFailures: [] });
  });

  it('recovers only with a later success, and lists the recent failures', () => {
    const finding = judgeRuns(
      'etl',
      [run('r3', 'success', '2026-06-01T00:10:00Z'), run('r2', 'failed', '2026-06-01T00:05:00Z')],
      '2026-06-01T00:00:00Z',
    );
    expect(finding).toMatchObject({ failing: false, latest: { runId: 'r3' } });
    expect('recentFailures' in finding && finding.recentFailures.map((r) => r.runId)).toEqual(['r2']);
    expect(judgeRuns('etl', [], '2026-06-01T00:00:00Z')).toMatchObject({ failing: false });
  });
});

describe('settling an upload delivery', () => {
  const ok = (id: string): UploadOutcome => ({ id, dagId: 'd', runId: `s3__${id}`, alreadyTriggered: false });
  const bad = (id: string, error: AirkickError): UploadOutcome => ({ ...ok(id), error });
  const down = () =>
    new AirkickError('TRANSPORT', 'network error: connect ECONNREFUSED', { retryable: true });
  const noDag = () => new AirkickError('NOT_FOUND', 'DAG not found: nope');
  const noRule = () => new AirkickError('BAD_REQUEST', 'no upload rule matches s3://b/k');

  it('labels what a retry cannot fix as permanent, and auth, 5xx and network failures as retryable', () => {
    expect(
      [noDag(), noRule(), new AirkickError('REDIRECT', 'x'), new AirkickError('CONFIG', 'x')].map(
        isPermanent,
      ),
    ).toEqual([true, true, true, true]);
    expect(
      [down(), new AirkickError('AUTH', 'x'), new AirkickError('SERVER', 'x'), new Error('x')].map(
        isPermanent,
      ),
    ).toEqual([false, false, false, false]);
  });

  it('SQS: reports every failed message, permanent ones too, once per message', () => {
    const summary = summarize([ok('m1'), bad('m2', noDag()), bad('m3', down()), bad('m3', down())]);
    expect(summary).toMatchObject({ failedIds: ['m2', 'm3'], retryableIds: ['m3'], outage: false });
    expect(settleUploads(summary, true)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }],
    });
  });

  it('SQS: a message with one object through and one failed is reported whole', () => {
    expect(settleUploads(summarize([ok('m1'), bad('m1', down()), ok('m2')]), true)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm1' }],
    });
  });

  it('SQS: nothing through and something retryable fails the invocation, naming the records and the cause', () => {
    const summary = summarize([bad('m1', down()), bad('m2', noRule())]);
    expect(summary.outage).toBe(true);
    expect(() => settleUploads(summary, true)).toThrow(
      /^on-upload: 1 of 2 records failed and will be retried \(m1\): network error: connect ECONNREFUSED/,
    );
    // Only permanent failures: the batch is answered (the DLQ takes them), the invocation succeeds.
    expect(settleUploads(summarize([bad('m1', noRule())]), true)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm1' }],
    });
  });

  it('direct events: a permanent failure is acknowledged, a retryable one fails the invocation', () => {
    expect(settleUploads(summarize([ok('Records[0]'), bad('Records[1]', noRule())]), false)).toEqual({
      triggered: 1,
      permanentFailures: 1,
    });
    expect(() => settleUploads(summarize([ok('Records[0]'), bad('Records[1]', down())]), false)).toThrow(
      expect.objectContaining({ code: 'TRANSPORT', retryable: true }),
    );
  });

  it('an empty delivery (an S3 test event) is no outage', () => {
    expect(settleUploads(summarize([]), true)).toEqual({ batchItemFailures: [] });
  });
});
