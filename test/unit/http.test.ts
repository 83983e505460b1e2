import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readCookie } from '#lib/auth/http-session.ts';
import type { AirkickError } from '#lib/errors.ts';
import { httpCall, retryAfterMs } from '#lib/http.ts';
import { withRetry } from '#lib/retry.ts';
import { readBody } from '#test/emulators/http.ts';
import { scriptedServers } from './alerts/scripted-server.ts';

const serve = scriptedServers();

const rejection = (work: Promise<unknown>) =>
  work.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error as AirkickError,
  );

interface CountingServer {
  url: string;
  /** TCP connections accepted so far. */
  connections: number;
  /** Requests received so far. */
  requests: number;
}

const counting: Server[] = [];
afterEach(async () => {
  await Promise.all(
    counting.splice(0).map(
      (server) =>
        new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
    ),
  );
});

/** A loopback server that counts connections; `handle` is told which request of its connection it serves. */
async function countingServer(
  handle: (req: IncomingMessage, res: ServerResponse, nthOnConnection: number) => void | Promise<void>,
): Promise<CountingServer> {
  const state: CountingServer = { url: '', connections: 0, requests: 0 };
  const served = new WeakMap<Socket, number>();
  const server = createServer((req, res) => {
    state.requests++;
    const nth = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, nth);
    void handle(req, res, nth);
  });
  server.on('connection', () => {
    state.connections++;
  });
  counting.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

describe('httpCall', () => {
  it('bounds the attempt by the deadline when that comes before its own timeout', async () => {
    const server = await serve(['hang']);
    const started = Date.now();
    const error = await rejection(
      httpCall({ method: 'GET', url: `${server.url}/slow`, timeoutMs: 10_000, deadline: Date.now() + 200 }),
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(error.message).toMatch(new RegExp(`^no answer within \\d+ ms \\(GET ${server.url}/slow\\)$`));
  });

  it('cuts a silent server at the deadline and serves the next call on a new connection', async () => {
    const server = await serve(['hang', { status: 200, body: 'back' }]);
    const error = await rejection(httpCall({ method: 'GET', url: server.url, deadline: Date.now() + 150 }));
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    await expect(httpCall({ method: 'GET', url: server.url })).resolves.toMatchObject({ text: 'back' });
  });

  it('starts nothing once the deadline has passed', async () => {
    const server = await serve([{ status: 200 }]);
    const error = await rejection(httpCall({ method: 'GET', url: server.url, deadline: Date.now() - 1 }));
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: false });
    expect(server.requests).toEqual([]);
  });

  it('names a target instead of the URL when one is given, and keeps no URL', async () => {
    const server = await serve(['drop']);
    const error = await rejection(
      httpCall({ method: 'POST', url: `${server.url}/hook/secret-path`, target: `slack: ${server.url}` }),
    );
    expect(error).toMatchObject({ code: 'TRANSPORT', retryable: true, url: undefined });
    expect(error.message).toMatch(new RegExp(`^slack: ${server.url}: network error: `));
    expect(error.message).not.toContain('secret-path');
  });

  it('ends an attempt in flight when the caller aborts, and withRetry retries nothing after it', async () => {
    const server = await serve(['hang']);
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 100);
    const { signal } = caller;
    const started = Date.now();
    const error = await rejection(
      withRetry(() => httpCall({ method: 'GET', url: server.url, signal }), { signal, maxAttempts: 4 }),
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: false });
    expect(error.message).toMatch(/^aborted by the caller/);
    expect(server.requests).toHaveLength(1);
  });

  it("says the invocation's deadline came first when its timeout signal ends the attempt", async () => {
    const server = await serve(['hang']);
    const error = await rejection(
      httpCall({ method: 'GET', url: server.url, signal: AbortSignal.timeout(100) }),
    );
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: false });
    expect(error.message).toMatch(/^the invocation's deadline came first/);
  });

  it('ends an answer whose body stalls, when the caller aborts mid-body', async () => {
    const server = await countingServer((_req, res) => {
      res.writeHead(200, { 'content-length': '10' });
      res.write('abc');
    });
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 100);
    const error = await rejection(httpCall({ method: 'GET', url: server.url, signal: caller.signal }));
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: false });
    expect(error.message).toMatch(/^aborted by the caller/);
  });

  it('reports a refused connection as a retryable TRANSPORT error naming the address', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise<void>((done) => probe.close(() => done()));
    const error = await rejection(httpCall({ method: 'GET', url: `http://${address}/` }));
    expect(error).toMatchObject({ code: 'TRANSPORT', retryable: true });
    expect(error.message).toBe(`network error: connect ECONNREFUSED ${address} (GET http://${address}/)`);
  });

  it('serves two calls on one kept-alive connection', async () => {
    const server = await countingServer((_req, res) => {
      res.end('ok');
    });
    for (let i = 0; i < 2; i++) {
      await expect(httpCall({ method: 'GET', url: server.url })).resolves.toMatchObject({ text: 'ok' });
    }
    expect(server).toMatchObject({ connections: 1, requests: 2 });
  });

  it('does not reuse a pooled connection after a quiet spell longer than its idle time (a frozen instance)', async () => {
    const server = await countingServer((_req, res) => {
      res.end('ok');
    });
    await httpCall({ method: 'GET', url: server.url });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 60_000);
      await httpCall({ method: 'GET', url: server.url });
    } finally {
      vi.useRealTimers();
    }
    expect(server).toMatchObject({ connections: 2, requests: 2 });
  });

  // The server closes a kept-alive connection as the next request arrives on it, as one whose
  // keep-alive ran out does when the close crosses the request on the wire.
  const closesReusedConnections = () =>
    countingServer((req, res, nth) => {
      if (nth > 1) req.socket.destroy();
      else res.end('fresh');
    });

  it('sends an idempotent request once more on a new connection when a reused one was stale', async () => {
    const server = await closesReusedConnections();
    await httpCall({ method: 'GET', url: server.url });
    const result = await httpCall({ method: 'GET', url: server.url });
    expect(result).toMatchObject({ status: 200, text: 'fresh' });
    expect(server).toMatchObject({ connections: 2, requests: 3 });
  });

  it('does not re-send a request once a byte of its answer has arrived', async () => {
    const server = await countingServer((req, res, nth) => {
      if (nth === 1) return void res.end('fresh');
      req.socket.write('HTTP/1.1 200 OK\r\n');
      setTimeout(() => req.socket.destroy(), 20);
    });
    await httpCall({ method: 'GET', url: server.url });
    const error = await rejection(httpCall({ method: 'GET', url: server.url }));
    expect(error).toMatchObject({ code: 'TRANSPORT', retryable: true });
    expect(server).toMatchObject({ connections: 1, requests: 2 });
  });

  it('leaves a POST cut on a reused connection to the caller, as a retryable TRANSPORT error', async () => {
    const server = await closesReusedConnections();
    await httpCall({ method: 'POST', url: server.url, body: '{}' });
    const error = await rejection(httpCall({ method: 'POST', url: server.url, body: '{}' }));
    expect(error).toMatchObject({ code: 'TRANSPORT', retryable: true });
    expect(error.message).toMatch(/^network error: (socket hang up|read ECONNRESET)/);
    expect(server).toMatchObject({ connections: 1, requests: 2 });
  });

  it('does not re-send a request cut on a connection of its own', async () => {
    const server = await serve(['drop']);
    const error = await rejection(httpCall({ method: 'GET', url: server.url }));
    expect(error).toMatchObject({ code: 'TRANSPORT', retryable: true });
    expect(server.requests).toHaveLength(1);
  });

  it('returns a redirect as the answer, never following it', async () => {
    const server = await serve([{ status: 302, headers: { location: '/login/?next=%2F' } }, { status: 200 }]);
    const result = await httpCall({ method: 'POST', url: `${server.url}/api`, body: '{}' });
    expect(result.status).toBe(302);
    expect(result.headers.get('Location')).toBe('/login/?next=%2F');
    expect(server.requests).toEqual(['/api']);
  });

  it('reads every Set-Cookie line, and joins other repeated headers as fetch does', async () => {
    const server = await countingServer((_req, res) => {
      res.setHeader('set-cookie', ['session=abc; Path=/; HttpOnly', '_token=x.y.z; Path=/']);
      res.setHeader('x-many', ['1', '2']);
      res.end();
    });
    const { headers } = await httpCall({ method: 'GET', url: server.url });
    expect(headers.getSetCookie()).toEqual(['session=abc; Path=/; HttpOnly', '_token=x.y.z; Path=/']);
    expect(readCookie(headers, '_token')).toBe('x.y.z');
    expect(headers.get('X-Many')).toBe('1, 2');
    expect(headers.get('absent')).toBeNull();
  });

  it('sends a URLSearchParams body form-encoded, with its length', async () => {
    let seen: { type: string | undefined; length: string | undefined; body: string } | undefined;
    const server = await countingServer(async (req, res) => {
      const body = (await readBody(req)).toString();
      seen = { type: req.headers['content-type'], length: req.headers['content-length'], body };
      res.end();
    });
    const body = new URLSearchParams({ user: 'ann é', next: '/home?a=1' });
    await httpCall({ method: 'POST', url: server.url, body });
    expect(seen).toEqual({
      type: 'application/x-www-form-urlencoded;charset=UTF-8',
      length: String(Buffer.byteLength(body.toString())),
      body: 'user=ann+%C3%A9&next=%2Fhome%3Fa%3D1',
    });
  });

  it("keeps the caller's content type, whatever the case of its name", async () => {
    let seen: string | undefined;
    const server = await countingServer((req, res) => {
      seen = req.headers['content-type'];
      res.end();
    });
    await httpCall({
      method: 'POST',
      url: server.url,
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(seen).toBe('application/json');
  });

  it('reads a 1 MB answer whole, characters split across chunks included', async () => {
    const big = 'é'.repeat(512 * 1024);
    const server = await countingServer((_req, res) => {
      res.end(big);
    });
    const { text } = await httpCall({ method: 'GET', url: server.url });
    expect(text.length).toBe(big.length);
    expect(text === big).toBe(true);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['deflate', deflateRawSync],
    ['br', brotliCompressSync],
  ] as const)('decodes a %s answer', async (coding, compress) => {
    const json = JSON.stringify({
      dag_runs: Array.from({ length: 200 }, (_, i) => ({ run_id: `run-${i}` })),
    });
    let asked: string | undefined;
    const server = await countingServer((req, res) => {
      asked = req.headers['accept-encoding'];
      res.writeHead(200, { 'content-encoding': coding, 'content-type': 'application/json' });
      res.end(compress(json));
    });
    const { text } = await httpCall({ method: 'GET', url: server.url });
    expect(asked).toBe('gzip, deflate');
    expect(text).toBe(json);
  });
});

describe('retryAfterMs', () => {
  const headers = (value?: string) => new Headers(value === undefined ? {} : { 'retry-after': value });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs(headers('2'))).toBe(2_000);
    expect(retryAfterMs(headers('0.5'))).toBe(500);
    expect(retryAfterMs(headers(new Date(10_000).toUTCString()), 7_000)).toBe(3_000);
    expect(retryAfterMs(headers(new Date(1_000).toUTCString()), 7_000)).toBe(0);
    expect(retryAfterMs(headers('soon'))).toBeUndefined();
    expect(retryAfterMs(headers())).toBeUndefined();
  });
});
