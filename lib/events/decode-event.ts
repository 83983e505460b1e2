import { AirkickError } from '#lib/errors.ts';

/**
 * Turns what a handler receives into a JSON value. FC 3.0 passes the event as a Buffer of UTF-8
 * JSON, Lambda passes parsed JSON, and a test or a manual invocation may pass a JSON string.
 *
 * @example decodeEvent(Buffer.from('{"a":1}')) // { a: 1 }
 * @throws AirkickError BAD_REQUEST when bytes or a string are not JSON.
 */
export function decodeEvent(raw: unknown): unknown {
  if (raw instanceof Uint8Array) {
    // A Buffer is a Uint8Array; fatal decoding rejects bytes that are not UTF-8 instead of
    // silently replacing them in object keys.
    return parseJson(decodeUtf8(raw), `${raw.byteLength}-byte event`);
  }
  if (typeof raw === 'string') return parseJson(raw, `${raw.length}-character string event`);
  return raw;
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new AirkickError(
      'BAD_REQUEST',
      `expected a UTF-8 JSON event, got ${bytes.byteLength} bytes that are not UTF-8`,
      {
        cause,
      },
    );
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new AirkickError('BAD_REQUEST', `expected a JSON event, got a ${what} that is not JSON`, { cause });
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

const MAX_KEYS = 12;
const MAX_KEY_CHARS = 40;

/**
 * Names the shape of a value for an error message without echoing its content: payloads may hold
 * personal data or secrets, and their size is unbounded.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length} item(s)`;
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  if (typeof value === 'string') return `a string of ${value.length} character(s)`;
  if (typeof value !== 'object') return `a ${typeof value}`;
  const keys = Object.keys(value);
  if (keys.length === 0) return 'an empty object';
  const shown = keys.slice(0, MAX_KEYS).map((key) => JSON.stringify(clip(key)));
  const more = keys.length > MAX_KEYS ? `, … ${keys.length - MAX_KEYS} more` : '';
  return `an object with keys [${shown.join(', ')}${more}]`;
}

function clip(text: string): string {
  return text.length > MAX_KEY_CHARS ? `${text.slice(0, MAX_KEY_CHARS)}…` : text;
}
