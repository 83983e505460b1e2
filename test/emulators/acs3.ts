import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuthFailure, ReceivedRequest } from './sigv4.ts';

export interface AlibabaCredentials {
  accessKeyId: string;
  accessKeySecret: string;
}

const AUTHORIZATION =
  /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([a-z0-9;-]+),Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 15 * 60_000;

const fail = (type: string, message: string, status = 400): AuthFailure => ({ type, status, message });

/** RFC 3986 percent-encoding as the V3 signature document specifies it (space as %20, `~` kept). */
function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Verifies Alibaba Cloud's V3 request signature (ACS3-HMAC-SHA256) from the published algorithm:
 * canonical request = method, URI, sorted encoded query, signed headers and payload hash; the string to
 * sign is the algorithm name and the canonical request's SHA-256; the signature is its HMAC-SHA256.
 */
export function verifyAcs3(
  req: ReceivedRequest,
  credentials: AlibabaCredentials,
  usedNonces: Set<string>,
): AuthFailure | undefined {
  const authorization = req.headers.authorization;
  const m = authorization ? AUTHORIZATION.exec(authorization) : null;
  if (!m) return fail('IncompleteSignature', 'The request signature does not conform to Aliyun standards.');
  const [, accessKeyId, signedHeaders, signature] = m as unknown as string[];
  if (accessKeyId !== credentials.accessKeyId)
    return fail('InvalidAccessKeyId.NotFound', 'Specified access key is not found.', 404);

  const date = Date.parse(String(req.headers['x-acs-date'] ?? ''));
  if (Number.isNaN(date) || Math.abs(Date.now() - date) > MAX_SKEW_MS)
    return fail('InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
  const nonce = req.headers['x-acs-signature-nonce'];
  if (typeof nonce !== 'string' || nonce === '')
    return fail('MissingSignatureNonce', 'SignatureNonce is mandatory for this action.');
  if (usedNonces.has(nonce)) return fail('SignatureNonceUsed', 'Specified signature nonce was used already.');

  const names = (signedHeaders as string).split(';');
  const unsigned = Object.keys(req.headers).filter(
    (name) => (name === 'host' || name.startsWith('x-acs-')) && !names.includes(name),
  );
  if (unsigned.length > 0) return fail('IncompleteSignature', `Header ${unsigned[0]} must be signed.`);
  const canonicalHeaders = names
    .map((name) => {
      const value = req.headers[name];
      return `${name}:${(Array.isArray(value) ? value.join(',') : (value ?? '')).trim()}\n`;
    })
    .join('');

  const [path = '/', search = ''] = req.url.split('?', 2);
  const canonicalUri = path
    .split('/')
    .map((segment) => encode(decodeURIComponent(segment)))
    .join('/');
  const canonicalQuery = [...new URLSearchParams(search)]
    .map(([key, value]) => [encode(key), encode(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  // The actual body's hash, not the declared header, so a tampered body fails the signature.
  const canonicalRequest = [
    req.method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    sha256Hex(req.body),
  ].join('\n');
  const stringToSign = `ACS3-HMAC-SHA256\n${sha256Hex(canonicalRequest)}`;
  const computed = createHmac('sha256', credentials.accessKeySecret).update(stringToSign).digest('hex');
  if (!timingSafeEqual(Buffer.from(computed), Buffer.from(signature as string)))
    return fail('SignatureDoesNotMatch', 'Specified signature does not match our calculation.');
  usedNonces.add(nonce);
  return undefined;
}
