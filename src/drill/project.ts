/**
 * A project a drill rehearses on: which migration tool it uses, where its migrations are, and what
 * they are, read the way the tool reads them (src/adapters/migrations/local.ts). Configs are read
 * statically, never run: they are the project's code.
 *
 *   prisma.config.* or prisma/schema.prisma  → Prisma (migrations: `migrations.path` of the config,
 *                                              else beside the schema, else prisma/migrations)
 *   drizzle.config.*                         → Drizzle (`out` of the config, else ./drizzle)
 *   mix.exs with priv/repo/migrations        → Ecto
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DrillbookError } from '../core/errors.js';
import { DRIZZLE_CONFIG_NAMES, drizzleLocal, ectoLocal, findDrizzleConfig, prismaLocal } from '../adapters/migrations/local.js';
import type { LocalMigration, Tool } from '../core/migrations/types.js';

export interface Project {
  /** The project folder, absolute. */
  dir: string;
  tool: Tool;
  /** What it was recognised by, for the operator ("prisma.config.ts"). */
  evidence: string;
  /** The migrations folder, relative to the project (forward slashes). */
  migrations: string;
  /** The migrations, in the tool's order, as the tool reads them. */
  local: LocalMigration[];
  /** The environment variable the tool's config reads its URL from, when it says. */
  urlEnv: string | undefined;
  /** Drizzle: a tracking table other than drizzle.__drizzle_migrations, as the config names it. */
  tracking?: { schema?: string; table?: string };
}

const TOOL_LABEL: Record<Tool, string> = { prisma: 'a Prisma', drizzle: 'a Drizzle', ecto: 'an Ecto' };

const PRISMA_CONFIGS = ['prisma.config.ts', 'prisma.config.mts', 'prisma.config.cts', 'prisma.config.js', 'prisma.config.mjs', 'prisma.config.cjs'];
const DRIZZLE_CONFIGS = [...DRIZZLE_CONFIG_NAMES, 'drizzle.config.mjs', 'drizzle.config.cjs', 'drizzle.config.mts', 'drizzle.config.cts'];

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

const slash = (p: string) => p.split(path.sep).join('/');

/** The tools a folder looks like a project of, with the file each was recognised by. */
export function recognise(dir: string): Array<{ tool: Tool; evidence: string }> {
  const found: Array<{ tool: Tool; evidence: string }> = [];
  const prismaConfig = PRISMA_CONFIGS.find((f) => existsSync(path.join(dir, f)));
  if (prismaConfig) found.push({ tool: 'prisma', evidence: prismaConfig });
  else if (existsSync(path.join(dir, 'prisma', 'schema.prisma'))) found.push({ tool: 'prisma', evidence: 'prisma/schema.prisma' });
  const drizzleConfig = DRIZZLE_CONFIGS.find((f) => existsSync(path.join(dir, f)));
  if (drizzleConfig) found.push({ tool: 'drizzle', evidence: drizzleConfig });
  if (existsSync(path.join(dir, 'mix.exs')) && isDir(path.join(dir, 'priv', 'repo', 'migrations'))) found.push({ tool: 'ecto', evidence: 'mix.exs and priv/repo/migrations' });
  return found;
}

const LOOKED_FOR = 'prisma.config.ts (or prisma/schema.prisma), drizzle.config.ts (.js, .json, …), or mix.exs with priv/repo/migrations';

/** The string a config gives a key, when it is a plain literal: `key: 'value'`. */
function literal(text: string, re: RegExp): string | undefined {
  return re.exec(text.replace(/\/\/[^\n]*/g, ''))?.[1];
}

function prismaLayout(dir: string, evidence: string): { migrations: string; urlEnv: string | undefined } {
  const text = evidence.startsWith('prisma.config') ? readFileSync(path.join(dir, evidence), 'utf8') : '';
  const fromConfig = literal(text, /\bmigrations\s*:\s*\{[^}]*?\bpath\s*:\s*['"`]([^'"`$]+)['"`]/);
  const schema = literal(text, /\bschema\s*:\s*['"`]([^'"`$]+)['"`]/) ?? 'prisma/schema.prisma';
  const migrations = fromConfig ?? path.posix.join(path.posix.dirname(schema.replace(/^\.\//, '')), 'migrations');
  const ds = /\bdatasource\s*:\s*\{([^}]*)\}/.exec(text)?.[1] ?? '';
  const urlEnv = /\burl\s*:\s*env\(\s*['"`](\w+)['"`]/.exec(ds)?.[1] ?? /\burl\s*:\s*process\.env(?:\.(\w+)|\[\s*['"`](\w+)['"`]\s*\])/.exec(ds)?.slice(1).find(Boolean);
  return { migrations: path.posix.normalize(migrations), urlEnv };
}

function drizzleLayout(dir: string, evidence: string): { migrations: string; urlEnv: string | undefined; tracking?: { schema?: string; table?: string } } {
  const text = readFileSync(path.join(dir, evidence), 'utf8');
  const urlEnv = /process\.env(?:\.(\w+)|\[\s*['"`](\w+)['"`]\s*\])/.exec(text)?.slice(1).find(Boolean);
  const cfg = findDrizzleConfig(dir, evidence);
  if (!cfg || !cfg.result.ok) {
    // drizzle-kit's default out; a config that cannot be read statically is said plainly.
    const why = cfg && !cfg.result.ok ? `${evidence}:${cfg.result.line}: ${cfg.result.reason}` : undefined;
    const out = literal(text, /\bout\s*:\s*['"`]([^'"`$]+)['"`]/);
    if (out === undefined && why) throw new DrillbookError(`cannot tell where ${dir}'s Drizzle migrations are: ${why}`, { exitCode: 2, hint: 'give out: a plain string in the drizzle config' });
    return { migrations: path.posix.normalize((out ?? './drizzle').replace(/^\.\//, '')), urlEnv };
  }
  const { out, table, schema, dialect } = cfg.result.keys;
  if (dialect && 'value' in dialect && dialect.value !== 'postgresql') throw new DrillbookError(`${evidence}:${dialect.line}: dialect is ${dialect.value}; drillbook rehearses on PostgreSQL`, { exitCode: 2 });
  for (const [key, r] of Object.entries({ out, table, schema })) {
    if (r && 'unreadable' in r) throw new DrillbookError(`${evidence}:${r.line}: ${key}: ${r.unreadable}`, { exitCode: 2, hint: 'drillbook reads the config without running it: give it as a plain string' });
  }
  const value = (r: typeof out) => (r && 'value' in r ? r.value : undefined);
  const t = value(table);
  const s = value(schema);
  return {
    migrations: path.posix.normalize((value(out) ?? './drizzle').replace(/^\.\//, '')),
    urlEnv,
    ...((t && t !== '__drizzle_migrations') || (s && s !== 'drizzle') ? { tracking: { ...(t ? { table: t } : {}), ...(s ? { schema: s } : {}) } } : {}),
  };
}

/**
 * The project in `dir`. Throws a DrillbookError (exit 2, with a hint) for a folder that is not
 * one, a project of several tools without `tool`, or one without migrations to rehearse.
 */
export function detectProject(dir: string, opts: { tool?: Tool; migrations?: string } = {}): Project {
  const abs = path.resolve(dir);
  if (!isDir(abs)) throw new DrillbookError(`no project folder at ${dir}`, { exitCode: 2, hint: existsSync(abs) ? 'give the project\'s folder, not a file in it' : 'check the path' });
  const found = recognise(abs);
  if (found.length === 0) {
    throw new DrillbookError(`no recognisable project in ${dir}: looked for ${LOOKED_FOR}`, { exitCode: 2, hint: 'give the folder that holds the migration tool\'s config (the project\'s root)' });
  }
  let chosen = opts.tool ? found.find((f) => f.tool === opts.tool) : found[0];
  if (opts.tool && !chosen) {
    throw new DrillbookError(`${dir} is not ${TOOL_LABEL[opts.tool]} project: found ${found.map((f) => `${f.tool} (${f.evidence})`).join(', ')}`, { exitCode: 2, hint: 'this runbook rehearses an incident of that tool: choose a runbook for the project\'s tool (drillbook list)' });
  }
  if (!opts.tool && found.length > 1) {
    throw new DrillbookError(`${dir} looks like a project of several tools: ${found.map((f) => `${f.tool} (${f.evidence})`).join(', ')}`, { exitCode: 2, hint: 'say which with --tool' });
  }
  if (!chosen) {
    throw new DrillbookError(`no recognisable project in ${dir}: looked for ${LOOKED_FOR}`, { exitCode: 2, hint: 'give the folder that holds the migration tool\'s config (the project\'s root)' });
  }
  chosen = chosen!;
  const layout = chosen.tool === 'prisma' ? prismaLayout(abs, chosen.evidence) : chosen.tool === 'drizzle' ? drizzleLayout(abs, chosen.evidence) : { migrations: 'priv/repo/migrations', urlEnv: undefined };
  const migrations = opts.migrations ?? layout.migrations;
  const folder = path.resolve(abs, migrations);
  const rel = slash(path.relative(abs, folder));
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new DrillbookError(`${dir}: the migrations folder ${migrations} is outside the project`, { exitCode: 2 });
  if (!isDir(folder)) {
    throw new DrillbookError(`${dir} is ${TOOL_LABEL[chosen.tool]} project (${chosen.evidence}) with no migrations folder at ${rel}`, {
      exitCode: 2,
      hint: chosen.tool === 'prisma' ? 'create the first migration (npx prisma migrate dev), or point migrations.path of prisma.config.ts at the folder' : chosen.tool === 'drizzle' ? 'generate the first migration (npx drizzle-kit generate), or point out: of the drizzle config at the folder' : 'create the first migration (mix ecto.gen.migration)',
    });
  }
  let local: LocalMigration[];
  try {
    local = chosen.tool === 'prisma' ? prismaLocal(folder) : chosen.tool === 'drizzle' ? drizzleLocal(folder).migrations : ectoLocal(folder).migrations;
  } catch (e) {
    throw new DrillbookError(`cannot read ${dir}'s migrations in ${rel}: ${(e as Error).message}`, { exitCode: 2 });
  }
  const missing = local.find((m) => m.sql === undefined && chosen.tool !== 'ecto');
  if (missing) throw new DrillbookError(`${dir}: ${slash(path.relative(abs, missing.path))} is missing (P3015: Prisma cannot apply a migration folder without its migration.sql)`, { exitCode: 2, hint: 'restore the file, or delete the empty folder' });
  if (local.length === 0) throw new DrillbookError(`${dir} has no migrations in ${rel} to rehearse on`, { exitCode: 2, hint: 'a drill applies the project\'s own migrations, then stages the incident on top of them' });
  return { dir: abs, tool: chosen.tool, evidence: chosen.evidence, migrations: rel, local, urlEnv: layout.urlEnv, ...('tracking' in layout && layout.tracking ? { tracking: layout.tracking } : {}) };
}
