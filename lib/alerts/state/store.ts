import * as z from '#lib/zod.ts';
import type { AlertState } from './decide.ts';

/** Where alert states live between invocations. Implementations only read and write; the logic is in `decideAlert`. */
export interface AlertStateStore {
  get(key: string): Promise<AlertState | undefined>;
  set(key: string, state: AlertState): Promise<void>;
}

const stateSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('healthy'), since: z.number() }),
  z.object({ status: z.literal('unhealthy'), since: z.number(), lastSentAt: z.number() }),
]);

export function encodeState(state: AlertState): string {
  return JSON.stringify(state);
}

/** A stored value that is not a state we wrote (hand-edited, older format) reads as no state. */
export function decodeState(raw: string | null | undefined): AlertState | undefined {
  if (raw === null || raw === undefined || raw === '') return undefined;
  try {
    const parsed = stateSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
