/**
 * The logging surface the notifier needs. `@aws-lambda-powertools/logger`'s `Logger` satisfies it,
 * and so does `console`.
 */
export interface AlertLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export const silentLogger: AlertLogger = {
  info() {},
  warn() {},
  error() {},
};
