import { describe, expect, it } from 'vitest';
import {
  type AlertState,
  airflowVariableStateStore,
  memoryStateStore,
  variableKey,
} from '#lib/alerts/index.ts';
import { alertStateCodec, decodeStored, encodeStored } from '#lib/alerts/state/store.ts';

const unhealthy: AlertState = {
  status: 'unhealthy',
  since: 1_700_000_000_000,
  lastSentAt: 1_700_000_060_000,
};
const healthy: AlertState = { status: 'healthy', since: 1_700_000_120_000 };

describe('state encoding', () => {
  it('writes the state alone, or with its version in the same JSON object', () => {
    expect(alertStateCodec.encode(unhealthy)).toBe(
      '{"status":"unhealthy","since":1700000000000,"lastSentAt":1700000060000}',
    );
    expect(encodeStored(alertStateCodec, healthy, 3)).toBe(
      '{"status":"healthy","since":1700000120000,"version":3}',
    );
    expect(decodeStored(alertStateCodec, encodeStored(alertStateCodec, unhealthy, 12))).toEqual({
      state: unhealthy,
      version: 12,
    });
  });

  it('reads an older value without a version as version 0, and garbage as no state at its version', () => {
    expect(decodeStored(alertStateCodec, '{"status":"healthy","since":5}')).toEqual({
      state: { status: 'healthy', since: 5 },
      version: 0,
    });
    expect(decodeStored(alertStateCodec, '{"status":"broken","version":4}')).toEqual({
      state: undefined,
      version: 4,
    });
    expect(decodeStored(alertStateCodec, 'not json')).toEqual({ state: undefined, version: 0 });
    expect(decodeStored(alertStateCodec, undefined)).toEqual({ state: undefined, version: 0 });
  });
});

describe('memoryStateStore', () => {
  it('writes when the version still matches and refuses a stale one', async () => {
    const store = memoryStateStore();
    expect(await store.get('k')).toEqual({ state: undefined, version: 0 });
    expect(await store.set('k', unhealthy, { ifVersion: 0 })).toBe(true);
    expect(await store.set('k', healthy, { ifVersion: 0 })).toBe(false);
    expect(await store.get('k')).toEqual({ state: unhealthy, version: 1 });
    expect(await store.set('k', healthy)).toBe(true);
    expect(await store.get('k')).toEqual({ state: healthy, version: 2 });
  });
});

describe('airflowVariableStateStore', () => {
  function fakeAirflow() {
    const variables = new Map<string, string>();
    const signals: (AbortSignal | undefined)[] = [];
    return {
      variables,
      signals,
      client: {
        async getVariable(key: string, options: { signal?: AbortSignal } = {}) {
          signals.push(options.signal);
          return variables.get(key);
        },
        async setVariable(key: string, value: string, options: { signal?: AbortSignal } = {}) {
          signals.push(options.signal);
          variables.set(key, value);
        },
      },
    };
  }

  it('keeps the version inside the Variable and compares it before writing', async () => {
    const airflow = fakeAirflow();
    const store = airflowVariableStateStore(airflow.client);
    expect(await store.set('health:prod', unhealthy, { ifVersion: 0 })).toBe(true);
    expect(airflow.variables.get(variableKey('health:prod'))).toBe(
      encodeStored(alertStateCodec, unhealthy, 1),
    );
    expect(await store.set('health:prod', healthy, { ifVersion: 0 })).toBe(false);
    expect(await store.get('health:prod')).toEqual({ state: unhealthy, version: 1 });
  });

  it('passes the caller’s signal to every Airflow call', async () => {
    const airflow = fakeAirflow();
    const store = airflowVariableStateStore(airflow.client);
    const signal = new AbortController().signal;
    await store.get('k', { signal });
    await store.set('k', healthy, { signal });
    expect(airflow.signals).toEqual([signal, signal, signal]);
  });
});
