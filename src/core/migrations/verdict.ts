/** From a diagnosis to words: a one-line verdict, the shipped runbook(s) that fix it, the next command. */
import { countStates, inSync, type Diagnosis } from './types.js';

export interface Verdict {
  inSync: boolean;
  line: string;
  runbooks: string[];
  next: string;
}

export function verdictOf(d: Diagnosis, dir: string): Verdict {
  const c = countStates(d);
  const names = (state: string) => d.entries.filter((e) => e.state === state).map((e) => e.name);
  if (d.database === 'untracked-schema') {
    const pendingWithConflicts = d.entries.filter((e) => e.state === 'pending' && e.conflicts.length).length;
    const what = d.tableExists ? `${d.table} has ${d.rowCount} row(s)` : `${d.table} does not exist`;
    const runbooks = d.tool === 'drizzle' ? ['drizzle-untracked-push'] : d.tool === 'ecto' ? ['ecto-untracked-schema'] : [];
    const line = `untracked schema: ${d.appTables.length} application table(s) exist but ${what}${pendingWithConflicts ? `; ${pendingWithConflicts} pending migration(s) would re-create existing tables` : ''}`;
    const next = d.tool === 'prisma'
      ? `baseline: npx prisma migrate resolve --applied <each migration already in the schema> (P3005 until then)`
      : `rehearse with drillbook drill ${runbooks[0]}, then drillbook run ${runbooks[0]}`;
    return { inSync: false, line, runbooks, next };
  }
  if (d.database === 'empty') {
    return { inSync: c.pending === 0, line: `empty database: ${c.pending} migration(s) to apply`, runbooks: [], next: deployCommand(d.tool) };
  }
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

function deployCommand(tool: Diagnosis['tool']): string {
  return tool === 'prisma' ? 'npx prisma migrate deploy' : tool === 'drizzle' ? 'npx drizzle-kit migrate' : 'mix ecto.migrate';
}
