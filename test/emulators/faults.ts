import type { IncomingMessage } from 'node:http';

/**
 * Faults a test queued for the next requests of an operation. Each fault answers `times` requests
 * (default 1), oldest fault first, and only then does the operation behave normally again.
 */
export class FaultQueue<F extends { times?: number }> {
  readonly #queues = new Map<string, { fault: F; left: number }[]>();

  push(operation: string, fault: F): void {
    const times = fault.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new RangeError(`times must be a positive integer`);
    const queue = this.#queues.get(operation) ?? [];
    queue.push({ fault, left: times });
    this.#queues.set(operation, queue);
  }

  /** The fault for this request of `operation`, if one is queued. */
  take(operation: string): F | undefined {
    const queue = this.#queues.get(operation);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.left -= 1;
    if (head.left === 0) queue.shift();
    return head.fault;
  }

  clear(): void {
    this.#queues.clear();
  }
}

/** One control-plane request exactly as it arrived, for re-checking its signature elsewhere. */
export interface RecordedRequest {
  /** The emulator's route name (`restapi`, `clitoken`, `webtoken`, `token`). */
  route: string;
  method: string;
  /** Request target as sent: path (still percent-encoded) and query. */
  url: string;
  /** Lower-cased names; repeated headers joined with `,`. */
  headers: Record<string, string>;
  body: Buffer;
}

export function recordRequest(route: string, req: IncomingMessage, body: Buffer): RecordedRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  return { route, method: req.method ?? 'GET', url: req.url ?? '/', headers, body };
}
