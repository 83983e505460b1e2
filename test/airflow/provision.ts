/**
 * Installs Apache Airflow from a committed lock (one per major version) into a virtual environment
 * cached outside the repository, keyed by the lock's name and content and the Python version, so a
 * second run takes no time.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';

const here = import.meta.dirname;
export type AirflowMajor = 2 | 3;
/** `requirements.lock` resolves `apache-airflow[postgres]==2.10.5`, `requirements-3.lock` `[postgres,fab]==3.3.2`. */
export const LOCK_FILES: Readonly<Record<AirflowMajor, string>> = {
  2: join(here, 'requirements.lock'),
  3: join(here, 'requirements-3.lock'),
};
/** uv installs the ~150 pinned packages in seconds where pip takes minutes; pinned for repeatability. */
const UV_VERSION = '0.13.8';

export interface AirflowEnv {
  venv: string;
  bin: string;
  airflow: string;
  python: string;
  /** The installed apache-airflow version, e.g. `3.3.2`. */
  version: string;
}

export function cacheRoot(): string {
  return (
    process.env.AIRKICK_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'airkick')
  );
}

function pythonExe(): string {
  return process.env.AIRKICK_PYTHON ?? 'python3';
}

function pythonVersion(): string {
  return execFileSync(pythonExe(), ['-c', 'import sys; print(sys.version.split()[0])'], {
    encoding: 'utf8',
  }).trim();
}

/** Names the cached environment and the template database of one lock. */
export function envKey(major: AirflowMajor = 2): string {
  const lock = LOCK_FILES[major];
  return createHash('sha256')
    .update(basename(lock))
    .update(readFileSync(lock))
    .update(pythonVersion())
    .digest('hex')
    .slice(0, 16);
}

function run(cmd: string, args: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    let partial = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) log(line.trimEnd());
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${tail}`)),
    );
  });
}

/** Returns the cached Airflow environment of one major version, installing it first when it is missing. */
export async function ensureAirflowEnv(
  major: AirflowMajor = 2,
  log: (line: string) => void = defaultLog,
): Promise<AirflowEnv> {
  const lockFile = LOCK_FILES[major];
  const venv = join(cacheRoot(), `airflow-${envKey(major)}`);
  const bin = join(venv, 'bin');
  const python = join(bin, 'python');
  const ready = () => ({
    venv,
    bin,
    airflow: join(bin, 'airflow'),
    python,
    version: installedVersion(python),
  });
  if (existsSync(join(venv, '.airkick-ready'))) return ready();
  mkdirSync(cacheRoot(), { recursive: true });
  return withInstallLock(venv, async () => {
    if (existsSync(join(venv, '.airkick-ready'))) return ready();
    log(`Installing Apache Airflow ${major}.x into ${venv} (first run only; takes a minute or two)`);
    const started = Date.now();
    // venv scripts hard-code their interpreter path, so install in place; the marker comes last.
    rmSync(venv, { recursive: true, force: true });
    await run(pythonExe(), ['-m', 'venv', venv], log);
    await run(join(bin, 'pip'), ['install', '--quiet', `uv==${UV_VERSION}`], log);
    const total = readFileSync(lockFile, 'utf8')
      .split('\n')
      .filter((l) => /^[A-Za-z0-9]/.test(l)).length;
    let count = 0;
    await run(
      join(bin, 'uv'),
      ['pip', 'install', '--python', python, '--no-deps', '-r', lockFile],
      (line) => {
        if (line.startsWith(' + ')) {
          count += 1;
          if (count % 25 === 0 || count === total) log(`  installed ${count}/${total} packages`);
        } else if (!line.startsWith(' ')) log(`  ${line}`);
      },
    );
    writeFileSync(join(venv, '.airkick-ready'), `${new Date().toISOString()}\n`);
    log(`Airflow environment ready in ${Math.round((Date.now() - started) / 1000)} s`);
    return ready();
  });
}

/** Read from the package metadata: `airflow version` would spend seconds importing Airflow. */
function installedVersion(python: string): string {
  return execFileSync(python, ['-c', "import importlib.metadata as m; print(m.version('apache-airflow'))"], {
    encoding: 'utf8',
  }).trim();
}

/** Serialises installs between processes (parallel test runs) with an atomic mkdir lock. */
async function withInstallLock<T>(venv: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${venv}.lock`;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const owner = Number(readFileSync(join(lock, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 0);
      if (owner && !isAlive(owner)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function defaultLog(line: string): void {
  process.stderr.write(`[airflow-env] ${line}\n`);
}

export interface PythonTool {
  venv: string;
  bin: string;
}

/**
 * Installs a Python tool (e.g. moto's server) from a pinned lock into its own cached virtual environment,
 * keyed like the Airflow one by the hash of the lock and the Python version.
 */
export async function ensurePythonTool(
  name: string,
  lockFile: string,
  log: (line: string) => void = defaultLog,
): Promise<PythonTool> {
  const key = createHash('sha256')
    .update(readFileSync(lockFile))
    .update(pythonVersion())
    .digest('hex')
    .slice(0, 16);
  const venv = join(cacheRoot(), `${name}-${key}`);
  const tool: PythonTool = { venv, bin: join(venv, 'bin') };
  if (existsSync(join(venv, '.airkick-ready'))) return tool;
  mkdirSync(cacheRoot(), { recursive: true });
  return withInstallLock(venv, async () => {
    if (existsSync(join(venv, '.airkick-ready'))) return tool;
    log(`Installing ${name} into ${venv} (first run only)`);
    rmSync(venv, { recursive: true, force: true });
    await run(pythonExe(), ['-m', 'venv', venv], log);
    await run(join(tool.bin, 'pip'), ['install', '--quiet', `uv==${UV_VERSION}`], log);
    await run(
      join(tool.bin, 'uv'),
      ['pip', 'install', '--python', join(tool.bin, 'python'), '--no-deps', '-r', lockFile],
      () => {},
    );
    writeFileSync(join(venv, '.airkick-ready'), `${new Date().toISOString()}\n`);
    return tool;
  });
}
