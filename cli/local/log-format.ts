/**
 * Readable logs for `npm start` on a terminal: each Powertools JSON line becomes one compact line
 * (time, level, function, message, DAG/run, error, alert). Off a terminal the JSON is left as it
 * is, for tools to read.
 */
import { paint, type Style } from '#cli/output.ts';

const LEVEL_STYLE: Record<string, Style> = {
  DEBUG: 'dim',
  INFO: 'green',
  WARN: 'yellow',
  ERROR: 'red',
  CRITICAL: 'red',
};

type Line = Record<string, unknown>;

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * One JSON log line -> one readable line; `null` to drop it (CloudWatch EMF metric blobs),
 * `undefined` when it is not a log line (printed as it came).
 */
export function formatLogLine(raw: string, color: boolean): string | null | undefined {
  if (!raw.startsWith('{')) return undefined;
  let line: Line;
  try {
    line = JSON.parse(raw) as Line;
  } catch {
    return undefined;
  }
  if ('_aws' in line) return null;
  if (typeof line.message !== 'string' || typeof line.level !== 'string') return undefined;
  const time = typeof line.timestamp === 'string' ? line.timestamp.slice(11, 19) : '--:--:--';
  const level = line.level.toUpperCase();
  const fn = typeof line.function === 'string' ? line.function : 'airkick';
  const parts = [
    paint('dim', time, color),
    paint(LEVEL_STYLE[level] ?? 'bold', level.padEnd(5), color),
    paint('cyan', fn.padEnd(12), color),
    line.message,
  ];
  const extra: string[] = [];
  if (line.dag_id !== undefined) extra.push(`dag=${text(line.dag_id)}`);
  if (line.run_id !== undefined) extra.push(`run=${text(line.run_id)}`);
  if (Array.isArray(line.problems) && line.problems.length > 0)
    extra.push(`problems=${line.problems.map(text).join('; ')}`);
  if (typeof line.total === 'number') extra.push(`rows=${line.total}`);
  const alert = line.alert as { title?: unknown; summary?: unknown } | undefined;
  if (alert && typeof alert === 'object') extra.push(`alert="${text(alert.title)}: ${text(alert.summary)}"`);
  else if (typeof line.title === 'string') extra.push(`alert="${line.title}"`);
  const error = line.error as { message?: unknown } | string | undefined;
  if (error !== undefined) extra.push(`error=${typeof error === 'string' ? error : text(error.message)}`);
  if (typeof line.detail === 'string') extra.push(line.detail);
  return [...parts, ...extra.map((e) => paint('dim', e, color))].join('  ');
}

/** Rewrites whole lines written to `stream` through `formatLogLine`. */
export function installLogFormatter(stream: NodeJS.WriteStream, color: boolean): void {
  const write = stream.write.bind(stream) as (chunk: string) => boolean;
  let pending = '';
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    let out = '';
    for (const raw of lines) {
      const formatted = formatLogLine(raw, color);
      if (formatted === null) continue;
      out += `${formatted ?? raw}\n`;
    }
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    const flushed = out ? write(out) : true;
    callback?.();
    return flushed;
  }) as typeof stream.write;
}
