/**
 * Reads the catalog for schema health (../../core/migrations/health.ts judges it). Read-only and
 * bounded: four queries over pg_catalog and the statistics views, each with a row limit; no table
 * of the application is read or locked. Names come back as data and are never put into SQL text.
 */
import type pg from 'pg';
import type { HealthInput, InvalidIndexRow, MigrationLockRow, NotValidConstraintRow, SessionRow } from '../../core/migrations/health.js';
import { PRISMA_LOCK_ID } from '../../core/migrations/prisma.js';
import type { Tool } from '../../core/migrations/types.js';

/** Rows read per check; one more tells that there were more. */
export const HEALTH_LIMIT = 100;

export const INVALID_INDEXES_SQL = `
SELECT n.nspname AS schema, t.relname AS "table", i.relname AS index,
       pg_get_indexdef(x.indexrelid) AS definition, x.indisunique AS unique, x.indisready AS ready,
       ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(n, o)
             LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n AND k.n > 0
             WHERE k.o <= x.indnkeyatts ORDER BY k.o) AS columns,
       p.pid AS build_pid, p.command AS build_command, p.phase AS build_phase
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = i.relnamespace
LEFT JOIN LATERAL (
  SELECT p.pid, p.command, p.phase FROM pg_stat_progress_create_index p
  WHERE p.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND p.relid = x.indrelid AND (p.index_relid IN (0, x.indexrelid) OR p.command LIKE 'REINDEX%')
  LIMIT 1
) p ON true
WHERE NOT x.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2, 3
LIMIT ${HEALTH_LIMIT + 1}`;

export const NOT_VALID_CONSTRAINTS_SQL = `
SELECT n.nspname AS schema, t.relname AS "table", c.conname AS name, c.contype::text AS type,
       pg_get_constraintdef(c.oid) AS definition,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(n, o)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS columns,
       rn.nspname AS ref_schema, rt.relname AS ref_table,
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(n, o)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS ref_columns,
       CASE WHEN c.contype = 'f' THEN c.confmatchtype::text END AS match_type
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_class rt ON rt.oid = c.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rt.relnamespace
WHERE NOT c.convalidated AND c.conparentid = 0 AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2, 3
LIMIT ${HEALTH_LIMIT + 1}`;

/** Sessions of this database waiting for a lock, and the sessions they wait for. */
export const LOCK_WAITS_SQL = `
WITH waiting AS (
  SELECT a.pid, pg_blocking_pids(a.pid) AS blocked_by
  FROM pg_stat_activity a
  WHERE a.wait_event_type = 'Lock' AND a.pid <> pg_backend_pid() AND a.datname = current_database()
  LIMIT ${HEALTH_LIMIT + 1}
), involved AS (
  SELECT pid FROM waiting UNION SELECT unnest(blocked_by) FROM waiting
), locks AS (
  SELECT l.pid, l.mode, l.granted,
         CASE WHEN l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) THEN l.relation END AS relation
  FROM pg_locks l
  WHERE l.pid IN (SELECT pid FROM involved)
)
SELECT i.pid, a.usename::text AS "user", a.application_name AS application, a.state,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_seconds,
       extract(epoch FROM now() - a.query_start)::float8 AS query_seconds,
       extract(epoch FROM now() - a.state_change)::float8 AS state_seconds,
       left(a.query, 2000) AS query,
       coalesce(w.blocked_by, '{}') AS blocked_by,
       (SELECT l.mode FROM locks l WHERE l.pid = i.pid AND NOT l.granted ORDER BY l.relation IS NULL LIMIT 1) AS waiting_mode,
       (SELECT l.relation::regclass::text FROM locks l WHERE l.pid = i.pid AND NOT l.granted ORDER BY l.relation IS NULL LIMIT 1) AS waiting_relation,
       EXISTS (SELECT 1 FROM locks l WHERE l.pid = i.pid AND NOT l.granted) AS waits,
       ARRAY(SELECT DISTINCT l.relation::regclass::text FROM locks l WHERE l.pid = i.pid AND l.granted AND l.relation IS NOT NULL AND l.mode = 'AccessExclusiveLock') AS holds_access_exclusive
FROM involved i
LEFT JOIN pg_stat_activity a ON a.pid = i.pid
LEFT JOIN waiting w ON w.pid = i.pid
ORDER BY i.pid`;

/** A migration at work: Prisma's advisory lock, or a lock stronger than a read on the tracking table. */
export const MIGRATION_LOCKS_SQL = `
SELECT l.pid, CASE WHEN l.locktype = 'advisory' THEN 'advisory' ELSE l.mode END AS lock,
       a.usename::text AS "user", a.application_name AS application, a.state,
       extract(epoch FROM now() - a.state_change)::float8 AS state_seconds,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_seconds,
       left(a.query, 2000) AS query
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND (($1::bool AND l.locktype = 'advisory' AND l.classid = 0 AND l.objid = $2::bigint::oid AND l.objsubid = 1)
       OR (l.locktype = 'relation' AND l.relation = to_regclass($3) AND l.mode <> 'AccessShareLock'))
ORDER BY l.pid
LIMIT ${HEALTH_LIMIT + 1}`;

const HIDDEN = '<insufficient privilege>';
const query = (q: string | null) => (q === null || q === HIDDEN ? null : q);

interface RawSession {
  pid: number;
  user: string | null;
  application: string | null;
  state: string | null;
  xact_seconds: number | null;
  query_seconds: number | null;
  state_seconds: number | null;
  query: string | null;
  blocked_by: number[];
  waiting_mode: string | null;
  waiting_relation: string | null;
  waits: boolean;
  holds_access_exclusive: string[];
}

export async function readHealth(c: pg.Client, tool: Tool, trackingTable: string): Promise<HealthInput> {
  const truncated: string[] = [];
  const unavailable: string[] = [];
  const capped = <T>(name: string, rows: T[]): T[] => {
    if (rows.length > HEALTH_LIMIT) truncated.push(`${name}: only the first ${HEALTH_LIMIT} are shown`);
    return rows.slice(0, HEALTH_LIMIT);
  };

  const ix = (await c.query(INVALID_INDEXES_SQL)).rows as Array<Omit<InvalidIndexRow, 'building'> & { build_pid: number | null; build_command: string | null; build_phase: string | null }>;
  const invalidIndexes: InvalidIndexRow[] = capped('INVALID indexes', ix).map((r) => ({
    schema: r.schema,
    table: r.table,
    index: r.index,
    definition: r.definition,
    unique: r.unique,
    ready: r.ready,
    columns: r.columns,
    building: r.build_pid === null ? null : { pid: r.build_pid, command: r.build_command ?? 'CREATE INDEX', phase: r.build_phase ?? '?' },
  }));

  const nv = (await c.query(NOT_VALID_CONSTRAINTS_SQL)).rows as Array<{ schema: string; table: string; name: string; type: string; definition: string; columns: string[]; ref_schema: string | null; ref_table: string | null; ref_columns: string[]; match_type: string | null }>;
  const notValidConstraints: NotValidConstraintRow[] = capped('NOT VALID constraints', nv).map((r) => ({
    schema: r.schema,
    table: r.table,
    name: r.name,
    type: r.type,
    definition: r.definition,
    columns: r.columns,
    refSchema: r.ref_schema,
    refTable: r.ref_table,
    refColumns: r.ref_columns,
    matchType: r.match_type,
  }));

  const raw = (await c.query(LOCK_WAITS_SQL)).rows as RawSession[];
  const waitingCount = raw.filter((r) => r.waits).length;
  if (waitingCount > HEALTH_LIMIT) truncated.push(`lock waits: only the first ${HEALTH_LIMIT} waiting sessions were read`);
  const sessions: SessionRow[] = raw.map((r) => ({
    pid: r.pid,
    user: r.user,
    application: r.application,
    state: r.state,
    xactSeconds: r.xact_seconds,
    querySeconds: r.query_seconds,
    stateSeconds: r.state_seconds,
    query: query(r.query),
    blockedBy: r.blocked_by,
    waitingFor: r.waits ? { mode: r.waiting_mode ?? 'a lock', relation: r.waiting_relation } : null,
    holdsAccessExclusive: r.holds_access_exclusive,
  }));
  if (raw.some((r) => r.query === HIDDEN)) unavailable.push('the query text of some sessions is hidden from this role (grant pg_read_all_stats to see it)');

  const ml = (await c.query(MIGRATION_LOCKS_SQL, [tool === 'prisma', PRISMA_LOCK_ID, trackingTable])).rows as Array<{ pid: number; lock: string; user: string | null; application: string | null; state: string | null; state_seconds: number | null; xact_seconds: number | null; query: string | null }>;
  const migrationLocks: MigrationLockRow[] = capped('migration locks', ml).map((r) => ({
    pid: r.pid,
    lock: r.lock,
    user: r.user,
    application: r.application,
    state: r.state,
    stateSeconds: r.state_seconds,
    xactSeconds: r.xact_seconds,
    query: query(r.query),
  }));

  return { invalidIndexes, notValidConstraints, sessions, migrationLocks, truncated, unavailable };
}
