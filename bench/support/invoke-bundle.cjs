'use strict';
/*
 * Runs in a fresh `node` process, as a function container would: loads one bundle and, unless told
 * to stop after loading, answers one event. Plain CommonJS with no imports of its own, so the process
 * costs only what the bundle costs. Prints one line `BENCH_RESULT <json>` and exits at once (the
 * HTTP keep-alive sockets would otherwise hold the process open).
 *
 * node invoke-bundle.cjs <bundle> <require|invoke> <aws|aliyun>
 * Event (JSON text) in BENCH_EVENT; the FC context (JSON) in BENCH_FC_CONTEXT.
 */
const { readFileSync } = require('node:fs');

const [bundle, mode, cloud] = process.argv.slice(2);
const started = performance.now();

function vmHwmKb() {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) : null;
}

function finish(fields) {
  const result = {
    ...fields,
    // performance.now() counts from the process's time origin, so these are times since start-up.
    startedMs: started,
    maxRssKb: process.resourceUsage().maxRSS,
    vmHwmKb: vmHwmKb(),
  };
  process.stdout.write(`\nBENCH_RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
}

function lambdaContext() {
  const end = Date.now() + 60_000;
  return {
    awsRequestId: `bench-${process.pid}`,
    functionName: 'airkick-bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:airkick-bench',
    memoryLimitInMB: '128',
    logGroupName: '/aws/lambda/airkick-bench',
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => end - Date.now(),
    done() {},
    fail() {},
    succeed() {},
  };
}

async function main() {
  const { handler } = require(bundle);
  const loadedMs = performance.now();
  if (mode === 'require') return finish({ loadedMs });
  const text = process.env.BENCH_EVENT ?? '{}';
  const event = cloud === 'aliyun' ? Buffer.from(text) : JSON.parse(text);
  const context = cloud === 'aliyun' ? JSON.parse(process.env.BENCH_FC_CONTEXT ?? '{}') : lambdaContext();
  let error = null;
  let answer = null;
  try {
    answer = await handler(event, context);
  } catch (caught) {
    error = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
  }
  finish({ loadedMs, answeredMs: performance.now(), error, answer });
}

main().catch((error) => {
  process.stdout.write(`\nBENCH_RESULT ${JSON.stringify({ error: String(error) })}\n`, () => process.exit(1));
});
