/**
 * The MWAA CLI: CreateCliToken (a 60-second token), then `POST /aws_mwaa/cli` on the web server with
 * the command line as the body, one command at a time per environment (MWAA runs one per web server).
 */
import type { AttemptOptions } from '#lib/airflow/transport.ts';
import type { CliResult } from '#lib/airflow/types.ts';
import type { ControlPlane, WebToken } from '#lib/auth/mwaa/control-plane.ts';
import type { WebServer } from '#lib/auth/mwaa/web-session.ts';
import { serially } from '#lib/auth/serial.ts';
import { TokenCache } from '#lib/auth/token-cache.ts';
import type { MwaaSpec } from '#lib/environment.ts';
import { AirkickError, codeForStatus, isRetryableStatus } from '#lib/errors.ts';
import { httpCall, parseJson } from '#lib/http.ts';

export function mwaaCli(controlPlane: ControlPlane, spec: MwaaSpec, web: WebServer, tokenTtlMs: number) {
  const cliToken = new TokenCache<WebToken>(async (bound) => {
    const value = await controlPlane.createToken('CreateCliToken', bound);
    web.host = value.host;
    return { value, expiresAt: Date.now() + tokenTtlMs, secrets: [value.token] };
  }, tokenTtlMs / 4);

  async function once(command: string, attempt: AttemptOptions): Promise<CliResult> {
    const words = command.split(' ', 2).filter((w) => /^[a-z][a-z_-]*$/.test(w));
    for (let n = 1; ; n++) {
      const { token, host } = await cliToken.get(attempt);
      const url = `${web.scheme}://${host}/aws_mwaa/cli`;
      const response = await httpCall({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: command,
        timeoutMs: 120_000,
        ...(attempt.deadline === undefined ? {} : { deadline: attempt.deadline }),
        ...(attempt.signal === undefined ? {} : { signal: attempt.signal }),
      });
      if ((response.status === 401 || response.status === 403) && n === 1) {
        cliToken.invalidate();
        continue;
      }
      const where = { method: 'POST', url, status: response.status };
      if (response.status === 500) {
        throw new AirkickError(
          'UNSUPPORTED_COMMAND',
          `MWAA refused the CLI command "${words.join(' ')}" (HTTP 500): it is not supported on this environment or could not start`,
          where,
        );
      }
      if (response.status === 504) {
        throw new AirkickError(
          'TIMEOUT',
          `the MWAA web server timed out running "${words.join(' ')}" (HTTP 504); commands that parse DAG files can exceed the gateway limit`,
          where,
        );
      }
      const code = codeForStatus(response.status);
      if (code) {
        throw new AirkickError(code, `MWAA CLI call failed with HTTP ${response.status}`, {
          ...where,
          retryable: isRetryableStatus(response.status),
        });
      }
      const out = parseJson(response.text) as { stdout?: string; stderr?: string } | undefined;
      return { stdout: fromBase64(out?.stdout), stderr: fromBase64(out?.stderr) };
    }
  }

  return (command: string, attempt: AttemptOptions): Promise<CliResult> =>
    serially(`mwaa:${spec.region}:${spec.name}`, () => once(command, attempt));
}

function fromBase64(value: string | undefined): string {
  return value ? Buffer.from(value, 'base64').toString('utf8') : '';
}
