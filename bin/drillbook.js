#!/usr/bin/env node
// The drillbook command: loads the bundled CLI and nothing else, so start-up stays fast.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/main.js', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('drillbook: the CLI is not built yet (dist/main.js is missing).\nhint: run `npm ci` (or `npm run build`) in the drillbook folder.\n');
  process.exit(2);
}
await import(bundle.href);
