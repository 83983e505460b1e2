/** Per-route request counts, so tests can assert how often a client really called a control plane. */
export interface Counters {
  hit(route: string): void;
  snapshot(): Record<string, number>;
  reset(): void;
}

export function createCounters(): Counters {
  let counts: Record<string, number> = {};
  return {
    hit(route) {
      counts[route] = (counts[route] ?? 0) + 1;
    },
    snapshot: () => ({ ...counts }),
    reset() {
      counts = {};
    },
  };
}
