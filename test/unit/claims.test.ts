import { describe, expect, it } from 'vitest';
import { memoryStore } from '#lib/alerts/state/memory.ts';
import type { StateStore } from '#lib/alerts/state/store.ts';
import { type ClaimState, claimCodec, claimKey, UploadClaims } from '#lib/jobs/claims.ts';

const soon = () => Date.now() + 60_000;
const target = (event: string, environment = 'mwaa://prod?region=eu-west-1') => ({
  environment,
  uri: 's3://landing/in',
  event,
});

describe('upload claims', () => {
  it('a new key is claimed once; while held, another delivery is told so; once raised, it is done', async () => {
    const store = memoryStore<ClaimState>();
    const claims = new UploadClaims(store, 1_000);
    const until = soon();
    const first = await claims.claim(target('s3__a'), until);
    expect(first).toEqual({ kind: 'new', version: 1 });
    expect(await claims.claim(target('s3__a'), soon())).toEqual({ kind: 'held', until });
    await claims.raised(target('s3__a'), first as { version: number });
    expect(await claims.claim(target('s3__a'), soon())).toEqual({ kind: 'raised' });
    expect((await store.get(claimKey(target('s3__a')))).state).toMatchObject({ status: 'raised' });
  });

  it('of two deliveries claiming at the same moment, exactly one wins', async () => {
    const claims = new UploadClaims(memoryStore<ClaimState>(), 1_000);
    const outcomes = await Promise.all([
      claims.claim(target('s3__b'), soon()),
      claims.claim(target('s3__b'), soon()),
    ]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['held', 'new']);
  });

  it('a released claim, or one whose holder outlived its deadline, is taken over (look before raising)', async () => {
    const claims = new UploadClaims(memoryStore<ClaimState>(), 1_000);
    const first = (await claims.claim(target('s3__c'), soon())) as { version: number };
    await claims.release(target('s3__c'), first);
    const second = await claims.claim(target('s3__c'), Date.now() - 1);
    expect(second).toEqual({ kind: 'taken-over', version: 3 });
    // Its deadline passed without a verdict: the next delivery takes it over in turn.
    expect(await claims.claim(target('s3__c'), soon())).toEqual({ kind: 'taken-over', version: 4 });
  });

  it('a stale holder cannot mark or release a claim another delivery took over', async () => {
    const store = memoryStore<ClaimState>();
    const claims = new UploadClaims(store, 1_000);
    const stale = (await claims.claim(target('s3__d'), Date.now() - 1)) as { version: number };
    const fresh = await claims.claim(target('s3__d'), soon());
    expect(fresh.kind).toBe('taken-over');
    await claims.release(target('s3__d'), stale);
    expect((await store.get(claimKey(target('s3__d')))).state).toMatchObject({ status: 'raising' });
    expect(await claims.claim(target('s3__d'), soon())).toMatchObject({ kind: 'held' });
  });

  it('a store that never answers is given up after the timeout', async () => {
    const hanging: StateStore<ClaimState> = {
      kind: 'hanging',
      get: (_key, options = {}) =>
        new Promise((_resolve, reject) =>
          options.signal?.addEventListener('abort', () => reject(options.signal?.reason)),
        ),
      set: async () => true,
    };
    const started = Date.now();
    await expect(new UploadClaims(hanging, 200).claim(target('s3__e'), soon())).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('keys a claim by environment and asset: another deployment or asset never meets it', async () => {
    const claims = new UploadClaims(memoryStore<ClaimState>(), 1_000);
    const first = (await claims.claim(target('s3__f'), soon())) as { version: number };
    await claims.raised(target('s3__f'), first);
    expect(await claims.claim(target('s3__f', 'dms://af-1?region=cn-hangzhou'), soon())).toMatchObject({
      kind: 'new',
    });
    expect(await claims.claim({ ...target('s3__f'), uri: 's3://landing/other' }, soon())).toMatchObject({
      kind: 'new',
    });
    expect(claimKey(target('s3__f'))).toMatch(/^asset-event:[0-9a-f]{16}:s3__f$/);
  });

  it('reads only its own states: an alert state or garbage under the key is no claim', () => {
    expect(claimCodec.decode({ status: 'raised', at: 5 })).toEqual({ status: 'raised', at: 5 });
    expect(claimCodec.decode({ status: 'unhealthy', since: 1, lastSentAt: 2 })).toBeUndefined();
    expect(claimCodec.decode('x')).toBeUndefined();
    expect(claimCodec.encode({ status: 'raising', until: 7 })).toBe('{"status":"raising","until":7}');
  });
});
