/**
 * Runs a deployment tool with no way to reach a network: inside a fresh network namespace
 * (`unshare -rn`, an unprivileged user namespace) where the system allows one, with fake AWS
 * credentials and a throw-away HOME either way, so a tool that wanted an account, a login or a
 * download fails here instead of quietly succeeding on a developer's configured machine.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

let netns: boolean | undefined;

/** Whether `unshare -rn` works here (Linux with user namespaces). */
export function hasNetworkNamespace(): boolean {
  if (netns === undefined) {
    try {
      execFileSync('unshare', ['-rn', 'true'], { stdio: 'ignore', timeout: 10_000 });
      netns = true;
    } catch {
      netns = false;
    }
  }
  return netns;
}

export function offlineEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    TMPDIR: home,
    CI: 'true',
    AWS_ACCESS_KEY_ID: 'AKIDAIRKICKOFFLINE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_REGION: 'eu-west-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'no-credentials'),
    AWS_CONFIG_FILE: path.join(home, 'no-config'),
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs `node <script> ...args` offline in `cwd`; rejects with the tool's output on failure. */
export function runNodeOffline(
  script: string,
  args: string[],
  cwd: string,
  timeoutMs = 180_000,
): Promise<RunResult> {
  const home = mkdtempSync(path.join(tmpdir(), 'airkick-offline-'));
  const [file, argv] = hasNetworkNamespace()
    ? ['unshare', ['-rn', process.execPath, script, ...args]]
    : [process.execPath, [script, ...args]];
  return new Promise((resolve, reject) => {
    execFile(
      file,
      argv,
      { cwd, env: offlineEnv(home), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(
              `${path.basename(script)} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`,
            ),
          );
        } else resolve({ stdout, stderr });
      },
    );
  });
}
