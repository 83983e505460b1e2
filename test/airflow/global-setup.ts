import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { type AirflowInfo, startAirflow } from './airflow.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    airflow: AirflowInfo;
  }
}

/** Starts one real Airflow for the whole integration run and stops it afterwards. */
export default async function setup(project: TestProject) {
  const airflow = await startAirflow({ name: 'test' });
  const { stop, ...info } = airflow;
  project.provide('airflow', info);
  return async () => {
    await stop();
  };
}
