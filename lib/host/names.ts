/**
 * The clouds airkick deploys to and the functions it deploys, once: the hosts, the build, the CLI's
 * `invoke`, the local stack, the benchmarks and the tests all read these.
 */

/** AWS Lambda (`aws`) and Alibaba Cloud Function Compute (`aliyun`). */
export const CLOUDS = ['aws', 'aliyun'] as const;
export type Cloud = (typeof CLOUDS)[number];

/** Each is `functions/<name>/<cloud>.ts`, deployed by serverless.yml and s.yaml. */
export const FUNCTION_NAMES = ['trigger-dag', 'on-upload', 'health-check', 'db-clean'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];
