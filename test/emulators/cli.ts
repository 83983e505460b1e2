import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import type { AirflowInfo } from '#test/airflow/airflow.ts';

export interface CliResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number | null;
}

/** Raised when the command text is not valid shell syntax (e.g. an unbalanced quote). */
export class CommandSyntaxError extends Error {
  override readonly name = 'CommandSyntaxError';
}

const SPLIT = 'import json, shlex, sys\njson.dump(shlex.split(sys.stdin.read()), sys.stdout)';

function capture(bin: string, args: string[], env: Record<string, string> | undefined, input?: string) {
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(bin, args, {
      ...(env ? { env } : {}),
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: 300_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (exitCode) =>
      resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * Splits a command the way both gateways do, with Python's own `shlex.split` rather than a
 * re-implementation, so quoting bugs in a client show up exactly as they would in production.
 */
export async function shellSplit(airflow: AirflowInfo, text: string): Promise<string[]> {
  const python = join(dirname(airflow.airflowBin), 'python');
  const result = await capture(python, ['-c', SPLIT], undefined, text);
  if (result.exitCode !== 0) throw new CommandSyntaxError('the command is not valid shell syntax');
  return JSON.parse(result.stdout.toString('utf8')) as string[];
}

export function runAirflowCli(airflow: AirflowInfo, args: string[]): Promise<CliResult> {
  return capture(airflow.airflowBin, args, airflow.env);
}

/** Tracks CLI requests in flight, because the MWAA endpoint stands in for one synchronous shell. */
export class CliGate {
  #inFlight = 0;
  #max = 0;
  #overlaps = 0;

  /** Returns false when another CLI request is already running (the caller then rejects this one). */
  enter(): boolean {
    this.#inFlight += 1;
    this.#max = Math.max(this.#max, this.#inFlight);
    if (this.#inFlight > 1) this.#overlaps += 1;
    return this.#inFlight === 1;
  }

  leave(): void {
    this.#inFlight -= 1;
  }

  stats(): CliStats {
    return { maxCliConcurrency: this.#max, cliOverlaps: this.#overlaps };
  }

  reset(): void {
    this.#max = this.#inFlight;
    this.#overlaps = 0;
  }
}

export interface CliStats {
  maxCliConcurrency: number;
  cliOverlaps: number;
}
