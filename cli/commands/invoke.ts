/**
 * `airkick invoke`: kicks a deployed function once, synchronously, and prints what it returned.
 * Each cloud's SDK is imported only when that cloud is asked for.
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { COMMON_OPTIONS, one, parse } from '#cli/args.ts';
import type { Command } from '#cli/commands/command.ts';
import { EXIT, UsageError } from '#cli/exit.ts';
import { Output } from '#cli/output.ts';
import { AirkickError, codeForStatus, type ErrorCode } from '#lib/errors.ts';
import { CLOUDS, type Cloud, FUNCTION_NAMES, type FunctionName } from '#lib/host/names.ts';
import { optionalImport } from '#lib/optional.ts';

type Env = Record<string, string | undefined>;

export interface InvokeRequest {
  cloud: Cloud;
  /** The deployed name: airkick-<stage>-<function> unless --name says otherwise. */
  functionName: string;
  region: string | undefined;
  /** FC only: the account id in the endpoint host. */
  accountId: string | undefined;
  /** Replaces the service endpoint (VPC endpoints, proxies, tests). */
  endpoint: string | undefined;
  payload: string;
}

export interface InvokeResult {
  statusCode: number;
  /** Set when the function threw (Lambda `FunctionError`, FC `x-fc-error-type`). */
  functionError: string | undefined;
  body: string;
}

/** Pure: the request `airkick invoke` will send, from the command line and the environment. */
export function buildInvokeRequest(
  args: string[],
  env: Env,
  readFile = (p: string) => readFileSync(p, 'utf8'),
) {
  const { values, positionals } = parse(args, {
    ...COMMON_OPTIONS,
    cloud: { type: 'string' },
    event: { type: 'string' },
    stage: { type: 'string' },
    name: { type: 'string' },
    region: { type: 'string' },
    'account-id': { type: 'string' },
    endpoint: { type: 'string' },
  });
  const fn = one(positionals, 'function name');
  if (!FUNCTION_NAMES.includes(fn as FunctionName)) {
    throw new UsageError(`unknown function "${fn}"; expected one of ${FUNCTION_NAMES.join(', ')}`);
  }
  const cloud = values.cloud as Cloud;
  if (!CLOUDS.includes(cloud)) throw new UsageError(`--cloud must be ${CLOUDS.join(' or ')}`);
  if (fn === 'on-upload' && values.event === undefined) {
    throw new UsageError('on-upload needs --event FILE with an S3 (aws) or OSS (aliyun) notification');
  }
  let payload = '{}';
  if (values.event !== undefined) {
    try {
      payload = readFile(values.event);
    } catch (error) {
      throw new UsageError(
        `--event ${values.event}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`,
      );
    }
    try {
      JSON.parse(payload);
    } catch {
      throw new UsageError(`--event ${values.event} is not valid JSON`);
    }
  }
  if (values.endpoint !== undefined && !/^https?:\/\/[^/]+/.test(values.endpoint)) {
    throw new UsageError('--endpoint expects an http(s) URL');
  }
  const stage = values.stage ?? env.AIRKICK_STAGE ?? 'dev';
  const request: InvokeRequest = {
    cloud,
    functionName: values.name ?? `airkick-${stage}-${fn}`,
    region: values.region ?? PLATFORMS[cloud].region(env),
    accountId: values['account-id'] ?? (env.ALIBABA_CLOUD_ACCOUNT_ID || undefined),
    endpoint: values.endpoint,
    payload,
  };
  return { request, json: values.json };
}

export async function invokeFunction(request: InvokeRequest): Promise<InvokeResult> {
  try {
    return await PLATFORMS[request.cloud].invoke(request);
  } catch (error) {
    throw cloudError(error, request);
  }
}

async function invokeLambda(request: InvokeRequest): Promise<InvokeResult> {
  const { LambdaClient, InvokeCommand } = await optionalImport(
    () => import('@aws-sdk/client-lambda'),
    '@aws-sdk/client-lambda',
    'airkick invoke --cloud aws',
  );
  const client = new LambdaClient({
    maxAttempts: 2,
    ...(request.region ? { region: request.region } : {}),
    ...(request.endpoint ? { endpoint: request.endpoint } : {}),
  });
  try {
    const response = await client.send(
      new InvokeCommand({
        FunctionName: request.functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(request.payload),
      }),
    );
    return {
      statusCode: response.StatusCode ?? 0,
      functionError: response.FunctionError,
      body: response.Payload ? new TextDecoder().decode(response.Payload) : '',
    };
  } finally {
    client.destroy();
  }
}

/** What `invoke` knows of each cloud: a new one in CLOUDS is a type error here until it has a row. */
const PLATFORMS: Record<
  Cloud,
  {
    name: string;
    region(env: Env): string | undefined;
    invoke(request: InvokeRequest): Promise<InvokeResult>;
  }
> = {
  aws: {
    name: 'AWS Lambda',
    region: (env) => env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
    invoke: (request) => invokeLambda(request),
  },
  aliyun: {
    name: 'Function Compute',
    region: (env) => env.ALIBABA_CLOUD_REGION || env.ALIBABA_CLOUD_REGION_ID || undefined,
    invoke: (request) => invokeFc(request),
  },
};

const FC_NEEDED_BY = 'airkick invoke --cloud aliyun';
const FC_PEERS = [
  '@alicloud/fc20230330',
  '@alicloud/openapi-client',
  '@alicloud/credentials',
  '@alicloud/tea-util',
];

async function invokeFc(request: InvokeRequest): Promise<InvokeResult> {
  let endpoint: URL;
  if (request.endpoint) endpoint = new URL(request.endpoint);
  else {
    if (!request.accountId) {
      throw new AirkickError(
        'CONFIG',
        'FC needs the account id: pass --account-id or set ALIBABA_CLOUD_ACCOUNT_ID',
      );
    }
    if (!request.region) {
      throw new AirkickError('CONFIG', 'FC needs a region: pass --region or set ALIBABA_CLOUD_REGION');
    }
    endpoint = new URL(`https://${request.accountId}.${request.region}.fc.aliyuncs.com`);
  }
  const [fc, openapi, credentials, util] = await Promise.all([
    optionalImport(() => import('@alicloud/fc20230330'), '@alicloud/fc20230330', FC_NEEDED_BY, FC_PEERS),
    optionalImport(
      () => import('@alicloud/openapi-client'),
      '@alicloud/openapi-client',
      FC_NEEDED_BY,
      FC_PEERS,
    ),
    optionalImport(() => import('@alicloud/credentials'), '@alicloud/credentials', FC_NEEDED_BY, FC_PEERS),
    optionalImport(() => import('@alicloud/tea-util'), '@alicloud/tea-util', FC_NEEDED_BY, FC_PEERS),
  ]);
  const Client = cjsDefault(fc.default);
  const Credential = cjsDefault(credentials.default);
  const client = new Client(
    new openapi.Config({
      credential: new Credential(),
      endpoint: endpoint.host,
      protocol: endpoint.protocol === 'http:' ? 'HTTP' : 'HTTPS',
      regionId: request.region ?? 'cn-hangzhou',
    }),
  );
  const response = await client.invokeFunctionWithOptions(
    request.functionName,
    new fc.InvokeFunctionRequest({ body: Readable.from([Buffer.from(request.payload)]) }),
    new fc.InvokeFunctionHeaders({ xFcInvocationType: 'Sync' }),
    new util.RuntimeOptions({ autoretry: false, readTimeout: 900_000 }),
  );
  const chunks: Buffer[] = [];
  for await (const chunk of response.body ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
  const errorType = response.headers?.['x-fc-error-type'];
  return {
    statusCode: response.statusCode ?? 0,
    functionError: errorType || undefined,
    body: Buffer.concat(chunks).toString('utf8'),
  };
}

/** The CommonJS default export is the class under Node's ESM loader, the module object elsewhere. */
function cjsDefault<T>(value: T | { default: T }): T {
  return typeof value === 'function' ? (value as T) : (value as { default: T }).default;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);
const AUTH_NAMES =
  /^(CredentialsProviderError|AccessDenied.*|UnrecognizedClient.*|InvalidSignature.*|ExpiredToken.*|InvalidAccessKeyId.*|SignatureDoesNotMatch|Unauthorized)$/;
const NOT_FOUND_NAMES = /^(ResourceNotFound.*|FunctionNotFound|ServiceNotFound)$/;

/** SDK failures of either cloud -> one AirkickError naming the function, never a key. */
export function cloudError(
  error: unknown,
  request: Pick<InvokeRequest, 'cloud' | 'functionName'>,
): AirkickError {
  if (error instanceof AirkickError) return error;
  const e = error as {
    name?: string;
    code?: string;
    message?: string;
    statusCode?: number;
    $metadata?: { httpStatusCode?: number };
  };
  const name = e.name ?? '';
  const codeName = typeof e.code === 'string' ? e.code : '';
  const message = String(e.message ?? error);
  const what = `invoke ${request.functionName} on ${PLATFORMS[request.cloud].name}`;
  let code: ErrorCode;
  if (findNetworkCode(error) !== undefined || name === 'TimeoutError') code = 'TRANSPORT';
  else if (
    AUTH_NAMES.test(name) ||
    AUTH_NAMES.test(codeName) ||
    /credential|Region is missing/i.test(message)
  )
    code = /Region is missing/i.test(message) ? 'CONFIG' : 'AUTH';
  else if (NOT_FOUND_NAMES.test(name) || NOT_FOUND_NAMES.test(codeName)) code = 'NOT_FOUND';
  else code = codeForStatus(e.$metadata?.httpStatusCode ?? e.statusCode ?? 500) ?? 'SERVER';
  const detail = findNetworkCode(error) ?? (message.split('\n')[0] ?? '').slice(0, 300);
  return new AirkickError(code, `${what}: ${detail}`, { cause: error });
}

function findNetworkCode(error: unknown): string | undefined {
  for (
    let e = error as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined, depth = 0;
    e && depth < 6;
    depth++
  ) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
    const inner = Array.isArray(e.errors) ? e.errors.find((x) => findNetworkCode(x)) : undefined;
    if (inner) return findNetworkCode(inner);
    e = e.cause as typeof e;
  }
  return undefined;
}

export const invoke: Command = {
  name: 'invoke',
  summary: 'invoke a deployed function (AWS Lambda or Function Compute) once',
  help: `Usage: airkick invoke <function> --cloud aws|aliyun [--event FILE] [--stage S | --name NAME]

Invokes a deployed airkick function synchronously and prints what it returned.
<function> is one of ${FUNCTION_NAMES.join(', ')}. Without --event a schedule function gets {} (a
manual run for the current time); on-upload needs --event.

Options:
  --cloud aws|aliyun  where it is deployed (required)
  --event FILE        the event, a JSON file
  --stage STAGE       the deployed name is airkick-STAGE-<function> (default $AIRKICK_STAGE or dev)
  --name NAME         the deployed function name, verbatim
  --region REGION     default: $AWS_REGION / the AWS profile, or $ALIBABA_CLOUD_REGION
  --account-id ID     Function Compute account id (default $ALIBABA_CLOUD_ACCOUNT_ID)
  --endpoint URL      replace the service endpoint
  --json              machine-readable output
  -h, --help          this help

Credentials come from each SDK's default chain (AWS_PROFILE, AWS_ACCESS_KEY_ID...;
ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET, ~/.alibabacloud/credentials...).

Exit: 0 the function succeeded, 1 it failed, 3 no credentials or access denied, 4 no such
function, 5 network.`,
  async run(args, io) {
    const { request, json } = buildInvokeRequest(args, io.env);
    const out = new Output(io, json);
    const result = await out.spin(`invoking ${request.functionName}`, invokeFunction(request));
    let parsed: unknown = result.body;
    try {
      parsed = JSON.parse(result.body);
    } catch {
      // a plain-text answer stays text
    }
    if (json) {
      out.printJson({
        function: request.functionName,
        cloud: request.cloud,
        statusCode: result.statusCode,
        ...(result.functionError ? { functionError: result.functionError } : {}),
        result: parsed,
      });
    } else {
      const status = result.functionError
        ? out.paint('red', `failed (${result.functionError})`)
        : out.paint('green', 'ok');
      out.line(`${request.functionName} (${request.cloud}, HTTP ${result.statusCode}): ${status}`);
      out.line(typeof parsed === 'string' ? parsed : JSON.stringify(parsed, null, 2));
    }
    return result.functionError ? EXIT.FAILED : EXIT.OK;
  },
};
