/**
 * Retries against a real HTTP failure: a local proxy in front of the real Airflow answers the first
 * requests with 503/429 or drops the connection, then passes requests through.
 */
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createAirflowClient } from '#lib/client.ts';
import { isAirkickError } from '#lib/errors.ts';
import { airflowApi, apiOf } from '#test/support/targets.ts';

const airflow = inject('airflow');
type Failure = 'status-503' | 'status-429' | 'drop' | 'redirect' | 'html-200';
let failures: Failure[] = [];
let seen: string[] = [];
let server: Server;
let port = 0;

beforeAll(async () => {
  const upstream = new URL(airflow.baseUrl);
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    // A proxy's page meets the trigger itself, not the JWT fetch before it (Airflow 3).
    const waitsForTrigger =
      failures[0] === 'html-200' && !(req.method === 'POST' && req.url?.endsWith('/dagRuns'));
    const failure = waitsForTrigger ? undefined : failures.shift();
    if (failure === 'drop') return req.socket.destroy();
    if (failure === 'redirect') {
      // An http -> https redirect in front of Airflow, as a load balancer gives.
      res.writeHead(301, { location: `https://airflow.example.com${req.url}` });
      return res.end();
    }
    if (failure === 'html-200') {
      // A proxy's own page with a 200, e.g. a sign-in or maintenance page.
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<html><body>Please sign in</body></html>');
    }
    if (failure) {
      res.writeHead(failure === 'status-503' ? 503 : 429, {
        'retry-after': '0',
        'content-type': 'application/json',
      });
      return res.end(JSON.stringify({ title: 'Service Unavailable', status: 503 }));
    }
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  failures = [];
  seen = [];
});

const client = () =>
  // The API version is pinned so the proxy sees only the calls under test, not the version probe.
  createAirflowClient(`http://${airflow.username}@127.0.0.1:${port}?api=${apiOf(airflow)}`, {
    password: airflow.password,
    providers: {},
    fresh: true,
  });

describe('retries through a failing proxy', () => {
  it('retries 503, 429 and a dropped connection, then succeeds', async () => {
    failures = ['status-503', 'status-429', 'drop'];
    const health = await client().health();
    expect(health.metadatabase.status).toBe('healthy');
    // Three faults, then the answer (health needs no token on either version, so no JWT fetch).
    expect(seen).toHaveLength(4);
    expect(seen.at(-1)).toMatch(/^GET .*health/);
  });

  it('retries a trigger that carries a run id and creates exactly one run', async () => {
    const runId = `retry-${randomUUID().slice(0, 8)}`;
    failures = ['status-503', 'drop'];
    const { run, alreadyTriggered } = await client().triggerDagRun({
      dagId: 'airkick_slow',
      runId,
      conf: { seconds: 0 },
    });
    expect(alreadyTriggered).toBe(false);
    expect(run.runId).toBe(runId);
    expect((await airflowApi(airflow, `/dags/airkick_slow/dagRuns/${runId}`)).status).toBe(200);
  });

  it('never retries a trigger without a run id', async () => {
    failures = ['status-503'];
    const error = await client()
      .triggerDagRun({ dagId: 'airkick_slow', conf: { seconds: 0 } })
      .catch((e: unknown) => e);
    expect(isAirkickError(error, 'SERVER')).toBe(true);
    expect((error as { status: number }).status).toBe(503);
    expect(seen).toHaveLength(1);
  });

  it('gives up at the deadline instead of retrying past it', async () => {
    failures = Array.from({ length: 10 }, () => 'status-503' as const);
    const error = await client()
      .health({ deadline: Date.now() + 300 })
      .catch((e: unknown) => e);
    expect(isAirkickError(error)).toBe(true);
    expect(seen.length).toBeLessThan(10);
  });

  it('treats a redirect as an error naming where it points, and creates no run', async () => {
    const runId = `redirect_${randomUUID().slice(0, 8)}`;
    const before = seen.length;
    // Every request this test makes meets the redirect (the JWT fetch on Airflow 3 too).
    failures = ['redirect', 'redirect', 'redirect', 'redirect'];
    const error = await client()
      .triggerDagRun({ dagId: 'airkick_slow', runId, conf: { seconds: 0 } })
      .catch((e: unknown) => e);
    failures = [];
    expect(isAirkickError(error, 'REDIRECT')).toBe(true);
    expect(String(error)).toMatch(/redirect|HTTP 301/);
    expect(seen.length - before).toBe(1);
    expect((await airflowApi(airflow, `/dags/airkick_slow/dagRuns/${runId}`)).status).toBe(404);
  });

  it('treats a 200 that is not the DAG run as an error, not as a triggered run', async () => {
    const runId = `html_${randomUUID().slice(0, 8)}`;
    failures = ['html-200'];
    const error = await client()
      .triggerDagRun({ dagId: 'airkick_slow', runId, conf: { seconds: 0 } })
      .catch((e: unknown) => e);
    expect(isAirkickError(error, 'SERVER')).toBe(true);
    expect(String(error)).toContain('is not the DAG run');
    expect(failures).toEqual([]);
  });
});
