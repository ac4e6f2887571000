/**
 * A project as a drill reads it: the tool recognised by its files, the migrations folder from its
 * config (read, never run), its migrations as the tool orders them; clear errors for what is not
 * a project; and a shipped runbook's text adapted to a project whose folder is not the usual one.
 */
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DrillbookError } from '../../src/core/errors.js';
import { parseRunbook } from '../../src/core/load.js';
import { adaptRunbookText } from '../../src/drill/adapt.js';
import { copyProject } from '../../src/drill/project-copy.js';
import { detectProject } from '../../src/drill/project.js';
import { ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const PROJECTS = path.join(ROOT, 'test', 'fixtures', 'projects');
const tmp = (): string => tempDir('project-test');

function error(f: () => unknown): DrillbookError {
  try {
    f();
  } catch (e) {
    if (e instanceof DrillbookError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('detectProject', () => {
  it('the realistic Prisma 7 project: prisma.config.ts, its migrations in order, the variable its config reads', () => {
    const p = detectProject(path.join(PROJECTS, 'prisma-shop'));
    expect(p).toMatchObject({ tool: 'prisma', evidence: 'prisma.config.ts', migrations: 'prisma/migrations', urlEnv: 'DATABASE_URL' });
    expect(p.local.map((m) => m.name)).toEqual([
      '20250212093041_init',
      '20250219141502_orders',
      '20250304110927_product_inventory',
      '20250318165233_reviews',
      '20250402082210_order_shipping_address',
      '20250415101533_product_sku_unique',
      '20250429154418_coupons',
    ]);
  });

  it('the realistic Drizzle project: the journal\'s order and out from drizzle.config.ts', () => {
    const p = detectProject(path.join(PROJECTS, 'drizzle-pulse'));
    expect(p).toMatchObject({ tool: 'drizzle', evidence: 'drizzle.config.ts', migrations: 'drizzle', urlEnv: 'DATABASE_URL' });
    expect(p.local.map((m) => m.name)).toEqual(['0000_init', '0001_eminent_iron_lad', '0002_pageviews', '0003_woozy_frightful_four', '0004_account_plan_and_last_seen', '0005_shocking_synch']);
  });

  it('the folder the config names, and the variable its datasource reads', () => {
    const dir = tmp();
    cpSync(path.join(PROJECTS, 'prisma-shop'), dir, { recursive: true });
    renameSync(path.join(dir, 'prisma', 'migrations'), path.join(dir, 'db-migrations'));
    writeFileSync(path.join(dir, 'prisma.config.ts'), "import { defineConfig, env } from 'prisma/config';\nexport default defineConfig({\n  schema: 'prisma/schema.prisma',\n  migrations: { path: './db-migrations' },\n  datasource: { url: env('POSTGRES_PRISMA_URL') },\n});\n");
    expect(detectProject(dir)).toMatchObject({ migrations: 'db-migrations', urlEnv: 'POSTGRES_PRISMA_URL' });
    expect(detectProject(dir).local).toHaveLength(7);
  });

  it('clear errors: no project, several tools, another tool than asked, no migrations', () => {
    const empty = tmp();
    const e1 = error(() => detectProject(empty));
    expect(e1.message).toBe(`no recognisable project in ${empty}: looked for prisma.config.ts (or prisma/schema.prisma), drizzle.config.ts (.js, .json, …), or mix.exs with priv/repo/migrations`);
    expect(e1.exitCode).toBe(2);
    expect(e1.hint).toMatch(/the project's root/);
    expect(error(() => detectProject(path.join(empty, 'nope'))).message).toBe(`no project folder at ${path.join(empty, 'nope')}`);

    const both = tmp();
    cpSync(path.join(PROJECTS, 'prisma-shop'), both, { recursive: true });
    cpSync(path.join(PROJECTS, 'drizzle-pulse'), both, { recursive: true });
    expect(error(() => detectProject(both)).message).toBe(`${both} looks like a project of several tools: prisma (prisma.config.ts), drizzle (drizzle.config.ts)`);
    expect(detectProject(both, { tool: 'drizzle' }).tool).toBe('drizzle');
    expect(error(() => detectProject(path.join(PROJECTS, 'prisma-shop'), { tool: 'ecto' })).message).toMatch(/is not an Ecto project: found prisma \(prisma\.config\.ts\)$/);

    const bare = tmp();
    mkdirSync(path.join(bare, 'prisma'));
    writeFileSync(path.join(bare, 'prisma', 'schema.prisma'), 'datasource db {\n  provider = "postgresql"\n}\n');
    expect(error(() => detectProject(bare)).message).toBe(`${bare} is a Prisma project (prisma/schema.prisma) with no migrations folder at prisma/migrations`);
  });
});

describe('copyProject', () => {
  it('copies everything but .git and node_modules, never a link back into the project, and links the packages the configs import', () => {
    const src = tmp();
    cpSync(path.join(PROJECTS, 'drizzle-pulse'), src, { recursive: true });
    mkdirSync(path.join(src, '.git'));
    writeFileSync(path.join(src, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    mkdirSync(path.join(src, 'node_modules', 'dotenv'), { recursive: true });
    writeFileSync(path.join(src, 'node_modules', 'dotenv', 'package.json'), '{"name":"dotenv"}');
    mkdirSync(path.join(src, 'node_modules', '.prisma', 'client'), { recursive: true });
    symlinkSync(path.join(src, 'README.md'), path.join(src, 'README.link'));
    const dest = path.join(tmp(), 'copy');
    copyProject(src, dest);
    expect(existsSync(path.join(dest, '.git'))).toBe(false);
    expect(readFileSync(path.join(dest, 'drizzle', 'meta', '_journal.json'), 'utf8')).toBe(readFileSync(path.join(src, 'drizzle', 'meta', '_journal.json'), 'utf8'));
    // A link in the project is copied as a file: writing the copy never writes the project.
    expect(lstatSync(path.join(dest, 'README.link')).isSymbolicLink()).toBe(false);
    expect(realpathSync(path.join(dest, 'node_modules', 'dotenv'))).toBe(realpathSync(path.join(src, 'node_modules', 'dotenv')));
    expect(lstatSync(path.join(dest, 'node_modules')).isSymbolicLink()).toBe(false);
    expect(existsSync(path.join(dest, 'node_modules', '.prisma'))).toBe(false);
  });
});

describe('adaptRunbookText', () => {
  it('rehearses on the project, in its migrations folder, without the fixture\'s rows and checks; every other line as shipped', () => {
    const dir = tmp();
    cpSync(path.join(PROJECTS, 'prisma-shop'), dir, { recursive: true });
    renameSync(path.join(dir, 'prisma', 'migrations'), path.join(dir, 'db-migrations'));
    writeFileSync(path.join(dir, 'prisma.config.ts'), readFileSync(path.join(dir, 'prisma.config.ts'), 'utf8').replace("path: 'prisma/migrations'", "path: 'db-migrations'"));
    const project = detectProject(dir);
    const shipped = readFileSync(path.join(ROOT, 'runbooks', 'prisma-history-mismatch.yaml'), 'utf8');
    const text = adaptRunbookText(shipped, project, { workdir: '..', schema: 'runbook.schema.json', header: ['Adapted for a test.'] });
    expect(text.split('\n').slice(0, 3)).toEqual(['# yaml-language-server: $schema=runbook.schema.json', '# Adapted for a test.', 'id: prisma-history-mismatch']);
    expect(text).not.toContain('prisma/migrations');
    expect(text).toContain('migrations: {tool: prisma, dir: db-migrations, expect: in-sync}');
    expect(text).toContain('phantom: {folder: remote-branch/db-migrations}');
    expect(text).toContain('cp -R db-migrations "backup/migrations_');
    expect(text).toContain('  workdir: ..\n');
    expect(text).not.toContain('fixtures/');
    expect(text).not.toMatch(/fixture: true|data:/);
    expect(text).toContain('    - id: renamed-plus-one\n      title: One more local migration never applied (on the fixture, other names too)\n      incident: {pending: 2}\n');
    // Nothing else changed: the phases are the shipped ones, byte for byte, but the folder's name.
    const phases = (t: string) => t.slice(t.indexOf('\nphases:'), t.indexOf('\nrehearsal:'));
    expect(phases(text)).toBe(phases(shipped).replaceAll('prisma/migrations', 'db-migrations'));
    const parsed = parseRunbook(text, path.join(dir, 'runbooks', 'prisma-history-mismatch.yaml'));
    expect(parsed.problems.filter((p) => p.severity === 'error')).toEqual([]);
  });
});
