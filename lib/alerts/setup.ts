import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { AirflowClient } from '#lib/airflow/types.ts';
import type { AlertChannel, HttpChannelOptions } from '#lib/alerts/channel.ts';
import { channelRows } from '#lib/alerts/channels/registry.ts';
import { type AlertsConfig, type LoadOptions, loadAlertsConfig } from '#lib/alerts/config.ts';
import type { AlertLogger } from '#lib/alerts/logger.ts';
import { type AlertMonitor, createAlertMonitor } from '#lib/alerts/monitor.ts';
import { createNotifier, type Notifier } from '#lib/alerts/notifier.ts';
import { airflowVariableStateStore } from '#lib/alerts/state/airflow-variable.ts';
import { dynamodbStateStore, dynamodbStore } from '#lib/alerts/state/dynamodb.ts';
import { memoryStore } from '#lib/alerts/state/memory.ts';
import type { RedisLike } from '#lib/alerts/state/redis.ts';
import type { AlertStateStore, StateCodec, StateStore } from '#lib/alerts/state/store.ts';
import { AirkickError } from '#lib/errors.ts';

export interface AlertingDeps {
  logger?: AlertLogger;
  /** Needed for `AIRKICK_ALERT_STATE=airflow-variable`. */
  airflow?: Pick<AirflowClient, 'getVariable' | 'setVariable'>;
  /** An SNS client (endpoint, credentials); by default one for the topic's region. */
  snsClient?: Pick<SNSClient, 'send'>;
  /** A Redis client; by default one for the configured URL, connected on first use. */
  redis?: RedisLike;
  /** A DynamoDB client (endpoint, credentials); by default one for the configured region. */
  dynamodb?: Pick<DynamoDBClient, 'send'>;
  /** Test hooks for the HTTP channels (clock, pacing, backoff). */
  http?: HttpChannelOptions;
}

export interface Alerting {
  notifier: Notifier;
  store: AlertStateStore;
  /**
   * A store for another kind of state on the same backend (table, Redis connection, key prefix),
   * when that backend outlives the process and is shared by every container: `dynamodb` or
   * `redis`. `undefined` for `memory` (set or not: a restart forgets it) and for `airflow-variable`,
   * whose write is no compare-and-set.
   */
  sharedStore<S>(codec: StateCodec<S>): StateStore<S> | undefined;
  monitor: AlertMonitor;
  config: Readonly<AlertsConfig>;
  /** Closes the Redis connection this module opened, if any. */
  close(): Promise<void>;
}

/** The configured channels, in the table's order; each channel's module is loaded only when it is configured. */
export async function createChannels(
  config: AlertsConfig,
  deps: Pick<AlertingDeps, 'snsClient' | 'http'> = {},
): Promise<AlertChannel[]> {
  const http: HttpChannelOptions = {
    timeoutMs: config.timeoutMs,
    retry: { retries: config.retries },
    ...deps.http,
  };
  const context = { http, ...(deps.snsClient ? { snsClient: deps.snsClient } : {}) };
  const configured = channelRows().flatMap(([name, row]) => {
    const values = config.channels[name];
    return values ? [row.create(values, context)] : [];
  });
  return Promise.all(configured);
}

/** Builds the notifier, state store and monitor from a loaded configuration. */
export async function createAlerting(
  config: Readonly<AlertsConfig>,
  deps: AlertingDeps = {},
): Promise<Alerting> {
  let close = async () => {};
  let shared: (<S>(codec: StateCodec<S>) => StateStore<S>) | undefined;
  let store: AlertStateStore;
  const state = config.state;
  const ttlMs = config.stateTtlMs;
  switch (state.kind) {
    case 'memory':
      // No shared store: a process's memory cannot know what an earlier process (a restart) did.
      store = memoryStore();
      if (state.implicit) {
        deps.logger?.warn(
          'AIRKICK_ALERT_STATE is not set: alert de-duplication is per container (in memory), so each new container may alert again. Set it to dynamodb://TABLE (AWS) or a redis:// URL (Function Compute).',
        );
      }
      break;
    case 'dynamodb': {
      const options = {
        table: state.table,
        ttlMs,
        ...(state.region ? { region: state.region } : {}),
        ...(deps.dynamodb ? { client: deps.dynamodb } : {}),
      };
      store = dynamodbStateStore(options);
      shared = (codec) => dynamodbStore(options, codec);
      break;
    }
    case 'redis': {
      // Loaded only when Redis is the store: the RESP client and its sockets cost the others nothing.
      const { createRedisClient, redisStateStore, redisStore } = await import('#lib/alerts/state/redis.ts');
      let client = deps.redis;
      if (client === undefined) {
        // Connects on first use: an unreachable Redis must not fail the cold start, only de-duplication.
        const created = createRedisClient(state.url, {
          connectTimeoutMs: config.stateTimeoutMs,
          commandTimeoutMs: config.stateTimeoutMs,
        });
        close = () => created.close();
        client = created;
      }
      store = redisStateStore(client, { ttlMs });
      const connection = client;
      shared = (codec) => redisStore(connection, codec, { ttlMs });
      break;
    }
    case 'airflow-variable':
      if (deps.airflow === undefined) {
        throw new AirkickError('CONFIG', 'AIRKICK_ALERT_STATE=airflow-variable needs an Airflow client');
      }
      store = airflowVariableStateStore(deps.airflow);
      break;
  }
  const notifier = createNotifier({
    channels: await createChannels(config, deps),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  const monitor = createAlertMonitor({
    notifier,
    store,
    repeatIntervalMs: config.repeatIntervalMs,
    stateTimeoutMs: config.stateTimeoutMs,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  return { notifier, store, sharedStore: (codec) => shared?.(codec), monitor, config, close };
}

/**
 * Everything from the environment in one call, for a function's cold start:
 * `const alerting = createAlertingFromEnv(process.env, { airflow, logger })` at module scope.
 */
export async function createAlertingFromEnv(
  env: Record<string, string | undefined>,
  deps: AlertingDeps & LoadOptions = {},
): Promise<Alerting> {
  const config = await loadAlertsConfig(env, deps.resolver ? { resolver: deps.resolver } : {});
  return createAlerting(config, deps);
}
