/**
 * SigV4 for airkick's hand-made AWS calls (MWAA's control plane), with what a vendor client would
 * otherwise bring: credentials and the partition's endpoint. On Lambda the function's keys are in the
 * environment, so the SDK's default credential chain (SSO, profiles, IMDS...) is loaded only when
 * they are absent, as on an operator's laptop.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { HttpRequest } from '@smithy/protocol-http';
import type { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';
import { optionalImport } from '#lib/optional.ts';

/** AWS keys, as the SDKs' credential providers give them. */
export interface AwsCredentialIdentity {
  /** The access key id (`AKIA...`, or `ASIA...` for temporary keys). */
  accessKeyId: string;
  /** The secret key; it signs requests and is never sent or printed. */
  secretAccessKey: string;
  /** Required with temporary (STS) keys, such as a Lambda function's. */
  sessionToken?: string;
  /** When temporary keys stop working; the signer asks the provider again before then. */
  expiration?: Date;
}

/** A function giving the current keys, e.g. `fromNodeProviderChain()` of `@aws-sdk/credential-providers`. */
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

/** Static keys or a provider of them. */
export type AwsCredentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

const NEEDED_BY = 'airkick/mwaa (SigV4 for the MWAA control plane)';
/** Everything the MWAA provider needs, for the install hint. */
export const MWAA_PEERS = ['@smithy/signature-v4', '@smithy/protocol-http', '@aws-sdk/util-endpoints'];

/** `<service>.<region>.<partition DNS suffix>`, e.g. `airflow.cn-north-1.amazonaws.com.cn`. */
export async function awsEndpoint(service: string, region: string): Promise<string> {
  const { partition } = await optionalImport(
    () => import('@aws-sdk/util-endpoints'),
    '@aws-sdk/util-endpoints',
    NEEDED_BY,
    MWAA_PEERS,
  );
  return `${service}.${region}.${partition(region).dnsSuffix}`;
}

/**
 * Signs requests for one service and region: `sign(url, body, headers)` gives the headers to send
 * (with `authorization`, `x-amz-date`, the session token), the `host` header left to the HTTP client.
 */
export function awsSigner(options: {
  service: string;
  region: string;
  credentials?: AwsCredentials | undefined;
}) {
  // Loaded on the first signature: importing airkick/mwaa costs nothing until a call is made.
  let loaded: Promise<[SignatureV4, typeof HttpRequest]> | undefined;
  const load = () =>
    (loaded ??= Promise.all([
      optionalImport(() => import('@smithy/signature-v4'), '@smithy/signature-v4', NEEDED_BY, MWAA_PEERS),
      optionalImport(() => import('@smithy/protocol-http'), '@smithy/protocol-http', NEEDED_BY, MWAA_PEERS),
    ]).then(([{ SignatureV4 }, { HttpRequest }]): [SignatureV4, typeof HttpRequest] => [
      new SignatureV4({
        service: options.service,
        region: options.region,
        credentials: options.credentials ?? environmentCredentials(),
        sha256: NodeSha256,
      }),
      HttpRequest,
    ]));
  return async (url: URL, body: string, headers: Record<string, string>): Promise<Record<string, string>> => {
    const [signer, HttpRequest] = await load();
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        headers: { ...headers, host: url.host },
        body,
      }),
    );
    const { host: _host, ...rest } = signed.headers;
    return rest;
  };
}

/** The environment's keys (read at each signature), else the SDK's default chain, loaded once on first need. */
function environmentCredentials(): AwsCredentialIdentityProvider {
  let chain: Promise<AwsCredentialIdentityProvider> | undefined;
  return async () => {
    const { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: token } = process.env;
    if (id && secret)
      return { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) };
    chain ??= optionalImport(
      () => import('@aws-sdk/credential-providers'),
      '@aws-sdk/credential-providers',
      'airkick/mwaa without AWS_ACCESS_KEY_ID in the environment (the default credential chain)',
    ).then((m) => m.fromNodeProviderChain());
    return (await chain)();
  };
}

/** SHA-256 and HMAC-SHA256 on node:crypto, in the shape the signer takes. */
class NodeSha256 implements Checksum {
  #hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.#hash = this.#fresh();
  }

  update(data: Uint8Array | string): void {
    this.#hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }

  reset(): void {
    this.#hash = this.#fresh();
  }

  #fresh(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    const key = typeof this.secret === 'string' ? this.secret : Buffer.from(this.secret as ArrayBuffer);
    return createHmac('sha256', key);
  }
}
