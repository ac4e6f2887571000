import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { takeFingerprint } from '../../src/drill/fingerprint.js';
import { diffFingerprints } from '../../src/drill/fingerprint-diff.js';
import { ROOT } from '../helpers/cli.js';
import { freshDatabase, sql } from '../helpers/pg.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drillbook-pgtools-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function tool(name: string, args: string[], input?: string) {
  const r = await execa(process.execPath, [path.join(ROOT, 'dist', 'standin.js'), name, ...args], { cwd: dir, reject: false, ...(input !== undefined ? { input } : { stdin: 'ignore' as const }) });
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode };
}

const SCHEMA = `
CREATE TYPE "Role" AS ENUM ('admin', 'user');
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, role "Role" NOT NULL DEFAULT 'user', note text);
CREATE TABLE posts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id int NOT NULL REFERENCES users(id), title text, title_len int GENERATED ALWAYS AS (length(title)) STORED);
CREATE INDEX posts_user_idx ON posts(user_id);
CREATE TABLE events (id bigserial, at timestamptz NOT NULL, payload jsonb, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2026_11 PARTITION OF events FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
INSERT INTO users (email, role, note) VALUES ('a@x', 'admin', 'it''s'), ('b@x', 'user', NULL);
INSERT INTO posts (user_id, title) VALUES (1, 'hello'), (2, NULL);
INSERT INTO events (at, payload) VALUES ('2026-11-05', '{"k": [1, 2]}');
`;

describe('pg_dump / pg_restore / psql stand-ins', () => {
  it('a custom-format dump restores into an empty database with the same schema and data, and sequences continue', async () => {
    const src = await freshDatabase('pgsrc');
    const dst = await freshDatabase('pgdst');
    await sql(src.url, SCHEMA);
    const d = await tool('pg_dump', ['--format=custom', '--file=backup.dump', src.url]);
    expect(d.exitCode, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/^drillbook stand-in for pg_dump/);
    expect(readFileSync(path.join(dir, 'backup.dump'), 'utf8').split('\n')[0]).toBe('DRILLBOOK-STANDIN-ARCHIVE 1');
    const r = await tool('pg_restore', ['-d', dst.url, 'backup.dump']);
    expect(r.exitCode, r.stderr).toBe(0);
    const q = 'SELECT (SELECT json_agg(u ORDER BY id) FROM users u) AS users, (SELECT json_agg(p ORDER BY id) FROM posts p) AS posts, (SELECT count(*)::int FROM events_2026_11) AS ev';
    expect((await sql(dst.url, q)).rows).toEqual((await sql(src.url, q)).rows);
    await sql(dst.url, "INSERT INTO users (email) VALUES ('c@x')");
    expect((await sql(dst.url, "SELECT id FROM users WHERE email = 'c@x'")).rows[0].id).toBe(3);
    await expect(sql(dst.url, 'INSERT INTO posts (user_id) VALUES (99)')).rejects.toThrow(/foreign key/);
    expect((await sql(dst.url, "SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'posts_user_idx'")).rows[0].n).toBe(1);
  });

  it('a dump restored by the stand-ins has the fingerprint of its source: sequences keep their type, bounds and owning column', async () => {
    const src = await freshDatabase('pgsrc');
    const dst = await freshDatabase('pgdst');
    await sql(src.url, SCHEMA);
    expect((await tool('pg_dump', ['--format=custom', '--file=fp.dump', src.url])).exitCode).toBe(0);
    expect((await tool('pg_restore', ['-d', dst.url, 'fp.dump'])).exitCode).toBe(0);
    const fp = async (u: string) => {
      const c = new pg.Client({ connectionString: u });
      await c.connect();
      try {
        return await takeFingerprint(c);
      } finally {
        await c.end();
      }
    };
    // Two databases: their names differ, and nothing else may.
    expect(diffFingerprints(await fp(src.url), await fp(dst.url)).map((d) => d.text)).toEqual([expect.stringMatching(/^the database was "?pgsrc_\w+"?, is now "?pgdst_\w+"? \(a rename, or another database\)$/)]);
  });

  it('pg_restore --list lists the archive and restores nothing; a plain dump is refused as pg_restore refuses it, and restores with psql', async () => {
    const src = await freshDatabase('pgsrc');
    const dst = await freshDatabase('pgdst');
    await sql(src.url, SCHEMA);
    await tool('pg_dump', ['-Fc', '-f', 'list.dump', src.url]);
    const list = await tool('pg_restore', ['--list', '--dbname', dst.url, 'list.dump']);
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^\d+; TABLE public users$/m);
    expect(list.stdout).toMatch(/^\d+; TABLE DATA public posts$/m);
    expect((await sql(dst.url, "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n).toBe(0);
    const plain = await tool('pg_dump', ['--file=plain.sql', src.url]);
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'plain.sql'), 'utf8').startsWith('--\n-- PostgreSQL database dump\n--\n')).toBe(true);
    const refused = await tool('pg_restore', ['-d', dst.url, 'plain.sql']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('pg_restore: error: input file appears to be a text format dump. Please use psql.');
    const viaPsql = await tool('psql', [dst.url, '-v', 'ON_ERROR_STOP=1', '-q', '-f', 'plain.sql']);
    expect(viaPsql.exitCode, viaPsql.stderr).toBe(0);
    expect((await sql(dst.url, 'SELECT count(*)::int AS n FROM posts')).rows[0].n).toBe(2);
  });

  it('--schema-only, --data-only and --table narrow the dump', async () => {
    const src = await freshDatabase('pgsrc');
    await sql(src.url, SCHEMA);
    const schema = await tool('pg_dump', ['--schema-only', src.url]);
    expect(schema.stdout).toContain('CREATE TABLE "public"."users"');
    expect(schema.stdout).not.toContain('INSERT INTO');
    const data = await tool('pg_dump', ['--data-only', '--table=users', src.url]);
    expect(data.stdout).not.toContain('CREATE TABLE');
    expect(data.stdout).toContain(`INSERT INTO "public"."users"`);
    expect(data.stdout).not.toContain(`INSERT INTO "public"."posts"`);
  });

  it('an INVALID index (a failed CREATE INDEX CONCURRENTLY) is left out of the dump, as pg_dump leaves it out', async () => {
    const src = await freshDatabase('pgsrc');
    await sql(src.url, "CREATE TABLE u (id int PRIMARY KEY, email text); INSERT INTO u VALUES (1, 'a'), (2, 'a'); CREATE INDEX u_id_idx ON u (id)");
    await expect(sql(src.url, 'CREATE UNIQUE INDEX CONCURRENTLY u_email_key ON u (email)')).rejects.toThrow(/could not create unique index/);
    expect((await sql(src.url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'u_email_key'::regclass")).rows[0].indisvalid).toBe(false);
    const dump = await tool('pg_dump', ['--schema-only', src.url]);
    expect(dump.stdout).toContain('CREATE INDEX u_id_idx ON public.u USING btree (id);');
    expect(dump.stdout).not.toContain('u_email_key');
  });

  it('psql runs SQL from -c, -f or stdin; -At prints NULL as empty; a failed -c exits 1', async () => {
    const db = await freshDatabase('psql');
    expect((await tool('psql', [db.url, '-At', '-c', 'SELECT 1, NULL, 2'])).stdout).toBe('1||2');
    expect((await tool('psql', [db.url, '-v', 'ON_ERROR_STOP=1'], 'CREATE TABLE t (a int); INSERT INTO t VALUES (7);')).exitCode).toBe(0);
    expect((await tool('psql', [db.url, '-c', 'SELECT a FROM t'])).stdout).toBe(' a \n---\n 7\n(1 row)\n');
    const bad = await tool('psql', [db.url, '-c', 'SELECT * FROM nope']);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('ERROR:  relation "nope" does not exist\nLINE 1: SELECT * FROM nope\n                      ^');
  });

  it('psql -f runs statement by statement: on an error it goes on (exit 0), stops with ON_ERROR_STOP (exit 3), and -1 undoes it all', async () => {
    const db = await freshDatabase('psqlf');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(dir, 's.sql'), 'CREATE TABLE s1 (a int);\nINSERT INTO s1 VALUES (1);\nSELECT * FROM nope;\nINSERT INTO s1 VALUES (2);\n');
    const goOn = await tool('psql', [db.url, '-f', 's.sql']);
    expect(goOn.exitCode).toBe(0);
    expect(goOn.stderr).toContain('psql:s.sql:3: ERROR:  relation "nope" does not exist');
    expect((await sql(db.url, 'SELECT count(*)::int AS n FROM s1')).rows[0].n).toBe(2);
    await sql(db.url, 'DROP TABLE s1');
    const stop = await tool('psql', [db.url, '-v', 'ON_ERROR_STOP=1', '-f', 's.sql']);
    expect(stop.exitCode).toBe(3);
    expect(stop.stdout).toBe('CREATE TABLE\nINSERT 0 1');
    expect((await sql(db.url, 'SELECT count(*)::int AS n FROM s1')).rows[0].n).toBe(1);
    await sql(db.url, 'DROP TABLE s1');
    expect((await tool('psql', [db.url, '-1', '-v', 'ON_ERROR_STOP=1', '-f', 's.sql'])).exitCode).toBe(3);
    expect((await sql(db.url, "SELECT to_regclass('s1') IS NULL AS gone")).rows[0].gone).toBe(true);
  });
});
