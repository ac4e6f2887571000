/**
 * Drizzle's view, per migration-tools.md §2 and drizzle-orm's own migrator (pg-core/dialect.ts
 * `migrate`, 0.45): 0.x reads ONE row, `select id, hash, created_at … order by created_at desc
 * limit 1`, and runs, in journal order, every entry whose `when` is greater than
 * `Number(created_at)` of that row. 1.0 tracks names. Everything here is linear in entries + rows.
 */
import { createHash } from 'node:crypto';
import { qualifiedName, type TableRef } from './types.js';
import type { Diagnosis, HighWaterMark, LocalMigration, MigrationEntry } from './types.js';
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

const short = (h: string | undefined) => `${(h ?? '').slice(0, 12)}…`;

/**
 * The row drizzle's `order by created_at desc limit 1` returns. PostgreSQL sorts NULL first in a
 * descending order, so one row with created_at NULL is "the newest", and `Number(null)` is 0: every
 * journal entry then looks new and drizzle runs them all again.
 */
export function drizzleHighWaterMark(rows: readonly DrizzleRow[]): HighWaterMark | undefined {
  let best: DrizzleRow | undefined;
  for (const r of rows) {
    if (r.created_at === null) {
      if (best?.created_at !== null || (best && r.id < best.id)) best = r;
      continue;
    }
    if (best === undefined || (best.created_at !== null && Number(r.created_at) > Number(best.created_at))) best = r;
  }
  return best && { rowId: best.id, createdAt: best.created_at, value: Number(best.created_at) };
}

/** Rows keyed for one-pass matching; each row is claimed at most once. */
class RowIndex {
  private readonly queues = new Map<string, DrizzleRow[]>();
  private readonly heads = new Map<string, number>();
  constructor(rows: readonly DrizzleRow[], key: (r: DrizzleRow) => string, private readonly claimed: Set<number>) {
    for (const r of rows) {
      const k = key(r);
      const q = this.queues.get(k);
      if (q) q.push(r);
      else this.queues.set(k, [r]);
    }
  }
  take(k: string): DrizzleRow | undefined {
    const q = this.queues.get(k);
    if (!q) return undefined;
    let i = this.heads.get(k) ?? 0;
    while (i < q.length && this.claimed.has(q[i]!.id)) i++;
    this.heads.set(k, i);
    const r = q[i];
    if (r) this.claimed.add(r.id);
    return r;
  }
}

export function classifyDrizzle(local: LocalMigration[], rows: DrizzleRow[] | undefined, appTables: string[], tableRef: TableRef, nameTracked: boolean): Diagnosis {
  const table = qualifiedName(tableRef);
  const warnings: string[] = [];
  const existing = new Set(appTables);
  const all = rows ?? [];
  const tableExists = rows !== undefined;
  const database = appTables.length && all.length === 0 ? 'untracked-schema' : tableExists ? 'tracked' : 'empty';
  const conflictsOf = (m: LocalMigration) => createdTables(m.sql).filter((t) => existing.has(t));
  const exists = (c: string[]) => (c.length ? `; creates ${c.join(', ')}, which already exist${c.length > 1 ? '' : 's'}: migrate would fail with 42P07 and apply nothing` : '');

  if (nameTracked) {
    // 1.0: pending = no row with its name (migrator.utils.ts getMigrationsToRun); rows with a NULL name count for nothing.
    const claimed = new Set<number>();
    const byName = new RowIndex(all.filter((r) => r.name), (r) => r.name!, claimed);
    const entries: MigrationEntry[] = [];
    for (const m of local) {
      const row = byName.take(m.name);
      if (!row) {
        const c = conflictsOf(m);
        entries.push({ name: m.name, state: 'pending', evidence: `no row named ${m.name}${exists(c)}`, conflicts: c });
      } else if (row.hash === m.checksum) entries.push({ name: m.name, state: 'applied', evidence: `row ${row.id}`, conflicts: [] });
      else entries.push({ name: m.name, state: 'modified', evidence: `row ${row.id} hash ${short(row.hash)} ≠ file ${short(m.checksum)} (drizzle never compares)`, conflicts: [] });
    }
    const names = new Set(local.map((m) => m.name));
    for (const r of all) {
      if (claimed.has(r.id)) continue;
      if (r.name && names.has(r.name)) warnings.push(`row ${r.id} repeats the name ${r.name}`);
      else entries.push({ name: r.name ?? `row ${r.id}`, state: 'phantom', evidence: `hash ${short(r.hash)}, created_at ${r.created_at ?? 'NULL'}${r.name ? '' : ', no name (drizzle 1.0 ignores it)'}: no migration folder`, conflicts: [] });
    }
    return { tableRef, tool: 'drizzle', table, tableExists, rowCount: all.length, database, appTables, entries, warnings };
  }

  const mark = drizzleHighWaterMark(all);
  const claimed = new Set<number>();
  const byHashAndWhen = new RowIndex(all, (r) => `${r.hash}\u0000${r.created_at ?? ''}`, claimed);
  const byHash = new RowIndex(all, (r) => r.hash, claimed);
  const byWhen = new RowIndex(all, (r) => r.created_at ?? '', claimed);

  // Pass 1: the rows each entry wrote (same hash; the same created_at preferred).
  const own = local.map((m) => byHashAndWhen.take(`${m.checksum}\u0000${m.when}`) ?? byHash.take(m.checksum ?? ''));

  let previous = -Infinity;
  const entries: MigrationEntry[] = [];
  local.forEach((m, i) => {
    if (m.when !== undefined) {
      if (m.when <= previous) warnings.push(`journal entry ${m.name} has a "when" (${m.when}) not newer than the entry before it: drizzle may skip it silently`);
      previous = Math.max(previous, m.when);
    }
    const row = own[i];
    const when = m.when as number;
    // drizzle's own test, verbatim: `!lastDbMigration || Number(lastDbMigration.created_at) < migration.folderMillis`
    if (!mark || mark.value < when) {
      const c = conflictsOf(m);
      const why = !mark
        ? 'no rows yet'
        : mark.createdAt === null
          ? `row ${mark.rowId} has created_at NULL, which drizzle reads as the newest row (order by created_at desc puts NULL first) and as 0, so it runs every journal entry again${row ? `; this one already ran (row ${row.id})` : ''}`
          : `when ${when} > newest created_at ${mark.createdAt} (row ${mark.rowId})`;
      entries.push({ name: m.name, state: 'pending', evidence: `${why}${exists(c)}`, conflicts: c });
      return;
    }
    if (row) {
      entries.push({ name: m.name, state: 'applied', evidence: `row ${row.id}${row.created_at === String(when) ? '' : ` (created_at ${row.created_at ?? 'NULL'}, journal when ${when})`}`, conflicts: [] });
      return;
    }
    const earlier = byWhen.take(String(when));
    if (earlier) {
      entries.push({ name: m.name, state: 'modified', evidence: `row ${earlier.id} at created_at ${when} has hash ${short(earlier.hash)} ≠ file ${short(m.checksum)}: it ran in an earlier form and the file changed since (drizzle never compares)`, conflicts: [] });
      return;
    }
    const c = createdTables(m.sql);
    const present = c.filter((t) => existing.has(t));
    const missing = c.filter((t) => !existing.has(t));
    const tables = c.length ? `; of the tables it creates, ${missing.length ? `${missing.join(', ')} do${missing.length > 1 ? '' : 'es'} not exist` : ''}${missing.length && present.length ? ' and ' : ''}${present.length ? `${present.join(', ')} exist${present.length > 1 ? '' : 's'} (made by hand?)` : ''}` : '';
    entries.push({
      name: m.name,
      state: 'skipped',
      evidence: `when ${when} is not newer than the newest created_at ${mark.createdAt} (row ${mark.rowId}) and no row has its hash: drizzle-kit migrate skips it without a word and reports success, so it never ran${tables}`,
      conflicts: [],
    });
  });

  const localHashes = new Set(local.map((m) => m.checksum));
  for (const r of all) {
    if (claimed.has(r.id)) continue;
    if (localHashes.has(r.hash)) warnings.push(`row ${r.id} repeats the hash of another row (${short(r.hash)})`);
    else entries.push({ name: `row ${r.id}`, state: 'phantom', evidence: `hash ${short(r.hash)}, created_at ${r.created_at ?? 'NULL'}: no journal entry`, conflicts: [] });
  }
  const ownerOf = new Map<number, LocalMigration>();
  own.forEach((r, i) => r && ownerOf.set(r.id, local[i]!));
  const nullRows = all.filter((r) => r.created_at === null).map((r) => {
    const m = ownerOf.get(r.id);
    return m ? { rowId: r.id, name: m.name, when: m.when! } : { rowId: r.id };
  });
  return { tableRef, tool: 'drizzle', table, tableExists, rowCount: all.length, database, appTables, entries, warnings, ...(mark ? { highWaterMark: mark } : {}), ...(nullRows.length ? { nullCreatedAt: nullRows } : {}) };
}
