import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import {
  type Alert,
  type AlertChannel,
  type AlertLogger,
  createAlertMonitor,
  createNotifier,
  memoryStateStore,
  variableKey,
} from '#lib/alerts/index.ts';
import { AirkickError } from '#lib/errors.ts';
import { baseAlert } from './fixtures.ts';

function recordingLogger() {
  const lines: { level: string; message: string; extra: Record<string, unknown>[] }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      lines.push({ level, message, extra });
  const logger: AlertLogger = { info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

function channel(name: string, behaviour: 'ok' | 'fail', sent: Alert[] = []): AlertChannel {
  return {
    name,
    async send(alert) {
      sent.push(alert);
      if (behaviour === 'fail') throw new AirkickError('SERVER', `${name}: down`);
    },
  };
}

describe('createNotifier', () => {
  it('accepts a Powertools Logger as its logger', () => {
    const logger: AlertLogger = new Logger({ serviceName: 'airkick-test', logLevel: 'SILENT' });
    expect(createNotifier({ channels: [], logger }).channels).toEqual([]);
  });

  it('reports delivered and failed channels; one failure does not stop the others', async () => {
    const { logger, lines } = recordingLogger();
    const notifier = createNotifier({
      channels: [channel('a', 'ok'), channel('b', 'fail'), channel('c', 'ok')],
      logger,
    });
    const result = await notifier.notify(baseAlert);
    expect(result.delivered).toEqual(['a', 'c']);
    expect(result.failed.map((f) => [f.channel, f.error.code])).toEqual([['b', 'SERVER']]);
    expect(lines.map((l) => l.level)).toEqual(['warn']);
  });

  it('logs the whole alert at ERROR when every channel fails', async () => {
    const { logger, lines } = recordingLogger();
    const notifier = createNotifier({ channels: [channel('a', 'fail'), channel('b', 'fail')], logger });
    const result = await notifier.notify(baseAlert);
    expect(result.delivered).toEqual([]);
    expect(result.failed.map((f) => f.channel)).toEqual(['a', 'b']);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.level).toBe('error');
    expect(lines[0]?.extra[0]?.alert).toEqual(baseAlert);
  });

  it('turns a non-Airkick failure into a TRANSPORT error', async () => {
    const broken: AlertChannel = {
      name: 'x',
      async send() {
        throw new Error('boom');
      },
    };
    const result = await createNotifier({ channels: [broken] }).notify(baseAlert);
    expect(result.failed[0]?.error).toBeInstanceOf(AirkickError);
    expect(result.failed[0]?.error.message).toBe('x: boom');
  });
});

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
    const observe = async (minute: number, healthy: boolean) => {
      now = minute * 60_000;
      return (await monitor.observe({ key: 'health:prod', healthy, alert: baseAlert })).action;
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

  it('keeps the old state when nothing was delivered, so the next run tries again', async () => {
    const monitor = createAlertMonitor({
      notifier: createNotifier({ channels: [channel('a', 'fail')] }),
      store: memoryStateStore(),
      repeatIntervalMs: 3_600_000,
    });
    const first = await monitor.observe({ key: 'k', healthy: false, alert: baseAlert });
    const second = await monitor.observe({ key: 'k', healthy: false, alert: baseAlert });
    expect([first.action, second.action]).toEqual(['send', 'send']);
  });

  it('alerts when the store cannot be read rather than staying silent', async () => {
    const { logger, lines } = recordingLogger();
    const monitor = createAlertMonitor({
      notifier: createNotifier({ channels: [channel('a', 'ok')] }),
      store: {
        get: async () => {
          throw new Error('store down');
        },
        set: async () => {},
      },
      repeatIntervalMs: 0,
      logger,
    });
    expect((await monitor.observe({ key: 'k', healthy: false, alert: baseAlert })).action).toBe('send');
    expect(lines.some((l) => l.level === 'warn' && l.message.includes('Could not read alert state'))).toBe(
      true,
    );
  });
});

describe('variableKey', () => {
  it('prefixes safe keys and makes unsafe ones safe without collisions', () => {
    expect(variableKey('health.prod-1')).toBe('airkick_alert_state__health.prod-1');
    const a = variableKey('health:prod/1');
    const b = variableKey('health:prod?1');
    expect(a).toMatch(/^airkick_alert_state__health_prod_1_[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(variableKey('x'.repeat(400)).length).toBeLessThanOrEqual(250);
  });
});
