/**
 * A fingerprint of a drill database: its schema (schemas, tables, columns and their types,
 * indexes and whether they are valid, constraints and whether they are validated, enum types,
 * sequences), the migration tools' tracking rows, and every table's row count and content hash.
 * Taken before a rehearsed rollback and after it, the two say whether the state came back: proof,
 * not trust. Read in one REPEATABLE READ, READ ONLY transaction.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';

export interface TableData {
  rows: number;
  /** md5 over the sorted md5 of every row's text: independent of physical order. */
  hash: string;
}

export interface TrackingRow {
  tool: 'prisma' | 'drizzle' | 'ecto';
  table: string;
  /** The migration the row is about (its name, hash or version). */
  migration: string;
  /** What must come back as it was (timestamps of re-inserted rows are left out). */
  facts: Record<string, string | null>;
}

export interface Fingerprint {
  schemas: string[];
  /** "schema.name" → relkind (r table, p partitioned, v view, m materialized view, f foreign, S sequence). */
  relations: Record<string, string>;
  /** "schema.table" → "column" → "type [not null] [default …]". */
  columns: Record<string, Record<string, string>>;
  /** "schema.index" → { table, definition, valid }. */
  indexes: Record<string, { table: string; definition: string; valid: boolean }>;
  /** "schema.table.constraint" → { definition, validated }. */
  constraints: Record<string, { table: string; definition: string; validated: boolean }>;
  /** "schema.type" → labels. */
  enums: Record<string, string[]>;
  data: Record<string, TableData>;
  tracking: TrackingRow[];
  digest: string;
}

const SYSTEM = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;
const qi = (s: string) => `"${s.replace(/"/g, '""')}"`;

const TRACKING_TABLES: Record<string, TrackingRow['tool']> = { _prisma_migrations: 'prisma', __drizzle_migrations: 'drizzle', schema_migrations: 'ecto' };

export async function takeFingerprint(client: pg.Client): Promise<Omit<Fingerprint, 'digest'> & { digest: string }> {
  await client.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const q = async <T extends Record<string, unknown>>(sql: string): Promise<T[]> => (await client.query(sql)).rows as T[];
    const schemas = (await q<{ s: string }>(`SELECT n.nspname AS s FROM pg_namespace n WHERE ${SYSTEM} ORDER BY 1`)).map((r) => r.s);
    const relations: Fingerprint['relations'] = {};
    for (const r of await q<{ s: string; t: string; k: string }>(`SELECT n.nspname AS s, c.relname AS t, c.relkind::text AS k FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ${SYSTEM} ORDER BY 1, 2`)) {
      relations[`${r.s}.${r.t}`] = r.k;
    }
    const columns: Fingerprint['columns'] = {};
    for (const r of await q<{ s: string; t: string; c: string; ty: string; nn: boolean; d: string | null }>(
      `SELECT n.nspname AS s, c.relname AS t, a.attname AS c, format_type(a.atttypid, a.atttypmod) AS ty, a.attnotnull AS nn, pg_get_expr(d.adbin, d.adrelid) AS d
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${SYSTEM} ORDER BY 1, 2, a.attnum`,
    )) {
      (columns[`${r.s}.${r.t}`] ??= {})[r.c] = `${r.ty}${r.nn ? ' not null' : ''}${r.d !== null ? ` default ${r.d}` : ''}`;
    }
    const indexes: Fingerprint['indexes'] = {};
    for (const r of await q<{ s: string; t: string; i: string; def: string; valid: boolean }>(
      `SELECT n.nspname AS s, t.relname AS t, i.relname AS i, pg_get_indexdef(x.indexrelid) AS def, x.indisvalid AS valid
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
       WHERE ${SYSTEM} ORDER BY 1, 3`,
    )) {
      indexes[`${r.s}.${r.i}`] = { table: `${r.s}.${r.t}`, definition: r.def, valid: r.valid };
    }
    const constraints: Fingerprint['constraints'] = {};
    for (const r of await q<{ s: string; t: string; c: string; def: string; v: boolean }>(
      `SELECT n.nspname AS s, t.relname AS t, co.conname AS c, pg_get_constraintdef(co.oid) AS def, co.convalidated AS v
       FROM pg_constraint co JOIN pg_class t ON t.oid = co.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
       WHERE ${SYSTEM} ORDER BY 1, 2, 3`,
    )) {
      constraints[`${r.s}.${r.t}.${r.c}`] = { table: `${r.s}.${r.t}`, definition: r.def, validated: r.v };
    }
    const enums: Fingerprint['enums'] = {};
    for (const r of await q<{ s: string; t: string; labels: string[] }>(
      `SELECT n.nspname AS s, t.typname AS t, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${SYSTEM} GROUP BY 1, 2 ORDER BY 1, 2`,
    )) {
      enums[`${r.s}.${r.t}`] = r.labels;
    }

    const data: Fingerprint['data'] = {};
    const tracking: TrackingRow[] = [];
    for (const [rel, kind] of Object.entries(relations)) {
      if (kind !== 'r') continue;
      const dot = rel.indexOf('.');
      const schema = rel.slice(0, dot);
      const table = rel.slice(dot + 1);
      const tool = TRACKING_TABLES[table];
      if (tool) {
        const rows = await trackingRows(client, tool, schema, table);
        if (rows) {
          tracking.push(...rows);
          continue;
        }
      }
      const r = (await client.query(`SELECT count(*)::text AS n, coalesce(md5(string_agg(h, '' ORDER BY h)), '') AS hash FROM (SELECT md5(t::text) AS h FROM ONLY ${qi(schema)}.${qi(table)} t) rows`)).rows[0] as { n: string; hash: string };
      data[rel] = { rows: Number(r.n), hash: r.hash };
    }
    const fp = { schemas, relations, columns, indexes, constraints, enums, data, tracking };
    return { ...fp, digest: createHash('sha256').update(JSON.stringify(fp)).digest('hex') };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/** The tracking rows of a tool, reduced to what a rollback must restore; undefined if the table is not the tool's. */
async function trackingRows(client: pg.Client, tool: TrackingRow['tool'], schema: string, table: string): Promise<TrackingRow[] | undefined> {
  const from = `${qi(schema)}.${qi(table)}`;
  const label = `${schema}.${table}`;
  try {
    await client.query('SAVEPOINT fingerprint_tracking');
    let out: TrackingRow[];
    if (tool === 'prisma') {
      const rows = (await client.query(`SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back, applied_steps_count::text AS steps, coalesce(logs, '') AS logs FROM ${from} ORDER BY migration_name, started_at, id`)).rows as Array<{ migration_name: string; checksum: string; finished: boolean; rolled_back: boolean; steps: string; logs: string }>;
      const seen = new Map<string, number>();
      out = rows.map((r) => {
        const n = (seen.get(r.migration_name) ?? 0) + 1;
        seen.set(r.migration_name, n);
        const state = r.rolled_back ? 'rolled back' : r.finished ? 'applied' : 'failed';
        return { tool, table: label, migration: n > 1 ? `${r.migration_name} (row ${n})` : r.migration_name, facts: { state, checksum: r.checksum, applied_steps_count: r.steps, logs: r.logs } };
      });
    } else if (tool === 'drizzle') {
      const rows = (await client.query(`SELECT hash, created_at::text AS created_at FROM ${from} ORDER BY created_at, hash`)).rows as Array<{ hash: string; created_at: string | null }>;
      out = rows.map((r) => ({ tool, table: label, migration: `${r.created_at ?? 'NULL'} (${r.hash.slice(0, 12)})`, facts: { hash: r.hash, created_at: r.created_at } }));
    } else {
      const rows = (await client.query(`SELECT version::text AS version FROM ${from} ORDER BY version`)).rows as Array<{ version: string }>;
      out = rows.map((r) => ({ tool, table: label, migration: r.version, facts: { version: r.version } }));
    }
    await client.query('RELEASE SAVEPOINT fingerprint_tracking');
    return out;
  } catch {
    // Not the tool's table after all (other columns): fingerprint it as data.
    await client.query('ROLLBACK TO SAVEPOINT fingerprint_tracking').catch(() => undefined);
    return undefined;
  }
}
