/**
 * The cloud SDKs are optional peer dependencies: a self-hosted user installs none of them, an MWAA user
 * only the AWS signing packages. Each is imported on first need through `optionalImport`, so a missing
 * one is a CONFIG error that names the package to install and what needed it, instead of Node's
 * ERR_MODULE_NOT_FOUND from deep inside a call.
 */
import { AirkickError } from '#lib/errors.ts';

/**
 * Runs `load` (an `import()` of `pkg` with a literal specifier, so bundlers still see it) and turns
 * "not installed" into `AirkickError('CONFIG')`: `<neededBy> needs <pkg>: npm install <install>`.
 */
export async function optionalImport<T>(
  load: () => Promise<T>,
  pkg: string,
  neededBy: string,
  install: readonly string[] = [pkg],
): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    if (!isMissing(cause, pkg)) throw cause;
    throw new AirkickError(
      'CONFIG',
      `${neededBy} needs the package ${pkg}, which is not installed: npm install ${install.join(' ')}`,
      { cause },
    );
  }
}

/** Node's "cannot find package" for `pkg` itself (not for something it imports in turn). */
function isMissing(error: unknown, pkg: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    (message.includes(`'${pkg}'`) || message.includes(`"${pkg}"`) || message.includes(`${pkg}/`))
  );
}
