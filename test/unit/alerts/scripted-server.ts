import { afterEach } from 'vitest';
import { listen, readBody } from '#test/emulators/http.ts';

/** An answer, or `drop` (the connection is cut: a network error), or `hang` (no answer at all). */
export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'drop' | 'hang';

export interface ScriptedServer {
  /** `http://127.0.0.1:<port>`, no path. */
  url: string;
  /** Path and query of every request, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** A loopback HTTP server giving one scripted answer per request, the last one again once they run out. */
export async function scriptedServer(answers: readonly Answer[]): Promise<ScriptedServer> {
  const requests: string[] = [];
  const server = await listen(async (req, res) => {
    await readBody(req);
    requests.push(req.url ?? '');
    const answer = answers[Math.min(requests.length, answers.length) - 1] ?? 'hang';
    if (answer === 'hang') return;
    if (answer === 'drop') {
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, answer.headers ?? {});
    res.end(answer.body ?? '');
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, close: server.close };
}

/** A `serve(answers)` for one test file: every server it starts is closed after each test. */
export function scriptedServers(): (answers: readonly Answer[]) => Promise<ScriptedServer> {
  const open: ScriptedServer[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return async (answers) => {
    const server = await scriptedServer(answers);
    open.push(server);
    return server;
  };
}
