/**
 * The fingerprint a rehearsed rollback is judged by, on a real PostgreSQL: it must catch a changed
 * row, a dropped or invalid index, a changed tracking row; and see nothing where nothing changed.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeFingerprint, type Fingerprint } from '../../src/drill/fingerprint.js';
import { diffFingerprints, rollbackVerdict } from '../../src/drill/fingerprint-diff.js';
import { freshDatabase, sql } from '../helpers/pg.js';

let url: string;
let client: pg.Client;

const SETUP = `
  CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, CONSTRAINT email_shape CHECK (email LIKE '%@%'));
  CREATE INDEX users_email_idx ON users (email);
  INSERT INTO users VALUES (1, 'a@x'), (2, 'b@x');
  CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL,
    logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count int NOT NULL DEFAULT 0);
  INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('a', 'c1', now(), '20250101_init', 1);
  INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs) VALUES ('b', 'c2', NULL, '20250102_failed', 'boom');
`;

async function fp(): Promise<Fingerprint> {
  return takeFingerprint(client);
}

async function after(change: string): Promise<string[]> {
  const before = await fp();
  await sql(url, change);
  return diffFingerprints(before, await fp()).map((d) => d.text);
}

beforeAll(async () => {
  ({ url } = await freshDatabase('fingerprint'));
  client = new pg.Client({ connectionString: url });
  await client.connect();
});
afterAll(async () => client.end());

describe('the fingerprint of a drill database', () => {
  it('is the same, digest and all, when nothing changed (whatever the physical row order)', async () => {
    await sql(url, `DROP SCHEMA public CASCADE; CREATE SCHEMA public; ${SETUP}`);
    const a = await fp();
    // An update that writes the same value moves the row physically; the content is the same.
    await sql(url, "UPDATE users SET email = email WHERE id = 1");
    const b = await fp();
    expect(diffFingerprints(a, b)).toEqual([]);
    expect(b.digest).toBe(a.digest);
    expect(a.data['public.users']).toMatchObject({ rows: 2 });
    expect(a.tracking.map((r) => [r.migration, r.facts.state])).toEqual([['20250101_init', 'applied'], ['20250102_failed', 'failed']]);
  });

  it('catches a changed row, and names the table', async () => {
    await sql(url, `DROP SCHEMA public CASCADE; CREATE SCHEMA public; ${SETUP}`);
    expect(await after("UPDATE users SET email = 'changed@x' WHERE id = 2")).toEqual(['table public.users has the same 2 row(s) in number, but their content differs']);
    expect(await after("INSERT INTO users VALUES (3, 'c@x')")).toEqual(['table public.users had 2 row(s) before, 3 after the rollback']);
  });

  it('catches a dropped index and an index left INVALID', async () => {
    await sql(url, `DROP SCHEMA public CASCADE; CREATE SCHEMA public; ${SETUP}`);
    expect(await after('DROP INDEX users_email_idx')).toEqual(['index public.users_email_idx on public.users is gone after the rollback']);
    await sql(url, 'CREATE INDEX users_email_idx ON users (email)');
    // What a failed CREATE INDEX CONCURRENTLY leaves behind.
    expect(await after("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'users_email_idx'::regclass")).toEqual(['index public.users_email_idx on public.users was valid, is now INVALID']);
  });

  it('catches a changed tracking row, and names the migration', async () => {
    await sql(url, `DROP SCHEMA public CASCADE; CREATE SCHEMA public; ${SETUP}`);
    expect(await after("UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '20250102_failed'")).toEqual([
      'public._prisma_migrations: 20250102_failed: state was "failed", is now "rolled back"',
    ]);
    expect(await after("INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('c', 'c2', now(), '20250102_failed', 1)")).toEqual([
      'public._prisma_migrations: a row for 20250102_failed (row 2) (applied) exists after the rollback, not before',
    ]);
  });

  it('catches schema changes: a column, a constraint, a table', async () => {
    await sql(url, `DROP SCHEMA public CASCADE; CREATE SCHEMA public; ${SETUP}`);
    expect(await after('ALTER TABLE users ADD COLUMN slug text')).toEqual(['column public.users.slug (text) exists after the rollback, not before']);
    expect(await after('ALTER TABLE users DROP CONSTRAINT email_shape')).toEqual([`constraint email_shape on public.users (CHECK ((email ~~ '%@%'::text))) is gone after the rollback`]);
    expect(await after('CREATE TABLE leftover (id int)')).toEqual(['table public.leftover exists after the rollback, not before']);
  });
});

describe('the verdict', () => {
  const diffs = [
    { table: 'public.leads', text: 'table public.leads exists after the rollback, not before' },
    { table: 'public._prisma_migrations', migration: '20250102_x', text: 'public._prisma_migrations: a row for 20250102_x …' },
  ];
  it('is "no" with each undeclared difference', () => {
    expect(rollbackVerdict(diffs, [])).toMatchObject({ restored: 'no', undeclared: diffs });
  });
  it('is "yes, except as declared" when the runbook declares every difference, and never a silent pass', () => {
    const v = rollbackVerdict(diffs, [{ table: 'leads', reason: 'leads are kept' }, { migration: '20250102_x', reason: 'stays applied' }]);
    expect(v.restored).toBe('yes-except-declared');
    expect(v.declared.map((d) => d.reason)).toEqual(['leads are kept', 'stays applied']);
  });
  it('reports a declaration nothing matched', () => {
    expect(rollbackVerdict([], [{ table: 'nothing', reason: 'r' }])).toMatchObject({ restored: 'yes', unused: [{ table: 'nothing' }] });
  });
});
