/** Alerting: channels, the notifier that fans out to them, and the state that de-duplicates alerts. */
export type { Alert, AlertField, Severity } from '#lib/alerts/alert.ts';
export { renderPlainText } from '#lib/alerts/alert.ts';
export type { AlertChannel, ChannelRetry, HttpChannelOptions, SendOptions } from '#lib/alerts/channel.ts';
export type { ChannelName, ChannelRow, ChannelVariable } from '#lib/alerts/channels/registry.ts';
export { CHANNELS } from '#lib/alerts/channels/registry.ts';
export type { Clock } from '#lib/alerts/clock.ts';
export type { AlertsConfig, ChannelValues, LoadOptions, StateConfig } from '#lib/alerts/config.ts';
export { ALERT_ENV, loadAlertsConfig, parseAlertsEnv, parseDynamoDbState } from '#lib/alerts/config.ts';
export type { AlertLogger } from '#lib/alerts/logger.ts';
export type { AlertMonitor, MonitorOptions, MonitorOutcome, Observation } from '#lib/alerts/monitor.ts';
export { createAlertMonitor, DEFAULT_STATE_TIMEOUT_MS } from '#lib/alerts/monitor.ts';
export type { ChannelFailure, DeliveryResult, Notifier, NotifierOptions } from '#lib/alerts/notifier.ts';
export { createNotifier } from '#lib/alerts/notifier.ts';
export type { RateLimit } from '#lib/alerts/rate-limit.ts';
export type { Alerting, AlertingDeps } from '#lib/alerts/setup.ts';
export { createAlerting, createAlertingFromEnv, createChannels } from '#lib/alerts/setup.ts';
export { airflowVariableStateStore, variableKey } from '#lib/alerts/state/airflow-variable.ts';
export type { AlertAction, AlertDecision, AlertState } from '#lib/alerts/state/decide.ts';
export { decideAlert } from '#lib/alerts/state/decide.ts';
export type { DynamoDbStateOptions } from '#lib/alerts/state/dynamodb.ts';
export { DYNAMODB_KEY, DYNAMODB_TTL_ATTRIBUTE, dynamodbStateStore } from '#lib/alerts/state/dynamodb.ts';
export { memoryStateStore } from '#lib/alerts/state/memory.ts';
export type { RedisLike, RedisStateOptions } from '#lib/alerts/state/redis.ts';
export { createRedisClient, redisStateStore } from '#lib/alerts/state/redis.ts';
export type { RespOptions } from '#lib/alerts/state/resp.ts';
export type {
  AlertStateStore,
  StateCallOptions,
  StateWriteOptions,
  StoredState,
} from '#lib/alerts/state/store.ts';
export { TRUNCATION_MARKER } from '#lib/alerts/truncate.ts';
export type { SecretReference, SecretResolver } from '#lib/secrets/references.ts';
export { awsSecretResolver } from '#lib/secrets/references.ts';
