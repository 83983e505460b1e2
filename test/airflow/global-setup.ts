import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { type AirflowInfo, startAirflow } from './airflow.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    airflow: AirflowInfo;
  }
}

/** Starts one real Airflow for the whole integration run and stops it afterwards, also on Ctrl-C. */
export default async function setup(project: TestProject) {
  const airflow = await startAirflow({ name: 'test' });
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
