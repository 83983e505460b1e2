/**
 * Every alert channel, once: its variables (what each holds, which one switches the channel on),
 * whether Function Compute can deploy it, and how to build it. The configuration schema, the cold
 * start's channel list and the deploy-file test all read this table; a channel's module (its
 * rendering, signing and documented rate limit) is loaded only when the channel is configured.
 * A new channel is its module in this folder plus one row here.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { AlertChannel, HttpChannelOptions } from '#lib/alerts/channel.ts';

/** What a variable holds, which decides how it is checked and whether it is masked. */
export type VariableKind =
  /** A webhook URL (https, http only on localhost) or an `ssm:` / `secretsmanager:` reference; a secret. */
  | 'url'
  /** A signing secret or a reference to one. */
  | 'secret'
  /** An SNS topic ARN (not secret). */
  | 'sns-topic-arn';

export interface ChannelVariable {
  env: string;
  kind: VariableKind;
  /** Without it the channel cannot work; the first variable of a row always is (it switches the channel on). */
  required?: boolean;
  /** Why a required variable besides the first is needed, for the error naming it. */
  why?: string;
}

/** What building a channel gets besides its own values: the HTTP knobs and the injected SNS client. */
export interface ChannelContext {
  http: HttpChannelOptions;
  snsClient?: Pick<SNSClient, 'send'>;
}

export interface ChannelRow<V extends string = string> {
  /** Option name -> variable; the first entry switches the channel on. */
  variables: Record<V, ChannelVariable>;
  /** `aws`: only the Lambda deployment has it (it needs the AWS SDK the Lambda runtime ships). */
  deploy: 'both' | 'aws';
  /** Builds the channel from its resolved values (required ones are present; optional ones may be absent). */
  create(values: Partial<Record<V, string>>, context: ChannelContext): Promise<AlertChannel>;
}

/** A required value, present whenever the configuration let the channel on. */
function must(value: string | undefined): string {
  if (value === undefined) throw new Error('a required alert channel value is missing');
  return value;
}

const row = <V extends string>(definition: ChannelRow<V>): ChannelRow<V> => definition;
const url = (env: string): ChannelVariable => ({ env, kind: 'url', required: true });
const secret = (env: string, why?: string): ChannelVariable => ({
  env,
  kind: 'secret',
  ...(why ? { required: true, why } : {}),
});

export const CHANNELS = {
  slack: row({
    variables: { url: url('AIRKICK_ALERT_SLACK_URL') },
    deploy: 'both',
    create: async (values, { http }) =>
      (await import('#lib/alerts/channels/slack.ts')).slackChannel({
        ...http,
        ...values,
        url: must(values.url),
      }),
  }),
  dingtalk: row({
    variables: { url: url('AIRKICK_ALERT_DINGTALK_URL'), secret: secret('AIRKICK_ALERT_DINGTALK_SECRET') },
    deploy: 'both',
    create: async (values, { http }) =>
      (await import('#lib/alerts/channels/dingtalk.ts')).dingtalkChannel({
        ...http,
        ...values,
        url: must(values.url),
      }),
  }),
  feishu: row({
    variables: { url: url('AIRKICK_ALERT_FEISHU_URL'), secret: secret('AIRKICK_ALERT_FEISHU_SECRET') },
    deploy: 'both',
    create: async (values, { http }) =>
      (await import('#lib/alerts/channels/feishu.ts')).feishuChannel({
        ...http,
        ...values,
        url: must(values.url),
      }),
  }),
  wecom: row({
    variables: { url: url('AIRKICK_ALERT_WECOM_URL') },
    deploy: 'both',
    create: async (values, { http }) =>
      (await import('#lib/alerts/channels/wecom.ts')).wecomChannel({
        ...http,
        ...values,
        url: must(values.url),
      }),
  }),
  teams: row({
    variables: { url: url('AIRKICK_ALERT_TEAMS_URL') },
    deploy: 'both',
    create: async (values, { http }) =>
      (await import('#lib/alerts/channels/teams.ts')).teamsChannel({
        ...http,
        ...values,
        url: must(values.url),
      }),
  }),
  webhook: row({
    variables: {
      url: url('AIRKICK_ALERT_WEBHOOK_URL'),
      secret: secret('AIRKICK_ALERT_WEBHOOK_SECRET', 'receivers verify the HMAC signature'),
    },
    deploy: 'both',
    create: async (values, { http }) =>
      (await import('#lib/alerts/channels/webhook.ts')).webhookChannel({
        ...http,
        url: must(values.url),
        secret: must(values.secret),
      }),
  }),
  sns: row({
    variables: { topicArn: { env: 'AIRKICK_ALERT_SNS_TOPIC_ARN', kind: 'sns-topic-arn', required: true } },
    deploy: 'aws',
    create: async (values, { snsClient }) =>
      (await import('#lib/alerts/channels/sns.ts')).snsChannel({
        topicArn: must(values.topicArn),
        ...(snsClient ? { client: snsClient } : {}),
      }),
  }),
} as const;

export type ChannelName = keyof typeof CHANNELS;

/** The rows in table order, with their names. */
export const channelRows = (): [ChannelName, ChannelRow][] =>
  Object.entries(CHANNELS) as unknown as [ChannelName, ChannelRow][];
