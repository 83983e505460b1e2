import { AirkickError } from '#lib/errors.ts';

/**
 * How each notification spells object keys.
 *
 * - `form`: S3 notifications (direct, via SQS, via SNS) carry the key form-URL-encoded: a space
 *   arrives as `+`, a literal `+` as `%2B`, `/` may arrive as `%2F`. AWS documents this for
 *   notifications; for EventBridge the S3 guide is silent, and AWS's own Powertools for Python
 *   decodes `detail.object.key` the same way (`unquote_plus`), so we do too.
 * - `raw`: FC OSS trigger events carry the key as stored (the FC samples pass it straight to
 *   `get_object`); decoding it would corrupt keys holding `+` or `%`.
 */
export type KeyEncoding = 'form' | 'raw';

/**
 * Decodes an object key as the notification spelled it.
 *
 * `+` becomes a space before percent-decoding; a literal `+` survives because it arrives as `%2B`.
 * Percent-decoding first and replacing `+` afterwards would turn that literal `+` into a space.
 *
 * @example decodeObjectKey('a+b%2Bc%25.txt', 'form') // 'a b+c%.txt'
 * @throws AirkickError BAD_REQUEST on malformed percent escapes.
 */
export function decodeObjectKey(key: string, encoding: KeyEncoding): string {
  if (encoding === 'raw') return key;
  try {
    return decodeURIComponent(key.replaceAll('+', ' '));
  } catch (cause) {
    throw new AirkickError('BAD_REQUEST', 'object key is not valid URL encoding (malformed % escape)', {
      cause,
    });
  }
}
