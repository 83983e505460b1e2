import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SigV4Expectation {
  credentials: AwsCredentials;
  region: string;
  service: string;
  maxSkewMs: number;
}

/** Why AWS would refuse the request: error type (its `x-amzn-errortype`), HTTP status and message. */
export interface AuthFailure {
  type: string;
  status: number;
  message: string;
}

export interface ReceivedRequest {
  method: string;
  /** Raw request target: path as sent (still percent-encoded) and query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,]+)\/(\d{8})\/([^/,]+)\/([^/,]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

const fail = (type: string, message: string, status = 403): AuthFailure => ({ type, status, message });

function parseAmzDate(value: string): Date | undefined {
  const iso = value.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
  const time = iso === value ? Number.NaN : Date.parse(iso);
  return Number.isNaN(time) ? undefined : new Date(time);
}

/**
 * Checks an AWS Signature Version 4 header signature by signing the received request again with
 * the expected secret (only the headers the client declared as signed) and comparing the results.
 */
export async function verifySigV4(
  req: ReceivedRequest,
  expected: SigV4Expectation,
): Promise<AuthFailure | undefined> {
  const authorization = req.headers.authorization;
  if (!authorization) return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const m = AUTHORIZATION.exec(authorization);
  if (!m)
    return fail(
      'IncompleteSignatureException',
      'Authorization header is not a valid AWS4-HMAC-SHA256 signature.',
      400,
    );
  const [, accessKeyId, scopeDate, region, service, signedHeaders, signature] = m as unknown as string[];
  if (accessKeyId !== expected.credentials.accessKeyId)
    return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (service !== expected.service)
    return fail(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${expected.service}'.`,
    );
  if (region !== expected.region)
    return fail('InvalidSignatureException', 'Credential should be scoped to a valid region.');

  const amzDate = req.headers['x-amz-date'];
  const signingDate = typeof amzDate === 'string' ? parseAmzDate(amzDate) : undefined;
  if (!signingDate || amzDate?.slice(0, 8) !== scopeDate)
    return fail(
      'IncompleteSignatureException',
      'X-Amz-Date is missing or does not match the credential scope.',
      400,
    );
  if (Math.abs(Date.now() - signingDate.getTime()) > expected.maxSkewMs)
    return fail(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is outside the allowed clock skew.`,
    );

  const names = (signedHeaders as string).split(';');
  if (!names.includes('host')) return fail('InvalidSignatureException', "'Host' must be a 'SignedHeader'.");
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = req.headers[name];
    if (value === undefined) return fail('InvalidSignatureException', `Signed header '${name}' is missing.`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  // The signer trusts a declared payload hash, so check the body against it here.
  const declared = headers['x-amz-content-sha256'];
  if (declared !== undefined && declared !== createHash('sha256').update(req.body).digest('hex'))
    return fail(
      'InvalidSignatureException',
      'The provided x-amz-content-sha256 does not match the request body.',
    );

  const [path = '/', search = ''] = req.url.split('?', 2);
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(search)) {
    const prior = query[key];
    query[key] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  const signer = new SignatureV4({
    credentials: expected.credentials,
    region: expected.region,
    service: expected.service,
    sha256: Sha256,
    applyChecksum: false,
  });
  const resigned = await signer.sign(
    { method: req.method, protocol: 'http:', hostname: '127.0.0.1', path, query, headers, body: req.body },
    { signingDate },
  );
  const computed = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers.authorization))?.[1] ?? '';
  const same =
    computed.length === (signature as string).length &&
    timingSafeEqual(Buffer.from(computed), Buffer.from(signature as string));
  return same
    ? undefined
    : fail(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      );
}
