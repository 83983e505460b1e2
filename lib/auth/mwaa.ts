/**
 * Amazon MWAA, in named steps under lib/auth/mwaa/: the signed control plane, REST through
 * InvokeRestApi, the web-login session (the fallback without the airflow:InvokeRestApi grant on the
 * Airflow role, and the road for paths over InvokeRestApi's 64 characters), and the CLI through
 * CreateCliToken and /aws_mwaa/cli, one command at a time per environment.
 */
import type { Transport } from '#lib/airflow/transport.ts';
import type { AwsCredentials } from '#lib/auth/aws-signing.ts';
import { sendWithCredential } from '#lib/auth/http-session.ts';
import { mwaaCli } from '#lib/auth/mwaa/cli.ts';
import { mwaaControlPlane } from '#lib/auth/mwaa/control-plane.ts';
import { invokeRestApi, REST_API_PATH_MAX } from '#lib/auth/mwaa/rest-api.ts';
import { type WebServer, webSession } from '#lib/auth/mwaa/web-session.ts';
import type { MwaaSpec } from '#lib/environment.ts';
import { AirkickError, isAirkickError } from '#lib/errors.ts';

/** Documented token lifetime for both CLI and web-login tokens. */
const TOKEN_TTL_MS = 60_000;
/** The Airflow web session lasts about 12 h; refresh well before. */
const SESSION_TTL_MS = 12 * 3600_000;

/** Options of {@link mwaaTransport}, given as `aws` in `createAirflowClient`'s options. */
export interface MwaaOptions {
  /**
   * Keys or a provider; by default the environment's keys (what Lambda sets), else the SDK's default chain
   * (`@aws-sdk/credential-providers`, loaded only then).
   */
  credentials?: AwsCredentials;
  /** How long a CLI token is used, in ms; default 60 000, MWAA's documented lifetime. */
  tokenTtlMs?: number;
  /**
   * How long an Airflow 2 web-login session is used, in ms; default 12 h. Airflow 3's session is a JWT,
   * kept until its own expiry.
   */
  sessionTtlMs?: number;
}

/**
 * The Amazon MWAA provider: pass it as `providers.mwaa` to `createAirflowClient`, which calls it with the
 * parsed `mwaa://` environment and `options.aws`. REST calls go through InvokeRestApi (`auth=rest`, the
 * default; it needs `airflow:InvokeRestApi`), switching for good to the web-login session
 * (`airflow:CreateWebLoginToken`) when the Airflow role lacks that grant, and for paths over InvokeRestApi's
 * 64 characters. The CLI uses `airflow:CreateCliToken`, one command at a time per environment.
 *
 * Needs the optional peer packages `@smithy/signature-v4`, `@smithy/protocol-http` and
 * `@aws-sdk/util-endpoints`, plus `@aws-sdk/credential-providers` when neither `credentials` nor
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` in the environment give keys. They are loaded on the first
 * call, not here; a missing one fails that call with `CONFIG` naming the `npm install` to run.
 */
export function mwaaTransport(spec: MwaaSpec, options: MwaaOptions = {}): Transport {
  const controlPlane = mwaaControlPlane(spec, options.credentials);
  const { environment } = controlPlane;
  // A control-plane override with http (a local proxy or emulator) means the web server is plain http too.
  const web: WebServer = { scheme: spec.endpoint?.startsWith('http://') ? 'http' : 'https' };
  const session = webSession(controlPlane, web, {
    ...(spec.api ? { api: spec.api } : {}),
    ttlMs: options.sessionTtlMs ?? SESSION_TTL_MS,
  });
  const restApi = invokeRestApi(controlPlane, spec.name);
  let mode = spec.auth;

  return {
    environment,
    async send(request, attempt) {
      if (mode === 'rest') {
        if (request.path.length > REST_API_PATH_MAX) {
          // A path InvokeRestApi would refuse (a long DAG id) goes through the session, which has no such limit.
          return sendWithCredential(request, attempt, session).catch((error: unknown) => {
            if (!isAirkickError(error, 'AUTH')) throw error;
            throw new AirkickError(
              'CONFIG',
              `${request.method} ${request.path} is ${request.path.length} characters, over InvokeRestApi's limit of ${REST_API_PATH_MAX}, and the web-login session that has no such limit was refused (${error.message}): grant airflow:CreateWebLoginToken on the Airflow role of ${environment} or use a shorter DAG id`,
              { cause: error },
            );
          });
        }
        const answer = await restApi(request, attempt);
        if (answer !== 'fallback') return answer;
        // Lacking airflow:InvokeRestApi on the Airflow role: the web-login session needs only CreateWebLoginToken.
        mode = 'session';
      }
      return sendWithCredential(request, attempt, session);
    },
    cli: mwaaCli(controlPlane, spec, web, options.tokenTtlMs ?? TOKEN_TTL_MS),
    uiBase: () => (web.host ? `${web.scheme}://${web.host}` : undefined),
  };
}
