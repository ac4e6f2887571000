/**
 * Stand-ins for pg_dump, pg_restore and psql, so a drill's backup and restore steps work on a
 * laptop with nothing but Node, or with client tools older than the drill server. Modelled on the
 * real tools stream by stream (data on stdout, messages and errors on stderr) and exit code by exit
 * code (psql: 3 when ON_ERROR_STOP stops a script, 1 for a failed -c, 2 for a lost connection).
 *
 * Formats: `pg_dump` (plain) writes SQL a real psql can run, under pg_dump's own header, so a real
 * pg_restore refuses it exactly as it refuses any text dump ("Please use psql"). `pg_dump
 * --format=custom` writes an archive of the stand-in's own (a signature line, then one JSON entry
 * per object, like pg_dump's TOC): the stand-in pg_restore reads it (--list, -d, --clean,
 * --if-exists, -a, -s, -t, -1, -e), and a real pg_restore refuses it cleanly ("input file does
 * not appear to be a valid archive"). Directory and tar formats are refused.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { StandinIO } from './io.js';

/** pg_dump's own header of a plain dump: what pg_restore recognises as "a text format dump". */
const TEXT_HEADER = '--\n-- PostgreSQL database dump\n--\n\n';
/** The first line of a stand-in custom-format archive (a real archive starts with PGDMP). */
export const ARCHIVE_SIGNATURE = 'DRILLBOOK-STANDIN-ARCHIVE 1';

interface Entry {
  desc: string;
  schema: string;
  name: string;
  sql: string;
}

interface ArchiveHeader {
  dbname: string;
  created: string;
  serverVersion: string;
}

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

/** The dump as archive entries (pg_dump's TOC): what each statement creates, and its SQL. */
export async function dumpEntries(c: pg.Client, opts: { schemaOnly: boolean; dataOnly: boolean; tables: string[] }): Promise<Entry[]> {
  const out: Entry[] = [];
  const add = (desc: string, schema: string, name: string, sql: string) => out.push({ desc, schema, name, sql });
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
  const owners: Array<{ schema: string; name: string; sql: string }> = [];

  if (!opts.dataOnly) {
    const schemas = [...new Set(chosen.map((r) => r.schema))].filter((s) => s !== 'public');
    for (const s of schemas) add('SCHEMA', '-', s, `CREATE SCHEMA IF NOT EXISTS ${qi(s)};`);
    const enums = (await c.query(`SELECT n.nspname AS schema, t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace GROUP BY 1, 2 ORDER BY 1, 2`)).rows as Array<{ schema: string; name: string; labels: string[] }>;
    for (const e of enums) add('TYPE', e.schema, e.name, `CREATE TYPE ${fq(e)} AS ENUM (${e.labels.map(ql).join(', ')});`);
    // As pg_dump writes them: type, bounds, increment, cache, cycle; the owning column after the tables.
    const seqs = (await c.query(`SELECT n.nspname AS schema, c.relname AS name, format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start,
        s.seqincrement::text AS inc, s.seqmin::text AS min, s.seqmax::text AS max, s.seqcache::text AS cache, s.seqcycle AS cycle,
        (SELECT format('%I.%I.%I', tn.nspname, t.relname, a.attname) FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
           JOIN pg_namespace tn ON tn.oid = t.relnamespace JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a') AS owned_by
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
      WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'i')`)).rows as Array<{ schema: string; name: string; type: string; start: string; inc: string; min: string; max: string; cache: string; cycle: boolean; owned_by: string | null }>;
    for (const s of seqs) {
      add('SEQUENCE', s.schema, s.name, `CREATE SEQUENCE ${fq(s)}\n    AS ${s.type}\n    START WITH ${s.start}\n    INCREMENT BY ${s.inc}\n    MINVALUE ${s.min}\n    MAXVALUE ${s.max}\n    CACHE ${s.cache}${s.cycle ? '\n    CYCLE' : ''};`);
    }
    owners.push(...seqs.filter((s) => s.owned_by).map((s) => ({ schema: s.schema, name: s.name, sql: `ALTER SEQUENCE ${fq(s)} OWNED BY ${s.owned_by};` })));
    for (const r of chosen) {
      if (r.part && r.parent) {
        add('TABLE', r.schema, r.name, `CREATE TABLE ${fq(r)} PARTITION OF ${r.parent} ${r.bound};`);
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
      add('TABLE', r.schema, r.name, `CREATE TABLE ${fq(r)} (\n${defs.join(',\n')}\n)${r.relkind === 'p' ? ` PARTITION BY ${r.partkey}` : ''};`);
    }
    for (const o of owners) add('SEQUENCE OWNED BY', o.schema, o.name, o.sql);
  }

  if (!opts.schemaOnly) {
    for (const r of chosen) {
      if (r.relkind === 'p') continue; // data lives in the partitions
      const cols = (await c.query("SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum", [r.oid])).rows.map((x: { attname: string }) => x.attname);
      const rows = await c.query({ text: `SELECT ${cols.map(qi).join(', ')} FROM ${fq(r)}`, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
      const inserts = (rows.rows as Array<Array<string | null>>).map((row) => `INSERT INTO ${fq(r)} (${cols.map(qi).join(', ')}) OVERRIDING SYSTEM VALUE VALUES (${row.map(ql).join(', ')});`);
      add('TABLE DATA', r.schema, r.name, inserts.join('\n'));
    }
    const seqVals = (await c.query(`SELECT format('%I.%I', n.nspname, c.relname) AS seq, s.last_value::text AS v FROM pg_sequences s
      JOIN pg_namespace n ON n.nspname = s.schemaname JOIN pg_class c ON c.relname = s.sequencename AND c.relnamespace = n.oid WHERE s.last_value IS NOT NULL`)).rows as Array<{ seq: string; v: string }>;
    for (const s of seqVals) add('SEQUENCE SET', s.seq.split('.')[0]!.replace(/"/g, ''), s.seq.split('.').slice(1).join('.').replace(/"/g, ''), `SELECT pg_catalog.setval(${ql(s.seq)}, ${s.v}, true);`);
  }

  if (!opts.dataOnly) {
    const oids = chosen.map((r) => r.oid);
    const cons = (await c.query(`SELECT conrelid::regclass::text AS rel, conname AS name, pg_get_constraintdef(oid) AS def, contype
      FROM pg_constraint WHERE conrelid = ANY($1) AND conparentid = 0 AND contype IN ('p', 'u', 'c', 'x', 'f') ORDER BY contype = 'f', conrelid, conname`, [oids])).rows as Array<{ rel: string; name: string; def: string }>;
    for (const k of cons) add(k.def.startsWith('FOREIGN KEY') ? 'FK CONSTRAINT' : 'CONSTRAINT', '-', `${k.rel} ${k.name}`, `ALTER TABLE ${k.rel} ADD CONSTRAINT ${qi(k.name)} ${k.def};`);
    // As pg_dump's getIndexes: an INVALID index (a failed CREATE INDEX CONCURRENTLY) is left out.
    const idx = (await c.query(`SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
      WHERE i.indrelid = ANY($1) AND (i.indisvalid OR t.relkind = 'p') AND i.indisready AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)`, [oids])).rows as Array<{ name: string; def: string }>;
    for (const i of idx) add('INDEX', '-', i.name, `${i.def};`);
  }
  return out;
}


export async function pgDumpStandin(args: string[], io: StandinIO): Promise<number> {
  const withValue = ['-f', '--file', '-F', '--format', '-t', '--table', '-d', '--dbname', '-h', '--host', '-p', '--port', '-U', '--username', '-n', '--schema', '-Z', '--compress'];
  const conn = connection(args, io, positionals(args, withValue)[0]);
  const file = values(args, '-f', '--file')[0];
  const fmtArg = values(args, '-F', '--format')[0] ?? args.find((a) => /^-F./.test(a))?.slice(2) ?? 'p';
  const format = ({ p: 'plain', plain: 'plain', c: 'custom', custom: 'custom', d: 'directory', directory: 'directory', t: 'tar', tar: 'tar' } as Record<string, string>)[fmtArg];
  if (!format) {
    io.err(`pg_dump: error: invalid output format "${fmtArg}" specified\n`);
    return 1;
  }
  if (format === 'directory' || format === 'tar') {
    io.err(`pg_dump: error: drillbook's stand-in writes the plain and custom formats only (got --format=${format}); rehearse this step with the real pg_dump (drillbook drill --tools real)\n`);
    return 1;
  }
  let c: pg.Client;
  try {
    c = await connect(conn);
  } catch (e) {
    io.err(`pg_dump: error: connection to server failed: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const entries = await dumpEntries(c, { schemaOnly: flag(args, '-s', '--schema-only'), dataOnly: flag(args, '-a', '--data-only'), tables: values(args, '-t', '--table') });
    const header: ArchiveHeader = { dbname: (await c.query('SELECT current_database() AS d')).rows[0].d as string, created: new Date().toISOString(), serverVersion: (await c.query('SHOW server_version')).rows[0].server_version as string };
    const text = format === 'custom' ? renderArchive(header, entries) : renderPlain(header, entries, { clean: flag(args, '-c', '--clean'), ifExists: flag(args, '--if-exists') });
    if (file) writeFileSync(path.resolve(io.cwd, file), text);
    else io.out(text);
    return 0;
  } catch (e) {
    io.err(`pg_dump: error: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await c.end().catch(() => undefined);
  }
}

function dropOf(e: Entry, ifExists: boolean): string | undefined {
  const ie = ifExists ? 'IF EXISTS ' : '';
  const fq = `${qi(e.schema)}.${qi(e.name)}`;
  switch (e.desc) {
    case 'TABLE':
      return `DROP TABLE ${ie}${fq} CASCADE;`;
    case 'TYPE':
      return `DROP TYPE ${ie}${fq} CASCADE;`;
    case 'SEQUENCE':
      return `DROP SEQUENCE ${ie}${fq} CASCADE;`;
    case 'SCHEMA':
      return e.name === 'public' ? undefined : `DROP SCHEMA ${ie}${qi(e.name)} CASCADE;`;
    default:
      return undefined;
  }
}

function renderPlain(h: ArchiveHeader, entries: readonly Entry[], opts: { clean: boolean; ifExists: boolean }): string {
  const out = [TEXT_HEADER.trimEnd(), '', `-- drillbook stand-in dump of ${h.dbname} (PostgreSQL ${h.serverVersion}), ${h.created}: plain SQL; restore it with psql`, '', "SET client_encoding = 'UTF8';", ''];
  if (opts.clean) for (const e of [...entries].reverse()) {
    const d = dropOf(e, opts.ifExists);
    if (d) out.push(d);
  }
  for (const e of entries) out.push(e.sql);
  return `${out.join('\n')}\n`;
}

function renderArchive(h: ArchiveHeader, entries: readonly Entry[]): string {
  return `${ARCHIVE_SIGNATURE}\n${JSON.stringify(h)}\n${entries.map((e) => JSON.stringify(e)).join('\n')}\n`;
}

function readArchive(text: string): { header: ArchiveHeader; entries: Entry[] } {
  const lines = text.split('\n').filter(Boolean);
  return { header: JSON.parse(lines[1]!) as ArchiveHeader, entries: lines.slice(2).map((l) => JSON.parse(l) as Entry) };
}

export async function pgRestoreStandin(args: string[], io: StandinIO, stdin: () => Promise<string>): Promise<number> {
  const withValue = ['-d', '--dbname', '-h', '--host', '-p', '--port', '-U', '--username', '-F', '--format', '-f', '--file', '-t', '--table', '-n', '--schema', '-j', '--jobs'];
  const file = positionals(args, withValue)[0];
  let text: string;
  try {
    text = file ? readFileSync(path.resolve(io.cwd, file), 'utf8') : await stdin();
  } catch (e) {
    io.err(`pg_restore: error: could not open input file "${file}": ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}\n`);
    return 1;
  }
  if (text.startsWith('PGDMP')) {
    io.err(`pg_restore: error: ${file ?? 'the input'} is an archive of the real pg_dump; drillbook's stand-in reads only its own: restore it with the real pg_restore (drillbook drill --tools real)\n`);
    return 1;
  }
  if (text.startsWith(TEXT_HEADER) || text.startsWith('--\n-- PostgreSQL database cluster dump')) {
    io.err('pg_restore: error: input file appears to be a text format dump. Please use psql.\n');
    return 1;
  }
  if (!text.startsWith(`${ARCHIVE_SIGNATURE}\n`)) {
    io.err('pg_restore: error: input file does not appear to be a valid archive\n');
    return 1;
  }
  const { header, entries: all } = readArchive(text);
  const tables = values(args, '-t', '--table');
  const entries = all.filter((e) => {
    if (flag(args, '-a', '--data-only') && e.desc !== 'TABLE DATA' && e.desc !== 'SEQUENCE SET') return false;
    if (flag(args, '-s', '--schema-only') && (e.desc === 'TABLE DATA' || e.desc === 'SEQUENCE SET')) return false;
    if (tables.length && !((e.desc === 'TABLE' || e.desc === 'TABLE DATA') && tables.includes(e.name))) return false;
    return true;
  });
  const outFile = values(args, '-f', '--file')[0];
  const write = (t: string) => (outFile ? writeFileSync(path.resolve(io.cwd, outFile), t, { flag: 'a' }) : io.out(t));
  if (flag(args, '-l', '--list')) {
    // Lists the archive's table of contents; never connects, never restores.
    write(`;\n; Archive created at ${header.created.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}\n;     dbname: ${header.dbname}\n;     TOC Entries: ${all.length}\n;     Format: CUSTOM (drillbook stand-in)\n;     Dumped from database version: ${header.serverVersion}\n;\n;\n; Selected TOC Entries:\n;\n`);
    entries.forEach((e, i) => write(`${i + 1}; ${e.desc} ${e.schema} ${e.name}\n`));
    return 0;
  }
  const dbname = values(args, '-d', '--dbname')[0];
  const clean = flag(args, '-c', '--clean');
  const ifExists = flag(args, '--if-exists');
  const statements = [...(clean ? [...entries].reverse().flatMap((e) => dropOf(e, ifExists) ?? []) : []), ...entries.map((e) => e.sql)];
  if (!dbname) {
    // No database: the SQL script, as pg_restore writes it.
    write(`${TEXT_HEADER}${statements.join('\n')}\n`);
    return 0;
  }
  let c: pg.Client;
  try {
    c = await connect(connection(args, io, undefined));
  } catch (e) {
    io.err(`pg_restore: error: connection to server failed: ${(e as Error).message}\n`);
    return 1;
  }
  const single = flag(args, '-1', '--single-transaction');
  const exitOnError = single || flag(args, '-e', '--exit-on-error');
  let errors = 0;
  try {
    if (single) await c.query('BEGIN');
    for (const sql of statements) {
      try {
        await c.query(sql);
      } catch (e) {
        errors++;
        io.err(`pg_restore: error: could not execute query: ERROR:  ${(e as Error).message}\nCommand was: ${sql.split('\n')[0]}\n`);
        if (exitOnError) {
          if (single) await c.query('ROLLBACK').catch(() => undefined);
          return 1;
        }
      }
    }
    if (single) await c.query('COMMIT');
  } finally {
    await c.end().catch(() => undefined);
  }
  if (errors) {
    io.err(`pg_restore: warning: errors ignored on restore: ${errors}\n`);
    return 1;
  }
  return 0;
}

// ---------- psql ----------

interface Piece {
  kind: 'sql' | 'meta' | 'copy';
  text: string;
  /** The input line the piece ends on (psql reports errors there). */
  line: number;
}

/**
 * psql's split of a script: statements end at a top-level `;` (outside quotes, dollar quotes,
 * comments and parentheses); a backslash command at the start of a statement runs to the end of its line.
 */
export function splitScript(text: string): Piece[] {
  const out: Piece[] = [];
  let buf = '';
  let line = 1;
  let i = 0;
  let depth = 0;
  const push = (kind: Piece['kind'], t: string) => {
    if (t.trim()) out.push({ kind, text: t.trim(), line });
  };
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === '\n') line++;
    if (ch === '\\' && !buf.replace(/--[^\n]*(\n|$)/g, '').trim()) {
      const end = text.indexOf('\n', i);
      const meta = end === -1 ? text.slice(i) : text.slice(i, end);
      push('meta', meta);
      buf = '';
      i = end === -1 ? text.length : end;
      continue;
    }
    if (ch === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      buf += end === -1 ? text.slice(i) : text.slice(i, end);
      i = end === -1 ? text.length : end;
      continue;
    }
    if (ch === '/' && next === '*') {
      let level = 0;
      let j = i;
      for (; j < text.length; j++) {
        if (text[j] === '/' && text[j + 1] === '*') {
          level++;
          j++;
        } else if (text[j] === '*' && text[j + 1] === '/') {
          level--;
          j++;
          if (level === 0) break;
        } else if (text[j] === '\n') line++;
      }
      buf += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const escapes = ch === "'" && /[eE]$/.test(buf) && !/\w[eE]$/.test(buf);
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '\n') line++;
        if (escapes && text[j] === '\\') {
          j++;
          continue;
        }
        if (text[j] === ch) {
          if (text[j + 1] === ch) {
            j++;
            continue;
          }
          break;
        }
      }
      buf += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i))?.[0];
      if (tag && !/[A-Za-z0-9_]$/.test(buf)) {
        const end = text.indexOf(tag, i + tag.length);
        const stop = end === -1 ? text.length : end + tag.length;
        const chunk = text.slice(i, stop);
        line += (chunk.match(/\n/g) ?? []).length;
        buf += chunk;
        i = stop;
        continue;
      }
    }
    if (ch === '(') depth++;
    if (ch === ')') depth = Math.max(0, depth - 1);
    if (ch === ';' && depth === 0) {
      push('sql', `${buf};`);
      buf = '';
      i++;
      if (/^\s*COPY\s+.+?\s+FROM\s+stdin\b/is.exec(out[out.length - 1]?.text ?? '')) {
        // The rows follow on the next line, up to a line "\.".
        const from = text.indexOf('\n', i);
        const stop = from === -1 ? -1 : text.indexOf('\n\\.', from);
        const data = from === -1 ? '' : text.slice(from + 1, stop === -1 ? text.length : stop + 1);
        line += (text.slice(i, stop === -1 ? text.length : stop + 3).match(/\n/g) ?? []).length;
        out.push({ kind: 'copy', text: data, line });
        i = stop === -1 ? text.length : stop + 3;
      }
      continue;
    }
    buf += ch;
    i++;
  }
  // psql runs what is left at the end of the input as a last statement.
  if (buf.replace(/--[^\n]*(\n|$)/g, '').trim()) push('sql', buf);
  return out;
}

/** COPY text format: one row per line, tab-separated, \N for NULL, backslash escapes. */
function copyRow(line: string): Array<string | null> {
  return line.split('\t').map((f) => (f === '\\N' ? null : f.replace(/\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))/g, (_m, oct: string | undefined, hex: string | undefined, c: string | undefined) => {
    if (oct) return String.fromCharCode(parseInt(oct, 8));
    if (hex) return String.fromCharCode(parseInt(hex, 16));
    return ({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' } as Record<string, string>)[c!] ?? c!;
  })));
}

interface PsqlState {
  vars: Map<string, string>;
  tuplesOnly: boolean;
  unaligned: boolean;
  quiet: boolean;
}

function formatResult(r: { fields: Array<{ name: string; dataTypeID: number }>; rows: Array<Array<string | null>> }, st: PsqlState): string {
  const rows = r.rows;
  if (st.unaligned) {
    const lines = rows.map((row) => row.map((v) => v ?? '').join('|'));
    if (!st.tuplesOnly) lines.unshift(r.fields.map((f) => f.name).join('|'));
    if (!st.tuplesOnly) lines.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
    return lines.length ? `${lines.join('\n')}\n` : '';
  }
  const numeric = new Set([20, 21, 23, 26, 700, 701, 1700]);
  const widths = r.fields.map((f, i) => Math.max(st.tuplesOnly ? 0 : f.name.length, ...rows.map((row) => (row[i] ?? '').length)));
  const last = r.fields.length - 1;
  // Numbers right-aligned, text left-aligned; the last column is not padded on the right.
  const cell = (v: string, i: number) => (numeric.has(r.fields[i]!.dataTypeID) ? v.padStart(widths[i]!) : i === last ? v : v.padEnd(widths[i]!));
  const lines: string[] = [];
  if (!st.tuplesOnly) {
    lines.push(` ${r.fields.map((f, i) => {
      const pad = widths[i]! - f.name.length;
      return `${' '.repeat(Math.floor(pad / 2))}${f.name}${' '.repeat(pad - Math.floor(pad / 2))}`;
    }).join(' | ')} `);
    lines.push(widths.map((w) => '-'.repeat(w + 2)).join('+'));
  }
  for (const row of rows) lines.push(` ${row.map((v, i) => cell(v ?? '', i)).join(' | ')}`);
  if (!st.tuplesOnly) lines.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`, '');
  return `${lines.join('\n')}\n`;
}

/** An error as psql prints it: where (script:line), the message, the LINE with a caret, DETAIL and HINT. */
function psqlError(e: unknown, sql: string, where: string): string {
  const err = e as { message: string; position?: string; detail?: string; hint?: string; severity?: string };
  let text = `${where}${err.severity ?? 'ERROR'}:  ${err.message}\n`;
  const pos = Number(err.position ?? 0);
  if (pos > 0) {
    const before = sql.slice(0, pos - 1);
    const lineNo = before.split('\n').length;
    const lineText = sql.split('\n')[lineNo - 1] ?? '';
    const col = before.length - before.lastIndexOf('\n') - 1;
    const prefix = `LINE ${lineNo}: `;
    text += `${prefix}${lineText}\n${' '.repeat(prefix.length + col)}^\n`;
  }
  if (err.detail) text += `DETAIL:  ${err.detail}\n`;
  if (err.hint) text += `HINT:  ${err.hint}\n`;
  return text;
}

export async function psqlStandin(args: string[], io: StandinIO, stdin: () => Promise<string>): Promise<number> {
  const withValue = ['-c', '--command', '-f', '--file', '-d', '--dbname', '-h', '--host', '-p', '--port', '-U', '--username', '-v', '--set', '--variable', '-o', '--output', '-P', '--pset', '-F', '--field-separator'];
  const pos = positionals(args, withValue);
  const conn = connection(args, io, pos[0]);
  const st: PsqlState = {
    vars: new Map(values(args, '-v', '--set').concat(values(args, '--variable', '--variable')).map((a) => [a.split('=')[0]!, a.split('=').slice(1).join('=')])),
    tuplesOnly: args.some((a) => a === '--tuples-only' || /^-[a-zA-Z]*t[a-zA-Z]*$/.test(a)),
    unaligned: args.some((a) => a === '--no-align' || /^-[a-zA-Z]*A[a-zA-Z]*$/.test(a)),
    quiet: args.some((a) => a === '--quiet' || /^-[a-zA-Z]*q[a-zA-Z]*$/.test(a)),
  };
  const single = args.includes('-1') || args.includes('--single-transaction');
  const outFile = values(args, '-o', '--output')[0];
  const out = (t: string) => (outFile ? writeFileSync(path.resolve(io.cwd, outFile), t, { flag: 'a' }) : io.out(t));
  // Every -c and -f in order; stdin when there is neither.
  const sources: Array<{ kind: 'command' | 'file'; text: string; name: string }> = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-c' || a === '--command') sources.push({ kind: 'command', text: args[++i] ?? '', name: '' });
    else if (a.startsWith('--command=')) sources.push({ kind: 'command', text: a.slice(10), name: '' });
    else if (a === '-f' || a === '--file' || a.startsWith('--file=')) {
      const f = a.startsWith('--file=') ? a.slice(7) : args[++i] ?? '';
      if (f === '-') {
        sources.push({ kind: 'file', text: await stdin(), name: '<stdin>' });
        continue;
      }
      try {
        sources.push({ kind: 'file', text: readFileSync(path.resolve(io.cwd, f), 'utf8'), name: f });
      } catch {
        io.err(`psql: error: ${f}: No such file or directory\n`);
        return 1;
      }
    }
  }
  if (sources.length === 0) sources.push({ kind: 'file', text: await stdin(), name: '<stdin>' });
  let c: pg.Client;
  try {
    c = await connect(conn);
  } catch (e) {
    io.err(`psql: error: connection to server failed: ${(e as Error).message}\n`);
    return 2;
  }
  // The server's own command tags ("CREATE TABLE", "INSERT 0 1"), which node-pg shortens.
  const tags: string[] = [];
  (c as unknown as { connection: { on(ev: string, f: (m: { text: string }) => void): void } }).connection.on('commandComplete', (m) => tags.push(m.text));
  const stopOnError = () => ['1', 'on', 'true'].includes((st.vars.get('ON_ERROR_STOP') ?? '').toLowerCase());
  const run = async (sql: string): Promise<void> => {
    tags.length = 0;
    const res = await c.query({ text: sql, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
    const results = (Array.isArray(res) ? res : [res]) as pg.QueryArrayResult[];
    results.forEach((r, i) => {
      if (r.fields?.length) out(formatResult(r as unknown as { fields: Array<{ name: string; dataTypeID: number }>; rows: Array<Array<string | null>> }, st));
      else if (!st.quiet && tags[i]) out(`${tags[i]}\n`);
    });
  };
  try {
    if (single) await c.query('BEGIN');
    for (const src of sources) {
      if (src.kind === 'command') {
        // One -c is one query (several statements in it run as one transaction); an error exits 1.
        try {
          if (/^\s*\\/.test(src.text)) {
            const r = await meta(src.text.trim(), st, out);
            if (r === 'quit') return 0;
            if (r) throw Object.assign(new Error(r), { severity: 'psql' });
          } else await run(src.text);
        } catch (e) {
          io.err(psqlError(e, src.text, ''));
          if (single) await c.query('ROLLBACK').catch(() => undefined);
          return 1;
        }
        continue;
      }
      // A script runs statement by statement (each its own transaction unless -1).
      const pieces = splitScript(src.text);
      for (let p = 0; p < pieces.length; p++) {
        const piece = pieces[p]!;
        try {
          if (piece.kind === 'meta') {
            const r = await meta(piece.text, st, out);
            if (r === 'quit') return 0;
            if (r) {
              io.err(`psql:${src.name}:${piece.line}: ${r}\n`);
              if (stopOnError()) return 3;
            }
            continue;
          }
          if (piece.kind === 'copy') continue;
          const copy = /^\s*COPY\s+(.+?)\s+FROM\s+stdin\b/is.exec(piece.text);
          if (copy && pieces[p + 1]?.kind === 'copy') {
            p++;
            await copyIn(c, copy[1]!, pieces[p]!.text, out, st, single);
          } else await run(piece.text);
        } catch (e) {
          io.err(psqlError(e, piece.text, `psql:${src.name}:${piece.line}: `));
          if (stopOnError()) {
            if (single) await c.query('ROLLBACK').catch(() => undefined);
            return 3;
          }
        }
      }
    }
    if (single) await c.query('COMMIT');
    return 0;
  } catch (e) {
    io.err(`psql: error: ${(e as Error).message}\n`);
    return 2;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The meta-commands drills need. Returns an error text, 'quit', or undefined. */
async function meta(text: string, st: PsqlState, out: (t: string) => void): Promise<string | undefined> {
  const [cmd, ...rest] = text.split(/\s+/);
  switch (cmd) {
    case '\\echo':
      out(`${rest.join(' ').replace(/^'(.*)'$/, '$1')}\n`);
      return undefined;
    case '\\set':
      if (rest[0]) st.vars.set(rest[0], rest.slice(1).join(''));
      return undefined;
    case '\\unset':
      if (rest[0]) st.vars.delete(rest[0]);
      return undefined;
    case '\\q':
      return 'quit';
    case '\\t':
      st.tuplesOnly = rest[0] ? rest[0] === 'on' : !st.tuplesOnly;
      return undefined;
    case '\\a':
      st.unaligned = !st.unaligned;
      return undefined;
    case '\\restrict':
    case '\\unrestrict':
      // pg_dump's plain dumps (since 17.6/16.10/15.14) fence themselves with these: nothing to do here.
      return undefined;
    default:
      return `invalid command ${cmd} (drillbook's psql stand-in runs SQL and \\echo, \\set, \\unset, \\t, \\a, \\q, \\restrict; rehearse other meta-commands with the real psql)`;
  }
}

/** COPY … FROM stdin, as INSERTs of its rows (node-pg has no COPY protocol); all or nothing, like COPY. */
async function copyIn(c: pg.Client, target: string, data: string, out: (t: string) => void, st: PsqlState, inTransaction: boolean): Promise<void> {
  const rows = data.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1).map(copyRow);
  const m = /^(\S+)\s*(?:\(([^)]*)\))?/.exec(target.trim())!;
  const cols = m[2] ? `(${m[2]})` : '';
  // Inside -1 a failure aborts the whole transaction, as a failed COPY does.
  if (!inTransaction) await c.query('BEGIN');
  try {
    for (const row of rows) await c.query(`INSERT INTO ${m[1]} ${cols} VALUES (${row.map((_, i) => `$${i + 1}`).join(', ')})`, row);
  } catch (e) {
    if (!inTransaction) await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
  if (!inTransaction) await c.query('COMMIT');
  if (!st.quiet) out(`COPY ${rows.length}\n`);
}
