import { describe, expect, it } from 'vitest';
import {
  type Alert,
  type AlertStateStore,
  createAlerting,
  createAlertMonitor,
  createNotifier,
  loadAlertsConfig,
  memoryStateStore,
  type StoredState,
} from '#lib/alerts/index.ts';
import { AirkickError } from '#lib/errors.ts';
import { baseAlert, channel, recordingLogger } from './fixtures.ts';

const healthy = { key: 'health:prod', healthy: true, alert: baseAlert };
const unhealthy = { key: 'health:prod', healthy: false, alert: baseAlert };

/** A store that behaves as told per call: works (over `inner`), throws, or never answers. */
function stubStore(inner: AlertStateStore = memoryStateStore()) {
  const mode = { get: 'ok' as 'ok' | 'throw' | 'hang', set: 'ok' as 'ok' | 'throw' | 'hang' };
  const signals: AbortSignal[] = [];
  const act = <T>(how: 'ok' | 'throw' | 'hang', signal: AbortSignal | undefined, work: () => Promise<T>) => {
    if (signal) signals.push(signal);
    if (how === 'throw') return Promise.reject(new AirkickError('TRANSPORT', 'store down'));
    // Ignores the signal on purpose: the monitor must stop waiting on its own.
    if (how === 'hang') return new Promise<T>(() => {});
    return work();
  };
  const store: AlertStateStore = {
    kind: 'stub',
    get: (key, options = {}) => act(mode.get, options.signal, () => inner.get(key)),
    set: (key, state, options = {}) =>
      act(mode.set, options.signal, () =>
        inner.set(key, state, options.ifVersion === undefined ? {} : { ifVersion: options.ifVersion }),
      ),
  };
  return { store, mode, signals, inner };
}

function monitorWith(store: AlertStateStore, behaviour: 'ok' | 'fail' = 'ok') {
  const sent: Alert[] = [];
  const { logger, lines } = recordingLogger();
  let now = 1_700_000_000_000;
  const monitor = createAlertMonitor({
    notifier: createNotifier({ channels: [channel('a', behaviour, sent)] }),
    store,
    repeatIntervalMs: 60_000,
    stateTimeoutMs: 100,
    logger,
    now: () => now,
  });
  return {
    monitor,
    sent,
    lines,
    advance: (ms: number) => {
      now += ms;
    },
    warnings: () => lines.filter((l) => l.level === 'warn').map((l) => l.message),
  };
}

describe('createAlertMonitor', () => {
  it('alerts on the transition, stays quiet, repeats after the interval, and reports recovery', async () => {
    const sent: Alert[] = [];
    let now = 0;
    const monitor = createAlertMonitor({
      notifier: createNotifier({ channels: [channel('a', 'ok', sent)] }),
      store: memoryStateStore(),
      repeatIntervalMs: 60_000,
      now: () => now,
    });
    const observe = async (minute: number, isHealthy: boolean) => {
      now = minute * 60_000;
      return (await monitor.observe({ key: 'health:prod', healthy: isHealthy, alert: baseAlert })).action;
    };
    expect(await observe(0, true)).toBe('quiet');
    expect(await observe(1, false)).toBe('send');
    expect(await observe(1.5, false)).toBe('quiet');
    expect(await observe(2, false)).toBe('repeat');
    expect(await observe(3.5, true)).toBe('recovered');
    expect(await observe(4, true)).toBe('quiet');
    expect(sent.map((a) => [a.severity, a.title])).toEqual([
      ['critical', 'Scheduler heartbeat is stale'],
      ['critical', 'Still failing: Scheduler heartbeat is stale'],
      ['resolved', 'Resolved: Scheduler heartbeat is stale'],
    ]);
    expect(sent[2]?.fields?.[0]).toEqual({ key: 'Unhealthy for', value: '3 min' });
  });

  it('gives a claimed transition back when nothing was delivered, so the next run tries again', async () => {
    const store = memoryStateStore();
    const { monitor, sent } = monitorWith(store, 'fail');
    const first = await monitor.observe(unhealthy);
    const second = await monitor.observe(unhealthy);
    expect([first.action, second.action]).toEqual(['send', 'send']);
    expect(sent).toHaveLength(2);
    // Claimed and given back twice: healthy again, as the next run must see it.
    expect((await store.get('health:prod')).state?.status).toBe('healthy');
  });

  it('still alerts when the store throws, notes it in the alert, and warns', async () => {
    const stub = stubStore();
    stub.mode.get = 'throw';
    const { monitor, sent, warnings } = monitorWith(stub.store);
    const outcome = await monitor.observe(unhealthy);
    expect(outcome).toMatchObject({ action: 'send', withoutState: true });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.fields?.at(-1)).toEqual({
      key: 'Alert state',
      value: 'unavailable (stub): this may repeat an earlier alert',
    });
    expect(warnings()).toEqual(['Could not read alert state; deciding without it (alerts may repeat)']);
  });

  it('still alerts when the store never answers, and tells the store to give up', async () => {
    const stub = stubStore();
    stub.mode.get = 'hang';
    stub.mode.set = 'hang';
    const { monitor, sent, lines } = monitorWith(stub.store);
    const outcome = await monitor.observe(unhealthy, { deadline: Date.now() + 60_000 });
    expect(outcome).toMatchObject({ action: 'send', withoutState: true });
    expect(outcome.result?.delivered).toEqual(['a']);
    expect(sent).toHaveLength(1);
    // The read and the write after the alert each ran out of time and were aborted.
    expect(stub.signals).toHaveLength(2);
    expect(stub.signals.every((s) => s.aborted)).toBe(true);
    const warned = lines.filter((l) => l.level === 'warn');
    expect(warned.map((l) => l.message)).toEqual([
      'Could not read alert state; deciding without it (alerts may repeat)',
      'Could not store alert state; the next run may alert again',
    ]);
    expect(String(warned[0]?.extra[0]?.error)).toMatch(/^stub: read health:prod: no answer within 100 ms$/);
  });

  it('goes on without the store even when the deadline has already passed', async () => {
    const stub = stubStore();
    stub.mode.get = 'hang';
    const { monitor, sent } = monitorWith(stub.store);
    const outcome = await monitor.observe(unhealthy, { deadline: Date.now() - 5_000 });
    expect(outcome.action).toBe('send');
    expect(sent).toHaveLength(1);
  });

  it('ends store calls with the caller’s signal and hands the signal to every channel', async () => {
    const stub = stubStore();
    stub.mode.get = 'hang';
    const given: (AbortSignal | undefined)[] = [];
    const monitor = createAlertMonitor({
      notifier: createNotifier({
        channels: [{ name: 'a', send: async (_alert, o) => void given.push(o?.signal) }],
      }),
      store: stub.store,
      repeatIntervalMs: 60_000,
      stateTimeoutMs: 10_000,
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const outcome = await monitor.observe(unhealthy, { signal: controller.signal });
    // The read ended with the caller's signal, long before its own 10 s bound.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(outcome).toMatchObject({ action: 'send', withoutState: true });
    expect(given).toEqual([controller.signal]);
    expect(stub.signals.every((s) => s.aborted)).toBe(true);
  });

  it('keeps a recovery quiet while the store is unreadable and sends "resolved" once it answers', async () => {
    const stub = stubStore();
    const { monitor, sent, advance } = monitorWith(stub.store);
    expect((await monitor.observe(unhealthy)).action).toBe('send');
    stub.mode.get = 'hang';
    advance(10_000);
    expect(await monitor.observe(healthy)).toEqual({ action: 'quiet', withoutState: true });
    stub.mode.get = 'throw';
    expect(await monitor.observe(healthy)).toEqual({ action: 'quiet', withoutState: true });
    stub.mode.get = 'ok';
    expect((await monitor.observe(healthy)).action).toBe('recovered');
    expect((await monitor.observe(healthy)).action).toBe('quiet');
    expect(sent.map((a) => a.severity)).toEqual(['critical', 'resolved']);
  });

  it('sends even when the state cannot be written, and does not throw', async () => {
    const stub = stubStore();
    stub.mode.set = 'throw';
    const { monitor, sent, warnings } = monitorWith(stub.store);
    expect((await monitor.observe(unhealthy)).action).toBe('send');
    // Nothing was stored, so de-duplication cannot work: the next run alerts again.
    expect((await monitor.observe(unhealthy)).action).toBe('send');
    expect(sent).toHaveLength(2);
    expect(warnings()).toEqual([
      'Could not store alert state; the next run may alert again',
      'Could not store alert state; the next run may alert again',
    ]);
  });

  it('de-duplicates again as soon as one write gets through after the read failed', async () => {
    const stub = stubStore();
    stub.mode.get = 'throw';
    const { monitor, sent, advance } = monitorWith(stub.store);
    expect((await monitor.observe(unhealthy)).action).toBe('send');
    stub.mode.get = 'ok';
    advance(10_000);
    expect((await monitor.observe(unhealthy)).action).toBe('quiet');
    expect(sent).toHaveLength(1);
  });

  it('lets only one of two invocations that read the same state send the alert', async () => {
    const inner = memoryStateStore();
    // Both reads complete before either claims: the worst interleaving for a read-then-write.
    let reads = 0;
    let release: () => void = () => {};
    const bothRead = new Promise<void>((resolve) => {
      release = resolve;
    });
    const racing: AlertStateStore = {
      kind: 'racing',
      async get(key) {
        const stored = await inner.get(key);
        if (++reads === 2) release();
        await bothRead;
        return stored;
      },
      set: (key, state, options) => inner.set(key, state, options),
    };
    const a = monitorWith(racing);
    const b = monitorWith(racing);
    const outcomes = await Promise.all([a.monitor.observe(unhealthy), b.monitor.observe(unhealthy)]);
    expect(outcomes.map((o) => o.action).sort()).toEqual(['quiet', 'send']);
    expect(a.sent.length + b.sent.length).toBe(1);
    expect(await inner.get('health:prod')).toMatchObject({ version: 1, state: { status: 'unhealthy' } });
  });

  it('writes the first healthy state only if nothing was stored meanwhile', async () => {
    const versions: (number | undefined)[] = [];
    const inner = memoryStateStore();
    const store: AlertStateStore = {
      kind: 'spy',
      get: (key) => inner.get(key),
      set: (key, state, options = {}) => {
        versions.push(options.ifVersion);
        return inner.set(key, state, options);
      },
    };
    const { monitor } = monitorWith(store);
    await monitor.observe(healthy);
    await monitor.observe(healthy);
    expect(versions).toEqual([0]);
  });

  it('reads a stored value it cannot decode as no state, and overwrites it at its version', async () => {
    const garbage: StoredState = { state: undefined, version: 7 };
    const writes: (number | undefined)[] = [];
    const store: AlertStateStore = {
      kind: 'garbage',
      get: async () => garbage,
      set: async (_key, _state, options = {}) => {
        writes.push(options.ifVersion);
        return true;
      },
    };
    const { monitor } = monitorWith(store);
    expect((await monitor.observe(unhealthy)).action).toBe('send');
    expect(writes).toEqual([7]);
  });
});

describe('createAlerting state', () => {
  const quiet = async () => {
    throw new Error('no reference expected');
  };

  it('keeps state in memory and warns once at cold start when AIRKICK_ALERT_STATE is not set', async () => {
    const { logger, lines } = recordingLogger();
    const alerting = await createAlerting(await loadAlertsConfig({}, { resolver: quiet }), { logger });
    expect(alerting.store.kind).toBe('memory');
    await alerting.monitor.observe(unhealthy);
    await alerting.monitor.observe(unhealthy);
    const warnings = lines
      .filter((l) => l.level === 'warn' && l.message.includes('AIRKICK_ALERT_STATE'))
      .map((l) => l.message);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^AIRKICK_ALERT_STATE is not set: alert de-duplication is per container/);
  });

  it('does not warn when memory is chosen explicitly', async () => {
    const { logger, lines } = recordingLogger();
    await createAlerting(await loadAlertsConfig({ AIRKICK_ALERT_STATE: 'memory' }, { resolver: quiet }), {
      logger,
    });
    expect(lines).toEqual([]);
  });

  it('builds a Redis store without connecting, so an unreachable Redis cannot fail a cold start', async () => {
    const alerting = await createAlerting(
      await loadAlertsConfig({ AIRKICK_ALERT_STATE: 'redis://redis.invalid:6379/0' }, { resolver: quiet }),
    );
    expect(alerting.store.kind).toBe('redis');
    await alerting.close();
  });

  it('builds a DynamoDB store from dynamodb://TABLE', async () => {
    const alerting = await createAlerting(
      await loadAlertsConfig({ AIRKICK_ALERT_STATE: 'dynamodb://airkick-alert-state' }, { resolver: quiet }),
    );
    expect(alerting.store.kind).toBe('dynamodb');
  });

  it('shares its backend with other states only where it outlives the process and every container sees it', async () => {
    const codec = {
      encode: (n: number) => JSON.stringify({ n }),
      decode: (v: unknown) => (v as { n?: number }).n,
    };
    const storeOf = async (value: string | undefined) => {
      const alerting = await createAlerting(
        await loadAlertsConfig(value === undefined ? {} : { AIRKICK_ALERT_STATE: value }, {
          resolver: quiet,
        }),
        { airflow: { getVariable: async () => undefined, setVariable: async () => {} } },
      );
      const shared = alerting.sharedStore(codec)?.kind;
      await alerting.close();
      return shared;
    };
    expect(await storeOf('dynamodb://airkick-alert-state')).toBe('dynamodb');
    expect(await storeOf('redis://redis.invalid:6379/0')).toBe('redis');
    expect(await storeOf('memory')).toBeUndefined();
    expect(await storeOf(undefined)).toBeUndefined();
    expect(await storeOf('airflow-variable')).toBeUndefined();
  });

  it('refuses the airflow-variable store without an Airflow client', async () => {
    const config = await loadAlertsConfig({ AIRKICK_ALERT_STATE: 'airflow-variable' }, { resolver: quiet });
    await expect(createAlerting(config)).rejects.toThrow(
      'AIRKICK_ALERT_STATE=airflow-variable needs an Airflow client',
    );
  });
});
