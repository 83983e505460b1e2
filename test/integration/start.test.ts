/**
 * `npm start` smoke test: cli/start.ts as a child process pointed at the running test Airflow
 * (--env, so no second Airflow starts), checked in Airflow over REST: a scheduled run, a dropped
 * file's run, a file under landing/'s asset event; then Ctrl-C.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { storedAssetEvents } from '#test/support/airflow-rest.ts';
import { airflowApi, startTarget } from '#test/support/targets.ts';

const airflow = inject('airflow');
const ROOT = join(import.meta.dirname, '..', '..');

interface LogLine {
  level: string;
  message: string;
  function?: string;
  dag_id?: string;
  run_id?: string;
  asset?: string;
  event?: string;
}

let child: ChildProcess | undefined;
afterAll(() => {
  if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
});

/** Ids of the processes still in a process group. */
function groupMembers(pgid: number): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '-g', String(pgid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  } catch {
    return []; // ps exits 1 when nothing matches
  }
}

describe('npm start', () => {
  it('triggers on its schedule and on a dropped file, and Ctrl-C leaves nothing running', async () => {
    const target = await startTarget('self-hosted', airflow);
    const uploads = mkdtempSync(join(tmpdir(), 'airkick-start-uploads-'));
    // Own process group, as a terminal gives a foreground job, so Ctrl-C can go to the whole group.
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'cli/start.ts', '--env', target.environment, '--uploads', uploads],
      {
        cwd: ROOT,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          AIRKICK_AIRFLOW_PASSWORD: airflow.password,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
    );
    const pgid = child.pid as number;
    const lines: LogLine[] = [];
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d;
      const parts = stdout.split('\n');
      stdout = parts.pop() ?? '';
      for (const part of parts) lines.push(JSON.parse(part) as LogLine); // off a terminal: JSON lines only
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));
    const waitFor = async (what: string, match: (l: LogLine) => boolean): Promise<LogLine> => {
      for (let i = 0; i < 600; i++) {
        const found = lines.find(match);
        if (found) return found;
        if (child?.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no "${what}" log line; stderr: ${stderr}\nstdout: ${JSON.stringify(lines, null, 1)}`);
    };

    // The first tick of trigger-dag comes right after start, through the Lambda handler.
    const triggered = await waitFor(
      'DAG run triggered',
      (l) => l.function === 'trigger-dag' && l.message === 'DAG run triggered',
    );
    expect(triggered.run_id).toMatch(/^airkick__\d{8}T\d{4}(\d\d)?Z$/);
    const scheduled = await airflowApi(airflow, `/dags/airkick_conf/dagRuns/${triggered.run_id}`);
    expect(scheduled.status).toBe(200);
    expect(scheduled.body.conf).toMatchObject({ source: 'npm start' });
    await waitFor('healthy', (l) => l.function === 'health-check' && l.message === 'healthy');
    const next = await waitFor('next health check', (l) => l.message.startsWith('health-check: cron'));
    expect(next.message).toMatch(
      /^health-check: cron\(0\/5 \* \* \* \? \*\), next at \d{4}-.*T\d\d:\d[05]:00\.000Z$/,
    );
    // A self-hosted environment has no CLI endpoint: db-clean says so instead of failing weekly.
    const skipped = await waitFor('db-clean skipped', (l) => l.message.startsWith('db-clean is skipped'));
    expect(skipped.level).toBe('WARN');

    // A file dropped in the folder becomes an S3 notification for on-upload.
    const name = `drop ${Date.now()}.csv`;
    writeFileSync(join(uploads, name), 'a,b\n1,2\n');
    const uploaded = await waitFor(
      'upload triggered',
      (l) => l.function === 'on-upload' && l.message === 'upload triggered',
    );
    const run = await airflowApi(airflow, `/dags/airkick_conf/dagRuns/${uploaded.run_id}`);
    expect(run.status).toBe(200);
    expect(run.body.conf).toMatchObject({ bucket: 'local', key: name, size: 8, source: 's3' });

    // Under landing/, the example rule raises an asset event instead (airkick_on_asset runs on it).
    mkdirSync(join(uploads, 'landing'));
    writeFileSync(join(uploads, 'landing', name), 'a,b\n3,4\n5,6\n');
    const raised = await waitFor(
      'upload event raised',
      (l) => l.function === 'on-upload' && l.message === 'upload event raised',
    );
    expect(raised.asset).toBe('s3://airkick-assets/landing');
    const stored = (await storedAssetEvents(airflow, 'order_by=-timestamp&limit=100')).filter(
      (e) => e.extra.airkick_event === raised.event,
    );
    expect(stored.map((e) => e.extra)).toEqual([
      expect.objectContaining({ bucket: 'local', key: `landing/${name}`, size: 12, source_folder: 'local' }),
    ]);

    expect(groupMembers(pgid)).toContain(String(pgid));
    process.kill(-pgid, 'SIGINT');
    expect(await exited).toBe(0);
    expect(lines.at(-1)?.message).toBe('stopped');
    // Helpers such as tsx's esbuild service end right after their parent: give them a moment.
    for (let i = 0; i < 50 && groupMembers(pgid).length > 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(groupMembers(pgid)).toEqual([]);
    expect(stderr).toBe('');
  });
});
