/**
 * What a function does once per container (cold start) and once per invocation, for both clouds:
 * config parsed and validated at import (a bad setting fails the cold start with one message),
 * the Airflow client and alerting built once and reused while the container is warm.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type ClientOptions, createAirflowClient, type Providers } from '../airflow/index.ts';
import type { AirflowClient } from '../airflow/types.ts';
import { type Alerting, createAlertingFromEnv, type SecretResolver } from '../alerts/index.ts';
import { resolveSecretValue } from '../alerts/secrets.ts';
import { type BaseConfig, baseConfig } from '../config.ts';
import { describeEnvironment, parseEnvironment } from '../environment.ts';
import type { JobContext, JobMetrics } from '../jobs/context.ts';

export type FunctionName = 'trigger-dag' | 'on-upload' | 'health-check' | 'db-clean';
export type Cloud = 'aws' | 'aliyun';
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
  clientOptions?: Partial<Pick<ClientOptions, 'aliyun'>>;
}

/** Leaves time to log, publish metrics and answer before the platform's hard stop. */
const SAFETY_MARGIN_MS = 1_500;

export class FunctionRuntime<C> {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly base: BaseConfig;
  readonly config: C;
  readonly environment: string;
  #ready: Promise<{ password: string | undefined; alerting: Alerting }> | undefined;

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

  /** The job context for one invocation; secrets and alerting are resolved on the first one only. */
  async jobContext(invocation: Invocation): Promise<JobContext> {
    this.#ready ??= this.#coldStart(invocation).catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    const { password, alerting } = await this.#ready;
    return {
      client: this.#client(password, invocation),
      logger: this.logger,
      metrics: this.#jobMetrics,
      alerting,
      deadline: invocation.endsAt - SAFETY_MARGIN_MS,
      now: () => new Date(),
    };
  }

  /** Once per container: resolve the password reference, then build alerting (its Variable store needs a client). */
  async #coldStart(invocation: Invocation): Promise<{ password: string | undefined; alerting: Alerting }> {
    const resolver = this.deps.resolver;
    const raw = this.base.password;
    const password =
      raw !== undefined && resolver
        ? await resolveSecretValue('AIRKICK_AIRFLOW_PASSWORD', raw, resolver)
        : raw;
    const alerting = await createAlertingFromEnv(this.env, {
      airflow: this.#client(password, invocation),
      logger: this.logger,
      ...(resolver ? { resolver } : {}),
      ...this.deps.alerting,
    });
    return { password, alerting };
  }

  #client(password: string | undefined, invocation: Invocation): AirflowClient {
    return createAirflowClient(this.base.environment, {
      providers: this.deps.providers,
      ...(password === undefined ? {} : { password }),
      ...invocation.clientOptions,
    });
  }

  #jobMetrics: JobMetrics = {
    add: (name, value, unit = 'Count') => {
      const units = { Count: MetricUnit.Count, Seconds: MetricUnit.Seconds, None: MetricUnit.NoUnit };
      this.metrics.addMetric(name, units[unit], value);
    },
  };
}
