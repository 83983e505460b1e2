/** `npm run airflow`: starts the local Airflow and keeps it running until Ctrl-C. */
import { startAirflow } from './airflow.ts';

const airflow = await startAirflow({ name: 'local', persistent: true });
console.log(
  `Airflow UI and REST API: ${airflow.baseUrl}  (user ${airflow.username}, password ${airflow.password})`,
);
console.log('Press Ctrl-C to stop.');
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping Airflow ...');
    await airflow.stop();
    process.exit(0);
  });
}
