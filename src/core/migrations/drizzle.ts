/**
 * Drizzle's view, per migration-tools.md §2: 0.x applies journal entries whose `when` is newer
 * than the newest created_at (a high-water mark); 1.0 tracks names.
 */
import { createHash } from 'node:crypto';
import type { Diagnosis, LocalMigration, MigrationEntry } from './types.js';
import { createdTables } from './sql-objects.js';

/** sha256 hex of the .sql file's text, breakpoints included: what `migrate()` stores in `hash`. */
export function drizzleHash(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

export interface DrizzleRow {
  id: number;
  hash: string;
  created_at: string | null;
  name?: string | null;
}

export function classifyDrizzle(local: LocalMigration[], rows: DrizzleRow[] | undefined, appTables: string[], table: string, nameTracked: boolean): Diagnosis {
  const warnings: string[] = [];
  const existing = new Set(appTables);
  const entries: MigrationEntry[] = [];
  const all = rows ?? [];
  const maxCreated = all.reduce((m, r) => Math.max(m, Number(r.created_at ?? 0)), 0);
  const hashes = new Set(all.map((r) => r.hash));
  const names = new Set(all.map((r) => r.name).filter(Boolean));

  let previous = -Infinity;
  for (const m of local) {
    if (!nameTracked && m.when !== undefined) {
      if (m.when <= previous) warnings.push(`journal entry ${m.name} has a "when" (${m.when}) not newer than the entry before it: drizzle may skip it silently`);
      previous = Math.max(previous, m.when);
    }
    const conflicts = createdTables(m.sql).filter((t) => existing.has(t));
    if (nameTracked) {
      const row = all.find((r) => r.name === m.name);
      if (row) entries.push({ name: m.name, state: row.hash === m.checksum ? 'applied' : 'modified', evidence: row.hash === m.checksum ? `row ${row.id}` : `row ${row.id} hash ${row.hash.slice(0, 12)}… ≠ file ${m.checksum?.slice(0, 12)}…`, conflicts: [] });
      else entries.push({ name: m.name, state: 'pending', evidence: `no row named ${m.name}${conflicts.length ? `; creates ${conflicts.join(', ')}, which already exist(s)` : ''}`, conflicts });
      continue;
    }
    const when = m.when ?? 0;
    const atWhen = all.find((r) => Number(r.created_at) === when);
    if (when <= maxCreated && all.length > 0) {
      if (hashes.has(m.checksum ?? '')) entries.push({ name: m.name, state: 'applied', evidence: `row with its hash, created_at ${when}`, conflicts: [] });
      else if (atWhen) entries.push({ name: m.name, state: 'modified', evidence: `row at created_at ${when} has hash ${atWhen.hash.slice(0, 12)}… ≠ file ${m.checksum?.slice(0, 12)}… (drizzle never compares)`, conflicts: [] });
      else {
        entries.push({
          name: m.name,
          state: 'skipped',
          evidence: `its when ${when} ≤ newest created_at ${maxCreated} and no row has its hash: drizzle-kit migrate skips it silently and prints success`,
          conflicts,
        });
      }
    } else {
      entries.push({ name: m.name, state: 'pending', evidence: `when ${when} > newest created_at ${maxCreated || 'none'}${conflicts.length ? `; creates ${conflicts.join(', ')}, which already exist(s): migrate would fail with 42P07` : ''}`, conflicts });
    }
  }
  const localHashes = new Set(local.map((m) => m.checksum));
  const localWhens = new Set(local.map((m) => m.when));
  const localNames = new Set(local.map((m) => m.name));
  for (const r of all) {
    const known = nameTracked ? r.name && localNames.has(r.name) : localHashes.has(r.hash) || localWhens.has(Number(r.created_at));
    if (!known) entries.push({ name: r.name ?? `row ${r.id}`, state: 'phantom', evidence: `hash ${r.hash.slice(0, 12)}…, created_at ${r.created_at ?? 'NULL'}: no journal entry`, conflicts: [] });
  }
  void names;
  const tableExists = rows !== undefined;
  const database = appTables.length && (!tableExists || all.length === 0) ? 'untracked-schema' : tableExists ? 'tracked' : 'empty';
  return { tool: 'drizzle', table, tableExists, rowCount: all.length, database, appTables, entries, warnings };
}
