#!/usr/bin/env node
// The drillbook command. CommonJS (see bin/package.json), which Node starts faster than an ES module;
// it loads the bundled CLI through V8's code cache (dist/boot.cjs, built from src/boot/start.ts).
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
if (!existsSync(path.join(dist, 'main.cjs')) || !existsSync(path.join(dist, 'boot.cjs'))) {
  process.stderr.write('drillbook: the CLI is not built yet (dist/main.cjs is missing).\nhint: run `npm ci` (or `npm run build`) in the drillbook folder.\n');
  process.exit(2);
}
require(path.join(dist, 'boot.cjs')).start(path.join(dist, 'main.cjs'), process.argv, process.env);
