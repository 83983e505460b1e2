/**
 * Peak memory of one invocation: a fresh process per function and cloud loads the bundle, answers one
 * event and reports its high-water mark (`maxRSS`, and `VmHWM` from /proc). A bare `node -e ''` is the
 * floor no function can go below.
 */
import {
  type BundleEnvironments,
  CLOUDS,
  type Cloud,
  FUNCTIONS,
  type FunctionName,
  runBundle,
  timedNode,
} from './support/bundles.ts';
import { median, mib, round, table, verdict } from './support/stats.ts';

export const MAX_RSS_BYTES = 128 * 1024 * 1024;

export interface MemoryRow {
  cloud: Cloud;
  name: FunctionName;
  /** Median over the runs of the process's peak RSS, bytes. */
  peakRssBytes: number;
  /** The largest peak seen in any run, bytes. */
  worstRssBytes: number;
  error: string | null;
}

export interface MemoryResult {
  runs: number;
  bareRssBytes: number;
  rows: MemoryRow[];
}

const BARE_RSS = `process.stdout.write('BENCH_RESULT ' + JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }) + '\\n')`;

export async function memory(
  root: string,
  environments: BundleEnvironments,
  runs: number,
  log: (line: string) => void,
): Promise<MemoryResult> {
  const bare: number[] = [];
  const rows: MemoryRow[] = [];
  for (let run = 0; run < runs; run++) bare.push((await timedNode(['-e', BARE_RSS])).result?.maxRssKb ?? 0);
  for (const cloud of CLOUDS) {
    for (const name of FUNCTIONS) {
      log(`memory: ${cloud}/${name}`);
      const peaks: number[] = [];
      let error: string | null = null;
      for (let run = 0; run < runs; run++) {
        const { result, exitCode, stderr } = await runBundle(root, cloud, name, 'invoke', environments);
        error ??= result?.error ?? (result ? null : `no result (exit ${exitCode}): ${stderr}`);
        // VmHWM and maxRSS agree on Linux; take the larger to be safe.
        peaks.push(Math.max(result?.maxRssKb ?? 0, result?.vmHwmKb ?? 0) * 1024);
      }
      rows.push({
        cloud,
        name,
        peakRssBytes: round(median(peaks), 0),
        worstRssBytes: Math.max(...peaks),
        error,
      });
    }
  }
  return { runs, bareRssBytes: round(median(bare) * 1024, 0), rows };
}

export function memoryTable(result: MemoryResult): string {
  return [
    `Memory: peak RSS of one invocation in a fresh process, median (worst) of ${result.runs}; bare node = ${mib(result.bareRssBytes)}`,
    table(
      ['cloud', 'function', 'peak RSS', 'worst', '< 128 MiB', 'answered'],
      result.rows.map((r) => [
        r.cloud,
        r.name,
        mib(r.peakRssBytes),
        mib(r.worstRssBytes),
        verdict(r.worstRssBytes < MAX_RSS_BYTES),
        r.error === null ? 'ok' : `ERROR: ${r.error.slice(0, 80)}`,
      ]),
    ),
  ].join('\n');
}
