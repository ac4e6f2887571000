/** Migration state, the same words for every tool. Pure data. */

export type Tool = 'prisma' | 'drizzle' | 'ecto';

export type MigrationStateName =
  | 'applied'
  | 'pending'
  | 'failed'
  | 'rolled-back'
  | 'phantom'
  | 'modified'
  | 'skipped' // Drizzle: older than the newest applied one, so `migrate` silently skips it
  | 'resolved'; // marked applied by hand (Prisma's resolve --applied fingerprint)

export interface LocalMigration {
  /** What the tool calls it: Prisma's directory name, Drizzle's journal tag, Ecto's file stem. */
  name: string;
  /** The SQL it runs (Ecto: the .sql beside the .exs, when there is one). */
  sql: string | undefined;
  /** Checksum exactly as the tool computes it, where it has one. */
  checksum: string | undefined;
  /** Drizzle: the journal `when` (ms); Ecto: the version. */
  when?: number;
  version?: string;
  path: string;
}

export interface MigrationEntry {
  name: string;
  state: MigrationStateName;
  /** The facts behind the state: rows, checksums, times. */
  evidence: string;
  /** Tables this migration creates that already exist (it would fail with 42P07). */
  conflicts: string[];
}

export type DatabaseState =
  | 'tracked' // the tracking table exists and has rows
  | 'untracked-schema' // application tables exist, the tracking table is missing or empty (P3005, seeds 000/004)
  | 'empty'; // no tracking table and no application tables: a new database

/** Drizzle 0.x: the row `order by created_at desc limit 1` returns, and the number drizzle compares with. */
export interface HighWaterMark {
  rowId: number;
  createdAt: string | null;
  /** `Number(created_at)`: 0 for NULL. */
  value: number;
}

/** Where a tracking table (or any relation) lives. */
export interface TableRef {
  schema: string;
  name: string;
}

/** An identifier as SQL needs it: bare when it is a plain lower-case name, else double-quoted. */
export function sqlIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

const RESERVED = new Set(['all', 'analyse', 'analyze', 'and', 'any', 'array', 'as', 'asc', 'asymmetric', 'both', 'case', 'cast', 'check', 'collate', 'column', 'constraint', 'create', 'current_catalog', 'current_date', 'current_role', 'current_time', 'current_timestamp', 'current_user', 'default', 'deferrable', 'desc', 'distinct', 'do', 'else', 'end', 'except', 'false', 'fetch', 'for', 'foreign', 'from', 'grant', 'group', 'having', 'in', 'initially', 'intersect', 'into', 'lateral', 'leading', 'limit', 'localtime', 'localtimestamp', 'not', 'null', 'offset', 'on', 'only', 'or', 'order', 'placing', 'primary', 'references', 'returning', 'select', 'session_user', 'some', 'symmetric', 'system_user', 'table', 'then', 'to', 'trailing', 'true', 'union', 'unique', 'user', 'using', 'variadic', 'when', 'where', 'window', 'with']);

export function qualifiedName(t: TableRef): string {
  return `${sqlIdent(t.schema)}.${sqlIdent(t.name)}`;
}

export interface Diagnosis {
  tool: Tool;
  /** The tracking table as SQL names it (schema.name, quoted where needed). */
  table: string;
  tableRef: TableRef;
  tableExists: boolean;
  rowCount: number;
  database: DatabaseState;
  appTables: string[];
  entries: MigrationEntry[];
  warnings: string[];
  /** Drizzle 0.x only. */
  highWaterMark?: HighWaterMark;
  /** Drizzle 0.x: rows whose created_at is NULL, and the journal entry each records (by hash), if any. */
  nullCreatedAt?: Array<{ rowId: number; name?: string; when?: number }>;
}

export const STATE_NAMES: readonly MigrationStateName[] = ['applied', 'resolved', 'modified', 'pending', 'rolled-back', 'failed', 'skipped', 'phantom'];

/** How many migrations are in each state, every state present (0 when none). */
export function stateCounts(d: Diagnosis): Record<MigrationStateName, number> {
  const out = Object.fromEntries(STATE_NAMES.map((s) => [s, 0])) as Record<MigrationStateName, number>;
  for (const e of d.entries) out[e.state]++;
  return out;
}

export interface Counts {
  applied: number;
  pending: number;
  failed: number;
  phantom: number;
  modified: number;
  skipped: number;
  conflicts: number;
}

export function countStates(d: Diagnosis): Counts {
  const c: Counts = { applied: 0, pending: 0, failed: 0, phantom: 0, modified: 0, skipped: 0, conflicts: 0 };
  for (const e of d.entries) {
    if (e.state === 'applied' || e.state === 'resolved') c.applied++;
    else if (e.state === 'pending' || e.state === 'rolled-back') c.pending++;
    else if (e.state === 'failed') c.failed++;
    else if (e.state === 'phantom') c.phantom++;
    else if (e.state === 'modified') {
      c.modified++;
      c.applied++;
    } else if (e.state === 'skipped') c.skipped++;
    if (e.conflicts.length && e.state !== 'applied' && e.state !== 'resolved' && e.state !== 'modified') c.conflicts++;
  }
  return c;
}

export function inSync(d: Diagnosis): boolean {
  const c = countStates(d);
  return d.database !== 'untracked-schema' && c.pending + c.failed + c.phantom + c.modified + c.skipped === 0;
}
