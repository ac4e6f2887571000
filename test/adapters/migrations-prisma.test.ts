import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diagnoseFolder } from '../../src/adapters/migrations/service.js';
import { prismaChecksum, prismaChecksumMatches } from '../../src/core/migrations/prisma.js';
import { drillbook } from '../helpers/cli.js';
import { freshDatabase, sql } from '../helpers/pg.js';
import { cleanupCopies, scratchCopy, standin } from '../helpers/project.js';

afterAll(cleanupCopies);

const MIGRATIONS = ['20240101000000_init', '20240102000000_add_posts', '20240103000000_add_post_index'];

async function project() {
  const dir = scratchCopy('prisma');
  const { url } = await freshDatabase('prisma');
  const migrations = path.join(dir, 'prisma', 'migrations');
  const states = async () => (await diagnoseFolder({ tool: 'prisma', dir: migrations }, url)).diagnosis.entries.map((e) => [e.name, e.state]);
  return { dir, url, migrations, states };
}

describe('Prisma checksums', () => {
  it('match the engine test vector (sha256 of "hello")', () => {
    expect(prismaChecksum('hello')).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  });

  it('tolerate CRLF against LF and LF against CRLF, and nothing else', () => {
    const lf = 'CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n';
    const crlf = lf.replace(/\n/g, '\r\n');
    expect(prismaChecksumMatches(crlf, prismaChecksum(lf))).toBe(true);
    expect(prismaChecksumMatches(lf, prismaChecksum(crlf))).toBe(true);
    expect(prismaChecksumMatches(`${lf} `, prismaChecksum(lf))).toBe(false);
  });
});

describe('Prisma migration state against a real PostgreSQL', () => {
  it('an empty database: everything pending; the stand-in deploy applies all, then it is in sync', async () => {
    const p = await project();
    expect(await p.states()).toEqual(MIGRATIONS.map((m) => [m, 'pending']));
    const d = await standin('prisma', ['migrate', 'deploy'], p.dir, p.url);
    expect(d.exitCode, d.stderr).toBe(0);
    expect(d.stderr.split('\n')[0]).toMatch(/^drillbook stand-in for prisma/);
    expect(d.stdout).toContain('3 migrations found in prisma/migrations');
    expect(d.stdout).toContain('All migrations have been successfully applied.');
    expect(await p.states()).toEqual(MIGRATIONS.map((m) => [m, 'applied']));
    const rows = (await sql(p.url, 'SELECT migration_name, checksum, logs, applied_steps_count, finished_at IS NOT NULL AS finished FROM _prisma_migrations ORDER BY started_at')).rows;
    expect(rows[0]).toEqual({ migration_name: MIGRATIONS[0], checksum: prismaChecksum(readFileSync(path.join(p.migrations, MIGRATIONS[0]!, 'migration.sql'), 'utf8')), logs: null, applied_steps_count: 1, finished: true });
    const again = await standin('prisma', ['migrate', 'deploy'], p.dir, p.url);
    expect(again.stdout).toContain('No pending migrations to apply.');
    const status = await standin('prisma', ['migrate', 'status'], p.dir, p.url);
    expect(status.stdout).toContain('Database schema is up to date!');
    expect(status.exitCode).toBe(0);
    const diag = await drillbook(['diagnose', '--migrations', 'prisma/migrations', '--db', p.url], { cwd: p.dir });
    expect(diag.exitCode).toBe(0);
    expect(diag.stdout).toContain('verdict: in sync: 3 migration(s) applied, nothing pending');
  });

  it('a failed migration: deploy refuses with P3009; resolve --rolled-back, then deploy re-applies it', async () => {
    const p = await project();
    writeFileSync(path.join(p.migrations, MIGRATIONS[2]!, 'migration.sql'), 'CREATE INDEX "posts_user_id_idx" ON "posts"("no_such_column");\n');
    const first = await standin('prisma', ['migrate', 'deploy'], p.dir, p.url);
    expect(first.exitCode).toBe(1);
    expect(first.stderr).toContain('Error: P3018');
    expect(first.stderr).toContain(`Migration name: ${MIGRATIONS[2]}`);
    expect(first.stderr).toContain('Database error code: 42703');
    expect(await p.states()).toEqual([[MIGRATIONS[0], 'applied'], [MIGRATIONS[1], 'applied'], [MIGRATIONS[2], 'failed']]);
    const blocked = await standin('prisma', ['migrate', 'deploy'], p.dir, p.url);
    expect(blocked.exitCode).toBe(1);
    expect(blocked.stderr).toContain('Error: P3009');
    expect(blocked.stderr).toMatch(new RegExp(`The \`${MIGRATIONS[2]}\` migration started at .* UTC failed$`, 'm'));
    const status = await standin('prisma', ['migrate', 'status'], p.dir, p.url);
    expect(status.stderr).toContain(`Following migration have failed:\n${MIGRATIONS[2]}`);
    expect(status.exitCode).toBe(1);
    const diag = await drillbook(['diagnose', '--db', p.url], { cwd: p.dir });
    expect(diag.exitCode).toBe(1);
    expect(diag.stdout).toContain('verdict: drift: 1 failed');
    expect(diag.stdout).toContain('drillbook run prisma-failed-migration');
    expect(diag.stdout).toContain(`next: npx prisma migrate resolve --rolled-back "${MIGRATIONS[2]}"`);
    // The operator fixes the migration, marks the failed attempt rolled back, and deploys again.
    writeFileSync(path.join(p.migrations, MIGRATIONS[2]!, 'migration.sql'), 'CREATE INDEX "posts_user_id_idx" ON "posts"("user_id");\n');
    const resolved = await standin('prisma', ['migrate', 'resolve', '--rolled-back', MIGRATIONS[2]!], p.dir, p.url);
    expect(resolved.stdout).toContain(`Migration ${MIGRATIONS[2]} marked as rolled back.`);
    expect(await p.states()).toEqual([[MIGRATIONS[0], 'applied'], [MIGRATIONS[1], 'applied'], [MIGRATIONS[2], 'rolled-back']]);
    const twice = await standin('prisma', ['migrate', 'resolve', '--rolled-back', MIGRATIONS[2]!], p.dir, p.url);
    // As real Prisma: the failed attempt is already rolled back, so this changes nothing and exits 0.
    expect(twice.exitCode).toBe(0);
    expect((await standin('prisma', ['migrate', 'deploy'], p.dir, p.url)).exitCode).toBe(0);
    // Applied now; Prisma compares the first recorded attempt's checksum, so the edit shows (as in migrate dev).
    expect(await p.states()).toEqual([[MIGRATIONS[0], 'applied'], [MIGRATIONS[1], 'applied'], [MIGRATIONS[2], 'modified']]);
    expect((await sql(p.url, `SELECT count(*)::int AS n FROM _prisma_migrations WHERE migration_name = '${MIGRATIONS[2]}' AND finished_at IS NOT NULL`)).rows[0].n).toBe(1);
  });

  it('resolve --applied writes the documented fingerprint; P3008 when already applied; P3017 for an unknown name', async () => {
    const p = await project();
    const r = await standin('prisma', ['migrate', 'resolve', '--applied', MIGRATIONS[0]!], p.dir, p.url);
    expect(r.exitCode, r.stderr).toBe(0);
    const row = (await sql(p.url, 'SELECT logs, started_at = finished_at AS same_time, applied_steps_count, rolled_back_at, length(id) AS idlen FROM _prisma_migrations')).rows[0];
    expect(row).toEqual({ logs: '', same_time: true, applied_steps_count: 0, rolled_back_at: null, idlen: 36 });
    expect(await p.states()).toEqual([[MIGRATIONS[0], 'resolved'], [MIGRATIONS[1], 'pending'], [MIGRATIONS[2], 'pending']]);
    const again = await standin('prisma', ['migrate', 'resolve', '--applied', MIGRATIONS[0]!], p.dir, p.url);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain(`Error: P3008\n\nThe migration \`${MIGRATIONS[0]}\` is already recorded as applied in the database.`);
    const unknown = await standin('prisma', ['migrate', 'resolve', '--applied', '2024_typo'], p.dir, p.url);
    expect(unknown.stderr).toContain('Error: P3017');
  });

  it('a phantom (in the database, not on disk): the tool says "up to date", diagnose reports it', async () => {
    const p = await project();
    await standin('prisma', ['migrate', 'deploy'], p.dir, p.url);
    await sql(p.url, "INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES (gen_random_uuid()::text, repeat('a', 64), '20231231000000_hotfix_only_in_prod', now(), now(), 1)");
    const status = await standin('prisma', ['migrate', 'status'], p.dir, p.url);
    expect(status.stdout).toContain('Database schema is up to date!');
    const diag = await drillbook(['diagnose', '--db', p.url, '--json'], { cwd: p.dir });
    expect(diag.exitCode).toBe(1);
    const json = JSON.parse(diag.stdout) as { entries: Array<{ name: string; state: string }>; counts: Record<string, number>; verdict: { runbooks: string[] } };
    expect(json.entries.find((e) => e.name === '20231231000000_hotfix_only_in_prod')?.state).toBe('phantom');
    expect(json.counts).toEqual({ applied: 3, resolved: 0, modified: 0, pending: 0, 'rolled-back': 0, failed: 0, skipped: 0, phantom: 1, total: 4 });
    expect(json.verdict.runbooks).toEqual(['prisma-history-mismatch']);
  });

  it('a phantom plus a pending migration: status reports diverging histories', async () => {
    const p = await project();
    rmSync(path.join(p.migrations, MIGRATIONS[2]!), { recursive: true });
    await standin('prisma', ['migrate', 'deploy'], p.dir, p.url);
    await sql(p.url, "INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES (gen_random_uuid()::text, repeat('b', 64), '20240105000000_remote_only', now(), now(), 1)");
    writeFileSync(path.join(p.dir, 'x'), '');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(p.migrations, '20240104000000_local_only'));
    writeFileSync(path.join(p.migrations, '20240104000000_local_only', 'migration.sql'), 'ALTER TABLE "users" ADD COLUMN "name" TEXT;\n');
    const status = await standin('prisma', ['migrate', 'status'], p.dir, p.url);
    expect(status.stderr).toContain('Your local migration history and the migrations table from your database are different:');
    expect(status.stderr).toContain(`The last common migration is: ${MIGRATIONS[1]}`);
    expect(status.exitCode).toBe(1);
  });

  it('an edited applied migration is "modified"; a CRLF checkout of the same file is not', async () => {
    const p = await project();
    await standin('prisma', ['migrate', 'deploy'], p.dir, p.url);
    const file = path.join(p.migrations, MIGRATIONS[0]!, 'migration.sql');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace(/\n/g, '\r\n'));
    expect((await p.states())[0]).toEqual([MIGRATIONS[0], 'applied']);
    writeFileSync(file, `${original}-- edited after deploy\n`);
    expect((await p.states())[0]).toEqual([MIGRATIONS[0], 'modified']);
  });

  it('tables but no _prisma_migrations: deploy fails with P3005, diagnose calls it an untracked schema', async () => {
    const p = await project();
    await sql(p.url, 'CREATE TABLE users (id serial primary key, email text not null)');
    const d = await standin('prisma', ['migrate', 'deploy'], p.dir, p.url);
    expect(d.exitCode).toBe(1);
    expect(d.stderr).toContain('Error: P3005\n\nThe database schema is not empty.');
    const status = await standin('prisma', ['migrate', 'status'], p.dir, p.url);
    // Prisma 7.10.1 reports every migration as not yet applied here (checked against the real CLI).
    expect(status.stdout).toContain('Following migrations have not yet been applied:');
    const diag = await drillbook(['diagnose', '--db', p.url], { cwd: p.dir });
    expect(diag.stdout).toContain('verdict: untracked schema: 1 application table(s) exist but public._prisma_migrations does not exist; 1 pending migration(s) would re-create existing tables');
    expect(diag.stdout).toMatch(/20240101000000_init\s+\| pending\s+\| no row in public\._prisma_migrations; creates users, which already exists/);
  });
});

describe('Prisma: _prisma_migrations emptied beside a full schema', () => {
  it('is an untracked schema, not "3 pending": deploy would fail with P3018 and then P3009, so the advice is a baseline', async () => {
    const p = await project();
    expect((await standin('prisma', ['migrate', 'deploy'], p.dir, p.url)).exitCode).toBe(0);
    await sql(p.url, 'TRUNCATE _prisma_migrations');
    const diag = await drillbook(['diagnose', '--db', p.url], { cwd: p.dir });
    expect(diag.exitCode).toBe(1);
    expect(diag.stdout).toContain(
      'verdict: untracked schema: 2 application table(s) exist but public._prisma_migrations is empty; 2 pending migration(s) would re-create existing tables; prisma migrate deploy would re-run 20240101000000_init, fail (P3018: relation "users" already exists), record it as failed, and every later deploy would stop at P3009',
    );
    expect(diag.stdout).toContain('next: baseline, never deploy: compare first with npx prisma migrate diff --from-migrations prisma/migrations --to-config-datasource ("No difference detected" when every migration is in the schema), then npx prisma migrate resolve --applied "<name>" for each migration already in the schema (2 of 3 create tables that already exist, the newest of them 20240102000000_add_posts)');
    expect(diag.stdout).not.toMatch(/drift: .*pending/);
    expect(diag.stdout).not.toContain('next: npx prisma migrate deploy');
    // What deploy does there (the stand-in models Prisma 7; by hand, real Prisma 7.10.1 printed the same codes):
    const first = await standin('prisma', ['migrate', 'deploy'], p.dir, p.url);
    expect(first.stderr).toContain('Error: P3018');
    expect(first.stderr).toContain('relation "users" already exists');
    expect((await standin('prisma', ['migrate', 'deploy'], p.dir, p.url)).stderr).toContain('Error: P3009');
  });

  it('the baseline it advises works: resolve --applied per migration, then in sync', async () => {
    const p = await project();
    await standin('prisma', ['migrate', 'deploy'], p.dir, p.url);
    await sql(p.url, 'DELETE FROM _prisma_migrations');
    for (const m of MIGRATIONS) expect((await standin('prisma', ['migrate', 'resolve', '--applied', m], p.dir, p.url)).exitCode).toBe(0);
    const diag = await drillbook(['diagnose', '--db', p.url, '--json'], { cwd: p.dir });
    expect(diag.exitCode).toBe(0);
    const json = JSON.parse(diag.stdout) as { database: string; counts: Record<string, number> };
    expect(json.database).toBe('tracked');
    expect(json.counts).toEqual({ applied: 0, resolved: 3, modified: 0, pending: 0, 'rolled-back': 0, failed: 0, skipped: 0, phantom: 0, total: 3 });
  });

  it('a missing table is what P3005 is about; an empty table with no application tables is an empty database', async () => {
    const p = await project();
    await sql(p.url, 'CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ, started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)');
    const d = await diagnoseFolder({ tool: 'prisma', dir: p.migrations }, p.url);
    expect(d.diagnosis.database).toBe('empty');
    expect(d.verdict.next).toBe('npx prisma migrate deploy');
    await sql(p.url, 'DROP TABLE _prisma_migrations; CREATE TABLE users (id serial primary key)');
    expect((await diagnoseFolder({ tool: 'prisma', dir: p.migrations }, p.url)).verdict.line).toContain('public._prisma_migrations does not exist; 1 pending migration(s) would re-create existing tables; prisma migrate deploy refuses with P3005 until it is baselined');
  });
});

describe('drillbook diagnose', () => {
  it('exit 2 with a clear message for bad arguments or an unreachable database', async () => {
    const p = await project();
    const down = await drillbook(['diagnose', '--db', 'postgresql://u:secret-pw@127.0.0.1:1/x'], { cwd: p.dir });
    expect(down.exitCode).toBe(2);
    expect(down.stderr).toContain('cannot connect to 127.0.0.1:1/x: connection refused');
    expect(down.stderr).not.toContain('secret-pw');
    const nofolder = await drillbook(['diagnose', '--db', p.url, '--migrations', 'nope'], { cwd: p.dir });
    expect(nofolder.exitCode).toBe(2);
    expect(nofolder.stderr).toContain('no migrations folder at nope');
    const badtool = await drillbook(['diagnose', '--tool', 'flyway'], { cwd: p.dir });
    expect(badtool.exitCode).toBe(2);
    expect(badtool.stderr).toContain('drillbook: --tool: expected prisma, drizzle, ecto, got "flyway"');
  });

  it('--json: an error is a JSON object with an error field on stdout, and a non-zero exit', async () => {
    const p = await project();
    const down = await drillbook(['diagnose', '--json', '--db', 'postgresql://u:secret-pw@127.0.0.1:1/x'], { cwd: p.dir });
    expect(down.exitCode).toBe(2);
    expect(JSON.parse(down.stdout)).toEqual({ error: 'cannot connect to 127.0.0.1:1/x: connection refused (is the database running and reachable?)', exitCode: 2 });
    expect(down.stdout + down.stderr).not.toContain('secret-pw');
    const badtool = await drillbook(['diagnose', '--json', '--tool', 'flyway', '--db', p.url], { cwd: p.dir });
    expect(badtool.exitCode).toBe(2);
    expect(JSON.parse(badtool.stdout)).toMatchObject({ error: '--tool: expected prisma, drizzle, ecto, got "flyway"' });
    const nofolder = await drillbook(['diagnose', '--json', '--db', p.url, '--migrations', 'nope'], { cwd: p.dir });
    expect(JSON.parse(nofolder.stdout)).toEqual({ error: 'no migrations folder at nope', exitCode: 2 });
    expect(nofolder.stderr).toBe('');
  });
});
