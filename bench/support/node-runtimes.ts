/**
 * The `node` each cloud's bundles run on, the major version of the runtime the project deploys to:
 * Lambda nodejs22.x, Function Compute nodejs20. The machine's own node serves the version it is; the
 * other is installed once from the npm `node` package into a cache folder outside the repository.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Cloud } from '#lib/host/names.ts';

export const DEPLOYED_NODE: Record<Cloud, number> = { aws: 22, aliyun: 20 };

export interface NodeRuntime {
  /** The binary to spawn. */
  path: string;
  /** `v22.23.3` */
  version: string;
  /** Why the machine's node stands in for the deployed major version; undefined when it is that version. */
  fallback?: string;
}

const versionOf = (bin: string): string => execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
const majorOf = (version: string): number => Number(/^v(\d+)/.exec(version)?.[1]);

/** `node` of the given major version, installed into `~/.cache/airkick/node<major>` when missing. */
export function nodeRuntime(major: number, log: (line: string) => void): NodeRuntime {
  if (majorOf(process.version) === major) return { path: process.execPath, version: process.version };
  const prefix = join(homedir(), '.cache', 'airkick', `node${major}`);
  const bin = join(prefix, 'node_modules', 'node', 'bin', 'node');
  try {
    if (!existsSync(bin)) {
      log(`installing node@${major} into ${prefix} (npm package \`node\`)`);
      execFileSync('npm', ['install', '--prefix', prefix, `node@${major}`, '--no-audit', '--no-fund'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 300_000,
      });
    }
    const version = versionOf(bin);
    if (majorOf(version) !== major) throw new Error(`${bin} is ${version}`);
    return { path: bin, version };
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    log(`node ${major} unavailable (${reason}); using this machine's ${process.version}`);
    return {
      path: process.execPath,
      version: process.version,
      fallback: `node ${major} unavailable: ${reason}`,
    };
  }
}

/** The runtime of each cloud, resolved once per benchmark run. */
export function deployedRuntimes(log: (line: string) => void): Record<Cloud, NodeRuntime> {
  return { aws: nodeRuntime(DEPLOYED_NODE.aws, log), aliyun: nodeRuntime(DEPLOYED_NODE.aliyun, log) };
}
