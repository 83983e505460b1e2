import { AirkickError } from '#lib/errors.ts';
import type * as z from '#lib/zod.ts';

const MAX_ISSUES = 3;

/**
 * Validates with a zod schema and reports the failing paths, never the values: zod's messages name
 * the expected and received types only.
 */
export function check<T extends z.ZodMiniType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, MAX_ISSUES).map((issue) => {
    const path = issue.path
      .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
      .join('');
    return `${what}${path}: ${issue.message}`;
  });
  const more =
    result.error.issues.length > MAX_ISSUES ? ` (and ${result.error.issues.length - MAX_ISSUES} more)` : '';
  return fail(`${issues.join('; ')}${more}`);
}

function fail(message: string): never {
  throw new AirkickError('BAD_REQUEST', message);
}
