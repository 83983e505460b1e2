/** Size limits are vendor rules we must not break: cut visibly instead of failing the delivery. */
export const TRUNCATION_MARKER = '… [truncated]';

const encoder = new TextEncoder();

export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/** Cuts `text` to at most `max` UTF-16 code units, marker included, never splitting a surrogate pair. */
export function truncateChars(text: string, max: number, marker = TRUNCATION_MARKER): string {
  if (text.length <= max) return text;
  if (max <= marker.length) return marker.slice(0, Math.max(0, max));
  let end = max - marker.length;
  if (isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  return text.slice(0, end) + marker;
}

/** Cuts `text` to at most `maxBytes` of UTF-8, marker included, on a code point boundary. */
export function truncateBytes(text: string, maxBytes: number, marker = TRUNCATION_MARKER): string {
  if (text.length <= maxBytes / 3 || utf8Length(text) <= maxBytes) return text;
  const budget = maxBytes - utf8Length(marker);
  if (budget <= 0) return '';
  let used = 0;
  let end = 0;
  // Every code unit is at least one byte, so only the first `budget` units can matter.
  for (const char of text.slice(0, budget + 1)) {
    const code = char.codePointAt(0) ?? 0;
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    if (used + size > budget) break;
    used += size;
    end += char.length;
  }
  return text.slice(0, end) + marker;
}

/**
 * The largest cut of `text` whose JSON body still fits `maxBytes`. JSON escaping makes the body grow
 * unevenly with the text, so it measures real bodies (binary search over the byte budget).
 */
export function fitJsonBody(text: string, maxBytes: number, build: (text: string) => unknown): string {
  const bodyFor = (candidate: string) => JSON.stringify(build(candidate));
  const whole = bodyFor(text);
  if (utf8Length(whole) <= maxBytes) return whole;
  let low = 0;
  let high = Math.min(utf8Length(text), maxBytes);
  let best = bodyFor('');
  while (low <= high) {
    const mid = Math.floor((low + high) / 2);
    const body = bodyFor(truncateBytes(text, mid));
    if (utf8Length(body) <= maxBytes) {
      best = body;
      low = mid + 1;
    } else high = mid - 1;
  }
  return best;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** A message in three parts; when it is too long the summary (often a stack trace) gives way first. */
export interface MessageParts {
  head: string;
  summary: string;
  tail: string;
}

export type JoinParts = (parts: MessageParts) => string;

export const joinParagraphs: JoinParts = (p) =>
  [p.head, p.summary, p.tail].filter((s) => s !== '').join('\n\n');

/** The joined text within `maxBytes` of UTF-8: the summary is cut first, then the whole text. */
export function fitText(parts: MessageParts, maxBytes: number, join: JoinParts = joinParagraphs): string {
  const full = join(parts);
  if (utf8Length(full) <= maxBytes) return full;
  const fixed = utf8Length(join({ ...parts, summary: '' })) + utf8Length('\n\n');
  const budget = maxBytes - fixed;
  if (budget > utf8Length(TRUNCATION_MARKER) + 16) {
    const text = join({ ...parts, summary: truncateBytes(parts.summary, budget) });
    if (utf8Length(text) <= maxBytes) return text;
  }
  return truncateBytes(join({ ...parts, summary: '' }), maxBytes);
}

/** A JSON body within `maxBytes` whose one free-text member is built from `parts`. */
export function fitJsonText(
  parts: MessageParts,
  maxBytes: number,
  wrap: (text: string) => unknown,
  join: JoinParts = joinParagraphs,
): string {
  const body = fitJsonBody(parts.summary, maxBytes, (summary) => wrap(join({ ...parts, summary })));
  if (utf8Length(body) <= maxBytes) return body;
  return fitJsonBody(join({ ...parts, summary: '' }), maxBytes, wrap);
}
