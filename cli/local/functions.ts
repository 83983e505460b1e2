/**
 * The four functions as the local runner calls them: the deployed handlers of one cloud, each
 * invoked with the event that cloud would deliver. Configuration is read from process.env at
 * import, exactly as on a cold start, so the caller sets the environment first.
 */

import {
  fcContext,
  fcTimerEvent,
  type LocalObject,
  lambdaContext,
  ossPutEvent,
  s3PutNotification,
  scheduledEvent,
} from '#cli/local/events.ts';
import { applyRuleInput, type RuleInput } from '#cli/local/schedules.ts';
import { AirkickError } from '#lib/errors.ts';
import type { FunctionName } from '#lib/host/names.ts';

export type Handler = (event: unknown, context: unknown) => Promise<unknown>;
export type LocalCloud = 'aws' | 'aliyun';

/** dms:// environments need the Function Compute handlers (they carry the DMS provider). */
export const cloudFor = (environment: string): LocalCloud =>
  environment.startsWith('dms:') ? 'aliyun' : 'aws';

export async function loadHandler(fn: FunctionName, cloud: LocalCloud): Promise<Handler> {
  const module = (await import(`#functions/${fn}/${cloud}.ts`)) as { handler: Handler };
  return module.handler;
}

export interface Invoker {
  schedule(fn: FunctionName, slot: Date, rule: string, input: RuleInput): Promise<unknown>;
  upload(object: LocalObject): Promise<unknown>;
}

export function invoker(
  cloud: LocalCloud,
  handlers: Partial<Record<FunctionName, Handler>>,
  timeouts: Record<string, number>,
): Invoker {
  const call = (fn: FunctionName, event: unknown) => {
    const handler = handlers[fn];
    if (!handler) throw new AirkickError('CONFIG', `${fn} is not loaded`);
    const name = `airkick-local-${fn}`;
    const timeout = timeouts[fn] ?? 60;
    return handler(event, cloud === 'aws' ? lambdaContext(name, timeout) : fcContext(name, timeout));
  };
  return {
    schedule(fn, slot, rule, input) {
      const event = scheduledEvent(slot, rule);
      if (cloud === 'aws') return call(fn, applyRuleInput(input, event));
      const delivered = applyRuleInput(input, event);
      const { time: _time, ...payload } =
        typeof delivered === 'object' && delivered !== null && !('detail-type' in delivered)
          ? (delivered as Record<string, unknown>)
          : {};
      return call(fn, fcTimerEvent(slot, rule, Object.keys(payload).length > 0 ? payload : undefined));
    },
    upload(object) {
      return call('on-upload', cloud === 'aws' ? s3PutNotification([object]) : ossPutEvent([object]));
    },
  };
}
