/**
 * Peak memory of one invocation: the high-water mark (`maxRSS`, and `VmHWM` from /proc) of the
 * cold-start rounds' invoke processes, each a fresh process that loaded a bundle and answered one
 * event, next to the floor's on the same runtime and a bare `node`, below which no function can go.
 */
import { type ColdStartResult, type ColdStartRow, runtimesLine, subjectLabel } from './cold-start.ts';
import { mib, ratio, table, verdict } from './support/stats.ts';

/** Goal: every function's worst peak RSS at most this (issue 14: half the AWS sample's ~100 MB). */
export const MAX_RSS_BYTES = 64 * 1024 * 1024;

export const meetsRssGoal = (r: ColdStartRow): boolean => r.worstRssBytes <= MAX_RSS_BYTES;

export function memoryTable(result: ColdStartResult): string {
  return [
    `Memory: peak RSS of the cold-start invocations, median (worst) of ${result.runs} (AWS sample and db-clean: ${result.cliRuns}); ${runtimesLine(
      result,
      (b) => `bare \`node\` ${mib(b.bareRssBytes)}`,
    )}`,
    table(
      ['cloud', 'function', 'peak RSS', 'worst', 'RSS/floor', `<= ${mib(MAX_RSS_BYTES)}`, 'answered'],
      result.rows.map((r) => [
        r.cloud,
        subjectLabel(r),
        mib(r.peakRssBytes),
        mib(r.worstRssBytes),
        ratio(r.rssRatio),
        r.peer ? '' : verdict(meetsRssGoal(r)),
        r.errors.length === 0 ? 'ok' : `ERROR: ${r.errors[0]?.slice(0, 80)}`,
      ]),
    ),
  ].join('\n');
}

/** The goals the rows meet: every function under the RSS cap (peers are not held to it). */
export const rssGoalMet = (result: ColdStartResult): boolean =>
  result.rows.filter((r) => !r.peer).every(meetsRssGoal);
