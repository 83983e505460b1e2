/**
 * A minimal Redis client (RESP2 over TCP or TLS) for the alert state store: it needs GET and SET
 * only, and the `redis` package would add ~0.5 MB to every function bundle for them.
 */
import { type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { AirkickError, registerSecret } from '#lib/errors.ts';

export type RespValue = string | number | null | RespValue[];

export interface RespClient {
  command(args: readonly string[]): Promise<RespValue>;
  close(): Promise<void>;
}

interface Pending {
  resolve(value: RespValue): void;
  reject(error: Error): void;
}

export async function connectResp(raw: string, timeoutMs = 5_000): Promise<RespClient> {
  const url = new URL(raw);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new AirkickError('CONFIG', `a Redis URL starts with redis:// or rediss://, not ${url.protocol}//`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 6379);
  const where = `${url.protocol}//${host}:${port}`;
  const socket: Socket = await new Promise((resolve, reject) => {
    const options = { host, port, timeout: timeoutMs };
    const s =
      url.protocol === 'rediss:'
        ? tlsConnect({ ...options, servername: host }, () => resolve(s))
        : tcpConnect(options, () => resolve(s));
    s.once('error', (cause) =>
      reject(
        new AirkickError('TRANSPORT', `cannot connect to Redis at ${where}`, { cause, retryable: true }),
      ),
    );
    s.once('timeout', () => s.destroy(new Error(`no connection within ${timeoutMs} ms`)));
  });
  socket.setTimeout(0);

  const pending: Pending[] = [];
  let buffer: Buffer = Buffer.alloc(0);
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const p of pending.splice(0)) p.reject(failure);
  };
  socket.on('data', (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      const parsed = parseReply(buffer, 0);
      if (!parsed) return;
      buffer = buffer.subarray(parsed.end);
      const waiter = pending.shift();
      if (parsed.value instanceof Error) waiter?.reject(parsed.value);
      else waiter?.resolve(parsed.value);
    }
  });
  socket.on('error', (cause) =>
    failAll(new AirkickError('TRANSPORT', `Redis connection failed (${where})`, { cause })),
  );
  socket.on('close', () => failAll(new AirkickError('TRANSPORT', `Redis connection closed (${where})`)));

  const command = (args: readonly string[]) =>
    new Promise<RespValue>((resolve, reject) => {
      if (failure) return reject(failure);
      pending.push({ resolve, reject });
      socket.write(encodeCommand(args));
    });

  const password = url.password ? decodeURIComponent(url.password) : undefined;
  if (password) {
    registerSecret(password);
    await command(url.username ? ['AUTH', decodeURIComponent(url.username), password] : ['AUTH', password]);
  }
  const db = url.pathname.replace(/^\//, '');
  if (db) await command(['SELECT', db]);

  return {
    command,
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

/** One reply from `buf` at `start`, or undefined when it has not fully arrived yet. */
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
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if (!item) return undefined;
        if (item.value instanceof Error) return item;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      return { value: new AirkickError('SERVER', `Redis: unexpected reply type "${type}"`), end: buf.length };
  }
}
