import { describe, expect, it } from 'vitest';
import { encodeCommand, parseRedisUrl, parseReply } from '#lib/alerts/state/resp.ts';
import { AirkickError } from '#lib/errors.ts';

describe('RESP encoding', () => {
  it('encodes a command as an array of bulk strings, lengths in bytes', () => {
    expect(encodeCommand(['SET', 'k', 'ünï']).toString()).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nünï\r\n');
  });

  it('parses every reply type and waits for incomplete ones', () => {
    const buf = (s: string) => Buffer.from(s);
    expect(parseReply(buf('+OK\r\n'), 0)).toEqual({ value: 'OK', end: 5 });
    expect(parseReply(buf(':42\r\n'), 0)).toEqual({ value: 42, end: 5 });
    expect(parseReply(buf(':-1\r\n'), 0)).toEqual({ value: -1, end: 5 });
    expect(parseReply(buf('$-1\r\n'), 0)).toEqual({ value: null, end: 5 });
    expect(parseReply(buf('$5\r\nünï\r\n'), 0)?.value).toBe('ünï');
    expect(parseReply(buf('$5\r\nün'), 0)).toBeUndefined();
    expect(parseReply(buf('*2\r\n$1\r\na\r\n:1\r\n'), 0)?.value).toEqual(['a', 1]);
    expect(parseReply(buf('*2\r\n$1\r\na\r\n'), 0)).toBeUndefined();
    const error = parseReply(buf('-WRONGPASS invalid\r\n'), 0)?.value;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('Redis: WRONGPASS invalid');
  });

  it('consumes a whole array even when an element is an error, so the next reply stays in step', () => {
    const buf = Buffer.from('*2\r\n-ERR one\r\n:2\r\n+NEXT\r\n');
    const parsed = parseReply(buf, 0);
    const error = parsed?.value;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('Redis: ERR one');
    expect(parseReply(buf, parsed?.end ?? 0)?.value).toBe('NEXT');
  });

  it('throws on a byte stream that is not RESP', () => {
    expect(() => parseReply(Buffer.from('HTTP/1.1 400\r\n'), 0)).toThrow('Redis: unexpected reply type "H"');
  });
});

describe('parseRedisUrl', () => {
  it('reads host, port, TLS, user, password and database, and masks the password', () => {
    const target = parseRedisUrl('rediss://airkick:p%40ss-9137@r-bp1.redis.rds.aliyuncs.com:6380/3');
    expect(target).toMatchObject({
      tls: true,
      host: 'r-bp1.redis.rds.aliyuncs.com',
      port: 6380,
      where: 'rediss://r-bp1.redis.rds.aliyuncs.com:6380',
      username: 'airkick',
      password: 'p@ss-9137',
      db: '3',
    });
    expect(new AirkickError('TRANSPORT', 'AUTH p@ss-9137 refused').message).not.toContain('p@ss-9137');
    expect(parseRedisUrl('redis://[::1]')).toMatchObject({ host: '::1', port: 6379, db: undefined });
  });

  it.each([
    ['http://localhost:6379', 'a Redis URL starts with redis:// or rediss://, not http://'],
    ['redis://localhost/cache', 'a Redis URL\'s path is a database number, not "cache"'],
    ['not a url', 'a Redis URL looks like redis://[user:password@]host:6379[/db]'],
  ])('refuses %s', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(message);
  });
});
