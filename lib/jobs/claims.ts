/**
 * Claims on the asset events of uploads, kept in the alert-state store (DynamoDB or Redis) when it
 * is shared by every container. Airflow's event API has no idempotency key and no atomic check, so
 * two deliveries of one object at the same moment could both raise an event; a claim is a
 * compare-and-set on the object's key that only one of them wins. The other is reported for retry
 * and, redelivered, finds the event raised.
 *
 * A claim is held until the holder's deadline (the invocation's end): a holder that dies leaves a
 * claim that lapses when it would have been stopped anyway. A holder whose POST failed, answer lost
 * or not, gives the claim up as "outcome unknown", so the next delivery looks in Airflow's events
 * before raising; only an object never claimed before is raised without that look.
 */
import { createHash } from 'node:crypto';
import type { StateCodec, StateStore } from '#lib/alerts/state/store.ts';
import * as z from '#lib/zod.ts';

export type ClaimState =
  /** A delivery is raising the event, until `until` (epoch ms) at the latest; `until: 0`: it gave up. */
  | { status: 'raising'; until: number }
  /** The event was raised at `at` (epoch ms). */
  | { status: 'raised'; at: number };

const claimSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('raising'), until: z.number() }),
  z.object({ status: z.literal('raised'), at: z.number() }),
]);

export const claimCodec: StateCodec<ClaimState> = {
  encode: (state) =>
    state.status === 'raising'
      ? JSON.stringify({ status: state.status, until: state.until })
      : JSON.stringify({ status: state.status, at: state.at }),
  decode(parsed) {
    const state = claimSchema.safeParse(parsed);
    return state.success ? state.data : undefined;
  },
};

export type Claim =
  /** Claimed, and never claimed before: nobody raised this event, raise it without looking. */
  | { kind: 'new'; version: number }
  /** Claimed after an earlier delivery ended without a verdict: look in Airflow's events first. */
  | { kind: 'taken-over'; version: number }
  /** Another delivery holds it until `until`: report this one for retry. */
  | { kind: 'held'; until: number }
  /** The event was raised. */
  | { kind: 'raised' };

/** An object's event on one asset of one environment: the claim's scope and the object's key. */
export interface ClaimTarget {
  /** The environment the event is raised in (as logs name it). */
  environment: string;
  /** The asset's URI. */
  uri: string;
  /** The object's event key (`extra.airkick_event`). */
  event: string;
}

/**
 * The store key, beside the alert states of the same table or Redis prefix: scoped to the
 * environment and the asset, so deployments sharing a store, or one object raised on two assets,
 * never meet each other's claims.
 */
export function claimKey({ environment, uri, event }: ClaimTarget): string {
  const scope = createHash('sha256').update(`${environment}\n${uri}`).digest('hex').slice(0, 16);
  return `asset-event:${scope}:${event}`;
}

export class UploadClaims {
  constructor(
    readonly store: StateStore<ClaimState>,
    /** The longest one store call may take (AIRKICK_ALERT_STATE_TIMEOUT_MS). */
    readonly timeoutMs: number,
  ) {}

  /** Claims the object's event until `until`, unless another delivery holds it or it was raised. */
  async claim(target: ClaimTarget, until: number, signal?: AbortSignal): Promise<Claim> {
    const key = claimKey(target);
    const { state, version } = await this.store.get(key, { signal: this.#bound(signal) });
    if (state?.status === 'raised') return { kind: 'raised' };
    if (state?.status === 'raising' && state.until > Date.now()) return { kind: 'held', until: state.until };
    const won = await this.store.set(
      key,
      { status: 'raising', until },
      { signal: this.#bound(signal), ifVersion: version },
    );
    // Another delivery wrote between the read and this write: it holds the claim now.
    if (!won) return { kind: 'held', until };
    return version === 0 ? { kind: 'new', version: 1 } : { kind: 'taken-over', version: version + 1 };
  }

  /** The event is raised (or was found raised): later deliveries raise nothing. */
  async raised(target: ClaimTarget, claim: { version: number }, signal?: AbortSignal): Promise<void> {
    await this.store.set(
      claimKey(target),
      { status: 'raised', at: Date.now() },
      { signal: this.#bound(signal), ifVersion: claim.version },
    );
  }

  /** Gives the claim up with the outcome unknown: the next delivery looks before raising. */
  async release(target: ClaimTarget, claim: { version: number }, signal?: AbortSignal): Promise<void> {
    await this.store.set(
      claimKey(target),
      { status: 'raising', until: 0 },
      { signal: this.#bound(signal), ifVersion: claim.version },
    );
  }

  #bound(signal: AbortSignal | undefined): AbortSignal {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    return signal ? AbortSignal.any([signal, timeout]) : timeout;
  }
}
