/**
 * One HTTP attempt over node:http / node:https, with a deadline, turned into airkick's errors on failure.
 *
 * Not `fetch`: on Node 20 its first call loads and compiles undici, which every cold start would pay.
 * Measured (Node 20.20, busy 2-core machine, a fresh `node` process making two GETs to a loopback
 * server, medians of 15 runs): fetch 120 ms for the two calls (103 ms CPU), 83 MB peak RSS, process
 * done at 480 ms; this module 31 ms (27 ms CPU), 46 MB, 220 ms. A bare `node` process: 43 MB, 190 ms.
 */
import {
  type AgentOptions,
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { AirkickError, type ErrorCode, type ErrorInit } from '#lib/errors.ts';

export interface HttpCall {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** A `URLSearchParams` is sent form-encoded (`application/x-www-form-urlencoded`). */
  body?: string | URLSearchParams;
  /** Epoch ms; the attempt is aborted when it passes. */
  deadline?: number;
  /** Upper bound for this attempt alone. */
  timeoutMs?: number;
  /** Aborts the attempt; it then fails as a `TIMEOUT` that is not retryable. */
  signal?: AbortSignal;
  /**
   * Names the request in error messages instead of its method and URL, for a URL that is itself a
   * credential (a webhook with its token in the path); the errors then carry no `url` either. With
   * `slack: https://hooks.slack.com`: "slack: https://hooks.slack.com: no answer within 500 ms".
   */
  target?: string;
}

/** What callers read from an answer's headers; a fetch `Headers` has this shape too. */
export interface ResponseHeaders {
  /** Every value of the header (any case of `name`) joined by ", ", or null when absent. */
  get(name: string): string | null;
  /** Each `Set-Cookie` line on its own. */
  getSetCookie(): string[];
}

export interface HttpResult {
  status: number;
  headers: ResponseHeaders;
  text: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * How long a connection may sit idle in the pool: undici's default keep-alive, so the pooling is
 * what fetch did. A server's shorter `Keep-Alive: timeout=N` hint wins (the Agent reads it).
 */
const IDLE_MS = 4_000;

const AGENT_OPTIONS: AgentOptions = {
  keepAlive: true,
  timeout: IDLE_MS,
  // The most recently used connection first: the least likely to have been closed by the server.
  scheduling: 'lifo',
  // Per host. The upload job runs up to 64 calls at once (AIRKICK_UPLOAD_CONCURRENCY); a lower cap
  // would queue calls whose attempt budget is already running.
  maxSockets: 64,
};

/** What fetch sent; the server sees the same request as before. */
const DEFAULT_HEADERS: Record<string, string> = {
  accept: '*/*',
  'user-agent': 'node',
  // Answers are decoded (`decode`): a server that compresses sends big JSON lists several times smaller.
  'accept-encoding': 'gzip, deflate',
};

/** RFC 9110's idempotent methods: the ones a stale connection may re-send on its own. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

let agents: { http: HttpAgent; https: HttpsAgent } | undefined;
let inFlight = 0;
let quietSince = 0;

/**
 * The module's keep-alive Agents, reused across warm invocations. After a quiet spell longer than
 * IDLE_MS they are replaced: a Lambda or FC instance is frozen between invocations, so the Agent's
 * idle timer never ran and every pooled socket may have been closed by the server meanwhile.
 */
function agentFor(protocol: string): HttpAgent {
  if (agents !== undefined && inFlight === 0 && Date.now() - quietSince > IDLE_MS) {
    agents.http.destroy();
    agents.https.destroy();
    agents = undefined;
  }
  agents ??= { http: new HttpAgent(AGENT_OPTIONS), https: new HttpsAgent(AGENT_OPTIONS) };
  return protocol === 'https:' ? agents.https : agents.http;
}

export async function httpCall(call: HttpCall): Promise<HttpResult> {
  const budget = Math.min(
    call.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    (call.deadline ?? Number.POSITIVE_INFINITY) - Date.now(),
  );
  if (budget <= 0) throw failure(call, 'TIMEOUT', 'no time left before the deadline');
  const timeout = AbortSignal.timeout(budget);
  const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  try {
    return await send(call, signal);
  } catch (cause) {
    if (timeout.aborted) {
      throw failure(call, 'TIMEOUT', `no answer within ${budget} ms`, { retryable: true, cause });
    }
    if (call.signal?.aborted) {
      // The invocation's own signal fires at its deadline (a TimeoutError); anything else is a caller's abort.
      const why =
        (call.signal.reason as Error | undefined)?.name === 'TimeoutError'
          ? "the invocation's deadline came first"
          : 'aborted by the caller';
      throw failure(call, 'TIMEOUT', why, { cause });
    }
    throw failure(call, 'TRANSPORT', `network error: ${detailOf(cause)}`, { retryable: true, cause });
  }
}

interface Outgoing {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

async function send(call: HttpCall, signal: AbortSignal): Promise<HttpResult> {
  const url = new URL(call.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`unsupported protocol ${url.protocol}`);
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(call.headers ?? {})) headers[name.toLowerCase()] = value;
  let body: string | undefined;
  if (call.body !== undefined) {
    const form = call.body instanceof URLSearchParams;
    body = call.body.toString();
    // fetch's content types for these bodies, unless the caller named one.
    headers['content-type'] ??= form
      ? 'application/x-www-form-urlencoded;charset=UTF-8'
      : 'text/plain;charset=UTF-8';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const out = { url, method: call.method, headers: { ...DEFAULT_HEADERS, ...headers }, body };
  const agent = agentFor(url.protocol);
  inFlight++;
  try {
    return await exchange(out, signal, agent);
  } finally {
    inFlight--;
    quietSince = Date.now();
  }
}

/**
 * One request and its whole answer. `agent: false` is a connection of its own, outside the pool.
 *
 * A pooled connection can be closed by the server between two requests (its keep-alive ran out, or
 * the instance was frozen past it) with the close still in flight when the next request is written:
 * that request then fails with ECONNRESET or "socket hang up" before any byte of an answer. The server
 * never read it, so it is sent once more on a new connection, as undici does and as Go's Transport
 * does; only for idempotent methods, since "no answer" cannot tell a stale connection from a server
 * that took a POST and then died. A POST's failure is left to the caller's retry policy, which knows
 * whether the call may repeat (a trigger without a run id may not).
 */
async function exchange(out: Outgoing, signal: AbortSignal, agent: HttpAgent | false): Promise<HttpResult> {
  const request = out.url.protocol === 'https:' ? httpsRequest : httpRequest;
  const req = request(out.url, { method: out.method, headers: out.headers, agent, signal });
  let socket: Socket | undefined;
  let heard = false;
  const hear = () => {
    heard = true;
  };
  req.on('socket', (assigned) => {
    socket = assigned;
    socket.on('data', hear);
  });
  let res: IncomingMessage;
  try {
    res = await answerOf(req, out.body);
  } catch (error) {
    const stale = req.reusedSocket && !heard && !signal.aborted && isReset(error);
    if (stale && agent !== false && IDEMPOTENT.has(out.method.toUpperCase())) {
      return exchange(out, signal, false);
    }
    throw error;
  } finally {
    socket?.off('data', hear);
  }
  const chunks: Buffer[] = [];
  // An abort or a cut connection destroys `res` with an error, which ends this loop with it.
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const body = await decode(Buffer.concat(chunks), res.headers['content-encoding']);
  return {
    status: res.statusCode ?? 0,
    headers: new AnswerHeaders(res.headersDistinct),
    text: utf8.decode(body),
  };
}

/** Sends the request; resolves with the answer's head. Errors after it surface through the answer. */
function answerOf(req: ClientRequest, body: string | undefined): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let settled = false;
    req.on('response', (res) => {
      settled = true;
      resolve(res);
    });
    // Stays attached for the request's whole life: an 'error' with no listener would crash the process.
    req.on('error', (error) => {
      if (!settled) reject(error);
    });
    req.end(body);
  });
}

const isReset = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
};

/** "connect ECONNREFUSED 127.0.0.1:1234"; both addresses when a host had two and each refused. */
function detailOf(cause: unknown): string {
  if (cause instanceof AggregateError && !cause.message) return cause.errors.map(detailOf).join('; ');
  if (cause instanceof Error) return cause.message || ((cause as NodeJS.ErrnoException).code ?? cause.name);
  return String(cause);
}

const utf8 = new TextDecoder();

const CODINGS = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

/**
 * Undoes the `Content-Encoding` codings, last applied first, as fetch did; an unknown coding leaves
 * the bytes as they are. node:zlib is loaded on the first compressed answer only.
 */
async function decode(body: Buffer, encoding: string | undefined): Promise<Buffer> {
  const codings = (encoding ?? '')
    .toLowerCase()
    .split(',')
    .map((coding) => coding.trim())
    .filter((coding) => coding !== '' && coding !== 'identity')
    .reverse();
  if (codings.length === 0 || body.length === 0) return body;
  const zlib = await import('node:zlib');
  // Lenient on a truncated stream, like undici.
  const lenient = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const undo = (coding: string, input: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      const done = (error: Error | null, output: Buffer) => (error ? reject(error) : resolve(output));
      if (coding === 'br') zlib.brotliDecompress(input, done);
      // "deflate" is meant to be zlib-wrapped, but some servers send it raw.
      else if (coding === 'deflate' && ((input[0] ?? 0) & 0x0f) !== 0x08)
        zlib.inflateRaw(input, lenient, done);
      else if (coding === 'deflate') zlib.inflate(input, lenient, done);
      else zlib.gunzip(input, lenient, done);
    });
  let bytes = body;
  for (const coding of codings) {
    if (!CODINGS.has(coding)) return bytes;
    bytes = await undo(coding, bytes);
  }
  return bytes;
}

/** An answer's headers, read from node's IncomingMessage (never the global `Headers`: it loads undici). */
class AnswerHeaders implements ResponseHeaders {
  readonly #values = new Map<string, string[]>();

  constructor(distinct: NodeJS.Dict<string[]>) {
    for (const [name, values] of Object.entries(distinct))
      if (values !== undefined) this.#values.set(name, values);
  }

  get(name: string): string | null {
    return this.#values.get(name.toLowerCase())?.join(', ') ?? null;
  }

  getSetCookie(): string[] {
    return [...(this.#values.get('set-cookie') ?? [])];
  }
}

function failure(call: HttpCall, code: ErrorCode, message: string, init: ErrorInit = {}): AirkickError {
  return call.target === undefined
    ? new AirkickError(code, message, { method: call.method, url: call.url, ...init })
    : new AirkickError(code, `${call.target}: ${message}`, init);
}

export function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `Retry-After` as ms (seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(headers: ResponseHeaders, now = Date.now()): number | undefined {
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * A readable line from a body that is not Airflow's JSON (a proxy's, gateway's or vendor's error page):
 * tags dropped, whitespace collapsed, at most 200 characters.
 */
export function bodyExcerpt(body: string): string {
  const text = body
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
