/**
 * Schema health on real PostgreSQL states, each built the way incidents build them: a CREATE INDEX
 * CONCURRENTLY that failed, one still running, constraints added NOT VALID, a DDL statement stuck
 * behind an open transaction with queries queued behind it, a migration holding its lock.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { drillbook } from '../helpers/cli.js';
import { freshDatabase, sql } from '../helpers/pg.js';
import { cleanupCopies, scratchCopy, standin } from '../helpers/project.js';

afterAll(cleanupCopies);

const open: pg.Client[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.end().catch(() => undefined);
});

/** Another session, as an application or a migration would hold one. */
async function session(url: string, application: string): Promise<{ client: pg.Client; pid: number }> {
  const client = new pg.Client({ connectionString: url, application_name: application });
  client.on('error', () => undefined);
  await client.connect();
  open.push(client);
  const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
  return { client, pid };
}

async function until(url: string, text: string, params: unknown[], done: (rows: Array<Record<string, unknown>>) => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (done((await sql(url, text, params)).rows)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for: ${text}`);
}

async function prismaProject() {
  const dir = scratchCopy('prisma');
  const { url } = await freshDatabase('health');
  expect((await standin('prisma', ['migrate', 'deploy'], dir, url)).exitCode).toBe(0);
  return { dir, url };
}

interface Json {
  verdict: { inSync: boolean; healthy: boolean; next: string; line: string };
  health: { counts: Record<string, number>; findings: Array<{ kind: string; severity: string; title: string; checkFirst: string; fix: string[]; data: Record<string, unknown> }> };
}
const diagnoseJson = async (dir: string, url: string) => {
  const r = await drillbook(['diagnose', '--db', url, '--json'], { cwd: dir, timeout: 30_000 });
  return { exitCode: r.exitCode, json: JSON.parse(r.stdout) as Json };
};

describe('INVALID indexes', () => {
  it('a failed CREATE UNIQUE INDEX CONCURRENTLY of a pending Ecto migration: look for duplicates, drop it, then migrate (not "mix ecto.migrate")', async () => {
    const dir = scratchCopy('ecto');
    const { url } = await freshDatabase('health');
    expect((await standin('mix', ['ecto.migrate'], dir, url)).exitCode).toBe(0);
    const migration = '20240103000000_unique_post_author';
    writeFileSync(
      path.join(dir, 'priv', 'repo', 'migrations', `${migration}.exs`),
      'defmodule Shop.Repo.Migrations.UniquePostAuthor do\n  use Ecto.Migration\n  @disable_ddl_transaction true\n  @disable_migration_lock true\n\n  def change do\n    create unique_index(:posts, [:user_id], concurrently: true)\n  end\nend\n',
    );
    await sql(url, "INSERT INTO users (email, inserted_at, updated_at) VALUES ('a@x', now(), now()); INSERT INTO posts (user_id, title) VALUES (1, 'one'), (1, 'two')");
    // What Ecto runs for it, outside a transaction (so no schema_migrations row): it fails on the duplicates.
    await expect(sql(url, 'CREATE UNIQUE INDEX CONCURRENTLY "posts_user_id_index" ON "posts" ("user_id")')).rejects.toMatchObject({ code: '23505' });

    const text = await drillbook(['diagnose', '--db', url], { cwd: dir });
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain('schema health: 1 problem(s)\n  problem: INVALID index public.posts_user_id_index on public.posts\n    CREATE UNIQUE INDEX posts_user_id_index ON public.posts USING btree (user_id)\n');
    expect(text.stdout).toContain(`created by migration ${migration} (pending) with CONCURRENTLY`);
    expect(text.stdout).toContain('mix ecto.migrate would run it again and fail: relation "posts_user_id_index" already exists (42P07)');
    expect(text.stdout).toContain('check first: why the build failed: a UNIQUE index build fails on duplicate keys (23505), and building it again fails the same way until they are gone: SELECT user_id, count(*) FROM public.posts GROUP BY user_id HAVING count(*) > 1 LIMIT 20');
    expect(text.stdout).toContain(`next: first look for duplicate keys, then drop the INVALID index public.posts_user_id_index that ${migration} left, before running it again; only then: mix ecto.migrate`);

    // Each claim holds on the real server: the query finds the duplicates, and re-running the migration's statement fails with 42P07.
    const { json } = await diagnoseJson(dir, url);
    const finding = json.health.findings[0]!;
    expect(finding).toMatchObject({ kind: 'invalid-index', severity: 'problem', data: { schema: 'public', table: 'posts', index: 'posts_user_id_index', unique: true, ready: false, columns: ['user_id'], building: null, leftover: null } });
    expect((await sql(url, finding.data.duplicatesQuery as string)).rows).toEqual([{ user_id: '1', count: '2' }]) // bigint (Ecto's references), as text;
    await expect(sql(url, 'CREATE UNIQUE INDEX CONCURRENTLY "posts_user_id_index" ON "posts" ("user_id")')).rejects.toMatchObject({ code: '42P07' });
    // The fix, as advised: remove the duplicate, drop the leftover, build it.
    await sql(url, "DELETE FROM posts WHERE title = 'two'");
    await sql(url, finding.data.dropStatement as string);
    await sql(url, finding.data.rebuildStatement as string);
    const after = await diagnoseJson(dir, url);
    expect(after.json.health.findings).toEqual([]);
  });

  it('a Prisma migration with CREATE UNIQUE INDEX CONCURRENTLY that failed: drop the leftover, then resolve --rolled-back, then deploy', async () => {
    const { dir, url } = await prismaProject();
    await sql(url, "INSERT INTO users (email) VALUES ('a@x'); INSERT INTO posts (user_id, title) VALUES (1, 'Hello'), (1, 'Hello')");
    const migration = '20240104000000_unique_title';
    mkdirSync(path.join(dir, 'prisma', 'migrations', migration));
    writeFileSync(path.join(dir, 'prisma', 'migrations', migration, 'migration.sql'), '-- CreateIndex\nCREATE UNIQUE INDEX CONCURRENTLY "posts_title_key" ON "posts"("title");\n');
    // As real Prisma 7.10.1 did by hand: P3018 with 23505, a failed row, and the INVALID index left behind.
    const deploy = await standin('prisma', ['migrate', 'deploy'], dir, url);
    expect(deploy.stderr).toContain('Database error code: 23505');
    const { exitCode, json } = await diagnoseJson(dir, url);
    expect(exitCode).toBe(1);
    const f = json.health.findings[0]!;
    expect(f.data.createdBy).toEqual({ migration, state: 'failed', concurrently: true, ifNotExists: false });
    expect(f.fix).toEqual(['DROP INDEX CONCURRENTLY IF EXISTS public.posts_title_key;', '(remove or merge the duplicate rows)', `npx prisma migrate resolve --rolled-back "${migration}"`, `then let ${migration} build it: npx prisma migrate deploy`]);
    expect(json.verdict.next).toBe(`first look for duplicate keys, then drop the INVALID index public.posts_title_key that ${migration} left, before running it again; only then: npx prisma migrate resolve --rolled-back "${migration}"  (after checking what it left behind)`);
    // Skipping the advice fails as the evidence says: rolled back and deployed again, it hits the leftover.
    await standin('prisma', ['migrate', 'resolve', '--rolled-back', migration], dir, url);
    expect((await standin('prisma', ['migrate', 'deploy'], dir, url)).stderr).toContain('relation "posts_title_key" already exists');
  });

  it('an index build still running is "in progress", not a leftover: the advice is to wait', async () => {
    const { dir, url } = await prismaProject();
    const reader = await session(url, 'report-job');
    await reader.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await reader.client.query('SELECT count(*) FROM users');
    const builder = await session(url, 'migration');
    const build = builder.client.query('CREATE INDEX CONCURRENTLY users_email_idx ON users (email)');
    await until(url, "SELECT phase FROM pg_stat_progress_create_index WHERE pid = $1", [builder.pid], (rows) => String(rows[0]?.phase ?? '').startsWith('waiting for old snapshots'));
    const { exitCode, json } = await diagnoseJson(dir, url);
    expect(exitCode).toBe(1);
    expect(json.health.findings.map((f) => [f.kind, f.severity, f.title])).toEqual([['index-build', 'wait', 'index public.users_email_idx on public.users is being built right now (CREATE INDEX CONCURRENTLY, waiting for old snapshots)']]);
    expect(json.verdict.next).toBe(`wait for pid ${builder.pid} to finish building public.users_email_idx; then drillbook diagnose again`);
    await reader.client.query('COMMIT');
    await build;
    expect((await diagnoseJson(dir, url)).json.health.findings).toEqual([]);
  });

  it('names from the catalog are shown, not obeyed: control characters are escaped in text and JSON', async () => {
    const { dir, url } = await prismaProject();
    await sql(url, "INSERT INTO users (email) VALUES ('a'), ('a')");
    await expect(sql(url, `CREATE UNIQUE INDEX CONCURRENTLY "evil\u001b[2J\u009bname" ON users (email)`)).rejects.toMatchObject({ code: '23505' });
    const text = await drillbook(['diagnose', '--db', url], { cwd: dir });
    expect(text.stdout).toContain('INVALID index public."evil\\x1b[2J\\x9bname" on public.users');
    expect(text.stdout).not.toMatch(/[\u001b\u009b]/);
    const json = await drillbook(['diagnose', '--db', url, '--json'], { cwd: dir });
    expect(json.stdout).not.toMatch(/[\u001b\u009b]/);
    expect((JSON.parse(json.stdout) as Json).health.findings[0]!.data.index).toBe('evil\u001b[2J\u009bname');
  });
});

describe('NOT VALID constraints', () => {
  it('are warnings with a query that counts the rows that would make VALIDATE fail; quoting survives odd names', async () => {
    const { dir, url } = await prismaProject();
    await sql(url, `CREATE TABLE "Order Items" (id int, "user id" int, qty int);
      INSERT INTO users (id, email) VALUES (1, 'a@x');
      INSERT INTO "Order Items" VALUES (1, 1, 2), (2, 999, 1), (3, NULL, -1);
      ALTER TABLE "Order Items" ADD CONSTRAINT "fk ""odd""" FOREIGN KEY ("user id") REFERENCES users (id) NOT VALID;
      ALTER TABLE "Order Items" ADD CONSTRAINT qty_positive CHECK (qty > 0) NOT VALID`);
    const { exitCode, json } = await diagnoseJson(dir, url);
    expect(exitCode).toBe(0); // history in sync; a NOT VALID constraint may be an expand/contract step in progress
    expect(json.verdict.healthy).toBe(true);
    const [fk, check] = json.health.findings;
    expect(fk).toMatchObject({ kind: 'not-valid-constraint', severity: 'warning', title: 'NOT VALID foreign key "fk ""odd""" on public."Order Items", never validated' });
    expect(check).toMatchObject({ title: 'NOT VALID check constraint qty_positive on public."Order Items", never validated' });
    // The counting queries run as given: one orphan (the NULL key passes, as MATCH SIMPLE says), one negative quantity.
    expect((await sql(url, fk!.data.violationsQuery as string)).rows[0].count).toBe('1');
    expect((await sql(url, check!.data.violationsQuery as string)).rows[0].count).toBe('1');
    await expect(sql(url, fk!.fix[0]!)).rejects.toMatchObject({ code: '23503' });
    await sql(url, 'DELETE FROM "Order Items" WHERE id IN (2, 3)');
    await sql(url, fk!.fix[0]!);
    await sql(url, check!.fix[0]!);
    expect((await diagnoseJson(dir, url)).json.health.findings).toEqual([]);
  });
});

describe('a lock queue behind DDL', () => {
  it('names the session the DDL waits for and how many queue behind it; cancelling the DDL drains the queue', async () => {
    const { dir, url } = await prismaProject();
    const idle = await session(url, 'forgotten-psql');
    await idle.client.query('BEGIN');
    await idle.client.query('SELECT count(*) FROM users');
    const ddl = await session(url, 'deploy');
    const alter = ddl.client.query('ALTER TABLE users ADD COLUMN nickname text').then(() => 'done', (e: { code?: string }) => e.code);
    const app = await session(url, 'web');
    const read = app.client.query('SELECT count(*) FROM users').then(() => 'done', (e: { code?: string }) => e.code);
    await until(url, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid = ANY($1)", [[ddl.pid, app.pid]], (rows) => rows[0]!.n === 2);

    const text = await drillbook(['diagnose', '--db', url], { cwd: dir, timeout: 30_000 });
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain(`problem: lock queue behind DDL on users: 1 session(s) wait behind pid ${ddl.pid}, which waits for pid ${idle.pid}`);
    expect(text.stdout).toContain(`DDL: pid ${ddl.pid} (postgres, deploy): ALTER TABLE users ADD COLUMN nickname text`);
    expect(text.stdout).toMatch(new RegExp(`blocker pid ${idle.pid} \\(postgres, forgotten-psql\\): idle in transaction for \\d+s, transaction open \\d+s; last query: SELECT count\\(\\*\\) FROM users`));
    expect(text.stdout).toContain(`check first: what pid ${idle.pid} (postgres, forgotten-psql) is: a transaction left open for`);
    expect(text.stdout).toContain(`next: release the lock queue on users (cancel the DDL, pid ${ddl.pid}, or end pid ${idle.pid} (postgres, forgotten-psql))`);
    const { json } = await diagnoseJson(dir, url);
    const f = json.health.findings[0]!;
    expect(f.data).toMatchObject({ waiters: [app.pid] });
    // The first fix, run as given, releases everyone behind the DDL.
    await sql(url, f.fix[0]!.split(';')[0]!);
    expect(await alter).toBe('57014');
    expect(await read).toBe('done');
    await idle.client.query('ROLLBACK');
    expect((await diagnoseJson(dir, url)).json.health.findings).toEqual([]);
  });
});

describe('a migration at work', () => {
  it("Prisma's advisory lock held: wait, do not deploy", async () => {
    const dir = scratchCopy('prisma');
    const { url } = await freshDatabase('health');
    const deploy = await session(url, 'prisma-migrate');
    await deploy.client.query('SELECT pg_advisory_lock(72707369)');
    const { exitCode, json } = await diagnoseJson(dir, url);
    expect(exitCode).toBe(1);
    expect(json.health.findings.map((f) => [f.kind, f.title])).toEqual([['migration-running', `a migration is running: pid ${deploy.pid} (postgres, prisma-migrate) holds Prisma's migration lock (pg_advisory_lock(72707369))`]]);
    expect(json.verdict.next).toBe(`wait for the migration in pid ${deploy.pid} to finish (or end it if it is stuck); then drillbook diagnose again`);
    await deploy.client.query('SELECT pg_advisory_unlock(72707369)');
    expect((await diagnoseJson(dir, url)).json.verdict.next).toBe('npx prisma migrate deploy');
  });

  it("Ecto's lock on schema_migrations held by a running mix ecto.migrate", async () => {
    const dir = scratchCopy('ecto');
    const { url } = await freshDatabase('health');
    await sql(url, 'CREATE TABLE schema_migrations ("version" bigint, "inserted_at" timestamp(0), PRIMARY KEY ("version"))');
    const migrate = await session(url, 'mix');
    await migrate.client.query('BEGIN');
    await migrate.client.query('LOCK TABLE "schema_migrations" IN SHARE UPDATE EXCLUSIVE MODE');
    const { json } = await diagnoseJson(dir, url);
    expect(json.health.findings.map((f) => f.title)).toEqual([`a migration is running: pid ${migrate.pid} (postgres, mix) holds ShareUpdateExclusiveLock on public.schema_migrations`]);
    await migrate.client.query('ROLLBACK');
  });

  it('a tracking table locked by someone else: diagnose gives up after its lock timeout and says who holds it', async () => {
    const { dir, url } = await prismaProject();
    const holder = await session(url, 'hotfix');
    await holder.client.query('BEGIN');
    await holder.client.query('LOCK TABLE _prisma_migrations IN ACCESS EXCLUSIVE MODE');
    const r = await drillbook(['diagnose', '--db', url, '--json'], { cwd: dir, timeout: 30_000 });
    expect(r.exitCode).toBe(2);
    const err = JSON.parse(r.stdout) as { error: string; hint: string };
    expect(err.error).toBe(`could not read public._prisma_migrations within 2s: another session holds a lock on it: pid ${holder.pid} holds AccessExclusiveLock (idle in transaction: LOCK TABLE _prisma_migrations IN ACCESS EXCLUSIVE MODE)`);
    expect(err.hint).toContain('a migration is probably running');
    await holder.client.query('ROLLBACK');
  });
});
