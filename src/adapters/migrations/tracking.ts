/**
 * The tracking tables in PostgreSQL: reading them as each tool does, and writing rows that are
 * indistinguishable from the tool's own. Every write is one transaction, re-checks the state inside
 * it, takes the tool's lock where it has one, and is idempotent.
 */
import type pg from 'pg';
import { DrillbookError } from '../../core/errors.js';
import { classifyDrizzle, type DrizzleRow } from '../../core/migrations/drizzle.js';
import { classifyEcto, type EctoRow } from '../../core/migrations/ecto.js';
import { classifyPrisma, PRISMA_LOCK_ID, type PrismaRow } from '../../core/migrations/prisma.js';
import type { Diagnosis, LocalMigration, Tool } from '../../core/migrations/types.js';
import { drizzleLocal, ectoLocal, prismaLocal } from './local.js';

/** A failure in the tool's own words and code (P3008, P3017, …), for stand-ins and operators alike. */
export class MigrationError extends DrillbookError {
  constructor(readonly code: string, message: string) {
    super(message, { exitCode: 1 });
    this.name = 'MigrationError';
  }
}

export interface TrackingOptions {
  /** Schema of the tracking table: Prisma's ?schema= (default public), Drizzle's `drizzle`, Ecto's prefix. */
  schema?: string;
  table?: string;
}

export function q(ident: string): string {
  return `"${ident.replace(/"/g, '""')}"`;
}

export function prismaSchemaOf(url: string): string {
  try {
    return new URL(url).searchParams.get('schema') ?? 'public';
  } catch {
    return 'public';
  }
}

async function tableExists(c: pg.Client, schema: string, table: string): Promise<boolean> {
  const r = await c.query('SELECT to_regclass($1) IS NOT NULL AS present', [`${q(schema)}.${q(table)}`]);
  return (r.rows[0] as { present: boolean }).present;
}

/** Application tables: every ordinary or partitioned table outside the system and tracking schemas. */
export async function applicationTables(c: pg.Client, exclude: { schema: string; table: string }): Promise<string[]> {
  const r = await c.query(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'drizzle') AND n.nspname NOT LIKE 'pg_%'
       AND NOT (n.nspname = $1 AND c.relname = $2)
     ORDER BY 1`,
    [exclude.schema, exclude.table],
  );
  return r.rows.map((row: { name: string }) => row.name);
}

export interface Located {
  tool: Tool;
  schema: string;
  table: string;
  local: LocalMigration[];
  nameTracked: boolean;
  created: Map<string, string[]>;
  /** Ecto: each migration's .exs source, by name. */
  exs?: Map<string, string>;
  /** What reading the folder found worth saying (files the tool ignores, …). */
  warnings: string[];
}

export function locate(tool: Tool, dir: string, url: string, opts: TrackingOptions = {}): Located {
  switch (tool) {
    case 'prisma':
      return { tool, schema: opts.schema ?? prismaSchemaOf(url), table: opts.table ?? '_prisma_migrations', local: prismaLocal(dir), nameTracked: false, created: new Map(), warnings: [] };
    case 'drizzle': {
      const { migrations, nameTracked } = drizzleLocal(dir);
      return { tool, schema: opts.schema ?? 'drizzle', table: opts.table ?? '__drizzle_migrations', local: migrations, nameTracked, created: new Map(), warnings: [] };
    }
    case 'ecto': {
      const { migrations, created, exs, warnings } = ectoLocal(dir);
      return { tool, schema: opts.schema ?? 'public', table: opts.table ?? 'schema_migrations', local: migrations, nameTracked: false, created, exs, warnings };
    }
  }
}

export async function diagnose(c: pg.Client, at: Located): Promise<Diagnosis> {
  const d = await classify(c, at);
  return at.warnings.length ? { ...d, warnings: [...at.warnings, ...d.warnings] } : d;
}

async function classify(c: pg.Client, at: Located): Promise<Diagnosis> {
  const present = await tableExists(c, at.schema, at.table);
  const apps = await applicationTables(c, { schema: at.schema, table: at.table });
  const qualified = { schema: at.schema, name: at.table };
  const from = `${q(at.schema)}.${q(at.table)}`;
  switch (at.tool) {
    case 'prisma': {
      const rows = present
        ? ((await c.query(`SELECT id, checksum, finished_at::text, migration_name, logs, rolled_back_at::text, started_at::text, applied_steps_count FROM ${from} ORDER BY started_at ASC`)).rows as PrismaRow[])
        : undefined;
      return classifyPrisma(at.local, rows, apps, qualified);
    }
    case 'drizzle': {
      let rows: DrizzleRow[] | undefined;
      let nameTracked = at.nameTracked;
      if (present) {
        const cols = await c.query('SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2', [at.schema, at.table]);
        const hasName = cols.rows.some((r: { column_name: string }) => r.column_name === 'name');
        nameTracked = nameTracked && hasName;
        rows = (await c.query(`SELECT id, hash, created_at::text${hasName ? ', name' : ''} FROM ${from} ORDER BY id`)).rows as DrizzleRow[];
      }
      return classifyDrizzle(at.local, rows, apps, qualified, nameTracked);
    }
    case 'ecto': {
      const rows = present ? ((await c.query(`SELECT version::text, inserted_at::text FROM ${from} ORDER BY version`)).rows as EctoRow[]) : undefined;
      return classifyEcto(at.local, rows, apps, qualified, at.created);
    }
  }
}

export const PRISMA_TABLE_DDL = (from: string) => `CREATE TABLE ${from} (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

export type WriteAction = 'mark-applied' | 'mark-rolled-back' | 'baseline';

export interface WriteOptions {
  /** Behave like the tool's own command: already-applied is an error (P3008), not a no-op. */
  strict?: boolean;
}

/** Which local migrations a write names: `names`, or for a baseline every one up to names[0] (all when none). */
function selected(at: Located, action: WriteAction, names: readonly string[] | undefined): LocalMigration[] {
  if (action === 'baseline') {
    const upto = names?.[0];
    if (upto === undefined) return at.local;
    const idx = at.local.findIndex((m) => m.name === upto || m.version === upto);
    if (idx === -1) throw new MigrationError('P3017', `The migration ${upto} could not be found. Please make sure that the migration exists, and that you included the whole name of the directory.`);
    return at.local.slice(0, idx + 1);
  }
  return (names ?? []).map((n) => {
    const m = at.local.find((l) => l.name === n || l.version === n);
    if (!m) {
      throw new MigrationError('P3017', `The migration ${n} could not be found. Please make sure that the migration exists, and that you included the whole name of the directory. (example: "20201207184859_initial_migration")`);
    }
    return m;
  });
}

/** Write tracking rows. Returns what it wrote, one line per row. */
export async function writeTracking(c: pg.Client, at: Located, action: WriteAction, names: readonly string[] | undefined, opts: WriteOptions = {}): Promise<string[]> {
  const targets = action === 'mark-rolled-back' ? (names ?? []) : selected(at, action, names).map((m) => m.name);
  const written: string[] = [];
  const from = `${q(at.schema)}.${q(at.table)}`;
  await c.query('BEGIN');
  try {
    if (at.tool === 'prisma') {
      await c.query('SELECT pg_advisory_xact_lock($1)', [PRISMA_LOCK_ID]);
      const present = await tableExists(c, at.schema, at.table);
      if (action === 'mark-rolled-back') {
        if (!present) throw new MigrationError('P3011', 'Invariant violation: called markMigrationRolledBack on a database without migrations table.');
        for (const name of targets) {
          const rows = (await c.query(`SELECT id, finished_at FROM ${from} WHERE migration_name = $1 FOR UPDATE`, [name])).rows as Array<{ id: string; finished_at: Date | null }>;
          if (rows.length === 0) throw new MigrationError('P3011', `Migration \`${name}\` cannot be rolled back because it was never applied to the database. Hint: did you pass in the whole migration name? (example: "20201207184859_initial_migration")`);
          const failed = (await c.query(`SELECT id FROM ${from} WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`, [name])).rows as Array<{ id: string }>;
          if (failed.length === 0) {
            if (opts.strict) throw new MigrationError('P3012', `Migration \`${name}\` cannot be rolled back because it is not in a failed state.`);
            continue;
          }
          await c.query(`UPDATE ${from} SET rolled_back_at = now() WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`, [name]);
          written.push(`${name}: rolled_back_at = now() on ${failed.length} failed row(s)`);
        }
      } else {
        if (!present) {
          if (at.schema !== 'public') await c.query(`CREATE SCHEMA IF NOT EXISTS ${q(at.schema)}`);
          await c.query(PRISMA_TABLE_DDL(from));
        }
        for (const name of targets) {
          const m = at.local.find((l) => l.name === name)!;
          if (m.checksum === undefined) throw new MigrationError('P3015', `Could not find the migration file at ${m.path}. Please delete the directory or restore the migration file.`);
          const applied = (await c.query(`SELECT 1 FROM ${from} WHERE migration_name = $1 AND finished_at IS NOT NULL AND rolled_back_at IS NULL`, [name])).rowCount ?? 0;
          if (applied > 0) {
            if (opts.strict) throw new MigrationError('P3008', `The migration \`${name}\` is already recorded as applied in the database.`);
            continue;
          }
          // As `migrate resolve --applied`: failed attempts become rolled back, then one finished row.
          await c.query(`UPDATE ${from} SET rolled_back_at = now() WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`, [name]);
          await c.query(
            `INSERT INTO ${from} (id, checksum, logs, started_at, finished_at, migration_name, applied_steps_count) VALUES (gen_random_uuid()::text, $1, '', now(), now(), $2, 0)`,
            [m.checksum, name],
          );
          written.push(`${name}: applied row (checksum ${m.checksum.slice(0, 12)}…, logs '', started_at = finished_at, applied_steps_count 0)`);
        }
      }
    } else if (at.tool === 'drizzle') {
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${q(at.schema)}`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${from} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint${at.nameTracked ? ', name text, applied_at timestamp with time zone DEFAULT now()' : ''})`);
      await c.query(`LOCK TABLE ${from} IN SHARE ROW EXCLUSIVE MODE`);
      for (const name of targets) {
        const m = at.local.find((l) => l.name === name);
        if (action === 'mark-rolled-back') {
          if (!m) throw new MigrationError('P3017', `The migration ${name} could not be found.`);
          const r = await c.query(`DELETE FROM ${from} WHERE hash = $1`, [m.checksum]);
          if (r.rowCount) written.push(`${name}: deleted ${r.rowCount} row(s) with hash ${m.checksum!.slice(0, 12)}…`);
          continue;
        }
        const exists = (await c.query(`SELECT 1 FROM ${from} WHERE hash = $1${at.nameTracked ? ' OR name = $2' : ''}`, at.nameTracked ? [m!.checksum, name] : [m!.checksum])).rowCount ?? 0;
        if (exists) continue;
        if (at.nameTracked) await c.query(`INSERT INTO ${from} (hash, created_at, name) VALUES ($1, $2, $3)`, [m!.checksum, m!.when, name]);
        else await c.query(`INSERT INTO ${from} (hash, created_at) VALUES ($1, $2)`, [m!.checksum, m!.when]);
        written.push(`${name}: (hash ${m!.checksum!.slice(0, 12)}…, created_at ${m!.when})`);
      }
    } else {
      await c.query(`CREATE TABLE IF NOT EXISTS ${from} ("version" bigint, "inserted_at" timestamp(0), PRIMARY KEY ("version"))`);
      await c.query(`LOCK TABLE ${from} IN SHARE UPDATE EXCLUSIVE MODE`);
      for (const name of targets) {
        const m = at.local.find((l) => l.name === name || l.version === name);
        const version = m?.version ?? (/^\d+$/.test(name) ? name : undefined);
        if (!version) throw new MigrationError('P3017', `The migration ${name} could not be found.`);
        if (action === 'mark-rolled-back') {
          const r = await c.query(`DELETE FROM ${from} WHERE version = $1`, [version]);
          if (r.rowCount) written.push(`${version}: row deleted`);
          continue;
        }
        const r = await c.query(`INSERT INTO ${from} (version, inserted_at) VALUES ($1, (now() AT TIME ZONE 'utc')::timestamp(0)) ON CONFLICT DO NOTHING`, [version]);
        if (r.rowCount) written.push(`${version} (${m?.name ?? name}): (version, inserted_at)`);
      }
    }
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
  return written;
}
