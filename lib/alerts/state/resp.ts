/**
 * A minimal Redis client (RESP2 over TCP or TLS) for the alert state store. The store needs GET and
 * one EVAL; the `redis` package would add ~540 KB to every function bundle for them (README,
 * "Decisions"). What it must get right is failure: every connect and command is bounded, a
 * connection that failed or timed out is dropped, and the next command connects afresh, so one dead
 * socket never poisons the later invocations of a warm container.
 */
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { abortError, untilAborted } from '#lib/deadline.ts';
import { AirkickError } from '#lib/errors.ts';
import { registerSecret } from '#lib/secrets/redaction.ts';

export type RespValue = string | number | null | RespValue[];

export interface RespCommandOptions {
  /** Ends the command (and drops its connection, whose replies can no longer be matched). */
  signal?: AbortSignal;
  /**
   * Safe to send twice (GET): when a reused connection turns out dead before any reply, the command
   * is sent once more on a fresh one. Never for writes, whose first attempt may have happened.
   */
  idempotent?: boolean;
}

export interface RespClient {
  /** Sends one command, connecting first when there is no live connection. */
  command(args: readonly string[], options?: RespCommandOptions): Promise<RespValue>;
  /** Closes the connection; later commands reject. */
  close(): Promise<void>;
}

export interface RespOptions {
  /** TCP (and TLS) connect plus AUTH/SELECT; default 2000 ms. */
  connectTimeoutMs?: number;
  /** From sending a command to its reply; default 2000 ms. */
  commandTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;

interface Target {
  tls: boolean;
  host: string;
  port: number;
  /** `redis://host:port`, safe to put in messages. */
  where: string;
  username: string | undefined;
  password: string | undefined;
  db: string | undefined;
}

/** Checks a `redis://` or `rediss://` URL; the password is registered as a secret. */
export function parseRedisUrl(raw: string): Target {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AirkickError('CONFIG', 'a Redis URL looks like redis://[user:password@]host:6379[/db]');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new AirkickError('CONFIG', `a Redis URL starts with redis:// or rediss://, not ${url.protocol}//`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 6379);
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  if (password) registerSecret(password);
  const db = url.pathname.replace(/^\//, '') || undefined;
  if (db !== undefined && !/^\d+$/.test(db)) {
    throw new AirkickError('CONFIG', `a Redis URL's path is a database number, not "${db}"`);
  }
  return {
    tls: url.protocol === 'rediss:',
    host,
    port,
    where: `${url.protocol}//${host}:${port}`,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password,
    db,
  };
}

/**
 * A client that connects on its first command and again after any failure. Create it once at
 * module scope; it holds at most one connection.
 *
 * @example
 * const redis = createRespClient('rediss://:secret@r-xxx.redis.rds.aliyuncs.com:6379/0');
 * await redis.command(['GET', 'k'], { signal: AbortSignal.timeout(1_000), idempotent: true });
 */
export function createRespClient(raw: string, options: RespOptions = {}): RespClient {
  const target = parseRedisUrl(raw);
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  let current: Promise<Connection> | undefined;
  let closed = false;

  /** The live connection, or a new one; concurrent callers share one attempt. */
  const connection = (): { fresh: boolean; ready: Promise<Connection> } => {
    if (current !== undefined) {
      const pending = current;
      return {
        fresh: false,
        ready: pending.then((c) => (c.alive ? c : connection().ready)),
      };
    }
    const attempt = openConnection(target, connectTimeoutMs, commandTimeoutMs);
    current = attempt;
    attempt.then(
      (c) =>
        c.onDead(() => {
          if (current === attempt) current = undefined;
        }),
      () => {
        if (current === attempt) current = undefined;
      },
    );
    return { fresh: true, ready: attempt };
  };

  const once = async (args: readonly string[], signal: AbortSignal | undefined) => {
    const { fresh, ready } = connection();
    const conn = await untilAborted(ready, signal, `Redis (${target.where})`);
    return { fresh, reply: conn.send(args, signal) };
  };

  return {
    async command(args, commandOptions = {}) {
      if (closed) throw new AirkickError('CONFIG', `Redis client for ${target.where} is closed`);
      const { signal } = commandOptions;
      const first = await once(args, signal);
      try {
        return await first.reply;
      } catch (error) {
        // A reused connection may have died while the container was frozen: a closed or reset
        // socket (not a timeout, which would only double the wait) earns a GET one more try.
        const stale =
          !first.fresh &&
          commandOptions.idempotent === true &&
          error instanceof ConnectionLost &&
          error.error.code === 'TRANSPORT' &&
          signal?.aborted !== true;
        if (!stale) throw error instanceof ConnectionLost ? error.error : error;
        const second = await once(args, signal);
        try {
          return await second.reply;
        } catch (retryError) {
          throw retryError instanceof ConnectionLost ? retryError.error : retryError;
        }
      }
    },
    async close() {
      closed = true;
      const pending = current;
      current = undefined;
      const conn = await pending?.catch(() => undefined);
      await conn?.close();
    },
  };
}

/** The connection failed under a command: the command may or may not have reached Redis. */
class ConnectionLost extends Error {
  constructor(readonly error: AirkickError) {
    super(error.message);
  }
}

interface Pending {
  resolve(value: RespValue): void;
  reject(error: Error): void;
}

interface Connection {
  readonly alive: boolean;
  send(args: readonly string[], signal: AbortSignal | undefined): Promise<RespValue>;
  onDead(listener: () => void): void;
  close(): Promise<void>;
}

async function openConnection(
  target: Target,
  connectTimeoutMs: number,
  commandTimeoutMs: number,
): Promise<Connection> {
  const options = { host: target.host, port: target.port };
  const socket = target.tls ? tlsConnect({ ...options, servername: target.host }) : tcpConnect(options);
  const pending: Pending[] = [];
  const deadListeners: (() => void)[] = [];
  let buffer: Buffer = Buffer.alloc(0);
  let failure: AirkickError | undefined;

  const die = (error: AirkickError) => {
    if (failure) return;
    failure = error;
    socket.destroy();
    for (const p of pending.splice(0)) p.reject(new ConnectionLost(error));
    for (const listener of deadListeners.splice(0)) listener();
  };

  socket.on('data', (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      let parsed: ReturnType<typeof parseReply>;
      try {
        parsed = parseReply(buffer, 0);
      } catch (error) {
        return die(error as AirkickError);
      }
      if (!parsed) return;
      buffer = buffer.subarray(parsed.end);
      const waiter = pending.shift();
      if (parsed.value instanceof Error) waiter?.reject(parsed.value);
      else waiter?.resolve(parsed.value);
    }
  });
  socket.on('error', (cause) =>
    die(
      new AirkickError('TRANSPORT', `Redis connection failed (${target.where})`, { cause, retryable: true }),
    ),
  );
  socket.on('close', () =>
    die(new AirkickError('TRANSPORT', `Redis connection closed (${target.where})`, { retryable: true })),
  );

  const send = (args: readonly string[], signal: AbortSignal | undefined, timeoutMs: number) =>
    new Promise<RespValue>((resolve, reject) => {
      if (failure) return reject(new ConnectionLost(failure));
      if (signal?.aborted) return reject(abortError(signal, `Redis (${target.where})`));
      // A command without its reply leaves the stream out of step: the connection goes with it.
      const timer = setTimeout(
        () =>
          die(
            new AirkickError('TIMEOUT', `Redis: no reply within ${timeoutMs} ms (${target.where})`, {
              retryable: true,
            }),
          ),
        timeoutMs,
      );
      const onAbort = () => die(abortError(signal as AbortSignal, `Redis (${target.where})`));
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      pending.push({
        resolve: (value) => {
          settle();
          resolve(value);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      socket.write(encodeCommand(args));
    });

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        die(
          new AirkickError(
            'TIMEOUT',
            `cannot connect to Redis at ${target.where} within ${connectTimeoutMs} ms`,
            {
              retryable: true,
            },
          ),
        ),
      connectTimeoutMs,
    );
    deadListeners.push(() => {
      clearTimeout(timer);
      reject(
        failure?.code === 'TIMEOUT'
          ? failure
          : new AirkickError('TRANSPORT', `cannot connect to Redis at ${target.where}`, {
              cause: failure,
              retryable: true,
            }),
      );
    });
    socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      deadListeners.pop();
      resolve();
    });
  });
  // An idle connection must not keep a CLI process alive; a pending command's timer does.
  socket.unref();

  const handshake: string[][] = [];
  if (target.password) {
    handshake.push(target.username ? ['AUTH', target.username, target.password] : ['AUTH', target.password]);
  }
  if (target.db) handshake.push(['SELECT', target.db]);
  try {
    for (const args of handshake) await send(args, undefined, connectTimeoutMs);
  } catch (error) {
    const reason = error instanceof ConnectionLost ? error.error : (error as AirkickError);
    die(reason);
    throw reason;
  }

  return {
    get alive() {
      return failure === undefined;
    },
    send: (args, signal) => send(args, signal, commandTimeoutMs),
    onDead(listener) {
      if (failure) listener();
      else deadListeners.push(listener);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        socket.end();
      }),
  };
}

export function encodeCommand(args: readonly string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(''));
}

/**
 * One reply from `buf` at `start`, or undefined when it has not fully arrived yet. A Redis error
 * reply is returned as the value; a byte stream that is not RESP throws.
 */
export function parseReply(
  buf: Buffer,
  start: number,
): { value: RespValue | Error; end: number } | undefined {
  const lineEnd = buf.indexOf('\r\n', start);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[start] ?? 0);
  const line = buf.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new AirkickError('SERVER', `Redis: ${line}`), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buf.length < next + length + 2) return undefined;
      return { value: buf.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let at = next;
      let error: Error | undefined;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if (!item) return undefined;
        // An error inside an array (EXEC) still ends where the whole array ends.
        if (item.value instanceof Error) error ??= item.value;
        else items.push(item.value);
        at = item.end;
      }
      return { value: error ?? items, end: at };
    }
    default:
      throw new AirkickError('SERVER', `Redis: unexpected reply type "${type}"`);
  }
}
