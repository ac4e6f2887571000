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

export interface Diagnosis {
  tool: Tool;
  table: string;
  tableExists: boolean;
  rowCount: number;
  database: DatabaseState;
  appTables: string[];
  entries: MigrationEntry[];
  warnings: string[];
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
