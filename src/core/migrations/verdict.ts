/** From a diagnosis to words: a one-line verdict, the shipped runbook(s) that fix it, the next command. */
import { healthCounts, type HealthReport } from './health.js';
import { countStates, inSync, type Diagnosis } from './types.js';

export interface Verdict {
  /** The tracking table agrees with the folder. */
  inSync: boolean;
  /** No schema-health finding asks to act or wait (warnings do not count); true when health was not read. */
  healthy: boolean;
  line: string;
  runbooks: string[];
  next: string;
}

export function verdictOf(d: Diagnosis, dir: string, health?: HealthReport): Verdict {
  const history = historyVerdict(d, dir);
  if (!health) return { ...history, healthy: true };
  const hc = healthCounts(health);
  const healthy = hc.problem + hc.wait === 0;
  if (healthy) return { ...history, healthy };
  const parts = [hc.wait ? `${hc.wait} in progress` : '', hc.problem ? `${hc.problem} problem(s)` : ''].filter(Boolean).join(', ');
  const line = `${history.line}; schema: ${parts}`;
  const waits = health.findings.filter((f) => f.severity === 'wait');
  const problems = health.findings.filter((f) => f.severity === 'problem');
  // Something is running: what diagnose saw is a moment in the middle of it. Nothing else is advice yet.
  if (waits.length) return { ...history, healthy, line, next: `${waits.map((f) => f.nextStep).join('; ')}; then drillbook diagnose again` };
  const first = problems.map((f) => f.nextStep).join('; ');
  const next = history.next === 'nothing to do' ? first : `first ${first}; only then: ${history.next}`;
  // An INVALID index left by a failed concurrent build is its own incident, with its own runbook (Prisma's layout).
  const runbooks = problems.some((f) => f.kind === 'invalid-index') && d.tool === 'prisma' ? ['postgres-invalid-index', ...history.runbooks.filter((r) => r !== 'postgres-invalid-index')] : history.runbooks;
  return { ...history, runbooks, healthy, line, next };
}

function historyVerdict(d: Diagnosis, dir: string): Omit<Verdict, 'healthy'> {
  const c = countStates(d);
  const names = (state: string) => d.entries.filter((e) => e.state === state).map((e) => e.name);
  if (d.database === 'untracked-schema') return untracked(d, dir);
  if (d.database === 'empty') {
    return { inSync: c.pending === 0, line: `empty database: ${c.pending} migration(s) to apply`, runbooks: [], next: deployCommand(d.tool) };
  }
  if (d.tool === 'drizzle' && d.nullCreatedAt?.length) return nullCreatedAt(d);
  if (inSync(d)) return { inSync: true, line: `in sync: ${c.applied} migration(s) applied, nothing pending`, runbooks: [], next: 'nothing to do' };

  const parts: string[] = [];
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.phantom) parts.push(`${c.phantom} phantom (in the database, not on disk)`);
  if (c.pending) parts.push(`${c.pending} pending`);
  if (c.skipped) parts.push(`${c.skipped} skipped by the high-water mark`);
  if (c.modified) parts.push(`${c.modified} modified after apply`);
  const line = `drift: ${parts.join(', ')}`;

  const runbooks: string[] = [];
  let next = deployCommand(d.tool);
  if (d.tool === 'prisma') {
    if (c.failed && (c.phantom || c.pending)) runbooks.push('prisma-phantom-failed-pending');
    if (c.failed) {
      runbooks.push('prisma-failed-migration');
      next = `npx prisma migrate resolve --rolled-back "${names('failed')[0]}"  (after checking what it left behind)`;
    } else if (c.phantom) {
      runbooks.push('prisma-history-mismatch');
      next = `fetch ${names('phantom').join(', ')} into ${dir}, then npx prisma migrate resolve --applied <name>`;
    } else if (c.pending) runbooks.push('prisma-deploy-before-code');
  } else if (d.tool === 'drizzle') {
    if (c.skipped) next = `fix the journal "when" of ${names('skipped').join(', ')} so it is newer than every applied migration, then npx drizzle-kit migrate`;
    if (c.conflicts) runbooks.push('drizzle-untracked-push');
  } else if (c.conflicts) {
    runbooks.push('ecto-untracked-schema');
  }
  return { inSync: false, line, runbooks, next };
}

function untracked(d: Diagnosis, dir: string): Omit<Verdict, 'healthy'> {
  const pending = d.entries.filter((e) => e.state === 'pending');
  const withConflicts = pending.filter((e) => e.conflicts.length);
  const what = !d.tableExists ? `${d.table} does not exist` : d.rowCount === 0 ? `${d.table} is empty` : `${d.table} has ${d.rowCount} row(s)`;
  const runbooks = d.tool === 'drizzle' ? ['drizzle-untracked-push'] : d.tool === 'ecto' ? ['ecto-untracked-schema'] : [];
  let line = `untracked schema: ${d.appTables.length} application table(s) exist but ${what}${withConflicts.length ? `; ${withConflicts.length} pending migration(s) would re-create existing tables` : ''}`;
  if (d.tool !== 'prisma') return { inSync: false, line, runbooks, next: `rehearse with drillbook drill ${runbooks[0]}, then drillbook run ${runbooks[0]}` };

  // Prisma. A missing table: deploy refuses with P3005. An emptied one: deploy believes every
  // migration is new and runs the first against a schema that already has it.
  const first = pending[0];
  if (d.tableExists && first) {
    line += first.conflicts.length
      ? `; prisma migrate deploy would re-run ${first.name}, fail (P3018: relation "${first.conflicts[0]}" already exists), record it as failed, and every later deploy would stop at P3009`
      : `; prisma migrate deploy would re-run all ${pending.length} migration(s) from ${first.name} against it`;
  } else if (!d.tableExists) {
    line += '; prisma migrate deploy refuses with P3005 until it is baselined';
  }
  const known = withConflicts.length ? ` (${withConflicts.length} of ${pending.length} create tables that already exist, the newest of them ${withConflicts[withConflicts.length - 1]!.name})` : '';
  const next = `baseline, never deploy: compare first with npx prisma migrate diff --from-migrations ${dir} --to-config-datasource ("No difference detected" when every migration is in the schema), then npx prisma migrate resolve --applied "<name>" for each migration already in the schema${known}`;
  return { inSync: false, line, runbooks, next };
}

function nullCreatedAt(d: Diagnosis): Omit<Verdict, 'healthy'> {
  const rows = d.nullCreatedAt!;
  const pending = d.entries.filter((e) => e.state === 'pending');
  const conflicts = pending.filter((e) => e.conflicts.length).length;
  const which = rows.length === 1 ? `row ${rows[0]!.rowId} of ${d.table} has` : `rows ${rows.slice(0, 5).map((r) => r.rowId).join(', ')}${rows.length > 5 ? ', …' : ''} of ${d.table} have`;
  const line = `drift: ${which} created_at NULL: drizzle-kit migrate would run all ${pending.length} journal entries again${conflicts ? ` (${conflicts} would re-create existing tables: it fails with 42P07 and applies nothing)` : ''}`;
  const fixes = rows.slice(0, 5).map((r) =>
    r.name !== undefined
      ? `UPDATE ${d.table} SET created_at = ${r.when} WHERE id = ${r.rowId} (${r.name})`
      : `row ${r.rowId} matches no journal entry: set its created_at to the "when" of the migration it records, or delete it`,
  );
  const next = `set created_at to the journal "when" of the migration each row belongs to: ${fixes.join('; ')}${rows.length > 5 ? `; … (${rows.length} rows)` : ''}; then drillbook diagnose again`;
  return { inSync: false, line, runbooks: [], next };
}

function deployCommand(tool: Diagnosis['tool']): string {
  return tool === 'prisma' ? 'npx prisma migrate deploy' : tool === 'drizzle' ? 'npx drizzle-kit migrate' : 'mix ecto.migrate';
}
