/**
 * The shipped runbooks, one per incident report: each rehearsal really starts in the incident's
 * broken state (its symptom reproduces), `drillbook diagnose` names the runbook, and running the
 * runbook against that state really fixes it (the symptom is gone).
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { loadRunbookOrThrow } from '../../src/adapters/runbook-files.js';
import { seedRehearsal, type Seeded } from '../../src/app/drill.js';
import { installedPostgres } from '../../src/adapters/drill-db.js';
import { findPrismaEngine } from '../../src/drill/tools.js';
import { drillbook, ROOT } from '../helpers/cli.js';
import { sql } from '../helpers/pg.js';

type Probe = (s: Seeded) => Promise<void>;

const ENGINE = !('reason' in findPrismaEngine(path.join(ROOT, 'node_modules', 'prisma'), [ROOT]));
const HAS_PG15 = installedPostgres().some((b) => b.major === 15);
const CLIENT_15 = (() => {
  try {
    return /\b15\./.test(execFileSync('pg_dump', ['--version'], { encoding: 'utf8' })) && /\b15\./.test(execFileSync('psql', ['--version'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
})();

async function sh(s: Seeded, command: string) {
  const r = await execa('bash', ['-c', command], { cwd: s.workdir, env: s.env, reject: false, stdin: 'ignore' });
  return { out: `${String(r.stdout)}\n${String(r.stderr)}`, exitCode: r.exitCode };
}

async function drizzleMigrate(url: string, folder: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await migrate(drizzle(c), { migrationsFolder: folder });
    return 'ok';
  } catch (e) {
    const err = e as { cause?: { code?: string }; code?: string };
    return err.cause?.code ?? err.code ?? 'error';
  } finally {
    await c.end();
  }
}

const API_INSERT = "INSERT INTO analytics_events (visitor_id, metadata, event_type, inserted_at) VALUES ('v-1', '{}', 'page_view', now())";

const CASES: Array<{ id: string; diagnoseNames: string; broken: Probe; fixed: Probe }> = [
  {
    id: 'ecto-untracked-schema',
    diagnoseNames: 'ecto-untracked-schema',
    broken: async (s) => {
      await expect(sql(s.urls.prod!, API_INSERT)).rejects.toThrow(/column "visitor_id" of relation "analytics_events" does not exist/);
      expect((await sh(s, 'mix ecto.migrate')).out).toContain('ERROR 42P07 (duplicate_table) relation "customers" already exists');
    },
    fixed: async (s) => {
      await sql(s.urls.prod!, API_INSERT);
      expect((await sh(s, 'mix ecto.migrate')).out).toContain('Migrations already up');
    },
  },
  {
    id: 'prisma-phantom-failed-pending',
    diagnoseNames: 'prisma-phantom-failed-pending',
    broken: async (s) => {
      const r = await sh(s, 'npx prisma migrate deploy');
      expect(r.out).toContain('Error: P3009');
      expect(r.exitCode).toBe(1);
    },
    fixed: async (s) => {
      expect((await sh(s, 'npx prisma migrate deploy')).out).toContain('No pending migrations to apply.');
      expect((await sql(s.urls.prod!, 'SELECT count(*)::int AS n FROM landing_page_content')).rows[0].n).toBe(5);
    },
  },
  {
    id: 'prisma-deploy-before-code',
    diagnoseNames: 'prisma-deploy-before-code',
    broken: async (s) => {
      await expect(sql(s.urls.prod!, 'SELECT count(*) FROM log_entries')).rejects.toThrow(/relation "log_entries" does not exist/);
      expect((await sh(s, 'npx prisma migrate status')).out).toContain('have not yet been applied');
    },
    fixed: async (s) => {
      await sql(s.urls.prod!, 'SELECT count(*) FROM log_entries');
      expect((await sh(s, 'npx prisma migrate status')).out).toContain('Database schema is up to date!');
    },
  },
  {
    id: 'prisma-history-mismatch',
    diagnoseNames: 'prisma-history-mismatch',
    broken: async (s) => {
      expect((await sh(s, 'npx prisma migrate status')).out).toContain('Your local migration history and the migrations table from your database are different');
    },
    fixed: async (s) => {
      expect((await sh(s, 'npx prisma migrate status')).out).toContain('Database schema is up to date!');
    },
  },
  {
    id: 'drizzle-untracked-push',
    diagnoseNames: 'drizzle-untracked-push',
    broken: async (s) => {
      expect(await drizzleMigrate(s.urls.prod!, path.join(s.workdir, 'drizzle'))).toBe('42P07');
    },
    fixed: async (s) => {
      expect(await drizzleMigrate(s.urls.prod!, path.join(s.workdir, 'drizzle'))).toBe('ok');
    },
  },
  {
    id: 'postgres-invalid-index',
    diagnoseNames: 'postgres-invalid-index',
    broken: async (s) => {
      expect((await sql(s.urls.prod!, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_key'::regclass")).rows[0].indisvalid).toBe(false);
      expect((await sh(s, 'npx prisma migrate deploy')).out).toContain('Error: P3009');
    },
    fixed: async (s) => {
      expect((await sh(s, 'npx prisma migrate deploy')).out).toContain('No pending migrations to apply.');
      expect((await sql(s.urls.prod!, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_key'::regclass")).rows[0].indisvalid).toBe(true);
      await expect(sql(s.urls.prod!, "INSERT INTO users (email, name) VALUES ('ada@example.com', 'Ada, a third time')")).rejects.toThrow(/duplicate key value violates unique constraint "users_email_key"/);
    },
  },
  {
    id: 'prisma-failed-migration',
    diagnoseNames: 'prisma-failed-migration',
    broken: async (s) => {
      expect((await sh(s, 'npx prisma migrate deploy')).out).toContain('Error: P3009');
    },
    fixed: async (s) => {
      expect((await sh(s, 'npx prisma migrate deploy')).out).toContain('No pending migrations to apply.');
    },
  },
];

describe.each(CASES)('runbook $id', ({ id, diagnoseNames, broken, fixed }) => {
  it('starts broken, is named by diagnose, and ends fixed when the runbook runs', async () => {
    const loaded = loadRunbookOrThrow(path.join(ROOT, 'runbooks', `${id}.yaml`));
    const s = await seedRehearsal(loaded, undefined);
    try {
      await broken(s);
      const diag = await drillbook(['diagnose'], { cwd: s.workdir, env: { DATABASE_URL: s.urls.prod } });
      expect(diag.exitCode, diag.stdout + diag.stderr).toBe(1);
      expect(diag.stdout).toContain(`drillbook run ${diagnoseNames}`);
      const vars = Object.entries(s.values).flatMap(([k, v]) => ['--var', `${k}=${v}`]);
      const run = await drillbook(['run', path.join(ROOT, 'runbooks', `${id}.yaml`), '--auto', '--confirm-target', 'prod', ...vars], { cwd: s.workdir, env: { ...s.env, CI: 'true' } });
      expect(run.exitCode, run.stdout.slice(-3000) + run.stderr).toBe(0);
      await fixed(s);
    } finally {
      await s.cleanup();
    }
  }, 90_000);
});

describe('every shipped runbook as a drill', () => {
  it('drillbook validate runbooks/ is clean, and drill --all --auto --tools stand-in passes for each runbook and variant', async () => {
    const v = await drillbook(['validate', 'runbooks/']);
    expect(v.stdout).toMatch(/^7 runbooks checked: 7 valid, 0 invalid$/m);
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'drillbook-all-'));
    const r = await drillbook(['drill', '--all', '--auto', '--tools', 'stand-in'], { env: { CI: 'true' }, cwd });
    rmSync(cwd, { recursive: true, force: true });
    expect(r.exitCode, r.stdout.slice(-4000)).toBe(0);
    expect(r.stdout).toContain('every drill passed');
    expect(r.stdout.match(/\| completed \| yes /g)).toHaveLength(12);
    expect(r.stdout).not.toMatch(/drill: tools: .*\(real\)/);
  }, 300_000);

  it('drill --all --auto --rollback: every shipped rollback, rehearsed after its last destructive step, brings the state back', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'drillbook-all-rollback-'));
    const r = await drillbook(['drill', '--all', '--auto', '--rollback'], { env: { CI: 'true' }, cwd });
    rmSync(cwd, { recursive: true, force: true });
    expect(r.exitCode, r.stdout.slice(-4000)).toBe(0);
    expect(r.stdout).toContain('every drill passed');
    expect(r.stdout).toMatch(/RUNBOOK +\| VARIANT +\| OUTCOME +\| RESTORED/);
    expect(r.stdout.match(/\| rolled-back \| yes(, as declared)? /g)).toHaveLength(12);
    // The INVALID-index runbook declares the one thing its rollback cannot bring back.
    expect(r.stdout).toMatch(/postgres-invalid-index +\| - +\| rolled-back \| yes, as declared /);
  }, 300_000);

  it.skipIf(!ENGINE || !HAS_PG15 || !CLIENT_15)('every Prisma and Drizzle runbook and variant drills clean with --tools real (prisma 7.10.1, drizzle-kit 0.31.11, PostgreSQL 15 client tools on a PostgreSQL 15 drill server)', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'drillbook-real-'));
    mkdirSync(path.join(tmp, 'rb'));
    for (const f of readdirSync(path.join(ROOT, 'runbooks')).filter((x) => /^(prisma|drizzle|postgres)-.*\.yaml$/.test(x))) symlinkSync(path.join(ROOT, 'runbooks', f), path.join(tmp, 'rb', f));
    symlinkSync(path.join(ROOT, 'runbooks', 'fixtures'), path.join(tmp, 'rb', 'fixtures'));
    // From the repository, where npx finds its devDependencies: drillbook's own node_modules.
    const r = await drillbook(['drill', '--all', '--auto', '--tools', 'real', '--pg-version', '15', '--dir', path.join(tmp, 'rb'), '--transcript-dir', path.join(tmp, 'transcripts')], { env: { CI: 'true' } });
    rmSync(tmp, { recursive: true, force: true });
    expect(r.exitCode, r.stdout.slice(-4000)).toBe(0);
    expect(r.stdout.match(/\| completed \| yes /g)).toHaveLength(10);
    expect(r.stdout).not.toContain('drillbook stand-in for');
    expect(r.stdout.match(/drill: tools: prisma 7\.10\.1 \(real\), (psql 15\.\d+ \(real\), )?pg_dump 15\.\d+ \(real\)/g)?.length).toBeGreaterThanOrEqual(8);
    expect(r.stdout).toMatch(/drill: tools: drizzle-kit 0\.31\.11 \(real\), psql 15\.\d+ \(real\), pg_dump 15\.\d+ \(real\)/);
  }, 600_000);
});
