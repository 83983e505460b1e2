/**
 * The subset of Serverless Devs 3 / fc3 properties this project uses, checked strictly: an unknown
 * key is a typo here, not a feature. Field names, enums and ranges follow the fc3 component's own
 * JSON schema (devsapp/fc3 src/schema.json); the CPU/memory ratio is Function Compute 3.0's rule.
 */
import { z } from 'zod';

const OSS_EVENTS = [
  'oss:ObjectCreated:*',
  'oss:ObjectCreated:PutObject',
  'oss:ObjectCreated:PostObject',
  'oss:ObjectCreated:CopyObject',
  'oss:ObjectCreated:CompleteMultipartUpload',
  'oss:ObjectCreated:AppendObject',
  'oss:ObjectCreated:PutSymlink',
] as const;

const accountArn = (service: string, rest: string) =>
  new RegExp(`^acs:${service}:[a-z0-9-]*:\\d{16}:${rest}$`);

const baseTrigger = {
  triggerName: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/),
  qualifier: z.literal('LATEST'),
  description: z.string().optional(),
};

export const timerTrigger = z.strictObject({
  ...baseTrigger,
  triggerType: z.literal('timer'),
  triggerConfig: z.strictObject({
    cronExpression: z
      .string()
      .regex(/^(CRON_TZ=\S+ )?\S+( \S+){5}$/, 'six cron fields, optional CRON_TZ= prefix'),
    enable: z.boolean(),
    payload: z.string().optional(),
  }),
});

export const ossTrigger = z.strictObject({
  ...baseTrigger,
  triggerType: z.literal('oss'),
  sourceArn: z.string().regex(accountArn('oss', '[a-z0-9][a-z0-9-]{1,62}')),
  invocationRole: z.string().regex(/^acs:ram::\d{16}:role\/[A-Za-z0-9.-]+$/),
  triggerConfig: z.strictObject({
    events: z.array(z.enum(OSS_EVENTS)).min(1),
    filter: z.strictObject({ key: z.strictObject({ prefix: z.string(), suffix: z.string() }) }),
  }),
});

const destination = z.strictObject({
  destination: z
    .string()
    .regex(
      /^acs:(mns:[a-z0-9-]+:\d{16}:\/queues\/[A-Za-z0-9-]+\/messages|fc:[a-z0-9-]+:\d{16}:functions\/.+)$/,
    ),
});

export const fc3Props = z
  .strictObject({
    region: z.enum([
      'cn-hangzhou',
      'cn-shanghai',
      'cn-beijing',
      'cn-shenzhen',
      'cn-hongkong',
      'ap-southeast-1',
      'us-west-1',
      'us-east-1',
      'eu-central-1',
      'ap-northeast-1',
    ]),
    functionName: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_-]{0,127}$/),
    description: z.string().max(256).optional(),
    runtime: z.literal('nodejs20'),
    code: z.string().min(1),
    handler: z.literal('index.handler'),
    cpu: z.number().min(0.05).max(16),
    memorySize: z.number().int().min(128).max(32768).multipleOf(64),
    diskSize: z.union([z.literal(512), z.literal(10240)]),
    timeout: z.number().int().min(1).max(86400),
    instanceConcurrency: z.number().int().min(1).max(200),
    role: z.string().regex(/^acs:ram::\d{16}:role\/[A-Za-z0-9.-]+$/),
    logConfig: z.strictObject({
      project: z.string().min(3),
      logstore: z.string().min(2),
      enableRequestMetrics: z.boolean().optional(),
      enableInstanceMetrics: z.boolean().optional(),
      logBeginRule: z.enum(['DefaultRegex', 'None']).optional(),
    }),
    environmentVariables: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()),
    asyncInvokeConfig: z.strictObject({
      maxAsyncRetryAttempts: z.number().int().min(0).max(8),
      maxAsyncEventAgeInSeconds: z.number().int().min(1).max(2_592_000),
      destinationConfig: z.strictObject({ onFailure: destination, onSuccess: destination.optional() }),
    }),
    triggers: z.array(z.discriminatedUnion('triggerType', [timerTrigger, ossTrigger])).min(1),
  })
  .superRefine((props, ctx) => {
    // FC 3.0: memory in GB between 1x and 4x the vCPUs.
    const ratio = props.memorySize / 1024 / props.cpu;
    if (ratio < 1 || ratio > 4) {
      ctx.addIssue({
        code: 'custom',
        message: `memory/cpu ratio ${ratio.toFixed(2)} GB per vCPU is outside 1-4`,
      });
    }
  });

export const sYaml = z.strictObject({
  edition: z.literal('3.0.0'),
  name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_-]*$/),
  access: z.string(),
  vars: z.record(z.string(), z.unknown()),
  resources: z.record(z.string(), z.strictObject({ component: z.literal('fc3'), props: fc3Props })),
});

export type Fc3Props = z.output<typeof fc3Props>;
export type SYaml = z.output<typeof sYaml>;
