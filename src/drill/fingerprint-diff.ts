/**
 * Two fingerprints compared, in words, each difference naming its table (or, for a tracking
 * table, its migration); and the verdict on a rehearsed rollback, with what the runbook declares
 * its rollback cannot undo. Pure.
 */
import type { Fingerprint } from './fingerprint.js';

export interface Difference {
  /** The table (schema.name) the difference is about, when it is about one. */
  table?: string;
  /** The migration a tracking-row difference is about. */
  migration?: string;
  /** The index or constraint it is about. */
  object?: string;
  text: string;
}

/** What a runbook declares its rollback leaves behind, on purpose. */
export interface Declared {
  table?: string | undefined;
  migration?: string | undefined;
  object?: string | undefined;
  reason: string;
}

export interface Verdict {
  restored: 'yes' | 'yes-except-declared' | 'no';
  /** Differences nobody declared. */
  undeclared: Difference[];
  /** Differences the runbook declared, with its reason. */
  declared: Array<Difference & { reason: string }>;
  /** Declarations no difference matched (stale, or the rollback does better than it says). */
  unused: Declared[];
}

function keys<T>(a: Record<string, T>, b: Record<string, T>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

const KIND: Record<string, string> = { r: 'table', p: 'partitioned table', v: 'view', m: 'materialized view', f: 'foreign table', S: 'sequence' };

export function diffFingerprints(before: Fingerprint, after: Fingerprint): Difference[] {
  const out: Difference[] = [];
  for (const s of keys(Object.fromEntries(before.schemas.map((x) => [x, 1])), Object.fromEntries(after.schemas.map((x) => [x, 1])))) {
    if (!before.schemas.includes(s)) out.push({ object: s, text: `schema ${s} exists after the rollback, not before` });
    else if (!after.schemas.includes(s)) out.push({ object: s, text: `schema ${s} is gone after the rollback` });
  }
  for (const rel of keys(before.relations, after.relations)) {
    const was = before.relations[rel];
    const now = after.relations[rel];
    if (was === now) continue;
    const table = now === 'S' || was === 'S' ? undefined : rel;
    if (was === undefined) out.push({ ...(table ? { table } : { object: rel }), text: `${KIND[now!] ?? 'relation'} ${rel} exists after the rollback, not before` });
    else if (now === undefined) out.push({ ...(table ? { table } : { object: rel }), text: `${KIND[was] ?? 'relation'} ${rel} is gone after the rollback` });
    else out.push({ table: rel, text: `${rel} was a ${KIND[was] ?? was}, is now a ${KIND[now] ?? now}` });
  }
  for (const rel of keys(before.columns, after.columns)) {
    const was = before.columns[rel];
    const now = after.columns[rel];
    if (!was || !now) continue; // reported with the relation
    for (const col of keys(was, now)) {
      if (was[col] === now[col]) continue;
      if (was[col] === undefined) out.push({ table: rel, text: `column ${rel}.${col} (${now[col]}) exists after the rollback, not before` });
      else if (now[col] === undefined) out.push({ table: rel, text: `column ${rel}.${col} (${was[col]}) is gone after the rollback` });
      else out.push({ table: rel, text: `column ${rel}.${col} was ${was[col]}, is now ${now[col]}` });
    }
  }
  for (const name of keys(before.indexes, after.indexes)) {
    const was = before.indexes[name];
    const now = after.indexes[name];
    const table = (now ?? was)!.table;
    if (!was) out.push({ table, object: name, text: `index ${name} on ${table} exists after the rollback, not before${now!.valid ? '' : ' (and is INVALID)'}` });
    else if (!now) out.push({ table, object: name, text: `index ${name} on ${table} is gone after the rollback` });
    else if (was.definition !== now.definition) out.push({ table, object: name, text: `index ${name} on ${table} was "${was.definition}", is now "${now.definition}"` });
    else if (was.valid !== now.valid) out.push({ table, object: name, text: `index ${name} on ${table} was ${was.valid ? 'valid' : 'INVALID'}, is now ${now.valid ? 'valid' : 'INVALID'}` });
  }
  for (const name of keys(before.constraints, after.constraints)) {
    const was = before.constraints[name];
    const now = after.constraints[name];
    const table = (now ?? was)!.table;
    const short = name.slice(table.length + 1);
    if (!before.relations[table] || !after.relations[table]) continue; // reported with the table
    if (!was) out.push({ table, object: short, text: `constraint ${short} on ${table} (${now!.definition}) exists after the rollback, not before` });
    else if (!now) out.push({ table, object: short, text: `constraint ${short} on ${table} (${was.definition}) is gone after the rollback` });
    else if (was.definition !== now.definition) out.push({ table, object: short, text: `constraint ${short} on ${table} was "${was.definition}", is now "${now.definition}"` });
    else if (was.validated !== now.validated) out.push({ table, object: short, text: `constraint ${short} on ${table} was ${was.validated ? 'validated' : 'NOT VALID'}, is now ${now.validated ? 'validated' : 'NOT VALID'}` });
  }
  for (const name of keys(before.enums, after.enums)) {
    const was = before.enums[name];
    const now = after.enums[name];
    if (JSON.stringify(was) === JSON.stringify(now)) continue;
    if (!was) out.push({ object: name, text: `enum type ${name} exists after the rollback, not before` });
    else if (!now) out.push({ object: name, text: `enum type ${name} is gone after the rollback` });
    else out.push({ object: name, text: `enum type ${name} was (${was.join(', ')}), is now (${now.join(', ')})` });
  }
  for (const rel of keys(before.data, after.data)) {
    const was = before.data[rel];
    const now = after.data[rel];
    if (!was || !now) continue; // reported with the relation
    // A row's text includes every column: when the columns changed (reported above), so did every row's text.
    const sameColumns = JSON.stringify(Object.keys(before.columns[rel] ?? {})) === JSON.stringify(Object.keys(after.columns[rel] ?? {}));
    if (was.rows !== now.rows) out.push({ table: rel, text: `table ${rel} had ${was.rows} row(s) before, ${now.rows} after the rollback` });
    else if (was.hash !== now.hash && sameColumns) out.push({ table: rel, text: `table ${rel} has the same ${was.rows} row(s) in number, but their content differs` });
  }
  const rowKey = (r: Fingerprint['tracking'][number]) => `${r.table}\u0000${r.migration}`;
  const wasRows = new Map(before.tracking.map((r) => [rowKey(r), r]));
  const nowRows = new Map(after.tracking.map((r) => [rowKey(r), r]));
  for (const key of [...new Set([...wasRows.keys(), ...nowRows.keys()])].sort()) {
    const was = wasRows.get(key);
    const now = nowRows.get(key);
    const r = (now ?? was)!;
    const where = `${r.table}`;
    if (!was) out.push({ table: r.table, migration: r.migration, text: `${where}: a row for ${r.migration} (${describe(now!.facts)}) exists after the rollback, not before` });
    else if (!now) out.push({ table: r.table, migration: r.migration, text: `${where}: the row for ${r.migration} (${describe(was.facts)}) is gone after the rollback` });
    else {
      const changed = keys(was.facts, now.facts).filter((k) => was.facts[k] !== now.facts[k]);
      if (changed.length) out.push({ table: r.table, migration: r.migration, text: `${where}: ${r.migration}: ${changed.map((k) => `${k} was ${show(was.facts[k])}, is now ${show(now.facts[k])}`).join('; ')}` });
    }
  }
  return out;
}

function show(v: string | null | undefined): string {
  if (v === null || v === undefined) return 'NULL';
  const t = v.length > 60 ? `${v.slice(0, 57)}…` : v;
  return JSON.stringify(t);
}

function describe(facts: Record<string, string | null>): string {
  return facts.state ?? Object.entries(facts).map(([k, v]) => `${k} ${show(v)}`).join(', ');
}

/** Does a declaration cover a difference? A table matches with or without its schema. */
function covers(d: Declared, diff: Difference): boolean {
  const sameTable = (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && (a === b || b.endsWith(`.${a}`) || a.endsWith(`.${b}`));
  if (d.migration !== undefined) return diff.migration !== undefined && (diff.migration === d.migration || diff.migration.startsWith(`${d.migration} `));
  if (d.object !== undefined) return diff.object !== undefined && (diff.object === d.object || diff.object.endsWith(`.${d.object}`));
  if (d.table !== undefined) return sameTable(d.table, diff.table) && diff.migration === undefined;
  return false;
}

export function rollbackVerdict(differences: readonly Difference[], declared: readonly Declared[]): Verdict {
  const undeclared: Difference[] = [];
  const matched: Verdict['declared'] = [];
  const used = new Set<Declared>();
  for (const diff of differences) {
    const d = declared.find((x) => covers(x, diff));
    if (d) {
      used.add(d);
      matched.push({ ...diff, reason: d.reason });
    } else undeclared.push(diff);
  }
  const restored = undeclared.length ? 'no' : matched.length ? 'yes-except-declared' : 'yes';
  return { restored, undeclared, declared: matched, unused: declared.filter((d) => !used.has(d)) };
}
