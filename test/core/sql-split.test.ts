import { describe, expect, it } from 'vitest';
import { escapesReadOnly, fillSqlIdentifiers, identifierProblem, isTransactionControl, quoteIdentifier, splitSql, sqlPlaceholders } from '../../src/core/sql-split.js';

describe('SQL split as PostgreSQL lexes it', () => {
  it('splits at top-level semicolons and renumbers each statement\'s parameters', () => {
    const s = splitSql(`DELETE FROM a WHERE id = $2;
UPDATE b SET x = $1 WHERE y = $2 AND z = $1;

SELECT 1`);
    expect(s.map((x) => [x.bound, x.params, x.line])).toEqual([
      ['DELETE FROM a WHERE id = $1', [2], 1],
      ['UPDATE b SET x = $1 WHERE y = $2 AND z = $1', [1, 2], 2],
      ['SELECT 1', [], 4],
    ]);
  });

  it('skips semicolons and $n inside strings, identifiers, comments and dollar-quoted bodies', () => {
    const sql = `SELECT 'a;$1', E'it\\'s;$2', "we;ird$3" FROM t -- ; $4
/* outer /* nested ; */ still $5 ; */ WHERE x = $6;
DO $body$ BEGIN PERFORM 1; RAISE NOTICE '$7;'; END $body$;
CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;
SELECT $$;$$, a$1 FROM t`;
    const s = splitSql(sql);
    expect(s).toHaveLength(4);
    expect(s[0]!.params).toEqual([6]);
    expect(s[0]!.bound).toMatch(/WHERE x = \$1$/);
    expect(s[1]!.keywords[0]).toBe('DO');
    expect(s[1]!.params).toEqual([]);
    expect(s[2]!.text).toMatch(/^CREATE FUNCTION .* END$/s);
    // a$1 is an identifier, not a parameter.
    expect(s[3]!.params).toEqual([]);
  });

  it('ignores empty statements and comment-only text', () => {
    expect(splitSql(';; -- nothing\n /* at all */ ;')).toEqual([]);
  });

  it('tells transaction control and statements that act outside the transaction', () => {
    const [commit, insert, copy] = splitSql("COMMIT; INSERT INTO t VALUES (1); COPY (SELECT 1) TO PROGRAM 'id'");
    expect(isTransactionControl(commit!)).toBe(true);
    expect(isTransactionControl(insert!)).toBe(false);
    expect(escapesReadOnly(copy!)).toMatch(/COPY/);
    expect(splitSql('PREPARE TRANSACTION \'x\'').map(isTransactionControl)).toEqual([true]);
    expect(splitSql('PREPARE q AS SELECT 1').map(isTransactionControl)).toEqual([false]);
  });

  it('is linear: a huge statement splits in one pass', () => {
    const big = `SELECT '${'x'.repeat(2_000_000)}'; SELECT 2`;
    expect(splitSql(big)).toHaveLength(2);
  });
});

describe('identifier inputs in SQL', () => {
  it('fills ${name} in code, quoted, and never inside strings or comments', () => {
    const sql = `DROP INDEX CONCURRENTLY \${index}; SELECT '\${index}' -- \${index}\nFROM \${table}`;
    expect(fillSqlIdentifiers(sql, { index: 'users_email_key', table: 'public.User' }, new Set(['index', 'table']))).toBe(
      `DROP INDEX CONCURRENTLY "users_email_key"; SELECT '\${index}' -- \${index}\nFROM "public"."User"`,
    );
    expect(sqlPlaceholders(sql)).toEqual([
      { name: 'index', inCode: true },
      { name: 'index', inCode: false },
      { name: 'index', inCode: false },
      { name: 'table', inCode: true },
    ]);
  });

  it('any value is safe once quoted: a hostile name stays one identifier', () => {
    const hostile = 'x"; DROP TABLE users; --';
    expect(quoteIdentifier(hostile)).toBe('"x""; DROP TABLE users; --"');
    expect(splitSql(fillSqlIdentifiers('DROP INDEX ${i}', { i: hostile }, new Set(['i'])))).toHaveLength(1);
  });

  it('refuses values that cannot be a name', () => {
    expect(identifierProblem('users')).toBeUndefined();
    expect(identifierProblem('public.users')).toBeUndefined();
    expect(identifierProblem('a.b.c')).toMatch(/schema\.name/);
    expect(identifierProblem('x'.repeat(64))).toMatch(/63 bytes/);
    expect(identifierProblem('')).toMatch(/empty/);
  });
});

describe('what a READ ONLY transaction does not stop, refused in checks', () => {
  const why = (sql: string) => escapesReadOnly(splitSql(sql)[0]!);
  it('refuses DO blocks, CALL and COPY', () => {
    expect(why("DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''id'''; END $$")).toMatch(/DO block/);
    expect(why('CALL p()')).toMatch(/procedure/);
    expect(why("COPY (SELECT 1) TO '/tmp/x'")).toMatch(/COPY/);
  });
  it('sees a function however it is spelled: quoted, U&-escaped, schema-qualified', () => {
    expect(why("SELECT dblink_exec('host=x', 'DELETE FROM t')")).toMatch(/dblink_exec connects to another server/);
    expect(why(`SELECT U&"dblink\\005fexec"('host=x', 'DELETE FROM t')`)).toMatch(/dblink_exec/);
    expect(why(`SELECT public."dblink_send_query"('c', 'x')`)).toMatch(/dblink_send_query/);
    expect(why("SELECT pg_create_physical_replication_slot('s', true)")).toMatch(/replication slots/);
    expect(why('SELECT pg_terminate_backend(42)')).toMatch(/stops another session/);
    expect(why('SELECT pg_advisory_lock(72707369)')).toMatch(/session lock/);
  });
  it('lets ordinary reads through, and names inside strings do not count', () => {
    expect(why("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).toBeUndefined();
    expect(why("SELECT 'pg_terminate_backend' AS text")).toBeUndefined();
    expect(why('SELECT pg_advisory_xact_lock(1)')).toBeUndefined();
  });
});
