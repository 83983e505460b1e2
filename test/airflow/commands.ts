/** Runs commands to completion: the `airflow` CLI, and any other command tests or the local stack need. */
import { spawn } from 'node:child_process';

export interface Captured {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and captures its output (for the CLI, the local stack, tests). */
export function capture(
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 300_000,
      ...(options.env ? { env: options.env } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the `airflow` CLI to completion; rejects with its output when it fails. */
export async function runCli(
  airflowBin: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 300_000,
): Promise<{ stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await capture(airflowBin, args, { env, timeoutMs });
  if (code !== 0) throw new Error(`airflow ${args.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`);
  return { stdout, stderr };
}
