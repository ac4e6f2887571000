/**
 * Starts the bundled CLI (dist/main.cjs) through V8's code cache, so that most of the bundle is
 * neither parsed nor compiled again (Node 20 has no compile cache of its own). Built to
 * dist/boot.cjs; bin/drillbook.js calls start().
 *
 * The cache is an optimisation only: a missing, stale, torn or corrupt cache file, one V8 rejects,
 * or a cache folder that cannot be read or written, all mean "compile as usual". The cache of a
 * command is written when there was none, or when the one there came from a run that stopped
 * before the command's interface (so it lacks that code): a second after the interface is up
 * (src/boot/warm.ts), else at exit. DRILLBOOK_CODE_CACHE=0 turns it off.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { cacheFileName, cacheKey, commandOf, decodeCache, encodeCache, isStaleSibling } from './code-cache.js';
import { WARM } from './warm.js';

declare const __DRILLBOOK_VERSION__: string | undefined;

/** The commands of src/cli.ts (a test keeps the two lists equal): each has a cache of its own. */
export const COMMANDS = ['drill', 'run', 'resume', 'diagnose', 'report', 'verify', 'validate', 'list', 'schema', 'init', 'help'] as const;

export function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.DRILLBOOK_CODE_CACHE === '0') return undefined;
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'drillbook', 'code-cache');
}

/** The bundle's source as V8 compiles it: a function of the CommonJS variables plus the bundle's own URL (for import.meta.url). */
function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname, __drillbookUrl) {${source}\n})`;
}

export interface StartInfo {
  cacheFile: string | undefined;
  /** Whether V8 used the cache file. */
  usedCache: boolean;
}

export function start(bundlePath: string, argv: readonly string[], env: NodeJS.ProcessEnv): StartInfo {
  const source = readFileSync(bundlePath);
  const dir = cacheDir(env);
  const command = commandOf(argv, COMMANDS);
  const key = cacheKey({ version: typeof __DRILLBOOK_VERSION__ === 'string' ? __DRILLBOOK_VERSION__ : 'dev', node: process.version, arch: process.arch, bundle: source });
  const file = dir ? path.join(dir, cacheFileName(bundlePath, command, key)) : undefined;
  let cached: ReturnType<typeof decodeCache>;
  try {
    cached = file ? decodeCache(readFileSync(file), key) : undefined;
  } catch {
    cached = undefined; // no cache yet, or unreadable
  }
  const script = new vm.Script(wrap(source.toString('utf8')), { filename: bundlePath, ...(cached ? { cachedData: cached.data } : {}) });
  const used = cached !== undefined && script.cachedDataRejected !== true;
  if (file && dir && !(used && cached?.warm)) {
    let written = false;
    const write = (warm: boolean) => {
      if (written) return;
      written = true;
      save(script, dir, file, { key, warm }, () => {
        for (const name of readdirSync(dir)) if (isStaleSibling(name, bundlePath, command, key)) rmSync(path.join(dir, name), { force: true });
      });
    };
    const g = globalThis as Record<symbol, unknown>;
    // Once the interface is up: a second later, while the start-up code is still compiled.
    g[WARM] = () => setTimeout(() => write(true), 1000).unref();
    process.once('exit', (code) => {
      const warm = g[WARM] === true || code === 0;
      if (used && !warm) return; // what is there is as good as what this run would write
      write(warm);
    });
  }
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  const mod = { exports: {} };
  run.call(mod.exports, mod.exports, createRequire(bundlePath), mod, bundlePath, path.dirname(bundlePath), pathToFileURL(bundlePath).href);
  return { cacheFile: file, usedCache: used };
}

/** Write atomically (a reader sees the old file or the new one, never half of one); any failure leaves no trace. */
function save(script: vm.Script, dir: string, file: string, header: { key: string; warm: boolean }, prune: () => void): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(tmp, encodeCache(header, script.createCachedData()), { mode: 0o600 });
    renameSync(tmp, file);
    prune();
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing more to do: the next run compiles as usual
    }
  }
}
