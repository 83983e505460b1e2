/** The `airkick` operator CLI: built to `dist/cli/airkick.mjs` (the package bin); from a clone, `npm run airkick -- ARGS`. */
import { main } from '#cli/main.ts';

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
