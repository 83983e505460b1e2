/**
 * Bundles every function for both clouds: `dist/<cloud>/<name>/index.js` (CommonJS, minified, every
 * dependency inlined), `dist/<cloud>/<name>.meta.json` (esbuild metafile, read by the deploy test to
 * prove an FC bundle holds no `@aws-sdk/*` and a Lambda bundle no `@alicloud/*`) and, for Lambda,
 * `dist/aws/<name>.zip` (the osls artifact). Metafiles and zips sit beside the code folders, not in
 * them, because Serverless Devs uploads `dist/aliyun/<name>` whole.
 *
 * @example npm run build                      # all functions, both clouds
 * @example npx tsx build.ts --sourcemap       # adds external index.js.map files (not zipped)
 * @example npx tsx build.ts --root /tmp/x --outdir /tmp/x/dist trigger-dag
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Metafile, type Plugin } from 'esbuild';
import { zipSync } from 'fflate';

import { CLOUDS, type Cloud, FUNCTION_NAMES } from '#lib/host/names.ts';

/** Packages that must never reach the other cloud's bundle (matched against metafile input paths). */
export const FOREIGN_PACKAGES: Record<Cloud, RegExp> = {
  aws: /(^|\/)node_modules\/@alicloud\//,
  aliyun: /(^|\/)node_modules\/(@aws-sdk|@aws-lambda-powertools\/parameters)\//,
};

/** Import specifiers of the other cloud's integrations. */
const FOREIGN_SPECIFIERS: Record<Cloud, RegExp> = {
  aws: /^@alicloud\//,
  aliyun: /^(@aws-sdk\/|@aws-lambda-powertools\/parameters(\/|$))/,
};

export interface BuildOptions {
  /** Project root holding `functions/` and `package.json`. */
  root: string;
  /** Output folder; `<root>/dist` by default. */
  outdir?: string;
  /** Functions to build; all of them by default. */
  names?: readonly string[];
  /** Write external source maps beside each bundle. */
  sourcemap?: boolean;
}

export interface BundleReport {
  name: string;
  cloud: Cloud;
  entry: string;
  file: string;
  bytes: number;
  metafile: string;
  /** Lambda only. */
  zip?: string;
  zipBytes?: number;
  /** Inputs from packages that belong to the other cloud; empty when the bundle is clean. */
  foreign: string[];
}

// A fixed timestamp keeps the zips byte-identical across builds, so osls sees no code change
// (and deploys no new function version) when nothing changed.
const ZIP_MTIME = new Date('2020-01-01T00:00:00Z');

export async function buildAll(options: BuildOptions): Promise<BundleReport[]> {
  const root = path.resolve(options.root);
  const outdir = path.resolve(options.outdir ?? path.join(root, 'dist'));
  const names = options.names?.length ? options.names : FUNCTION_NAMES;
  const jobs: { name: string; cloud: Cloud; entry: string }[] = [];
  const missing: string[] = [];
  for (const name of names) {
    for (const cloud of CLOUDS) {
      const entry = path.join(root, 'functions', name, `${cloud}.ts`);
      if (existsSync(entry)) jobs.push({ name, cloud, entry });
      else missing.push(path.relative(root, entry));
    }
  }
  if (missing.length > 0) throw new Error(`build: missing handler entry points: ${missing.join(', ')}`);
  return Promise.all(
    jobs.map((job) => bundle({ ...job, root, outdir, sourcemap: options.sourcemap ?? false })),
  );
}

async function bundle(job: {
  name: string;
  cloud: Cloud;
  entry: string;
  root: string;
  outdir: string;
  sourcemap: boolean;
}): Promise<BundleReport> {
  const dir = path.join(job.outdir, job.cloud, job.name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'index.js');
  const result = await build({
    absWorkingDir: job.root,
    entryPoints: [job.entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node20',
    // CommonJS runs unchanged on Lambda nodejs22.x and FC nodejs20 with `index.handler`, without a
    // package.json "type" beside it. The price: no top-level await in handlers or what they import.
    format: 'cjs',
    // ESM builds of the AWS SDK and Powertools tree-shake better than their CommonJS ones.
    mainFields: ['module', 'main'],
    minify: true,
    // No log or error relies on a function's or class's `name` (AirkickError and the SDK errors set
    // `name` explicitly); keeping them costs 6-9% of the bundle's evaluation at every cold start.
    keepNames: false,
    legalComments: 'none',
    sourcemap: job.sourcemap ? 'external' : false,
    metafile: true,
    logLevel: 'warning',
    plugins: [optionalForeignIntegrations(job.cloud)],
    // Loaded only when a secret is given as an ssm:/secretsmanager: reference, the alert state is a
    // DynamoDB table, an SNS topic is an alert channel or no keys are in the environment, and shipped
    // with the Lambda nodejs22.x runtime's AWS SDK: bundling them would add ~250 KB (SSM, Secrets
    // Manager), ~400 KB (DynamoDB) and more to every function.
    external: job.cloud === 'aws' ? RUNTIME_PROVIDED_ON_LAMBDA : [],
  });
  // The repository's package.json says "type": "module"; this one keeps index.js CommonJS when the
  // folder is loaded from inside the repository (tests, `s local invoke`) and travels with the code.
  const manifest = JSON.stringify({ type: 'commonjs', private: true });
  await writeFile(path.join(dir, 'package.json'), `${manifest}\n`);
  const metafile = path.join(job.outdir, job.cloud, `${job.name}.meta.json`);
  await writeFile(metafile, JSON.stringify(result.metafile));
  const code = await readFile(file);
  const report: BundleReport = {
    name: job.name,
    cloud: job.cloud,
    entry: path.relative(job.root, job.entry),
    file,
    bytes: code.byteLength,
    metafile,
    foreign: foreignInputs(result.metafile, job.cloud),
  };
  if (job.cloud === 'aws') {
    const zip = path.join(job.outdir, job.cloud, `${job.name}.zip`);
    // 0o644 regular files made on Unix: Lambda extracts them readable whatever the builder's umask.
    const entry = { mtime: ZIP_MTIME, os: 3, attrs: (0o100644 << 16) >>> 0 };
    const archive = zipSync(
      {
        'index.js': [code, entry],
        'package.json': [Buffer.from(`${manifest}\n`), entry],
      },
      { level: 9 },
    );
    await writeFile(zip, archive);
    report.zip = zip;
    report.zipBytes = (await stat(zip)).size;
  }
  return report;
}

/**
 * Shared code reaches cloud-specific integrations (the SNS channel, SSM/Secrets Manager references)
 * through `await import(...)`, so they stay optional. In the other cloud's bundle such a dynamic
 * import resolves to a stub that rejects with a clear message instead of carrying the SDK along. A
 * static import is not touched: it pulls the SDK in, `foreignInputs` reports it and the build fails.
 */
const RUNTIME_PROVIDED_ON_LAMBDA = [
  '@aws-sdk/client-ssm',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-dynamodb',
  // The SNS alert channel, and the default credential chain MWAA calls need only when the
  // environment holds no keys (Lambda always sets them).
  '@aws-sdk/client-sns',
  '@aws-sdk/credential-providers',
];

function optionalForeignIntegrations(cloud: Cloud): Plugin {
  const namespace = 'airkick-unavailable';
  return {
    name: 'airkick-optional-foreign-integrations',
    setup(plugin) {
      plugin.onResolve({ filter: FOREIGN_SPECIFIERS[cloud] }, (args) =>
        args.kind === 'dynamic-import' ? { path: args.path, namespace } : undefined,
      );
      plugin.onLoad({ filter: /.*/, namespace }, (args) => ({
        contents: `throw new Error(${JSON.stringify(
          `${args.path} is not part of the ${cloud === 'aws' ? 'AWS Lambda' : 'Function Compute'} bundle: this configuration needs the other cloud`,
        )});`,
        loader: 'js',
      }));
    },
  };
}

/** Metafile inputs that come from the other cloud's SDK packages. */
export function foreignInputs(metafile: Metafile, cloud: Cloud): string[] {
  return Object.keys(metafile.inputs).filter((input) => FOREIGN_PACKAGES[cloud].test(input));
}

export function formatTable(reports: readonly BundleReport[]): string {
  const kb = (n: number | undefined) => (n === undefined ? '-' : `${(n / 1024).toFixed(1)} KiB`);
  const rows = [...reports]
    .sort((a, b) => a.cloud.localeCompare(b.cloud) || a.name.localeCompare(b.name))
    .map((r) => [
      r.cloud,
      r.name,
      kb(r.bytes),
      kb(r.zipBytes),
      r.foreign.length === 0 ? 'ok' : 'FOREIGN SDK',
    ]);
  const header = ['cloud', 'function', 'index.js', 'zip', 'sdk check'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      root: { type: 'string' },
      outdir: { type: 'string' },
      sourcemap: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const root = values.root ?? path.dirname(fileURLToPath(import.meta.url));
  const started = Date.now();
  const reports = await buildAll({
    root,
    names: positionals,
    sourcemap: values.sourcemap,
    ...(values.outdir === undefined ? {} : { outdir: values.outdir }),
  });
  console.log(formatTable(reports));
  console.log(`\n${reports.length} bundles in ${Date.now() - started} ms`);
  const leaks = reports.filter((r) => r.foreign.length > 0);
  for (const r of leaks) {
    console.error(`${r.cloud}/${r.name} bundles the other cloud's SDK: ${r.foreign.slice(0, 5).join(', ')}`);
  }
  if (leaks.length > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
