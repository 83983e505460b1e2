import { defineConfig } from 'vitest/config';

/** Suites that depend on the Airflow major version; they run once against each. */
const PER_VERSION = [
  'client',
  'cloud-contracts',
  'functions',
  'cli',
  'start',
  'retries',
  'emulators',
  'harness',
  'faults',
  'package',
  'assets',
].map((name) => `test/integration/${name}.test.ts`);

/** One project per Airflow major version: its global setup starts that Airflow once and provides it as `airflow`. */
const airflowProject = (major: 2 | 3, include: string[]) => ({
  test: {
    name: `airflow-${major}`,
    include,
    environment: 'node' as const,
    // The Airflow of this project, and the packed tarball (packed once for both projects).
    globalSetup: ['test/airflow/global-setup.ts', 'test/support/package-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // One Airflow per project on a 2-core machine: a project's files run one after another, while the
    // two projects (two Airflows) run side by side.
    fileParallelism: false,
  },
});

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      // Airflow 2 runs every integration suite; the version-independent ones (deploy files, alert
      // channels, SDK conformance of the control-plane emulators) only there.
      airflowProject(2, ['test/integration/**/*.test.ts']),
      airflowProject(3, PER_VERSION),
    ],
  },
});
