import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDatabases } from '../../src/adapters/postgres.js';
import { freePort } from '../../src/adapters/drill-db.js';
import { freshDatabase, sql } from '../helpers/pg.js';

let url: string;
let dbs: PgDatabases;
const never = new AbortController().signal;

beforeAll(async () => {
  ({ url } = await freshDatabase('pgadapter'));
  await sql(url, "CREATE TABLE t (id int primary key, name text); INSERT INTO t VALUES (1, 'one'), (2, NULL)");
  dbs = new PgDatabases({ prod: url });
});
afterAll(async () => dbs.close());

describe('checks: READ ONLY transaction, statement_timeout, bind parameters', () => {
  it('returns rows as the text PostgreSQL sent, with column names and the full row count', async () => {
    const r = await dbs.check('prod', 'SELECT id, name, id > 1 AS big FROM t ORDER BY id', [], 5000, never);
    expect(r).toEqual({ ok: true, rowCount: 2, result: { columns: ['id', 'name', 'big'], rows: [['1', 'one', 'f'], ['2', null, 't']], rowCount: 2 } });
  });

  it('passes inputs as bind parameters: a hostile value stays a value', async () => {
    const evil = "one'; DROP TABLE t; --";
    const r = await dbs.check('prod', 'SELECT count(*) FROM t WHERE name = $1', [evil], 5000, never);
    expect(r.ok && r.result.rows).toEqual([['0']]);
    expect((await sql(url, 'SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(2);
  });

  it('refuses a write hidden in a check, and the table is unchanged', async () => {
    const r = await dbs.check('prod', "INSERT INTO t VALUES (3, 'three')", [], 5000, never);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/READ ONLY transaction refused it.*use an sql step/);
    expect((await sql(url, 'SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(2);
  });

  it('times out a slow statement with statement_timeout and says so', async () => {
    const r = await dbs.check('prod', 'SELECT pg_sleep(5)', [], 200, never);
    expect(r).toEqual({ ok: false, error: 'timed out after 200ms (statement_timeout); the statement was cancelled' });
    // The connection is still usable afterwards.
    expect((await dbs.check('prod', 'SELECT 1', [], 1000, never)).ok).toBe(true);
  });

  it('reports a dropped connection as a clear failure, then reconnects', async () => {
    const pending = dbs.check('prod', 'SELECT pg_sleep(10)', [], 20_000, never);
    await new Promise((r) => setTimeout(r, 300));
    await sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'drillbook' AND pid <> pg_backend_pid()");
    const r = await pending;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^lost the connection to prod \(127\.0\.0\.1:\d+\/pgadapter_\w+\)/);
    expect((await dbs.check('prod', 'SELECT 1', [], 1000, never)).ok).toBe(true);
  });

  it('cancels a running check when the operator cancels', async () => {
    const ac = new AbortController();
    const pending = dbs.check('prod', 'SELECT pg_sleep(10)', [], 20_000, ac.signal);
    setTimeout(() => ac.abort(), 300);
    expect(await pending).toEqual({ ok: false, error: 'cancelled by the operator' });
  });

  it('reports a refused connection without throwing', async () => {
    const port = await freePort();
    const down = new PgDatabases({ prod: `postgresql://postgres:pw@127.0.0.1:${port}/nothing` });
    const r = await down.check('prod', 'SELECT 1', [], 1000, never);
    expect(r).toEqual({ ok: false, error: `cannot connect to prod (127.0.0.1:${port}/nothing): connection refused (is the database running and reachable?)` });
    expect(await down.inspect('prod')).toEqual({ unreachable: expect.stringContaining('connection refused') });
    await down.close();
  });
});

describe('writes: one transaction', () => {
  it('commits and reports rows affected', async () => {
    const r = await dbs.execute('prod', "UPDATE t SET name = 'uno' WHERE id = $1", ['1'], 5000, never);
    expect(r.ok && r.rowCount).toBe(1);
    expect((await sql(url, 'SELECT name FROM t WHERE id = 1')).rows[0].name).toBe('uno');
  });

  it('rolls everything back when any statement fails', async () => {
    const r = await dbs.execute('prod', "INSERT INTO t VALUES (10, 'ten'); INSERT INTO t VALUES (1, 'dup')", [], 5000, never);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^23505: duplicate key value/);
    expect((await sql(url, 'SELECT count(*)::int AS n FROM t WHERE id = 10')).rows[0].n).toBe(0);
  });
});

describe('inspect', () => {
  it('pins server version, system identifier and replica status', async () => {
    const info = await dbs.inspect('prod');
    expect(info.serverVersion).toMatch(/^17\./);
    expect(info.systemIdentifier).toMatch(/^\d{10,}$/);
    expect(info.inRecovery).toBe(false);
  });
});
