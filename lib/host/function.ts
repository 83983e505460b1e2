/**
 * What a function does once per container (cold start) and once per invocation, for both clouds:
 * config parsed and validated at import (a bad setting fails the cold start with one message),
 * the Airflow client and alerting built once and reused while the container is warm.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AirflowClient } from '#lib/airflow/types.ts';
import { type Alerting, createAlertingFromEnv } from '#lib/alerts/setup.ts';
import type { AliyunKeys } from '#lib/auth/dms.ts';
import { createAirflowClient, type Providers } from '#lib/client.ts';
import { type BaseConfig, baseConfig } from '#lib/config.ts';
import { untilAborted } from '#lib/deadline.ts';
import { describeEnvironment, parseEnvironment } from '#lib/environment.ts';
import type { Cloud, FunctionName } from '#lib/host/names.ts';
import { claimCodec, UploadClaims } from '#lib/jobs/claims.ts';
import type { JobContext, JobMetrics } from '#lib/jobs/context.ts';
import { forgetSecret, registerSecret } from '#lib/secrets/redaction.ts';
import { resolveSecretValue, type SecretResolver } from '#lib/secrets/references.ts';

type Env = Record<string, string | undefined>;

export interface CloudDeps {
  cloud: Cloud;
  providers: Providers;
  /** Resolves `ssm:`/`secretsmanager:` references (AWS only). */
  resolver?: SecretResolver;
  /** Extra alerting dependencies (an SNS client on AWS). */
  alerting?: Parameters<typeof createAlertingFromEnv>[1];
}

/** Per-invocation facts from the platform. */
export interface Invocation {
  requestId: string;
  /** Epoch ms when the platform stops the invocation. */
  endsAt: number;
  /** The platform's own early-timeout signal (middy's on Lambda), if it has one. */
  signal?: AbortSignal;
  /** Function Compute's STS keys for this invocation (they rotate; the DMS client signs with the current ones). */
  aliyunKeys?: AliyunKeys;
}

/** What a container builds once, on its first invocation. */
interface ColdStart {
  password: string | undefined;
  alerting: Alerting;
  claims?: UploadClaims;
}

/** Leaves time to log, publish metrics and answer before the platform's hard stop. */
export const SAFETY_MARGIN_MS = 1_500;

export class FunctionRuntime<C> {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly base: BaseConfig;
  readonly config: C;
  readonly environment: string;
  #ready: Promise<ColdStart> | undefined;
  /** The current invocation's Alibaba Cloud keys, read by the DMS client at each signed call. */
  #aliyunKeys: AliyunKeys | undefined;

  constructor(
    readonly name: FunctionName,
    parse: (env: Env) => C,
    private readonly deps: CloudDeps,
    private readonly env: Env = process.env,
  ) {
    this.base = baseConfig(env);
    this.config = parse(env);
    this.environment = describeEnvironment(parseEnvironment(this.base.environment));
    this.logger = new Logger({
      serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'airkick',
      persistentKeys: { function: name, cloud: deps.cloud, environment: this.environment },
    });
    this.metrics = new Metrics({
      namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? 'airkick',
      serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'airkick',
      defaultDimensions: { environment: this.environment, function: name },
    });
  }

  /**
   * The job context for one invocation: its deadline and abort signal (the platform's end less a
   * margin), the client and alerting. Secrets and alerting are resolved on the first invocation only,
   * within its time.
   */
  async jobContext(invocation: Invocation): Promise<JobContext> {
    const deadline = invocation.endsAt - SAFETY_MARGIN_MS;
    const timer = AbortSignal.timeout(Math.max(0, deadline - Date.now()));
    const signal = invocation.signal ? AbortSignal.any([invocation.signal, timer]) : timer;
    this.#rotateKeys(invocation.aliyunKeys);
    this.#ready ??= this.#coldStart(signal).catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    const { password, alerting, claims } = await untilAborted(this.#ready, signal, `${this.name} cold start`);
    return {
      client: this.#client(password),
      logger: this.logger,
      metrics: this.#jobMetrics,
      alerting,
      ...(claims ? { claims } : {}),
      deadline,
      signal,
      now: () => new Date(),
    };
  }

  /** Once per container: resolve the password reference, then build alerting (its Variable store needs a client). */
  async #coldStart(signal: AbortSignal): Promise<ColdStart> {
    const resolver = this.deps.resolver;
    const raw = this.base.password;
    const password =
      raw !== undefined && resolver
        ? await untilAborted(
            resolveSecretValue('AIRKICK_AIRFLOW_PASSWORD', raw, resolver),
            signal,
            'resolve AIRKICK_AIRFLOW_PASSWORD',
          )
        : raw;
    const alerting = await createAlertingFromEnv(this.env, {
      airflow: this.#client(password),
      logger: this.logger,
      ...(resolver ? { resolver } : {}),
      ...this.deps.alerting,
    });
    const store = alerting.sharedStore(claimCodec);
    const claims = store && new UploadClaims(store, alerting.config.stateTimeoutMs);
    return { password, alerting, ...(claims ? { claims } : {}) };
  }

  /** The new invocation's keys replace the last one's, which stop being masked once they are not in use. */
  #rotateKeys(keys: AliyunKeys | undefined): void {
    const previous = this.#aliyunKeys;
    if (keys === undefined || keys === previous) return;
    registerSecret(keys.accessKeySecret);
    registerSecret(keys.securityToken);
    if (previous && previous.accessKeySecret !== keys.accessKeySecret) forgetSecret(previous.accessKeySecret);
    if (previous && previous.securityToken !== keys.securityToken) forgetSecret(previous.securityToken);
    this.#aliyunKeys = keys;
  }

  /** One client per container; on Function Compute it signs with the current invocation's keys. */
  #client(password: string | undefined): AirflowClient {
    const keys = this.#aliyunKeys;
    return createAirflowClient(this.base.environment, {
      providers: this.deps.providers,
      ...(password === undefined ? {} : { password }),
      ...(keys ? { aliyun: { credentials: () => this.#aliyunKeys ?? keys } } : {}),
    });
  }

  #jobMetrics: JobMetrics = {
    add: (name, value, unit = 'Count') => {
      const units = { Count: MetricUnit.Count, Seconds: MetricUnit.Seconds, None: MetricUnit.NoUnit };
      this.metrics.addMetric(name, units[unit], value);
    },
  };
}
