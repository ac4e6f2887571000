/**
 * Incidents as recipes over a project's own migrations (pure: no I/O). A recipe says which of the
 * folder's migrations are applied, which never were, which failed, what the database holds that
 * the folder does not; the stager (src/drill/stage.ts) makes it so with the tool itself, and the
 * facts of the result fill the runbook's inputs. The shipped fixtures are one project among others.
 */
import type { z } from 'zod';
import type { incidentFactSchema, incidentOverrideSchema, incidentSchema } from './schema.js';
import type { LocalMigration, Tool } from './migrations/types.js';
import type { Runbook } from './runbook.js';
import type { Path } from './yaml-locate.js';

export type Incident = z.output<typeof incidentSchema>;
export type IncidentOverride = z.output<typeof incidentOverrideSchema>;
export type Fact = z.output<typeof incidentFactSchema>;

/** The rehearsal's incident with a variant's changes on top (undefined: the runbook has none). */
export function incidentOf(rb: Runbook, variant: string | undefined): Incident | undefined {
  const base = rb.rehearsal?.incident;
  if (!base) return undefined;
  const over = variant === undefined ? undefined : rb.rehearsal?.variants?.find((v) => v.id === variant)?.incident;
  if (!over) return base;
  return { ...base, ...over, ...(base.inputs || over.inputs ? { inputs: { ...base.inputs, ...over.inputs } } : {}) };
}

/** The name a migration goes by in the tool's tracking table: Prisma's folder, Drizzle's tag, Ecto's version. */
export function trackedName(tool: Tool, m: LocalMigration): string {
  return tool === 'ecto' ? (m.version ?? m.name) : m.name;
}

export interface UniqueIndexBuild {
  /** The index, the table (schema-less) and its first column, as written in the migration. */
  index: string;
  table: string;
  schema: string | undefined;
  column: string;
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;
const unquote = (s: string) => (s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s.toLowerCase());

/** `CREATE UNIQUE INDEX CONCURRENTLY name ON [ONLY] [schema.]table [USING m] (column, …)`, comments aside. */
export function uniqueIndexBuiltConcurrently(sql: string | undefined): UniqueIndexBuild | undefined {
  if (!sql) return undefined;
  const re = new RegExp(String.raw`create\s+unique\s+index\s+concurrently\s+(?:if\s+not\s+exists\s+)?(${IDENT})\s+on\s+(?:only\s+)?(?:(${IDENT})\s*\.\s*)?(${IDENT})\s*(?:using\s+\w+\s*)?\(\s*(${IDENT})`, 'i');
  const m = re.exec(sql.replace(/--[^\n]*/g, ''));
  if (!m) return undefined;
  return { index: unquote(m[1]!), schema: m[2] === undefined ? undefined : unquote(m[2]), table: unquote(m[3]!), column: unquote(m[4]!) };
}

export type PhantomPlan = { kind: 'row'; name: string | undefined } | { kind: 'folder'; folder: string };

/** Which migrations end up where: what the stager makes true, in order. */
export interface IncidentPlan {
  tool: Tool;
  /** Applied by the tool before anything else (or taken from a dump). */
  base: LocalMigration[];
  /** Never applied (the failed one excluded), in folder order. */
  pending: LocalMigration[];
  /** Everything the next deploy runs: pending and failed, in folder order. */
  unapplied: LocalMigration[];
  failed?: LocalMigration;
  invalidIndex?: { migration: LocalMigration; build: UniqueIndexBuild };
  phantom?: PhantomPlan;
  untracked: boolean;
  edited?: LocalMigration;
}

export class IncidentError extends Error {}

/** The recipe applied to a folder's migrations. Throws IncidentError when the project cannot hold this incident. */
export function planIncident(incident: Incident, local: readonly LocalMigration[], what: string): IncidentPlan {
  const n = local.length;
  const tool = incident.tool;
  const need = (k: number, why: string) => {
    if (n < k) throw new IncidentError(`this incident needs at least ${k} migrations (${why}); ${what} has ${n}`);
  };
  let tail: number;
  let failedAt: number | undefined;
  let invalidIndex: IncidentPlan['invalidIndex'];
  if (incident.invalid_index) {
    let at = -1;
    for (let i = n - 1; i >= 0 && at < 0; i--) if (uniqueIndexBuiltConcurrently(local[i]!.sql)) at = i;
    if (at < 0) throw new IncidentError(`this incident is a failed CREATE UNIQUE INDEX CONCURRENTLY, and none of the ${n} migrations of ${what} builds one`);
    if (at === 0) throw new IncidentError(`the migration that builds the unique index (${local[0]!.name}) is ${what}'s first: the incident needs one applied before it`);
    failedAt = at;
    tail = n - at;
    invalidIndex = { migration: local[at]!, build: uniqueIndexBuiltConcurrently(local[at]!.sql)! };
  } else {
    const k = incident.failed === true ? 1 : (incident.failed ?? 0);
    tail = Math.max(incident.pending ?? 0, k);
    if (k > 0) failedAt = n - k;
  }
  need(tail + 1, `${tail ? `${tail} not applied and ` : ''}at least one applied before them`);
  const base = local.slice(0, n - tail);
  const unapplied = local.slice(n - tail);
  const failed = failedAt === undefined ? undefined : local[failedAt];
  const pending = unapplied.filter((m) => m !== failed);
  let phantom: PhantomPlan | undefined;
  if (incident.phantom === true) phantom = { kind: 'row', name: undefined };
  else if (incident.phantom && 'name' in incident.phantom) phantom = { kind: 'row', name: incident.phantom.name };
  else if (incident.phantom) phantom = { kind: 'folder', folder: incident.phantom.folder };
  return {
    tool,
    base,
    pending,
    unapplied,
    ...(failed ? { failed } : {}),
    ...(invalidIndex ? { invalidIndex } : {}),
    ...(phantom ? { phantom } : {}),
    untracked: incident.untracked === true,
    ...(incident.edited ? { edited: base[base.length - 1]! } : {}),
  };
}

/** What a staged incident knows, named as runbooks fill their inputs with it. */
export interface StagedFacts {
  phantom?: string;
  /** The invalid index case: its table's primary key column. */
  key?: string;
}

export function factsOf(plan: IncidentPlan, staged: StagedFacts): Partial<Record<Fact, string>> {
  const name = (m: LocalMigration) => trackedName(plan.tool, m);
  const list = (ms: readonly LocalMigration[]) => (ms.length ? ms.map(name).join(',') : undefined);
  const out: Partial<Record<Fact, string | undefined>> = {
    failed: plan.failed && name(plan.failed),
    pending: list(plan.pending),
    first_pending: plan.pending[0] && name(plan.pending[0]),
    deploy: list(plan.unapplied),
    applied: list(plan.base),
    last_applied: plan.base.length ? name(plan.base[plan.base.length - 1]!) : undefined,
    untracked: plan.untracked ? list(plan.base) : undefined,
    phantom: staged.phantom,
    edited: plan.edited && name(plan.edited),
  };
  if (plan.invalidIndex) {
    const b = plan.invalidIndex.build;
    Object.assign(out, { index: b.index, table: b.table, column: b.column, key: staged.key, aside: `${b.table}_${b.column}_duplicates`.slice(0, 63) });
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as Partial<Record<Fact, string>>;
}

/** Which facts an incident produces, whatever the project (for the linter). */
export function factsProduced(incident: Incident | IncidentOverride): Set<Fact> {
  const out = new Set<Fact>(['applied', 'last_applied']);
  const k = incident.failed === true ? 1 : (incident.failed ?? 0);
  const tail = Math.max(incident.pending ?? 0, k);
  // After a failed index build, whatever follows it in the folder is pending (there may be nothing).
  if (k > 0 || incident.invalid_index) out.add('failed');
  if (tail - (k > 0 ? 1 : 0) > 0 || incident.invalid_index) {
    out.add('pending');
    out.add('first_pending');
  }
  if (tail > 0 || incident.invalid_index) out.add('deploy');
  if (incident.untracked) out.add('untracked');
  if (incident.phantom) out.add('phantom');
  if (incident.edited) out.add('edited');
  if (incident.invalid_index) for (const f of ['index', 'table', 'column', 'key', 'aside'] as const) out.add(f);
  return out;
}

/** What the schema alone cannot say about an incident: tool-specific recipes, combinations, facts for inputs. */
export function incidentProblems(rb: Runbook): Array<{ path: Path; message: string; key?: boolean }> {
  const out: Array<{ path: Path; message: string; key?: boolean }> = [];
  const r = rb.rehearsal;
  const base = r?.incident;
  if (!r || !base) {
    r?.variants?.forEach((v, i) => {
      if (v.incident) out.push({ path: ['rehearsal', 'variants', i, 'incident'], message: 'a variant changes the incident, and the rehearsal has none', key: true });
    });
    return out;
  }
  const check = (inc: Incident, at: Path) => {
    const tool = inc.tool;
    if (inc.failed !== undefined && tool !== 'prisma') out.push({ path: [...at, 'failed'], message: `failed: only Prisma records a failed migration (${tool} runs a failure back in one transaction and records nothing)`, key: true });
    if (inc.invalid_index && tool !== 'prisma') out.push({ path: [...at, 'invalid_index'], message: 'invalid_index: staged with Prisma (its migration builds the index CONCURRENTLY and records the failure)', key: true });
    if (inc.invalid_index && inc.failed !== undefined) out.push({ path: [...at, 'invalid_index'], message: 'invalid_index is itself the failed migration: drop failed', key: true });
    if (inc.invalid_index && inc.pending !== undefined) out.push({ path: [...at, 'pending'], message: 'with invalid_index, the migrations after the failed index build are pending: drop pending', key: true });
    if (typeof inc.failed === 'number' && inc.pending !== undefined && inc.pending < inc.failed) out.push({ path: [...at, 'pending'], message: `pending (${inc.pending}) counts the not-applied tail, which reaches back to the failed migration (${inc.failed} from the end)` });
    if (inc.untracked && (inc.failed !== undefined || inc.invalid_index)) out.push({ path: [...at, 'untracked'], message: 'untracked goes with pending and phantom, not with a failed migration', key: true });
    if (inc.edited && tool === 'ecto') out.push({ path: [...at, 'edited'], message: 'edited: Ecto keeps no checksum, so an edited migration is not an incident it can see', key: true });
    if (inc.phantom && typeof inc.phantom === 'object' && 'folder' in inc.phantom && tool !== 'prisma') out.push({ path: [...at, 'phantom', 'folder'], message: 'phantom: {folder} is staged with Prisma; use phantom: true or {name} (a tracking row)' });
    const produced = factsProduced(inc);
    for (const [input, fact] of Object.entries(inc.inputs ?? {})) {
      if (!(input in (rb.inputs ?? {}))) out.push({ path: [...at, 'inputs', input], message: `unknown input "${input}"`, key: true });
      else if (!produced.has(fact)) out.push({ path: [...at, 'inputs', input], message: `this incident has no "${fact}" to fill ${input} with (it produces: ${[...produced].join(', ')})` });
    }
  };
  check(base, ['rehearsal', 'incident']);
  r.variants?.forEach((v, i) => {
    if (v.incident) check({ ...base, ...v.incident, ...(base.inputs || v.incident.inputs ? { inputs: { ...base.inputs, ...v.incident.inputs } } : {}) }, ['rehearsal', 'variants', i, 'incident']);
  });
  return out;
}
