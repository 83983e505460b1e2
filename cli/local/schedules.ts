/**
 * The schedules `npm start` runs, read from serverless.yml: each function's `schedule` events,
 * their `cron()` / `rate()` expressions, whether they are enabled, and the input the rule would
 * deliver (`input`, `inputTransformer`, or the whole EventBridge event).
 *
 * cron() is evaluated by the project's EventBridge evaluator (test/deploy/cron.ts, the one the
 * schedules test proves against s.yaml). rate() fires on multiples of its period since the epoch:
 * EventBridge starts counting when the rule is created, which has no local equivalent, and fixed
 * multiples give the same slots on every start.
 */

import { loadServerless } from '#cli/local/config-files.ts';
import { type CronSchedule, nextFireTimes, parseAwsCron } from '#cli/local/cron.ts';
import type { FunctionName } from '#lib/host/names.ts';

export type Expression =
  | { kind: 'cron'; text: string; cron: CronSchedule }
  | { kind: 'rate'; text: string; periodMs: number };

/** What the rule sends the function instead of the scheduled event, when anything. */
export type RuleInput =
  | { kind: 'event' }
  | { kind: 'constant'; value: unknown }
  | { kind: 'transformer'; paths: Record<string, string>; template: string };

export interface FunctionSchedule {
  function: FunctionName;
  /** The rule name when declared (`name:`), else `<function>-schedule-<n>`. */
  name: string;
  expression: Expression;
  enabled: boolean;
  input: RuleInput;
}

export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

const UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** `cron(0 2 * * ? *)` or `rate(5 minutes)`. */
export function parseExpression(text: string): Expression {
  const trimmed = text.trim();
  const rate = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(trimmed);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2] ?? '';
    const singular = unit.replace(/s$/, '');
    // EventBridge: a value of 1 takes the singular unit, any other value the plural.
    if (value === 0 || (value === 1) !== (unit === singular)) {
      throw new ScheduleError(`${trimmed}: write rate(1 ${singular}) or rate(N ${singular}s) with N > 1`);
    }
    return { kind: 'rate', text: trimmed, periodMs: value * (UNITS[singular] ?? 0) };
  }
  if (/^cron\(.*\)$/.test(trimmed)) {
    try {
      return { kind: 'cron', text: trimmed, cron: parseAwsCron(trimmed) };
    } catch (error) {
      throw new ScheduleError((error as Error).message);
    }
  }
  throw new ScheduleError(`"${trimmed}" is neither cron(...) nor rate(...)`);
}

/** The first fire time strictly after `after`. */
export function nextFire(expression: Expression, after: Date): Date {
  if (expression.kind === 'rate') {
    const period = expression.periodMs;
    return new Date((Math.floor(after.getTime() / period) + 1) * period);
  }
  const [next] = nextFireTimes(expression.cron, after, 1, 3700);
  if (!next) throw new ScheduleError(`${expression.text} never fires`);
  return next;
}

type Json = unknown;
const isRecord = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The schedule events of every function in a rendered serverless.yml. */
export function functionSchedules(doc: Record<string, Json>): FunctionSchedule[] {
  const functions = isRecord(doc.functions) ? doc.functions : {};
  const out: FunctionSchedule[] = [];
  for (const [fn, def] of Object.entries(functions)) {
    const events = isRecord(def) && Array.isArray(def.events) ? def.events : [];
    let n = 0;
    for (const event of events) {
      if (!isRecord(event) || event.schedule === undefined) continue;
      const schedule = event.schedule;
      const spec = typeof schedule === 'string' ? { rate: schedule } : isRecord(schedule) ? schedule : {};
      const rates = Array.isArray(spec.rate) ? spec.rate : [spec.rate];
      for (const rate of rates) {
        n++;
        if (typeof rate !== 'string')
          throw new ScheduleError(`${fn}: schedule ${n} has no rate/cron expression`);
        out.push({
          function: fn as FunctionName,
          name: typeof spec.name === 'string' ? spec.name : `${fn}-schedule-${n}`,
          expression: parseExpression(rate),
          enabled: spec.enabled === undefined || spec.enabled === true || spec.enabled === 'true',
          input: ruleInput(spec, fn),
        });
      }
    }
  }
  return out;
}

function ruleInput(spec: Record<string, Json>, fn: string): RuleInput {
  if (spec.input !== undefined) {
    let value = spec.input;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        // a constant string input is delivered as it is
      }
    }
    return { kind: 'constant', value };
  }
  const transformer = spec.inputTransformer;
  if (isRecord(transformer)) {
    const paths = isRecord(transformer.inputPathsMap) ? transformer.inputPathsMap : {};
    if (typeof transformer.inputTemplate !== 'string') {
      throw new ScheduleError(`${fn}: inputTransformer needs an inputTemplate`);
    }
    return {
      kind: 'transformer',
      paths: Object.fromEntries(Object.entries(paths).map(([k, v]) => [k, String(v)])),
      template: transformer.inputTemplate,
    };
  }
  return { kind: 'event' };
}

/** serverless.yml of this checkout, rendered for the default stage as osls would. */
export function loadSchedules(): FunctionSchedule[] {
  return functionSchedules(loadServerless());
}

/** Each function's `timeout` in seconds from serverless.yml (the Lambda context's remaining time). */
export function functionTimeouts(doc: Record<string, Json> = loadServerless()): Record<string, number> {
  const functions = isRecord(doc.functions) ? doc.functions : {};
  return Object.fromEntries(
    Object.entries(functions).map(([fn, def]) => [
      fn,
      isRecord(def) && typeof def.timeout === 'number' ? def.timeout : 6,
    ]),
  );
}

/**
 * The input a rule delivers for `event`: the event itself, a constant, or an input transformer's
 * template with its `<name>` placeholders filled from `$.path` lookups. As in EventBridge, a
 * placeholder inside a JSON string is replaced by the raw text, one outside by the JSON value.
 */
export function applyRuleInput(input: RuleInput, event: Record<string, unknown>): unknown {
  if (input.kind === 'event') return event;
  if (input.kind === 'constant') return input.value;
  const values: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(input.paths)) values[name] = lookupPath(event, path);
  let inString = false;
  let out = '';
  const template = input.template;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch === '"' && template[i - 1] !== '\\') inString = !inString;
    const placeholder = ch === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i)) : null;
    if (placeholder?.[1] !== undefined && placeholder[1] in values) {
      const value = values[placeholder[1]];
      out += inString
        ? typeof value === 'string'
          ? JSON.stringify(value).slice(1, -1)
          : JSON.stringify(value)
        : JSON.stringify(value ?? null);
      i += placeholder[0].length - 1;
      continue;
    }
    out += ch;
  }
  try {
    return JSON.parse(out);
  } catch {
    return out;
  }
}

function lookupPath(value: unknown, path: string): unknown {
  if (path === '$') return value;
  let node = value;
  for (const key of path.replace(/^\$\./, '').split('.')) {
    if (!isRecord(node)) return undefined;
    node = node[key];
  }
  return node;
}
