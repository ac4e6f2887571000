/**
 * --from-dump: seed a drill database from a dump of production instead of replaying the project's
 * migrations (for teams whose history is long or squashed). A plain dump (`pg_dump --schema-only`,
 * optionally followed by the tracking table's rows: `pg_dump --data-only --table=_prisma_migrations`)
 * runs through psql (real or stand-in, as the drill chose); a custom-format archive (`-Fc`) through
 * the real pg_restore on PATH; the stand-in's own archive through the stand-in pg_restore. Roles the
 * dump gives objects to are created in the throwaway cluster (NOLOGIN), so ownership restores as it
 * is. Nothing is read into memory whole: the format is told from the first bytes, roles line by line.
 */
import { createReadStream, existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { DrillbookError } from '../core/errors.js';
import { libpqEnv, resolveConnection } from '../core/conn.js';
import { ARCHIVE_SIGNATURE } from '../standin/pg-tools.js';
import { standinScript } from '../standin/install.js';
import type { ToolChoice } from './tools.js';

export type DumpFormat = 'plain' | 'custom' | 'stand-in archive';

export interface DumpFile {
  file: string;
  format: DumpFormat;
}

const MAKE_ONE = 'make one with: pg_dump --schema-only "$DATABASE_URL" > schema.sql, and append the tracking table\'s rows: pg_dump --data-only --table=_prisma_migrations "$DATABASE_URL" >> schema.sql (or drizzle.__drizzle_migrations, schema_migrations)';

/** What kind of dump a file is; a clear error (and nothing started) when it is none. */
export function inspectDump(file: string): DumpFile {
  const abs = path.resolve(file);
  if (!existsSync(abs)) throw new DrillbookError(`--from-dump: no file at ${file}`, { exitCode: 2 });
  const st = statSync(abs);
  if (st.isDirectory()) throw new DrillbookError(`--from-dump: ${file} is a folder; directory-format dumps (pg_dump -Fd) are not read`, { exitCode: 2, hint: `give a plain or custom-format dump (pg_dump -Fc); ${MAKE_ONE}` });
  const head = Buffer.alloc(Math.min(65_536, st.size));
  const fd = openSync(abs, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (head.subarray(0, 5).toString('latin1') === 'PGDMP') return { file: abs, format: 'custom' };
  if (head.toString('utf8').startsWith(`${ARCHIVE_SIGNATURE}\n`)) return { file: abs, format: 'stand-in archive' };
  if (head[0] === 0x1f && head[1] === 0x8b) throw new DrillbookError(`--from-dump: ${file} is compressed (gzip)`, { exitCode: 2, hint: `gunzip it first, then give the .sql (or use pg_dump -Fc, which pg_restore reads compressed)` });
  if (head.length > 262 && head.subarray(257, 262).toString('latin1') === 'ustar') throw new DrillbookError(`--from-dump: ${file} is a tar-format dump (pg_dump -Ft), which drillbook does not read`, { exitCode: 2, hint: `give a plain or custom-format dump; ${MAKE_ONE}` });
  const text = head.toString('utf8');
  if (/^--\s*\n-- PostgreSQL database dump\s*\n/m.test(text.slice(0, 4096))) return { file: abs, format: 'plain' };
  if (/-- PostgreSQL database cluster dump/.test(text.slice(0, 4096))) throw new DrillbookError(`--from-dump: ${file} is a pg_dumpall dump of a whole cluster`, { exitCode: 2, hint: `give a dump of the one database: ${MAKE_ONE}` });
  const binary = head.includes(0);
  throw new DrillbookError(`--from-dump: ${file} is not a dump made by pg_dump (${binary ? 'a binary file that is not a custom-format archive' : 'a plain dump starts with "-- PostgreSQL database dump"'})`, { exitCode: 2, hint: MAKE_ONE });
}

const NOT_ROLES = new Set(['public', 'current_user', 'session_user', 'current_role', 'postgres', 'pg_database_owner']);
const ROLE = String.raw`("(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;

/** The roles a plain dump hands objects or privileges to. */
async function rolesOf(file: string): Promise<string[]> {
  const roles = new Set<string>();
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  const owner = new RegExp(String.raw`\bOWNER TO ${ROLE}`, 'gi');
  const forRole = new RegExp(String.raw`\bFOR ROLE ${ROLE}`, 'gi');
  const grantee = new RegExp(String.raw`^(?:GRANT|REVOKE)\b.*\b(?:TO|FROM)\s+(.+?);\s*$`, 'i');
  for await (const line of rl) {
    if (line.length > 10_000) continue;
    for (const m of line.matchAll(owner)) roles.add(m[1]!);
    for (const m of line.matchAll(forRole)) roles.add(m[1]!);
    const g = grantee.exec(line);
    if (g) for (const r of g[1]!.split(',')) if (new RegExp(`^\\s*${ROLE}\\s*$`).test(r)) roles.add(r.trim());
  }
  return [...roles].map((r) => (r.startsWith('"') ? r.slice(1, -1).replace(/""/g, '"') : r.toLowerCase())).filter((r) => !NOT_ROLES.has(r.toLowerCase()) && !r.startsWith('pg_'));
}

export interface RestoreOptions {
  url: string;
  env: NodeJS.ProcessEnv;
  binDir: string;
  /** The psql the drill chose (plain dumps). */
  psql?: ToolChoice;
}

function onPath(tool: string, envPath: string | undefined): string | undefined {
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    const f = path.join(dir, tool);
    if (dir && existsSync(f)) return f;
  }
  return undefined;
}

/** Restore the dump into the drill database; returns what happened, in words. Errors name the dump and the tool's own message. */
export async function restoreDump(dump: DumpFile, c: pg.Client, o: RestoreOptions): Promise<string[]> {
  const { execa } = await import('execa');
  const conn = resolveConnection(o.url, {}, 'drill database');
  const env = { ...o.env, ...libpqEnv(conn) };
  const lines: string[] = [];
  let file: string;
  let args: string[];
  let by: string;
  if (dump.format === 'plain') {
    const roles = await rolesOf(dump.file);
    const made: string[] = [];
    for (const r of roles) {
      const exists = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [r]);
      if (exists.rowCount) continue;
      await c.query(`CREATE ROLE "${r.replace(/"/g, '""')}" NOLOGIN`);
      made.push(r);
    }
    if (made.length) lines.push(`roles the dump names, created NOLOGIN in the drill's own server: ${made.join(', ')}`);
    file = path.join(o.binDir, 'psql');
    args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', dump.file];
    by = o.psql ? `psql ${o.psql.kind === 'real' ? o.psql.version : 'stand-in'}` : 'psql';
  } else if (dump.format === 'custom') {
    const real = onPath('pg_restore', process.env.PATH);
    if (!real) throw new DrillbookError(`--from-dump: ${dump.file} is a custom-format archive, and no pg_restore is installed to read it`, { exitCode: 2, hint: 'install the PostgreSQL client tools (Debian/Ubuntu: apt-get install postgresql-client; macOS: brew install libpq), or give a plain dump (pg_dump --schema-only > schema.sql)' });
    file = real;
    args = ['--no-owner', '--no-privileges', '--exit-on-error', '-d', conn.database, dump.file];
    by = 'pg_restore (real, from PATH)';
  } else {
    file = process.execPath;
    args = [standinScript(), 'pg_restore', '--exit-on-error', '-d', conn.database, dump.file];
    by = 'pg_restore stand-in';
  }
  const r = await execa(file, args, { env, extendEnv: false, reject: false, stdin: 'ignore', all: true, encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.exitCode !== 0) {
    const out = String(r.all ?? '')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('drillbook stand-in for'))
      .slice(-8)
      .join('\n');
    throw new DrillbookError(`--from-dump: restoring ${dump.file} with ${by} failed (exit ${r.exitCode}):\n${out}`, {
      exitCode: 1,
      hint: dump.format === 'custom' && /unsupported version/.test(out) ? 'this pg_restore is older than the pg_dump that made the archive: install a newer one, or give a plain dump' : 'the dump must restore into an empty PostgreSQL database (extensions it needs must be available there)',
    });
  }
  lines.unshift(`seeded from ${path.basename(dump.file)} (${dump.format} dump) with ${by}`);
  return lines;
}
