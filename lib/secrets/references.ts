import { AirkickError } from '#lib/errors.ts';
import { redactSecrets, registerSecret } from '#lib/secrets/redaction.ts';

export interface SecretReference {
  source: 'ssm' | 'secretsmanager';
  /** Parameter name (`/path/name`) or secret name/ARN. */
  name: string;
}

/** Turns a reference into its value. Injected in tests; the default reads SSM and Secrets Manager. */
export type SecretResolver = (reference: SecretReference) => Promise<string>;

/** `ssm:/path/name` or `secretsmanager:name`; anything else is a literal value. */
export function parseSecretReference(value: string): SecretReference | undefined {
  if (value.startsWith('ssm:/') && value.length > 5) return { source: 'ssm', name: value.slice(4) };
  if (value.startsWith('secretsmanager:') && value.length > 15) {
    return { source: 'secretsmanager', name: value.slice('secretsmanager:'.length) };
  }
  return undefined;
}

export function formatReference(reference: SecretReference): string {
  return `${reference.source}:${reference.name}`;
}

/**
 * Powertools Parameters (SSM with decryption, Secrets Manager), loaded only when a reference is
 * configured so Function Compute bundles need no AWS SDK.
 */
export const awsSecretResolver: SecretResolver = async (reference) => {
  let value: unknown;
  if (reference.source === 'ssm') {
    const { getParameter } = await import('@aws-lambda-powertools/parameters/ssm');
    value = await getParameter(reference.name, { decrypt: true });
  } else {
    const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
    value = await getSecret(reference.name);
  }
  if (value instanceof Uint8Array) value = Buffer.from(value).toString('utf8');
  if (typeof value !== 'string') throw new Error('no string value');
  return value;
};

/** Resolves `raw` when it is a reference, for the variable `variable`; errors name both, never the value. */
export async function resolveSecretValue(
  variable: string,
  raw: string,
  resolver: SecretResolver,
): Promise<string> {
  const reference = parseSecretReference(raw);
  if (reference === undefined) return raw;
  let value: string;
  try {
    value = (await resolver(reference)).trim();
  } catch (cause) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : 'unknown error';
    throw new AirkickError(
      'CONFIG',
      `${variable}: could not resolve ${formatReference(reference)} (${redactSecrets(reason)})`,
      {
        cause,
      },
    );
  }
  if (value === '') throw new AirkickError('CONFIG', `${variable}: ${formatReference(reference)} is empty`);
  return value;
}

const SECRET_QUERY = /^(access_token|key|sig|token|secret|sign|code)$/i;

/**
 * Registers a secret and, for URLs, the parts that carry the credential (token query values, long
 * path segments such as Slack's or Feishu's hook ids), so none of them can leak through an error text.
 */
export function registerSecretValue(value: string): void {
  registerSecret(value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return;
  }
  if (url.password) registerSecret(decodeURIComponent(url.password));
  for (const [name, param] of url.searchParams) if (SECRET_QUERY.test(name)) registerSecret(param);
  for (const segment of url.pathname.split('/')) if (segment.length >= 20) registerSecret(segment);
}
