/**
 * A bundle kept loaded in its own `node` process, as a warm container, and driven with batches of
 * events (invoke-bundle.cjs `serve`): the process is the client alone, so its CPU time is the
 * client's, and what the function logs goes where Lambda would take it, its stdout.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { baseEnv, RUNNER } from './bundles.ts';

export interface ServeJob {
  events: readonly unknown[];
  /** Handler invocations in flight. */
  inFlight: number;
  /** Each invocation's Lambda timeout. */
  timeoutMs: number;
}

export interface ServeResult {
  seconds: number;
  /** CPU time (user + system) the process spent on the job, microseconds. */
  cpuUs: number;
  /** Per event: the handler's answer, or null where it threw. */
  answers: unknown[];
  /** Per event: what the handler threw, or null. */
  errors: (string | null)[];
  /** Bytes the function wrote to stdout and stderr during the job (its logs and metrics). */
  logBytes: number;
}

export interface ServedBundle {
  run(job: ServeJob): Promise<ServeResult>;
  close(): Promise<void>;
}

/** Loads `file` (a bundle, or anything exporting `handler`) in `node` with `env`, as a Lambda function. */
export function serveBundle(file: string, env: Record<string, string>, node: string): ServedBundle {
  const child = spawn(node, [RUNNER, file, 'serve', 'aws'], {
    env: { ...baseEnv(), ...env },
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  let logBytes = 0;
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    logBytes += chunk.length;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    logBytes += chunk.length;
    stderr = (stderr + chunk).slice(-2000);
  });
  const waiting: { resolve(line: string): void; reject(error: Error): void }[] = [];
  const results = child.stdio[3];
  if (!results) throw new Error('no result pipe to the served bundle');
  createInterface({ input: results as NodeJS.ReadableStream }).on('line', (line) =>
    waiting.shift()?.resolve(line),
  );
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code) => {
      for (const w of waiting.splice(0)) w.reject(new Error(`served bundle exited (${code}): ${stderr}`));
      resolve();
    });
  });
  return {
    async run(job) {
      const before = logBytes;
      const line = await new Promise<string>((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin?.write(`${JSON.stringify(job)}\n`);
      });
      return { ...(JSON.parse(line) as Omit<ServeResult, 'logBytes'>), logBytes: logBytes - before };
    },
    async close() {
      child.stdin?.end();
      await exited;
    },
  };
}
