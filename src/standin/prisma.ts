/**
 * A stand-in for the Prisma 7 CLI (`migrate status|deploy|resolve`, `validate`, `generate`,
 * `db pull`), for rehearsals on a laptop with nothing but Node. It is modelled on prisma 7.10.1 run
 * through its own schema engine, stream by stream: Prisma prints the config and schema it loaded
 * and its errors (`Error: P3009` and the like) on stderr, the datasource and results on stdout,
 * and exits 1 on any error. Same rows in _prisma_migrations, same codes; the fidelity test
 * (test/standin/fidelity.test.ts) runs both on the same states and compares.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { PRISMA_LOCK_ID } from '../core/migrations/prisma.js';
import { parseDatabaseUrl } from '../core/conn.js';
import { prismaLocal } from '../adapters/migrations/local.js';
import { applicationTables, PRISMA_TABLE_DDL, prismaSchemaOf, q } from '../adapters/migrations/tracking.js';
import { withClient } from '../adapters/migrations/service.js';
import type { StandinIO } from './io.js';

const RESOLVE = 'https://pris.ly/d/migrate-resolve';
const BASELINE = 'https://pris.ly/d/migrate-baseline';
export const PRISMA_VERSION = '7.10.1';

/** An error Prisma prints as `Error: <code>\n\n<message>` on stderr, exit 1. */
class PrismaError extends Error {
  constructor(readonly code: string | undefined, message: string, readonly raw = false) {
    super(message);
  }
}

interface Config {
  /** prisma.config.ts, relative to the working directory, if there is one. */
  file: string | undefined;
  schema: string;
  migrations: string;
  url: string | undefined;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

/**
 * prisma.config.ts, read without running it (the stand-in cannot load TypeScript): schema,
 * migrations.path and datasource.url, the URL as env('NAME') or process.env.NAME. Like Prisma,
 * env('NAME') with NAME unset fails the config load, whatever the command.
 */
function loadConfig(io: StandinIO, args: string[]): Config {
  const explicit = option(args, '--config');
  const names = explicit ? [explicit] : ['prisma.config.ts', 'prisma.config.mts', 'prisma.config.js', 'prisma.config.mjs', 'prisma.config.cjs'];
  const file = names.find((n) => existsSync(path.resolve(io.cwd, n)));
  if (explicit && !file) throw new PrismaError(undefined, `Config file not found at "${path.resolve(io.cwd, explicit)}"`);
  const text = file ? readFileSync(path.resolve(io.cwd, file), 'utf8') : '';
  const str = (re: RegExp) => re.exec(text)?.[1];
  const schema = option(args, '--schema') ?? str(/\bschema\s*:\s*['"`]([^'"`]+)['"`]/) ?? 'prisma/schema.prisma';
  const migrations = str(/\bmigrations\s*:\s*\{[^}]*?\bpath\s*:\s*['"`]([^'"`]+)['"`]/) ?? path.join(path.dirname(schema), 'migrations');
  const ds = /\bdatasource\s*:\s*\{([^}]*)\}/.exec(text)?.[1] ?? '';
  let url: string | undefined;
  const viaEnv = /\burl\s*:\s*env\(\s*['"`](\w+)['"`]\s*\)/.exec(ds)?.[1];
  const viaProcess = /\burl\s*:\s*process\.env(?:\.(\w+)|\[\s*['"`](\w+)['"`]\s*\])/.exec(ds);
  if (viaEnv) {
    url = io.env[viaEnv];
    if (!url) throw new PrismaError(undefined, `Failed to load config file "${io.cwd}" as a TypeScript/JavaScript module. Error: PrismaConfigEnvError: Cannot resolve environment variable: ${viaEnv}.`, true);
  } else if (viaProcess) {
    url = io.env[viaProcess[1] ?? viaProcess[2]!] || undefined;
  } else {
    url = /\burl\s*:\s*['"`]([^'"`]+)['"`]/.exec(ds)?.[1];
  }
  return { file, schema, migrations, url };
}

/** Prisma 7's P1012 for `url` in the datasource block of schema.prisma (what the fixtures used to have). */
function checkSchema(io: StandinIO, schemaRel: string, context: 'get-config' | 'validate'): void {
  const file = path.resolve(io.cwd, schemaRel);
  if (!existsSync(file)) throw new PrismaError(undefined, `Could not load \`--schema\` from provided path \`${schemaRel}\`: file or directory not found`);
  const lines = readFileSync(file, 'utf8').split('\n');
  let inDatasource = false;
  for (const [i, line] of lines.entries()) {
    if (/^\s*datasource\s+\w+\s*\{/.test(line)) inDatasource = true;
    else if (inDatasource && /^\s*\}/.test(line)) inDatasource = false;
    else if (inDatasource && /^\s*url\s*=/.test(line)) {
      const n = i + 1;
      throw new PrismaError(
        undefined,
        `Prisma schema validation - (${context} wasm)\nError code: P1012\nerror: The datasource property \`url\` is no longer supported in schema files. Move connection URLs for Migrate to \`prisma.config.ts\` and pass either \`adapter\` for a direct database connection or \`accelerateUrl\` for Accelerate to the \`PrismaClient\` constructor. See https://pris.ly/d/config-datasource and https://pris.ly/d/prisma7-client-config\n  -->  ${schemaRel}:${n}\n   | \n${String(n - 1).padStart(2)} | ${lines[i - 1] ?? ''}\n${String(n).padStart(2)} | ${line}\n   | \n\nValidation Error Count: 1\n[Context: ${context === 'validate' ? 'validate' : 'getConfig'}]\n\nPrisma CLI Version : ${PRISMA_VERSION}`,
      );
    }
  }
}

function fail(io: StandinIO, e: PrismaError): number {
  io.err(e.code ? `Error: ${e.code}\n\n${e.message}\n\n` : e.raw ? `${e.message}\n` : `Error: ${e.message}\n`);
  return 1;
}

export async function prismaStandin(args: string[], io: StandinIO): Promise<number> {
  if (args[0] === '--version' || args[0] === '-v' || args[0] === 'version') {
    io.out(`prisma               : ${PRISMA_VERSION} (drillbook stand-in)\n`);
    return 0;
  }
  const [group, command] = args;
  const known = (group === 'migrate' && ['status', 'deploy', 'resolve'].includes(command ?? '')) || group === 'validate' || group === 'generate' || (group === 'db' && command === 'pull');
  if (!known) {
    io.err(`drillbook's prisma stand-in rehearses: prisma migrate status | deploy | resolve --applied NAME | resolve --rolled-back NAME, prisma validate, prisma generate, prisma db pull\n(got: prisma ${args.join(' ')}; rehearse it with the real prisma: drillbook drill --tools real)\n`);
    return 1;
  }
  let config: Config;
  try {
    config = loadConfig(io, args);
  } catch (e) {
    if (e instanceof PrismaError) return fail(io, e);
    throw e;
  }
  if (config.file) io.err(`Loaded Prisma config from ${config.file}.\n\n`);
  io.err(`Prisma schema loaded from ${config.schema}.\n`);
  try {
    if (group === 'validate') {
      try {
        checkSchema(io, config.schema, 'validate');
      } catch (e) {
        io.err('\n');
        throw e;
      }
      io.out(`The schema at ${config.schema} is valid 🚀\n`);
      return 0;
    }
    checkSchema(io, config.schema, 'get-config');
    if (group === 'generate') return generate(io, config);
    const cli = group === 'db' ? 'prisma db pull' : `prisma migrate ${command}`;
    if (!config.url) throw new PrismaError(undefined, `The datasource.url property is required in your Prisma config file when using ${cli}.`);
    const p = parseDatabaseUrl(config.url);
    if (p) io.out(`Datasource "db": PostgreSQL database "${p.database}", schema "${prismaSchemaOf(config.url)}" at "${p.host}:${p.port}"\n`);
    const dir = path.resolve(io.cwd, config.migrations);
    switch (`${group} ${command}`) {
      case 'migrate status':
        return await status(io, dir, config.url);
      case 'migrate deploy':
        return await deploy(io, dir, config.url);
      case 'migrate resolve':
        return await resolve(io, args, dir, config.url);
      default:
        return await dbPull(io, config);
    }
  } catch (e) {
    if (e instanceof PrismaError) return fail(io, e);
    throw e;
  }
}

interface Row {
  id: string;
  migration_name: string;
  started_at: string;
  finished_at: string | null;
  rolled_back_at: string | null;
}

async function readRows(c: pg.Client, from: string): Promise<Row[] | undefined> {
  const present = (await c.query('SELECT to_regclass($1) IS NOT NULL AS p', [from])).rows[0].p as boolean;
  if (!present) return undefined;
  // started_at as text in UTC with microseconds, for the P3009 message.
  return (await c.query(`SELECT id, migration_name, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS started_at, finished_at::text, rolled_back_at::text FROM ${from} ORDER BY started_at, id`)).rows as Row[];
}

function fromOf(url: string): string {
  return `${q(prismaSchemaOf(url))}.${q('_prisma_migrations')}`;
}

function countLine(n: number): string {
  // Prisma names prisma/migrations here whatever the folder is.
  return n > 0 ? `${n} migration${n > 1 ? 's' : ''} found in prisma/migrations\n` : 'No migration found in prisma/migrations\n';
}

/** diagnoseMigrationHistory: rolled-back rows do not count; a failed row does. */
async function status(io: StandinIO, dir: string, url: string): Promise<number> {
  const local = prismaLocal(dir).map((m) => m.name);
  const rows = await withClient(url, (c) => readRows(c, fromOf(url)));
  io.out('\n');
  io.out(countLine(local.length));
  const live = (rows ?? []).filter((r) => r.rolled_back_at === null);
  const dbNames = [...new Set(live.map((r) => r.migration_name))];
  const unapplied = local.filter((n) => !dbNames.includes(n));
  const unpersisted = dbNames.filter((n) => !local.includes(n));
  if (unapplied.length && unpersisted.length) {
    let common: string | null = null;
    for (let i = 0; i < Math.min(local.length, dbNames.length) && local[i] === dbNames[i]; i++) common = local[i]!;
    io.err(`Your local migration history and the migrations table from your database are different:\n\nThe last common migration is: ${common}\n\nThe migration${unapplied.length > 1 ? 's' : ''} have not yet been applied:\n${unapplied.join('\n')}\n\nThe migration${unpersisted.length > 1 ? 's' : ''} from the database are not found locally in prisma/migrations:\n${unpersisted.join('\n')}\n`);
    return 1;
  }
  if (unapplied.length) {
    io.out(`Following migration${unapplied.length > 1 ? 's' : ''} have not yet been applied:\n${unapplied.join('\n')}\n\nTo apply migrations in development run prisma migrate dev.\nTo apply migrations in production run prisma migrate deploy.\n`);
    return 1;
  }
  if (rows) {
    const failed = [...new Set(live.filter((r) => r.finished_at === null).map((r) => r.migration_name))];
    if (failed.length) {
      io.err(`Following migration${failed.length > 1 ? 's' : ''} have failed:\n${failed.join('\n')}\n\nDuring development if the failed migration(s) have not been deployed to a production database you can then fix the migration(s) and run prisma migrate dev.\n\n`);
      io.err(`The failed migration(s) can be marked as rolled back or applied:\n\n- If you rolled back the migration(s) manually:\nprisma migrate resolve --rolled-back "${failed[0]}"\n\n- If you fixed the database manually (hotfix):\nprisma migrate resolve --applied "${failed[0]}"\n\nRead more about how to resolve migration issues in a production database:\n${RESOLVE}\n`);
      return 1;
    }
    // Phantoms (rows with no folder) and edited migrations are not reported: Prisma's own gap.
    io.out('\nDatabase schema is up to date!\n');
    return 0;
  }
  io.err(`The current database is not managed by Prisma Migrate.\n\nRead more about how to baseline an existing production database:\n${BASELINE}\n`);
  return 1;
}

/** chrono's `%Y-%m-%d %H:%M:%S%.f UTC`: fractional seconds in 3, 6 or 9 digits, none when zero. */
function chronoUtc(pgText: string): string {
  const [whole, frac = ''] = pgText.split('.');
  const micros = frac.padEnd(6, '0').slice(0, 6);
  const f = /^0+$/.test(micros) ? '' : micros.endsWith('000') ? `.${micros.slice(0, 3)}` : `.${micros}`;
  return `${whole}${f} UTC`;
}

async function deploy(io: StandinIO, dir: string, url: string): Promise<number> {
  const local = prismaLocal(dir);
  io.out('\n');
  io.out(countLine(local.length));
  io.out('\n');
  const from = fromOf(url);
  const schema = prismaSchemaOf(url);
  const applied = await withClient(url, async (c) => {
    await c.query('SELECT pg_advisory_lock($1)', [PRISMA_LOCK_ID]);
    try {
      let rows = await readRows(c, from);
      if (!rows) {
        const apps = await applicationTables(c, { schema, table: '_prisma_migrations' });
        if (apps.length) throw new PrismaError('P3005', `The database schema is not empty. Read more about how to baseline an existing production database: ${BASELINE}`);
        if (schema !== 'public') await c.query(`CREATE SCHEMA IF NOT EXISTS ${q(schema)}`);
        await c.query(PRISMA_TABLE_DDL(from));
        rows = [];
      }
      const failed = rows.filter((r) => r.finished_at === null && r.rolled_back_at === null);
      if (failed.length) {
        throw new PrismaError('P3009', `migrate found failed migrations in the target database, new migrations will not be applied. Read more about how to resolve migration issues in a production database: ${RESOLVE}\n${failed.map((r) => `The \`${r.migration_name}\` migration started at ${chronoUtc(r.started_at)} failed\n`).join('')}`);
      }
      const present = new Set(rows.filter((r) => r.rolled_back_at === null).map((r) => r.migration_name));
      const done: string[] = [];
      for (const m of local.filter((l) => !present.has(l.name))) {
        if (m.sql === undefined) throw new PrismaError('P3015', `Could not find the migration file at ${m.path}. Please delete the directory or restore the migration file.`);
        const id = (await c.query(`INSERT INTO ${from} (id, checksum, started_at, migration_name) VALUES (gen_random_uuid()::text, $1, now(), $2) RETURNING id`, [m.checksum, m.name])).rows[0].id as string;
        try {
          // The whole script in one simple query: PostgreSQL runs it as one implicit transaction.
          await c.query(m.sql);
        } catch (e) {
          const err = e as { code?: string; message: string };
          const logs = `Database error code: ${err.code ?? 'unknown'}\n\nDatabase error:\nERROR: ${err.message}\n`;
          await c.query(`UPDATE ${from} SET logs = $1 WHERE id = $2`, [logs, id]);
          throw new PrismaError('P3018', `A migration failed to apply. New migrations cannot be applied before the error is recovered from. Read more about how to resolve migration issues in a production database: ${RESOLVE}\n\nMigration name: ${m.name}\n\n${logs}`);
        }
        await c.query(`UPDATE ${from} SET applied_steps_count = applied_steps_count + 1 WHERE id = $1`, [id]);
        await c.query(`UPDATE ${from} SET finished_at = now() WHERE id = $1`, [id]);
        done.push(m.name);
      }
      return done;
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [PRISMA_LOCK_ID]).catch(() => undefined);
    }
  });
  io.out('\n');
  if (applied.length === 0) io.out('No pending migrations to apply.\n');
  else io.out(`The following migration(s) have been applied:\n\nmigrations/\n${applied.map((n) => `  └─ ${n}/\n    └─ migration.sql`).join('\n')}\n\nAll migrations have been successfully applied.\n`);
  return 0;
}

/** `migrate resolve`, as the engine's markMigrationApplied / markMigrationRolledBack. */
async function resolve(io: StandinIO, args: string[], dir: string, url: string): Promise<number> {
  const appliedName = option(args, '--applied');
  const rolledBackName = option(args, '--rolled-back');
  if (!appliedName && !rolledBackName) throw new PrismaError(undefined, '--applied or --rolled-back must be part of the command like:\nprisma migrate resolve --applied 20201231000000_example\nprisma migrate resolve --rolled-back 20201231000000_example');
  if (appliedName && rolledBackName) throw new PrismaError(undefined, 'Pass either --applied or --rolled-back, not both.');
  const from = fromOf(url);
  const schema = prismaSchemaOf(url);
  await withClient(url, async (c) => {
    await c.query('BEGIN');
    try {
      await c.query('SELECT pg_advisory_xact_lock($1)', [PRISMA_LOCK_ID]);
      if (appliedName) {
        const m = prismaLocal(dir).find((l) => l.name === appliedName);
        if (!m || m.checksum === undefined) throw new PrismaError('P3017', `The migration ${appliedName} could not be found. Please make sure that the migration exists, and that you included the whole name of the directory. (example: "20201207184859_initial_migration")`);
        let rows = await readRows(c, from);
        if (!rows) {
          // Baselining: the table is created, with no emptiness check.
          if (schema !== 'public') await c.query(`CREATE SCHEMA IF NOT EXISTS ${q(schema)}`);
          await c.query(PRISMA_TABLE_DDL(from));
          rows = [];
        }
        const mine = rows.filter((r) => r.migration_name === appliedName);
        if (mine.some((r) => r.finished_at !== null && r.rolled_back_at === null)) throw new PrismaError('P3008', `The migration \`${appliedName}\` is already recorded as applied in the database.`);
        // Failed attempts become rolled back, then one finished row (logs '', no steps).
        await c.query(`UPDATE ${from} SET rolled_back_at = now() WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`, [appliedName]);
        await c.query(`INSERT INTO ${from} (id, checksum, logs, started_at, finished_at, migration_name, applied_steps_count) VALUES (gen_random_uuid()::text, $1, '', now(), now(), $2, 0)`, [m.checksum, appliedName]);
      } else {
        const rows = await readRows(c, from);
        if (!rows) throw new PrismaError(undefined, 'Invariant violation: called markMigrationRolledBack on a database without migrations table.');
        const mine = rows.filter((r) => r.migration_name === rolledBackName);
        if (mine.length === 0) throw new PrismaError('P3011', `Migration \`${rolledBackName}\` cannot be rolled back because it was never applied to the database. Hint: did you pass in the whole migration name? (example: "20201207184859_initial_migration")`);
        // Only when every attempt finished is it "not in a failed state". An attempt rolled back
        // earlier (then applied again) keeps the command a silent success that changes nothing.
        if (mine.every((r) => r.finished_at !== null)) throw new PrismaError('P3012', `Migration \`${rolledBackName}\` cannot be rolled back because it is not in a failed state.`);
        await c.query(`UPDATE ${from} SET rolled_back_at = now() WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`, [rolledBackName]);
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  });
  io.out(`\nMigration ${appliedName ?? rolledBackName} marked as ${appliedName ? 'applied' : 'rolled back'}.\n\n`);
  return 0;
}

/** The stand-in writes no Prisma Client (nothing in a drill uses one), and says so. */
function generate(io: StandinIO, config: Config): number {
  const text = readFileSync(path.resolve(io.cwd, config.schema), 'utf8');
  const generator = /generator\s+\w+\s*\{([^}]*)\}/.exec(text)?.[1];
  if (!generator) {
    io.out('\n\ninfo You don\'t have any generators defined in your schema.prisma, so nothing will be generated.\n\n');
    return 0;
  }
  const output = /output\s*=\s*"([^"]+)"/.exec(generator)?.[1];
  io.out(`\n✔ Prisma Client not generated: drillbook's stand-in writes no client (a drill does not use one; the real prisma generate writes it${output ? ` to ${output}` : ''})\n\n`);
  return 0;
}

const PRISMA_TYPES: Record<string, string> = {
  integer: 'Int', smallint: 'Int', bigint: 'BigInt', text: 'String', 'character varying': 'String', character: 'String', uuid: 'String', boolean: 'Boolean',
  'timestamp without time zone': 'DateTime', 'timestamp with time zone': 'DateTime', date: 'DateTime', jsonb: 'Json', json: 'Json', numeric: 'Decimal',
  'double precision': 'Float', real: 'Float', bytea: 'Bytes',
};

/**
 * `db pull`: one model per table of the schema, with its columns, types, optionality and primary
 * key, written over the models of schema.prisma as Prisma does. Relations, indexes and native
 * types are not modelled: the stand-in says so on stderr.
 */
async function dbPull(io: StandinIO, config: Config): Promise<number> {
  const schema = prismaSchemaOf(config.url!);
  const started = Date.now();
  const cols = await withClient(config.url!, async (c) => (await c.query(
    `SELECT c.table_name, c.column_name, c.data_type, c.udt_name, c.is_nullable = 'YES' AS nullable, c.column_default,
            EXISTS (SELECT 1 FROM information_schema.table_constraints t JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name)
                    WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = c.table_schema AND t.table_name = c.table_name AND k.column_name = c.column_name) AS pk
     FROM information_schema.columns c JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
     WHERE c.table_schema = $1 AND tb.table_type = 'BASE TABLE' AND c.table_name <> '_prisma_migrations'
     ORDER BY c.table_name, c.ordinal_position`, [schema])).rows as Array<{ table_name: string; column_name: string; data_type: string; udt_name: string; nullable: boolean; column_default: string | null; pk: boolean }>);
  io.out(`\n- Introspecting based on datasource defined in ${config.schema}\n`);
  const tables = [...new Set(cols.map((c) => c.table_name))].sort();
  if (tables.length === 0) {
    io.err(`\nError: P4001\n\nThe introspected database was empty.\n\n`);
    return 1;
  }
  const models = tables.map((t) => {
    const mine = cols.filter((c) => c.table_name === t);
    const width = Math.max(...mine.map((c) => c.column_name.length));
    const lines = mine.map((c) => {
      const type = c.data_type === 'USER-DEFINED' ? c.udt_name : c.data_type === 'ARRAY' ? `${PRISMA_TYPES[c.udt_name.replace(/^_/, '')] ?? 'Unsupported'}[]` : (PRISMA_TYPES[c.data_type] ?? `Unsupported("${c.data_type}")`);
      const attrs = [c.pk ? '@id' : '', c.column_default?.startsWith('nextval(') ? '@default(autoincrement())' : c.column_default === 'now()' || c.column_default === 'CURRENT_TIMESTAMP' ? '@default(now())' : ''].filter(Boolean).join(' ');
      return `  ${c.column_name.padEnd(width)} ${type}${c.nullable && !type.endsWith('[]') ? '?' : ''}${attrs ? ` ${attrs}` : ''}`.trimEnd();
    });
    return `model ${t} {\n${lines.join('\n')}\n}`;
  });
  const file = path.resolve(io.cwd, config.schema);
  const kept = readFileSync(file, 'utf8').replace(/\n*(?:model|enum|view)\s+\w+\s*\{[^}]*\}/g, '').trimEnd();
  writeFileSync(file, `${kept}\n\n${models.join('\n\n')}\n`);
  io.err('drillbook stand-in: db pull wrote each table\'s columns, types and primary key; relations, indexes and native types are not introspected\n');
  io.out(`✔ Introspected ${tables.length} model${tables.length === 1 ? '' : 's'} and wrote them into ${config.schema} in ${Date.now() - started}ms\n      \nRun prisma generate to generate Prisma Client.\n\n`);
  return 0;
}
