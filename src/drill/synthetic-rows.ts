/**
 * Rows a drill makes up when an incident needs data the project's database would hold: two pairs
 * of rows sharing a value, for a unique index to fail on. Columns with a default keep it; every
 * other NOT NULL column gets a plain value of its type; a foreign key points at a row of the
 * referenced table (made up the same way when that table is empty). Everything goes through bind
 * parameters and quoted identifiers; a constraint the values cannot meet is said, not guessed around.
 */
import type pg from 'pg';
import { DrillbookError } from '../core/errors.js';

const qi = (s: string) => `"${s.replace(/"/g, '""')}"`;

interface Column {
  name: string;
  type: string;
  category: string;
  notnull: boolean;
  hasDefault: boolean;
  generated: boolean;
  maxLength: number | null;
  enumLabel: string | null;
}

interface ForeignKey {
  columns: string[];
  refTable: string;
  refColumns: string[];
}

async function columnsOf(c: pg.Client, table: string): Promise<Column[]> {
  const r = await c.query(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typcategory AS category, a.attnotnull AS notnull,
            a.atthasdef OR a.attidentity <> '' AS "hasDefault", a.attgenerated <> '' AS generated,
            CASE WHEN a.atttypmod > 4 AND t.typcategory = 'S' THEN a.atttypmod - 4 END AS "maxLength",
            (SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = a.atttypid ORDER BY e.enumsortorder LIMIT 1) AS "enumLabel"
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [table],
  );
  return r.rows as Column[];
}

async function foreignKeysOf(c: pg.Client, table: string): Promise<ForeignKey[]> {
  const r = await c.query(
    `SELECT (SELECT array_agg(a.attname ORDER BY k.i) FROM unnest(f.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.n) AS columns,
            f.confrelid::regclass::text AS "refTable",
            (SELECT array_agg(a.attname ORDER BY k.i) FROM unnest(f.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.n) AS "refColumns"
     FROM pg_constraint f WHERE f.conrelid = $1::regclass AND f.contype = 'f'`,
    [table],
  );
  return r.rows as ForeignKey[];
}

/** A value of the column's type, distinct per `n` where the type allows; `null` when none is known. */
function valueFor(col: Column, n: number, tag: string): { sql: string; value: unknown } | null {
  const t = col.type.toLowerCase();
  if (col.enumLabel !== null) return { sql: `$::${col.type}`, value: col.enumLabel };
  if (t === 'uuid') return { sql: 'gen_random_uuid()', value: undefined };
  if (t === 'boolean') return { sql: '$::boolean', value: false };
  if (t === 'json' || t === 'jsonb') return { sql: `$::${t}`, value: '{}' };
  if (t === 'bytea') return { sql: '$::bytea', value: `\\x${n.toString(16).padStart(2, '0')}` };
  if (t.startsWith('timestamp') || t === 'date') return { sql: `(now() - make_interval(secs => $))::${col.type}`, value: n };
  if (t.startsWith('time')) return { sql: `$::${col.type}`, value: '12:00' };
  if (t === 'interval') return { sql: '$::interval', value: `${n} seconds` };
  if (t === 'inet' || t === 'cidr') return { sql: `$::${t}`, value: `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}` };
  if (t.endsWith('[]')) return { sql: `$::${col.type}`, value: '{}' };
  if (col.category === 'N') return { sql: `$::${col.type}`, value: n };
  if (col.category === 'S') {
    const text = `${tag}-${n}`;
    return { sql: `$::${col.type}`, value: col.maxLength !== null ? text.slice(-col.maxLength) : text };
  }
  return null;
}

let counter = 0;

/** Insert one row into `table`, each column in `fixed` set to the given SQL value; returns nothing. */
async function insertRow(c: pg.Client, table: string, fixed: Record<string, { sql: string; value?: unknown }>, depth: number): Promise<void> {
  if (depth > 6) throw new DrillbookError(`making up rows for ${table}: its foreign keys go more than 6 tables deep`, { exitCode: 1 });
  const cols = await columnsOf(c, table);
  const fks = await foreignKeysOf(c, table);
  const set: Record<string, { sql: string; value?: unknown }> = { ...fixed };
  for (const fk of fks) {
    if (fk.columns.every((col) => set[col] !== undefined)) continue;
    const needed = fk.columns.some((col) => cols.find((x) => x.name === col)?.notnull && !cols.find((x) => x.name === col)?.hasDefault);
    if (!needed) continue;
    if (fk.refTable === table || fk.refTable.replace(/"/g, '') === table.replace(/"/g, '')) throw new DrillbookError(`making up rows for ${table}: it references itself with a NOT NULL foreign key`, { exitCode: 1 });
    let parent = await c.query(`SELECT ${fk.refColumns.map(qi).join(', ')} FROM ${fk.refTable} LIMIT 1`);
    if (parent.rowCount === 0) {
      await insertRow(c, fk.refTable, {}, depth + 1);
      parent = await c.query(`SELECT ${fk.refColumns.map(qi).join(', ')} FROM ${fk.refTable} LIMIT 1`);
    }
    fk.columns.forEach((col, i) => {
      set[col] = { sql: `$::${cols.find((x) => x.name === col)!.type}`, value: (parent.rows[0] as Record<string, unknown>)[fk.refColumns[i]!] };
    });
  }
  for (const col of cols) {
    if (set[col.name] !== undefined || col.generated || col.hasDefault || !col.notnull) continue;
    const v = valueFor(col, ++counter, 'drill');
    if (!v) throw new DrillbookError(`making up rows for ${table}: no value known for its NOT NULL column ${col.name} (${col.type})`, { exitCode: 1, hint: 'rehearse from a dump with data (--from-dump), or a fixture whose data holds the rows' });
    set[col.name] = v;
  }
  const names = Object.keys(set);
  const values: unknown[] = [];
  const exprs = names.map((name) => {
    const v = set[name]!;
    if (v.value === undefined) return v.sql;
    values.push(v.value);
    return v.sql.replace('$', `$${values.length}`);
  });
  const sql = names.length ? `INSERT INTO ${table} (${names.map(qi).join(', ')}) VALUES (${exprs.join(', ')})` : `INSERT INTO ${table} DEFAULT VALUES`;
  try {
    await c.query(sql, values);
  } catch (e) {
    const err = e as { code?: string; message: string };
    throw new DrillbookError(`making up rows for ${table} failed: ${err.message}${err.code ? ` (${err.code})` : ''}`, { exitCode: 1, hint: 'rehearse from a dump with data (--from-dump), or a fixture whose data holds the duplicate rows' });
  }
}

/**
 * Make sure some value of `column` is held by more than one row of `table` (schema-qualified,
 * quoted): when none is, add two pairs of rows sharing a value. Returns how many rows were added.
 */
export async function ensureDuplicates(c: pg.Client, table: string, column: string): Promise<number> {
  const dup = await c.query(`SELECT 1 FROM ${table} WHERE ${qi(column)} IS NOT NULL GROUP BY ${qi(column)} HAVING count(*) > 1 LIMIT 1`);
  if (dup.rowCount) return 0;
  const col = (await columnsOf(c, table)).find((x) => x.name === column);
  if (!col) throw new DrillbookError(`${table} has no column ${column}`, { exitCode: 1 });
  const fks = await foreignKeysOf(c, table);
  let added = 0;
  for (const pair of [1, 2]) {
    let fixed: { sql: string; value?: unknown };
    const fk = fks.find((f) => f.columns.length === 1 && f.columns[0] === column);
    if (fk) {
      await insertRow(c, fk.refTable, {}, 1);
      const parent = await c.query(`SELECT ${qi(fk.refColumns[0]!)} AS v FROM ${fk.refTable} ORDER BY 1 DESC LIMIT 1`);
      fixed = { sql: `$::${col.type}`, value: (parent.rows[0] as { v: unknown }).v };
    } else {
      const v = valueFor(col, 900_000 + pair, 'duplicate');
      if (!v || v.value === undefined) throw new DrillbookError(`making up duplicate rows: no shared value known for ${table}.${column} (${col.type})`, { exitCode: 1 });
      fixed = v;
    }
    for (let i = 0; i < 2; i++) {
      await insertRow(c, table, { [column]: fixed }, 0);
      added++;
    }
  }
  return added;
}
