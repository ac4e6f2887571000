/** Ecto's view, per migration-tools.md §3: a version is applied when its row exists; no checksums. */
import type { Diagnosis, LocalMigration, MigrationEntry } from './types.js';
import { createdTables } from './sql-objects.js';

export interface EctoRow {
  version: string;
  inserted_at: string | null;
}

export function classifyEcto(local: LocalMigration[], rows: EctoRow[] | undefined, appTables: string[], table: string, createdByExs: Map<string, string[]>): Diagnosis {
  const existing = new Set(appTables);
  const applied = new Map((rows ?? []).map((r) => [String(r.version), r]));
  const entries: MigrationEntry[] = [];
  const newest = [...applied.keys()].sort().pop();
  for (const m of local) {
    const version = m.version ?? '';
    const created = [...new Set([...createdTables(m.sql), ...(createdByExs.get(m.name) ?? [])])];
    const conflicts = created.filter((t) => existing.has(t));
    const row = applied.get(version);
    if (row) entries.push({ name: m.name, state: 'applied', evidence: `up since ${row.inserted_at ?? '?'}`, conflicts: [] });
    else {
      const older = newest && version < newest ? `; older than the newest applied version ${newest}` : '';
      entries.push({ name: m.name, state: 'pending', evidence: `down${older}${conflicts.length ? `; creates ${conflicts.join(', ')}, which already exist(s)` : ''}`, conflicts });
    }
  }
  const versions = new Set(local.map((m) => m.version));
  for (const [version, row] of applied) {
    if (!versions.has(version)) entries.push({ name: version, state: 'phantom', evidence: `** FILE NOT FOUND ** (up since ${row.inserted_at ?? '?'})`, conflicts: [] });
  }
  const tableExists = rows !== undefined;
  const pendingConflicts = entries.some((e) => e.state === 'pending' && e.conflicts.length > 0);
  const database = appTables.length && (!tableExists || (rows ?? []).length === 0 || pendingConflicts) ? 'untracked-schema' : tableExists ? 'tracked' : 'empty';
  return { tool: 'ecto', table, tableExists, rowCount: rows?.length ?? 0, database, appTables, entries, warnings: [] };
}
