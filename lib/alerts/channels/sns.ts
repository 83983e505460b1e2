import type { PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { type Alert, renderPlainText, SEVERITY_LABEL } from '#lib/alerts/alert.ts';
import { type AlertChannel, abortedDelivery } from '#lib/alerts/channel.ts';
import { fitText, truncateChars } from '#lib/alerts/truncate.ts';
import { boundSignal, untilAborted } from '#lib/deadline.ts';
import { AirkickError } from '#lib/errors.ts';

/** SNS: Subject under 100 ASCII characters; the whole publish (message + attributes) <= 256 KiB. */
const SUBJECT_MAX = 99;
const MESSAGE_MAX = 256 * 1024 - 2 * 1024;

/**
 * SNS refuses a Subject with non-ASCII or control characters, and alert titles are often Chinese or
 * Japanese: keep what is printable ASCII and fall back to a generic subject.
 */
export function snsSubject(alert: Alert): string {
  const label = `[${SEVERITY_LABEL[alert.severity]}]`;
  const ascii = (text: string) =>
    text
      .replace(/[^\x20-\x7e]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
  const title = ascii(`${alert.environment}: ${alert.title}`);
  const subject = title.replace(/[: ]/g, '') === '' ? `${label} Airkick alert` : `${label} ${title}`;
  return truncateChars(subject, SUBJECT_MAX, '...');
}

export function snsMessage(alert: Alert): string {
  return fitText(renderPlainText(alert), MESSAGE_MAX);
}

export function snsPublishInput(topicArn: string, alert: Alert): PublishCommandInput {
  return {
    TopicArn: topicArn,
    Subject: snsSubject(alert),
    Message: snsMessage(alert),
    // Lets subscribers filter (e.g. only `critical` to the pager) with an SNS filter policy.
    MessageAttributes: {
      severity: { DataType: 'String', StringValue: alert.severity },
      environment: { DataType: 'String', StringValue: truncateChars(alert.environment, 256) },
    },
  };
}

export interface SnsOptions {
  topicArn: string;
  /** A configured client; by default one for the topic's region with the SDK's credential chain. */
  client?: Pick<SNSClient, 'send'>;
  name?: string;
}

/** The region is part of the topic ARN: `arn:aws:sns:<region>:<account>:<name>`. */
export function regionOfTopic(topicArn: string): string | undefined {
  return topicArn.split(':')[3] || undefined;
}

/**
 * Amazon SNS. The SDK is loaded on first use, so bundles that never configure SNS (Function Compute)
 * need not carry it; the SDK does its own retries, all of them ended by the deadline or the caller's
 * signal (and stopped waiting for then, should the SDK not notice).
 */
export function snsChannel(options: SnsOptions): AlertChannel {
  const name = options.name ?? 'sns';
  const publish = `${name}: Publish to ${options.topicArn}`;
  let client: Promise<Pick<SNSClient, 'send'>> | undefined;
  const getClient = () => {
    client ??= options.client
      ? Promise.resolve(options.client)
      : import('@aws-sdk/client-sns').then(({ SNSClient }) => {
          const region = regionOfTopic(options.topicArn);
          return new SNSClient(region ? { region } : {});
        });
    return client;
  };
  return {
    name,
    async send(alert, send) {
      const abortSignal = boundSignal(send);
      try {
        const { PublishCommand } = await import('@aws-sdk/client-sns');
        const command = new PublishCommand(snsPublishInput(options.topicArn, alert));
        const sent = getClient().then((c) => c.send(command, abortSignal ? { abortSignal } : {}));
        await untilAborted(sent, abortSignal, publish);
      } catch (cause) {
        if (send?.signal?.aborted) throw abortedDelivery(name, cause);
        if (abortSignal?.aborted) {
          throw new AirkickError('TIMEOUT', `${publish}: no answer before the deadline`, { cause });
        }
        const status = (cause as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        const fault = (cause as { $fault?: 'client' | 'server' }).$fault;
        throw new AirkickError(
          fault === 'client' ? 'BAD_REQUEST' : 'TRANSPORT',
          `${publish} failed: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : 'unknown error'}`,
          { ...(status === undefined ? {} : { status }), ...(fault === undefined ? {} : { fault }), cause },
        );
      }
    },
  };
}
