import { defineConfig } from 'vitest/config';

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
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/airflow/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // One real Airflow on a 2-core machine: files run one after another.
          fileParallelism: false,
        },
      },
    ],
  },
});
