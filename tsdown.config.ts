/**
 * The npm package: `npm run build:package` (also `prepack`) writes `dist/lib/` (the library as ESM
 * `.mjs` and CommonJS `.cjs`, each entry with its `.d.mts` / `.d.cts`; code shared by the entries sits
 * in chunks, so `airkick` and `airkick/mwaa` share one `AirkickError` class and one client cache) and
 * `dist/cli/airkick.mjs` (the `airkick` bin, plain Node, no tsx). Dependencies and the optional cloud
 * peers stay external; everything under `lib/` is bundled, which also resolves the `#lib/*` imports.
 * The functions' bundles are build.ts's (esbuild), not this.
 */
import { defineConfig } from 'tsdown';

const common = {
  platform: 'node',
  target: 'node20',
  tsconfig: 'tsconfig.json',
  fixedExtension: true,
} as const;

export default defineConfig([
  {
    ...common,
    entry: { index: 'lib/index.ts', mwaa: 'lib/mwaa.ts', dms: 'lib/dms.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    outDir: 'dist/lib',
  },
  {
    ...common,
    entry: { airkick: 'cli/airkick.ts' },
    format: ['esm'],
    dts: false,
    outDir: 'dist/cli',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
