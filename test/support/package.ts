/**
 * The npm package as a user gets it: `npm pack` of this repository (its `prepack` builds `dist/lib`
 * and `dist/cli` with tsdown), installed from the tarball into fresh projects. Packed once per test
 * run: both integration projects' global setups run in vitest's main process and share the promise.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Where consumers that should resolve the repository's dev dependencies (the optional cloud peers) live. */
export const IN_REPO_CONSUMERS = path.join(ROOT, 'node_modules', '.cache', 'airkick-consumers');

const shared = globalThis as { airkickTarball?: Promise<string> };

/** The path of `airkick-<version>.tgz`, built and packed on the first call of the run. */
export function packOnce(): Promise<string> {
  shared.airkickTarball ??= pack();
  return shared.airkickTarball;
}

async function pack(): Promise<string> {
  const destination = await mkdtemp(path.join(tmpdir(), 'airkick-pack-'));
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: ROOT,
    maxBuffer: 32 * 1024 * 1024,
    timeout: 180_000,
  });
  // npm prints prepack's output before the JSON.
  const json = stdout.slice(stdout.indexOf('\n[') + 1 || stdout.indexOf('['));
  const [{ filename }] = JSON.parse(json) as [{ filename: string }];
  return path.join(destination, filename);
}

export interface Consumer {
  dir: string;
  /** `<dir>/node_modules/airkick` */
  installed: string;
  /** `<dir>/node_modules/.bin/airkick`, the link npm made from `bin`. */
  bin: string;
  remove(): Promise<void>;
}

/**
 * A new project at `dir` (a fresh temporary folder by default) with only the tarball installed:
 * `npm install <tarball>`, offline, since the package has no dependencies of its own to fetch.
 */
export async function installConsumer(
  tarball: string,
  options: { dir?: string; type?: 'module' | 'commonjs' } = {},
): Promise<Consumer> {
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'airkick-consumer-')));
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'package.json'),
    `${JSON.stringify({ name: 'consumer', private: true, type: options.type ?? 'module' }, null, 2)}\n`,
  );
  await exec('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund', '--no-package-lock'], {
    cwd: dir,
    timeout: 120_000,
  });
  return {
    dir,
    installed: path.join(dir, 'node_modules', 'airkick'),
    bin: path.join(dir, 'node_modules', '.bin', 'airkick'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Every file of the installed package, relative to it. */
export async function packageFiles(installed: string): Promise<string[]> {
  const entries = await readdir(installed, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(installed, path.join(entry.parentPath, entry.name)))
    .sort();
}
