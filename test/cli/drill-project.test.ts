/**
 * drill --project and --from-dump through the bundled CLI, real processes, the suite's real
 * PostgreSQL: every shipped runbook of the tool drills clean on a realistic project (not the
 * fixtures), its transcript names the project's migrations, and the project folder is byte for
 * byte what it was; a dump of production seeds the drill instead of the migrations; and what
 * cannot work (no project, a migration that fails, a file that is no dump) says why, touching nothing.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import { appendFileSync, cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installedPostgres, startDrillDatabase } from '../../src/adapters/drill-db.js';
import { drillbook, ROOT } from '../helpers/cli.js';
import { freshDatabase } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';

const PROJECTS = path.join(ROOT, 'test', 'fixtures', 'projects');
const PRISMA = path.join(PROJECTS, 'prisma-shop');
const DRIZZLE = path.join(PROJECTS, 'drizzle-pulse');
const NO_STACK = /\n\s+at [\w.<]+ \(|node:internal|unexpected error/;
const HAS_PG15 = installedPostgres().some((b) => b.major === 15);
const CLIENT_15 = (() => {
  try {
    return /\b15\./.test(execFileSync('pg_dump', ['--version'], { encoding: 'utf8' })) && /\b15\./.test(execFileSync('pg_restore', ['--version'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
})();

const tmp = (): string => tempDir('project-drill');

/** Every file, folder and link under `dir`: path, kind, mode and content. */
function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      const rel = path.relative(dir, p);
      if (st.isSymbolicLink()) h.update(`L ${rel} ${readlinkSync(p)}\n`);
      else if (st.isDirectory()) {
        h.update(`D ${rel} ${st.mode}\n`);
        walk(p);
      } else h.update(`F ${rel} ${st.mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}\n`);
    }
  };
  walk(dir);
  return h.digest('hex');
}

type Event = { type: string; [k: string]: unknown };
function transcripts(dir: string): Array<{ file: string; events: Event[] }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .map((f) => ({ file: f, events: readFileSync(path.join(dir, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Event) }));
}

const PRISMA_MIGRATIONS = readdirSync(path.join(PRISMA, 'prisma', 'migrations')).filter((f) => !f.endsWith('.toml')).sort();
const DRIZZLE_MIGRATIONS = (JSON.parse(readFileSync(path.join(DRIZZLE, 'drizzle', 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> }).entries.map((e) => e.tag);

describe('drill --project on realistic projects', () => {
  it('every shipped Prisma runbook (and variant) drills clean on a Prisma 7 project of its own: the transcripts name its migrations, the project is unchanged', async () => {
    const before = treeHash(PRISMA);
    const out = tmp();
    const r = await drillbook(['drill', '--all', '--auto', '--project', PRISMA, '--transcript-dir', out], { env: { CI: 'true' }, timeout: 540_000 });
    expect(r.exitCode, r.stdout.slice(-4000) + r.stderr).toBe(0);
    expect(r.stdout).toContain('every drill passed');
    // 5 Prisma runbooks, 3 of them with a variant that changes the incident; Drizzle and Ecto are not this project's.
    expect(r.stdout.match(/\| completed +\| yes +\|/g)).toHaveLength(8);
    expect(r.stdout).toMatch(/drizzle-untracked-push +\| - +\| skipped: a drizzle incident \(the project uses prisma\)/);
    expect(r.stdout).toMatch(/ecto-untracked-schema +\| - +\| skipped: an? ecto incident/);
    expect(r.stdout).toContain(`drill: project ${PRISMA} (prisma, prisma.config.ts): 7 migrations in prisma/migrations`);
    expect(r.stdout).toContain('drill: the project is never written: the drill works in a scratch copy');
    expect(r.stdout).toContain('drill: commented out in the project\'s copy (they could reach a real database): .env: DATABASE_URL, .env: SHADOW_DATABASE_URL');
    expect(r.stdout).not.toMatch(NO_STACK);

    const ts = transcripts(out);
    expect(ts).toHaveLength(8);
    const byRunbook = new Map<string, Event[][]>();
    for (const t of ts) {
      const started = t.events.find((e) => e.type === 'run.started') as Event & { runbook: { id: string }; inputs: Record<string, string> };
      byRunbook.set(started.runbook.id, [...(byRunbook.get(started.runbook.id) ?? []), t.events]);
      const project = t.events.find((e) => e.type === 'rehearsal.project') as Event & { migrations: string[]; facts: Record<string, string>; staged: string[] };
      expect(project).toMatchObject({ project: PRISMA, fixture: false, tool: 'prisma', migrationsDir: 'prisma/migrations', from: 'migrations' });
      expect(project.migrations).toEqual(PRISMA_MIGRATIONS);
      expect(project.staged[0]).toMatch(/^applied with prisma migrate deploy \(prisma 7\.10\.1\): /);
      // What was staged is named by the project's own migrations.
      for (const fact of ['failed', 'pending', 'first_pending', 'deploy', 'applied', 'last_applied'] as const) {
        for (const name of project.facts[fact]?.split(',') ?? []) expect(PRISMA_MIGRATIONS).toContain(name);
      }
      expect(Object.keys(project.facts).length).toBeGreaterThan(2);
      const checks = t.events.filter((e) => e.type === 'rehearsal.check');
      expect(checks.length).toBeGreaterThan(0);
      expect(checks.every((c) => c.pass === true), JSON.stringify(checks)).toBe(true);
      expect(t.events.find((e) => e.type === 'run.finished')).toMatchObject({ outcome: 'completed' });
    }
    const failed = byRunbook.get('prisma-failed-migration')![0]!;
    expect((failed.find((e) => e.type === 'run.started') as unknown as { inputs: Record<string, string> }).inputs.failed_migration).toBe('20250429154418_coupons');
    expect(JSON.stringify(failed.find((e) => e.type === 'check.result'))).toContain('20250429154418_coupons');
    const index = byRunbook.get('postgres-invalid-index')![0]!;
    expect((index.find((e) => e.type === 'run.started') as unknown as { inputs: Record<string, string> }).inputs).toMatchObject({ failed_migration: '20250415101533_product_sku_unique', index: 'Product_sku_key', table: 'Product', column: 'sku', key: 'id' });
    const deploy = byRunbook.get('prisma-deploy-before-code')!.map((ev) => (ev.find((e) => e.type === 'run.started') as unknown as { inputs: Record<string, string> }).inputs.new_migrations).sort();
    expect(deploy).toEqual(['20250415101533_product_sku_unique,20250429154418_coupons', '20250429154418_coupons']);
    // The fixture-only checks were not run, and the drill said which.
    const skipped = (failed.find((e) => e.type === 'rehearsal.project') as unknown as { skippedChecks: string[] }).skippedChecks;
    expect(skipped).toEqual(['index']);
    expect(failed.some((e) => e.type === 'rehearsal.check' && e.id === 'index')).toBe(false);
    // The debrief, in the report, names the project.
    const report = readFileSync(path.join(out, readdirSync(out).find((f) => f.endsWith('prisma-failed-migration.md'))!), 'utf8');
    expect(report).toContain(`Project: ${PRISMA} (prisma, 7 migrations in prisma/migrations)`);
    expect(report).toMatch(/Incident staged: applied with prisma migrate deploy .*failed during prisma migrate deploy: 20250429154418\\?_coupons/);

    expect(treeHash(PRISMA)).toBe(before);
  }, 600_000);

  it('the Drizzle runbook (and its variant) drills clean on a Drizzle project of its own, drizzle-kit applying its migrations; the project is unchanged', async () => {
    const before = treeHash(DRIZZLE);
    const out = tmp();
    const r = await drillbook(['drill', '--all', '--auto', '--project', DRIZZLE, '--transcript-dir', out], { env: { CI: 'true' }, timeout: 300_000 });
    expect(r.exitCode, r.stdout.slice(-4000) + r.stderr).toBe(0);
    expect(r.stdout.match(/\| completed +\| yes +\|/g)).toHaveLength(2);
    expect(r.stdout).toContain('drill: tools: drizzle-kit 0.31.11 (real)');
    const ts = transcripts(out);
    expect(ts).toHaveLength(2);
    const last = (t: { events: Event[] }) => (t.events.find((e) => e.type === 'run.started') as unknown as { inputs: Record<string, string> }).inputs.last_pushed;
    expect(ts.map(last).sort()).toEqual(['0004_account_plan_and_last_seen', '0005_shocking_synch']);
    for (const t of ts) {
      const project = t.events.find((e) => e.type === 'rehearsal.project') as Event & { migrations: string[]; staged: string[] };
      expect(project.migrations).toEqual(DRIZZLE_MIGRATIONS);
      expect(project.staged.join('\n')).toMatch(/^applied with drizzle-kit migrate \(drizzle-kit 0\.31\.11\): \d migrations, 0000_init … 000\d_\w+\ntracking rows lost: \d row\(s\)/);
      expect(t.events.filter((e) => e.type === 'rehearsal.check').every((c) => c.pass === true)).toBe(true);
    }
    expect(treeHash(DRIZZLE)).toBe(before);
  }, 300_000);

  it('every rollback of the tool\'s runbooks, rehearsed on the project after its last destructive step, brings the state back', async () => {
    for (const [project, drills] of [[PRISMA, 8], [DRIZZLE, 2]] as const) {
      const r = await drillbook(['drill', '--all', '--auto', '--rollback', '--project', project, '--transcript-dir', tmp()], { env: { CI: 'true' }, timeout: 540_000 });
      expect(r.exitCode, r.stdout.slice(-4000) + r.stderr).toBe(0);
      expect(r.stdout.match(/\| rolled-back +\| yes(, as declared)? +\|/g)).toHaveLength(drills);
    }
  }, 600_000);

  it('with stand-ins only, a project rehearses too: the stand-in applies its migrations and stages the failure', async () => {
    const out = tmp();
    const r = await drillbook(['drill', 'prisma-phantom-failed-pending', '--auto', '--tools', 'stand-in', '--project', PRISMA, '--transcript-dir', out], { env: { CI: 'true' } });
    expect(r.exitCode, r.stdout.slice(-3000)).toBe(0);
    expect(r.stdout).toContain('drill: incident staged: applied with prisma migrate deploy (prisma stand-in): 5 migrations, 20250212093041_init … 20250402082210_order_shipping_address');
    expect(r.stdout).toMatch(/failed during prisma migrate deploy: 20250429154418_coupons \(canceling statement due to lock timeout( \(55P03\))?; recorded by the tool/);
    expect(r.stdout).toContain('**Incident fixed: yes**');
  }, 120_000);
});

describe('drill --project: what cannot work says why and touches nothing', () => {
  it('a folder that is no project, another tool\'s project, a runbook without a recipe', async () => {
    const empty = tmp();
    writeFileSync(path.join(empty, 'notes.txt'), 'not a project\n');
    const before = treeHash(empty);
    const r = await drillbook(['drill', 'prisma-failed-migration', '--auto', '--project', empty], { cwd: tmp() });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`drillbook: no recognisable project in ${empty}: looked for prisma.config.ts (or prisma/schema.prisma), drizzle.config.ts (.js, .json, …), or mix.exs with priv/repo/migrations`);
    expect(r.stderr).toContain('hint: ');
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(treeHash(empty)).toBe(before);

    const other = await drillbook(['drill', 'drizzle-untracked-push', '--auto', '--project', PRISMA], { cwd: tmp() });
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toContain(`drillbook: ${PRISMA} is not a Drizzle project: found prisma (prisma.config.ts)`);

    const rb = path.join(tmp(), 'setup-only.yaml');
    writeFileSync(rb, 'id: setup-only\ntitle: S\nversion: 1\ndatabases:\n  prod: {url: {env: DATABASE_URL}, environment: production, default: true}\nphases:\n  - {id: p, title: P, kind: verify, steps: [{id: c, title: C, check: SELECT 1}]}\nrehearsal:\n  setup: [{sql: SELECT 1}]\n');
    const setup = await drillbook(['drill', rb, '--auto', '--project', PRISMA], { cwd: tmp() });
    expect(setup.exitCode).toBe(2);
    expect(setup.stderr).toContain('builds its incident from setup SQL, not from a project\'s migrations: --project needs a runbook with rehearsal.incident');
  });

  it('a project that cannot hold the incident is said before anything starts', async () => {
    const small = tmp();
    cpSync(DRIZZLE, small, { recursive: true });
    const journal = path.join(small, 'drizzle', 'meta', '_journal.json');
    const j = JSON.parse(readFileSync(journal, 'utf8')) as { entries: unknown[] };
    writeFileSync(journal, JSON.stringify({ ...j, entries: j.entries.slice(0, 1) }));
    const r = await drillbook(['drill', 'drizzle-untracked-push', '--auto', '--project', small, '--variant', 'one-not-pushed'], { cwd: tmp() });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`drillbook: drizzle-untracked-push cannot be staged on ${small}: this incident needs at least 2 migrations (1 not applied and at least one applied before them); ${small} has 1`);
    const shop = await drillbook(['drill', 'ecto-untracked-schema', '--auto', '--project', PRISMA], { cwd: tmp() });
    expect(shop.exitCode).toBe(2);
  });

  it('a migration that fails to apply is named with its SQL error, Prisma and Drizzle alike (drizzle-kit prints only its spinner), the project unchanged', async () => {
    const shop = tmp();
    cpSync(PRISMA, shop, { recursive: true });
    const broken = path.join(shop, 'prisma', 'migrations', '20250304110927_product_inventory', 'migration.sql');
    writeFileSync(broken, readFileSync(broken, 'utf8').replace('ADD COLUMN     "stock"', 'ADD COLUMN "stock" INTEGER, ADD COLUMN     "stock"'));
    const before = treeHash(shop);
    const r = await drillbook(['drill', 'prisma-failed-migration', '--auto', '--project', shop, '--transcript-dir', tmp()], { env: { CI: 'true' } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`drillbook: applying the project's migrations: prisma migrate deploy (prisma 7.10.1) failed on ${shop}'s migration 20250304110927_product_inventory: column "stock" of relation "Product" already exists (42701)`);
    expect(r.stderr).toMatch(/hint: fix the migration \(the project itself is untouched/);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(treeHash(shop)).toBe(before);

    const pulse = tmp();
    cpSync(DRIZZLE, pulse, { recursive: true });
    // The project's own dependencies, as an installed project has them (its config imports dotenv).
    mkdirSync(path.join(pulse, 'node_modules'));
    symlinkSync(path.join(ROOT, 'node_modules', 'dotenv'), path.join(pulse, 'node_modules', 'dotenv'));
    const bad = path.join(pulse, 'drizzle', '0002_pageviews.sql');
    writeFileSync(bad, readFileSync(bad, 'utf8').replace('REFERENCES "public"."sites"("id")', 'REFERENCES "public"."site"("id")'));
    const pulseBefore = treeHash(pulse);
    const d = await drillbook(['drill', 'drizzle-untracked-push', '--auto', '--project', pulse, '--transcript-dir', tmp()], { env: { CI: 'true' } });
    expect(d.exitCode).toBe(1);
    expect(d.stderr).toContain(`drillbook: applying the project's migrations: drizzle-kit migrate (drizzle-kit 0.31.11) failed on ${pulse}'s migration 0002_pageviews: relation "public.site" does not exist (42P01)`);
    expect(d.stderr).toContain('applying migrations...');
    expect(d.stderr).not.toMatch(NO_STACK);
    expect(treeHash(pulse)).toBe(pulseBefore);
  }, 180_000);
});

/** The project's first `keep` migrations applied to a new database of the suite's server, with the stand-in prisma. */
async function productionLike(keep: number): Promise<string> {
  const { url } = await freshDatabase('prod');
  const copy = tmp();
  cpSync(PRISMA, copy, { recursive: true });
  for (const m of PRISMA_MIGRATIONS.slice(keep)) rmSync(path.join(copy, 'prisma', 'migrations', m), { recursive: true });
  const r = await execa(process.execPath, [path.join(ROOT, 'dist', 'standin.js'), 'prisma', 'migrate', 'deploy'], { cwd: copy, env: { DATABASE_URL: url, PATH: process.env.PATH }, reject: false });
  expect(r.exitCode, String(r.stderr)).toBe(0);
  return url;
}

async function standinDump(url: string, args: string[], file: string): Promise<void> {
  const r = await execa(process.execPath, [path.join(ROOT, 'dist', 'standin.js'), 'pg_dump', ...args, `--file=${file}`, url], { reject: false, env: { PATH: process.env.PATH } });
  expect(r.exitCode, String(r.stderr)).toBe(0);
}

describe('drill --from-dump', () => {
  it('a schema-only dump of production seeds the drill (plain through psql, the stand-in archive through the stand-in pg_restore), the tracking rows it lacks written as deploy writes them', async () => {
    const url = await productionLike(6);
    const dir = tmp();
    const plain = path.join(dir, 'schema.sql');
    await standinDump(url, ['--schema-only'], plain);
    const withRows = path.join(dir, 'schema-and-history.sql');
    await standinDump(url, ['--data-only', '--table=_prisma_migrations'], path.join(dir, 'rows.sql'));
    writeFileSync(withRows, readFileSync(plain, 'utf8'));
    appendFileSync(withRows, readFileSync(path.join(dir, 'rows.sql'), 'utf8'));
    const archive = path.join(dir, 'schema.dump');
    await standinDump(url, ['--schema-only', '--format=custom'], archive);

    for (const [file, seeded] of [
      [plain, /seeded from schema\.sql \(plain dump\) with psql/],
      [withRows, /seeded from schema-and-history\.sql \(plain dump\) with psql/],
      [archive, /seeded from schema\.dump \(stand-in archive dump\) with pg_restore stand-in/],
    ] as const) {
      const out = tmp();
      const r = await drillbook(['drill', 'prisma-deploy-before-code', '--auto', '--project', PRISMA, '--from-dump', file, '--transcript-dir', out], { env: { CI: 'true' } });
      expect(r.exitCode, r.stdout.slice(-3000) + r.stderr).toBe(0);
      expect(r.stdout).toMatch(seeded);
      expect(r.stdout).toContain('**Incident fixed: yes**');
      const project = transcripts(out)[0]!.events.find((e) => e.type === 'rehearsal.project') as Event & { staged: string[]; from: string; dump: string };
      expect(project).toMatchObject({ from: 'dump', dump: file });
      if (file === withRows) expect(project.staged).toContain("recorded as applied in the dump's public._prisma_migrations: 6 migrations, 20250212093041_init … 20250415101533_product_sku_unique");
      else expect(project.staged).toContain('recorded as applied, as prisma migrate deploy records them: 20250212093041_init, 20250219141502_orders, 20250304110927_product_inventory, 20250318165233_reviews, 20250402082210_order_shipping_address, 20250415101533_product_sku_unique');
      expect(project.staged).toContain('never applied (pending): 20250429154418_coupons');
    }
  }, 240_000);

  it('a file that is no dump, and a dump that already holds what the incident leaves unapplied, are refused before the drill starts', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'notes.sql'), 'CREATE TABLE x (id int);\n');
    writeFileSync(path.join(dir, 'schema.sql.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));
    const r = await drillbook(['drill', 'prisma-deploy-before-code', '--auto', '--project', PRISMA, '--from-dump', path.join(dir, 'notes.sql')], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`drillbook: --from-dump: ${path.join(dir, 'notes.sql')} is not a dump made by pg_dump (a plain dump starts with "-- PostgreSQL database dump")`);
    expect(r.stderr).toMatch(/hint: make one with: pg_dump --schema-only/);
    const gz = await drillbook(['drill', 'prisma-deploy-before-code', '--auto', '--project', PRISMA, '--from-dump', path.join(dir, 'schema.sql.gz')], { cwd: dir });
    expect(gz.stderr).toContain('is compressed (gzip)');
    expect(readdirSync(dir).sort()).toEqual(['notes.sql', 'schema.sql.gz']);

    const url = await productionLike(7);
    await standinDump(url, ['--schema-only'], path.join(dir, 'full.sql'));
    const full = await drillbook(['drill', 'prisma-deploy-before-code', '--auto', '--project', PRISMA, '--from-dump', path.join(dir, 'full.sql'), '--transcript-dir', tmp()], { cwd: dir });
    expect(full.exitCode).toBe(2);
    expect(full.stderr).toContain('drillbook: the dump already has table Coupon, which 20250429154418_coupons creates, and this incident needs 20250429154418_coupons pending');
    expect(full.stderr).not.toMatch(NO_STACK);
  }, 120_000);

  it.skipIf(!HAS_PG15 || !CLIENT_15)('a custom-format archive of the real pg_dump 15 is restored by the real pg_restore', async () => {
    const pg15 = await startDrillDatabase({ major: 15 });
    try {
      await pg15.createDatabase('prod');
      const copy = tmp();
      cpSync(PRISMA, copy, { recursive: true });
      rmSync(path.join(copy, 'prisma', 'migrations', PRISMA_MIGRATIONS[6]!), { recursive: true });
      const deployed = await execa(process.execPath, [path.join(ROOT, 'dist', 'standin.js'), 'prisma', 'migrate', 'deploy'], { cwd: copy, env: { DATABASE_URL: pg15.url('prod'), PATH: process.env.PATH }, reject: false });
      expect(deployed.exitCode).toBe(0);
      const archive = path.join(tmp(), 'prod.dump');
      const u = new URL(pg15.url('prod'));
      execFileSync('pg_dump', ['--schema-only', '-Fc', '-f', archive], { env: { ...process.env, PGHOST: u.hostname, PGPORT: u.port, PGUSER: decodeURIComponent(u.username), PGPASSWORD: decodeURIComponent(u.password), PGDATABASE: 'prod' } });
      expect(readFileSync(archive).subarray(0, 5).toString()).toBe('PGDMP');
      const r = await drillbook(['drill', 'prisma-failed-migration', '--auto', '--project', PRISMA, '--from-dump', archive, '--transcript-dir', tmp()], { env: { CI: 'true' } });
      expect(r.exitCode, r.stdout.slice(-3000) + r.stderr).toBe(0);
      expect(r.stdout).toContain('seeded from prod.dump (custom dump) with pg_restore (real, from PATH)');
      expect(r.stdout).toContain('failed during prisma migrate deploy: 20250429154418_coupons');
    } finally {
      await pg15.stop();
    }
  }, 180_000);
});

/** A runbook of one recipe, rehearsed on `workdir` (absolute), that checks the state it staged. */
function recipeRunbook(tool: 'prisma' | 'drizzle', dir: string, workdir: string, incident: string, expectState: string): string {
  const file = path.join(tmp(), `${tool}-recipe.yaml`);
  writeFileSync(
    file,
    `id: ${tool}-recipe
title: One recipe
version: 1
inputs:
  which: {}
databases:
  prod: {url: {env: DATABASE_URL}, environment: production, default: true}
phases:
  - id: see
    title: See it
    kind: verify
    steps:
      - id: state
        title: The tool's state is the staged one
        migrations: {tool: ${tool}, dir: ${dir}, expect: ${expectState}}
rehearsal:
  workdir: ${workdir}
  incident: ${incident}
  success:
    - id: state
      title: Still the staged state
      migrations: {tool: ${tool}, dir: ${dir}, expect: ${expectState}}
`,
  );
  return file;
}

describe('recipes on a fixture and on a project alike', () => {
  it('edited: the last applied migration changed after it was applied, for Prisma and Drizzle, on a shipped fixture and on a realistic project', async () => {
    const cases = [
      { tool: 'prisma' as const, dir: 'prisma/migrations', fixture: path.join(ROOT, 'runbooks', 'fixtures', 'prisma-failed-migration', 'project'), project: PRISMA, last: ['20240103000000_add_post_index', '20250429154418_coupons'] },
      { tool: 'drizzle' as const, dir: 'drizzle', fixture: path.join(ROOT, 'runbooks', 'fixtures', 'drizzle-untracked-push', 'project'), project: DRIZZLE, last: ['0003_steady_audit_logs', '0005_shocking_synch'] },
    ];
    for (const c of cases) {
      const file = recipeRunbook(c.tool, c.dir, c.fixture, '{tool: ' + c.tool + ', edited: true, inputs: {which: edited}}', '{modified: 1, pending: 0, applied: ' + (c.tool === 'prisma' ? 3 : 4) + '}');
      const onFixture = await drillbook(['drill', file, '--auto', '--transcript-dir', tmp()], { env: { CI: 'true' } });
      expect(onFixture.exitCode, onFixture.stdout.slice(-2000) + onFixture.stderr).toBe(0);
      expect(onFixture.stdout).toContain(`drill: inputs from the staged incident: which=${c.last[0]}`);
      expect(onFixture.stdout).toContain(`edited after it was applied: ${c.last[0]} (in the scratch copy)`);
      const before = treeHash(c.project);
      const onProject = await drillbook(['drill', recipeRunbook(c.tool, c.dir, c.fixture, '{tool: ' + c.tool + ', edited: true, inputs: {which: edited}}', '{modified: 1, pending: 0}'), '--auto', '--project', c.project, '--transcript-dir', tmp()], { env: { CI: 'true' } });
      expect(onProject.exitCode, onProject.stdout.slice(-2000) + onProject.stderr).toBe(0);
      expect(onProject.stdout).toContain(`drill: inputs from the staged incident: which=${c.last[1]}`);
      expect(treeHash(c.project)).toBe(before);
    }
  }, 180_000);

  it('a data file that is not there is said, not a crash', async () => {
    const file = recipeRunbook('prisma', 'prisma/migrations', PRISMA, '{tool: prisma, pending: 1, data: [{file: nope.sql}], inputs: {which: pending}}', '{pending: 1}');
    const r = await drillbook(['drill', file, '--auto', '--transcript-dir', tmp()], { env: { CI: 'true' } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('drillbook: seeding the drill: cannot read nope.sql (no such file)');
    expect(r.stderr).not.toMatch(NO_STACK);
  }, 60_000);
});

