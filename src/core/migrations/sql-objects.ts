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
