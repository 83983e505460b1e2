import { describe, expect, it } from 'vitest';
import {
  fitText,
  TRUNCATION_MARKER,
  truncateBytes,
  truncateChars,
  utf8Length,
} from '#lib/alerts/truncate.ts';

describe('truncation', () => {
  it('leaves short text alone', () => {
    expect(truncateChars('abc', 3)).toBe('abc');
    expect(truncateBytes('abc', 3)).toBe('abc');
  });

  it('cuts by characters with the marker inside the limit', () => {
    const out = truncateChars('a'.repeat(100), 20);
    expect(out).toHaveLength(20);
    expect(out.endsWith(TRUNCATION_MARKER)).toBe(true);
  });

  it('never splits a surrogate pair', () => {
    const out = truncateChars('🚨'.repeat(50), 20);
    expect(out.length).toBeLessThanOrEqual(20);
    expect(out).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('cuts by UTF-8 bytes on a code point boundary', () => {
    const out = truncateBytes('失敗'.repeat(1000), 100);
    expect(utf8Length(out)).toBeLessThanOrEqual(100);
    expect(out.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(out).not.toContain('\ufffd');
    expect(Buffer.from(out, 'utf8').toString('utf8')).toBe(out);
  });

  it('cuts the summary before head and tail', () => {
    const text = fitText({ head: 'HEAD', summary: 'x'.repeat(1000), tail: 'TAIL' }, 200);
    expect(utf8Length(text)).toBeLessThanOrEqual(200);
    expect(text.startsWith('HEAD\n\n')).toBe(true);
    expect(text.endsWith('\n\nTAIL')).toBe(true);
    expect(text).toContain(TRUNCATION_MARKER);
  });
});
