#!/usr/bin/env node
// The `airkick` bin. Plain JavaScript so npm can link it as is; it loads the TypeScript entry
// through tsx's ESM API (tsx is a runtime dependency), which also resolves the "#lib/*" imports.
import { register } from 'tsx/esm/api';

register();
await import('./airkick.ts');
