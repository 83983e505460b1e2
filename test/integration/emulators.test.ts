import OpenApi, { Config, OpenApiRequest, Params } from '@alicloud/openapi-client';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CreateCliTokenCommand, CreateWebLoginTokenCommand, MWAAClient } from '@aws-sdk/client-mwaa';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EXAMPLE_DAGS } from '#test/airflow/airflow.ts';
import { type DmsEmulator, type DmsEmulatorOptions, startDmsEmulator } from '#test/emulators/dms.ts';
import {
  airflowRoleDeniedMessage,
  type MwaaEmulator,
  type MwaaEmulatorOptions,
  startMwaaEmulator,
} from '#test/emulators/mwaa.ts';
import { adminFetch } from '#test/support/airflow-rest.ts';

const airflow = inject('airflow');
/** Where the protocols differ: Airflow 3 gateways hand out JWTs and serve `/api/v2`. */
const v3 = airflow.major === 3;
/** `/api/v1` or `/api/v2`, the REST API the gateways pass through. */
const api = new URL(airflow.apiRoot).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** `-o json` output; Airflow 3 may print warning lines before the JSON. */
const cliJson = (stdout: string): unknown => JSON.parse(stdout.slice(Math.max(0, stdout.search(/^[[{]/m))));
const sortedDagIds = (stdout: string) =>
  (cliJson(stdout) as { dag_id: string }[]).map((d) => d.dag_id).sort();

/** Status and body (parsed when it is JSON) of a GET, to compare a gateway's answer with Airflow's. */
async function answerAt(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers, redirect: 'manual' });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, body: text };
  }
}
/** The real Airflow's own answer to `path` (from the server root). */
const airflowAnswer = (path: string, headers: Record<string, string> = {}) =>
  answerAt(`${airflow.baseUrl}${path}`, headers);
/** What the real Airflow answers an unauthenticated call: what both gateways must imitate. */
async function airflowUnauthenticated(): Promise<unknown> {
  return (await fetch(`${airflow.apiRoot}/dags`)).json();
}
/** Straight from the real Airflow as its admin, to compare with what came through a gateway. */
async function direct(path: string, query?: string): Promise<Response> {
  return adminFetch(airflow, { path, ...(query ? { query } : {}) });
}
const jwtPayload = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

async function withEmulator<E extends { stop(): Promise<void> }>(emulator: E, fn: (e: E) => Promise<void>) {
  try {
    await fn(emulator);
  } finally {
    await emulator.stop();
  }
}

describe('MWAA emulator', () => {
  let mwaa: MwaaEmulator;
  beforeAll(async () => {
    mwaa = await startMwaaEmulator(airflow);
  });
  afterAll(() => mwaa.stop());

  const sdk = (e: MwaaEmulator, secretAccessKey = e.credentials.secretAccessKey) =>
    new MWAAClient({
      endpoint: e.endpoint,
      disableHostPrefix: true,
      region: e.region,
      credentials: { accessKeyId: e.credentials.accessKeyId, secretAccessKey },
      maxAttempts: 1,
    });

  async function signedPost(e: MwaaEmulator, path: string, input: unknown, signingDate?: Date) {
    const url = new URL(`${e.endpoint}${path}`);
    const body = JSON.stringify(input);
    const signer = new SignatureV4({
      credentials: e.credentials,
      region: e.region,
      service: 'airflow',
      sha256: Sha256,
    });
    const signed = await signer.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query: {},
        headers: { host: url.host, 'content-type': 'application/json' },
        body,
      },
      signingDate ? { signingDate } : {},
    );
    const { host: _host, ...headers } = signed.headers;
    const response = await fetch(url, { method: 'POST', headers, body });
    return {
      status: response.status,
      errorType: response.headers.get('x-amzn-errortype'),
      retryAfter: response.headers.get('retry-after'),
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  const invokeRestApi = (e: MwaaEmulator, input: Record<string, unknown>, name = e.environmentName) =>
    signedPost(e, `/restapi/${name}`, input);

  async function cli(e: MwaaEmulator, command: string, token?: string) {
    const bearer =
      token ?? (await sdk(e).send(new CreateCliTokenCommand({ Name: e.environmentName }))).CliToken;
    const response = await fetch(`http://${e.webServerHostname}/aws_mwaa/cli`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'text/plain' },
      body: command,
    });
    const text = await response.text();
    if (response.status !== 200) return { status: response.status, stdout: '', stderr: '', raw: text };
    const body = JSON.parse(text) as { stdout: string; stderr: string };
    const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
    return { status: 200, stdout: decode(body.stdout), stderr: decode(body.stderr), raw: text };
  }

  /** Each version's login path: AWS's REST API page and the Amazon provider's MwaaHook. */
  const loginPath = v3 ? '/pluginsv2/aws_mwaa/login' : '/aws_mwaa/login';
  const otherLoginPath = v3 ? '/aws_mwaa/login' : '/pluginsv2/aws_mwaa/login';
  const webToken = async (e: MwaaEmulator) =>
    (await sdk(e).send(new CreateWebLoginTokenCommand({ Name: e.environmentName }))).WebToken ?? '';

  async function webLogin(e: MwaaEmulator, token?: string, path = loginPath) {
    return fetch(`http://${e.webServerHostname}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: token ?? (await webToken(e)) }),
      redirect: 'manual',
    });
  }
  /** The session cookie's value: `session` (Airflow 2) or `_token`, a JWT (Airflow 3). */
  const sessionOf = (response: Response) =>
    new RegExp(`^${v3 ? '_token' : 'session'}=([^;]+)`).exec(response.headers.get('set-cookie') ?? '')?.[1];
  /** How a client calls the API with the session: the cookie (2), the JWT as a Bearer token (3). */
  const credentialOf = (response: Response): Record<string, string> =>
    v3 ? { authorization: `Bearer ${sessionOf(response)}` } : { cookie: `session=${sessionOf(response)}` };

  it('issues CLI and web login tokens to the real SDK and counts the calls', async () => {
    mwaa.resetCounts();
    const client = sdk(mwaa);
    const cliToken = await client.send(new CreateCliTokenCommand({ Name: mwaa.environmentName }));
    expect(cliToken.CliToken).toMatch(/^\S{20,}$/);
    expect(cliToken.WebServerHostname).toBe(mwaa.webServerHostname);
    const webToken = await client.send(new CreateWebLoginTokenCommand({ Name: mwaa.environmentName }));
    expect(webToken).toMatchObject({ WebServerHostname: mwaa.webServerHostname });
    expect(webToken.WebToken).not.toBe(cliToken.CliToken);
    expect(webToken.IamIdentity).toBeTruthy();
    expect(webToken.AirflowIdentity).toBeTruthy();
    expect(mwaa.counts()).toEqual({ clitoken: 1, webtoken: 1 });
  });

  it('answers an unknown environment with ResourceNotFoundException (404)', async () => {
    const error = await sdk(mwaa)
      .send(new CreateCliTokenCommand({ Name: 'no-such-env' }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
  });

  it('rejects a wrong secret and a stale X-Amz-Date as InvalidSignatureException (403)', async () => {
    const error = await sdk(mwaa, 'not-the-secret')
      .send(new CreateCliTokenCommand({ Name: mwaa.environmentName }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 } });
    expect(JSON.stringify(error)).not.toContain(mwaa.credentials.secretAccessKey);

    const stale = await signedPost(
      mwaa,
      `/clitoken/${mwaa.environmentName}`,
      {},
      new Date(Date.now() - 10 * 60_000),
    );
    expect(stale).toMatchObject({ status: 403, errorType: 'InvalidSignatureException' });
    const fresh = await signedPost(mwaa, `/clitoken/${mwaa.environmentName}`, {});
    expect(fresh.status).toBe(200);
  });

  it('runs `dags list -o json` through /aws_mwaa/cli with base64 output', async () => {
    const { status, stdout, raw } = await cli(mwaa, 'dags list -o json');
    expect(status).toBe(200);
    const body = JSON.parse(raw) as { stdout: string; stderr: string };
    expect(body.stdout).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(sortedDagIds(stdout)).toEqual([...EXAMPLE_DAGS].sort());
    const version = await cli(mwaa, 'version');
    expect(version.stdout.trim()).toBe(airflow.version);
  });

  it('splits the command with real shlex, so shell quoting survives the round trip', async () => {
    const value = `it's {"a": 1}`;
    const quoted = `'${value.replaceAll("'", `'"'"'`)}'`;
    expect((await cli(mwaa, `variables set airkick_emulator ${quoted}`)).status).toBe(200);
    const got = await cli(mwaa, 'variables get airkick_emulator');
    expect(got.stdout.trim()).toBe(value);
    expect(mwaa.stats()).toEqual({ maxCliConcurrency: 1, cliOverlaps: 0 });
  });

  it('answers HTTP 500 for commands MWAA does not support and 403 for a bad token', async () => {
    expect((await cli(mwaa, 'users list')).status).toBe(500);
    const reset = await cli(mwaa, 'db reset -y');
    expect(reset.status).toBe(500);
    // Airflow 3: a group the endpoint serves (`db clean` is allowed), with a subcommand it blocks.
    if (v3) expect(JSON.parse(reset.raw)).toEqual({ message: 'sub command not allowed' });
    else expect(reset.raw).not.toContain('sub command');
    expect((await cli(mwaa, 'users list')).raw).not.toContain('sub command');
    expect((await cli(mwaa, 'version', 'not-a-token')).status).toBe(403);
  });

  it('runs `db clean` through the CLI endpoint (AWS cleanup guidance, Airflow 3 too)', async () => {
    const { status, stdout, stderr } = await cli(
      mwaa,
      'db clean --clean-before-timestamp 2000-01-01T00:00:00+00:00 --dry-run --yes',
    );
    expect(status).toBe(200);
    expect(`${stdout}\n${stderr}`).toMatch(/Checking table \S+/);
  });

  it('refuses an expired CLI token', async () => {
    await withEmulator(await startMwaaEmulator(airflow, { cliTokenTtlMs: 300 }), async (e) => {
      const { CliToken } = await sdk(e).send(new CreateCliTokenCommand({ Name: e.environmentName }));
      await sleep(500);
      expect((await cli(e, 'version', CliToken)).status).toBe(403);
    });
  });

  it('rejects and counts a CLI request that overlaps a running one', async () => {
    await withEmulator(await startMwaaEmulator(airflow, { cliDelayMs: 1500 }), async (e) => {
      const client = sdk(e);
      const tokens = await Promise.all(
        [1, 2].map(() => client.send(new CreateCliTokenCommand({ Name: e.environmentName }))),
      );
      const results = await Promise.all(tokens.map((t) => cli(e, 'version', t.CliToken)));
      expect(results.map((r) => r.status).sort()).toEqual([200, 503]);
      expect(results.find((r) => r.status === 200)?.stdout.trim()).toBe(airflow.version);
      expect(e.stats()).toEqual({ maxCliConcurrency: 2, cliOverlaps: 1 });
      expect(e.counts().cli).toBe(2);
    });
  });

  it(`logs in with a web token and passes ${api} through to Airflow with the session`, async () => {
    const login = await webLogin(mwaa);
    if (v3) {
      // `_token` is a JWT of the environment's own Airflow, for `Authorization: Bearer`.
      expect(login.status).toBe(200);
      expect(login.headers.get('location')).toBeNull();
      expect(login.headers.get('set-cookie')).toMatch(/^_token=[^;]+; HttpOnly; Path=\/; SameSite=Lax$/);
      expect(jwtPayload(sessionOf(login) ?? '')).toMatchObject({
        sub: airflow.username,
        aud: 'apache-airflow',
      });
    } else {
      expect(login.status).toBe(302);
      expect(login.headers.get('location')).toBe('/home');
      expect(login.headers.get('set-cookie')).toMatch(/^session=[^;]+; Path=\/; HttpOnly$/);
    }
    const credential = credentialOf(login);

    const viaGateway = await fetch(`http://${mwaa.webServerHostname}${api}/dags?limit=2&order_by=dag_id`, {
      headers: credential,
    });
    const straight = await direct('/dags', 'limit=2&order_by=dag_id');
    expect(viaGateway.status).toBe(200);
    expect(viaGateway.headers.get('content-type')).toBe(straight.headers.get('content-type'));
    // The same DAGs, field for field, except what the scheduler rewrites between two reads (parse times).
    expect(stableDags(await viaGateway.json())).toEqual(stableDags(await straight.json()));

    const runId = `emulator-session-${Date.now()}`;
    const created = await fetch(`http://${mwaa.webServerHostname}${api}/dags/airkick_conf/dagRuns`, {
      method: 'POST',
      headers: { ...credential, 'content-type': 'application/json' },
      body: JSON.stringify({
        dag_run_id: runId,
        conf: { via: 'mwaa-session' },
        ...(v3 ? { logical_date: null } : {}),
      }),
    });
    expect(created.status).toBe(200);
    expect(await created.json()).toMatchObject({ dag_run_id: runId, conf: { via: 'mwaa-session' } });

    const anonymous = await fetch(`http://${mwaa.webServerHostname}${api}/dags`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toBe(v3 ? 'application/json' : 'application/problem+json');
    expect(await anonymous.json()).toEqual(await airflowUnauthenticated());
    expect((await webLogin(mwaa, 'not-a-token')).status).toBe(403);
  });

  it("answers the other version's login path with a 404 that leaves the web token unspent", async () => {
    mwaa.resetCounts();
    const token = await webToken(mwaa);
    const other = await webLogin(mwaa, token, otherLoginPath);
    expect(other.status).toBe(404);
    expect(other.headers.get('set-cookie')).toBeNull();
    if (v3) expect(await other.json()).toEqual({ detail: 'Not Found' });
    // The same token still logs in on the version's own path, once.
    const login = await webLogin(mwaa, token);
    expect(sessionOf(login)).toBeTruthy();
    expect((await webLogin(mwaa, token)).status).toBe(403);
    expect(mwaa.counts()).toEqual({ webtoken: 1, unknown: 1, login: 2 });
  });

  it(`answers ${api} without a valid session as the real Airflow does`, async () => {
    const gateway = (path: string, headers: Record<string, string> = {}) =>
      answerAt(`http://${mwaa.webServerHostname}${path}`, headers);
    for (const headers of [{}, { authorization: 'Bearer not-a-jwt' }, { cookie: 'session=not-a-session' }])
      expect(await gateway(`${api}/dags`, headers)).toEqual(await airflowAnswer(`${api}/dags`, headers));
    // The other version's API, and the health check that needs no credential.
    const otherApi = v3 ? '/api/v1' : '/api/v2';
    expect((await gateway(`${otherApi}/dags`)).status).toBe(404);
    expect(await gateway(`${otherApi}/dags`)).toEqual(await airflowAnswer(`${otherApi}/dags`));
    if (v3) {
      expect(await gateway(`${api}/dags`, { authorization: 'Bearer not-a-jwt' })).toEqual({
        status: 403,
        body: { detail: 'Invalid JWT token' },
      });
      // Airflow 3.1+ also takes the JWT from the `_token` cookie instead of the header.
      const jwt = sessionOf(await webLogin(mwaa)) ?? '';
      const viaCookie = await gateway(`${api}/dags/airkick_conf`, { cookie: `_token=${jwt}` });
      expect(viaCookie).toMatchObject({ status: 200, body: { dag_id: 'airkick_conf' } });
    }
  });

  it('expires web login tokens and sessions after their configured lifetimes', async () => {
    await withEmulator(
      await startMwaaEmulator(airflow, { webTokenTtlMs: 1500, sessionTtlMs: 3000 }),
      async (e) => {
        const [used, unused] = [await webToken(e), await webToken(e)];
        const login = await webLogin(e, used);
        expect(login.status).toBe(v3 ? 200 : 302);
        const credential = credentialOf(login);
        const dags = () => fetch(`http://${e.webServerHostname}${api}/dags`, { headers: credential });
        expect((await dags()).status).toBe(200);
        await sleep(3200);
        expect((await webLogin(e, unused)).status).toBe(403);
        const expired = await dags();
        expect(expired.status).toBe(401);
        if (v3) {
          // Airflow 3's answer to an expired JWT; the health check, open to anyone, still answers.
          expect(await expired.json()).toEqual({ detail: 'Token Expired' });
          const health = await fetch(`http://${e.webServerHostname}${api}/monitor/health`, {
            headers: credential,
          });
          expect(health.status).toBe(200);
          const cookie = await fetch(`http://${e.webServerHostname}${api}/dags`, {
            headers: { cookie: `_token=${sessionOf(login)}` },
          });
          expect(cookie.status).toBe(401);
          expect(cookie.headers.get('set-cookie')).toMatch(/^_token=""; HttpOnly; Max-Age=0; Path=\/;/);
        } else {
          expect(await expired.json()).toEqual(await airflowUnauthenticated());
        }
      },
    );
  });

  it('proxies InvokeRestApi and maps Airflow errors to RestApiClientException', async () => {
    mwaa.resetCounts();
    const ok = await invokeRestApi(mwaa, { Method: 'GET', Path: '/dags', QueryParameters: { limit: 1 } });
    expect(ok.status).toBe(200);
    expect(ok.body.RestApiStatusCode).toBe(200);
    expect((ok.body.RestApiResponse as { dags: unknown[] }).dags).toHaveLength(1);

    const missing = await invokeRestApi(mwaa, { Method: 'GET', Path: '/dags/no_such_dag' });
    expect(missing).toMatchObject({ status: 400, errorType: 'RestApiClientException' });
    expect(missing.body).toMatchObject({
      RestApiStatusCode: 404,
      RestApiResponse: await (await direct('/dags/no_such_dag')).json(),
    });
    // The relative Path goes to the environment's own API: Airflow 3's health lives under /monitor.
    const health = await invokeRestApi(mwaa, { Method: 'GET', Path: v3 ? '/monitor/health' : '/health' });
    expect(health.body).toMatchObject({
      RestApiStatusCode: 200,
      RestApiResponse: { metadatabase: { status: 'healthy' } },
    });

    const runId = `emulator-restapi-${Date.now()}`;
    const trigger = {
      Method: 'POST',
      Path: '/dags/airkick_conf/dagRuns',
      Body: { dag_run_id: runId, ...(v3 ? { logical_date: null } : {}) },
    };
    expect((await invokeRestApi(mwaa, trigger)).body).toMatchObject({
      RestApiStatusCode: 200,
      RestApiResponse: { dag_run_id: runId },
    });
    const duplicate = await invokeRestApi(mwaa, trigger);
    expect(duplicate).toMatchObject({ status: 400, errorType: 'RestApiClientException' });
    expect(duplicate.body.RestApiStatusCode).toBe(409);

    const invalid = await invokeRestApi(mwaa, { Method: 'TRACE', Path: '/dags' });
    expect(invalid).toMatchObject({ status: 400, errorType: 'ValidationException' });
    const unknown = await invokeRestApi(mwaa, { Method: 'GET', Path: '/dags' }, 'no-such-env');
    expect(unknown).toMatchObject({ status: 404, errorType: 'ResourceNotFoundException' });
    expect(mwaa.counts()).toEqual({ restapi: 7 });
  });

  it('holds InvokeRestApi to the model: Path 1..64 characters, Method from the enum', async () => {
    mwaa.resetCounts();
    const path64 = `/dags/${'x'.repeat(58)}`;
    expect(path64).toHaveLength(64);
    const atLimit = await invokeRestApi(mwaa, { Method: 'GET', Path: path64 });
    // Passed validation and reached Airflow, which knows no such DAG.
    expect(atLimit).toMatchObject({ status: 400, errorType: 'RestApiClientException' });
    expect(atLimit.body.RestApiStatusCode).toBe(404);

    const path65 = `${path64}y`;
    const tooLong = await invokeRestApi(mwaa, { Method: 'GET', Path: path65 });
    expect(tooLong).toMatchObject({ status: 400, errorType: 'ValidationException' });
    expect(tooLong.body).toEqual({
      message: `1 validation error detected: Value '${path65}' at 'path' failed to satisfy constraint: Member must have length less than or equal to 64`,
    });

    const empty = await invokeRestApi(mwaa, { Method: 'GET', Path: '' });
    expect(empty.body.message).toBe(
      "1 validation error detected: Value '' at 'path' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    const both = await invokeRestApi(mwaa, { Path: path65 });
    expect(both).toMatchObject({ status: 400, errorType: 'ValidationException' });
    expect(both.body.message).toMatch(/^2 validation errors detected: .*at 'path'.*; Value null at 'method'/);
    const method = await invokeRestApi(mwaa, { Method: 'get', Path: '/dags' });
    expect(method.body.message).toContain(
      "Value 'get' at 'method' failed to satisfy constraint: Member must satisfy enum value set: [GET, PUT, POST, PATCH, DELETE]",
    );
    const nested = await invokeRestApi(mwaa, {
      Method: 'GET',
      Path: '/dags',
      QueryParameters: { a: { b: 1 } },
    });
    expect(nested).toMatchObject({ status: 400, errorType: 'ValidationException' });
    const badName = await invokeRestApi(mwaa, { Method: 'GET', Path: '/dags' }, '9starts-with-digit');
    expect(badName).toMatchObject({ status: 400, errorType: 'ValidationException' });
    expect(badName.body.message).toContain('regular expression pattern: [a-zA-Z][0-9a-zA-Z-_]*');
    expect(mwaa.counts()).toEqual({ restapi: 7 });
  });

  it('answers queued faults in each error-type shape, `times` times, and the SDK reads them all', async () => {
    const client = sdk(mwaa);
    const name = { Name: mwaa.environmentName };
    for (const typeIn of ['header', 'body-type', 'body-type-namespaced', 'body-code'] as const) {
      mwaa.failNext('clitoken', { status: 404, type: 'ResourceNotFoundException', typeIn });
      const error = await client.send(new CreateCliTokenCommand(name)).catch((e: unknown) => e);
      expect(error, typeIn).toMatchObject({
        name: 'ResourceNotFoundException',
        $metadata: { httpStatusCode: 404 },
      });
    }
    expect((await client.send(new CreateCliTokenCommand(name))).CliToken).toBeTruthy();

    mwaa.failNext('webtoken', { status: 500, type: 'InternalServerException', times: 2 });
    for (const _ of [1, 2]) {
      const error = await client.send(new CreateWebLoginTokenCommand(name)).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'InternalServerException', $fault: 'server' });
    }
    expect((await client.send(new CreateWebLoginTokenCommand(name))).WebToken).toBeTruthy();

    mwaa.failNext('webtoken', { status: 403, type: 'AccessDeniedException', message: 'Not authorized.' });
    const denied = await client.send(new CreateWebLoginTokenCommand(name)).catch((e: unknown) => e);
    expect(denied).toMatchObject({ name: 'AccessDeniedException', message: 'Not authorized.' });
  });

  it('carries the fault body: RestApiStatusCode, Message for AccessDenied, Retry-After on request', async () => {
    mwaa.resetCounts();
    const request = { Method: 'GET', Path: '/dags' };
    mwaa.failNext('restapi', {
      status: 400,
      type: 'RestApiServerException',
      extra: { RestApiStatusCode: 503, RestApiResponse: { title: 'Service Unavailable' } },
    });
    mwaa.failNext('restapi', { status: 429, type: 'ThrottlingException', retryAfterSeconds: 2 });
    mwaa.failNext('restapi', {
      status: 403,
      type: 'AccessDeniedException',
      message: airflowRoleDeniedMessage(mwaa.region, mwaa.environmentName),
    });
    const server = await invokeRestApi(mwaa, request);
    expect(server).toMatchObject({ status: 400, errorType: 'RestApiServerException', retryAfter: null });
    expect(server.body).toMatchObject({
      RestApiStatusCode: 503,
      RestApiResponse: { title: 'Service Unavailable' },
    });
    const throttled = await invokeRestApi(mwaa, request);
    expect(throttled).toMatchObject({ status: 429, errorType: 'ThrottlingException', retryAfter: '2' });
    expect(throttled.body).toEqual({ message: 'Rate exceeded' });
    const denied = await invokeRestApi(mwaa, request);
    expect(denied).toMatchObject({ status: 403, errorType: 'AccessDeniedException' });
    expect(String(denied.body.Message)).toContain('Airflow role');
    expect(denied.body.message).toBeUndefined();

    mwaa.failNext('restapi', {
      status: 500,
      type: 'InternalServerException',
      typeIn: 'body-type-namespaced',
    });
    const namespaced = await invokeRestApi(mwaa, request);
    expect(namespaced).toMatchObject({ status: 500, errorType: null });
    expect(namespaced.body.__type).toBe('com.amazonaws.mwaa#InternalServerException');
    expect((await invokeRestApi(mwaa, request)).status).toBe(200);
    expect(mwaa.counts()).toEqual({ restapi: 5 });
  });

  it('checks the signature before a fault, and clearFaults drops what is queued', async () => {
    mwaa.failNext('clitoken', { status: 404, type: 'ResourceNotFoundException', times: 3 });
    const unsigned = await sdk(mwaa, 'not-the-secret')
      .send(new CreateCliTokenCommand({ Name: mwaa.environmentName }))
      .catch((e: unknown) => e);
    expect(unsigned).toMatchObject({ name: 'InvalidSignatureException' });
    const queued = await sdk(mwaa)
      .send(new CreateCliTokenCommand({ Name: mwaa.environmentName }))
      .catch((e: unknown) => e);
    expect(queued).toMatchObject({ name: 'ResourceNotFoundException' });
    mwaa.clearFaults();
    expect(
      (await sdk(mwaa).send(new CreateCliTokenCommand({ Name: mwaa.environmentName }))).CliToken,
    ).toBeTruthy();
    expect(() =>
      mwaa.failNext('restapi', { status: 500, type: 'InternalServerException', times: 0 }),
    ).toThrow(RangeError);
  });

  it('records control-plane requests as received when asked to', async () => {
    await withEmulator(await startMwaaEmulator(airflow, { record: true }), async (e) => {
      await sdk(e).send(new CreateCliTokenCommand({ Name: e.environmentName }));
      await invokeRestApi(e, { Method: 'GET', Path: '/health' });
      const [cliToken, restApi] = e.requests();
      expect(cliToken).toMatchObject({
        route: 'clitoken',
        method: 'POST',
        url: `/clitoken/${e.environmentName}`,
      });
      expect(cliToken?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=/);
      expect(JSON.parse(String(restApi?.body))).toEqual({ Method: 'GET', Path: '/health' });
      e.resetCounts();
      expect(e.requests()).toEqual([]);
    });
    expect(mwaa.requests()).toEqual([]);
  });

  it('denies InvokeRestApi on the Airflow role when configured to', async () => {
    const options: MwaaEmulatorOptions = { restApi: 'denied' };
    await withEmulator(await startMwaaEmulator(airflow, options), async (e) => {
      const denied = await invokeRestApi(e, { Method: 'GET', Path: '/dags' });
      expect(denied).toMatchObject({ status: 403, errorType: 'AccessDeniedException' });
      expect(String(denied.body.Message)).toContain('Airflow role');
      expect(String(denied.body.Message)).toContain('airflow:InvokeRestApi');
    });
  });
});

describe('DMS emulator', () => {
  let dms: DmsEmulator;
  beforeAll(async () => {
    dms = await startDmsEmulator(airflow);
  });
  afterAll(() => dms.stop());

  // Node hands an ESM importer the CommonJS `module.exports`; vitest's loader already unwraps `default`.
  const OpenApiClient = ((OpenApi as unknown as { default?: unknown }).default ??
    OpenApi) as typeof OpenApi.default;
  // callApi reads only optional fields of the runtime options.
  const runtime = {} as Parameters<OpenApi.default['callApi']>[2];

  async function createLoginToken(
    e: DmsEmulator,
    airflowId: string,
    options: { accessKeySecret?: string; inBody?: boolean } = {},
  ) {
    const client = new OpenApiClient(
      new Config({
        endpoint: e.endpoint,
        protocol: 'http',
        accessKeyId: e.credentials.accessKeyId,
        accessKeySecret: options.accessKeySecret ?? e.credentials.accessKeySecret,
      }),
    );
    const params = new Params({
      action: 'CreateAirflowLoginToken',
      version: '2025-04-14',
      protocol: 'HTTP',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      pathname: '/',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    const request = new OpenApiRequest(
      options.inBody ? { body: { AirflowId: airflowId } } : { query: { AirflowId: airflowId } },
    );
    const response = await client.callApi(params, request, runtime);
    return response.body as {
      Success: boolean;
      Code: string;
      ErrorCode?: string;
      HttpStatusCode: number;
      Data: { Token: string; Host: string };
    };
  }

  async function login(host: string, token: string) {
    return fetch(`${host}/login?token=${encodeURIComponent(token)}`, { redirect: 'manual' });
  }
  /** The login's cookie: `session` on Airflow 2 (documented), `_token` holding a JWT on Airflow 3 (assumed). */
  const cookieName = v3 ? '_token' : 'session';
  const cookieValue = (response: Response) =>
    new RegExp(`^${cookieName}=([^;]+)`).exec(response.headers.get('set-cookie') ?? '')?.[1];
  const cookieOf = (response: Response) => `${cookieName}=${cookieValue(response)}`;

  async function command(host: string, cookie: string, text: string) {
    return fetch(`${host}/api/v1/command?command=${encodeURIComponent(text)}`, {
      method: 'POST',
      headers: { cookie },
    });
  }

  it('creates a login token through @alicloud/openapi-client (query or form parameters)', async () => {
    dms.resetCounts();
    const body = await createLoginToken(dms, dms.airflowId);
    expect(body).toMatchObject({ Success: true, Code: '200', HttpStatusCode: 200, Data: { Host: dms.host } });
    expect(body.Data.Host).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:\\d+/airflow/[^/]+/[^/]+/${dms.airflowId}$`),
    );
    expect(body.Data.Token).toMatch(/^\S{20,}$/);
    const viaForm = await createLoginToken(dms, dms.airflowId, { inBody: true });
    expect(viaForm.Data.Token).not.toBe(body.Data.Token);
    expect(dms.counts()).toEqual({ token: 2 });
  });

  it('rejects a wrong AccessKey secret with SignatureDoesNotMatch', async () => {
    const error = await createLoginToken(dms, dms.airflowId, { accessKeySecret: 'wrong-secret' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'SignatureDoesNotMatch', data: { statusCode: 400 } });
    expect(String(error)).not.toContain(dms.credentials.accessKeySecret);
  });

  it('answers an unknown AirflowId with an error body (HttpStatusCode 404)', async () => {
    const error = await createLoginToken(dms, 'af-doesnotexist').catch((e: unknown) => e);
    expect(error).toMatchObject({ data: { Success: false, HttpStatusCode: 404, statusCode: 404 } });
  });

  it('answers queued faults as the gateway does: error body and status, or Success:false at HTTP 200', async () => {
    dms.resetCounts();
    dms.failNext({ status: 400, code: 'Throttling.User', times: 2, retryAfterSeconds: 1 });
    for (const _ of [1, 2]) {
      const error = await createLoginToken(dms, dms.airflowId).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'Throttling.User',
        data: {
          statusCode: 400,
          Code: 'Throttling.User',
          Message: 'Request was denied due to user flow control.',
        },
      });
    }
    dms.failNext({ status: 503, code: 'ServiceUnavailable', successFalse: true });
    const unsuccessful = await createLoginToken(dms, dms.airflowId);
    expect(unsuccessful).toMatchObject({
      Success: false,
      Code: 'ServiceUnavailable',
      ErrorCode: 'ServiceUnavailable',
      HttpStatusCode: 503,
    });
    expect(unsuccessful.Data).toBeUndefined();
    dms.failNext({ status: 500, code: 'InternalError', message: 'boom' });
    const server = await createLoginToken(dms, dms.airflowId).catch((e: unknown) => e);
    expect(server).toMatchObject({ code: 'InternalError', data: { statusCode: 500, Message: 'boom' } });
    expect((await createLoginToken(dms, dms.airflowId)).Success).toBe(true);
    expect(dms.counts()).toEqual({ token: 5 });
  });

  it('checks the signature before a fault, and clearFaults drops what is queued', async () => {
    dms.failNext({ status: 400, code: 'Throttling', times: 5 });
    const unsigned = await createLoginToken(dms, dms.airflowId, { accessKeySecret: 'wrong-secret' }).catch(
      (e: unknown) => e,
    );
    expect(unsigned).toMatchObject({ code: 'SignatureDoesNotMatch' });
    const queued = await createLoginToken(dms, dms.airflowId).catch((e: unknown) => e);
    expect(queued).toMatchObject({
      code: 'Throttling',
      data: { Message: 'Request was denied due to request throttling.' },
    });
    dms.clearFaults();
    expect((await createLoginToken(dms, dms.airflowId)).Success).toBe(true);
  });

  it('records OpenAPI requests as received when asked to', async () => {
    await withEmulator(await startDmsEmulator(airflow, { record: true }), async (e) => {
      await createLoginToken(e, e.airflowId);
      const [request] = e.requests();
      expect(request).toMatchObject({
        route: 'token',
        method: 'POST',
        headers: { 'x-acs-action': 'CreateAirflowLoginToken' },
      });
      expect(request?.url).toContain(`AirflowId=${e.airflowId}`);
      expect(request?.headers.authorization).toMatch(/^ACS3-HMAC-SHA256 Credential=/);
    });
    expect(dms.requests()).toEqual([]);
  });

  it(`logs in with a 302 and a 30-day ${v3 ? '_token' : 'session'} cookie, then passes ${api} through`, async () => {
    const { Data } = await createLoginToken(dms, dms.airflowId);
    const response = await login(Data.Host, Data.Token);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${new URL(Data.Host).pathname}/home`);
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(new RegExp(`^${cookieName}=[^;]+; Expires=[^;]+ GMT;.*HttpOnly; Path=/`));
    const expires = Date.parse(/Expires=([^;]+)/.exec(setCookie)?.[1] ?? '');
    expect(Math.abs(expires - Date.now() - 30 * 24 * 3600_000)).toBeLessThan(60_000);
    if (v3) expect(jwtPayload(cookieValue(response) ?? '')).toMatchObject({ sub: airflow.username });
    const cookie = cookieOf(response);

    const health = await fetch(`${Data.Host}${api}${v3 ? '/monitor/health' : '/health'}`, {
      headers: { cookie },
    });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ metadatabase: { status: 'healthy' } });
    const viaGateway = await fetch(`${Data.Host}${api}/dags?order_by=dag_id`, { headers: { cookie } });
    expect(viaGateway.status).toBe(200);
    expect(await viaGateway.json()).toEqual(await (await direct('/dags', 'order_by=dag_id')).json());

    const anonymous = await fetch(`${Data.Host}${api}/dags`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual(await airflowUnauthenticated());
    expect((await login(Data.Host, 'not-a-token')).status).toBe(401);
  });

  it(`answers ${api} and the other API root on Airflow's behalf`, async () => {
    const { Data } = await createLoginToken(dms, dms.airflowId);
    const jwtOrSession = cookieValue(await login(Data.Host, Data.Token)) ?? '';
    const gateway = (path: string, headers: Record<string, string> = {}) =>
      answerAt(`${Data.Host}${path}`, headers);
    if (v3) {
      // The JWT also works as a Bearer token, and Airflow judges a foreign one itself.
      const bearer = await gateway(`${api}/dags/airkick_conf`, { authorization: `Bearer ${jwtOrSession}` });
      expect(bearer).toMatchObject({ status: 200, body: { dag_id: 'airkick_conf' } });
      expect(await gateway(`${api}/dags`, { authorization: 'Bearer not-a-jwt' })).toEqual(
        await airflowAnswer(`${api}/dags`, { authorization: 'Bearer not-a-jwt' }),
      );
      // `/api/v1` is gone in Airflow 3: its own 404, whatever the credential.
      const v1 = await gateway('/api/v1/dags', { cookie: `_token=${jwtOrSession}` });
      expect(v1.status).toBe(404);
      expect(v1).toEqual(await airflowAnswer('/api/v1/dags'));
    } else {
      expect((await gateway(`${api}/dags/airkick_conf`, { cookie: `session=${jwtOrSession}` })).status).toBe(
        200,
      );
      expect((await gateway('/api/v2/dags', { cookie: `session=${jwtOrSession}` })).status).toBe(404);
    }
  });

  it('runs CLI commands with plain-text output and refuses unsupported ones', async () => {
    const { Data } = await createLoginToken(dms, dms.airflowId);
    const cookie = cookieOf(await login(Data.Host, Data.Token));
    dms.resetCounts();

    const listed = await command(Data.Host, cookie, 'dags list -o json');
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as { stdout: string; stderr: string };
    expect(Object.keys(body).sort()).toEqual(['stderr', 'stdout']);
    expect(sortedDagIds(body.stdout)).toEqual([...EXAMPLE_DAGS].sort());
    const version = (await (await command(Data.Host, cookie, 'version')).json()) as { stdout: string };
    expect(version.stdout.trim()).toBe(airflow.version);

    expect((await command(Data.Host, cookie, 'users list')).status).toBe(400);
    expect((await command(Data.Host, 'session=bogus', 'version')).status).toBe(401);
    expect(dms.counts()).toEqual({ command: 4 });
  });

  it('expires login tokens and sessions after their configured lifetimes', async () => {
    const options: DmsEmulatorOptions = { loginTokenTtlMs: 1500, sessionTtlMs: 3000 };
    await withEmulator(await startDmsEmulator(airflow, options), async (e) => {
      const { Data } = await createLoginToken(e, e.airflowId);
      const first = await login(Data.Host, Data.Token);
      expect(first.status).toBe(302);
      const cookie = cookieOf(first);
      const dags = () => fetch(`${Data.Host}${api}/dags`, { headers: { cookie } });
      expect((await dags()).status).toBe(200);
      await sleep(3200);
      expect((await login(Data.Host, Data.Token)).status).toBe(401);
      const expired = await dags();
      expect(expired.status).toBe(401);
      expect(await expired.json()).toEqual(v3 ? { detail: 'Token Expired' } : await airflowUnauthenticated());
      const cli = await command(Data.Host, cookie, 'version');
      expect(cli.status).toBe(401);
    });
  });
});

/** A `/dags` answer without the fields the scheduler updates on every parse of the DAG files. */
function stableDags(body: unknown): unknown {
  const { dags, ...rest } = body as { dags: Record<string, unknown>[] };
  const moving = new Set([
    'last_parsed_time',
    'last_parsed',
    'last_expired',
    'next_dagrun',
    'next_dagrun_create_after',
    'next_dagrun_data_interval_start',
    'next_dagrun_data_interval_end',
    'next_dagrun_logical_date',
    'next_dagrun_run_after',
  ]);
  return {
    ...rest,
    dags: dags.map((dag) => Object.fromEntries(Object.entries(dag).filter(([key]) => !moving.has(key)))),
  };
}
