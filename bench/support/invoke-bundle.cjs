'use strict';
/*
 * Runs in a fresh `node` process, as a function container would: loads one bundle and, unless told
 * to stop after loading, answers one event. Plain CommonJS with no imports of its own, so the process
 * costs only what the bundle costs. Prints one line `BENCH_RESULT <json>` and exits at once (the
 * HTTP keep-alive sockets would otherwise hold the process open).
 *
 * node invoke-bundle.cjs <bundle> <require|invoke> <aws|aliyun>
 * Event (JSON text) in BENCH_EVENT; the FC context (JSON) in BENCH_FC_CONTEXT.
 *
 * `serve` keeps the bundle loaded, as a warm container: each line on stdin is a job
 * `{ events, inFlight, timeoutMs }`, answered on file descriptor 3 (stdout is the function's log) with
 * one line `{ seconds, cpuUs, answers, errors }`: every event through the Lambda handler, `inFlight`
 * invocations at a time, and the CPU time the process spent on them. It exits when stdin ends.
 */
const { readFileSync, writeSync } = require('node:fs');

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

function lambdaContext(timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
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

/** Runs one serve job: every event through the handler, `inFlight` at a time. */
async function serveJob(handler, { events, inFlight, timeoutMs }) {
  const answers = new Array(events.length).fill(null);
  const errors = new Array(events.length).fill(null);
  const cpu = process.cpuUsage();
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < events.length) {
      const i = next++;
      try {
        answers[i] = await handler(events[i], lambdaContext(timeoutMs));
      } catch (caught) {
        errors[i] = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, events.length) }, worker));
  const { user, system } = process.cpuUsage(cpu);
  return { seconds: (performance.now() - start) / 1000, cpuUs: user + system, answers, errors };
}

async function serve(handler) {
  const { createInterface } = require('node:readline');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === '') continue;
    writeSync(3, `${JSON.stringify(await serveJob(handler, JSON.parse(line)))}\n`);
  }
  process.exit(0);
}

async function main() {
  const { handler } = require(bundle);
  const loadedMs = performance.now();
  if (mode === 'require') return finish({ loadedMs });
  if (mode === 'serve') return serve(handler);
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
