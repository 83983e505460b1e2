import type { AlertState } from '#lib/alerts/state/decide.ts';
import * as z from '#lib/zod.ts';

/** What a store holds for one key: the state (undefined when none, or unreadable) and its version. */
export interface StoredState<S = AlertState> {
  state: S | undefined;
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
 * Where states live between invocations, with a compare-and-set on a version. Implementations only
 * read and write; the logic is in their users (`decideAlert` and the monitor for alerts, the upload
 * job's claims). Every call honours `signal`: a store that is down or black-holed must give up when
 * told to, and its users stop waiting for it then in any case.
 */
export interface StateStore<S> {
  /** Human-readable kind, for logs (`dynamodb`, `redis`, ...). */
  readonly kind: string;
  get(key: string, options?: StateCallOptions): Promise<StoredState<S>>;
  /**
   * Stores `state` as version `previous + 1`. Resolves `false`, without writing, when `ifVersion` no
   * longer matches (another writer came first); rejects when the store cannot be reached.
   */
  set(key: string, state: S, options?: StateWriteOptions): Promise<boolean>;
}

/** The store of alert states. */
export type AlertStateStore = StateStore<AlertState>;

/**
 * How one kind of state is kept: `encode` gives a JSON object (without a version: stores keep it
 * beside the state or splice it in), `decode` reads a parsed value back, `undefined` when it is not
 * a state of this kind (hand-edited, an older format).
 */
export interface StateCodec<S> {
  encode(state: S): string;
  decode(parsed: unknown): S | undefined;
}

export const NOTHING_STORED: StoredState<never> = Object.freeze({ state: undefined, version: 0 });

const stateSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('healthy'), since: z.number() }),
  z.object({ status: z.literal('unhealthy'), since: z.number(), lastSentAt: z.number() }),
]);
const versionSchema = z.object({ version: z.optional(z.number()) });

/** Alert states: only the fields of each status, in a fixed order. */
export const alertStateCodec: StateCodec<AlertState> = {
  encode: (state) =>
    state.status === 'healthy'
      ? JSON.stringify({ status: state.status, since: state.since })
      : JSON.stringify({ status: state.status, since: state.since, lastSentAt: state.lastSentAt }),
  decode(parsed) {
    const state = stateSchema.safeParse(parsed);
    return state.success ? state.data : undefined;
  },
};

/** The state with its version in one JSON object, for stores that keep a single string. */
export function encodeStored<S>(codec: StateCodec<S>, state: S, version: number): string {
  return `${codec.encode(state).slice(0, -1)},"version":${version}}`;
}

/** A stored value that is not a state of this kind reads as no state. */
export function decodeState<S>(codec: StateCodec<S>, raw: string | null | undefined): S | undefined {
  return codec.decode(parseJson(raw));
}

/** A single-string value: the state and the version beside it (0 when the value has none). */
export function decodeStored<S>(codec: StateCodec<S>, raw: string | null | undefined): StoredState<S> {
  if (raw === null || raw === undefined || raw === '') return NOTHING_STORED;
  const parsed = parseJson(raw);
  const version = versionSchema.safeParse(parsed);
  return {
    state: codec.decode(parsed),
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
