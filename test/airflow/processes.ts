/** The long-running Airflow processes: started in process groups of their own, stopped with every descendant. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from './provision.ts';

export function spawnComponent(
  airflowBin: string,
  args: string[],
  env: Record<string, string>,
  logFile: string,
): ChildProcess {
  const out = openSync(logFile, 'a');
  // Own process group, so stopping it also stops its workers and task processes.
  return spawn(airflowBin, args, { env, detached: true, stdio: ['ignore', out, out] });
}

/** Every process below `root`, from /proc (Linux). */
export function descendants(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Signals the process group `pid` leads, and `pid` itself when it leads none (a descendant). */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // already gone, or not a group leader
    }
  }
}

export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Stops the components and everything below them. The descendants are listed before the first signal:
 * once a parent has exited its orphans hang below init, and some (the DAG file processor of 2) lead
 * groups of their own.
 */
export async function stopAll(children: ChildProcess[], graceMs = 15_000): Promise<void> {
  const tree = children.flatMap((child) => (child.pid ? [child.pid, ...descendants(child.pid)] : []));
  for (const child of children) killGroup(child.pid, 'SIGTERM');
  await Promise.all(children.map((child) => waitForExit(child, graceMs)));
  killTree(children, tree);
}

/** SIGKILL for the components, the processes listed earlier and whatever is below them now. */
export function killTree(children: ChildProcess[], listed: number[] = []): void {
  const now = children.flatMap((child) => (child.pid ? [child.pid, ...descendants(child.pid)] : []));
  for (const pid of new Set([...listed, ...now])) killGroup(pid, 'SIGKILL');
}

/** Kills what an earlier, killed run left behind (its owner process is gone). */
export function reapStaleRuns(root: string, log: (line: string) => void): void {
  if (!existsSync(root)) return;
  for (const dir of readdirSync(root)) {
    const home = join(root, dir);
    const ownerFile = join(home, 'owner.pid');
    if (!existsSync(ownerFile)) continue;
    const owner = Number(readFileSync(ownerFile, 'utf8'));
    if (isAlive(owner)) continue;
    const pidsFile = join(home, 'pids.json');
    if (existsSync(pidsFile)) {
      const pids = JSON.parse(readFileSync(pidsFile, 'utf8')) as Record<string, number>;
      for (const pid of Object.values(pids)) killGroup(pid, 'SIGKILL');
      rmSync(pidsFile, { force: true });
      log(`stopped Airflow processes left by an earlier run (${dir})`);
    }
  }
}
