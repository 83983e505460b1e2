/** `npm run airflow [-- --airflow 2|3]`: starts the local Airflow and keeps it running until Ctrl-C. */
import { parseArgs } from 'node:util';
import { startAirflow } from './airflow.ts';

const { values } = parseArgs({ options: { airflow: { type: 'string', default: '2' } }, strict: true });
if (values.airflow !== '2' && values.airflow !== '3') {
  console.error('--airflow must be 2 or 3');
  process.exit(2);
}

const airflow = await startAirflow({
  version: Number(values.airflow) as 2 | 3,
  name: 'local',
  persistent: true,
});
console.log(
  `Airflow ${airflow.version} UI: ${airflow.baseUrl}  REST API: ${airflow.apiRoot}  (user ${airflow.username}, password ${airflow.password})`,
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
