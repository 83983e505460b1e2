import { describe, expect, it } from 'vitest';
import { formatLogLine } from '#cli/local/log-format.ts';
import { formatTable, Output, paint, shortTime, visibleWidth } from '#cli/output.ts';

const sink = (isTTY: boolean) => {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (c: string) => chunks.push(c) } };
};

describe('tables', () => {
  it('aligns columns by their visible width, colour codes and wide characters included', () => {
    const table = formatTable(
      ['RUN ID', 'STATE'],
      [
        ['manual__1', paint('green', 'success', true)],
        ['日本', 'failed'],
      ],
    );
    const lines = table.split('\n');
    expect(lines[0]).toBe('RUN ID     STATE');
    expect(lines[1]).toBe(`manual__1  ${paint('green', 'success', true)}`);
    expect(lines[2]).toBe('日本         failed');
    expect(lines.map((l) => visibleWidth(l.slice(0, 11)))).toEqual([11, 11, 11]);
  });

  it('colours only on a terminal, never in --json mode or with NO_COLOR', () => {
    const tty = sink(true);
    new Output({ stdout: tty.stream, stderr: tty.stream, env: {} }, false).line(
      new Output({ stdout: tty.stream, stderr: tty.stream, env: {} }, false).state('failed'),
    );
    expect(tty.chunks.join('')).toBe('\u001b[31mfailed\u001b[39m\n');
    const pipe = sink(false);
    expect(new Output({ stdout: pipe.stream, stderr: pipe.stream, env: {} }, false).state('failed')).toBe(
      'failed',
    );
    expect(new Output({ stdout: tty.stream, stderr: tty.stream, env: {} }, true).color).toBe(false);
    expect(new Output({ stdout: tty.stream, stderr: tty.stream, env: { NO_COLOR: '1' } }, false).color).toBe(
      false,
    );
  });

  it('shows a spinner on a terminal stderr only, and clears it', async () => {
    const err = sink(true);
    const out = new Output({ stdout: sink(false).stream, stderr: err.stream, env: {} }, false);
    expect(await out.spin('working', Promise.resolve(42))).toBe(42);
    expect(err.chunks[0]).toMatch(/^\r. working$/);
    expect(err.chunks.at(-1)).toMatch(/^\r +\r$/);
    const quiet = sink(false);
    await new Output({ stdout: quiet.stream, stderr: quiet.stream, env: {} }, false).spin(
      'x',
      Promise.resolve(),
    );
    expect(quiet.chunks).toEqual([]);
  });

  it('prints times in UTC, seconds precision', () => {
    expect(shortTime('2026-11-21T06:00:00.123456+00:00')).toBe('2026-11-21 06:00:00Z');
    expect(shortTime(null)).toBe('-');
  });
});

describe('the npm start log formatter', () => {
  it('turns a Powertools line into time, level, function, message, dag and run', () => {
    const line = JSON.stringify({
      level: 'INFO',
      message: 'DAG run triggered',
      timestamp: '2026-11-21T06:03:13.123Z',
      service: 'airkick',
      function: 'trigger-dag',
      cold_start: true,
      dag_id: 'etl',
      run_id: 'airkick__20261121T060313Z',
    });
    expect(formatLogLine(line, false)).toBe(
      '06:03:13  INFO   trigger-dag   DAG run triggered  dag=etl  run=airkick__20261121T060313Z',
    );
  });

  it('shows alerts and errors, drops metric blobs and leaves other lines alone', () => {
    const alert = JSON.stringify({
      level: 'WARN',
      message: 'No alert channel is configured; the alert is only logged',
      timestamp: '2026-11-21T06:00:00Z',
      function: 'health-check',
      alert: { title: 'Airflow unhealthy: local', summary: 'scheduler is unhealthy' },
    });
    expect(formatLogLine(alert, false)).toContain('alert="Airflow unhealthy: local: scheduler is unhealthy"');
    const error = JSON.stringify({
      level: 'ERROR',
      message: 'invocation failed',
      function: 'on-upload',
      error: { name: 'AirkickError', message: 'no rule matches' },
    });
    expect(formatLogLine(error, false)).toMatch(
      /ERROR {2}on-upload +invocation failed {2}error=no rule matches$/,
    );
    expect(formatLogLine(JSON.stringify({ _aws: { Timestamp: 1 }, Healthy: 1 }), false)).toBeNull();
    expect(formatLogLine('plain text', false)).toBeUndefined();
    expect(formatLogLine('{"not": "a log line"}', false)).toBeUndefined();
  });
});
