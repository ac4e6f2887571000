/**
 * Stand-ins for pg_dump, pg_restore and psql, so a drill's backup and restore steps work on a
 * laptop with nothing but Node (or with client tools older than the drill server). The dump is
 * plain SQL (schema from the catalogs, data as INSERTs); it restores into a drill database, and
 * says on its first line that it is not pg_dump's own format.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { StandinIO } from './io.js';

const MARK = '-- drillbook stand-in dump';

interface Conn {
  config: pg.ClientConfig;
  label: string;
}

/** libpq-style arguments: a URL or dbname (positional or -d), -h, -p, -U. */
function connection(args: string[], io: StandinIO, positional: string | undefined): Conn {
  const get = (short: string, long: string) => {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === short || a === long) return args[i + 1];
      if (a.startsWith(`${long}=`)) return a.slice(long.length + 1);
      if (a.startsWith(short) && a.length > short.length && !a.startsWith('--')) return a.slice(short.length);
    }
    return undefined;
  };
  const db = get('-d', '--dbname') ?? positional;
  const config: pg.ClientConfig = {};
  if (db && /^postgres(ql)?:\/\//.test(db)) config.connectionString = db;
  else if (db) config.database = db;
  const host = get('-h', '--host');
  const port = get('-p', '--port');
  const user = get('-U', '--username');
  if (host) config.host = host;
  if (port) config.port = Number(port);
  if (user) config.user = user;
  if (!config.connectionString && !db && io.env.PGDATABASE) config.database = io.env.PGDATABASE;
  let label = db ?? config.database ?? 'postgres';
  try {
    if (config.connectionString) label = new URL(config.connectionString).pathname.slice(1);
  } catch {
    // keep the raw name
  }
  return { config, label };
}

function flag(args: string[], ...names: string[]): boolean {
  return args.some((a) => names.includes(a));
}

function values(args: string[], short: string, long: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === short || a === long) out.push(args[++i]!);
    else if (a.startsWith(`${long}=`)) out.push(a.slice(long.length + 1));
  }
  return out;
}

/** The arguments that are not options (and not option values). */
function positionals(args: string[], withValue: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (withValue.includes(a)) i++;
    else if (!a.startsWith('-')) out.push(a);
  }
  return out;
}

async function connect(conn: Conn): Promise<pg.Client> {
  const c = new pg.Client({ ...conn.config, application_name: 'drillbook-standin' });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

const qi = (s: string) => `"${s.replace(/"/g, '""')}"`;
const ql = (s: string | null) => (s === null ? 'NULL' : `'${s.replace(/'/g, "''")}'`);

export async function dumpSql(c: pg.Client, opts: { schemaOnly: boolean; dataOnly: boolean; tables: string[]; clean: boolean }, label: string): Promise<string> {
  const out: string[] = [`${MARK} of ${label}, ${new Date().toISOString()}: plain SQL, not pg_dump's own format`, "SET client_encoding = 'UTF8';", ''];
  const tableFilter = opts.tables.map((t) => t.replace(/^"|"$/g, ''));
  const rels = (
    await c.query(`
      SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind, c.relispartition AS part,
             pg_get_partkeydef(c.oid) AS partkey, pg_get_expr(c.relpartbound, c.oid) AS bound,
             (SELECT format('%I.%I', pn.nspname, p.relname) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid) AS parent
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_%'
      ORDER BY c.relispartition, n.nspname, c.relname`)
  ).rows as Array<{ oid: number; schema: string; name: string; relkind: string; part: boolean; partkey: string | null; bound: string | null; parent: string | null }>;
  const chosen = tableFilter.length ? rels.filter((r) => tableFilter.includes(r.name) || tableFilter.includes(`${r.schema}.${r.name}`)) : rels;
  const fq = (r: { schema: string; name: string }) => `${qi(r.schema)}.${qi(r.name)}`;

  if (!opts.dataOnly) {
    if (opts.clean) for (const r of [...chosen].reverse()) out.push(`DROP TABLE IF EXISTS ${fq(r)} CASCADE;`);
    const schemas = [...new Set(chosen.map((r) => r.schema))].filter((s) => s !== 'public');
    for (const s of schemas) out.push(`CREATE SCHEMA IF NOT EXISTS ${qi(s)};`);
    const enums = (await c.query(`SELECT n.nspname AS schema, t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace GROUP BY 1, 2 ORDER BY 1, 2`)).rows as Array<{ schema: string; name: string; labels: string[] }>;
    for (const e of enums) {
      if (opts.clean) out.push(`DROP TYPE IF EXISTS ${fq(e)} CASCADE;`);
      out.push(`DO $$ BEGIN CREATE TYPE ${fq(e)} AS ENUM (${e.labels.map(ql).join(', ')}); EXCEPTION WHEN duplicate_object THEN NULL; END $$;`);
    }
    const seqs = (await c.query(`SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'i')`)).rows as Array<{ schema: string; name: string }>;
    for (const s of seqs) out.push(`CREATE SEQUENCE IF NOT EXISTS ${fq(s)};`);
    out.push('');
    for (const r of chosen) {
      if (r.part && r.parent) {
        out.push(`CREATE TABLE ${fq(r)} PARTITION OF ${r.parent} ${r.bound};`);
        continue;
      }
      const cols = (await c.query(`SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
          pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity AS identity, a.attgenerated AS generated
        FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, [r.oid])).rows as Array<{ name: string; type: string; notnull: boolean; def: string | null; identity: string; generated: string }>;
      const defs = cols.map((col) => {
        let d = `    ${qi(col.name)} ${col.type}`;
        if (col.generated === 's') d += ` GENERATED ALWAYS AS (${col.def}) STORED`;
        else if (col.identity) d += ` GENERATED ${col.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`;
        else if (col.def) d += ` DEFAULT ${col.def}`;
        if (col.notnull) d += ' NOT NULL';
        return d;
      });
      out.push(`CREATE TABLE ${fq(r)} (\n${defs.join(',\n')}\n)${r.relkind === 'p' ? ` PARTITION BY ${r.partkey}` : ''};`);
    }
    out.push('');
  }

  if (!opts.schemaOnly) {
    for (const r of chosen) {
      if (r.relkind === 'p') continue; // data lives in the partitions
      const cols = (await c.query("SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum", [r.oid])).rows.map((x: { attname: string }) => x.attname);
      const rows = await c.query({ text: `SELECT ${cols.map(qi).join(', ')} FROM ${fq(r)}`, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
      for (const row of rows.rows as Array<Array<string | null>>) {
        out.push(`INSERT INTO ${fq(r)} (${cols.map(qi).join(', ')}) OVERRIDING SYSTEM VALUE VALUES (${row.map(ql).join(', ')});`);
      }
    }
    const seqVals = (await c.query(`SELECT format('%I.%I', n.nspname, c.relname) AS seq, s.last_value::text AS v FROM pg_sequences s
      JOIN pg_namespace n ON n.nspname = s.schemaname JOIN pg_class c ON c.relname = s.sequencename AND c.relnamespace = n.oid WHERE s.last_value IS NOT NULL`)).rows as Array<{ seq: string; v: string }>;
    for (const s of seqVals) out.push(`SELECT pg_catalog.setval(${ql(s.seq)}, ${s.v}, true);`);
    out.push('');
  }

  if (!opts.dataOnly) {
    const oids = chosen.map((r) => r.oid);
    const cons = (await c.query(`SELECT conrelid::regclass::text AS rel, conname AS name, pg_get_constraintdef(oid) AS def, contype
      FROM pg_constraint WHERE conrelid = ANY($1) AND conparentid = 0 AND contype IN ('p', 'u', 'c', 'x', 'f') ORDER BY contype = 'f', conrelid, conname`, [oids])).rows as Array<{ rel: string; name: string; def: string }>;
    for (const k of cons) out.push(`ALTER TABLE ${k.rel} ADD CONSTRAINT ${qi(k.name)} ${k.def};`);
    const idx = (await c.query(`SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
      WHERE i.indrelid = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)`, [oids])).rows as Array<{ def: string }>;
    for (const i of idx) out.push(`${i.def};`);
  }
  return `${out.join('\n')}\n`;
}

export async function pgDumpStandin(args: string[], io: StandinIO): Promise<number> {
  const withValue = ['-f', '--file', '-F', '--format', '-t', '--table', '-d', '--dbname', '-h', '--host', '-p', '--port', '-U', '--username', '-n', '--schema'];
  const conn = connection(args, io, positionals(args, withValue)[0]);
  const file = values(args, '-f', '--file')[0];
  let c: pg.Client;
  try {
    c = await connect(conn);
  } catch (e) {
    io.err(`pg_dump: error: connection to server failed: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const sql = await dumpSql(c, { schemaOnly: flag(args, '-s', '--schema-only'), dataOnly: flag(args, '-a', '--data-only'), tables: values(args, '-t', '--table'), clean: flag(args, '-c', '--clean') }, conn.label);
    if (file) writeFileSync(path.resolve(io.cwd, file), sql);
    else io.out(sql);
    return 0;
  } catch (e) {
    io.err(`pg_dump: error: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function pgRestoreStandin(args: string[], io: StandinIO): Promise<number> {
  const withValue = ['-d', '--dbname', '-h', '--host', '-p', '--port', '-U', '--username', '-F', '--format'];
  const file = positionals(args, withValue)[0];
  if (!file) {
    io.err('pg_restore: error: the stand-in reads a dump file: pg_restore -d URL FILE\n');
    return 1;
  }
  const text = readFileSync(path.resolve(io.cwd, file), 'utf8');
  if (!text.startsWith(MARK)) {
    io.err(`pg_restore: error: ${file} was not written by drillbook's pg_dump stand-in; restore it with the real pg_restore\n`);
    return 1;
  }
  const conn = connection(args, io, undefined);
  const c = await connect(conn);
  try {
    // --clean: drop what the dump creates first (the dump itself holds the DROPs when taken with --clean).
    if (flag(args, '-c', '--clean')) {
      const tables = [...text.matchAll(/^CREATE TABLE ("[^"]+"\."[^"]+")/gm)].map((m) => m[1]!);
      for (const t of tables.reverse()) await c.query(`DROP TABLE IF EXISTS ${t} CASCADE`);
    }
    await c.query(text);
    return 0;
  } catch (e) {
    io.err(`pg_restore: error: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function psqlStandin(args: string[], io: StandinIO, stdin: () => Promise<string>): Promise<number> {
  const withValue = ['-c', '--command', '-f', '--file', '-d', '--dbname', '-h', '--host', '-p', '--port', '-U', '--username', '-v', '--set', '-o', '--output'];
  const conn = connection(args, io, positionals(args, withValue)[0]);
  const commands = values(args, '-c', '--command');
  const files = values(args, '-f', '--file');
  const tuplesOnly = flag(args, '-t', '--tuples-only', '-At', '-tA');
  const unaligned = flag(args, '-A', '--no-align', '-At', '-tA');
  let sqls = [...commands, ...files.map((f) => readFileSync(path.resolve(io.cwd, f), 'utf8'))];
  if (sqls.length === 0) sqls = [await stdin()];
  let c: pg.Client;
  try {
    c = await connect(conn);
  } catch (e) {
    io.err(`psql: error: connection to server failed: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    for (const sql of sqls) {
      if (/^\s*\\/m.test(sql)) {
        io.err('psql: error: the stand-in runs SQL only, not psql meta-commands (\\...)\n');
        return 1;
      }
      const res = await c.query({ text: sql, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
      const results = (Array.isArray(res) ? res : [res]) as pg.QueryArrayResult[];
      for (const r of results) {
        if (!r.fields?.length) {
          io.out(`${r.command}${r.command === 'INSERT' ? ' 0' : ''}${r.rowCount !== null && r.command !== 'CREATE' && r.command !== 'ALTER' && r.command !== 'DROP' ? ` ${r.rowCount}` : ''}\n`);
          continue;
        }
        const rows = r.rows as Array<Array<string | null>>;
        if (unaligned) {
          if (!tuplesOnly) io.out(`${r.fields.map((f) => f.name).join('|')}\n`);
          for (const row of rows) io.out(`${row.map((v) => v ?? '').join('|')}\n`);
          continue;
        }
        const widths = r.fields.map((f, i) => Math.max(tuplesOnly ? 0 : f.name.length, ...rows.map((row) => (row[i] ?? '').length)));
        if (!tuplesOnly) {
          io.out(` ${r.fields.map((f, i) => f.name.padEnd(widths[i]!)).join(' | ')}\n`);
          io.out(`${widths.map((w) => '-'.repeat(w + 2)).join('+')}\n`);
        }
        for (const row of rows) io.out(` ${row.map((v, i) => (v ?? '').padEnd(widths[i]!)).join(' | ')}\n`);
        if (!tuplesOnly) io.out(`(${rows.length} row${rows.length === 1 ? '' : 's'})\n\n`);
      }
    }
    return 0;
  } catch (e) {
    io.err(`psql: ERROR:  ${(e as Error).message}\n`);
    return 1;
  } finally {
    await c.end().catch(() => undefined);
  }
}
