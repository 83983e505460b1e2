/**
 * The AWS sample peer: the shape of AWS's documented way to trigger a DAG from Lambda, a CLI token
 * from `CreateCliToken`, then `dags trigger <dag>` POSTed with `fetch` to the web server's
 * `/aws_mwaa/cli`, a new token for every invocation.
 *
 * Two departures, both for the MWAA emulator: `MWAA_ENDPOINT` overrides the control plane (without the
 * host prefix the SDK would put before a real endpoint), and with an http endpoint the web server is
 * reached over http, as airkick does for an emulator.
 */
import { CreateCliTokenCommand, MWAAClient } from '@aws-sdk/client-mwaa';

const endpoint = process.env.MWAA_ENDPOINT;
const client = new MWAAClient(endpoint ? { endpoint, disableHostPrefix: true } : {});
const scheme = endpoint?.startsWith('http://') ? 'http' : 'https';

export const handler = async () => {
  const token = await client.send(new CreateCliTokenCommand({ Name: process.env.MWAA_ENV_NAME }));
  const response = await fetch(`${scheme}://${token.WebServerHostname}/aws_mwaa/cli`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token.CliToken}`, 'Content-Type': 'text/plain' },
    body: `dags trigger ${process.env.DAG_ID}`,
  });
  if (!response.ok) throw new Error(`MWAA CLI answered HTTP ${response.status}`);
  const { stdout, stderr } = (await response.json()) as { stdout: string; stderr: string };
  return {
    statusCode: 200,
    stdout: Buffer.from(stdout, 'base64').toString('utf8'),
    stderr: Buffer.from(stderr, 'base64').toString('utf8'),
  };
};
