import type { Alert } from '#lib/alerts/alert.ts';
import type { AlertChannel, SendOptions } from '#lib/alerts/channel.ts';
import { type AlertLogger, silentLogger } from '#lib/alerts/logger.ts';
import { AirkickError } from '#lib/errors.ts';
import { redactSecrets } from '#lib/secrets/redaction.ts';

export interface ChannelFailure {
  channel: string;
  error: AirkickError;
}

export interface DeliveryResult {
  delivered: string[];
  failed: ChannelFailure[];
}

export interface Notifier {
  readonly channels: readonly string[];
  /** Sends to every channel in parallel; never throws, failures are in the result. */
  notify(alert: Alert, options?: SendOptions): Promise<DeliveryResult>;
}

export interface NotifierOptions {
  channels: readonly AlertChannel[];
  logger?: AlertLogger;
}

/**
 * Fans an alert out to all channels at once, so a slow or broken channel costs the others nothing.
 * When nothing got through, the alert itself goes to the ERROR log: the log is the channel of last resort.
 */
export function createNotifier(options: NotifierOptions): Notifier {
  const logger = options.logger ?? silentLogger;
  const channels = [...options.channels];
  return {
    channels: channels.map((c) => c.name),
    async notify(alert, sendOptions) {
      const outcomes = await Promise.allSettled(channels.map((channel) => channel.send(alert, sendOptions)));
      const result: DeliveryResult = { delivered: [], failed: [] };
      outcomes.forEach((outcome, i) => {
        const channel = channels[i]?.name ?? String(i);
        if (outcome.status === 'fulfilled') result.delivered.push(channel);
        else result.failed.push({ channel, error: asAirkickError(channel, outcome.reason) });
      });
      report(logger, alert, result);
      return result;
    },
  };
}

function report(logger: AlertLogger, alert: Alert, result: DeliveryResult): void {
  const failures = result.failed.map((f) => ({
    channel: f.channel,
    code: f.error.code,
    error: f.error.message,
  }));
  if (result.delivered.length > 0) {
    if (failures.length > 0)
      logger.warn('Alert delivered to some channels only', { delivered: result.delivered, failures });
    else logger.info('Alert delivered', { delivered: result.delivered, title: alert.title });
    return;
  }
  const content = safeAlert(alert);
  if (failures.length === 0)
    logger.warn('No alert channel is configured; the alert is only logged', { alert: content });
  else logger.error('Alert delivery failed on every channel', { alert: content, failures });
}

// The alert is the caller's text, but a caller may have pasted an upstream error that holds a token.
function safeAlert(alert: Alert): Alert {
  return JSON.parse(redactSecrets(JSON.stringify(alert))) as Alert;
}

function asAirkickError(channel: string, reason: unknown): AirkickError {
  if (reason instanceof AirkickError) return reason;
  const message = reason instanceof Error ? reason.message : String(reason);
  return new AirkickError('TRANSPORT', `${channel}: ${message}`, { cause: reason });
}
