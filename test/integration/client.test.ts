import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseCliJson } from '#lib/airflow/cli-args.ts';
import { createAirflowClient } from '#lib/client.ts';
import { isAirkickError } from '#lib/errors.ts';
import {
  airflowApi,
  allProviders,
  apiOf,
  startTarget,
  type Target,
  type TargetKind,
} from '#test/support/targets.ts';

const airflow = inject('airflow');
const hostileConf = {
  quote: `it's a "test"`,
  newline: 'line one\nline two',
  shell: '$(touch /tmp/pwned); echo `id`; rm -rf /',
  unicode: 'ünïcødé 日本語 🚀',
  nested: { list: [1, 'two', null, true], empty: {} },
};
const uid = () => randomUUID().slice(0, 8);

describe.each<TargetKind>(['self-hosted', 'mwaa', 'mwaa-session', 'dms'])('AirflowClient via %s', (kind) => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget(kind, airflow);
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('triggers with a hostile conf that arrives intact, and a duplicate run id is "already triggered"', async () => {
    const runId = `client-${kind}-${uid()}`;
    const first = await target.client.triggerDagRun({
      dagId: 'airkick_conf',
      runId,
      conf: hostileConf,
      note: 'from the client suite',
    });
    expect(first.alreadyTriggered).toBe(false);
    expect(first.run).toMatchObject({ dagId: 'airkick_conf', runId, conf: hostileConf });
    const again = await target.client.triggerDagRun({ dagId: 'airkick_conf', runId, conf: { other: 1 } });
    expect(again.alreadyTriggered).toBe(true);
    expect(again.run.conf).toEqual(hostileConf);

    const stored = await airflowApi(airflow, `/dags/airkick_conf/dagRuns/${runId}`);
    expect(stored.body.conf).toEqual(hostileConf);
    expect(stored.body.note).toBe('from the client suite');
    const done = await target.client.waitForDagRun('airkick_conf', runId, {
      deadline: Date.now() + 90_000,
      pollIntervalMs: 1_000,
    });
    expect(done.state).toBe('success');
    const xcom = await airflowApi(
      airflow,
      `/dags/airkick_conf/dagRuns/${runId}/taskInstances/echo_conf/xcomEntries/return_value?deserialize=true`,
    );
    // Airflow 2 answers the stored JSON string, Airflow 3 the deserialised value.
    const value = typeof xcom.body.value === 'string' ? JSON.parse(xcom.body.value) : xcom.body.value;
    expect(value).toEqual(hostileConf);
  });

  it('reports a repeated logical date under another run id as CONFLICT, not "already triggered"', async () => {
    // A logical date no other test uses: a random second of 2021.
    const logicalDate = new Date(
      Date.UTC(2021, 0, 1) + Math.floor(Math.random() * 365 * 86400) * 1000,
    ).toISOString();
    const first = await target.client.triggerDagRun({
      dagId: 'airkick_conf',
      runId: `ld-a-${uid()}`,
      logicalDate,
    });
    expect(first.alreadyTriggered).toBe(false);
    let error: unknown;
    try {
      await target.client.submitDagRun({ dagId: 'airkick_conf', runId: `ld-b-${uid()}`, logicalDate });
    } catch (caught) {
      error = caught;
    }
    expect(isAirkickError(error, 'CONFLICT')).toBe(true);
    expect(String(error)).toContain('same logical date');
  });

  it('submitDagRun reports a duplicate with one request, without reading the run', async () => {
    const runId = `submit-${kind}-${uid()}`;
    expect(await target.client.submitDagRun({ dagId: 'airkick_slow', runId, conf: { seconds: 0 } })).toEqual({
      alreadyTriggered: false,
    });
    target.resetCounts();
    expect(await target.client.submitDagRun({ dagId: 'airkick_slow', runId })).toEqual({
      alreadyTriggered: true,
    });
    const counted = Object.values(target.counts()).reduce((a, b) => a + b, 0);
    expect(counted).toBe(kind === 'self-hosted' ? 0 : 1);
  });

  it('waits for a run that fails and lists it among failed runs', async () => {
    const { run } = await target.client.triggerDagRun({
      dagId: 'airkick_fail',
      runId: `fail-${kind}-${uid()}`,
    });
    const done = await target.client.waitForDagRun('airkick_fail', run.runId, {
      deadline: Date.now() + 90_000,
      pollIntervalMs: 1_000,
    });
    expect(done.state).toBe('failed');
    const failed = await target.client.listDagRuns('airkick_fail', { state: ['failed'], limit: 100 });
    expect(failed.map((r) => r.runId)).toContain(run.runId);
  });

  it('reports an unknown DAG as NOT_FOUND', async () => {
    const error = await target.client
      .triggerDagRun({ dagId: 'no_such_dag', runId: `x-${uid()}` })
      .catch((e) => e);
    expect(isAirkickError(error, 'NOT_FOUND')).toBe(true);
    expect(error.fault).toBe('client');
  });

  it('reads normalised health', async () => {
    const health = await target.client.health();
    expect(health.metadatabase.status).toBe('healthy');
    expect(health.scheduler.status).toBe('healthy');
    expect(health.scheduler.heartbeatAgeSeconds).toBeLessThan(60);
    expect(health.triggerer?.status).toBe('healthy');
    expect(await target.client.listImportErrors()).toEqual([]);
  });

  it('gets and sets Variables, and pauses and unpauses a DAG', async () => {
    const key = `airkick_client_${kind.replace('-', '_')}_${uid()}`;
    expect(await target.client.getVariable(key)).toBeUndefined();
    await target.client.setVariable(key, 'first');
    await target.client.setVariable(key, `second "quoted" ünï`);
    expect(await target.client.getVariable(key)).toBe(`second "quoted" ünï`);
    expect((await airflowApi(airflow, `/variables/${key}`)).body.value).toBe(`second "quoted" ünï`);

    await target.client.setPaused('airkick_slow', true);
    expect((await airflowApi(airflow, '/dags/airkick_slow')).body.is_paused).toBe(true);
    await target.client.setPaused('airkick_slow', false);
    expect((await airflowApi(airflow, '/dags/airkick_slow')).body.is_paused).toBe(false);
  });

  it('shares one token between 20 concurrent triggers', async () => {
    const client = target.coldClient();
    target.resetCounts();
    const prefix = `burst-${kind}-${uid()}`;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.triggerDagRun({ dagId: 'airkick_slow', runId: `${prefix}-${i}`, conf: { seconds: 0 } }),
      ),
    );
    expect(results.filter((r) => !r.alreadyTriggered)).toHaveLength(20);
    const counts = target.counts();
    const runs = await target.client.listDagRuns('airkick_slow', { limit: 100 });
    expect(runs.filter((r) => r.runId.startsWith(prefix))).toHaveLength(20);
    if (kind === 'dms') expect(counts).toMatchObject({ token: 1, login: 1, api: 20 });
    if (kind === 'mwaa') expect(counts).toMatchObject({ restapi: 20 });
    if (kind === 'mwaa') expect(counts.webtoken ?? 0).toBe(0);
    if (kind === 'mwaa-session') expect(counts).toMatchObject({ webtoken: 1, login: 1, api: 20 });
  });

  // Only MWAA and DMS have a CLI endpoint; self-hosted gets the test below instead.
  const itWithCli = kind === 'self-hosted' ? undefined : it;
  itWithCli?.('runs CLI commands one at a time, with hostile arguments intact', async () => {
    target.resetCounts();
    const runId = `cli-${kind}-${uid()}`;
    const [list, trigger, version] = await Promise.all([
      target.client.runCli(['dags', 'list', '-o', 'json']),
      target.client.runCli([
        'dags',
        'trigger',
        'airkick_conf',
        '--run-id',
        runId,
        '--conf',
        JSON.stringify(hostileConf),
        '-o',
        'json',
      ]),
      target.client.runCli(['version']),
    ]);
    const dags = parseCliJson<{ dag_id: string }[]>(list.stdout).map((d) => d.dag_id);
    expect(dags).toEqual(expect.arrayContaining(['airkick_conf', 'airkick_fail', 'airkick_slow']));
    expect(parseCliJson<{ dag_run_id: string }[]>(trigger.stdout)[0]?.dag_run_id).toBe(runId);
    expect(version.stdout.trim()).toBe(airflow.version);
    // MWAA documents one CLI command at a time; DMS documents no such limit.
    if (kind !== 'dms') expect(target.maxCliConcurrency()).toBe(1);
    expect((await airflowApi(airflow, `/dags/airkick_conf/dagRuns/${runId}`)).body.conf).toEqual(hostileConf);
  });

  const itWithoutCli = kind === 'self-hosted' ? it : undefined;
  itWithoutCli?.('says clearly that a self-hosted environment has no CLI endpoint', async () => {
    const error = await target.client.runCli(['db', 'clean']).catch((e) => e);
    expect(isAirkickError(error, 'UNSUPPORTED_COMMAND')).toBe(true);
    expect(error.message).toMatch(/has no CLI endpoint/);
  });
});

describe('credentials', () => {
  it('a wrong secret is an AUTH error that names no secret, for every provider', async () => {
    const wrong = 'wrong-secret-value-0123456789';
    const mwaa = await startTarget('mwaa', airflow);
    const dms = await startTarget('dms', airflow);
    try {
      const clients = [
        createAirflowClient(mwaa.environment, {
          providers: allProviders,
          aws: { credentials: { accessKeyId: 'AKIDAIRKICKEMULATOR', secretAccessKey: wrong } },
          fresh: true,
        }),
        createAirflowClient(dms.environment, {
          providers: allProviders,
          aliyun: { credentials: { accessKeyId: 'EMULATOR-AK-ID', accessKeySecret: wrong } },
          fresh: true,
        }),
        createAirflowClient(`${airflow.baseUrl.replace('://', `://${airflow.username}@`)}`, {
          providers: allProviders,
          password: wrong,
          fresh: true,
        }),
      ];
      for (const client of clients) {
        const error = await client.getVariable('anything').catch((e: unknown) => e);
        expect(isAirkickError(error, 'AUTH'), String(error)).toBe(true);
        expect(JSON.stringify({ message: (error as Error).message, ...(error as object) })).not.toContain(
          wrong,
        );
      }
    } finally {
      await Promise.all([mwaa.stop(), dms.stop()]);
    }
  });

  it('MWAA: a CLI token and a web session that expire mid-sequence are refreshed', async () => {
    const target = await startTarget('mwaa-session', airflow, {
      mwaa: { cliTokenTtlMs: 1_000, sessionTtlMs: 1_000 },
    });
    try {
      await target.client.runCli(['version']);
      await target.client.getVariable('airkick_missing');
      await new Promise((r) => setTimeout(r, 1_500));
      await target.client.runCli(['version']);
      await target.client.getVariable('airkick_missing');
      expect(target.counts()).toMatchObject({ clitoken: 2, webtoken: 2, login: 2 });
    } finally {
      await target.stop();
    }
  });

  it('DMS: an expired session is replaced by a new login', async () => {
    const target = await startTarget('dms', airflow, { dms: { sessionTtlMs: 1_000 } });
    try {
      await target.client.health();
      await new Promise((r) => setTimeout(r, 1_500));
      await target.client.health();
      await target.client.runCli(['version']);
      expect(target.counts()).toMatchObject({ token: 2, login: 2 });
    } finally {
      await target.stop();
    }
  });

  it('MWAA: without the InvokeRestApi grant on the Airflow role it falls back to the web session', async () => {
    const target = await startTarget('mwaa', airflow, { mwaa: { restApi: 'denied' } });
    try {
      const health = await target.client.health();
      expect(health.metadatabase.status).toBe('healthy');
      await target.client.health();
      expect(target.counts()).toMatchObject({ restapi: 1, webtoken: 1, login: 1, api: 2 });
    } finally {
      await target.stop();
    }
  });
});

describe('API version detection (api=auto)', () => {
  it.each<TargetKind>(['self-hosted', 'mwaa', 'mwaa-session', 'dms'])(
    'via %s: asks once per client, then every call goes to the right API',
    async (kind) => {
      const target = await startTarget(kind, airflow, { api: 'auto' });
      try {
        const client = target.coldClient();
        const [a, b] = await Promise.all([client.airflowVersion(), client.airflowVersion()]);
        expect(a).toEqual(b);
        expect(a.api).toBe(apiOf(airflow));
        expect(a.version).toMatch(apiOf(airflow) === 'v1' ? /^2\./ : /^3\./);
        const probe = target.counts();
        target.resetCounts();
        const runId = `auto_${uid()}`;
        const { run } = await client.triggerDagRun({ dagId: 'airkick_conf', runId, conf: { kind } });
        expect(run.runId).toBe(runId);
        // Warm: the trigger alone, no second probe.
        if (kind === 'mwaa') expect(target.counts()).toEqual({ restapi: 1 });
        if (kind === 'mwaa-session' || kind === 'dms') expect(target.counts()).toEqual({ api: 1 });
        // Cold: the probe and the one login it needed.
        if (kind === 'mwaa') expect(probe).toMatchObject({ restapi: 1 });
        if (kind === 'dms') expect(probe).toMatchObject({ token: 1, login: 1 });
        if (kind === 'mwaa-session') expect(probe).toMatchObject({ webtoken: 1 });
      } finally {
        await target.stop();
      }
    },
  );
});
