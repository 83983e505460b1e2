import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type AlertStateStore,
  alertStateCodec,
  decodeState,
  NOTHING_STORED,
  type StateCodec,
  type StateStore,
} from '#lib/alerts/state/store.ts';
import { untilAborted } from '#lib/deadline.ts';
import { AirkickError, type ErrorCode } from '#lib/errors.ts';

/** The table's hash key (a string); the attributes beside it. */
export const DYNAMODB_KEY = 'pk';
const STATE = 'state';
const VERSION = 'version';
/** Epoch seconds; enable the table's TTL on this attribute to have old states removed. */
export const DYNAMODB_TTL_ATTRIBUTE = 'expiresAt';

export interface DynamoDbStateOptions {
  table: string;
  /** The table's region; by default the SDK's (the function's own region on Lambda). */
  region?: string;
  /** Expire a state this long after its last write (needs TTL on `expiresAt`); 0 never. */
  ttlMs?: number;
  /** A configured client (endpoint, credentials); by default one made on first use. */
  client?: Pick<DynamoDBClient, 'send'>;
}

/**
 * Keeps alert states in a DynamoDB table outside the Airflow being watched: the default on AWS.
 * Each write is an `UpdateItem` that adds 1 to `version` under the condition that it still has the
 * value read, so of two invocations that saw the same state only one claims the transition. The SDK
 * (shipped with the Lambda runtime, not bundled) is loaded on first use.
 */
export function dynamodbStateStore(options: DynamoDbStateOptions): AlertStateStore {
  return dynamodbStore(options, alertStateCodec);
}

/** States of any kind `codec` keeps, in the table as {@link dynamodbStateStore} keeps alert states. */
export function dynamodbStore<S>(options: DynamoDbStateOptions, codec: StateCodec<S>): StateStore<S> {
  const what = `DynamoDB table ${options.table}`;
  let client: Promise<Pick<DynamoDBClient, 'send'>> | undefined;
  const sdk = () => import('@aws-sdk/client-dynamodb');
  const getClient = () => {
    client ??= options.client
      ? Promise.resolve(options.client)
      : sdk().then(
          ({ DynamoDBClient }) =>
            // The caller's signal bounds each call; two attempts cover one dropped connection.
            new DynamoDBClient({ maxAttempts: 2, ...(options.region ? { region: options.region } : {}) }),
        );
    client.catch(() => {
      client = undefined;
    });
    return client;
  };
  const key = (k: string) => ({ [DYNAMODB_KEY]: { S: k } });

  return {
    kind: 'dynamodb',
    async get(k, callOptions = {}) {
      const { signal } = callOptions;
      const run = async () => {
        const { GetItemCommand } = await sdk();
        const command = new GetItemCommand({ TableName: options.table, Key: key(k), ConsistentRead: true });
        return (await getClient()).send(command, signal ? { abortSignal: signal } : {});
      };
      const output = await untilAborted(run(), signal, `${what}: GetItem`).catch((error: unknown) => {
        throw wrap(error, `${what}: GetItem failed`);
      });
      const item = output.Item;
      if (item === undefined) return NOTHING_STORED;
      return { state: decodeState(codec, item[STATE]?.S), version: Number(item[VERSION]?.N ?? 0) || 0 };
    },

    async set(k, state, callOptions = {}) {
      const { signal, ifVersion } = callOptions;
      const ttlMs = options.ttlMs ?? 0;
      const names: Record<string, string> = { '#s': STATE, '#v': VERSION };
      const values: Record<string, { S: string } | { N: string }> = {
        ':s': { S: codec.encode(state) },
        ':one': { N: '1' },
      };
      let update = 'SET #s = :s';
      if (ttlMs > 0) {
        names['#e'] = DYNAMODB_TTL_ATTRIBUTE;
        values[':e'] = { N: String(Math.ceil((Date.now() + ttlMs) / 1000)) };
        update += ', #e = :e';
      }
      let condition: string | undefined;
      if (ifVersion === 0) condition = 'attribute_not_exists(#v)';
      else if (ifVersion !== undefined) {
        condition = '#v = :expected';
        values[':expected'] = { N: String(ifVersion) };
      }
      const run = async () => {
        const { UpdateItemCommand } = await sdk();
        const command = new UpdateItemCommand({
          TableName: options.table,
          Key: key(k),
          UpdateExpression: `${update} ADD #v :one`,
          ...(condition ? { ConditionExpression: condition } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        });
        return (await getClient()).send(command, signal ? { abortSignal: signal } : {});
      };
      try {
        await untilAborted(run(), signal, `${what}: UpdateItem`);
        return true;
      } catch (error) {
        if ((error as { name?: unknown }).name === 'ConditionalCheckFailedException') return false;
        throw wrap(error, `${what}: UpdateItem failed`);
      }
    },
  };
}

/** SDK failures become AirkickErrors naming the table and the SDK's error name, never a credential. */
function wrap(error: unknown, message: string): AirkickError {
  if (error instanceof AirkickError) return error;
  const name = String((error as { name?: unknown }).name ?? 'Error');
  const fault = (error as { $fault?: 'client' | 'server' }).$fault;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const detail = error instanceof Error ? `${name}: ${error.message}` : String(error);
  return new AirkickError(codeFor(name, fault), `${message}: ${detail}`, {
    cause: error,
    retryable: fault !== 'client',
    ...(fault === undefined ? {} : { fault }),
    ...(status === undefined ? {} : { status }),
  });
}

function codeFor(name: string, fault: 'client' | 'server' | undefined): ErrorCode {
  if (name === 'AbortError') return 'TIMEOUT';
  if (name === 'ResourceNotFoundException') return 'CONFIG';
  if (/^(AccessDenied|UnrecognizedClient|InvalidSignature|ExpiredToken)/.test(name)) return 'AUTH';
  if (/Throttl|LimitExceeded|ThroughputExceeded/.test(name)) return 'RATE_LIMITED';
  return fault === 'client' ? 'BAD_REQUEST' : 'TRANSPORT';
}
