import { describe, expect, inject, it } from 'vitest';
import { EXAMPLE_DAGS, runCli } from '#test/airflow/airflow.ts';

const airflow = inject('airflow');
const auth = `Basic ${Buffer.from(`${airflow.username}:${airflow.password}`).toString('base64')}`;

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${airflow.baseUrl}/api/v1${path}`, {
    method,
    headers: { authorization: auth, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the real Airflow harness', () => {
  it('reports a healthy metadatabase and scheduler', async () => {
    const { body } = await api('GET', '/health');
    expect(body).toMatchObject({ metadatabase: { status: 'healthy' }, scheduler: { status: 'healthy' } });
  });

  it('runs a triggered DAG to success and keeps its conf', async () => {
    const runId = `harness-${Date.now()}`;
    const conf = { greeting: 'hello', n: 1 };
    const created = await api('POST', '/dags/airkick_conf/dagRuns', { dag_run_id: runId, conf });
    expect(created.status).toBe(200);
    let state = '';
    for (let i = 0; i < 90 && !['success', 'failed'].includes(state); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      state = String((await api('GET', `/dags/airkick_conf/dagRuns/${runId}`)).body.state);
    }
    expect(state).toBe('success');
    const xcom = await api(
      'GET',
      `/dags/airkick_conf/dagRuns/${runId}/taskInstances/echo_conf/xcomEntries/return_value?deserialize=true`,
    );
    expect(xcom.status).toBe(200);
    expect(JSON.parse(String(xcom.body.value))).toEqual(conf);
  });

  it('answers `airflow dags list -o json` from the real CLI', async () => {
    const { stdout } = await runCli(airflow.airflowBin, ['dags', 'list', '-o', 'json'], airflow.env);
    const dags = JSON.parse(stdout) as { dag_id: string; paused: string }[];
    expect(dags.map((d) => d.dag_id).sort()).toEqual([...EXAMPLE_DAGS].sort());
  });
});
