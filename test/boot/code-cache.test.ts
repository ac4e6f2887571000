/**
 * V8's code cache for the bundle: a cache file is used only when it names this exact bundle and is
 * whole; a stale, torn, corrupt or V8-rejected file is ignored (the CLI works as without it) and
 * replaced. Speed itself is measured by `npm run bench`, not here.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheFileName, cacheKey, commandOf, decodeCache, encodeCache, isStaleSibling } from '../../src/boot/code-cache.js';
import { COMMANDS } from '../../src/boot/start.js';
import { buildProgram } from '../../src/cli.js';
import { BIN, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const BUNDLE = path.join(ROOT, 'dist', 'main.cjs');

describe('the code cache file format', () => {
  const key = cacheKey({ version: '1.0.0', node: 'v20.0.0', arch: 'x64', bundle: Buffer.from('bundle') });
  const data = Buffer.from('v8 data '.repeat(100));

  it('reads back what it wrote, for the same key only', () => {
    const file = encodeCache({ key, warm: true }, data);
    expect(decodeCache(file, key)).toEqual({ data, warm: true });
    expect(decodeCache(encodeCache({ key, warm: false }, data), key)?.warm).toBe(false);
    expect(decodeCache(file, `${key}0`)).toBeUndefined();
  });

  it('keys every part: drillbook version, Node version, architecture, bundle bytes', () => {
    const base = { version: '1.0.0', node: 'v20.0.0', arch: 'x64', bundle: Buffer.from('bundle') };
    const keys = new Set([
      cacheKey(base),
      cacheKey({ ...base, version: '1.0.1' }),
      cacheKey({ ...base, node: 'v20.1.0' }),
      cacheKey({ ...base, arch: 'arm64' }),
      cacheKey({ ...base, bundle: Buffer.from('bundlf') }),
    ]);
    expect(keys.size).toBe(5);
  });

  it('rejects a torn file, flipped bytes anywhere, another format, and garbage', () => {
    const file = encodeCache({ key, warm: true }, data);
    expect(decodeCache(file.subarray(0, file.length - 1), key)).toBeUndefined();
    expect(decodeCache(file.subarray(0, 30), key)).toBeUndefined();
    for (const at of [0, 5, 30, file.length - data.length + 3, file.length - 1]) {
      const bad = Buffer.from(file);
      bad[at] = bad[at]! ^ 0x10;
      expect(decodeCache(bad, key), `flipped byte ${at}`).toBeUndefined();
    }
    expect(decodeCache(Buffer.alloc(0), key)).toBeUndefined();
    expect(decodeCache(Buffer.from('not a cache at all'), key)).toBeUndefined();
    expect(decodeCache(encodeCache({ key, warm: true }, Buffer.alloc(0)), key)).toBeUndefined();
  });

  it('names a file per bundle path and command, and knows older keys of the same as stale', () => {
    const a = cacheFileName('/x/dist/main.cjs', 'run', key);
    expect(cacheFileName('/y/dist/main.cjs', 'run', key)).not.toBe(a);
    expect(cacheFileName('/x/dist/main.cjs', 'drill', key)).not.toBe(a);
    expect(isStaleSibling(cacheFileName('/x/dist/main.cjs', 'run', 'older'), '/x/dist/main.cjs', 'run', key)).toBe(true);
    expect(isStaleSibling(a, '/x/dist/main.cjs', 'run', key)).toBe(false);
    expect(isStaleSibling(cacheFileName('/x/dist/main.cjs', 'drill', 'older'), '/x/dist/main.cjs', 'run', key)).toBe(false);
    expect(isStaleSibling(cacheFileName('/y/dist/main.cjs', 'run', 'older'), '/x/dist/main.cjs', 'run', key)).toBe(false);
  });

  it('keeps a cache per command of the CLI (the same list as src/cli.ts)', () => {
    const names = buildProgram().commands.map((c) => c.name());
    expect([...COMMANDS].filter((c) => c !== 'help').sort()).toEqual(names.filter((c) => c !== 'help').sort());
    expect(commandOf(['node', 'drillbook', 'run', 'x'], COMMANDS)).toBe('run');
    expect(commandOf(['node', 'drillbook', '--version'], COMMANDS)).toBe('other');
    expect(commandOf(['node', 'drillbook'], COMMANDS)).toBe('other');
  });
});

describe('the CLI with a code cache', () => {
  function cli(cacheHome: string, args: string[]): string {
    return execFileSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cacheHome, NO_COLOR: '1' } });
  }
  function home(): { home: string; dir: string } {
    const h = tempDir('code-cache');
    return { home: h, dir: path.join(h, 'drillbook', 'code-cache') };
  }
  const files = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.v8'));
  const expected = () => execFileSync(process.execPath, [BIN, 'validate', 'runbooks/'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DRILLBOOK_CODE_CACHE: '0' } });

  it('writes a cache on the first run and leaves it alone once it is used', () => {
    const { home: h, dir } = home();
    const out = cli(h, ['validate', 'runbooks/']);
    expect(out).toBe(expected());
    const [name] = files(dir);
    expect(name).toMatch(/-validate-/);
    const before = statSync(path.join(dir, name!)).mtimeMs;
    expect(cli(h, ['validate', 'runbooks/'])).toBe(out);
    expect(statSync(path.join(dir, name!)).mtimeMs).toBe(before);
  });

  it.each([
    ['flipped bytes in V8 data', (b: Buffer) => { const c = Buffer.from(b); for (let i = c.length - 2000; i < c.length; i += 97) c[i] = c[i]! ^ 0xff; return c; }],
    ['a torn write', (b: Buffer) => b.subarray(0, Math.floor(b.length / 2))],
    ['zeros', (b: Buffer) => Buffer.alloc(b.length)],
  ])('ignores a corrupt cache (%s), works as without one, and writes a good one', (_what, corrupt) => {
    const { home: h, dir } = home();
    const out = cli(h, ['validate', 'runbooks/']);
    const file = path.join(dir, files(dir)[0]!);
    const good = readFileSync(file);
    writeFileSync(file, corrupt(good));
    expect(cli(h, ['validate', 'runbooks/'])).toBe(out);
    expect(decodeCache(readFileSync(file), file.split('-').pop()!.replace(/\.v8$/, ''))).toBeDefined();
  });

  it('survives data that passes its checksum but that V8 rejects (another program\'s cache), and replaces it', () => {
    const { home: h, dir } = home();
    const out = cli(h, ['validate', 'runbooks/']);
    const file = path.join(dir, files(dir)[0]!);
    const key = file.split('-').pop()!.replace(/\.v8$/, '');
    const foreign = encodeCache({ key, warm: true }, Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 7919) & 0xff)));
    writeFileSync(file, foreign);
    expect(cli(h, ['validate', 'runbooks/'])).toBe(out);
    expect(readFileSync(file).equals(foreign)).toBe(false);
    expect(decodeCache(readFileSync(file), key)).toBeDefined();
  });

  it('removes the cache of an older bundle at the same path, and never reads it', () => {
    const { home: h, dir } = home();
    const out = cli(h, ['validate', 'runbooks/']);
    const current = files(dir)[0]!;
    const stale = cacheFileName(BUNDLE, 'validate', 'c0000000000');
    writeFileSync(path.join(dir, stale), encodeCache({ key: 'c0000000000', warm: true }, Buffer.alloc(1000, 1)));
    rmSync(path.join(dir, current));
    expect(cli(h, ['validate', 'runbooks/'])).toBe(out);
    expect(files(dir)).toEqual([current]);
  });

  it('works when the cache folder cannot be written', () => {
    const { home: h } = home();
    writeFileSync(path.join(h, 'drillbook'), 'a file where the folder should be');
    expect(cli(h, ['validate', 'runbooks/'])).toBe(expected());
  });
});
