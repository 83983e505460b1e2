import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { type AirflowInfo, type AirflowMajor, startAirflow } from './airflow.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The real Airflow of this test project: 2 in `airflow-2`, 3 in `airflow-3`. */
    airflow: AirflowInfo;
  }
}

/**
 * Starts the real Airflow of one integration project (`airflow-2` or `airflow-3`, by its name) once
 * for the whole run and stops it afterwards, also on Ctrl-C. The two projects run side by side, so
 * both Airflows start together.
 */
export default async function setup(project: TestProject) {
  const major: AirflowMajor = project.name.endsWith('3') ? 3 : 2;
  const airflow = await startAirflow({
    version: major,
    name: 'test',
    log: (line) => process.stderr.write(`[airflow ${major}] ${line}\n`),
  });
  const { stop, ...info } = airflow;
  project.provide('airflow', info);
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
