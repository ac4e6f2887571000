import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { diagnoseFolder, withClient } from '../../src/adapters/migrations/service.js';
import { locate, writeTracking } from '../../src/adapters/migrations/tracking.js';
import { drillbook } from '../helpers/cli.js';
import { freshDatabase, sql } from '../helpers/pg.js';
import { cleanupCopies, scratchCopy, standin } from '../helpers/project.js';

afterAll(cleanupCopies);

/** drizzle-orm's own migrator, the real thing. */
async function realMigrate(url: string, folder: string, where: { migrationsTable?: string; migrationsSchema?: string } = {}): Promise<{ ok: true } | { ok: false; code: string | undefined; message: string }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await migrate(drizzle(client), { migrationsFolder: folder, ...where });
    return { ok: true };
  } catch (e) {
    const err = e as { cause?: { code?: string }; code?: string; message: string };
    return { ok: false, code: err.cause?.code ?? err.code, message: err.message };
  } finally {
    await client.end();
  }
}

function addMigration(dir: string, tag: string, when: number, body: string): void {
  writeFileSync(path.join(dir, 'drizzle', `${tag}.sql`), body);
  const journalPath = path.join(dir, 'drizzle', 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: Array<Record<string, unknown>> };
  journal.entries.push({ idx: journal.entries.length, version: '7', when, tag, breakpoints: true });
  writeFileSync(journalPath, JSON.stringify(journal, null, 2));
}

async function drizzleProject() {
  const dir = scratchCopy('drizzle');
  const { url } = await freshDatabase('drizzle');
  const folder = path.join(dir, 'drizzle');
  const states = async () => (await diagnoseFolder({ tool: 'drizzle', dir: folder }, url)).diagnosis.entries.map((e) => [e.name, e.state]);
  return { dir, url, folder, states };
}

/** Build the schema as `drizzle-kit push` would: the tables, and no tracking rows. */
async function push(url: string, folder: string, tags: string[]): Promise<void> {
  for (const tag of tags) {
    for (const stmt of readFileSync(path.join(folder, `${tag}.sql`), 'utf8').split('--> statement-breakpoint')) await sql(url, stmt);
  }
}

describe('Drizzle, proven against drizzle-orm’s own migrator', () => {
  it('drillbook’s checksum and created_at are exactly what drizzle writes', async () => {
    const p = await drizzleProject();
    expect(await realMigrate(p.url, p.folder)).toEqual({ ok: true });
    const rows = (await sql(p.url, 'SELECT hash, created_at::text FROM drizzle.__drizzle_migrations ORDER BY id')).rows;
    const at = locate('drizzle', p.folder, p.url);
    expect(rows).toEqual(at.local.map((m) => ({ hash: m.checksum, created_at: String(m.when) })));
    expect(at.local[0]!.checksum).toBe(createHash('sha256').update(readFileSync(path.join(p.folder, '0000_init.sql'))).digest('hex'));
    expect(await p.states()).toEqual([['0000_init', 'applied'], ['0001_add_posts', 'applied']]);
  });

  it('a pushed-but-untracked database: migrate fails with 42P07; after drillbook’s baseline it applies only the new migration', async () => {
    const p = await drizzleProject();
    await push(p.url, p.folder, ['0000_init', '0001_add_posts']);
    addMigration(p.dir, '0002_add_tags', 1700000200000, 'CREATE TABLE "tags" (\n\t"id" serial PRIMARY KEY NOT NULL,\n\t"name" text NOT NULL\n);');

    const before = await realMigrate(p.url, p.folder);
    expect(before).toMatchObject({ ok: false, code: '42P07' });
    expect((await sql(p.url, 'SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).rows[0].n).toBe(0);

    const diag = await drillbook(['diagnose', '--db', p.url], { cwd: p.dir });
    expect(diag.exitCode).toBe(1);
    expect(diag.stdout).toContain('verdict: untracked schema: 2 application table(s) exist but drizzle.__drizzle_migrations is empty; 2 pending migration(s) would re-create existing tables');
    expect(diag.stdout).toContain('runbook: drillbook run drizzle-untracked-push');

    const at = locate('drizzle', p.folder, p.url);
    const written = await withClient(p.url, (c) => writeTracking(c, at, 'baseline', ['0001_add_posts']));
    expect(written).toHaveLength(2);
    expect(await withClient(p.url, (c) => writeTracking(c, at, 'baseline', ['0001_add_posts']))).toEqual([]); // idempotent
    expect(await p.states()).toEqual([['0000_init', 'applied'], ['0001_add_posts', 'applied'], ['0002_add_tags', 'pending']]);

    expect(await realMigrate(p.url, p.folder)).toEqual({ ok: true });
    const rows = (await sql(p.url, 'SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id')).rows.map((r: { hash: string }) => r.hash);
    expect(rows).toEqual(locate('drizzle', p.folder, p.url).local.map((m) => m.checksum));
    expect((await sql(p.url, "SELECT to_regclass('public.tags') IS NOT NULL AS t")).rows[0].t).toBe(true);
  });

  it('the stand-in drizzle-kit migrate behaves like 0.31: it fails on the untracked database (showing only its spinner), succeeds after the baseline', async () => {
    const p = await drizzleProject();
    await push(p.url, p.folder, ['0000_init']);
    const failed = await standin('drizzle-kit', ['migrate'], p.dir, p.url);
    expect(failed.stderr.split('\n')[0]).toMatch(/^drillbook stand-in for drizzle-kit/);
    // As drizzle-kit 0.31: exit 1 with its spinner as the last word, the SQL error swallowed.
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).toMatch(/\[⣷\] applying migrations\.\.\.$/);
    expect(failed.stdout).not.toContain('42P07');
    expect(failed.stderr).not.toContain('already exists');
    const at = locate('drizzle', p.folder, p.url);
    await withClient(p.url, (c) => writeTracking(c, at, 'mark-applied', ['0000_init']));
    const ok = await standin('drizzle-kit', ['migrate'], p.dir, p.url);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('[✓] migrations applied successfully!');
    expect(await p.states()).toEqual([['0000_init', 'applied'], ['0001_add_posts', 'applied']]);
  });

  it('a journal entry older than the newest applied one is "skipped": drizzle applies nothing and says success', async () => {
    const p = await drizzleProject();
    expect(await realMigrate(p.url, p.folder)).toEqual({ ok: true });
    addMigration(p.dir, '0002_add_tags', 1700000050000, 'CREATE TABLE "tags" ("id" serial PRIMARY KEY NOT NULL);');
    expect(await realMigrate(p.url, p.folder)).toEqual({ ok: true });
    expect((await sql(p.url, "SELECT to_regclass('public.tags') IS NULL AS missing")).rows[0].missing).toBe(true);
    const d = await diagnoseFolder({ tool: 'drizzle', dir: p.folder }, p.url);
    expect(d.diagnosis.entries.find((e) => e.name === '0002_add_tags')).toMatchObject({ state: 'skipped' });
    expect(d.diagnosis.warnings[0]).toContain('not newer than the entry before it');
    expect(d.verdict.line).toBe('drift: 1 skipped by the high-water mark');
  });

  it('a row with created_at NULL (a hand-written "mark applied"): drizzle runs every entry again, so diagnose calls them pending and says why', async () => {
    const p = await drizzleProject();
    await push(p.url, p.folder, ['0000_init', '0001_add_posts']);
    const at = locate('drizzle', p.folder, p.url);
    // The repair people write by hand: the hashes, and no created_at.
    await sql(p.url, 'CREATE SCHEMA drizzle; CREATE TABLE drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)');
    await sql(p.url, 'INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, $2), ($3, NULL)', [at.local[0]!.checksum, at.local[0]!.when, at.local[1]!.checksum]);
    // drizzle-orm's migrator: the NULL row is "the newest", Number(null) = 0, so 0000 runs again and fails.
    expect(await realMigrate(p.url, p.folder)).toMatchObject({ ok: false, code: '42P07' });
    const d = await diagnoseFolder({ tool: 'drizzle', dir: p.folder }, p.url);
    expect(d.diagnosis.entries.map((e) => [e.name, e.state])).toEqual([['0000_init', 'pending'], ['0001_add_posts', 'pending']]);
    expect(d.diagnosis.entries[0]!.evidence).toContain('row 2 has created_at NULL, which drizzle reads as the newest row (order by created_at desc puts NULL first) and as 0, so it runs every journal entry again; this one already ran (row 1)');
    expect(d.diagnosis.entries[0]!.evidence).toContain('creates users, which already exists: migrate would fail with 42P07');
    expect(d.diagnosis.highWaterMark).toEqual({ rowId: 2, createdAt: null, value: 0 });
    expect(d.verdict.inSync).toBe(false);
    expect(d.verdict.line).toBe('drift: row 2 of drizzle.__drizzle_migrations has created_at NULL: drizzle-kit migrate would run all 2 journal entries again (2 would re-create existing tables: it fails with 42P07 and applies nothing)');
    expect(d.verdict.next).toBe('set created_at to the journal "when" of the migration each row belongs to: UPDATE drizzle.__drizzle_migrations SET created_at = 1700000100000 WHERE id = 2 (0001_add_posts); then drillbook diagnose again');
    // The stand-in models the same migrator: same failure.
    const standinRun = await standin('drizzle-kit', ['migrate'], p.dir, p.url);
    expect(standinRun.exitCode).toBe(1);
    // Like drizzle-kit 0.31.11, it shows only its spinner: the failure is the exit code and the unchanged table.
    expect((await sql(p.url, 'SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).rows[0].n).toBe(2);
    // The advice works: with created_at set, drizzle has nothing to do and diagnose agrees.
    await sql(p.url, 'UPDATE drizzle.__drizzle_migrations SET created_at = $1 WHERE id = 2', [at.local[1]!.when]);
    expect(await realMigrate(p.url, p.folder)).toEqual({ ok: true });
    expect((await sql(p.url, 'SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).rows[0].n).toBe(2);
    expect(await p.states()).toEqual([['0000_init', 'applied'], ['0001_add_posts', 'applied']]);
  });

  it('an entry whose when equals the newest created_at is skipped (it never ran), not "modified"', async () => {
    const p = await drizzleProject();
    expect(await realMigrate(p.url, p.folder)).toEqual({ ok: true });
    const newest = locate('drizzle', p.folder, p.url).local[1]!.when!;
    addMigration(p.dir, '0002_add_tags', newest, 'CREATE TABLE "tags" ("id" serial PRIMARY KEY NOT NULL);');
    expect(await realMigrate(p.url, p.folder)).toEqual({ ok: true });
    expect((await sql(p.url, "SELECT to_regclass('public.tags') IS NULL AS missing")).rows[0].missing).toBe(true);
    const d = await diagnoseFolder({ tool: 'drizzle', dir: p.folder }, p.url);
    expect(d.diagnosis.entries.map((e) => [e.name, e.state])).toEqual([['0000_init', 'applied'], ['0001_add_posts', 'applied'], ['0002_add_tags', 'skipped']]);
    expect(d.diagnosis.entries[2]!.evidence).toBe(`when ${newest} is not newer than the newest created_at ${newest} (row 2) and no row has its hash: drizzle-kit migrate skips it without a word and reports success, so it never ran; of the tables it creates, tags does not exist`);
    // The stand-in skips it too.
    expect((await standin('drizzle-kit', ['migrate'], p.dir, p.url)).exitCode).toBe(0);
    expect((await sql(p.url, "SELECT to_regclass('public.tags') IS NULL AS missing")).rows[0].missing).toBe(true);
  });

  it('a row with no journal entry is a phantom; an edited file is modified (drizzle never notices either)', async () => {
    const p = await drizzleProject();
    expect(await realMigrate(p.url, p.folder)).toEqual({ ok: true });
    await sql(p.url, "INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES (repeat('c', 64), 1699999999999)");
    writeFileSync(path.join(p.folder, '0001_add_posts.sql'), `${readFileSync(path.join(p.folder, '0001_add_posts.sql'), 'utf8')}\n-- edited`);
    expect(await p.states()).toEqual([['0000_init', 'applied'], ['0001_add_posts', 'modified'], ['row 3', 'phantom']]);
  });
});

describe('Drizzle projects whose drizzle.config.* moves the folder or the tracking table', () => {
  /** A project with its migrations in ./db/migrations and a config that says so (and more). */
  function configured(config: string, file = 'drizzle.config.ts') {
    const dir = scratchCopy('drizzle');
    mkdirSync(path.join(dir, 'db'));
    renameSync(path.join(dir, 'drizzle'), path.join(dir, 'db', 'migrations'));
    rmSync(path.join(dir, 'drizzle.config.ts'));
    writeFileSync(path.join(dir, file), config);
    return { dir, folder: path.join(dir, 'db', 'migrations') };
  }

  it('reads out, migrations.table and migrations.schema from the config without running it', async () => {
    const { dir, folder } = configured(`import { defineConfig } from 'drizzle-kit';
// The config is never executed: this would throw if it were.
if (!process.env.NEVER_SET) throw new Error('executed');
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema.ts',
  out: './db/migrations',
  dbCredentials: { url: process.env.DATABASE_URL! },
  migrations: { table: 'schema_history', schema: 'ops' },
});
`);
    const { url } = await freshDatabase('drizzle');
    expect(await realMigrate(url, folder, { migrationsTable: 'schema_history', migrationsSchema: 'ops' })).toEqual({ ok: true });
    expect((await sql(url, "SELECT to_regclass('drizzle.__drizzle_migrations') IS NULL AS absent")).rows[0].absent).toBe(true);
    const ok = await drillbook(['diagnose', '--db', url], { cwd: dir });
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('drizzle migrations in db/migrations against');
    expect(ok.stdout).toContain('(ops.schema_history, 2 row(s); folder and table from drizzle.config.ts)');
    expect(ok.stdout).toContain('verdict: in sync: 2 migration(s) applied, nothing pending');
    // A row cleared by hand is seen in that table, not in the default one.
    await sql(url, 'DELETE FROM ops.schema_history WHERE id = 2');
    const json = JSON.parse((await drillbook(['diagnose', '--db', url, '--json'], { cwd: dir })).stdout) as { table: string; config: unknown; counts: Record<string, number> };
    expect(json.table).toBe('ops.schema_history');
    expect(json.config).toEqual({ file: 'drizzle.config.ts', out: './db/migrations', table: 'schema_history', schema: 'ops' });
    expect(json.counts).toMatchObject({ applied: 1, pending: 1, total: 2 });
  });

  it('refuses, with the line, a key set by an expression; --table schema.name supplies it', async () => {
    const { dir, folder } = configured(`import type { Config } from 'drizzle-kit';
const config: Config = {
  dialect: 'postgresql',
  out: './db/migrations',
  migrations: {
    table: process.env.MIGRATIONS_TABLE ?? 'schema_history',
    schema: 'ops',
  },
};
export default config;
`);
    const { url } = await freshDatabase('drizzle');
    expect(await realMigrate(url, folder, { migrationsTable: 'schema_history', migrationsSchema: 'ops' })).toEqual({ ok: true });
    const refused = await drillbook(['diagnose', '--db', url], { cwd: dir });
    expect(refused.exitCode).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe("drillbook: drizzle.config.ts:6: migrations.table is set by an expression (process.env.MIGRATIONS_TABLE ?? 'schema_history') that drillbook does not evaluate\nhint: pass --table schema.name (drillbook reads the config without running it: only plain string values)");
    const json = await drillbook(['diagnose', '--db', url, '--json'], { cwd: dir });
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: expect.stringContaining('drizzle.config.ts:6: migrations.table is set by an expression') as unknown, hint: expect.stringContaining('--table schema.name') as unknown });
    const given = await drillbook(['diagnose', '--db', url, '--table', 'ops.schema_history'], { cwd: dir });
    expect(given.exitCode, given.stderr).toBe(0);
    expect(given.stdout).toContain('(ops.schema_history, 2 row(s); folder from drizzle.config.ts)');
  });

  it('refuses a config it cannot read at all unless the flags say everything; a non-PostgreSQL dialect is refused', async () => {
    const { dir } = configured(`export default defineConfig(makeConfig(process.env.STAGE));\n`);
    const { url } = await freshDatabase('drizzle');
    const refused = await drillbook(['diagnose', '--db', url], { cwd: dir });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('drillbook: drizzle.config.ts:1: cannot read the config statically: the config is built by a function call (makeConfig(...))\nhint: pass --migrations DIR');
    const half = await drillbook(['diagnose', '--db', url, '--migrations', 'db/migrations'], { cwd: dir });
    expect(half.exitCode).toBe(2);
    expect(half.stderr).toContain('hint: pass --table schema.name');
    const all = await drillbook(['diagnose', '--db', url, '--migrations', 'db/migrations', '--table', 'drizzle.__drizzle_migrations'], { cwd: dir });
    expect(all.stderr).toBe('');
    expect(all.stdout).toContain('verdict: empty database: 2 migration(s) to apply');
    const sqlite = configured(`{"dialect": "sqlite", "out": "./db/migrations"}`, 'drizzle.config.json');
    const r = await drillbook(['diagnose', '--db', url], { cwd: sqlite.dir });
    expect(r.stderr).toContain('drillbook: drizzle.config.json:1: dialect is sqlite; drillbook diagnoses PostgreSQL');
  });

  it('--table works for Ecto too (migration_source and prefix live in Elixir config, which is not read)', async () => {
    const dir = scratchCopy('ecto');
    const { url } = await freshDatabase('ecto');
    await sql(url, 'CREATE SCHEMA ops; CREATE TABLE ops."Versions" ("version" bigint, "inserted_at" timestamp(0), PRIMARY KEY ("version")); INSERT INTO ops."Versions" VALUES (20240101000000, now())');
    const r = await drillbook(['diagnose', '--db', url, '--table', 'ops."Versions"'], { cwd: dir });
    expect(r.stdout).toContain('(ops."Versions", 1 row(s))');
    expect(r.stdout).toMatch(/20240101000000_create_users \| applied/);
    const bad = await drillbook(['diagnose', '--db', url, '--table', 'a.b.c'], { cwd: dir });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--table: expected name or schema.name');
  });
});

describe('Ecto', () => {
  async function ectoProject() {
    const dir = scratchCopy('ecto');
    const { url } = await freshDatabase('ecto');
    const folder = path.join(dir, 'priv', 'repo', 'migrations');
    const states = async () => (await diagnoseFolder({ tool: 'ecto', dir: folder }, url)).diagnosis.entries.map((e) => [e.name, e.state]);
    return { dir, url, folder, states };
  }

  it('mix ecto.migrate applies pending versions with their rows; ecto.migrations shows up/down and phantoms', async () => {
    const p = await ectoProject();
    expect(await p.states()).toEqual([['20240101000000_create_users', 'pending'], ['20240102000000_create_posts', 'pending']]);
    const m = await standin('mix', ['ecto.migrate'], p.dir, p.url);
    expect(m.exitCode, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/\[info\] == Running 20240101000000 Shop\.Repo\.Migrations\.CreateUsers\.change\/0 forward/);
    expect(m.stdout).toMatch(/\[info\] == Migrated 20240102000000 in \d+\.\ds/);
    const rows = (await sql(p.url, 'SELECT version::text, inserted_at IS NOT NULL AS at FROM schema_migrations ORDER BY version')).rows;
    expect(rows).toEqual([{ version: '20240101000000', at: true }, { version: '20240102000000', at: true }]);
    await sql(p.url, "INSERT INTO schema_migrations VALUES (20231231000000, now())");
    const status = await standin('mix', ['ecto.migrations'], p.dir, p.url);
    expect(status.stdout).toContain('Repo: Shop.Repo');
    expect(status.stdout).toContain('  up        20231231000000  ** FILE NOT FOUND **');
    expect(status.stdout).toContain('  up        20240101000000  create_users');
    expect(await p.states()).toEqual([['20240101000000_create_users', 'applied'], ['20240102000000_create_posts', 'applied'], ['20231231000000', 'phantom']]);
  });

  it('tables created by hand with one row in schema_migrations: an untracked schema; marking applied lets migrate run the rest', async () => {
    const p = await ectoProject();
    await sql(p.url, 'CREATE TABLE schema_migrations ("version" bigint, "inserted_at" timestamp(0), PRIMARY KEY ("version")); INSERT INTO schema_migrations VALUES (20230531000000, now())');
    await sql(p.url, readFileSync(path.join(p.folder, '20240101000000_create_users.sql'), 'utf8'));
    const fails = await standin('mix', ['ecto.migrate'], p.dir, p.url);
    expect(fails.exitCode).toBe(1);
    expect(fails.stderr).toContain('** (Postgrex.Error) ERROR 42P07 (duplicate_table) relation "users" already exists');
    const d = await diagnoseFolder({ tool: 'ecto', dir: p.folder }, p.url);
    expect(d.diagnosis.database).toBe('untracked-schema');
    expect(d.verdict.runbooks).toEqual(['ecto-untracked-schema']);
    const at = locate('ecto', p.folder, p.url);
    const written = await withClient(p.url, (c) => writeTracking(c, at, 'mark-applied', ['20240101000000']));
    expect(written).toEqual(['20240101000000 (20240101000000_create_users): (version, inserted_at)']);
    expect((await standin('mix', ['ecto.migrate'], p.dir, p.url)).exitCode).toBe(0);
    expect(await p.states()).toEqual([['20240101000000_create_users', 'applied'], ['20240102000000_create_posts', 'applied'], ['20230531000000', 'phantom']]);
  });
});

describe('Ecto file names, by Ecto.Migrator\'s own rule (Integer.parse of the root name, then "_")', () => {
  it('names with spaces, capitals, dots or leading zeros are migrations identified by their integer version', async () => {
    const dir = scratchCopy('ecto');
    const folder = path.join(dir, 'priv', 'repo', 'migrations');
    const exs = (mod: string, table: string) => `defmodule Shop.Repo.Migrations.${mod} do\n  use Ecto.Migration\n  def change do\n    create table(:${table}) do\n    end\n  end\nend\n`;
    writeFileSync(path.join(folder, '20240103000000_Add Tags.exs'), exs('AddTags', 'tags'));
    writeFileSync(path.join(folder, '20240104000000_AddIndex.v2.exs'), exs('AddIndex', 'idx'));
    mkdirSync(path.join(folder, 'nested'));
    writeFileSync(path.join(folder, 'nested', '0020240105000000_nested_one.exs'), exs('Nested', 'nested'));
    // Not migrations for Ecto: no "_" after the digits, a .ex file (Ecto warns), a hidden file.
    writeFileSync(path.join(folder, '20240106000000-dash.exs'), exs('Dash', 'dash'));
    writeFileSync(path.join(folder, '20240107000000_compiled.ex'), exs('Compiled', 'compiled'));
    writeFileSync(path.join(folder, '.20240108000000_hidden.exs'), exs('Hidden', 'hidden'));
    const { url } = await freshDatabase('ecto');
    // What Ecto writes after migrating them: the integer version, nothing else.
    await sql(url, `CREATE TABLE schema_migrations ("version" bigint, "inserted_at" timestamp(0), PRIMARY KEY ("version"));
      INSERT INTO schema_migrations VALUES (20240101000000, now()), (20240102000000, now()), (20240103000000, now()), (20240104000000, now()), (20240105000000, now())`);
    const d = await diagnoseFolder({ tool: 'ecto', dir: folder }, url);
    expect(d.diagnosis.entries.map((e) => [e.name, e.state])).toEqual([
      ['20240101000000_create_users', 'applied'],
      ['20240102000000_create_posts', 'applied'],
      ['20240103000000_Add Tags', 'applied'],
      ['20240104000000_AddIndex.v2', 'applied'],
      ['0020240105000000_nested_one', 'applied'],
    ]);
    expect(d.diagnosis.warnings).toEqual(['20240107000000_compiled.ex looks like a migration but ends in .ex: Ecto ignores it']);
    expect(d.verdict.line).toBe('in sync: 5 migration(s) applied, nothing pending');
    const cli = await drillbook(['diagnose', '--db', url], { cwd: dir });
    expect(cli.exitCode, cli.stdout + cli.stderr).toBe(0);
    expect(cli.stdout).not.toContain('phantom');
  });

  it('versions compare as integers: a 15-digit version is newer than a 14-digit one; duplicates stop only pending runs', async () => {
    const dir = scratchCopy('ecto');
    const folder = path.join(dir, 'priv', 'repo', 'migrations');
    writeFileSync(path.join(folder, '9000000000000_old_style.exs'), '');
    writeFileSync(path.join(folder, '100000000000000_far.exs'), '');
    writeFileSync(path.join(folder, '100000000000000_twin.exs'), '');
    const { url } = await freshDatabase('ecto');
    await sql(url, `CREATE TABLE schema_migrations ("version" bigint, "inserted_at" timestamp(0), PRIMARY KEY ("version"));
      INSERT INTO schema_migrations VALUES (20240101000000, now()), (20240102000000, now())`);
    const d = await diagnoseFolder({ tool: 'ecto', dir: folder }, url);
    expect(d.diagnosis.entries.map((e) => [e.name, e.state])).toEqual([
      ['9000000000000_old_style', 'pending'],
      ['20240101000000_create_users', 'applied'],
      ['20240102000000_create_posts', 'applied'],
      ['100000000000000_far', 'pending'],
      ['100000000000000_twin', 'pending'],
    ]);
    expect(d.diagnosis.entries[0]!.evidence).toContain('older than the newest applied version 20240102000000');
    expect(d.diagnosis.entries[3]!.evidence).not.toContain('older');
    expect(d.diagnosis.warnings).toEqual(['mix ecto.migrate refuses to run: "migrations can\'t be executed, migration version 100000000000000 is duplicated"']);
  });
});

describe('Drizzle 1.0 (folders, name-tracked rows)', () => {
  it('tracks by name: applied, pending, modified and phantom; mark-applied writes the name', async () => {
    const { mkdirSync, mkdtempSync } = await import('node:fs');
    const os = await import('node:os');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drillbook-drizzle1-'));
    const folder = path.join(dir, 'drizzle');
    const migrations: Array<[string, string]> = [
      ['20250101120000_init', 'CREATE TABLE "users" ("id" serial PRIMARY KEY NOT NULL);'],
      ['20250102120000_posts', 'CREATE TABLE "posts" ("id" serial PRIMARY KEY NOT NULL);'],
      ['20250103120000_tags', 'CREATE TABLE "tags" ("id" serial PRIMARY KEY NOT NULL);'],
    ];
    for (const [name, body] of migrations) {
      mkdirSync(path.join(folder, name), { recursive: true });
      writeFileSync(path.join(folder, name, 'migration.sql'), body);
      writeFileSync(path.join(folder, name, 'snapshot.json'), '{}');
    }
    const { url } = await freshDatabase('drizzle1');
    const hash = (s: string) => createHash('sha256').update(s).digest('hex');
    await sql(url, `CREATE SCHEMA drizzle; CREATE TABLE drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint, name text, applied_at timestamptz DEFAULT now());
      INSERT INTO drizzle.__drizzle_migrations (hash, created_at, name) VALUES
        ('${hash(migrations[0]![1])}', ${Date.UTC(2025, 0, 1, 12)}, '20250101120000_init'),
        ('${'d'.repeat(64)}', ${Date.UTC(2025, 0, 2, 12)}, '20250102120000_posts'),
        ('${'e'.repeat(64)}', ${Date.UTC(2024, 11, 1)}, '20241201000000_gone')`);
    const d = await diagnoseFolder({ tool: 'drizzle', dir: folder }, url);
    expect(d.diagnosis.entries.map((e) => [e.name, e.state])).toEqual([
      ['20250101120000_init', 'applied'],
      ['20250102120000_posts', 'modified'],
      ['20250103120000_tags', 'pending'],
      ['20241201000000_gone', 'phantom'],
    ]);
    const at = locate('drizzle', folder, url);
    expect(at.nameTracked).toBe(true);
    await withClient(url, (c) => writeTracking(c, at, 'mark-applied', ['20250103120000_tags']));
    const row = (await sql(url, "SELECT hash, created_at::text AS created_at FROM drizzle.__drizzle_migrations WHERE name = '20250103120000_tags'")).rows[0];
    expect(row).toEqual({ hash: hash(migrations[2]![1]), created_at: String(Date.UTC(2025, 0, 3, 12)) });
    const { rmSync } = await import('node:fs');
    rmSync(dir, { recursive: true, force: true });
  });
});
