import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PgDatabases } from '../../src/adapters/postgres.js';
import { freePort } from '../../src/adapters/drill-db.js';
import { resolveConnection, type ResolvedConnection } from '../../src/core/conn.js';
import type { ServerIdentity } from '../../src/core/events.js';
import { startProxy } from '../helpers/proxy.js';
import { freshDatabase, sql } from '../helpers/pg.js';

let url: string;
let dbs: PgDatabases;
const never = new AbortController().signal;

beforeAll(async () => {
  ({ url } = await freshDatabase('pgadapter'));
  await sql(url, "CREATE TABLE t (id int primary key, name text); INSERT INTO t VALUES (1, 'one'), (2, NULL)");
  dbs = new PgDatabases({ prod: resolveConnection(url, {}, 'prod') });
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
    // The SQLSTATE travels with it: a statement timeout is worth a retry (a lock may be gone).
    expect(r).toEqual({ ok: false, error: 'timed out after 200ms (statement_timeout); the statement was cancelled', code: '57014' });
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
    expect(await pending).toEqual({ ok: false, error: 'cancelled by the operator', code: '57014' });
  });

  it('reports a refused connection without throwing', async () => {
    const port = await freePort();
    const down = new PgDatabases({ prod: resolveConnection(`postgresql://postgres:pw@127.0.0.1:${port}/nothing`, {}, 'prod') });
    const r = await down.check('prod', 'SELECT 1', [], 1000, never);
    expect(r).toEqual({ ok: false, error: `cannot connect to prod (127.0.0.1:${port}/nothing): connection refused (is the database running and reachable?)`, code: 'ECONNREFUSED' });
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

describe('read-only is enforced by PostgreSQL, not by a label', () => {
  it('refuses a check that smuggles a write after COMMIT, and nothing is written', async () => {
    for (const smuggled of ["COMMIT; INSERT INTO t VALUES (50, 'smuggled')", "SELECT 1; INSERT INTO t VALUES (51, 'smuggled')"]) {
      const r = await dbs.check('prod', smuggled, [], 5000, never);
      expect(r.ok).toBe(false);
    }
    const r = await dbs.check('prod', "COMMIT; INSERT INTO t VALUES (50, 'smuggled')", [], 5000, never);
    expect(!r.ok && r.error).toMatch(/exactly one statement/);
    expect((await sql(url, 'SELECT count(*)::int AS n FROM t WHERE id IN (50, 51)')).rows[0].n).toBe(0);
  });

  it('refuses COPY … TO PROGRAM in a check (a READ ONLY transaction does not stop it)', async () => {
    const r = await dbs.check('prod', "COPY (SELECT 1) TO PROGRAM 'touch /tmp/drillbook-should-not-exist'", [], 5000, never);
    expect(!r.ok && r.error).toMatch(/COPY can write files or run programs/);
  });

  it('keeps a huge result bounded: the full count, ROWS_CAP rows, long values cut', async () => {
    const r = await dbs.check('prod', 'SELECT g, CASE WHEN g <= 60 THEN repeat($1, 10000) END AS big FROM generate_series(1, 300000) g', ['ab'], 60_000, never);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.result.rowCount).toBe(300_000);
    expect(r.result.rows).toHaveLength(50);
    expect(r.result.rows[0]![1]).toMatch(/^(ab){2048}… \[15904 more characters\]$/);
    expect(r.result.valuesCut).toBe(50);
  });
});

describe('writes: several statements with bind parameters', () => {
  it('runs each statement with only the parameters it uses, in one transaction', async () => {
    const r = await dbs.execute('prod', "DELETE FROM t WHERE id = $2;\nINSERT INTO t VALUES ($2, $1);\nUPDATE t SET name = $1 || '!' WHERE id = $2", ['twenty', '20'], 5000, never);
    expect(r.ok, !r.ok ? r.error : '').toBe(true);
    expect(r.ok && r.statements?.map((s) => [s.command, s.rowCount])).toEqual([['DELETE', 0], ['INSERT', 1], ['UPDATE', 1]]);
    expect((await sql(url, 'SELECT name FROM t WHERE id = 20')).rows[0].name).toBe('twenty!');
  });

  it('refuses a COMMIT inside an sql step before anything runs', async () => {
    const r = await dbs.execute('prod', "INSERT INTO t VALUES (30, 'x'); COMMIT; INSERT INTO t VALUES (31, 'y')", [], 5000, never);
    expect(!r.ok && r.error).toMatch(/"COMMIT" \(line 1\) would end drillbook's transaction/);
    expect((await sql(url, 'SELECT count(*)::int AS n FROM t WHERE id IN (30, 31)')).rows[0].n).toBe(0);
  });
});

describe('the target is who the server says it is', () => {
  it('identifies the server, and refuses a connection that reaches another database than the pinned one', async () => {
    const id = await dbs.identify('prod');
    expect(id.ok && id.identity).toMatchObject({ database: new URL(url).pathname.slice(1), user: 'postgres', address: '127.0.0.1', socket: false });
    const other = await freshDatabase('pgother');
    await sql(other.url, 'CREATE TABLE t (id int)');
    const redirected = new PgDatabases({ prod: resolveConnection(other.url, {}, 'prod') });
    redirected.pin('prod', (id as { identity: ServerIdentity }).identity);
    const r = await redirected.execute('prod', 'INSERT INTO t VALUES (1)', [], 5000, never);
    expect(!r.ok && r.error).toMatch(/the server behind prod is not the one confirmed at the start \(database pgadapter_\w+ → pgother_\w+\): nothing was run/);
    expect((await sql(other.url, 'SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(0);
    await redirected.close();
  });
});

describe('a network that fails in the middle', () => {
  it('ends a query on a frozen network at its timeout, and Ctrl-C does not wait for the network', async () => {
    const proxy = await startProxy(inject('pgPort'));
    const through = new URL(url);
    through.port = String(proxy.port);
    const frozen = new PgDatabases({ prod: resolveConnection(through.toString(), {}, 'prod') });
    expect((await frozen.check('prod', 'SELECT 1', [], 1000, never)).ok).toBe(true);
    proxy.freeze();
    const t0 = Date.now();
    const r = await frozen.check('prod', 'SELECT 1', [], 300, never);
    expect(!r.ok && r.error).toMatch(/^no answer from prod \(127\.0\.0\.1:\d+\/\w+\) within 5\.3s: the network or the server is not responding/);
    expect(Date.now() - t0).toBeLessThan(20_000);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const cancelled = await frozen.check('prod', 'SELECT 1', [], 60_000, ac.signal);
    expect(!cancelled.ok && cancelled.error).toMatch(/^(cancelled by the operator|cannot connect)/);
    await frozen.close();
    await proxy.close();
  }, 60_000);

  it('a COMMIT whose answer is lost is looked up again: committed is reported as committed', async () => {
    const proxy = await startProxy(inject('pgPort'));
    const through = new URL(url);
    through.port = String(proxy.port);
    const flaky = new PgDatabases({ prod: resolveConnection(through.toString(), {}, 'prod') });
    proxy.cutAfter('COMMIT');
    const r = await flaky.execute('prod', "INSERT INTO t VALUES (40, 'lost answer')", [], 5000, never);
    expect(r.ok, !r.ok ? r.error : '').toBe(true);
    expect(r.ok && r.note).toMatch(/the answer to COMMIT was lost .* the server says transaction \d+ committed/);
    expect((await sql(url, 'SELECT count(*)::int AS n FROM t WHERE id = 40')).rows[0].n).toBe(1);
    await flaky.close();
    await proxy.close();
  });

  it('a COMMIT whose answer is lost, with the server then unreachable, is "outcome unknown", never "rolled back"', async () => {
    const proxy = await startProxy(inject('pgPort'));
    const through = new URL(url);
    through.port = String(proxy.port);
    const flaky = new PgDatabases({ prod: resolveConnection(through.toString(), {}, 'prod') });
    expect((await flaky.check('prod', 'SELECT 1', [], 1000, never)).ok).toBe(true);
    proxy.cutAfter('COMMIT');
    proxy.refuseNew(true);
    const r = await flaky.execute('prod', "INSERT INTO t VALUES (41, 'unknown')", [], 5000, never);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.unknown).toBe(true);
    expect(!r.ok && r.error).toMatch(/after COMMIT was sent: the change may or may not have been committed \(check it, e\.g\. SELECT txid_status\(\d+\)\)/);
    expect(!r.ok && r.error).not.toMatch(/rolled back|nothing changed/);
    await flaky.close();
    await proxy.close();
  });
});

describe('a statement outside a transaction (transaction: false)', () => {
  it('runs CREATE INDEX CONCURRENTLY, which no transaction may hold', async () => {
    const r = await dbs.execute('prod', 'CREATE INDEX CONCURRENTLY t_name_idx ON t (name)', [], 10_000, never, { transaction: false });
    expect(r.ok, !r.ok ? r.error : '').toBe(true);
    expect((await sql(url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_name_idx'::regclass")).rows[0].indisvalid).toBe(true);
  });

  it('a failure says it may have left partial work (the INVALID index of a failed concurrent build), never "rolled back"', async () => {
    await sql(url, "INSERT INTO t VALUES (60, 'dup'), (61, 'dup')");
    const r = await dbs.execute('prod', 'CREATE UNIQUE INDEX CONCURRENTLY t_name_key ON t (name)', [], 10_000, never, { transaction: false });
    expect(!r.ok && r.error).toMatch(/^23505: .*ran outside a transaction: look for partial work/);
    expect((await sql(url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_name_key'::regclass")).rows[0].indisvalid).toBe(false);
    await sql(url, 'DROP INDEX t_name_key; DELETE FROM t WHERE id IN (60, 61)');
  });

  it('refuses more than one statement', async () => {
    const r = await dbs.execute('prod', 'VACUUM t; VACUUM t', [], 10_000, never, { transaction: false });
    expect(!r.ok && r.error).toMatch(/must be alone; this step has 2\. Nothing was run\./);
  });
});

describe('a target is pinned to the first server that answers', () => {
  it('a target unreachable at the start is pinned when it first answers; a later connection elsewhere is refused', async () => {
    const port = await freePort();
    const conns: Record<string, ResolvedConnection> = { prod: resolveConnection(`postgresql://postgres:pw@127.0.0.1:${port}/nothing`, {}, 'prod') };
    const dbsLater = new PgDatabases(conns);
    expect((await dbsLater.identify('prod')).ok).toBe(false);
    // Now it answers (the address resolves to a server): the first answer pins the target.
    conns.prod = resolveConnection(url, {}, 'prod');
    expect((await dbsLater.check('prod', 'SELECT 1', [], 5000, never)).ok).toBe(true);
    // The connection drops and the name now leads elsewhere: refused before anything runs.
    const other = await freshDatabase('pgpin');
    await sql(other.url, 'CREATE TABLE t (id int)');
    conns.prod = resolveConnection(other.url, {}, 'prod');
    await sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'drillbook' AND datname = current_database() AND pid <> pg_backend_pid()");
    await new Promise((res) => setTimeout(res, 200));
    const r = await dbsLater.execute('prod', 'INSERT INTO t VALUES (1)', [], 5000, never);
    expect(!r.ok && r.error).toMatch(/not the one confirmed at the start \(database pgadapter_\w+ → pgpin_\w+\): nothing was run/);
    expect((await sql(other.url, 'SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(0);
    await dbsLater.close();
  });
});
