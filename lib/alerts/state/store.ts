import type { AlertState } from '#lib/alerts/state/decide.ts';
import * as z from '#lib/zod.ts';

/** What a store holds for one key: the state (undefined when none, or unreadable) and its version. */
export interface StoredState {
  state: AlertState | undefined;
  /** Grows by one with every write; 0 when nothing was ever written. */
  version: number;
}

export interface StateCallOptions {
  /** Ends the call: the monitor's bound for one round trip to the store. */
  signal?: AbortSignal;
}

export interface StateWriteOptions extends StateCallOptions {
  /**
   * Write only if the stored version is still this one (0: nothing stored yet), so of two
   * invocations that read the same state only one claims the transition. Without it, write anyway.
   */
  ifVersion?: number;
}

/**
 * Where alert states live between invocations. Implementations only read and write; the logic is in
 * `decideAlert` and the monitor. Every call honours `signal`: a store that is down or black-holed
 * must give up when told to, and the monitor stops waiting for it then in any case.
 */
export interface AlertStateStore {
  /** Human-readable kind, for logs (`dynamodb`, `redis`, ...). */
  readonly kind: string;
  get(key: string, options?: StateCallOptions): Promise<StoredState>;
  /**
   * Stores `state` as version `previous + 1`. Resolves `false`, without writing, when `ifVersion` no
   * longer matches (another writer came first); rejects when the store cannot be reached.
   */
  set(key: string, state: AlertState, options?: StateWriteOptions): Promise<boolean>;
}

export const NOTHING_STORED: StoredState = Object.freeze({ state: undefined, version: 0 });

const stateSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('healthy'), since: z.number() }),
  z.object({ status: z.literal('unhealthy'), since: z.number(), lastSentAt: z.number() }),
]);
const versionSchema = z.object({ version: z.optional(z.number()) });

/** The state as JSON, without a version: stores keep the version beside it or splice it in. */
export function encodeState(state: AlertState): string {
  return state.status === 'healthy'
    ? JSON.stringify({ status: state.status, since: state.since })
    : JSON.stringify({ status: state.status, since: state.since, lastSentAt: state.lastSentAt });
}

/** The state with its version in one JSON object, for stores that keep a single string. */
export function encodeStored(state: AlertState, version: number): string {
  return `${encodeState(state).slice(0, -1)},"version":${version}}`;
}

/** A stored value that is not a state we wrote (hand-edited, older format) reads as no state. */
export function decodeState(raw: string | null | undefined): AlertState | undefined {
  const parsed = parseJson(raw);
  const state = stateSchema.safeParse(parsed);
  return state.success ? state.data : undefined;
}

/** A single-string value: the state and the version beside it (0 when the value has none). */
export function decodeStored(raw: string | null | undefined): StoredState {
  if (raw === null || raw === undefined || raw === '') return NOTHING_STORED;
  const parsed = parseJson(raw);
  const version = versionSchema.safeParse(parsed);
  return {
    state: decodeState(raw),
    version: version.success ? (version.data.version ?? 0) : 0,
  };
}

function parseJson(raw: string | null | undefined): unknown {
  if (raw === null || raw === undefined || raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
