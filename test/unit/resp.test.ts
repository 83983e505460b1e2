import { describe, expect, it } from 'vitest';
import { encodeCommand, parseReply } from '#lib/alerts/state/resp.ts';

describe('RESP encoding', () => {
  it('encodes a command as an array of bulk strings, lengths in bytes', () => {
    expect(encodeCommand(['SET', 'k', 'ünï']).toString()).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nünï\r\n');
  });

  it('parses every reply type and waits for incomplete ones', () => {
    const buf = (s: string) => Buffer.from(s);
    expect(parseReply(buf('+OK\r\n'), 0)).toEqual({ value: 'OK', end: 5 });
    expect(parseReply(buf(':42\r\n'), 0)).toEqual({ value: 42, end: 5 });
    expect(parseReply(buf('$-1\r\n'), 0)).toEqual({ value: null, end: 5 });
    expect(parseReply(buf('$5\r\nünï\r\n'), 0)?.value).toBe('ünï');
    expect(parseReply(buf('$5\r\nün'), 0)).toBeUndefined();
    expect(parseReply(buf('*2\r\n$1\r\na\r\n:1\r\n'), 0)?.value).toEqual(['a', 1]);
    expect(parseReply(buf('*2\r\n$1\r\na\r\n'), 0)).toBeUndefined();
    const error = parseReply(buf('-WRONGPASS invalid\r\n'), 0)?.value;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('Redis: WRONGPASS invalid');
  });
});
