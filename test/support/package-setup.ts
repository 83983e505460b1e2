import path from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { IN_REPO_CONSUMERS, installConsumer, packOnce } from './package.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `airkick-<version>.tgz`, packed once per run from this checkout. */
    tarball: string;
    /**
     * The `airkick` bin of the tarball installed into a project inside this repository's
     * node_modules, so the optional cloud peers (dev dependencies here) resolve: the CLI suite runs
     * every subcommand from it, on plain Node.
     */
    cliBin: string;
  }
}

/** Packs the repository once for the run and installs the tarball for this project's CLI suite. */
export default async function setup(project: TestProject) {
  const tarball = await packOnce();
  const consumer = await installConsumer(tarball, { dir: path.join(IN_REPO_CONSUMERS, project.name) });
  project.provide('tarball', tarball);
  project.provide('cliBin', consumer.bin);
  return () => consumer.remove();
}
