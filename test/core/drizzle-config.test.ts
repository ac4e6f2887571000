import { describe, expect, it } from 'vitest';
import { parseTableName, readDrizzleConfig } from '../../src/core/migrations/drizzle-config.js';

const keys = (text: string, kind: 'js' | 'json' = 'js') => {
  const r = readDrizzleConfig(text, kind);
  if (!r.ok) throw new Error(`unreadable: ${r.reason}`);
  return r.keys;
};

describe('drizzle.config.* read without running it', () => {
  it('reads string literals wherever the config object is: defineConfig, export default, module.exports, a named const', () => {
    expect(keys("export default defineConfig({ out: './a', migrations: { table: 't', schema: 's' } })")).toEqual({ dialect: undefined, out: { value: './a', line: 1 }, table: { value: 't', line: 1 }, schema: { value: 's', line: 1 } });
    expect(keys("export default { dialect: 'postgresql', out: \"./b\" } satisfies Config;").out).toEqual({ value: './b', line: 1 });
    expect(keys("module.exports = {\n  out: `./c`,\n};").out).toEqual({ value: './c', line: 2 });
    expect(keys("const cfg = defineConfig({ out: './d' });\nexport default cfg;").out).toEqual({ value: './d', line: 1 });
    expect(keys("const x = { out: './e' as const };\nmodule.exports = x;").out).toEqual({ value: './e', line: 1 });
  });

  it('is not fooled by braces, quotes or keys inside strings and comments', () => {
    const text = `// export default { out: 'wrong' }
/* migrations: { table: 'wrong' } */
export default defineConfig({
  schema: './src/{a,b}.ts', // out: 'wrong'
  "out": 'it\\'s/here',
  migrations: { table: "t}{" },
});`;
    expect(keys(text)).toMatchObject({ out: { value: "it's/here", line: 5 }, table: { value: 't}{', line: 6 }, schema: undefined });
  });

  it('says why and where a key cannot be read: expressions, templates with ${}, spreads, shorthand, a config built by a call', () => {
    expect(keys("export default { out: process.env.OUT ?? './x' }").out).toEqual({ unreadable: "out is set by an expression (process.env.OUT ?? './x') that drillbook does not evaluate", line: 1 });
    expect(keys('export default {\n  out: `./${stage}`,\n}').out).toEqual({ unreadable: 'out is set by an expression (`./${stage}`) that drillbook does not evaluate', line: 2 });
    expect(keys("const base = {};\nexport default { ...base, dialect: 'postgresql' }").table).toEqual({ unreadable: 'migrations.table may come from the spread ...base', line: 2 });
    expect(keys("export default { migrations: { ...shared, schema: 'ops' } }")).toMatchObject({ table: { unreadable: 'migrations.table may come from the spread ...shared' }, schema: { value: 'ops' } });
    expect(keys('const out = "x";\nexport default { out }').out).toMatchObject({ unreadable: 'out is set by an expression (out) that drillbook does not evaluate' });
    expect(keys('export default { migrations }').table).toMatchObject({ unreadable: 'migrations is set by an expression (migrations) that drillbook does not evaluate' });
    expect(readDrizzleConfig('export default defineConfig(makeConfig())', 'js')).toEqual({ ok: false, reason: 'the config is built by a function call (makeConfig(...))', line: 1 });
    expect(readDrizzleConfig("import c from './base';\nexport default c;", 'js')).toMatchObject({ ok: false, reason: 'the exported config c is not defined in this file' });
    expect(readDrizzleConfig('const x = 1;', 'js')).toMatchObject({ ok: false, reason: 'no defineConfig({...}), export default {...} or module.exports = {...} found' });
  });

  it('reads JSON as JSON', () => {
    expect(keys('{"dialect": "postgresql", "out": "d", "migrations": {"table": "t", "schema": 3}}', 'json')).toEqual({ dialect: { value: 'postgresql', line: 1 }, out: { value: 'd', line: 1 }, table: { value: 't', line: 1 }, schema: { unreadable: 'migrations.schema is set by an expression (3) that drillbook does not evaluate', line: 1 } });
    expect(readDrizzleConfig('{"out": ', 'json')).toMatchObject({ ok: false });
  });

  it('stays shallow and linear on pathological input', () => {
    const deep = `export default { a: ${'{ b: '.repeat(50_000)}1${' }'.repeat(50_000)}, out: 'x' }`;
    expect(keys(deep).out).toEqual({ value: 'x', line: 1 });
  });
});

describe('--table [schema.]name', () => {
  it('splits on the dot outside double quotes and keeps names as written', () => {
    expect(parseTableName('schema_migrations')).toEqual({ name: 'schema_migrations' });
    expect(parseTableName('ops.History')).toEqual({ schema: 'ops', name: 'History' });
    expect(parseTableName('"my.schema"."odd ""name"""')).toEqual({ schema: 'my.schema', name: 'odd "name"' });
    for (const bad of ['a.b.c', '.a', 'a.', '"open', 'a"b', '']) expect(parseTableName(bad)).toBeUndefined();
  });
});
