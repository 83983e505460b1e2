import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { type AlertChannel, type AlertLogger, createNotifier, variableKey } from '#lib/alerts/index.ts';
import { AirkickError } from '#lib/errors.ts';
import { baseAlert, channel, recordingLogger } from './fixtures.ts';

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
