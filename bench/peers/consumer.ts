/**
 * The consumer peer: a user's own Lambda handler that imports only `airkick` (the package, resolved
 * through its `exports` to the built `dist/lib`, as an installed user's bundler would) and triggers
 * one run on a self-hosted Airflow. Held against the floor, it is what the library adds to a user's
 * function: its bundle size and its cold first answer.
 */
import { createAirflowClient } from 'airkick';

const airflow = createAirflowClient(process.env.AIRKICK_ENV ?? '', {
  providers: {},
  password: process.env.AIRKICK_AIRFLOW_PASSWORD,
});

export const handler = async (_event: unknown, context: { getRemainingTimeInMillis(): number }) => {
  const deadline = Date.now() + context.getRemainingTimeInMillis() - 1_500;
  const { run } = await airflow.triggerDagRun(
    {
      dagId: process.env.DAG_ID ?? 'airkick_conf',
      runId: `consumer__${Date.now()}_${Math.random().toString(36).slice(2)}`,
    },
    { deadline },
  );
  return { ok: true, runId: run.runId };
};
