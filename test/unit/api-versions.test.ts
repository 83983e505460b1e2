import { describe, expect, it } from 'vitest';
import { atLeast, detectVersion, healthFrom } from '#lib/airflow/api.ts';
import { apiV1 } from '#lib/airflow/api-v1.ts';
import { apiV2 } from '#lib/airflow/api-v2.ts';
import type { ApiRequest, ApiResponse } from '#lib/airflow/transport.ts';
import { jwtExpiry } from '#lib/auth/http-session.ts';
import { parseEnvironment } from '#lib/environment.ts';

const trigger = { dagId: 'etl', runId: 'airkick__20261121T0600Z', conf: { a: 1 }, note: 'n' };

describe('trigger bodies send only what the version accepts', () => {
  it('Airflow 2: note only from 2.5 on, no logical_date unless given', () => {
    expect(apiV1('2.10.5').triggerBody(trigger)).toEqual({
      conf: { a: 1 },
      dag_run_id: 'airkick__20261121T0600Z',
      note: 'n',
    });
    expect(apiV1('2.4.3').triggerBody(trigger)).not.toHaveProperty('note');
    expect(apiV1('2.2.5').triggerBody({ dagId: 'etl' })).toEqual({ conf: {} });
  });

  it('Airflow 3: logical_date always present (null by default), note kept', () => {
    expect(apiV2('3.3.2').triggerBody(trigger)).toEqual({
      logical_date: null,
      conf: { a: 1 },
      dag_run_id: 'airkick__20261121T0600Z',
      note: 'n',
    });
    expect(apiV2().triggerBody({ dagId: 'x', logicalDate: '2026-01-01T00:00:00Z' }).logical_date).toBe(
      '2026-01-01T00:00:00Z',
    );
  });

  it('Airflow 3: resends with the current time only when the answer says logical_date went missing', () => {
    const api = apiV2();
    const body = api.triggerBody(trigger);
    const missing: ApiResponse = {
      status: 422,
      body: { detail: [{ type: 'missing', loc: ['body', 'logical_date'], msg: 'Field required' }] },
    };
    const again = api.retryTriggerBody?.(missing, body);
    expect(Number.isNaN(Date.parse(String(again?.logical_date)))).toBe(false);
    const other: ApiResponse = {
      status: 422,
      body: {
        detail: [{ type: 'extra_forbidden', loc: ['body', 'foo'], msg: 'Extra inputs are not permitted' }],
      },
    };
    expect(api.retryTriggerBody?.(other, body)).toBeUndefined();
    expect(
      api.retryTriggerBody?.(missing, { ...body, logical_date: '2026-01-01T00:00:00Z' }),
    ).toBeUndefined();
  });
});

describe('a 409 on trigger', () => {
  it('Airflow 2: a duplicate run id is "already triggered", a logical-date clash is not', () => {
    const api = apiV1('2.10.5');
    const duplicate = {
      status: 409,
      body: { title: 'Conflict', detail: "DAGRun with DAG ID: 'etl' and DAGRun ID: 'r1' already exists" },
    };
    const clash = {
      status: 409,
      body: {
        title: 'Conflict',
        detail:
          "DAGRun with DAG ID: 'etl' and DAGRun logical date: '2026-11-21 06:00:00+00:00' already exists",
      },
    };
    expect(api.isDuplicateRunId(duplicate, {})).toBe(true);
    expect(api.isDuplicateRunId(clash, {})).toBe(false);
  });

  it('Airflow 3: a duplicate run id without a logical date is certain; with one, the client must ask', () => {
    const api = apiV2('3.3.2');
    // Airflow 3.3.2's answer to both a duplicate run id and a repeated logical date.
    const hidden = {
      status: 409,
      body: {
        detail: {
          reason: 'Unique constraint violation',
          statement: 'hidden',
          orig_error: 'hidden',
          message: 'Serious error when handling your request. Check logs for more details',
        },
      },
    };
    expect(api.isDuplicateRunId(hidden, { logical_date: null, dag_run_id: 'r1' })).toBe(true);
    expect(
      api.isDuplicateRunId(hidden, { logical_date: '2026-01-01T00:00:00Z', dag_run_id: 'r1' }),
    ).toBeUndefined();
  });
});

describe('what else differs', () => {
  it('lists runs newest first under each version’s field names', () => {
    expect(apiV1().listRunsQuery({ state: ['failed'] })).toEqual({
      state: ['failed'],
      limit: 25,
      order_by: '-execution_date',
      end_date_gte: undefined,
    });
    expect(apiV2().listRunsQuery({ orderBy: '-logical_date', limit: 5 }).order_by).toBe('-run_after');
    expect(apiV2().listRunsQuery({ orderBy: 'start_date' }).order_by).toBe('start_date');
  });

  it('reads health from each version’s path, and runs without a logical date', () => {
    expect([apiV1().healthPath, apiV2().healthPath]).toEqual(['/health', '/monitor/health']);
    const run = apiV2().toDagRun({
      dag_id: 'd',
      dag_run_id: 'r',
      state: 'running',
      logical_date: null,
      run_after: 'x',
    });
    expect(run).toMatchObject({ dagId: 'd', runId: 'r', state: 'running', logicalDate: null });
    expect(apiV1().toDagRun({ dag_run_id: 'r', execution_date: '2026-01-01T00:00:00Z' }).logicalDate).toBe(
      '2026-01-01T00:00:00Z',
    );
  });

  it('links to each UI’s run page', () => {
    expect(apiV1().uiUrl('http://h', 'd', 'r 1')).toBe('http://h/dags/d/grid?dag_run_id=r%201');
    expect(apiV2().uiUrl('http://h', 'd', 'r 1')).toBe('http://h/dags/d/runs/r%201');
    expect(apiV2().uiUrl('http://h')).toBe('http://h');
  });

  it('turns each error shape into one line', () => {
    expect(apiV1().problem({ status: 404, body: { title: 'DAG not found', detail: 'x' } })).toBe(
      'DAG not found: x',
    );
    expect(apiV2().problem({ status: 404, body: { detail: 'The Dag with ID: `x` was not found' } })).toBe(
      'The Dag with ID: `x` was not found',
    );
    expect(
      apiV2().problem({
        status: 422,
        body: { detail: [{ loc: ['body', 'conf'], msg: 'Input should be a valid dictionary' }] },
      }),
    ).toBe('conf: Input should be a valid dictionary');
    expect(
      apiV2().problem({ status: 409, body: { detail: { reason: 'Unique constraint violation' } } }),
    ).toBe('Unique constraint violation');
  });
});

describe('detectVersion', () => {
  const server = (answers: Record<string, ApiResponse>) => {
    const asked: string[] = [];
    const send = async (request: ApiRequest) => {
      asked.push(`${request.api}${request.path}`);
      return answers[request.api] ?? { status: 404, body: undefined };
    };
    return { asked, send };
  };

  it('asks /api/v2 first and believes the version string over the route', async () => {
    const three = server({ v2: { status: 200, body: { version: '3.0.6' } } });
    expect(await detectVersion(three.send)).toEqual({ api: 'v2', version: '3.0.6' });
    expect(three.asked).toEqual(['v2/version']);
    // MWAA's InvokeRestApi routes by version itself: the v2 question may get a 2.x answer.
    const routed = server({ v2: { status: 200, body: { version: '2.10.3' } } });
    expect((await detectVersion(routed.send)).api).toBe('v1');
  });

  it('falls back to /api/v1 on a 404, and says what to set when neither answers', async () => {
    const two = server({ v1: { status: 200, body: { version: '2.10.5', git_version: null } } });
    expect(await detectVersion(two.send)).toEqual({ api: 'v1', version: '2.10.5' });
    expect(two.asked).toEqual(['v2/version', 'v1/version']);
    await expect(detectVersion(server({}).send)).rejects.toThrow(/set api=v1 \(Airflow 2\) or api=v2/);
    const denied = server({ v2: { status: 401, body: {} } });
    await expect(detectVersion(denied.send)).rejects.toThrow(/HTTP 401/);
    expect(denied.asked).toEqual(['v2/version']);
  });

  it('compares versions numerically', () => {
    expect(atLeast('2.10.5', '2.5')).toBe(true);
    expect(atLeast('2.4.3', '2.5')).toBe(false);
    expect(atLeast('3.0.0rc1', '2.5')).toBe(true);
  });
});

describe('the environment string names the API', () => {
  it('accepts api=v1|v2|auto on every kind and rejects anything else', () => {
    expect(parseEnvironment('https://admin@h:8080?api=v2', 'pw')).toMatchObject({
      api: 'v2',
      baseUrl: 'https://h:8080',
    });
    expect(parseEnvironment('mwaa://e?region=us-east-1&api=v1')).toMatchObject({ api: 'v1' });
    expect(parseEnvironment('dms://af-1?region=cn-hangzhou&api=auto')).not.toHaveProperty('api');
    expect(() => parseEnvironment('dms://af-1?region=cn-hangzhou&api=3')).toThrow(
      /api must be "v1" \(Airflow 2\)/,
    );
    expect(() => parseEnvironment('https://h?apy=v2')).toThrow(/unknown option "apy"/);
  });
});

describe('jwtExpiry', () => {
  const jwt = (payload: object) =>
    `h.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.signature`;

  it('reads exp in ms, and nothing from a token without one', () => {
    expect(jwtExpiry(jwt({ sub: 'admin', exp: 1_800_000_000 }))).toBe(1_800_000_000_000);
    expect(jwtExpiry(jwt({ sub: 'admin' }))).toBeUndefined();
    expect(jwtExpiry('not-a-jwt')).toBeUndefined();
    expect(jwtExpiry('a.%%%.c')).toBeUndefined();
  });
});

describe('the public surface', () => {
  // The entry points the package's exports map to (the packed tarball itself: test/integration/package*.test.ts).
  it('is the client factory, the error type, the environment parser, and one transport per provider', async () => {
    const surface = await import('#lib/index.ts');
    const mwaa = await import('#lib/mwaa.ts');
    const dms = await import('#lib/dms.ts');
    expect(Object.keys(surface).sort()).toEqual([
      'AirkickError',
      'createAirflowClient',
      'describeEnvironment',
      'isAirkickError',
      'parseEnvironment',
    ]);
    // Internals (REST_API_PATH_MAX, restApiEndpoint, dmsError) stay inside.
    expect(Object.keys(mwaa)).toEqual(['mwaaTransport']);
    expect(Object.keys(dms)).toEqual(['dmsTransport']);
    const client = surface.createAirflowClient('https://admin@airflow.example.com?api=v2', {
      providers: { mwaa: mwaa.mwaaTransport, dms: dms.dmsTransport },
      password: 'pw',
      fresh: true,
    });
    expect(client.environment).toBe('https://airflow.example.com');
    expect(() => surface.parseEnvironment('mwaa://x')).toThrow(surface.AirkickError);
  });
});

describe('an Airflow 3 asked on /api/v1', () => {
  it('keeps its explanation in the error text', () => {
    const answer = {
      status: 404,
      body: { error: '/api/v1 has been removed in Airflow 3, please use /api/v2' },
    };
    expect(apiV1().problem(answer)).toContain('/api/v1 has been removed in Airflow 3');
  });
});

describe('health readings', () => {
  const now = Date.parse('2026-12-04T00:01:00Z');
  it('ages a heartbeat from the reading time, and gives a heartbeat that is no date no age', () => {
    const health = healthFrom(
      {
        metadatabase: { status: 'healthy' },
        scheduler: { status: 'healthy', latest_scheduler_heartbeat: '2026-12-04T00:00:30+00:00' },
        triggerer: { status: 'healthy', latest_triggerer_heartbeat: 'yesterday-ish' },
        dag_processor: { status: null, latest_dag_processor_heartbeat: null },
      },
      now,
    );
    expect(health.scheduler.heartbeatAgeSeconds).toBe(30);
    expect(health.triggerer).toEqual({
      status: 'healthy',
      latestHeartbeat: 'yesterday-ish',
      heartbeatAgeSeconds: null,
    });
    expect(health.dagProcessor).toBeUndefined();
  });
});
