/** Alerting: channels, the notifier that fans out to them, and the state that de-duplicates alerts. */
export type { Alert, AlertField, Severity } from './alert.ts';
export { renderPlainText } from './alert.ts';
export type { AlertChannel, ChannelRetry, HttpChannelOptions, SendOptions } from './channel.ts';
export type { DingTalkOptions } from './channels/dingtalk.ts';
export { dingtalkChannel, dingtalkSign, dingtalkSignedUrl } from './channels/dingtalk.ts';
export type { FeishuOptions } from './channels/feishu.ts';
export { feishuChannel, feishuSign } from './channels/feishu.ts';
export type { SlackOptions } from './channels/slack.ts';
export { slackChannel } from './channels/slack.ts';
export type { SnsOptions } from './channels/sns.ts';
export { snsChannel } from './channels/sns.ts';
export type { TeamsOptions } from './channels/teams.ts';
export { teamsChannel } from './channels/teams.ts';
export type { WebhookOptions } from './channels/webhook.ts';
export {
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  webhookChannel,
  webhookSignature,
} from './channels/webhook.ts';
export type { WeComOptions } from './channels/wecom.ts';
export { wecomChannel } from './channels/wecom.ts';
export type { Clock } from './clock.ts';
export type { AlertsConfig, LoadOptions, StateConfig } from './config.ts';
export { ALERT_ENV, loadAlertsConfig, parseAlertsEnv, parseDynamoDbState } from './config.ts';
export type { AlertLogger } from './logger.ts';
export type { AlertMonitor, MonitorOptions, MonitorOutcome, Observation } from './monitor.ts';
export { createAlertMonitor, DEFAULT_STATE_TIMEOUT_MS } from './monitor.ts';
export type { ChannelFailure, DeliveryResult, Notifier, NotifierOptions } from './notifier.ts';
export { createNotifier } from './notifier.ts';
export type { RateLimit } from './rate-limit.ts';
export { CHANNEL_RATE_LIMITS } from './rate-limit.ts';
export type { SecretReference, SecretResolver } from './secrets.ts';
export { awsSecretResolver } from './secrets.ts';
export type { Alerting, AlertingDeps } from './setup.ts';
export { createAlerting, createAlertingFromEnv, createChannels } from './setup.ts';
export { airflowVariableStateStore, variableKey } from './state/airflow-variable.ts';
export type { AlertAction, AlertDecision, AlertState } from './state/decide.ts';
export { decideAlert } from './state/decide.ts';
export type { DynamoDbStateOptions } from './state/dynamodb.ts';
export { DYNAMODB_KEY, DYNAMODB_TTL_ATTRIBUTE, dynamodbStateStore } from './state/dynamodb.ts';
export { memoryStateStore } from './state/memory.ts';
export type { RedisLike, RedisStateOptions } from './state/redis.ts';
export { createRedisClient, redisStateStore } from './state/redis.ts';
export type { RespOptions } from './state/resp.ts';
export type { AlertStateStore, StateCallOptions, StateWriteOptions, StoredState } from './state/store.ts';
export { TRUNCATION_MARKER } from './truncate.ts';
