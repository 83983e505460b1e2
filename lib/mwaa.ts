/**
 * `airkick/mwaa`: the Amazon MWAA provider. Pass it to `createAirflowClient` for `mwaa://` environments.
 * It needs the optional peer packages `@smithy/signature-v4`, `@smithy/protocol-http` and
 * `@aws-sdk/util-endpoints` (and `@aws-sdk/credential-providers` when the keys are not in the
 * environment); they are loaded on the first call, and a missing one is a `CONFIG` error naming it.
 *
 * @example
 * import { createAirflowClient } from 'airkick';
 * import { mwaaTransport } from 'airkick/mwaa';
 * const airflow = createAirflowClient('mwaa://etl?region=eu-west-1', { providers: { mwaa: mwaaTransport } });
 *
 * @module airkick/mwaa
 */
export type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  AwsCredentials,
} from '#lib/auth/aws-signing.ts';
export { type MwaaOptions, mwaaTransport } from '#lib/auth/mwaa.ts';
