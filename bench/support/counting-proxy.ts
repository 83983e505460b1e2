/**
 * A counting HTTP proxy in front of the self-hosted Airflow: the emulated clouds count their own
 * requests, a plain Airflow does not, so round trips to it are counted here.
 */
import { request as httpRequest } from 'node:http';
import { listen } from '#test/emulators/http.ts';

export interface CountingProxy {
  /** `http://127.0.0.1:<port>`, to use instead of the Airflow base URL. */
  url: string;
  /** Requests forwarded, per route (see `routeOf`). */
  counts(): Record<string, number>;
  resetCounts(): void;
  stop(): Promise<void>;
}

/**
 * A request's route with the ids left out, so calls of one kind add up whatever DAG or run they name:
 * `POST /api/v2/dags/x/dagRuns` -> `POST /api/v2/dags/{id}/dagRuns` (REST paths alternate collection and
 * id below the API root, on either version); other paths keep their first two segments, which tells
 * `POST /auth/token` (Airflow 3's JWT) from a UI login.
 */
export function routeOf(method: string, url: string): string {
  const segments = (url.split('?')[0] ?? '/').split('/').filter(Boolean);
  const [root, version, ...rest] = segments;
  const path =
    root === 'api' && version !== undefined
      ? [root, version, ...rest.map((part, i) => (i % 2 === 1 ? '{id}' : part))]
      : segments.slice(0, 2);
  return `${method} /${path.join('/')}`;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  let counts: Record<string, number> = {};
  const server = await listen(async (req, res) => {
    const route = routeOf(req.method ?? 'GET', req.url ?? '/');
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
