/**
 * MWAA's control plane, the one place airkick signs AWS calls for it: InvokeRestApi, CreateCliToken
 * and CreateWebLoginToken, each a SigV4-signed POST (aws-signing.ts) to the partition's endpoint.
 * The reachable @aws-sdk/client-mwaa predates InvokeRestApi, and its client (a second smithy stack
 * and the full credential chain) cost every cold start for two token calls; the conformance suite
 * checks each recorded signature and answer against boto3 instead.
 */
import { awsErrorType, controlPlaneError } from '#lib/auth/aws-errors.ts';
import { type AwsCredentials, awsEndpoint, awsSigner } from '#lib/auth/aws-signing.ts';
import type { Bound } from '#lib/deadline.ts';
import { describeEnvironment, type MwaaSpec } from '#lib/environment.ts';
import { AirkickError, isAirkickError } from '#lib/errors.ts';
import { httpCall, parseJson, retryAfterMs } from '#lib/http.ts';
import { withRetry } from '#lib/retry.ts';

/** A one-time token and the web server it is for. */
export interface WebToken {
  token: string;
  host: string;
}

/** One control-plane answer: the HTTP status, the error type when it failed, the JSON body. */
export interface ControlPlaneAnswer {
  status: number;
  type: string;
  answer: Record<string, unknown> | undefined;
  retryAfterMs?: number;
}

export interface ControlPlane {
  /** Display name of the environment, for messages. */
  readonly environment: string;
  /** One signed call; its answer, or the AirkickError a missing credential means. */
  call(operation: string, path: string, body: string, bound: Bound): Promise<ControlPlaneAnswer>;
  /** CreateCliToken or CreateWebLoginToken, retried as the SDK's standard mode does. */
  createToken(operation: 'CreateCliToken' | 'CreateWebLoginToken', bound: Bound): Promise<WebToken>;
  /** The error a failed answer means (throttling and 5xx retryable, an unknown environment CONFIG). */
  failure(operation: string, out: ControlPlaneAnswer): AirkickError;
}

export function mwaaControlPlane(spec: MwaaSpec, credentials?: AwsCredentials): ControlPlane {
  const environment = describeEnvironment(spec);
  const sign = awsSigner({ service: 'airflow', region: spec.region, credentials });
  // Resolved on the first call: the partition table is loaded with the signer, not at import.
  let endpoint: Promise<string> | undefined;

  async function call(
    operation: string,
    path: string,
    body: string,
    bound: Bound,
  ): Promise<ControlPlaneAnswer> {
    endpoint ??= restApiEndpoint(spec);
    const url = new URL(`${await endpoint}${path}`);
    const headers = await sign(url, body, body ? { 'content-type': 'application/json' } : {}).catch(
      (cause: unknown) => {
        if (isAirkickError(cause, 'CONFIG')) throw cause;
        throw new AirkickError(
          'AUTH',
          `no AWS credentials to call ${operation}: ${(cause as Error).message}`,
          {
            cause,
          },
        );
      },
    );
    const response = await httpCall({ method: 'POST', url: url.toString(), headers, body, ...bound });
    const parsed = parseJson(response.text);
    const answer =
      typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
    const wait = retryAfterMs(response.headers);
    return {
      status: response.status,
      type: awsErrorType(response.headers.get('x-amzn-errortype'), parsed),
      answer,
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
    };
  }

  function failure(operation: string, out: ControlPlaneAnswer): AirkickError {
    return controlPlaneError({
      operation,
      environment,
      type: out.type,
      status: out.status,
      message: String(out.answer?.message ?? out.answer?.Message ?? ''),
      ...(out.retryAfterMs === undefined ? {} : { retryAfterMs: out.retryAfterMs }),
    });
  }

  async function createTokenOnce(
    operation: 'CreateCliToken' | 'CreateWebLoginToken',
    bound: Bound,
  ): Promise<WebToken> {
    const route = operation === 'CreateCliToken' ? 'clitoken' : 'webtoken';
    const out = await call(operation, `/${route}/${encodeURIComponent(spec.name)}`, '', bound);
    if (out.status !== 200) throw failure(operation, out);
    const token = out.answer?.[operation === 'CreateCliToken' ? 'CliToken' : 'WebToken'];
    const host = out.answer?.WebServerHostname;
    if (typeof token !== 'string' || !token || typeof host !== 'string' || !host) {
      throw new AirkickError('SERVER', `${operation} answered without a token or web server host`);
    }
    return { token, host };
  }

  return {
    environment,
    call,
    failure,
    /**
     * 3 attempts on throttling and internal errors; what still fails is not retried again by the
     * caller (its retryable flag is dropped), so the attempts do not multiply.
     */
    async createToken(operation, bound) {
      try {
        return await withRetry(() => createTokenOnce(operation, bound), { maxAttempts: 3, ...bound });
      } catch (error) {
        if (!isAirkickError(error) || !error.retryable) throw error;
        throw new AirkickError(error.code, error.message, {
          ...(error.status === undefined ? {} : { status: error.status }),
          cause: error.cause,
        });
      }
    },
  };
}

/**
 * The control-plane endpoint as the SDK resolves it for these operations: `airflow.<region>.` and the
 * partition's DNS suffix (`amazonaws.com.cn` in China, GovCloud's own), with their `env.` host
 * prefix; an explicit endpoint (VPC endpoint, proxy, emulator) as given.
 */
export async function restApiEndpoint(spec: MwaaSpec): Promise<string> {
  if (spec.endpoint) return spec.endpoint.replace(/\/+$/, '');
  return `https://env.${await awsEndpoint('airflow', spec.region)}`;
}
