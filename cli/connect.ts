/**
 * The Airflow client for a CLI run: environment from --env or AIRKICK_ENV, the self-hosted password
 * from the URL or AIRKICK_AIRFLOW_PASSWORD, cloud credentials from the SDKs' default chains. Only the
 * provider the environment needs is loaded, so `airkick runs` against a self-hosted Airflow does
 * not pay for either cloud SDK.
 */

import type { AirflowClient } from '#lib/airflow/types.ts';
import type { Providers } from '#lib/client.ts';
import { createAirflowClient } from '#lib/client.ts';
import { parseEnvironment } from '#lib/environment.ts';
import { AirkickError } from '#lib/errors.ts';

type Env = Record<string, string | undefined>;

/** The environment string to use, or a CONFIG error saying how to give one. */
export function environmentString(flag: string | undefined, env: Env): string {
  const value = flag ?? (env.AIRKICK_ENV?.trim() || undefined);
  if (value === undefined) {
    throw new AirkickError('CONFIG', 'no Airflow environment: pass --env or set AIRKICK_ENV');
  }
  return value;
}

export async function connect(flag: string | undefined, env: Env): Promise<AirflowClient> {
  const password = env.AIRKICK_AIRFLOW_PASSWORD || undefined;
  const spec = parseEnvironment(environmentString(flag, env), password);
  const providers: Providers = {};
  if (spec.kind === 'mwaa') providers.mwaa = (await import('#lib/auth/mwaa.ts')).mwaaTransport;
  if (spec.kind === 'dms') providers.dms = (await import('#lib/auth/dms.ts')).dmsTransport;
  return createAirflowClient(spec, { providers });
}
