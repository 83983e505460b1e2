/**
 * `airkick/dms`: the Alibaba Cloud DMS Airflow provider. Pass it to `createAirflowClient` for `dms://`
 * environments. It needs no package of its own when keys are given (Function Compute's
 * `context.credentials`, or `credentials` in its options); without them it loads the optional peer
 * `@alicloud/credentials` for the default chain, and a missing one is a `CONFIG` error naming it.
 *
 * @example
 * import { createAirflowClient } from 'airkick';
 * import { dmsTransport } from 'airkick/dms';
 * const airflow = createAirflowClient('dms://af-123?region=cn-hangzhou', { providers: { dms: dmsTransport } });
 *
 * @module airkick/dms
 */
export { type AliyunKeys, type DmsOptions, dmsTransport } from '#lib/auth/dms.ts';
