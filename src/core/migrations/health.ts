/**
 * Schema health: the signs a migration left half done, read from the catalog (the adapter's
 * queries in ../../adapters/migrations/health.ts), judged here without I/O. Each finding says what
 * it is, the facts, what to check first, and then what fixes it; its `data` is structured so a
 * runbook (or `--json`) can act on it without parsing prose.
 */
import type { LocalMigration, MigrationStateName, Tool } from './types.js';
import { sqlIdent } from './types.js';
import { createdIndexes, ectoCreatedIndexes } from './sql-objects.js';

// ---- What the adapter reads (catalog rows, already bounded) ----

export interface InvalidIndexRow {
  schema: string;
  table: string;
  index: string;
  /** pg_get_indexdef(): the server's own CREATE INDEX statement for it. */
  definition: string;
  unique: boolean;
  /** indisready: still maintained on every write (and, if unique, still enforcing uniqueness). */
  ready: boolean;
  /** Key columns in order; null for an expression. */
  columns: Array<string | null>;
  /** A CREATE INDEX / REINDEX working on it right now (pg_stat_progress_create_index). */
  building: { pid: number; command: string; phase: string } | null;
}

export interface NotValidConstraintRow {
  schema: string;
  table: string;
  name: string;
  /** pg_constraint.contype: c check, f foreign key, n not null (PostgreSQL 18). */
  type: string;
  /** pg_get_constraintdef(), e.g. `FOREIGN KEY (user_id) REFERENCES users(id) NOT VALID`. */
  definition: string;
  columns: string[];
  refSchema: string | null;
  refTable: string | null;
  refColumns: string[];
  /** confmatchtype: s simple, f full, p partial. */
  matchType: string | null;
}

export interface SessionRow {
  /** 0 stands for a prepared transaction (pg_blocking_pids reports those as 0). */
  pid: number;
  user: string | null;
  application: string | null;
  state: string | null;
  /** Seconds since the transaction, the current query, and the last state change began. */
  xactSeconds: number | null;
  querySeconds: number | null;
  stateSeconds: number | null;
  /** Null when the server hides it (another role's session without pg_read_all_stats). */
  query: string | null;
  blockedBy: number[];
  /** The lock it waits for, if any. */
  waitingFor: { mode: string; relation: string | null } | null;
  /** Relations it holds ACCESS EXCLUSIVE locks on. */
  holdsAccessExclusive: string[];
}

export interface MigrationLockRow {
  pid: number;
  /** advisory: Prisma's pg_advisory_lock(72707369); otherwise the table lock mode held on the tracking table. */
  lock: 'advisory' | string;
  user: string | null;
  application: string | null;
  state: string | null;
  stateSeconds: number | null;
  xactSeconds: number | null;
  query: string | null;
}

export interface HealthInput {
  invalidIndexes: InvalidIndexRow[];
  notValidConstraints: NotValidConstraintRow[];
  sessions: SessionRow[];
  migrationLocks: MigrationLockRow[];
  /** Checks whose rows hit their limit (the rest were not read). */
  truncated: string[];
  /** Checks that could not run, with why. */
  unavailable: string[];
}

export interface HealthContext {
  tool: Tool;
  table: string;
  local: readonly LocalMigration[];
  /** The state of each local migration by name, from the diagnosis. */
  states: ReadonlyMap<string, MigrationStateName>;
  /** Ecto: the .exs source of each migration by name, for its `create index(...)`. */
  exs?: ReadonlyMap<string, string>;
}

// ---- What it concludes ----

export type Severity = 'problem' | 'wait' | 'warning';

export type Finding =
  | (FindingBase & { kind: 'invalid-index'; data: InvalidIndexData })
  | (FindingBase & { kind: 'index-build'; data: InvalidIndexData })
  | (FindingBase & { kind: 'not-valid-constraint'; data: NotValidConstraintRow & { violationsQuery: string | null } })
  | (FindingBase & { kind: 'lock-queue'; data: LockQueueData })
  | (FindingBase & { kind: 'migration-running'; data: MigrationLockRow });

interface FindingBase {
  severity: Severity;
  /** One line: what and where. */
  title: string;
  /** The facts behind it. */
  evidence: string[];
  /** What to look at before changing anything. */
  checkFirst: string;
  /** Then what fixes it, in order (SQL or commands). */
  fix: string[];
  /** The short imperative that goes first in `next:`. */
  nextStep: string;
}

export interface InvalidIndexData extends InvalidIndexRow {
  /** The schema-qualified name, quoted as SQL needs. */
  qualified: string;
  /** Left by REINDEX CONCURRENTLY: the new copy (ccnew) or the old one (ccold). */
  leftover: 'ccnew' | 'ccold' | null;
  /** The local migration that creates an index of this name, and its state. */
  createdBy: { migration: string; state: MigrationStateName | undefined; concurrently: boolean; ifNotExists: boolean } | null;
  /** A query that lists duplicate keys, for a unique index on plain columns. */
  duplicatesQuery: string | null;
  /** Statements that drop it and build it again, without blocking writes. */
  dropStatement: string;
  rebuildStatement: string | null;
}

export interface LockQueueData {
  ddl: SessionRow;
  blockers: SessionRow[];
  waiters: number[];
}

export interface HealthReport {
  findings: Finding[];
  truncated: string[];
  unavailable: string[];
}

const rel = (schema: string, name: string) => `${sqlIdent(schema)}.${sqlIdent(name)}`;

export function age(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${(s / 3600).toFixed(1)}h`;
  return `${Math.round(s / 86400)}d`;
}

function oneLine(text: string | null, max = 120): string {
  if (text === null) return '(query hidden: not your session, and no pg_read_all_stats)';
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function who(s: { pid: number; user: string | null; application: string | null }): string {
  if (s.pid === 0) return 'a prepared transaction (see pg_prepared_xacts)';
  return `pid ${s.pid}${s.user ? ` (${s.user}${s.application ? `, ${s.application}` : ''})` : ''}`;
}

/** The index a local migration creates, by name. */
function indexOwners(ctx: HealthContext): Map<string, { migration: string; concurrently: boolean; ifNotExists: boolean }> {
  const out = new Map<string, { migration: string; concurrently: boolean; ifNotExists: boolean }>();
  for (const m of ctx.local) {
    const found = [...createdIndexes(m.sql), ...(ctx.exs?.get(m.name) !== undefined ? ectoCreatedIndexes(ctx.exs.get(m.name)!) : [])];
    for (const ix of found) if (!out.has(ix.name)) out.set(ix.name, { migration: m.name, concurrently: ix.concurrently, ifNotExists: ix.ifNotExists });
  }
  return out;
}

const rerun: Record<Tool, string> = { prisma: 'npx prisma migrate deploy', drizzle: 'npx drizzle-kit migrate', ecto: 'mix ecto.migrate' };

function invalidIndex(row: InvalidIndexRow, owners: ReturnType<typeof indexOwners>, ctx: HealthContext): Finding {
  const qualified = rel(row.schema, row.index);
  const leftover = /_ccnew\d*$/.test(row.index) ? 'ccnew' : /_ccold\d*$/.test(row.index) ? 'ccold' : null;
  const owner = owners.get(row.index);
  const createdBy = owner ? { ...owner, state: ctx.states.get(owner.migration) } : null;
  const plainColumns = row.columns.length > 0 && row.columns.every((c): c is string => c !== null);
  const duplicatesQuery = row.unique && plainColumns
    ? `SELECT ${row.columns.map((c) => sqlIdent(c!)).join(', ')}, count(*) FROM ${rel(row.schema, row.table)} GROUP BY ${row.columns.map((c) => sqlIdent(c!)).join(', ')} HAVING count(*) > 1 LIMIT 20`
    : null;
  const dropStatement = `DROP INDEX CONCURRENTLY IF EXISTS ${qualified};`;
  const rebuildStatement = leftover ? null : `${row.definition.replace(/^CREATE (UNIQUE )?INDEX /, 'CREATE $1INDEX CONCURRENTLY ')};`;
  const data: InvalidIndexData = { ...row, qualified, leftover, createdBy, duplicatesQuery, dropStatement, rebuildStatement };
  const on = rel(row.schema, row.table);

  if (row.building) {
    return {
      kind: 'index-build',
      severity: 'wait',
      title: `index ${qualified} on ${on} is being built right now (${row.building.command}, ${row.building.phase})`,
      evidence: [`${row.definition}`, `pid ${row.building.pid} is working on it (pg_stat_progress_create_index); it stays INVALID until the build finishes`],
      checkFirst: `that pid ${row.building.pid} is still making progress: SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total FROM pg_stat_progress_create_index WHERE pid = ${row.building.pid}`,
      fix: [`wait for it; do not drop the index while pid ${row.building.pid} builds it`],
      nextStep: `wait for pid ${row.building.pid} to finish building ${qualified}`,
      data,
    };
  }

  const evidence = [row.definition, 'INVALID (pg_index.indisvalid = false) and no CREATE INDEX or REINDEX is working on it: a build that failed or was cancelled'];
  evidence.push(row.ready
    ? `still maintained on every write to ${on}${row.unique ? ', and it still rejects duplicate keys' : ''}, but never used by queries`
    : 'not maintained on writes (indisready = false) and never used by queries');
  if (createdBy) {
    const st = createdBy.state;
    evidence.push(`created by migration ${createdBy.migration}${st ? ` (${st})` : ''}${createdBy.concurrently ? ' with CONCURRENTLY' : ''}`);
    if (st === 'pending' || st === 'rolled-back' || st === 'failed') {
      const again = ctx.tool === 'prisma' && st === 'failed' ? `once it is marked rolled back, ${rerun.prisma}` : rerun[ctx.tool];
      evidence.push(createdBy.ifNotExists
        ? `${again} would run it again and, because of IF NOT EXISTS, succeed while the index stays INVALID`
        : `${again} would run it again and fail: relation "${row.index}" already exists (42P07)`);
    }
  }

  let checkFirst: string;
  let fix: string[];
  let nextStep: string;
  if (leftover === 'ccnew') {
    checkFirst = `that the original index ${rel(row.schema, row.index.replace(/_ccnew\d*$/, ''))} is valid: this is the new copy a failed REINDEX CONCURRENTLY left behind, and the original still serves queries`;
    fix = [dropStatement];
    nextStep = `drop ${qualified}, the copy a failed REINDEX CONCURRENTLY left`;
  } else if (leftover === 'ccold') {
    checkFirst = `that the new index ${rel(row.schema, row.index.replace(/_ccold\d*$/, ''))} is valid: this is the old copy a REINDEX CONCURRENTLY left when it was interrupted at the end`;
    fix = [dropStatement];
    nextStep = `drop ${qualified}, the old copy a REINDEX CONCURRENTLY left`;
  } else if (row.unique) {
    checkFirst = duplicatesQuery
      ? `why the build failed: a UNIQUE index build fails on duplicate keys (23505), and building it again fails the same way until they are gone: ${duplicatesQuery}`
      : `why the build failed: a UNIQUE index build fails on duplicate keys (23505); it indexes an expression, so compare its definition with the data before building it again`;
    fix = [dropStatement, `(remove or merge the duplicate rows)`, rebuildStatement!];
    nextStep = `look for duplicate keys behind the INVALID unique index ${qualified}, then drop and rebuild it`;
  } else {
    checkFirst = `why the build failed (the migration's or the server's log: a cancelled statement, a deadlock, a lock or statement timeout, the disk), so that building it again does not fail the same way`;
    fix = [dropStatement, rebuildStatement!];
    nextStep = `drop and rebuild the INVALID index ${qualified}`;
  }
  if (createdBy && (createdBy.state === 'pending' || createdBy.state === 'rolled-back' || createdBy.state === 'failed') && !leftover) {
    const resolve = ctx.tool === 'prisma' && createdBy.state === 'failed' ? [`npx prisma migrate resolve --rolled-back "${createdBy.migration}"`] : [];
    fix = [dropStatement, ...(row.unique ? ['(remove or merge the duplicate rows)'] : []), ...resolve, `then let ${createdBy.migration} build it: ${rerun[ctx.tool]}`];
    nextStep = `${row.unique ? 'look for duplicate keys, then ' : ''}drop the INVALID index ${qualified} that ${createdBy.migration} left, before running it again`;
  }
  return { kind: 'invalid-index', severity: 'problem', title: `INVALID index ${qualified} on ${on}`, evidence, checkFirst, fix, nextStep, data };
}

function notValid(row: NotValidConstraintRow): Finding {
  const table = rel(row.schema, row.table);
  let violationsQuery: string | null = null;
  if (row.type === 'c') {
    const expr = /^CHECK \((.*)\)(?: NOT VALID)?$/s.exec(row.definition)?.[1];
    if (expr !== undefined) violationsQuery = `SELECT count(*) FROM ${table} WHERE NOT (${expr})`;
  } else if (row.type === 'f' && row.refSchema !== null && row.refTable !== null && row.columns.length === row.refColumns.length && row.matchType === 's') {
    const notNull = row.columns.map((c) => `c.${sqlIdent(c)} IS NOT NULL`).join(' AND ');
    const join = row.columns.map((c, i) => `p.${sqlIdent(row.refColumns[i]!)} = c.${sqlIdent(c)}`).join(' AND ');
    violationsQuery = `SELECT count(*) FROM ${table} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${rel(row.refSchema, row.refTable)} p WHERE ${join})`;
  } else if (row.type === 'n' && row.columns.length === 1) {
    violationsQuery = `SELECT count(*) FROM ${table} WHERE ${sqlIdent(row.columns[0]!)} IS NULL`;
  }
  const kind = row.type === 'f' ? 'foreign key' : row.type === 'c' ? 'check constraint' : row.type === 'n' ? 'NOT NULL constraint' : 'constraint';
  const validate = `ALTER TABLE ${table} VALIDATE CONSTRAINT ${sqlIdent(row.name)};`;
  return {
    kind: 'not-valid-constraint',
    severity: 'warning',
    title: `NOT VALID ${kind} ${sqlIdent(row.name)} on ${table}, never validated`,
    evidence: [
      row.definition,
      'PostgreSQL checks rows written since it was added, not the rows that were already there (added with NOT VALID; the VALIDATE step of the migration never ran, or not yet)',
    ],
    checkFirst: violationsQuery
      ? `how many existing rows violate it (VALIDATE scans the whole table and fails on the first): ${violationsQuery}`
      : 'how many existing rows violate it (VALIDATE scans the whole table and fails on the first)',
    fix: [`${validate}  -- SHARE UPDATE EXCLUSIVE on ${table}${row.type === 'f' && row.refTable ? ` and ROW SHARE on ${rel(row.refSchema!, row.refTable)}` : ''}: reads and writes go on`],
    nextStep: `validate ${sqlIdent(row.name)} on ${table} once no row violates it`,
    data: { ...row, violationsQuery },
  };
}

/** Lock modes that conflict with plain reads or writes (RowExclusive, AccessShare), so a queued request stops them. */
const QUEUEING_MODES = new Set(['ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock']);

const DDL = /^(alter|create|drop|truncate|reindex|cluster|vacuum\s+full|lock|refresh\s+materialized|comment\s+on)\b/i;

export function looksLikeDdl(query: string | null): boolean {
  if (query === null) return false;
  const stripped = query.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)+/, '');
  return DDL.test(stripped);
}

function lockQueues(sessions: readonly SessionRow[]): Finding[] {
  const byPid = new Map(sessions.map((s) => [s.pid, s]));
  const waitersOf = new Map<number, number[]>();
  for (const s of sessions) {
    for (const b of s.blockedBy) {
      const list = waitersOf.get(b);
      if (list) list.push(s.pid);
      else waitersOf.set(b, [s.pid]);
    }
  }
  const isDdl = (s: SessionRow) => looksLikeDdl(s.query) || s.waitingFor?.mode === 'AccessExclusiveLock' || s.holdsAccessExclusive.length > 0;
  const out: Finding[] = [];
  for (const ddl of sessions) {
    if (ddl.pid === 0 || !isDdl(ddl)) continue;
    const waiters = waitersOf.get(ddl.pid) ?? [];
    const waiting = ddl.waitingFor !== null && ddl.blockedBy.length > 0;
    // With no one behind it yet, a wait matters only when the awaited lock will stop others' reads or
    // writes once queued (a CREATE INDEX CONCURRENTLY waiting for old snapshots stops no one).
    const queues = waiting && ddl.waitingFor!.relation !== null && QUEUEING_MODES.has(ddl.waitingFor!.mode);
    if (waiters.length === 0 && !queues) continue;
    // DDL queued behind other DDL belongs to that one's queue: report the head only.
    if (ddl.blockedBy.some((b) => byPid.has(b) && isDdl(byPid.get(b)!))) continue;
    const blockers = ddl.blockedBy.map((b) => byPid.get(b) ?? { pid: b, user: null, application: null, state: null, xactSeconds: null, querySeconds: null, stateSeconds: null, query: null, blockedBy: [], waitingFor: null, holdsAccessExclusive: [] });
    const target = ddl.waitingFor?.relation ?? ddl.holdsAccessExclusive[0] ?? 'its table';
    const evidence = [
      `DDL: ${who(ddl)}: ${oneLine(ddl.query)}`,
      waiting
        ? `it waits for ${ddl.waitingFor!.mode} on ${ddl.waitingFor!.relation ?? 'an object'} (query started ${age(ddl.querySeconds)} ago), held by ${blockers.map(who).join(', ')}`
        : `it holds ACCESS EXCLUSIVE on ${ddl.holdsAccessExclusive.join(', ') || target} and has been ${ddl.state ?? 'running'} for ${age(ddl.stateSeconds)} (transaction open ${age(ddl.xactSeconds)})`,
      ...blockers.map((b) => `blocker ${who(b)}: ${b.state ?? 'state unknown'}${b.stateSeconds !== null ? ` for ${age(b.stateSeconds)}` : ''}${b.xactSeconds !== null ? `, transaction open ${age(b.xactSeconds)}` : ''}; last query: ${oneLine(b.query)}`),
      waiters.length
        ? `${waiters.length} session(s) queue behind the DDL (pids ${waiters.slice(0, 10).join(', ')}${waiters.length > 10 ? ', …' : ''}): every query on ${target} waits until it gets its lock and finishes`
        : `nothing queues behind it yet, but every new query on ${target} will`,
    ];
    const firstBlocker = blockers[0];
    const checkFirst = waiting && firstBlocker
      ? `what ${who(firstBlocker)} is: ${firstBlocker.state === 'idle in transaction' ? `a transaction left open for ${age(firstBlocker.xactSeconds)} (an app or a psql session that did not commit)` : `${firstBlocker.state ?? 'a session'} for ${age(firstBlocker.stateSeconds)}`}; the DDL cannot start before it ends`
      : `whether pid ${ddl.pid} is a migration doing a long rewrite or validation of ${target} (its progress: pg_stat_progress_cluster / pg_stat_progress_create_index), or stuck`;
    const fix = waiting
      ? [
        `SELECT pg_cancel_backend(${ddl.pid});  -- cancel the DDL: the queue behind it drains at once; run it again later with SET lock_timeout = '5s' so it gives up instead of blocking everyone`,
        ...(firstBlocker && firstBlocker.pid !== 0 ? [`SELECT pg_terminate_backend(${firstBlocker.pid});  -- or end the blocking session (its open transaction rolls back) and let the DDL through`] : [`COMMIT PREPARED or ROLLBACK PREPARED the prepared transaction (SELECT gid FROM pg_prepared_xacts)`]),
      ]
      : [`wait for pid ${ddl.pid}, or SELECT pg_cancel_backend(${ddl.pid}); -- its transaction rolls back`];
    out.push({
      kind: 'lock-queue',
      severity: 'problem',
      title: waiters.length
        ? `lock queue behind DDL on ${target}: ${waiters.length} session(s) wait behind pid ${ddl.pid}${waiting ? `, which waits for ${blockers.map((b) => (b.pid === 0 ? 'a prepared transaction' : `pid ${b.pid}`)).join(', ')}` : ''}`
        : `DDL waiting for a lock on ${target}: pid ${ddl.pid} waits for ${blockers.map((b) => (b.pid === 0 ? 'a prepared transaction' : `pid ${b.pid}`)).join(', ')}`,
      evidence,
      checkFirst,
      fix,
      nextStep: waiting && firstBlocker
        ? `release the lock queue on ${target} (cancel the DDL, pid ${ddl.pid}, or end ${who(firstBlocker)})`
        : `wait for pid ${ddl.pid} (DDL holding ${target}) or cancel it`,
      data: { ddl, blockers, waiters },
    });
  }
  return out;
}

function migrationRunning(row: MigrationLockRow, ctx: HealthContext): Finding {
  const what = row.lock === 'advisory' ? "Prisma's migration lock (pg_advisory_lock(72707369))" : `${row.lock} on ${ctx.table}`;
  const stuck = row.state === 'idle' || row.state === 'idle in transaction';
  return {
    kind: 'migration-running',
    severity: 'wait',
    title: `a migration is running: ${who(row)} holds ${what}`,
    evidence: [
      `${who(row)}: ${row.state ?? 'state unknown'}${row.stateSeconds !== null ? ` for ${age(row.stateSeconds)}` : ''}${row.xactSeconds !== null ? `, transaction open ${age(row.xactSeconds)}` : ''}; query: ${oneLine(row.query)}`,
      'what diagnose shows is a moment in the middle of it',
      ...(row.lock === 'advisory' ? ['another prisma migrate deploy waits 10 s for this lock, then fails with P1002'] : []),
    ],
    checkFirst: stuck
      ? `whether pid ${row.pid} is stuck: it is ${row.state} while holding the lock (a client that went away without releasing it?)`
      : `whether pid ${row.pid} is a deploy still at work (it is ${row.state ?? 'running'})`,
    fix: [`wait for it, then drillbook diagnose again`, `if it is stuck: SELECT pg_terminate_backend(${row.pid});`],
    nextStep: `wait for the migration in pid ${row.pid} to finish (or end it if it is stuck)`,
    data: row,
  };
}

const ORDER: Record<Severity, number> = { wait: 0, problem: 1, warning: 2 };

export function assessHealth(input: HealthInput, ctx: HealthContext): HealthReport {
  const owners = input.invalidIndexes.length ? indexOwners(ctx) : new Map();
  const findings: Finding[] = [
    ...input.migrationLocks.map((r) => migrationRunning(r, ctx)),
    ...lockQueues(input.sessions),
    ...input.invalidIndexes.map((r) => invalidIndex(r, owners, ctx)),
    ...input.notValidConstraints.map(notValid),
  ];
  findings.sort((a, b) => ORDER[a.severity] - ORDER[b.severity]);
  return { findings, truncated: input.truncated, unavailable: input.unavailable };
}

export function healthCounts(h: HealthReport): Record<Severity, number> {
  const c: Record<Severity, number> = { problem: 0, wait: 0, warning: 0 };
  for (const f of h.findings) c[f.severity]++;
  return c;
}
