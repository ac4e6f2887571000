/** Ecto's view, per migration-tools.md §3: a version is applied when its row exists; no checksums. */
import { qualifiedName, type TableRef } from './types.js';
import type { Diagnosis, LocalMigration, MigrationEntry } from './types.js';
import { createdTables } from './sql-objects.js';

export interface EctoRow {
  version: string;
  inserted_at: string | null;
}

export type EctoFile =
  | { kind: 'migration'; version: string; name: string }
  | { kind: 'ex' } // looks like a migration but ends in .ex: Ecto warns and skips it
  | { kind: 'other' };

/**
 * Ecto.Migrator's own rule (ecto_sql lib/ecto/migrator.ex, extract_migration_info/1): a file found by
 * `Path.wildcard(dir/**\/*.{ex,exs})` is a migration when `Integer.parse(Path.rootname(basename))`
 * gives `{version, "_" <> name}`. So the version is the integer value of the leading digits (an
 * optional sign, leading zeros dropped) and the name is anything after the first "_": spaces,
 * capitals and dots included.
 */
export function ectoMigrationFile(basename: string): EctoFile {
  const ext = basename.endsWith('.exs') ? '.exs' : basename.endsWith('.ex') ? '.ex' : undefined;
  if (!ext || basename.startsWith('.')) return { kind: 'other' }; // the wildcard's * does not match a leading dot
  const root = basename.slice(0, -ext.length);
  const m = /^([+-]?)(\d+)_/.exec(root);
  if (!m) return { kind: 'other' };
  if (ext === '.ex') return { kind: 'ex' };
  const value = BigInt(m[2]!) * (m[1] === '-' ? -1n : 1n);
  return { kind: 'migration', version: value.toString(), name: root.slice(m[0].length) };
}

/** Ecto sorts by version; versions are integers of any length, compared as numbers. */
export function compareVersions(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function classifyEcto(local: LocalMigration[], rows: EctoRow[] | undefined, appTables: string[], tableRef: TableRef, createdByExs: Map<string, string[]>): Diagnosis {
  const table = qualifiedName(tableRef);
  const warnings: string[] = [];
  const existing = new Set(appTables);
  const applied = new Map((rows ?? []).map((r) => [String(r.version), r]));
  const entries: MigrationEntry[] = [];
  let newest: string | undefined;
  for (const v of applied.keys()) if (newest === undefined || compareVersions(v, newest) > 0) newest = v;
  const pendingVersions = new Map<string, number>();
  const pendingNames = new Map<string, number>();
  for (const m of local) {
    const version = m.version ?? '';
    const created = [...new Set([...createdTables(m.sql), ...(createdByExs.get(m.name) ?? [])])];
    const conflicts = created.filter((t) => existing.has(t));
    const row = applied.get(version);
    if (row) entries.push({ name: m.name, state: 'applied', evidence: `up: version ${version} in ${table} since ${row.inserted_at ?? '?'}`, conflicts: [] });
    else {
      const older = newest !== undefined && compareVersions(version, newest) < 0 ? `; older than the newest applied version ${newest}` : '';
      entries.push({ name: m.name, state: 'pending', evidence: `down: no version ${version} in ${table}${older}${conflicts.length ? `; creates ${conflicts.join(', ')}, which already exist(s)` : ''}`, conflicts });
      pendingVersions.set(version, (pendingVersions.get(version) ?? 0) + 1);
      const short = m.name.slice(m.name.indexOf('_') + 1);
      pendingNames.set(short, (pendingNames.get(short) ?? 0) + 1);
    }
  }
  // mix ecto.migrate checks the migrations it is about to run (ensure_no_duplication!).
  for (const [v, n] of pendingVersions) if (n > 1) warnings.push(`mix ecto.migrate refuses to run: "migrations can't be executed, migration version ${v} is duplicated"`);
  for (const [name, n] of pendingNames) if (n > 1) warnings.push(`mix ecto.migrate refuses to run: "migrations can't be executed, migration name ${name} is duplicated"`);
  const versions = new Set(local.map((m) => m.version));
  for (const [version, row] of applied) {
    if (!versions.has(version)) entries.push({ name: version, state: 'phantom', evidence: `** FILE NOT FOUND ** (up since ${row.inserted_at ?? '?'})`, conflicts: [] });
  }
  const tableExists = rows !== undefined;
  const pendingConflicts = entries.some((e) => e.state === 'pending' && e.conflicts.length > 0);
  const database = appTables.length && (!tableExists || (rows ?? []).length === 0 || pendingConflicts) ? 'untracked-schema' : tableExists ? 'tracked' : 'empty';
  return { tableRef, tool: 'ecto', table, tableExists, rowCount: rows?.length ?? 0, database, appTables, entries, warnings };
}
