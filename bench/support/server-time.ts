/**
 * How long this process's HTTP servers (the MWAA and DMS emulators, and through them Airflow) held
 * requests, from Node's built-in `http.server` diagnostics channels. A cold process measured one at a
 * time is the only client, so the time its answer waited on the services is this busy time: the rest
 * of its first answer is the function's own (loading, signing, building requests).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ServerResponse } from 'node:http';

export interface ServerTime {
  /** Forgets what was recorded so far. */
  reset(): void;
  /** Milliseconds in which at least one request was being served since the last reset. */
  busyMs(): number;
  close(): void;
}

export function meterServerTime(): ServerTime {
  const open = new Map<ServerResponse, number>();
  let spans: [number, number][] = [];
  const onStart = (message: unknown) => {
    open.set((message as { response: ServerResponse }).response, performance.now());
  };
  const onFinish = (message: unknown) => {
    const { response } = message as { response: ServerResponse };
    const start = open.get(response);
    if (start === undefined) return;
    open.delete(response);
    spans.push([start, performance.now()]);
  };
  subscribe('http.server.request.start', onStart);
  subscribe('http.server.response.finish', onFinish);
  return {
    reset() {
      spans = [];
      open.clear();
    },
    busyMs() {
      let busy = 0;
      let reach = Number.NEGATIVE_INFINITY;
      for (const [start, end] of [...spans].sort((a, b) => a[0] - b[0])) {
        busy += Math.max(0, end - Math.max(start, reach));
        reach = Math.max(reach, end);
      }
      return busy;
    },
    close() {
      unsubscribe('http.server.request.start', onStart);
      unsubscribe('http.server.response.finish', onFinish);
    },
  };
}
