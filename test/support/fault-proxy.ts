/**
 * Faults between a client and a real server, on real sockets: `tcpProxy` passes bytes (Redis, any
 * TCP service) and can close, black-hole or reset them; `startFaultProxy` speaks HTTP in front of
 * Airflow's webserver or an emulator and can answer each request the way a broken network, load
 * balancer or gateway would.
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  connect as netConnect,
  type Socket,
} from 'node:net';

/**
 * Listens on a free loopback port that can be given up (connections refused, open ones reset) and
 * taken again; `sockets` are the open connections the proxy tracks.
 */
async function loopbackListener(server: NetServer, sockets: Set<Socket>) {
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const { port } = server.address() as AddressInfo;
  const killConnections = () => {
    for (const socket of sockets) socket.resetAndDestroy();
  };
  return {
    port,
    /** Listens again on the same port. */
    listen: () => listen(port),
    killConnections,
    stopListening: () =>
      new Promise<void>((resolve) => {
        killConnections();
        if (server.listening) server.close(() => resolve());
        else resolve();
      }),
  };
}

// ---------------------------------------------------------------------------------------------------
// TCP

export type TcpProxyMode = 'forward' | 'blackhole' | 'closed';

export interface TcpProxy {
  port: number;
  /** Connections accepted so far; a client that reconnects adds one. */
  accepted(): number;
  /** Bytes a black hole swallowed so far. */
  swallowed(): number;
  /**
   * `forward`: pass bytes both ways. `blackhole`: keep accepting and reading, answer nothing (open
   * connections too). `closed`: stop listening (connections are refused) and drop open ones.
   */
  set(mode: TcpProxyMode): Promise<void>;
  /** Resets every open connection, as a server killing its clients or a middlebox dropping them does. */
  killConnections(): void;
  close(): Promise<void>;
}

/** A TCP proxy to `127.0.0.1:targetPort`; without a target it is a black hole from the start. */
export async function tcpProxy(targetPort: number | undefined): Promise<TcpProxy> {
  let mode: TcpProxyMode = targetPort === undefined ? 'blackhole' : 'forward';
  let accepted = 0;
  let swallowed = 0;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  const server: NetServer = createNetServer((client) => {
    accepted++;
    track(client);
    const upstream =
      mode === 'forward' && targetPort !== undefined ? netConnect(targetPort, '127.0.0.1') : undefined;
    if (upstream) {
      track(upstream);
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('data', (chunk: Buffer) => {
        if (mode === 'forward') client.write(chunk);
      });
    }
    client.on('data', (chunk: Buffer) => {
      if (mode === 'forward' && upstream) upstream.write(chunk);
      else swallowed += chunk.length;
    });
  });
  const { port, listen, killConnections, stopListening: stop } = await loopbackListener(server, sockets);
  return {
    port,
    accepted: () => accepted,
    swallowed: () => swallowed,
    async set(next) {
      if (next === 'closed') await stop();
      else if (!server.listening) await listen();
      // Connections that swallowed bytes are out of step: only new ones forward.
      if (next === 'forward' && mode !== 'forward') killConnections();
      mode = next;
    },
    killConnections,
    close: stop,
  };
}

// ---------------------------------------------------------------------------------------------------
// HTTP

/** What the proxy does with a request. */
export type Fault =
  /** Pass it to the server and its answer back. */
  | { mode: 'forward' }
  /** Stop listening: connections are refused, open ones reset (a standing mode only, see `set`). */
  | { mode: 'refuse' }
  /** Read the request, answer nothing, keep the connection open. */
  | { mode: 'blackhole' }
  /** The request reaches the server; once its whole answer is back, the client's connection is reset. */
  | { mode: 'answer-then-drop' }
  /** The request reaches the server at once; its answer is held back `delayMs`. */
  | { mode: 'slow'; delayMs: number }
  /** A redirect (default 302) to `location`, as a load balancer or a login page in front sends; nothing reaches the server. */
  | { mode: 'redirect'; location: string; status?: 301 | 302 | 303 | 307 | 308 }
  /** An error page with `status` (500, 502, 503, ...), as a gateway whose backend is away answers. */
  | { mode: 'status'; status: number; body?: string }
  /** 429 with `Retry-After` in seconds. */
  | { mode: 'rate-limit'; retryAfterSeconds: number };

export type FaultMode = Fault['mode'];
/** Faults that act on one request: refusing happens before any request is read. */
export type RequestFault = Exclude<Fault, { mode: 'refuse' }>;

/** Which requests a queued fault is for; every field given must match. */
export interface RequestMatch {
  method?: string;
  /** Tested against the path without the query, e.g. `/api/v1/dags/x/dagRuns`. */
  path?: RegExp;
}

export interface SeenRequest {
  method: string;
  path: string;
  /** Epoch ms when the request had been read. */
  at: number;
  /** What the proxy did with it. */
  fault: FaultMode;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: use it instead of the server's base URL. */
  url: string;
  port: number;
  /** The standing behaviour, for every request no queued fault or rule claims. */
  set(fault: Fault | 'forward' | 'refuse' | 'blackhole' | 'answer-then-drop'): Promise<void>;
  /**
   * The next `times` (default 1) requests that `match` get `fault`; faults queue up in order and come
   * before the rule and the standing mode.
   *
   * @example proxy.next({ mode: 'answer-then-drop' }, { match: { method: 'POST', path: /\/dagRuns$/ } });
   */
  next(fault: RequestFault, options?: { times?: number; match?: RequestMatch }): void;
  /** Decides per request, after the queued faults (a mix of faults, a share of them); `undefined` falls through. */
  rule(decide: ((request: { method: string; path: string }) => RequestFault | undefined) | undefined): void;
  /** Forgets the queued faults and the rule (the standing mode stays). */
  clear(): void;
  /** Requests seen per `METHOD /path`. */
  counts(): Record<string, number>;
  /** Requests seen, in order. */
  requests(): SeenRequest[];
  /** Answers that came back from the server and were dropped (`answer-then-drop`). */
  dropped(): number;
  /** Requests swallowed by a black hole. */
  held(): number;
  /**
   * Credentials that passed through: `Authorization` values (and a basic-auth password), cookie
   * values, `set-cookie` values and `access_token`s in answers. Tests check that no log repeats them.
   */
  credentials(): string[];
  resetCounts(): void;
  /** Resets every open client connection. */
  killConnections(): void;
  close(): Promise<void>;
}

const matches = (match: RequestMatch | undefined, method: string, path: string) =>
  (match?.method === undefined || match.method === method) &&
  (match?.path === undefined || match.path.test(path));

/** Hop-by-hop headers, and the framing the proxy sets itself since it relays whole bodies. */
const NOT_RELAYED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade']);

const STATUS_TEXT: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/** An nginx-like error page, the kind a reverse proxy in front of Airflow answers with. */
function errorPage(status: number): string {
  const title = `${status} ${STATUS_TEXT[status] ?? 'Error'}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/**
 * An HTTP proxy in front of `target` (a base URL such as Airflow's `http://127.0.0.1:8080`), with
 * faults settable at any time. Bodies are relayed whole, so `answer-then-drop` can wait for the full
 * answer before it resets the client.
 *
 * @example
 * const proxy = await startFaultProxy(airflow.baseUrl);
 * const mwaa = await startTarget('mwaa', airflow, { upstream: proxy.url });
 * await proxy.set('blackhole');
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  let standing: Fault = { mode: 'forward' };
  const queue: { fault: RequestFault; left: number; match: RequestMatch | undefined }[] = [];
  let decide: ((request: { method: string; path: string }) => RequestFault | undefined) | undefined;
  let seen: SeenRequest[] = [];
  let dropped = 0;
  let held = 0;
  const credentials = new Set<string>();
  const sockets = new Set<Socket>();
  const holding = new Set<Socket>();

  const note = (value: string | undefined) => {
    if (value && value.length >= 6) credentials.add(value);
  };
  const noteCookies = (header: string) => {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0)
        note(
          part
            .slice(eq + 1)
            .trim()
            .replace(/^"|"$/g, ''),
        );
    }
  };
  const noteRequest = (req: IncomingMessage) => {
    const authorization = req.headers.authorization;
    if (authorization) {
      const [scheme, value] = authorization.split(/\s+/, 2);
      note(value);
      if (scheme?.toLowerCase() === 'basic' && value)
        note(Buffer.from(value, 'base64').toString('utf8').split(':').slice(1).join(':'));
    }
    if (req.headers.cookie) noteCookies(req.headers.cookie);
  };
  const noteAnswer = (answer: Answer) => {
    for (const line of [answer.headers['set-cookie'] ?? []].flat()) noteCookies(line.split(';')[0] ?? '');
    if (String(answer.headers['content-type'] ?? '').includes('json')) {
      try {
        const body = JSON.parse(answer.body.toString('utf8')) as { access_token?: unknown };
        if (typeof body.access_token === 'string') note(body.access_token);
      } catch {
        // not JSON after all
      }
    }
  };

  const faultFor = (method: string, path: string): RequestFault => {
    const queued = queue.find((entry) => matches(entry.match, method, path));
    if (queued) {
      queued.left -= 1;
      if (queued.left === 0) queue.splice(queue.indexOf(queued), 1);
      return queued.fault;
    }
    const ruled = decide?.({ method, path });
    if (ruled) return ruled;
    // Refusing never reaches a request: the listener is closed.
    return standing.mode === 'refuse' ? { mode: 'forward' } : standing;
  };

  const forward = (req: IncomingMessage, body: Buffer): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: upstream.host };
      // The body goes on whole, with its length: the client's framing and hop-by-hop headers stay here.
      delete headers.connection;
      delete headers['transfer-encoding'];
      const outgoing = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...headers, 'content-length': String(body.length) },
          agent,
        },
        (answer) => {
          readAll(answer).then((data) => {
            const relayed: Record<string, string | string[]> = {};
            for (const [name, value] of Object.entries(answer.headers))
              if (value !== undefined && !NOT_RELAYED.has(name)) relayed[name] = value;
            resolve({ status: answer.statusCode ?? 502, headers: relayed, body: data });
          }, reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });

  const send = (res: ServerResponse, answer: Answer) => {
    if (res.destroyed) return;
    res.writeHead(answer.status, { ...answer.headers, 'content-length': answer.body.length });
    res.end(answer.body);
  };
  const page = (status: number, text: string, headers: Record<string, string> = {}): Answer => ({
    status,
    headers: { 'content-type': 'text/html', ...headers },
    body: Buffer.from(text),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readAll(req);
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const fault = faultFor(method, path);
    seen.push({ method, path, at: Date.now(), fault: fault.mode });
    noteRequest(req);
    switch (fault.mode) {
      case 'blackhole':
        held += 1;
        holding.add(req.socket);
        req.socket.once('close', () => holding.delete(req.socket));
        return;
      case 'redirect':
        return send(
          res,
          page(
            fault.status ?? 302,
            `<html><body>Moved: <a href="${fault.location}">${fault.location}</a></body></html>`,
            { location: fault.location },
          ),
        );
      case 'status':
        return send(res, page(fault.status, fault.body ?? errorPage(fault.status)));
      case 'rate-limit':
        return send(
          res,
          page(429, '<html><body><h1>429 Too Many Requests</h1></body></html>', {
            'retry-after': String(fault.retryAfterSeconds),
          }),
        );
      default: {
        let answer: Answer;
        try {
          answer = await forward(req, body);
        } catch {
          // The server is unreachable or broke off: so is the proxy, to its client.
          req.socket.resetAndDestroy();
          return;
        }
        noteAnswer(answer);
        if (fault.mode === 'answer-then-drop') {
          dropped += 1;
          req.socket.resetAndDestroy();
          return;
        }
        if (fault.mode === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
        return send(res, answer);
      }
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.resetAndDestroy());
  });
  // Held requests must not be timed out by the server itself: a black hole never answers.
  server.requestTimeout = 0;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  const { port, listen, killConnections, stopListening } = await loopbackListener(server, sockets);

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async set(next) {
      const fault: Fault = typeof next === 'string' ? ({ mode: next } as Fault) : next;
      if (fault.mode === 'refuse') await stopListening();
      else if (!server.listening) await listen();
      // Requests a black hole held are dropped when it ends, as a server coming back has forgotten them.
      if (standing.mode === 'blackhole' && fault.mode !== 'blackhole')
        for (const socket of holding) socket.resetAndDestroy();
      standing = fault;
    },
    next(fault, options = {}) {
      const times = options.times ?? 1;
      if (!Number.isInteger(times) || times < 1) throw new RangeError('times must be a positive integer');
      queue.push({ fault, left: times, match: options.match });
    },
    rule(next) {
      decide = next;
    },
    clear() {
      queue.splice(0);
      decide = undefined;
    },
    counts() {
      const counts: Record<string, number> = {};
      for (const { method, path } of seen)
        counts[`${method} ${path}`] = (counts[`${method} ${path}`] ?? 0) + 1;
      return counts;
    },
    requests: () => [...seen],
    dropped: () => dropped,
    held: () => held,
    credentials: () => [...credentials],
    resetCounts() {
      seen = [];
      dropped = 0;
      held = 0;
    },
    killConnections,
    async close() {
      await stopListening();
      agent.destroy();
    },
  };
}
