/** A local HTTP endpoint standing in for a team's alert webhook; it checks the documented signature. */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';

export interface ReceivedAlert {
  severity: string;
  title: string;
  summary: string;
  runId?: string;
}

export async function startAlertReceiver(secret: string) {
  const alerts: ReceivedAlert[] = [];
  let badSignatures = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const ts = String(req.headers['x-airkick-timestamp']);
      const expected = `sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;
      if (req.headers['x-airkick-signature'] !== expected) {
        badSignatures += 1;
        res.writeHead(401).end();
        return;
      }
      alerts.push((JSON.parse(body) as { alert: ReceivedAlert }).alert);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hooks/airkick`,
    alerts,
    badSignatures: () => badSignatures,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
