/**
 * Two fingerprints compared, in words, each difference of a kind and naming what it is about (a
 * table's rows, a migration's tracking row, or a schema object by name); and the verdict on a
 * rehearsed rollback, with what the runbook declares its rollback cannot undo. Different digests
 * never pass unexplained: when no difference can be named, that is a difference too. Pure.
 */
import { visible } from '../core/migrations/display.js';
import type { Fingerprint, Relation } from './fingerprint.js';

export type DifferenceKind =
  /** A table's (or materialized view's) row count or content: declared with `table:`. */
  | 'rows'
  /** A migration tool's tracking row: declared with `migration:`. */
  | 'tracking'
  /** Schema objects and their attributes: declared with `object:`, by name. */
  | 'database'
  | 'role'
  | 'extension'
  | 'schema'
  | 'relation'
  | 'column'
  | 'column-order'
  | 'index'
  | 'constraint'
  | 'trigger'
  | 'policy'
  | 'rule'
  | 'statistics'
  | 'function'
  | 'type'
  | 'sequence'
  /** The digests differ and nothing above says how: never declarable. */
  | 'unnamed';

export interface Difference {
  kind: DifferenceKind;
  /** The table (schema.name) the difference is about, or belongs to. */
  table?: string;
  /** The migration a tracking-row difference is about. */
  migration?: string;
  /** The schema object it is about, fully qualified. */
  object?: string;
  /** The names an `object:` declaration may give it (qualified, without the schema, a table-scoped name alone). */
  names?: string[];
  text: string;
}

/** What a runbook declares its rollback leaves behind, on purpose. */
export interface Declared {
  table?: string | undefined;
  migration?: string | undefined;
  object?: string | undefined;
  reason: string;
}

export interface Verdict {
  restored: 'yes' | 'yes-except-declared' | 'no';
  /** Differences nobody declared. */
  undeclared: Difference[];
  /** Differences the runbook declared, with its reason. */
  declared: Array<Difference & { reason: string }>;
  /** Declarations no difference matched (stale, or the rollback does better than it says). */
  unused: Declared[];
  /** What changed and is no difference (a sequence that advanced), said so nobody wonders. */
  notes: string[];
}

export interface Comparison {
  differences: Difference[];
  notes: string[];
}

export const UNNAMED = 'the fingerprints differ in a way drillbook cannot name';

function keys<T>(a: Record<string, T>, b: Record<string, T>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

const KIND: Record<string, string> = { r: 'table', p: 'partitioned table', v: 'view', m: 'materialized view', f: 'foreign table', S: 'sequence', c: 'composite type' };
const TYPE_KIND: Record<string, string> = { e: 'enum type', d: 'domain', r: 'range type', b: 'base type' };
const ENABLED: Record<string, string> = { O: 'enabled', D: 'disabled', R: 'enabled on replicas only', A: 'always enabled' };
const PERSISTENCE: Record<string, string> = { p: 'logged', u: 'UNLOGGED', t: 'temporary' };
const REPLICA_IDENTITY: Record<string, string> = { d: 'default', n: 'nothing', f: 'full', i: 'an index' };

/** A name or text from the database, made safe for a terminal. */
const v = (s: string) => visible(s);

/** A value for a sentence: quoted, escaped, and cut when long. */
function show(value: string | null | undefined, max = 60): string {
  if (value === null || value === undefined) return 'NULL';
  const t = value.length > max ? `${value.slice(0, max - 3)}…` : value;
  return visible(JSON.stringify(t));
}

function list(items: readonly string[]): string {
  return items.length ? items.map(v).join(', ') : 'none';
}

/** Two long texts (a function's body, a view's query): the lines where they differ, without what they share before and after. */
function firstChange(was: string, now: string): string {
  const a = was.split('\n');
  const b = now.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const part = (lines: string[], end: number) => (end > start ? show(lines.slice(start, end).map((l) => l.trim()).join('\n'), 160) : '(nothing)');
  const where = a.length === 1 && b.length === 1 ? '' : `from line ${start + 1}: `;
  return `${where}was ${part(a, endA)}, is now ${part(b, endB)}`;
}

function schemaOf(qualified: string): string {
  return qualified.slice(0, qualified.indexOf('.'));
}

/** The spellings of a schema-qualified name: with and without its schema. */
function qualifiedNames(qualified: string): string[] {
  const dot = qualified.indexOf('.');
  return dot < 0 ? [qualified] : [qualified, qualified.slice(dot + 1)];
}

/** A name scoped to a table (constraint, trigger, policy, rule): schema.table.name, table.name, or the name alone. */
function tableScopedNames(table: string, name: string): string[] {
  return [...qualifiedNames(table).map((t) => `${t}.${name}`), name];
}

function privileges(label: string, was: readonly string[], now: readonly string[]): string | undefined {
  const granted = now.filter((x) => !was.includes(x));
  const revoked = was.filter((x) => !now.includes(x));
  if (!granted.length && !revoked.length) return undefined;
  return `${label}: privileges ${[granted.length ? `granted after the rollback, not before: ${list(granted)}` : '', revoked.length ? `gone after the rollback: ${list(revoked)}` : ''].filter(Boolean).join('; ')}`;
}

function comment(label: string, was: string | null, now: string | null): string | undefined {
  if (was === now) return undefined;
  return `${label}: its comment was ${was === null ? 'none' : show(was)}, is now ${now === null ? 'none' : show(now)}`;
}

function owner(label: string, was: string, now: string): string | undefined {
  return was === now ? undefined : `${label}: its owner was ${v(was)}, is now ${v(now)}`;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function compareFingerprints(before: Fingerprint, after: Fingerprint): Comparison {
  const out: Difference[] = [];
  const notes: string[] = [];
  const push = (d: Omit<Difference, 'text'>, ...texts: Array<string | undefined>) => {
    for (const text of texts) if (text !== undefined) out.push({ ...d, text });
  };
  const exists = (what: string) => `${what} exists after the rollback, not before`;
  const gone = (what: string) => `${what} is gone after the rollback`;
  /** Both fingerprints hold the table: its parts are compared one by one (else the table's own line says it all). */
  const inBoth = (table: string) => before.relations[table] !== undefined && after.relations[table] !== undefined;

  // The database and the cluster.
  {
    const was = before.database;
    const now = after.database;
    const label = `database ${v(now.name)}`;
    const base = { kind: 'database' as const, object: now.name, names: [now.name] };
    if (was.name !== now.name) push(base, `the database was ${v(was.name)}, is now ${v(now.name)} (a rename, or another database)`);
    push(base, owner(label, was.owner, now.owner), privileges(label, was.acl, now.acl), comment(label, was.comment, now.comment));
    if (!same(was.settings, now.settings)) push(base, `${label}: its settings were (${list(was.settings)}), are now (${list(now.settings)})`);
    if (!same(was.defaultAcl, now.defaultAcl)) push(base, `${label}: its default privileges were (${list(was.defaultAcl)}), are now (${list(now.defaultAcl)})`);
    for (const t of now.eventTriggers.filter((x) => !was.eventTriggers.includes(x))) push(base, exists(`event trigger ${v(t)}`));
    for (const t of was.eventTriggers.filter((x) => !now.eventTriggers.includes(x))) push(base, gone(`event trigger ${v(t)}`));
  }
  for (const name of keys(before.roles, after.roles)) {
    const was = before.roles[name];
    const now = after.roles[name];
    if (was === now) continue;
    const base = { kind: 'role' as const, object: name, names: [name] };
    if (was === undefined) push(base, exists(`role ${v(name)} (${v(now!)})`) + ' (roles belong to the whole server)');
    else if (now === undefined) push(base, gone(`role ${v(name)} (${v(was)})`));
    else push(base, `role ${v(name)} was ${show(was, 200)}, is now ${show(now, 200)}`);
  }
  for (const name of keys(before.extensions, after.extensions)) {
    const was = before.extensions[name];
    const now = after.extensions[name];
    if (was === now) continue;
    const base = { kind: 'extension' as const, object: name, names: [name] };
    if (was === undefined) push(base, exists(`extension ${v(name)} ${v(now!)}`));
    else if (now === undefined) push(base, gone(`extension ${v(name)} ${v(was)}`));
    else push(base, `extension ${v(name)} was ${v(was)}, is now ${v(now)}`);
  }
  for (const name of keys(before.schemas, after.schemas)) {
    const was = before.schemas[name];
    const now = after.schemas[name];
    const base = { kind: 'schema' as const, object: name, names: [name] };
    const label = `schema ${v(name)}`;
    if (!was) push(base, exists(label));
    else if (!now) push(base, gone(label));
    else push(base, owner(label, was.owner, now.owner), privileges(label, was.acl, now.acl), comment(label, was.comment, now.comment));
  }

  // Relations: tables, views, sequences… and what they are.
  for (const rel of keys(before.relations, after.relations)) {
    const was = before.relations[rel];
    const now = after.relations[rel];
    const base = { kind: 'relation' as const, table: rel, object: rel, names: qualifiedNames(rel) };
    if (!was) push(base, exists(`${KIND[now!.kind] ?? 'relation'} ${v(rel)}`));
    else if (!now) push(base, gone(`${KIND[was.kind] ?? 'relation'} ${v(rel)}`));
    else if (was.kind !== now.kind) push(base, `${v(rel)} was a ${KIND[was.kind] ?? was.kind}, is now a ${KIND[now.kind] ?? now.kind}`);
    else push(base, ...relationChanges(`${KIND[now.kind] ?? 'relation'} ${v(rel)}`, was, now));
  }
  for (const rel of keys(before.columns, after.columns)) {
    if (!inBoth(rel)) continue;
    const was = before.columns[rel] ?? [];
    const now = after.columns[rel] ?? [];
    const wasBy = new Map(was.map((c) => [c.name, c]));
    const nowBy = new Map(now.map((c) => [c.name, c]));
    for (const col of [...new Set([...wasBy.keys(), ...nowBy.keys()])].sort()) {
      const a = wasBy.get(col);
      const b = nowBy.get(col);
      const name = `${rel}.${col}`;
      const base = { kind: 'column' as const, table: rel, object: name, names: qualifiedNames(name) };
      const label = `column ${v(name)}`;
      if (!a) push(base, exists(`${label} (${v(b!.type)})`));
      else if (!b) push(base, gone(`${label} (${v(a.type)})`));
      else {
        if (a.type !== b.type) push(base, `${label} was ${v(a.type)}, is now ${v(b.type)}`);
        push(base, privileges(label, a.acl, b.acl), comment(label, a.comment, b.comment));
      }
    }
    // The columns both have, in their order: a column dropped and added again comes back last.
    const wasOrder = was.map((c) => c.name).filter((c) => nowBy.has(c));
    const nowOrder = now.map((c) => c.name).filter((c) => wasBy.has(c));
    if (!same(wasOrder, nowOrder)) {
      push({ kind: 'column-order', table: rel, object: rel, names: qualifiedNames(rel) }, `the columns of ${v(rel)} are in another order (a column dropped and added again?): was (${list(wasOrder)}), is now (${list(nowOrder)})`);
    }
  }
  for (const name of keys(before.indexes, after.indexes)) {
    const was = before.indexes[name];
    const now = after.indexes[name];
    const table = (now ?? was)!.table;
    // An index of a table that is gone, or new, goes with the table.
    if (!inBoth(table) || (was !== undefined && !inBoth(was.table))) continue;
    const base = { kind: 'index' as const, table, object: name, names: qualifiedNames(name) };
    const label = `index ${v(name)} on ${v(table)}`;
    if (!was) push(base, `${exists(label)}${now!.valid ? '' : ' (and is INVALID)'}`);
    else if (!now) push(base, gone(label));
    else {
      if (was.definition !== now.definition) push(base, `${label} was ${show(was.definition, 200)}, is now ${show(now.definition, 200)}`);
      else if (was.valid !== now.valid) push(base, `${label} was ${was.valid ? 'valid' : 'INVALID'}, is now ${now.valid ? 'valid' : 'INVALID'}`);
      push(base, comment(label, was.comment, now.comment));
    }
  }
  for (const name of keys(before.constraints, after.constraints)) {
    const was = before.constraints[name];
    const now = after.constraints[name];
    const table = (now ?? was)!.table;
    if (!inBoth(table)) continue;
    const short = name.slice(table.length + 1);
    const base = { kind: 'constraint' as const, table, object: name, names: tableScopedNames(table, short) };
    const label = `constraint ${v(short)} on ${v(table)}`;
    if (!was) push(base, exists(`${label} (${v(now!.definition)})`));
    else if (!now) push(base, gone(`${label} (${v(was.definition)})`));
    else {
      if (was.definition !== now.definition) push(base, `${label} was ${show(was.definition, 200)}, is now ${show(now.definition, 200)}`);
      else if (was.validated !== now.validated) push(base, `${label} was ${was.validated ? 'validated' : 'NOT VALID'}, is now ${now.validated ? 'validated' : 'NOT VALID'}`);
      push(base, comment(label, was.comment, now.comment));
    }
  }
  type TableScoped = Record<string, { table: string; definition: string; enabled?: string; comment?: string | null }>;
  const scoped: Array<['trigger' | 'policy' | 'rule', TableScoped, TableScoped]> = [
    ['trigger', before.triggers, after.triggers],
    ['policy', before.policies, after.policies],
    ['rule', before.rules, after.rules],
  ];
  for (const [kind, b, a] of scoped) {
    const word = kind;
    for (const name of keys(b, a)) {
      const was = b[name];
      const now = a[name];
      const table = (now ?? was)!.table;
      if (!inBoth(table)) continue;
      const short = name.slice(table.length + 1);
      const base = { kind, table, object: name, names: tableScopedNames(table, short) };
      const label = `${word} ${v(short)} on ${v(table)}`;
      if (!was) push(base, exists(`${label} (${show(now!.definition, 200)})`));
      else if (!now) push(base, gone(`${label} (${show(was.definition, 200)})`));
      else {
        if (was.definition !== now.definition) push(base, `${label} was ${show(was.definition, 200)}, is now ${show(now.definition, 200)}`);
        if (was.enabled !== now.enabled) push(base, `${label} was ${ENABLED[was.enabled ?? ''] ?? was.enabled}, is now ${ENABLED[now.enabled ?? ''] ?? now.enabled}`);
        push(base, comment(label, was.comment ?? null, now.comment ?? null));
      }
    }
  }
  for (const name of keys(before.statistics, after.statistics)) {
    const was = before.statistics[name];
    const now = after.statistics[name];
    const table = (now ?? was)!.table;
    if (!inBoth(table)) continue;
    const base = { kind: 'statistics' as const, table, object: name, names: qualifiedNames(name) };
    const label = `statistics object ${v(name)} on ${v(table)}`;
    if (!was) push(base, exists(label));
    else if (!now) push(base, gone(label));
    else if (was.definition !== now.definition) push(base, `${label} was ${show(was.definition, 200)}, is now ${show(now.definition, 200)}`);
  }
  for (const name of keys(before.functions, after.functions)) {
    const was = before.functions[name];
    const now = after.functions[name];
    const base = { kind: 'function' as const, object: name, names: qualifiedNames(name) };
    const label = `function ${v(name)}`;
    if (!was) push(base, exists(label));
    else if (!now) push(base, gone(label));
    else {
      if (was.definition !== now.definition) push(base, `${label}: its definition differs: ${firstChange(was.definition, now.definition)}`);
      push(base, owner(label, was.owner, now.owner), privileges(label, was.acl, now.acl), comment(label, was.comment, now.comment));
    }
  }
  for (const name of keys(before.types, after.types)) {
    const was = before.types[name];
    const now = after.types[name];
    const base = { kind: 'type' as const, object: name, names: qualifiedNames(name) };
    const label = `${TYPE_KIND[(now ?? was)!.kind] ?? 'type'} ${v(name)}`;
    if (!was) push(base, exists(label));
    else if (!now) push(base, gone(label));
    else {
      if (was.kind !== now.kind || was.definition !== now.definition) push(base, `${label} was ${v(was.definition)}, is now ${v(now.definition)}`);
      push(base, owner(label, was.owner, now.owner), privileges(label, was.acl, now.acl), comment(label, was.comment, now.comment));
    }
  }

  // Rows.
  for (const rel of keys(before.data, after.data)) {
    const was = before.data[rel];
    const now = after.data[rel];
    if (!was || !now || !inBoth(rel)) continue; // reported with the relation
    const what = `${KIND[after.relations[rel]!.kind] ?? 'table'} ${v(rel)}`;
    const base = { kind: 'rows' as const, table: rel };
    const columnsToo = same((before.columns[rel] ?? []).map((c) => c.name).sort(), (after.columns[rel] ?? []).map((c) => c.name).sort()) ? '' : ' (its columns differ too)';
    if (was.unpopulated !== now.unpopulated) push(base, `${what} was ${was.unpopulated ? 'not populated' : 'populated'}, is now ${now.unpopulated ? 'not populated' : 'populated'}`);
    else if (was.rows !== now.rows) push(base, `${what} had ${was.rows} row(s) before, ${now.rows} after the rollback`);
    else if (was.hash !== now.hash) push(base, `${what} has the same ${was.rows} row(s) in number, but their content differs${columnsToo}`);
  }

  // Sequences: set back is a difference (values already handed out come again), advanced is normal.
  for (const rel of keys(before.positions, after.positions)) {
    const was = before.positions[rel];
    const now = after.positions[rel];
    if (!was || !now || was.next === now.next) continue;
    const descending = BigInt(now.increment) < 0n;
    const back = descending ? BigInt(now.next) > BigInt(was.next) : BigInt(now.next) < BigInt(was.next);
    if (back) {
      push({ kind: 'sequence', object: rel, names: qualifiedNames(rel) }, `sequence ${v(rel)} was set back: its next value was ${was.next}, is now ${now.next} (values already handed out would be handed out again: duplicate keys ahead)`);
    } else {
      notes.push(`sequence ${v(rel)} advanced (next value ${was.next} before, ${now.next} after): values the forward path took are not given back, which is normal and harmless`);
    }
  }

  // Tracking rows, by migration.
  const rowKey = (r: Fingerprint['tracking'][number]) => `${r.table}\u0000${r.migration}`;
  const wasRows = new Map(before.tracking.map((r) => [rowKey(r), r]));
  const nowRows = new Map(after.tracking.map((r) => [rowKey(r), r]));
  for (const key of [...new Set([...wasRows.keys(), ...nowRows.keys()])].sort()) {
    const was = wasRows.get(key);
    const now = nowRows.get(key);
    const r = (now ?? was)!;
    const where = v(r.table);
    const base = { kind: 'tracking' as const, table: r.table, migration: r.migration };
    if (!was) push(base, `${where}: a row for ${v(r.migration)} (${describe(now!.facts)}) exists after the rollback, not before`);
    else if (!now) push(base, `${where}: the row for ${v(r.migration)} (${describe(was.facts)}) is gone after the rollback`);
    else {
      const changed = keys(was.facts, now.facts).filter((k) => was.facts[k] !== now.facts[k]);
      if (changed.length) push(base, `${where}: ${v(r.migration)}: ${changed.map((k) => `${k} was ${show(was.facts[k])}, is now ${show(now.facts[k])}`).join('; ')}`);
    }
  }

  // The safety net: different digests with nothing named are a difference all the same.
  if (out.length === 0 && before.digest !== after.digest) out.push({ kind: 'unnamed', text: UNNAMED });
  return { differences: out, notes };
}

/** The differences alone (notes aside). */
export function diffFingerprints(before: Fingerprint, after: Fingerprint): Difference[] {
  return compareFingerprints(before, after).differences;
}

function relationChanges(label: string, was: Relation, now: Relation): Array<string | undefined> {
  const out: Array<string | undefined> = [owner(label, was.owner, now.owner)];
  if (was.persistence !== now.persistence) out.push(`${label} was ${PERSISTENCE[was.persistence] ?? was.persistence}, is now ${PERSISTENCE[now.persistence] ?? now.persistence}`);
  if (was.kind !== 'c') out.push(privileges(label, was.acl, now.acl));
  out.push(comment(label, was.comment, now.comment));
  if (!same(was.options, now.options)) out.push(`${label}: its storage parameters were (${list(was.options)}), are now (${list(now.options)})`);
  if (was.rowSecurity !== now.rowSecurity) out.push(`${label}: row-level security was ${was.rowSecurity ? 'on' : 'off'}, is now ${now.rowSecurity ? 'on' : 'off'}`);
  if (was.forceRowSecurity !== now.forceRowSecurity) out.push(`${label}: row-level security was ${was.forceRowSecurity ? '' : 'not '}forced on its owner, is now ${now.forceRowSecurity ? '' : 'not '}forced`);
  if (was.replicaIdentity !== now.replicaIdentity) out.push(`${label}: its replica identity was ${REPLICA_IDENTITY[was.replicaIdentity] ?? was.replicaIdentity}, is now ${REPLICA_IDENTITY[now.replicaIdentity] ?? now.replicaIdentity}`);
  if (was.definition !== now.definition) out.push(`${label}: its definition differs: ${firstChange(was.definition ?? '', now.definition ?? '')}`);
  if (was.partitionBound !== now.partitionBound) out.push(`${label}: its partition bounds were ${show(was.partitionBound, 120)}, are now ${show(now.partitionBound, 120)}`);
  if (!same(was.parents, now.parents)) out.push(`${label}: it inherited from (${list(was.parents)}), now from (${list(now.parents)})`);
  return out;
}

function describe(facts: Record<string, string | null>): string {
  return facts.state ?? Object.entries(facts).map(([k, val]) => `${k} ${show(val)}`).join(', ');
}

/**
 * Does a declaration cover a difference? Each kind of declaration covers its kind of difference
 * only: `table:` a table's rows (count and content), `migration:` a tracking row, `object:` a
 * schema object by one of its names. A table given without its schema matches in any schema.
 */
function covers(d: Declared, diff: Difference): boolean {
  if (d.migration !== undefined) return diff.kind === 'tracking' && diff.migration !== undefined && (diff.migration === d.migration || diff.migration.startsWith(`${d.migration} `));
  if (d.object !== undefined) return diff.kind !== 'rows' && diff.kind !== 'tracking' && diff.kind !== 'unnamed' && (diff.names ?? []).includes(d.object);
  if (d.table !== undefined) return diff.kind === 'rows' && diff.table !== undefined && (diff.table === d.table || diff.table === `${schemaOf(diff.table)}.${d.table}`);
  return false;
}

export function rollbackVerdict(differences: readonly Difference[], declared: readonly Declared[], notes: readonly string[] = []): Verdict {
  const undeclared: Difference[] = [];
  const matched: Verdict['declared'] = [];
  const used = new Set<Declared>();
  for (const diff of differences) {
    const d = declared.find((x) => covers(x, diff));
    if (d) {
      used.add(d);
      matched.push({ ...diff, reason: d.reason });
    } else undeclared.push(diff);
  }
  const restored = undeclared.length ? 'no' : matched.length ? 'yes-except-declared' : 'yes';
  return { restored, undeclared, declared: matched, unused: declared.filter((d) => !used.has(d)), notes: [...notes] };
}
