/** Reading a migrations folder the way each tool does: layout, order, checksums. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DrillbookError, UsageError } from '../../core/errors.js';
import { readDrizzleConfig, type DrizzleConfigResult } from '../../core/migrations/drizzle-config.js';
import { drizzleHash } from '../../core/migrations/drizzle.js';
import { prismaChecksum } from '../../core/migrations/prisma.js';
import { compareVersions, ectoMigrationFile } from '../../core/migrations/ecto.js';
import { ectoCreatedTables } from '../../core/migrations/sql-objects.js';
import type { LocalMigration, Tool } from '../../core/migrations/types.js';

export const DEFAULT_DIRS: Record<Tool, string> = { prisma: 'prisma/migrations', drizzle: 'drizzle', ecto: 'priv/repo/migrations' };

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The tool a folder belongs to, when its layout makes it obvious. */
export function detectTool(dir: string): Tool | undefined {
  if (!isDir(dir)) return undefined;
  if (existsSync(path.join(dir, 'meta', '_journal.json'))) return 'drizzle';
  const entries = readdirSync(dir, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && e.name.endsWith('.exs'))) return 'ecto';
  if (existsSync(path.join(dir, 'migration_lock.toml'))) return 'prisma';
  const subdirs = entries.filter((e) => e.isDirectory());
  if (subdirs.some((e) => existsSync(path.join(dir, e.name, 'migration.sql')))) {
    // Prisma and Drizzle 1.0 share this layout; Drizzle 1.0 keeps a snapshot.json beside each.
    return subdirs.some((e) => existsSync(path.join(dir, e.name, 'snapshot.json'))) ? 'drizzle' : 'prisma';
  }
  return undefined;
}

function readMaybe(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** Prisma: every directory directly inside, sorted with localeCompare; the name is the directory name. */
export function prismaLocal(dir: string): LocalMigration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b))
    .map((name) => {
      const file = path.join(dir, name, 'migration.sql');
      const sql = readMaybe(file);
      return { name, sql, checksum: sql === undefined ? undefined : prismaChecksum(sql), path: file };
    });
}

interface Journal {
  entries: Array<{ idx: number; when: number; tag: string }>;
}

/** Drizzle 0.x: the journal's entries in order, each `<tag>.sql`; 1.0: folders `<timestamp>_<name>/migration.sql`. */
export function drizzleLocal(dir: string): { migrations: LocalMigration[]; nameTracked: boolean } {
  const journalPath = path.join(dir, 'meta', '_journal.json');
  if (existsSync(journalPath)) {
    let journal: Journal;
    try {
      journal = JSON.parse(readFileSync(journalPath, 'utf8')) as Journal;
    } catch (e) {
      throw new DrillbookError(`cannot read ${journalPath}: ${(e as Error).message}`, { exitCode: 2 });
    }
    const migrations = journal.entries.map((entry) => {
      const file = path.join(dir, `${entry.tag}.sql`);
      const sql = readMaybe(file);
      if (sql === undefined) throw new DrillbookError(`No file ${file} found in ${dir} folder (the journal names ${entry.tag})`, { exitCode: 2 });
      return { name: entry.tag, sql, checksum: drizzleHash(sql), when: entry.when, path: file };
    });
    return { migrations, nameTracked: false };
  }
  const folders = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b));
  const migrations = folders.map((name) => {
    const file = path.join(dir, name, 'migration.sql');
    const sql = readFileSync(file, 'utf8');
    const t = name.slice(0, 14);
    const when = Date.UTC(Number(t.slice(0, 4)), Number(t.slice(4, 6)) - 1, Number(t.slice(6, 8)), Number(t.slice(8, 10)), Number(t.slice(10, 12)), Number(t.slice(12, 14)));
    return { name, sql, checksum: drizzleHash(sql), when, path: file };
  });
  return { migrations, nameTracked: true };
}

/**
 * Ecto: every `*.exs` below the folder (hidden files and folders skipped, as Path.wildcard does)
 * whose name follows Ecto.Migrator's rule (see ectoMigrationFile); the effect of each is the `.sql`
 * beside it when there is one (drillbook fixtures), else the tables its `create table(...)` names.
 */
export function ectoLocal(dir: string): { migrations: LocalMigration[]; created: Map<string, string[]>; exs: Map<string, string>; warnings: string[] } {
  const found: LocalMigration[] = [];
  const created = new Map<string, string[]>();
  const exs = new Map<string, string>();
  const warnings: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        walk(p);
        continue;
      }
      const file = ectoMigrationFile(e.name);
      if (file.kind === 'ex') warnings.push(`${path.relative(dir, p)} looks like a migration but ends in .ex: Ecto ignores it`);
      if (file.kind !== 'migration') continue;
      const stem = e.name.slice(0, -'.exs'.length);
      const sql = readMaybe(path.join(d, `${stem}.sql`));
      const source = readFileSync(p, 'utf8');
      exs.set(stem, source);
      created.set(stem, ectoCreatedTables(source));
      found.push({ name: stem, sql, checksum: undefined, version: file.version, path: p });
    }
  };
  walk(dir);
  // Enum.sort on {version, name, file}: by version, then name.
  found.sort((a, b) => compareVersions(a.version!, b.version!) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { migrations: found, created, exs, warnings };
}

/** drizzle-kit's own default order when no --config is given (drizzle-kit/src/cli/commands/utils.ts). */
export const DRIZZLE_CONFIG_NAMES = ['drizzle.config.ts', 'drizzle.config.js', 'drizzle.config.json'];

export interface DrizzleConfigFile {
  file: string;
  result: DrizzleConfigResult;
}

/** The project's drizzle config, read statically (see readDrizzleConfig); undefined when there is none. */
export function findDrizzleConfig(cwd: string, explicit: string | undefined): DrizzleConfigFile | undefined {
  const candidates = explicit !== undefined ? [explicit] : DRIZZLE_CONFIG_NAMES;
  for (const name of candidates) {
    const file = path.resolve(cwd, name);
    if (!existsSync(file)) {
      if (explicit !== undefined) throw new UsageError(`no drizzle config at ${explicit}`);
      continue;
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${name}: ${(e as Error).message}`);
    }
    return { file, result: readDrizzleConfig(text, file.endsWith('.json') ? 'json' : 'js') };
  }
  return undefined;
}
