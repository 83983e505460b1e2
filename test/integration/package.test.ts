/**
 * airkick as a user installs it: the packed tarball installed into fresh projects outside this
 * repository (no dev dependencies, no tsx), used from plain Node as ESM and as CommonJS against the
 * real Airflow of this project (2 or 3), the installed `airkick` bin on Node 20 and 22, and the first
 * error a user meets when an optional cloud peer is missing.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Consumer, installConsumer, ROOT } from '#test/support/package.ts';
import { airflowApi, apiOf, startTarget, type Target } from '#test/support/targets.ts';
import { nodeRuntime } from '../../bench/support/node-runtimes.ts';

const exec = promisify(execFile);
const airflow = inject('airflow');
const tarball = inject('tarball');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'consumers');

let esm: Consumer;
let cjs: Consumer;
let selfHosted: Target;
let mwaa: Target;
let node22: string;

interface ConsumerOutput {
  triggered: { runId: string; state: string; conf: Record<string, unknown> };
  read: { runId: string; dagId: string; conf: Record<string, unknown> };
  error: { code: string; isAirkickError: boolean; instanceOf: boolean; message: string };
  api: string;
}

/** Runs a script of a consumer project with only the given environment (no AIRKICK_* leaking in). */
async function run(node: string, script: string, env: Record<string, string>, cwd: string) {
  const { stdout } = await exec(node, [script], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, ...env },
    timeout: 90_000,
  });
  return stdout;
}

beforeAll(async () => {
  const runtime = nodeRuntime(22, () => {});
  if (runtime.fallback) throw new Error(`Node 22 is needed for this suite: ${runtime.fallback}`);
  node22 = runtime.path;
  [esm, cjs, selfHosted, mwaa] = await Promise.all([
    installConsumer(tarball, { type: 'module' }),
    installConsumer(tarball, { type: 'commonjs' }),
    startTarget('self-hosted', airflow),
    startTarget('mwaa', airflow),
  ]);
  await Promise.all([
    copyFile(path.join(FIXTURES, 'consumer.mjs'), path.join(esm.dir, 'consumer.mjs')),
    copyFile(path.join(FIXTURES, 'missing-peer.mjs'), path.join(esm.dir, 'missing-peer.mjs')),
    copyFile(path.join(FIXTURES, 'consumer.cjs'), path.join(cjs.dir, 'consumer.cjs')),
  ]);
}, 240_000);

afterAll(async () => {
  await Promise.all([esm?.remove(), cjs?.remove(), mwaa?.stop()]);
});

async function expectConsumerRun(output: string, runId: string, consumer: 'esm' | 'cjs') {
  const result = JSON.parse(output) as ConsumerOutput;
  expect(result.triggered).toMatchObject({ runId, conf: { consumer, runId } });
  expect(result.read).toMatchObject({ dagId: 'airkick_conf', runId, conf: { consumer, runId } });
  expect(result.error).toMatchObject({ code: 'NOT_FOUND', isAirkickError: true, instanceOf: true });
  expect(result.error.message).toContain('airkick_no_such_dag');
  expect(result.api).toBe(apiOf(airflow));
  // Airflow itself holds the run the consumer made.
  const stored = await airflowApi(airflow, `/dags/airkick_conf/dagRuns/${runId}`);
  expect(stored.status).toBe(200);
  expect(stored.body.conf).toEqual({ consumer, runId });
}

describe('the installed tarball, from plain Node', () => {
  const env = () => ({ AIRKICK_ENV: selfHosted.environment, AIRKICK_AIRFLOW_PASSWORD: airflow.password });

  it('installs without tsx or any other package', async () => {
    for (const consumer of [esm, cjs]) {
      const installed = (await readdir(path.join(consumer.dir, 'node_modules'))).filter(
        (n) => !n.startsWith('.'),
      );
      expect(installed).toEqual(['airkick']);
    }
  });

  it('an ESM consumer imports it, triggers and reads a run and branches on a typed error (Node 20)', async () => {
    const runId = `esm-${randomUUID().slice(0, 8)}`;
    const out = await run(process.execPath, 'consumer.mjs', { ...env(), RUN_ID: runId }, esm.dir);
    await expectConsumerRun(out, runId, 'esm');
  });

  it('the same ESM consumer on Node 22', async () => {
    const runId = `esm22-${randomUUID().slice(0, 8)}`;
    const out = await run(node22, 'consumer.mjs', { ...env(), RUN_ID: runId }, esm.dir);
    await expectConsumerRun(out, runId, 'esm');
  });

  it('a CommonJS consumer requires it and does the same', async () => {
    const runId = `cjs-${randomUUID().slice(0, 8)}`;
    const out = await run(process.execPath, 'consumer.cjs', { ...env(), RUN_ID: runId }, cjs.dir);
    await expectConsumerRun(out, runId, 'cjs');
  });

  it('airkick/mwaa without its optional peers imports, and its first call names what to install', async () => {
    const out = JSON.parse(await run(process.execPath, 'missing-peer.mjs', {}, esm.dir)) as {
      error: { code: string; isAirkickError: boolean; message: string } | null;
    };
    expect(out.error).toMatchObject({ code: 'CONFIG', isAirkickError: true });
    expect(out.error?.message).toMatch(
      /^airkick\/mwaa \(SigV4 for the MWAA control plane\) needs the package @(smithy|aws-sdk)\/\S+, which is not installed: npm install @smithy\/signature-v4 @smithy\/protocol-http @aws-sdk\/util-endpoints$/,
    );
  });

  it('an MWAA consumer with the peers installed triggers through the MWAA control plane', async () => {
    // The consumer the global setup installed inside this repository resolves the peers (dev
    // dependencies here) as a user's project that installed them would.
    const dir = path.resolve(inject('cliBin'), '..', '..', '..');
    await copyFile(path.join(FIXTURES, 'consumer.mjs'), path.join(dir, 'consumer.mjs'));
    const runId = `mwaa-${randomUUID().slice(0, 8)}`;
    const out = await run(
      process.execPath,
      'consumer.mjs',
      {
        AIRKICK_ENV: mwaa.environment,
        PROVIDER: 'mwaa',
        RUN_ID: runId,
        AWS_ACCESS_KEY_ID: 'AKIDAIRKICKEMULATOR',
        AWS_SECRET_ACCESS_KEY: 'airkick-emulator-secret-key-not-a-real-one',
      },
      dir,
    );
    await expectConsumerRun(out, runId, 'esm');
    expect(mwaa.counts()).toMatchObject({ restapi: expect.any(Number) });
  });
});

describe('the installed airkick bin, without tsx', () => {
  const cli = async (node: string, args: string[], env: Record<string, string> = {}) => {
    try {
      const { stdout, stderr } = await exec(node, [esm.bin, ...args], {
        env: { PATH: process.env.PATH ?? '', HOME: esm.dir, NO_COLOR: '1', ...env },
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it.each([
    ['Node 20', () => process.execPath],
    ['Node 22', () => node22],
  ])('prints help for itself and every subcommand, and checks health (%s)', async (_name, node) => {
    const help = await cli(node(), ['--help']);
    expect(help.code).toBe(0);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1] as string);
    expect(commands).toEqual([
      'trigger',
      'runs',
      'health',
      'asset-event',
      'asset-events',
      'cli',
      'clean',
      'invoke',
    ]);
    for (const command of commands) {
      const own = await cli(node(), [command, '--help']);
      expect(own.code, command).toBe(0);
      expect(own.stdout, command).toMatch(new RegExp(`^Usage: airkick ${command} `));
    }
    const health = await cli(node(), ['health', '--json'], {
      AIRKICK_ENV: selfHosted.environment,
      AIRKICK_AIRFLOW_PASSWORD: airflow.password,
    });
    expect(health.stderr).toBe('');
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ healthy: true });
  });

  it('says which package to install when a provider needs a missing peer (exit 3)', async () => {
    const result = await cli(
      process.execPath,
      ['health', '--env', 'mwaa://etl?region=eu-west-1&auth=session'],
      {
        AWS_ACCESS_KEY_ID: 'AKIDAIRKICKEMULATOR',
        AWS_SECRET_ACCESS_KEY: 'not-a-real-secret-key',
      },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^error \[CONFIG\]: airkick\/mwaa .* npm install @smithy\/signature-v4 /);
    expect(result.stderr).not.toContain('not-a-real-secret-key');
  });
});
