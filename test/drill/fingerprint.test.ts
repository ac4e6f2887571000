/**
 * The fingerprint a rehearsed rollback is judged by, on a real PostgreSQL: it must catch a changed
 * row, a dropped or invalid index, a changed tracking row, a column dropped and added again, and
 * every other kind of change a rollback can leave behind (views, functions, triggers, grants,
 * row-level security, persistence, comments, materialized views, extensions, collations, roles,
 * sequences set back); see nothing where nothing changed; and never let different digests pass.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeFingerprint, type Fingerprint } from '../../src/drill/fingerprint.js';
import { compareFingerprints, diffFingerprints, rollbackVerdict, UNNAMED, type Declared, type Difference } from '../../src/drill/fingerprint-diff.js';
import { freshDatabase, sql } from '../helpers/pg.js';

let url: string;
let client: pg.Client;
let me: string;

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
  me = (await client.query('SELECT current_user AS u')).rows[0].u as string;
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
  const diffs: Difference[] = [
    { kind: 'rows', table: 'public.leads', text: 'table public.leads had 2 row(s) before, 3 after the rollback' },
    { kind: 'tracking', table: 'public._prisma_migrations', migration: '20250102_x', text: 'public._prisma_migrations: a row for 20250102_x …' },
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

/** Everything a schema holds, beyond tables: what a rollback must also bring back. */
const RICH = `
  CREATE TABLE people (id int PRIMARY KEY, email text, name text);
  INSERT INTO people VALUES (1, 'ann@example.com', 'Ann'), (2, 'bob@example.com', 'Bob');
  CREATE TABLE pairs (a int, b text);
  INSERT INTO pairs VALUES (1, 'one'), (2, NULL);
  CREATE VIEW named AS SELECT id, name FROM people;
  CREATE MATERIALIZED VIEW people_count AS SELECT count(*) AS n FROM people;
  CREATE FUNCTION price() RETURNS int LANGUAGE sql AS 'SELECT 1';
  CREATE FUNCTION keep_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
  CREATE SEQUENCE counter;
  SELECT nextval('counter');
  CREATE TYPE mood AS ENUM ('ok', 'bad');
  CREATE DOMAIN address AS text CHECK (VALUE LIKE '%@%');
`;

async function fresh(extra = ''): Promise<void> {
  await sql(url, `DROP SCHEMA public CASCADE; CREATE SCHEMA public; ${RICH} ${extra}`);
}

describe('what the fingerprint sees', () => {
  it('sees nothing, digest and all, where nothing changed, whatever the schema holds', async () => {
    await fresh(`
      CREATE TRIGGER keep BEFORE UPDATE ON people FOR EACH ROW EXECUTE FUNCTION keep_row();
      ALTER TABLE people ENABLE ROW LEVEL SECURITY; CREATE POLICY everyone ON people USING (true);
      GRANT SELECT ON people TO PUBLIC; GRANT SELECT (b) ON pairs TO PUBLIC; REVOKE EXECUTE ON FUNCTION price() FROM PUBLIC;
      COMMENT ON TABLE people IS 'who'; COMMENT ON COLUMN people.email IS 'how to reach them';
      CREATE UNLOGGED TABLE scratch (x int);
      CREATE INDEX people_name_idx ON people (name);
    `);
    const a = await fp();
    const b = await fp();
    expect(compareFingerprints(a, b)).toEqual({ differences: [], notes: [] });
    expect(b.digest).toBe(a.digest);
    expect(Object.keys(a.functions)).toEqual(['public.keep_row()', 'public.price()']);
    expect(a.data['public.people_count']).toMatchObject({ rows: 1 });
  });

  it('catches a column dropped and added again, its values lost: the column order and the rows differ', async () => {
    await fresh();
    const before = await fp();
    await sql(url, 'ALTER TABLE people DROP COLUMN email; ALTER TABLE people ADD COLUMN email text');
    const differences = diffFingerprints(before, await fp());
    expect(differences.map((d) => d.text)).toEqual([
      'the columns of public.people are in another order (a column dropped and added again?): was (id, email, name), is now (id, name, email)',
      'table public.people has the same 2 row(s) in number, but their content differs',
    ]);
    expect(rollbackVerdict(differences, []).restored).toBe('no');
  });

  it('hashes rows independently of the column order: the same rows under reordered columns differ only in that order', async () => {
    await fresh();
    expect(await after('DROP TABLE pairs; CREATE TABLE pairs (b text, a int); INSERT INTO pairs VALUES (NULL, 2), (\'one\', 1)')).toEqual([
      'the columns of public.pairs are in another order (a column dropped and added again?): was (a, b), is now (b, a)',
    ]);
    // …and still sees a changed value in them.
    expect(await after("UPDATE pairs SET b = 'two' WHERE a = 2")).toEqual(['table public.pairs has the same 2 row(s) in number, but their content differs']);
  });

  it('catches a changed view, a changed function body, a new trigger and one disabled', async () => {
    await fresh();
    expect(await after('CREATE OR REPLACE VIEW named AS SELECT id, name FROM people WHERE id > 100')).toEqual([
      'view public.named: its definition differs: from line 3: was "FROM people;", is now "FROM people\\nWHERE (id > 100);"',
    ]);
    expect(await after("CREATE OR REPLACE FUNCTION price() RETURNS int LANGUAGE sql AS 'SELECT 2'")).toEqual([
      'function public.price(): its definition differs: from line 4: was "AS $function$SELECT 1$function$", is now "AS $function$SELECT 2$function$"',
    ]);
    expect(await after('CREATE TRIGGER keep BEFORE INSERT ON people FOR EACH ROW EXECUTE FUNCTION keep_row()')).toEqual([
      'trigger keep on public.people ("CREATE TRIGGER keep BEFORE INSERT ON public.people FOR EACH ROW EXECUTE FUNCTION keep_row()") exists after the rollback, not before',
    ]);
    expect(await after('ALTER TABLE people DISABLE TRIGGER keep')).toEqual(['trigger keep on public.people was enabled, is now disabled']);
  });

  it('catches GRANTs on a table, a column, a schema and a function', async () => {
    await fresh();
    expect(await after('GRANT SELECT ON people TO PUBLIC')).toEqual([`table public.people: privileges granted after the rollback, not before: =r/${me}`]);
    expect(await after('GRANT UPDATE (name) ON people TO PUBLIC')).toEqual([`column public.people.name: privileges granted after the rollback, not before: =w/${me}`]);
    expect(await after('GRANT USAGE ON SCHEMA public TO PUBLIC')).toEqual([`schema public: privileges granted after the rollback, not before: =U/${me}`]);
    expect(await after('REVOKE EXECUTE ON FUNCTION price() FROM PUBLIC')).toEqual([`function public.price(): privileges gone after the rollback: =X/${me}`]);
  });

  it('catches row-level security switched on and forced, and a policy', async () => {
    await fresh();
    expect(await after('ALTER TABLE people ENABLE ROW LEVEL SECURITY; ALTER TABLE people FORCE ROW LEVEL SECURITY; CREATE POLICY nobody ON people USING (false)')).toEqual([
      'table public.people: row-level security was off, is now on',
      'table public.people: row-level security was not forced on its owner, is now forced',
      'policy nobody on public.people ("permissive for ALL to PUBLIC using (false)") exists after the rollback, not before',
    ]);
  });

  it('catches a table made UNLOGGED, comments, and a column collation', async () => {
    await fresh();
    expect(await after('ALTER TABLE pairs SET UNLOGGED')).toEqual(['table public.pairs was logged, is now UNLOGGED']);
    expect(await after("COMMENT ON TABLE people IS 'changed'; COMMENT ON COLUMN people.email IS 'where'")).toEqual([
      'table public.people: its comment was none, is now "changed"',
      'column public.people.email: its comment was none, is now "where"',
    ]);
    expect(await after('ALTER TABLE people ALTER COLUMN email TYPE text COLLATE "C"')).toEqual(['column public.people.email was text, is now text collate "C"']);
  });

  it("catches a materialized view's contents, hashed like a table's", async () => {
    await fresh();
    expect(await after("INSERT INTO people VALUES (3, 'cy@example.com', 'Cy'); REFRESH MATERIALIZED VIEW people_count; DELETE FROM people WHERE id = 3")).toEqual([
      'materialized view public.people_count has the same 1 row(s) in number, but their content differs',
    ]);
  });

  it("catches an extension installed, without listing the extension's own functions", async () => {
    await fresh();
    try {
      expect(await after('CREATE EXTENSION pgcrypto')).toEqual([expect.stringMatching(/^extension pgcrypto [\d.]+ in schema public exists after the rollback, not before$/)]);
    } finally {
      await sql(url, 'DROP EXTENSION IF EXISTS pgcrypto');
    }
  });

  it('catches a role created or changed (roles belong to the whole server)', async () => {
    await fresh();
    const role = `fp_role_${Math.random().toString(36).slice(2, 8)}`;
    try {
      expect(await after(`CREATE ROLE ${role}`)).toEqual([`role ${role} (nologin) exists after the rollback, not before (roles belong to the whole server)`]);
      expect(await after(`ALTER ROLE ${role} CREATEDB`)).toEqual([`role ${role} was "nologin", is now "nologin createdb"`]);
    } finally {
      await sql(url, `DROP ROLE IF EXISTS ${role}`);
    }
  });

  it('fails a sequence set back (duplicate keys ahead), and only notes one that advanced', async () => {
    await fresh();
    const a = await fp();
    await sql(url, "SELECT nextval('counter'), nextval('counter')");
    const advanced = compareFingerprints(a, await fp());
    expect(advanced.differences).toEqual([]);
    expect(advanced.notes).toEqual(['sequence public.counter advanced (next value 2 before, 4 after): values the forward path took are not given back, which is normal and harmless']);
    const b = await fp();
    expect(b.digest).toBe(a.digest);
    // Who owns it is part of it: a table dropped then takes its sequence along.
    expect(await after('ALTER SEQUENCE counter OWNED BY people.id')).toEqual([
      'sequence public.counter: its definition differs: was "bigint start 1 increment 1 minvalue 1 maxvalue 9223372036854775807 cache 1", is now "bigint start 1 increment 1 minvalue 1 maxvalue 9223372036854775807 cache 1 owned by public.people.id"',
    ]);
    const c = await fp();
    await sql(url, "SELECT setval('counter', 1, false)");
    expect(diffFingerprints(c, await fp()).map((d) => d.text)).toEqual([
      'sequence public.counter was set back: its next value was 4, is now 1 (values already handed out would be handed out again: duplicate keys ahead)',
    ]);
  });

  it('needs no write: it works on a session PostgreSQL holds read-only, and leaves no transaction open', async () => {
    await fresh();
    await client.query('SET default_transaction_read_only = on');
    try {
      expect((await fp()).data['public.people']).toMatchObject({ rows: 2 });
      // Outside a transaction, now() is this statement's time.
      expect((await client.query('SELECT now() = statement_timestamp() AS outside')).rows[0].outside).toBe(true);
    } finally {
      await client.query('RESET default_transaction_read_only');
    }
  });
});

describe('the safety net', () => {
  it('never passes different digests: when no difference can be named, that is the difference', async () => {
    await fresh();
    const a = await fp();
    const b = { ...(await fp()), digest: '0'.repeat(64) };
    const differences = diffFingerprints(a, b);
    expect(differences).toEqual([{ kind: 'unnamed', text: UNNAMED }]);
    // Nothing a runbook declares covers it.
    const declared: Declared[] = [{ table: 'people', reason: 'r' }, { object: 'people', reason: 'r' }, { migration: 'x', reason: 'r' }];
    expect(rollbackVerdict(differences, declared).restored).toBe('no');
  });
});

describe('declarations cover their kind of difference only', () => {
  async function verdictAfter(change: string, declared: Declared[]) {
    const before = await fp();
    await sql(url, change);
    return rollbackVerdict(diffFingerprints(before, await fp()), declared);
  }

  it('a table: declaration covers its rows, not the table dropped, nor its index or a column', async () => {
    await fresh('CREATE INDEX people_name_idx ON people (name)');
    const rows = await verdictAfter("UPDATE people SET name = upper(name)", [{ table: 'people', reason: 'names rewritten' }]);
    expect(rows.restored).toBe('yes-except-declared');
    await fresh('CREATE INDEX people_name_idx ON people (name)');
    const dropped = await verdictAfter('DROP TABLE people CASCADE', [{ table: 'people', reason: 'names rewritten' }]);
    expect(dropped.restored).toBe('no');
    expect(dropped.undeclared.map((d) => d.text)).toContain('table public.people is gone after the rollback');
    expect(dropped.unused).toEqual([{ table: 'people', reason: 'names rewritten' }]);
    await fresh('CREATE INDEX people_name_idx ON people (name)');
    expect((await verdictAfter('DROP INDEX people_name_idx', [{ table: 'people', reason: 'r' }])).restored).toBe('no');
    await fresh();
    expect((await verdictAfter('ALTER TABLE people ADD COLUMN extra text', [{ table: 'people', reason: 'r' }])).restored).toBe('no');
  });

  it('an object: declaration covers the schema object of that exact name, and nothing else', async () => {
    await fresh('CREATE INDEX people_name_idx ON people (name)');
    const index = await verdictAfter('DROP INDEX people_name_idx', [{ object: 'people_name_idx', reason: 'dropped for good' }]);
    expect(index.restored).toBe('yes-except-declared');
    await fresh('CREATE INDEX people_name_idx ON people (name)');
    expect((await verdictAfter('DROP INDEX people_name_idx', [{ object: 'name_idx', reason: 'a suffix is not a name' }])).restored).toBe('no');
    await fresh();
    expect((await verdictAfter('DROP TABLE pairs', [{ object: 'public.pairs', reason: 'gone for good' }])).restored).toBe('yes-except-declared');
    await fresh();
    // A column by table.column; its lost values are rows, declared apart.
    const column = await verdictAfter('ALTER TABLE people DROP COLUMN email', [{ object: 'people.email', reason: 'dropped for good' }]);
    expect(column.restored).toBe('no');
    expect(column.undeclared.map((d) => d.kind)).toEqual(['rows']);
    await fresh();
    expect((await verdictAfter("ALTER TABLE people ADD CONSTRAINT name_set CHECK (name IS NOT NULL)", [{ object: 'name_set', reason: 'kept' }])).restored).toBe('yes-except-declared');
    await fresh();
    // An object: declaration never covers rows.
    expect((await verdictAfter("UPDATE people SET name = 'x'", [{ object: 'people', reason: 'r' }])).restored).toBe('no');
  });
});
