/**
 * A counting HTTP proxy in front of the self-hosted Airflow: the emulated clouds count their own
 * requests, a plain Airflow does not, so round trips to it are counted here.
 */
import { request as httpRequest } from 'node:http';
import { listen } from '#test/emulators/http.ts';

export interface CountingProxy {
  /** `http://127.0.0.1:<port>`, to use instead of the Airflow base URL. */
  url: string;
  /** Requests forwarded, per `METHOD /first/path/segments`. */
  counts(): Record<string, number>;
  resetCounts(): void;
  stop(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  let counts: Record<string, number> = {};
  const server = await listen(async (req, res) => {
    // `/api/v1/dags/x/dagRuns` -> `POST /api/v1/dags`: enough to tell API calls from logins.
    const route = `${req.method} ${(req.url ?? '/').split('?')[0]?.split('/').slice(0, 4).join('/')}`;
    counts[route] = (counts[route] ?? 0) + 1;
    await new Promise<void>((resolve, reject) => {
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', resolve);
          answer.on('error', reject);
        },
      );
      forward.on('error', reject);
      req.pipe(forward);
    });
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    counts: () => ({ ...counts }),
    resetCounts() {
      counts = {};
    },
    stop: server.close,
  };
}
