/** Self-hosted Airflow 2: the stable REST API with basic auth; no CLI endpoint. */
import type { ApiRequest, AttemptOptions, Transport } from '../airflow/transport.ts';
import { describeEnvironment, type SelfHostedSpec } from '../environment.ts';
import { registerSecret } from '../errors.ts';
import { type CredentialSource, sendWithCredential } from './http-session.ts';

export function selfHostedTransport(spec: SelfHostedSpec): Transport {
  const headers: Record<string, string> = {};
  if (spec.username !== undefined) {
    const basic = Buffer.from(`${spec.username}:${spec.password ?? ''}`).toString('base64');
    registerSecret(spec.password);
    registerSecret(basic);
    headers.authorization = `Basic ${basic}`;
  }
  const credential = { apiRoot: `${spec.baseUrl}/api/v1`, headers };
  const source: CredentialSource = { get: async () => credential };
  return {
    environment: describeEnvironment(spec),
    apiVersion: 'v1',
    send: (request: ApiRequest, options: AttemptOptions) => sendWithCredential(request, options, source),
    uiBase: () => spec.baseUrl,
  };
}
