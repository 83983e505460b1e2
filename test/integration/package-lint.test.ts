/**
 * The packed tarball as a registry would see it (contents, package.json, publint, attw), its
 * declarations as a TypeScript user's compiler sees them (moduleResolution node16 and bundler), and a
 * user's own Lambda handler bundled with esbuild from it. Independent of the Airflow version, so it
 * runs in the airflow-2 project only; the bundled handler triggers a run on that Airflow.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Consumer, installConsumer, packageFiles, ROOT } from '#test/support/package.ts';
import { airflowApi, startTarget } from '#test/support/targets.ts';

const exec = promisify(execFile);
const airflow = inject('airflow');
const tarball = inject('tarball');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'consumers');
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);

let consumer: Consumer;
let files: string[];
let manifest: Record<string, unknown>;

/** Exit code and output of a command, failing or not. */
async function outcome(file: string, args: string[], cwd = ROOT) {
  try {
    const { stdout, stderr } = await exec(file, args, { cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: `${e.stdout}${e.stderr}` };
  }
}

beforeAll(async () => {
  consumer = await installConsumer(tarball, { type: 'module' });
  files = await packageFiles(consumer.installed);
  manifest = JSON.parse(await readFile(path.join(consumer.installed, 'package.json'), 'utf8'));
}, 180_000);

afterAll(async () => {
  await consumer?.remove();
});

describe('the tarball', () => {
  it('holds the built code, README, licence and changelog, and no sources, tests, benchmarks or fixtures', () => {
    const outside = files.filter(
      (f) =>
        !/^dist\/(lib|cli)\/[^/]+\.(mjs|cjs|d\.mts|d\.cts)$/.test(f) &&
        !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(f),
    );
    expect(outside).toEqual([]);
    for (const name of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/cli/airkick.mjs']) {
      expect(files).toContain(name);
    }
    expect(files.filter((f) => /(^|\/)(test|bench|fixtures)\//.test(f))).toEqual([]);
  });

  it('declares every entry point with types, import and require, no runtime dependencies and only optional peers', async () => {
    expect(manifest.private).toBeUndefined();
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.dependencies ?? {}).toEqual({});
    const exports = manifest.exports as Record<string, Record<string, Record<string, string>> | string>;
    for (const entry of ['.', './mwaa', './dms']) {
      const conditions = exports[entry] as Record<string, Record<string, string>>;
      for (const [condition, types, code] of [
        ['import', /\.d\.mts$/, /\.mjs$/],
        ['require', /\.d\.cts$/, /\.cjs$/],
      ] as const) {
        expect(conditions[condition]?.types, `${entry} ${condition}`).toMatch(types);
        expect(conditions[condition]?.default, `${entry} ${condition}`).toMatch(code);
        expect(files).toContain(conditions[condition]?.default?.replace(/^\.\//, ''));
      }
    }
    const peers = Object.keys(manifest.peerDependencies as object);
    const meta = manifest.peerDependenciesMeta as Record<string, { optional?: boolean }>;
    expect(peers.filter((p) => meta[p]?.optional !== true)).toEqual([]);
    expect(peers).toEqual(expect.arrayContaining(['@smithy/signature-v4', '@alicloud/credentials']));
    const cli = await readFile(path.join(consumer.installed, 'dist/cli/airkick.mjs'), 'utf8');
    expect(cli.split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('passes publint (strict) and @arethetypeswrong/cli with no problem', async () => {
    const publint = await outcome(bin('publint'), ['run', tarball, '--strict']);
    expect(publint.output).toContain('All good!');
    expect(publint.code).toBe(0);
    const attw = await outcome(bin('attw'), [tarball, '--format', 'json']);
    const report = JSON.parse(attw.output.slice(attw.output.indexOf('{'))) as {
      analysis: { problems: unknown[] };
    };
    expect(report.analysis.problems).toEqual([]);
    expect(attw.code).toBe(0);
  });
});

describe('a TypeScript consumer', () => {
  beforeAll(async () => {
    await copyFile(path.join(FIXTURES, 'consumer.ts'), path.join(consumer.dir, 'consumer.ts'));
    await mkdir(path.join(consumer.dir, 'node_modules', '@types'), { recursive: true });
    await symlink(
      path.join(ROOT, 'node_modules', '@types', 'node'),
      path.join(consumer.dir, 'node_modules', '@types', 'node'),
    ).catch(() => {});
  });

  it.each([
    ['node16', { module: 'node16', moduleResolution: 'node16' }],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler' }],
  ])('type-checks against the declarations with moduleResolution %s', async (name, resolution) => {
    const tsconfig = path.join(consumer.dir, `tsconfig.${name}.json`);
    await writeFile(
      tsconfig,
      JSON.stringify({
        compilerOptions: {
          ...resolution,
          target: 'ES2022',
          lib: ['ES2023'],
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = await outcome(process.execPath, [
      path.join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      tsconfig,
    ]);
    expect(tsc.output).toBe('');
    expect(tsc.code).toBe(0);
  });

  it('fails to compile when the code misuses the API (the declarations are not any)', async () => {
    const broken = path.join(consumer.dir, 'broken.ts');
    await writeFile(
      broken,
      "import { createAirflowClient } from 'airkick';\ncreateAirflowClient('https://h', { providers: {} }).triggerDagRun({ dag: 'x' });\n",
    );
    const tsc = await outcome(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/typescript/bin/tsc'),
        '--noEmit',
        '--strict',
        '--module',
        'node16',
        '--moduleResolution',
        'node16',
        '--types',
        'node',
        broken,
      ],
      consumer.dir,
    );
    expect(tsc.code).not.toBe(0);
    expect(tsc.output).toMatch(/broken\.ts\(2,\d+\): error TS2353: .*'dag'/);
  });
});

describe("a user's Lambda handler bundled with esbuild from the package", () => {
  it('carries no cloud SDK, reports its size and triggers a run', async () => {
    await copyFile(path.join(FIXTURES, 'handler.mjs'), path.join(consumer.dir, 'handler.mjs'));
    const outfile = path.join(consumer.dir, 'out', 'index.cjs');
    const result = await build({
      entryPoints: [path.join(consumer.dir, 'handler.mjs')],
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      minify: true,
      outfile,
      metafile: true,
      absWorkingDir: consumer.dir,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((i) => /@(aws-sdk|smithy|alicloud|aws-lambda-powertools)\//.test(i))).toEqual([]);
    expect(inputs.some((i) => i.includes('node_modules/airkick/dist/lib/'))).toBe(true);
    const bytes = (await stat(outfile)).size;
    console.log(`consumer handler importing airkick core: ${(bytes / 1024).toFixed(1)} KiB minified`);

    const target = await startTarget('self-hosted', airflow);
    process.env.AIRKICK_ENV = target.environment;
    process.env.AIRKICK_AIRFLOW_PASSWORD = airflow.password;
    try {
      const { handler } = createRequire(import.meta.url)(outfile) as {
        handler: (event: unknown, context: unknown) => Promise<Record<string, unknown>>;
      };
      const runId = `bundle-${randomUUID().slice(0, 8)}`;
      const context = { getRemainingTimeInMillis: () => 30_000 };
      expect(await handler({ dagId: 'airkick_conf', runId, conf: { n: 1 } }, context)).toMatchObject({
        ok: true,
        runId,
        alreadyTriggered: false,
      });
      expect(await handler({ dagId: 'airkick_conf', runId }, context)).toMatchObject({
        alreadyTriggered: true,
      });
      expect(await handler({ dagId: 'airkick_missing' }, context)).toEqual({
        ok: false,
        code: 'NOT_FOUND',
        retryable: false,
      });
      expect((await airflowApi(airflow, `/dags/airkick_conf/dagRuns/${runId}`)).body.conf).toEqual({ n: 1 });
    } finally {
      delete process.env.AIRKICK_ENV;
      delete process.env.AIRKICK_AIRFLOW_PASSWORD;
    }
  });
});
