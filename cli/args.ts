/** Small parsers for option values; each throws a UsageError naming the option and what it expects. */
import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from '#cli/exit.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The options every command takes. */
export const COMMON_OPTIONS = {
  env: { type: 'string' },
  json: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies Options;

/** `node:util` parseArgs, strict, with its errors turned into usage errors. */
export function parse<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
}

/** `--conf '{"a":1}'` or `--conf @file.json` (or another option's, e.g. `--extra`): a JSON object. */
export function parseConf(
  text: string,
  readFile: (path: string) => string = readText,
  option = '--conf',
): Record<string, unknown> {
  let source = text;
  let where = option;
  if (text.startsWith('@')) {
    where = `${option} file ${text.slice(1)}`;
    try {
      source = readFile(text.slice(1));
    } catch (error) {
      throw new UsageError(`${where}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch {
    throw new UsageError(`${where} is not valid JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${where} must be a JSON object, e.g. {"key": "value"}`);
  }
  return value as Record<string, unknown>;
}

const readText = (path: string) => readFileSync(path, 'utf8');

const UNIT_DAYS: Record<string, number> = { h: 1 / 24, d: 1, w: 7 };

/** `30d`, `12h`, `2w` or a bare number of days -> days. */
export function parseRetention(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([hdw]?)$/.exec(text.trim());
  if (!match) throw new UsageError(`--retention expects a duration such as 30d, 12h or 2w, got "${text}"`);
  return Number(match[1]) * (UNIT_DAYS[match[2] || 'd'] ?? 1);
}

export function parsePositiveInt(text: string, option: string, max = 10_000): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new UsageError(`${option} expects a whole number from 1 to ${max}, got "${text}"`);
  }
  return Number(text);
}

/** `a,b, c` -> ['a', 'b', 'c']; each item must match `pattern`. */
export function parseList(text: string, option: string, pattern = /^[A-Za-z0-9_.-]+$/): string[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.find((item) => !pattern.test(item));
  if (items.length === 0 || bad !== undefined) {
    throw new UsageError(`${option} expects a comma-separated list${bad ? `, "${bad}" is not valid` : ''}`);
  }
  return items;
}

/** `--timeout 90` (seconds) -> ms, with a default. */
export function parseTimeout(text: string | undefined, defaultSeconds: number): number {
  if (text === undefined) return defaultSeconds * 1000;
  return parsePositiveInt(text, '--timeout', 86_400) * 1000;
}

export function one<T>(positionals: T[], what: string): T {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0 ? `missing ${what}` : `expected one ${what}, got ${positionals.length}`,
    );
  }
  return positionals[0] as T;
}
