import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type AirflowInfo,
  type AirflowInstance,
  adminToken,
  EXAMPLE_DAGS,
  runCli,
  startAirflow,
} from '#test/airflow/airflow.ts';
import { descendants } from '#test/airflow/processes.ts';

// This file runs in both integration projects; each defines only the cases of its own Airflow.
const airflow = inject('airflow');
const airflow3 = airflow;
const basic = (info: AirflowInfo) =>
  `Basic ${Buffer.from(`${info.username}:${info.password}`).toString('base64')}`;

async function call(url: string, authorization: string | undefined, method = 'GET', body?: unknown) {
  const response = await fetch(url, {
    method,
    headers: {
      ...(authorization ? { authorization } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** Polls a run until it ends; its final state. */
async function finalState(info: AirflowInfo, authorization: string, dagId: string, runId: string) {
  let state = '';
  for (let i = 0; i < 120 && !['success', 'failed'].includes(state); i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const run = await call(`${info.apiRoot}/dags/${dagId}/dagRuns/${runId}`, authorization);
    state = String(run.body.state);
  }
  return state;
}

/** A zombie has ended; only its parent has not looked yet. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function jwtPayload(token: string): Record<string, unknown> {
  const [, payload] = token.split('.');
  return JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** `airflow ... -o json` on Airflow 3 may print warnings on stdout before the JSON. */
function lastJsonLine(stdout: string): unknown {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => /^[[{]/.test(l.trim()));
  return JSON.parse(line ?? 'null');
}

if (airflow.major === 2)
  describe('the real Airflow 2 harness', () => {
    const api = (method: string, path: string, body?: unknown) =>
      call(`${airflow.baseUrl}/api/v1${path}`, basic(airflow), method, body);

    it('is Airflow 2 with the stable REST API at /api/v1', async () => {
      expect(airflow).toMatchObject({ major: 2, authManager: 'fab', apiRoot: `${airflow.baseUrl}/api/v1` });
      const { body } = await api('GET', '/version');
      expect(body.version).toBe(airflow.version);
      expect(airflow.version).toMatch(/^2\./);
    });

    it('reports a healthy metadatabase and scheduler', async () => {
      const { body } = await api('GET', '/health');
      expect(body).toMatchObject({ metadatabase: { status: 'healthy' }, scheduler: { status: 'healthy' } });
    });

    it('runs a triggered DAG to success and keeps its conf', async () => {
      const runId = `harness-${Date.now()}`;
      const conf = { greeting: 'hello', n: 1 };
      const created = await api('POST', '/dags/airkick_conf/dagRuns', { dag_run_id: runId, conf });
      expect(created.status).toBe(200);
      expect(await finalState(airflow, basic(airflow), 'airkick_conf', runId)).toBe('success');
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

if (airflow.major === 3)
  describe('the real Airflow 3 harness', () => {
    let bearer = '';
    beforeAll(async () => {
      bearer = `Bearer ${await adminToken(airflow3.baseUrl)}`;
    });

    it('is Airflow 3 with its REST API at /api/v2', async () => {
      expect(airflow3).toMatchObject({
        major: 3,
        authManager: 'simple',
        apiRoot: `${airflow3.baseUrl}/api/v2`,
      });
      const { status, body } = await call(`${airflow3.apiRoot}/version`, bearer);
      expect(status).toBe(200);
      expect(body.version).toBe(airflow3.version);
      expect(airflow3.version).toMatch(/^3\./);
    });

    it('reports all four components healthy without credentials', async () => {
      const { status, body } = await call(`${airflow3.apiRoot}/monitor/health`, undefined);
      expect(status).toBe(200);
      for (const part of ['metadatabase', 'scheduler', 'triggerer', 'dag_processor'])
        expect(body[part]).toMatchObject({ status: 'healthy' });
    });

    it('answers 404 under /api/v1', async () => {
      const { status, body } = await call(`${airflow3.baseUrl}/api/v1/dags`, bearer);
      expect(status).toBe(404);
      expect(String(body.error)).toContain('/api/v1 has been removed in Airflow 3');
    });

    it('gives a JWT at /auth/token that works as a Bearer token on /api/v2', async () => {
      const token = await call(`${airflow3.baseUrl}/auth/token`, undefined, 'POST', {
        username: airflow3.username,
        password: airflow3.password,
      });
      expect(token.status).toBe(201);
      const jwt = String(token.body.access_token);
      expect(jwtPayload(jwt)).toMatchObject({ sub: airflow3.username });
      expect(Number(jwtPayload(jwt).exp)).toBeGreaterThan(Date.now() / 1000);
      const dags = await call(`${airflow3.apiRoot}/dags`, `Bearer ${jwt}`);
      expect(dags.status).toBe(200);
      const ids = (dags.body.dags as { dag_id: string }[]).map((d) => d.dag_id);
      expect(ids).toEqual(expect.arrayContaining([...EXAMPLE_DAGS]));

      const wrong = await call(`${airflow3.baseUrl}/auth/token`, undefined, 'POST', {
        username: airflow3.username,
        password: 'not-the-password',
      });
      expect(wrong).toEqual({ status: 401, body: { detail: 'Invalid credentials' } });
    });

    it('refuses basic auth and requests without credentials', async () => {
      expect(await call(`${airflow3.apiRoot}/dags`, basic(airflow3))).toEqual({
        status: 401,
        body: { detail: 'Not authenticated' },
      });
      expect((await call(`${airflow3.apiRoot}/dags`, undefined)).status).toBe(401);
      expect((await call(`${airflow3.apiRoot}/dags`, 'Bearer not.a.jwt')).status).toBe(403);
    });

    it('runs a triggered airkick_conf to success and keeps its conf', async () => {
      const runId = `harness-${Date.now()}`;
      const conf = { greeting: 'hello', n: 1 };
      const created = await call(`${airflow3.apiRoot}/dags/airkick_conf/dagRuns`, bearer, 'POST', {
        dag_run_id: runId,
        logical_date: null,
        conf,
      });
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({ dag_run_id: runId, logical_date: null, conf, state: 'queued' });
      expect(await finalState(airflow3, bearer, 'airkick_conf', runId)).toBe('success');
      const xcom = await call(
        `${airflow3.apiRoot}/dags/airkick_conf/dagRuns/${runId}/taskInstances/echo_conf/xcomEntries/return_value`,
        bearer,
      );
      expect(xcom.status).toBe(200);
      expect(JSON.parse(String(xcom.body.value))).toEqual(conf);
    });

    it('answers `airflow dags list -o json` from the real CLI', async () => {
      const { stdout } = await runCli(airflow3.airflowBin, ['dags', 'list', '-o', 'json'], airflow3.env);
      const dags = lastJsonLine(stdout) as { dag_id: string }[];
      expect(dags.map((d) => d.dag_id).sort()).toEqual([...EXAMPLE_DAGS].sort());
    });
  });

if (airflow.major === 3)
  describe('Airflow 3 with the FAB auth manager', () => {
    let fab: AirflowInstance | undefined;
    afterAll(async () => {
      await fab?.stop();
    });

    it('starts, gives tokens to its FAB user, refuses basic auth, and stops every process', async () => {
      fab = await startAirflow({ version: 3, authManager: 'fab', name: 'harness' });
      expect(fab).toMatchObject({ major: 3, authManager: 'fab' });
      expect(fab.env.AIRFLOW__CORE__AUTH_MANAGER).toContain('FabAuthManager');

      const token = await adminToken(fab.baseUrl);
      const dags = await call(`${fab.apiRoot}/dags`, `Bearer ${token}`);
      expect(dags.status).toBe(200);
      expect((dags.body.dags as { dag_id: string }[]).map((d) => d.dag_id)).toEqual(
        expect.arrayContaining([...EXAMPLE_DAGS]),
      );
      expect((await call(`${fab.apiRoot}/dags`, basic(fab))).status).toBe(401);
      const wrong = await call(`${fab.baseUrl}/auth/token`, undefined, 'POST', {
        username: fab.username,
        password: 'not-the-password',
      });
      expect(wrong.status).toBe(401);

      const roots = Object.values(fab.pids) as number[];
      expect(roots).toHaveLength(4);
      const tree = roots.flatMap((pid) => [pid, ...descendants(pid)]);
      expect(tree.length).toBeGreaterThan(roots.length);
      const instance = fab;
      fab = undefined;
      await instance.stop();
      await new Promise((r) => setTimeout(r, 500));
      expect(tree.filter(running)).toEqual([]);
    }, 600_000);
  });
