// `npm run bench [-- measure…]`: builds the CLI, bundles bench/bench.ts (it measures the real modules
// in-process too), runs it, and on a full run refreshes the Performance table in README.md.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
execFileSync(process.execPath, [`${root}scripts/build.mjs`], { stdio: 'inherit' });
mkdirSync(`${root}bench/.build`, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: ['bench/bench.ts'],
  outfile: 'bench/.build/bench.mjs',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  jsx: 'automatic',
  packages: 'external',
  logLevel: 'warning',
  define: { 'import.meta.dirname': JSON.stringify(`${root}bench`) },
});
// React and Ink as the CLI runs them: production builds.
execFileSync(process.execPath, [`${root}bench/.build/bench.mjs`, ...only], { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'production' } });
if (!only.length) execFileSync(process.execPath, [`${root}scripts/readme.mjs`], { stdio: 'inherit' });
