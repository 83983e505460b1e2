/** Loads a function's real handler (`functions/<name>/<cloud>.ts`) the way a new container would. */
import { vi } from 'vitest';
import { MWAA_EMULATOR_CREDENTIALS } from '#test/emulators/mwaa.ts';

export type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/**
 * A fresh module graph with configuration from the environment: every `AIRKICK_*` variable replaced
 * by `env`, and the MWAA emulator's keys where Lambda puts the function's own (moto takes any).
 */
export async function coldStartHandler(
  fn: string,
  cloud: 'aws' | 'aliyun',
  env: Record<string, string>,
): Promise<Handler> {
  vi.resetModules();
  for (const key of Object.keys(process.env)) if (key.startsWith('AIRKICK_')) delete process.env[key];
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: MWAA_EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MWAA_EMULATOR_CREDENTIALS.secretAccessKey,
    ...env,
  });
  const module = (await import(`../../functions/${fn}/${cloud}.ts`)) as { handler: Handler };
  return module.handler;
}
