/**
 * A drill's debrief, computed from the transcript alone: was the incident fixed, how long things
 * took, what deviated, which rules held. Blameless: concrete points to improve, not a ranking.
 */
import type { PlanOutline, Recorded } from './events.js';
import { duration } from './report.js';
import { firstOperatorAction } from './first-action.js';

export interface Score {
  fixed: boolean;
  /** A rehearsed rollback's verdict, when the drill rolled back. */
  rollback?: {
    restored: 'yes' | 'yes-except-declared' | 'no';
    after?: string;
    /** false when the forward path never reached `after`: the rollback that ran is not the one asked for. */
    reached?: false;
    differences: string[];
    declared: Array<{ text: string; reason: string }>;
    unused: string[];
    /** What changed and is no difference (a sequence that advanced). */
    notes: string[];
    digests: Array<{ name: string; before: string; after: string }>;
  };
  successChecks: Array<{ id: string; pass: boolean; failures: string[] }>;
  outcome: string;
  timeToFirstActionMs: number | undefined;
  timeToFirstPassingVerifyMs: number | undefined;
  phases: Array<{ id: string; title: string; ms: number | undefined }>;
  counts: { skipped: number; overridden: number; wrongTarget: number; retries: number; rollbacks: number; faults: number; notes: number };
  rules: Array<{ rule: string; held: boolean; detail: string }>;
  points: string[];
  /** The tools the drill's commands called: real or stand-in, and the version each reported. */
  tools: Array<{ tool: string; kind: string; version: string }>;
  /** A drill on a project's own migrations: which project, and the incident staged in it. */
  project?: { path: string; fixture: boolean; tool: string; migrationsDir: string; migrations: number; dump?: string; staged: string[] };
}

export function scoreDrill(events: readonly Recorded[]): Score {
  const started = events.find((e): e is Extract<Recorded, { type: 'run.started' }> => e.type === 'run.started');
  const t0 = started ? Date.parse(started.ts) : 0;
  const since = (ts: string | undefined) => (ts === undefined || !started ? undefined : Date.parse(ts) - t0);
  const plan: PlanOutline = started?.plan ?? { phases: [] };
  const phaseOf = new Map<string, PlanOutline['phases'][number]>();
  const effectOf = new Map<string, string>();
  for (const p of plan.phases) for (const s of p.steps) {
    phaseOf.set(s.id, p);
    effectOf.set(s.id, s.effect);
  }

  const checks = events.filter((e): e is Extract<Recorded, { type: 'rehearsal.check' }> => e.type === 'rehearsal.check');
  const rolledBack = [...events].reverse().find((e): e is Extract<Recorded, { type: 'rehearsal.rollback' }> => e.type === 'rehearsal.rollback');
  const finished = [...events].reverse().find((e): e is Extract<Recorded, { type: 'run.finished' }> => e.type === 'run.finished');
  const fixed = checks.length > 0 && checks.every((c) => c.pass);

  const firstAction = firstOperatorAction(events);
  const firstVerify = events.find((e) => e.type === 'check.result' && e.pass && phaseOf.get(e.step)?.kind === 'verify');

  const phases = plan.phases.filter((p) => !p.rollback).map((p) => {
    const ids = new Set(p.steps.map((s) => s.id));
    const mine = events.filter((e) => 'step' in e && typeof e.step === 'string' && ids.has(e.step) && e.type !== 'note');
    const first = mine.find((e) => e.type === 'step.started');
    const last = [...mine].reverse().find((e) => e.type === 'step.finished' || e.type === 'step.skipped');
    return { id: p.id, title: p.title, ms: first && last ? Date.parse(last.ts) - Date.parse(first.ts) : undefined };
  });

  const counts = {
    skipped: events.filter((e) => e.type === 'step.skipped').length,
    overridden: events.filter((e) => e.type === 'step.override').length,
    wrongTarget: events.filter((e) => e.type === 'confirmation' && !e.matched && e.typed !== '').length,
    retries: events.filter((e) => e.type === 'step.retry').length,
    rollbacks: events.filter((e) => e.type === 'rollback.started').length,
    faults: events.filter((e) => e.type === 'fault').length,
    notes: events.filter((e) => e.type === 'note').length,
  };

  // Rule: a backup step finished before the first destructive step ran.
  const rules: Score['rules'] = [];
  const backupIds = new Set(plan.phases.filter((p) => p.kind === 'backup').flatMap((p) => p.steps.map((s) => s.id)));
  const firstDestructive = events.find((e) => (e.type === 'command.started' || e.type === 'sql.result' || (e.type === 'migrations.result' && e.written)) && effectOf.get(e.step) === 'destructive');
  if (backupIds.size && firstDestructive) {
    const backupDone = events.find((e) => e.type === 'step.finished' && e.outcome === 'passed' && backupIds.has(e.step) && e.seq < firstDestructive.seq);
    rules.push({
      rule: 'a backup finished before the first destructive step',
      held: backupDone !== undefined,
      detail: backupDone ? `backup ${backupDone.type === 'step.finished' ? backupDone.step : ''} passed before ${'step' in firstDestructive ? firstDestructive.step : ''}` : `${'step' in firstDestructive ? firstDestructive.step : 'a destructive step'} ran with no finished backup`,
    });
  }
  const verified = events.some((e) => e.type === 'check.result' && e.pass && phaseOf.get(e.step)?.kind === 'verify');
  // A rehearsed rollback stops before the verify phase on purpose: its proof is the fingerprint.
  if (!rolledBack) rules.push({ rule: 'the fix was verified with a passing verify check', held: verified, detail: verified ? 'yes' : 'no verify check passed' });
  rules.push({ rule: 'every deviation has a reason', held: events.filter((e) => e.type === 'step.skipped' || e.type === 'step.override').every((e) => 'reason' in e && e.reason && e.reason !== 'no reason given'), detail: `${counts.skipped + counts.overridden} deviation(s)` });

  const points: string[] = [];
  if (rolledBack) {
    if (rolledBack.reached === false) points.push(`The forward path stopped before ${rolledBack.after ?? 'the step asked for'}, so its rollback was not rehearsed: fix what stopped it (the transcript says which step failed), or rehearse the rollback from a step the forward path reaches.`);
    if (rolledBack.restored === 'no') points.push(`The rollback did not bring the database back: ${rolledBack.differences.length} difference(s) that the runbook does not declare. Fix the rollback steps (or declare under the rollback phase's "leaves" what it cannot undo, and why).`);
    else if (rolledBack.unused.length) points.push(`The runbook declares ${rolledBack.unused.length} thing(s) its rollback leaves that the rehearsal did not see: is the declaration stale?`);
  } else if (!fixed) {
    const failing = checks.filter((c) => !c.pass).map((c) => c.id);
    points.push(checks.length === 0 ? 'The runbook has no rehearsal.success checks, so the drill cannot tell whether the incident was fixed: add some.' : `The incident is not fixed yet: ${failing.join(', ')} still fail${failing.length === 1 ? 's' : ''}. Re-read those checks and the steps that should make them pass.`);
  }
  for (const r of rules) if (!r.held) points.push(`Rule not held: ${r.rule} (${r.detail}).`);
  if (counts.wrongTarget) points.push(`${counts.wrongTarget} confirmation(s) named the wrong target: read the target in the banner before typing it.`);
  if (counts.overridden) points.push(`${counts.overridden} failed check(s) were counted as passed: in an incident, find out why a check fails before overriding it.`);
  if (counts.faults && counts.retries) points.push(`${counts.faults} injected fault(s), recovered with ${counts.retries} retr${counts.retries === 1 ? 'y' : 'ies'}: good. Note what you saw, so the runbook can say what to expect.`);
  if (counts.notes === 0) points.push('No notes were taken: a short note at each decision (n) makes the postmortem easier to write.');
  const slowest = phases.filter((p) => p.ms !== undefined).sort((a, b) => b.ms! - a.ms!)[0];
  if (slowest?.ms && slowest.ms > 60_000) points.push(`The slowest phase was "${slowest.title}" (${duration(slowest.ms)}): is anything in it unclear or slow to find?`);
  if (points.length === 0) {
    points.push(rolledBack ? 'Clean rollback: the database came back to where it was. Rehearse it from another step, or with a fault (--fault).' : 'Clean run: every rule held and the incident is fixed. Try a variant or a fault next (--variant, --fault).');
  }

  return {
    fixed,
    ...(rolledBack
      ? {
          rollback: {
            restored: rolledBack.restored,
            ...(rolledBack.after ? { after: rolledBack.after } : {}),
            ...(rolledBack.reached === false ? { reached: false as const } : {}),
            differences: rolledBack.differences,
            declared: rolledBack.declared,
            unused: rolledBack.unused,
            notes: rolledBack.notes ?? [],
            digests: rolledBack.databases,
          },
        }
      : {}),
    successChecks: checks.map((c) => ({ id: c.id, pass: c.pass, failures: c.failures })),
    outcome: finished?.outcome ?? 'unfinished',
    timeToFirstActionMs: since(firstAction?.ts),
    timeToFirstPassingVerifyMs: since(firstVerify?.ts),
    phases,
    counts,
    rules,
    points,
    tools: events.filter((e): e is Extract<Recorded, { type: 'rehearsal.tool' }> => e.type === 'rehearsal.tool').map((e) => ({ tool: e.tool, kind: e.kind, version: e.version })),
    ...projectOf(events),
  };
}

function projectOf(events: readonly Recorded[]): Pick<Score, 'project'> {
  const p = events.find((e): e is Extract<Recorded, { type: 'rehearsal.project' }> => e.type === 'rehearsal.project');
  if (!p) return {};
  return { project: { path: p.project, fixture: p.fixture, tool: p.tool, migrationsDir: p.migrationsDir, migrations: p.migrations.length + (p.omitted ?? 0), ...(p.dump ? { dump: p.dump } : {}), staged: p.staged } };
}

/** The debrief as Markdown: printed at the end of a drill and added to its report. */
export function renderDebrief(s: Score): string {
  const lines: string[] = [];
  if (s.rollback) {
    const r = s.rollback;
    if (r.reached === false) {
      // Never a "yes" headline for a rollback that was not the one asked for.
      lines.push(`**Rollback rehearsed: no**: the forward path did not reach ${r.after ?? 'the step asked for'}: its rollback was not rehearsed.`, '');
      lines.push(r.restored === 'yes' ? 'The rollback that ran instead left the database as it was.' : r.restored === 'no' ? 'The rollback that ran instead did not bring the database back:' : 'The rollback that ran instead left the database as it was, except as declared:');
    } else lines.push(r.restored === 'yes' ? '**State restored: yes**' : r.restored === 'no' ? '**State restored: no**' : '**State restored: yes, except as declared:**');
    if (r.restored === 'no') for (const d of r.differences) lines.push(`- ${d}`);
    if (r.declared.length && r.restored === 'no') lines.push('', 'and, as the runbook declares:');
    for (const d of r.declared) lines.push(`- ${d.text} (declared: ${d.reason})`);
    for (const u of r.unused) lines.push(`- declared but not seen: ${u}`);
    for (const n of r.notes) lines.push(`- note: ${n}`);
    lines.push('', `(rollback ${r.reached === false ? 'asked for' : 'rehearsed'}${r.after ? ` after ${r.after}` : ''}, run ${s.outcome}; fingerprints before → after: ${r.digests.map((d) => `${d.name} ${d.before.slice(0, 12)} → ${d.after.slice(0, 12)}`).join(', ')})`);
  } else {
    lines.push(`**Incident fixed: ${s.fixed ? 'yes' : 'no'}** (run ${s.outcome}; ${s.successChecks.filter((c) => c.pass).length}/${s.successChecks.length} success checks pass)`);
  }
  lines.push('');
  lines.push(`- Time to first action: ${duration(s.timeToFirstActionMs)}; to the first passing verify check: ${duration(s.timeToFirstPassingVerifyMs)}`);
  if (s.project) {
    const p = s.project;
    lines.push(`- ${p.fixture ? 'Fixture' : 'Project'}: ${p.path} (${p.tool}, ${p.migrations} migrations in ${p.migrationsDir}${p.dump ? `; seeded from ${p.dump}` : ''}), rehearsed in a scratch copy: the ${p.fixture ? 'fixture' : 'project'} was not written`);
    lines.push(`- Incident staged: ${p.staged.join('; ')}`);
  }
  if (s.tools.length) lines.push(`- Tools: ${s.tools.map((t) => `${t.tool} ${t.kind === 'real' ? `real ${t.version}` : `stand-in (${t.version})`}`).join(' · ')}`);
  lines.push(`- Phases: ${s.phases.map((p) => `${p.title} ${duration(p.ms)}`).join(' · ')}`);
  const c = s.counts;
  lines.push(`- Skipped ${c.skipped} · overridden ${c.overridden} · wrong-target confirmations ${c.wrongTarget} · retries ${c.retries} · rollbacks ${c.rollbacks} · faults ${c.faults} · notes ${c.notes}`);
  for (const r of s.rules) lines.push(`- ${r.held ? '✓' : '✗'} ${r.rule}`);
  lines.push('', 'What to take away:', '');
  for (const p of s.points) lines.push(`- ${p}`);
  return lines.join('\n');
}
