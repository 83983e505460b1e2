/**
 * Cold start per function and cloud: the minified bundle size, and the time a fresh `node` process
 * takes to load the bundle (`require`) and to load it and answer one event (`invoke`), next to a bare
 * `node -e ''`. Runs are interleaved (bare, then every bundle) so machine noise hits all alike.
 */
import { statSync } from 'node:fs';
import {
  type BundleEnvironments,
  bareNode,
  bundlePath,
  CLOUDS,
  type Cloud,
  FUNCTIONS,
  type FunctionName,
  type ProcessRun,
  runBundle,
} from './support/bundles.ts';
import { kib, median, ms, ratio, round, table, verdict } from './support/stats.ts';

export const MAX_BUNDLE_BYTES = 1024 * 1024;
export const MAX_INIT_RATIO = 1.5;

export interface ColdStartRow {
  cloud: Cloud;
  name: FunctionName;
  bytes: number;
  /** Median wall time of a process that only loads the bundle. */
  initMs: number;
  initRatio: number;
  /** Median wall time of a process that loads the bundle and answers one event. */
  answerMs: number;
  answerRatio: number;
  /** Median in-process time from start-up to the module loaded (the runner's own view). */
  loadedMs: number;
  errors: string[];
}

export interface ColdStartResult {
  runs: number;
  bareMs: number;
  rows: ColdStartRow[];
}

const inProcess = (run: ProcessRun, field: 'loadedMs' | 'answeredMs'): number =>
  run.result?.[field] ?? Number.NaN;

export async function coldStart(
  root: string,
  environments: BundleEnvironments,
  runs: number,
  log: (line: string) => void,
): Promise<ColdStartResult> {
  const bundles = CLOUDS.flatMap((cloud) => FUNCTIONS.map((name) => ({ cloud, name })));
  const samples = new Map<string, { require: ProcessRun[]; invoke: ProcessRun[] }>(
    bundles.map((b) => [`${b.cloud}/${b.name}`, { require: [], invoke: [] }]),
  );
  const bare: ProcessRun[] = [];
  // One unmeasured pass warms the file cache and the emulators' sockets.
  await bareNode();
  for (const b of bundles) await runBundle(root, b.cloud, b.name, 'require', environments);
  for (let run = 1; run <= runs; run++) {
    log(`cold start: run ${run}/${runs}`);
    bare.push(await bareNode());
    for (const b of bundles) {
      const entry = samples.get(`${b.cloud}/${b.name}`);
      entry?.require.push(await runBundle(root, b.cloud, b.name, 'require', environments));
      entry?.invoke.push(await runBundle(root, b.cloud, b.name, 'invoke', environments));
    }
  }
  const bareMs = median(bare.map((r) => r.wallMs));
  const rows = bundles.map(({ cloud, name }): ColdStartRow => {
    const entry = samples.get(`${cloud}/${name}`) ?? { require: [], invoke: [] };
    const initMs = median(entry.require.map((r) => r.wallMs));
    const answerMs = median(entry.invoke.map((r) => r.wallMs));
    const errors = [...entry.require, ...entry.invoke]
      .map((r) => r.result?.error ?? (r.result ? null : `no result (exit ${r.exitCode}): ${r.stderr}`))
      .filter((e): e is string => Boolean(e))
      .map((e) => e.split('\n')[0] ?? e);
    return {
      cloud,
      name,
      bytes: statSync(bundlePath(root, cloud, name)).size,
      initMs: round(initMs),
      initRatio: round(initMs / bareMs, 2),
      answerMs: round(answerMs),
      answerRatio: round(answerMs / bareMs, 2),
      loadedMs: round(median(entry.require.map((r) => inProcess(r, 'loadedMs')))),
      errors: [...new Set(errors)],
    };
  });
  return { runs, bareMs: round(bareMs), rows };
}

export function coldStartTable(result: ColdStartResult): string {
  const rows = result.rows.map((r) => [
    r.cloud,
    r.name,
    kib(r.bytes),
    verdict(r.bytes < MAX_BUNDLE_BYTES),
    ms(r.initMs),
    ratio(r.initRatio),
    verdict(r.initRatio < MAX_INIT_RATIO),
    ms(r.loadedMs),
    ms(r.answerMs),
    ratio(r.answerRatio),
    r.errors.length === 0 ? 'ok' : `ERROR: ${r.errors[0]?.slice(0, 80)}`,
  ]);
  return [
    `Cold start: median of ${result.runs} fresh processes; bare \`node -e ''\` = ${ms(result.bareMs)}`,
    table(
      [
        'cloud',
        'function',
        'bundle',
        '< 1 MiB',
        'init',
        'init/bare',
        '< 1.5x',
        'load in-proc',
        'first answer',
        'answer/bare',
        'answered',
      ],
      rows,
    ),
  ].join('\n');
}
