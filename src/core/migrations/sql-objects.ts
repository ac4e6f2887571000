/** What a migration's SQL creates, so a pending migration whose tables already exist can be named. */

/** Tables created by CREATE TABLE statements (schema-qualified names keep only the table part). */
export function createdTables(sql: string | undefined): string[] {
  if (!sql) return [];
  const out = new Set<string>();
  const re = /create\s+(?:unlogged\s+)?table\s+(if\s+not\s+exists\s+)?((?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+))?)/gi;
  for (const m of sql.replace(/--[^\n]*/g, '').matchAll(re)) {
    if (m[1]) continue; // IF NOT EXISTS never conflicts
    const parts = m[2]!.split('.').map((p) => p.trim());
    const table = parts[parts.length - 1]!;
    out.add(table.startsWith('"') ? table.slice(1, -1) : table.toLowerCase());
  }
  return [...out];
}

/** Ecto's Elixir DSL: `create table(:customers)` (not `create_if_not_exists`). */
export function ectoCreatedTables(exs: string): string[] {
  const out = new Set<string>();
  for (const m of exs.matchAll(/create\s+table\(\s*:"?(\w+)"?/g)) out.add(m[1]!);
  return [...out];
}

export interface CreatedIndex {
  name: string;
  concurrently: boolean;
  ifNotExists: boolean;
}

/** Indexes created by CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] name (unnamed ones are skipped). */
export function createdIndexes(sql: string | undefined): CreatedIndex[] {
  if (!sql) return [];
  const out: CreatedIndex[] = [];
  const re = /create\s+(?:unique\s+)?index\s+(concurrently\s+)?(if\s+not\s+exists\s+)?(?!on\s|concurrently\s|if\s+not\s)("(?:[^"]|"")+"|[\w$]+)(?:\s*\.\s*("(?:[^"]|"")+"|[\w$]+))?/gi;
  for (const m of sql.replace(/--[^\n]*/g, '').matchAll(re)) {
    const raw = m[4] ?? m[3]!; // an index name is never schema-qualified in CREATE INDEX, but be lenient
    const name = raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw.toLowerCase();
    out.push({ name, concurrently: Boolean(m[1]), ifNotExists: Boolean(m[2]) });
  }
  return out;
}

/**
 * Ecto's DSL: `create index(:posts, [:user_id], concurrently: true)`, `create unique_index(...)`,
 * `create_if_not_exists index(...)`; the name is `name:` or Ecto's default
 * `<table>_<col1>_<col2>_index` (Ecto.Migration.index/3) when the columns are plain atoms.
 */
export function ectoCreatedIndexes(exs: string): CreatedIndex[] {
  const out: CreatedIndex[] = [];
  const re = /(create(?:_if_not_exists)?)\s*\(?\s*(?:unique_)?index\(\s*:"?(\w+)"?\s*,\s*\[([^\]]*)\]([^)]*)\)/g;
  for (const m of exs.matchAll(re)) {
    const opts = m[4] ?? '';
    const explicit = /name:\s*:?"?(\w+)"?/.exec(opts)?.[1];
    const cols = m[3]!.split(',').map((c) => c.trim()).filter(Boolean);
    const atoms = cols.every((c) => /^:\w+$/.test(c));
    const name = explicit ?? (atoms ? `${m[2]}_${cols.map((c) => c.slice(1)).join('_')}_index` : undefined);
    if (name) out.push({ name, concurrently: /concurrently:\s*true/.test(opts), ifNotExists: m[1] === 'create_if_not_exists' });
  }
  return out;
}
