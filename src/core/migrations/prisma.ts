/**
 * Prisma Migrate's view of a database, per ../shared/design/migration-tools.md §1: checksums,
 * deploy semantics for pending and failed, diagnose semantics for phantoms and edits.
 */
import { createHash } from 'node:crypto';
import { qualifiedName, type TableRef } from './types.js';
import type { Diagnosis, LocalMigration, MigrationEntry } from './types.js';
import { createdTables } from './sql-objects.js';

export const PRISMA_LOCK_ID = 72707369;

/** sha256 over the script's UTF-8 bytes, 64 lower-case hex characters (engine: render_checksum). */
export function prismaChecksum(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

/** The engine's pre-2021 rendering: each byte as unpadded hex (prisma-engines#1887). */
function legacyChecksum(script: string): string {
  return [...createHash('sha256').update(script, 'utf8').digest()].map((b) => b.toString(16)).join('');
}

/** Prisma's comparison: the text as is, CRLF→LF, or LF→CRLF; legacy rendering when the stored value is not 64 long. */
export function prismaChecksumMatches(script: string, stored: string): boolean {
  const candidates = [script, script.replace(/\r\n/g, '\n'), script.replace(/\r?\n/g, '\r\n')];
  const legacy = stored.length !== 64 && stored.length > 0;
  return candidates.some((c) => (legacy ? legacyChecksum(c) : prismaChecksum(c)) === stored);
}

export interface PrismaRow {
  id: string;
  checksum: string;
  finished_at: string | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: string | null;
  started_at: string;
  applied_steps_count: number;
}

export function isResolvedApplied(r: PrismaRow): boolean {
  return r.logs === '' && r.finished_at !== null && r.started_at === r.finished_at && Number(r.applied_steps_count) === 0;
}

export function classifyPrisma(local: LocalMigration[], rows: PrismaRow[] | undefined, appTables: string[], tableRef: TableRef): Diagnosis {
  const table = qualifiedName(tableRef);
  const warnings: string[] = [];
  const existing = new Set(appTables);
  const entries: MigrationEntry[] = [];
  const byName = new Map<string, PrismaRow[]>();
  for (const r of rows ?? []) {
    const list = byName.get(r.migration_name);
    if (list) list.push(r);
    else byName.set(r.migration_name, [r]);
  }
  const latestApplied = [...(rows ?? [])].filter((r) => r.finished_at && !r.rolled_back_at).map((r) => r.migration_name).sort((a, b) => a.localeCompare(b)).pop();

  for (const m of local) {
    const rs = (byName.get(m.name) ?? []).sort((a, b) => a.started_at.localeCompare(b.started_at));
    const conflicts = createdTables(m.sql).filter((t) => existing.has(t));
    const failed = rs.find((r) => r.finished_at === null && r.rolled_back_at === null);
    const applied = rs.find((r) => r.finished_at !== null && r.rolled_back_at === null);
    if (failed) {
      entries.push({ name: m.name, state: 'failed', evidence: `started ${failed.started_at}, never finished${failed.logs ? `: ${failed.logs.split('\n')[0]!.slice(0, 120)}` : ''}`, conflicts });
    } else if (applied) {
      const first = rs[0]!;
      const edited = m.sql !== undefined && !prismaChecksumMatches(m.sql, first.checksum);
      const resolved = isResolvedApplied(applied);
      entries.push({
        name: m.name,
        state: edited ? 'modified' : resolved ? 'resolved' : 'applied',
        evidence: edited
          ? `checksum in the table ${first.checksum.slice(0, 12)}… ≠ file ${m.checksum?.slice(0, 12)}… (edited after it was applied; only migrate dev notices)`
          : `finished ${applied.finished_at}${resolved ? ' (marked applied with migrate resolve)' : ''}`,
        conflicts: [],
      });
    } else if (rs.length > 0) {
      entries.push({ name: m.name, state: 'rolled-back', evidence: `rolled back ${rs[rs.length - 1]!.rolled_back_at}; the next deploy runs it again`, conflicts });
    } else {
      const older = latestApplied && m.name.localeCompare(latestApplied) < 0 ? `; older than the newest applied migration ${latestApplied}` : '';
      entries.push({ name: m.name, state: 'pending', evidence: `no row in ${table}${older}${conflicts.length ? `; creates ${conflicts.join(', ')}, which already exist${conflicts.length > 1 ? '' : 's'}` : ''}`, conflicts });
    }
  }
  const onDisk = new Set(local.map((m) => m.name));
  for (const [name, rs] of byName) {
    if (onDisk.has(name)) continue;
    const r = rs[rs.length - 1]!;
    const what = r.finished_at && !r.rolled_back_at ? `applied ${r.finished_at}` : r.rolled_back_at ? 'rolled back' : 'failed';
    entries.push({ name, state: 'phantom', evidence: `in ${table} (${what}) but no folder on disk (prisma migrate status alone calls this "up to date")`, conflicts: [] });
  }
  if (local.some((m) => m.sql === undefined)) warnings.push('a migration folder has no migration.sql (Prisma fails with P3015)');
  const tableExists = rows !== undefined;
  // A missing table (deploy: P3005) and an emptied one (deploy re-runs everything) are both untracked.
  const database = tableExists && rows!.length > 0 ? 'tracked' : appTables.length ? 'untracked-schema' : 'empty';
  return { tableRef, tool: 'prisma', table, tableExists, rowCount: rows?.length ?? 0, database, appTables, entries, warnings };
}
