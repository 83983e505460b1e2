/**
 * The zod API of `lib/`: `zod/mini`, whose functions tree-shake, with English messages. Classic `zod`
 * (`import { z } from 'zod'`) keeps every locale alive through its `z` namespace (~460 KB per bundle)
 * and installs English by default; `zod/mini` installs no locale, so its issues would all read
 * "Invalid input". Import zod from here, never from `zod` or `zod/mini`, so the locale is in place
 * before the first parse.
 *
 * @example import * as z from '#lib/zod.ts';
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';
