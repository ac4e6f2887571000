/**
 * A stand-in for `prisma migrate status|deploy|resolve`, for rehearsals on a laptop with no network.
 * Same rows, messages, error codes and exit codes as Prisma for the states the seed incidents cover.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { PRISMA_LOCK_ID } from '../core/migrations/prisma.js';
import { parseDatabaseUrl } from '../core/conn.js';
import { prismaLocal } from '../adapters/migrations/local.js';
import { diagnose, locate, MigrationError, PRISMA_TABLE_DDL, prismaSchemaOf, q, writeTracking } from '../adapters/migrations/tracking.js';
import { withClient } from '../adapters/migrations/service.js';
import type { StandinIO } from './io.js';

const BASELINE = 'https://pris.ly/d/migrate-baseline';
const RESOLVE = 'https://pris.ly/d/migrate-resolve';

function schemaPath(args: string[], cwd: string): string {
  const i = args.indexOf('--schema');
  if (i >= 0 && args[i + 1]) return path.resolve(cwd, args[i + 1]!);
  const eq = args.find((a) => a.startsWith('--schema='));
  if (eq) return path.resolve(cwd, eq.slice('--schema='.length));
  return path.resolve(cwd, 'prisma', 'schema.prisma');
}

/** The datasource URL: the env var schema.prisma names (default DATABASE_URL), from the environment or a .env file. */
function datasourceUrl(schemaFile: string, io: StandinIO): string {
  let envName = 'DATABASE_URL';
  if (existsSync(schemaFile)) {
    const m = /url\s*=\s*env\(\s*"([^"]+)"\s*\)/.exec(readFileSync(schemaFile, 'utf8'));
    if (m) envName = m[1]!;
  }
  let value = io.env[envName];
  for (const dotenv of [path.join(io.cwd, '.env'), path.join(path.dirname(schemaFile), '.env')]) {
    if (value || !existsSync(dotenv)) continue;
    const m = new RegExp(`^${envName}\\s*=\\s*"?([^"\\n]+)"?`, 'm').exec(readFileSync(dotenv, 'utf8'));
    if (m) value = m[1];
  }
  if (!value) throw new MigrationError('P1012', `error: Environment variable not found: ${envName}.\n  -->  ${path.relative(io.cwd, schemaFile)}\n   |\n   |   url      = env("${envName}")`);
  return value;
}

function header(io: StandinIO, schemaFile: string, url: string): void {
  const p = parseDatabaseUrl(url);
  io.out(`Prisma schema loaded from ${path.relative(io.cwd, schemaFile)}\n`);
  if (p) io.out(`Datasource "db": PostgreSQL database "${p.database}", schema "${prismaSchemaOf(url)}" at "${p.host}:${p.port}"\n\n`);
}

function fail(io: StandinIO, code: string, message: string): number {
  io.err(`Error: ${code}\n\n${message}\n`);
  return 1;
}

export async function prismaStandin(args: string[], io: StandinIO): Promise<number> {
  const [group, command] = args;
  if (group !== 'migrate' || !command) {
    io.err(`drillbook's prisma stand-in supports: prisma migrate status | deploy | resolve --applied NAME | resolve --rolled-back NAME\n(got: prisma ${args.join(' ')})\n`);
    return 1;
  }
  const schemaFile = schemaPath(args, io.cwd);
  const dir = path.join(path.dirname(schemaFile), 'migrations');
  const relDir = path.relative(io.cwd, dir) || dir;
  let url: string;
  try {
    url = datasourceUrl(schemaFile, io);
  } catch (e) {
    return fail(io, (e as MigrationError).code, (e as Error).message);
  }
  header(io, schemaFile, url);
  if (!existsSync(dir)) {
    io.out('No migration found in prisma/migrations\n');
    return command === 'status' ? 0 : 0;
  }
  try {
    switch (command) {
      case 'status':
        return await status(io, dir, relDir, url);
      case 'deploy':
        return await deploy(io, dir, relDir, url);
      case 'resolve':
        return await resolve(io, args, dir, url);
      default:
        io.err(`drillbook's prisma stand-in does not rehearse "prisma migrate ${command}"\n`);
        return 1;
    }
  } catch (e) {
    if (e instanceof MigrationError) return fail(io, e.code, e.message);
    throw e;
  }
}

async function status(io: StandinIO, dir: string, relDir: string, url: string): Promise<number> {
  const at = locate('prisma', dir, url);
  const d = await withClient(url, (c) => diagnose(c, at));
  io.out(`${at.local.length} migration${at.local.length === 1 ? '' : 's'} found in ${relDir}\n\n`);
  if (!d.tableExists) {
    io.out(`The current database is not managed by Prisma Migrate.\n\nRead more about how to baseline an existing production database:\n${BASELINE}\n`);
    if (at.local[0]) io.out(`\nTo baseline, run: prisma migrate resolve --applied "${at.local[0].name}"\n`);
    return 1;
  }
  // As diagnoseMigrationHistory: "unapplied" means no row at all; rolled-back rows count as present.
  const names = new Set(d.entries.filter((e) => e.state !== 'phantom').map((e) => e.name));
  const unapplied = d.entries.filter((e) => e.state === 'pending').map((e) => e.name);
  const phantoms = d.entries.filter((e) => e.state === 'phantom').map((e) => e.name);
  if (unapplied.length && phantoms.length) {
    const firstUnapplied = at.local.findIndex((m) => unapplied.includes(m.name));
    const common = firstUnapplied > 0 ? at.local[firstUnapplied - 1]!.name : undefined;
    io.out(`Your local migration history and the migrations table from your database are different:\n\nThe last common migration is: ${common ?? 'none'}\n\nThe migration${unapplied.length > 1 ? 's' : ''} have not yet been applied:\n${unapplied.join('\n')}\n\nThe migration${phantoms.length > 1 ? 's' : ''} from the database are not found locally in ${relDir}:\n${phantoms.join('\n')}\n`);
    return 1;
  }
  if (unapplied.length) {
    io.out(`Following migration${unapplied.length > 1 ? 's' : ''} have not yet been applied:\n${unapplied.join('\n')}\n\nTo apply migrations in development run prisma migrate dev.\nTo apply migrations in production run prisma migrate deploy.\n`);
    return 1;
  }
  const failed = d.entries.filter((e) => e.state === 'failed').map((e) => e.name);
  if (failed.length) {
    io.out(`Following migration${failed.length > 1 ? 's' : ''} have failed:\n${failed.join('\n')}\n\nDuring development if the failed migration(s) have not been deployed to a production database you can then fix the migration(s) and run prisma migrate dev.\n\nThe failed migration(s) can be marked as rolled back or applied:\n\n- If you rolled back the migration(s) manually:\nprisma migrate resolve --rolled-back "${failed[0]}"\n\n- If you fixed the database manually (hotfix):\nprisma migrate resolve --applied "${failed[0]}"\n\nRead more about how to resolve migration issues in a production database:\n${RESOLVE}\n`);
    return 1;
  }
  // The gap Prisma has (migration-tools.md §1.5): phantoms and edited migrations are not reported here.
  void names;
  io.out('Database schema is up to date!\n');
  return 0;
}

async function deploy(io: StandinIO, dir: string, relDir: string, url: string): Promise<number> {
  const local = prismaLocal(dir);
  io.out(`${local.length} migration${local.length === 1 ? '' : 's'} found in ${relDir}\n\n`);
  const schema = prismaSchemaOf(url);
  const from = `${q(schema)}.${q('_prisma_migrations')}`;
  return withClient(url, async (c) => {
    await c.query('SELECT pg_advisory_lock($1)', [PRISMA_LOCK_ID]);
    try {
      const present = (await c.query('SELECT to_regclass($1) IS NOT NULL AS p', [from])).rows[0].p as boolean;
      if (!present) {
        const at = locate('prisma', dir, url);
        const d = await diagnose(c, at);
        if (d.appTables.length) {
          io.err(`Error: P3005\n\nThe database schema is not empty. Read more about how to baseline an existing production database: ${BASELINE}\n`);
          return 1;
        }
        if (schema !== 'public') await c.query(`CREATE SCHEMA IF NOT EXISTS ${q(schema)}`);
        await c.query(PRISMA_TABLE_DDL(from));
      }
      const rows = (await c.query(`SELECT migration_name, started_at, finished_at, rolled_back_at, logs FROM ${from} ORDER BY started_at`)).rows as Array<{ migration_name: string; started_at: Date; finished_at: Date | null; rolled_back_at: Date | null; logs: string | null }>;
      const failed = rows.filter((r) => r.finished_at === null && r.rolled_back_at === null);
      if (failed.length) {
        const details = failed.map((r) => `The \`${r.migration_name}\` migration started at ${r.started_at.toISOString()} failed${r.logs ? ` with the following logs:\n${r.logs}` : ''}`).join('\n');
        io.err(`Error: P3009\n\nmigrate found failed migrations in the target database, new migrations will not be applied. Read more about how to resolve migration issues in a production database: ${RESOLVE}\n${details}\n`);
        return 1;
      }
      const present2 = new Set(rows.filter((r) => r.rolled_back_at === null).map((r) => r.migration_name));
      const pending = local.filter((m) => !present2.has(m.name));
      if (pending.length === 0) {
        io.out('No pending migrations to apply.\n');
        return 0;
      }
      const applied: string[] = [];
      for (const m of pending) {
        if (m.sql === undefined) {
          io.err(`Error: P3015\n\nCould not find the migration file at ${m.path}. Please delete the directory or restore the migration file.\n`);
          return 1;
        }
        const id = (await c.query(`INSERT INTO ${from} (id, checksum, started_at, migration_name) VALUES (gen_random_uuid()::text, $1, now(), $2) RETURNING id`, [m.checksum, m.name])).rows[0].id as string;
        try {
          // The whole script in one simple query: PostgreSQL runs it as one implicit transaction.
          await c.query(m.sql);
        } catch (e) {
          const err = e as { code?: string; message: string; position?: string };
          const logs = `Database error code: ${err.code ?? 'unknown'}\n\nDatabase error:\nERROR: ${err.message}\n`;
          await c.query(`UPDATE ${from} SET logs = $1 WHERE id = $2`, [logs, id]);
          if (applied.length) io.out(`Applying migration \`${applied.join('`\nApplying migration `')}\`\n`);
          io.err(`Error: P3018\n\nA migration failed to apply. New migrations cannot be applied before the error is recovered from. Read more about how to resolve migration issues in a production database: ${RESOLVE}\n\nMigration name: ${m.name}\n\n${logs}`);
          return 1;
        }
        await c.query(`UPDATE ${from} SET applied_steps_count = applied_steps_count + 1 WHERE id = $1`, [id]);
        await c.query(`UPDATE ${from} SET finished_at = now() WHERE id = $1`, [id]);
        io.out(`Applying migration \`${m.name}\`\n`);
        applied.push(m.name);
      }
      io.out(`\nThe following migration(s) have been applied:\n\nmigrations/\n${applied.map((n) => `  └─ ${n}/\n    └─ migration.sql`).join('\n')}\n\nAll migrations have been successfully applied.\n`);
      return 0;
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [PRISMA_LOCK_ID]).catch(() => undefined);
    }
  });
}

async function resolve(io: StandinIO, args: string[], dir: string, url: string): Promise<number> {
  const flag = args.includes('--applied') ? '--applied' : args.includes('--rolled-back') ? '--rolled-back' : undefined;
  const name = flag ? args[args.indexOf(flag) + 1] : undefined;
  if (!flag || !name) {
    io.err('Error: --applied or --rolled-back must be part of the command: prisma migrate resolve --applied "NAME"\n');
    return 1;
  }
  const at = locate('prisma', dir, url);
  if (flag === '--applied' && !at.local.some((m) => m.name === name)) {
    throw new MigrationError('P3017', `The migration ${name} could not be found. Please make sure that the migration exists, and that you included the whole name of the directory. (example: "20201207184859_initial_migration")`);
  }
  await withClient(url, (c: pg.Client) => writeTracking(c, at, flag === '--applied' ? 'mark-applied' : 'mark-rolled-back', [name], { strict: true }));
  io.out(`Migration ${name} marked as ${flag === '--applied' ? 'applied' : 'rolled back'}.\n`);
  return 0;
}
