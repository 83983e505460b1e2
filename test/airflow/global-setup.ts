import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { type AirflowInfo, type AirflowInstance, type AirflowMajor, startAirflow } from './airflow.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Airflow 2, which every suite uses unless it asks for `airflow3`. */
    airflow: AirflowInfo;
    airflow3: AirflowInfo;
  }
}

/** `AIRKICK_AIRFLOW_VERSIONS=2` (or `3`) starts one instance only, for quick local runs; default both. */
function versions(): AirflowMajor[] {
  const text = process.env.AIRKICK_AIRFLOW_VERSIONS?.trim() || '2,3';
  const picked = text.split(/[\s,]+/).map((v) => {
    if (v !== '2' && v !== '3') throw new Error(`AIRKICK_AIRFLOW_VERSIONS: "${v}" is not 2 or 3`);
    return Number(v) as AirflowMajor;
  });
  return [...new Set(picked)];
}

/**
 * Starts one real Airflow of each major version, together, for the whole integration run and stops
 * them afterwards, also on Ctrl-C.
 */
export default async function setup(project: TestProject) {
  const started = await Promise.allSettled(
    versions().map((version) => startAirflow({ version, name: 'test', log: prefixed(version) })),
  );
  const instances = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = () => Promise.all(instances.map((i) => i.stop())).then(() => {});
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  for (const { stop: _, ...info } of instances as AirflowInstance[])
    project.provide(info.major === 2 ? 'airflow' : 'airflow3', info);
  const onSignal = (signal: NodeJS.Signals) => {
    void stop().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return async () => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await stop();
  };
}

function prefixed(version: AirflowMajor) {
  return (line: string) => process.stderr.write(`[airflow ${version}] ${line}\n`);
}
