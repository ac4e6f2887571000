/**
 * Which rows of the phase list are shown, and the marks of step stages: plain data, shared by the
 * Ink phase list and the static first frame (which must not load Ink).
 */
import type { RunState, StepStage, StepState } from '../core/machine.js';
import type { Plan } from '../core/plan.js';

export const STAGE_MARK: Record<StepStage, string> = {
  pending: '·',
  running: '▶',
  'awaiting-confirmation': '!',
  passed: '✓',
  failed: '✗',
  skipped: '↷',
  'rolled-back': '↺',
  unknown: '?',
};

export const STAGE_COLOR: Partial<Record<StepStage, string>> = { passed: 'green', failed: 'red', 'awaiting-confirmation': 'yellow', unknown: 'yellow', 'rolled-back': 'magenta', running: 'cyan', skipped: 'yellow' };

/** A check that failed and that the operator counted as passed (with a reason): never the plain ✓. */
export const OVERRIDDEN_MARK = '≠';

/** A step's mark: its stage's, except an overridden check, which has its own. */
export function stepMark(st: Pick<StepState, 'stage' | 'overridden'>): string {
  return st.stage === 'passed' && st.overridden !== undefined ? OVERRIDDEN_MARK : STAGE_MARK[st.stage];
}

/** A step's colour (a second signal beside its mark). */
export function stepColor(st: Pick<StepState, 'stage' | 'overridden' | 'dryRun'>): string {
  if (st.stage === 'passed' && st.overridden !== undefined) return 'yellow';
  if (st.stage === 'skipped' && st.dryRun !== undefined) return 'blue';
  return STAGE_COLOR[st.stage] ?? 'white';
}

/** Where a phase stands: how many of its steps ended, and how many of those were not plainly passed. */
export interface PhaseTally {
  total: number;
  /** Ended: passed (overridden included) or skipped (dry run included). */
  done: number;
  skipped: number;
  overridden: number;
  /** Not executed because the run is a dry run. */
  dryRun: number;
  failed: boolean;
}

export function phaseTally(state: RunState, phaseIndex: number): PhaseTally {
  const steps = state.plan.phases[phaseIndex]!.steps;
  const t: PhaseTally = { total: steps.length, done: 0, skipped: 0, overridden: 0, dryRun: 0, failed: false };
  for (const id of steps) {
    const st = state.steps[id]!;
    if (st.stage === 'passed') {
      t.done++;
      if (st.overridden !== undefined) t.overridden++;
    } else if (st.stage === 'skipped') {
      t.done++;
      if (st.dryRun !== undefined) t.dryRun++;
      else t.skipped++;
    } else if (st.stage === 'failed' || st.stage === 'unknown') t.failed = true;
  }
  return t;
}

/**
 * A phase's mark, colour and count in words. ✓ only when every step passed as the runbook expects:
 * a phase with an overridden check gets ≠, one with a skipped step ↷ (the backup phase whose only
 * step was skipped took no backup), and the count says how many of each.
 */
export function phaseMark(t: PhaseTally, isCurrent: boolean): { mark: string; color: string; count: string } {
  const extra = [t.overridden ? `${t.overridden} overridden` : '', t.skipped ? `${t.skipped} skipped` : '', t.dryRun ? `${t.dryRun} not run (dry run)` : ''].filter(Boolean);
  const count = `${t.done}/${t.total}${extra.length ? `, ${extra.join(', ')}` : ''}`;
  const all = t.done === t.total;
  if (t.failed) return { mark: '✗', color: 'red', count };
  if (all && t.overridden) return { mark: OVERRIDDEN_MARK, color: 'yellow', count };
  if (all && t.skipped) return { mark: STAGE_MARK.skipped, color: 'yellow', count };
  if (all && t.dryRun) return { mark: STAGE_MARK.skipped, color: 'blue', count };
  if (all) return { mark: '✓', color: 'green', count };
  return { mark: isCurrent ? '▶' : ' ', color: isCurrent ? 'cyan' : 'gray', count };
}

/** The phase list's width: a third of a wide terminal (titles are cut less), never under 38 columns or over 64. */
export function listWidth(columns: number): number {
  return Math.max(38, Math.min(64, Math.floor(columns / 3)));
}

/** The fewest rows the list takes: the current step and a "more" line on each side. */
export const MIN_HEIGHT = 3;

/**
 * The most rows the list takes: enough to see where the run is, and few enough that a frame (which
 * Ink lays out and writes whole on every key) costs the same on 10 steps as on 5,000.
 */
export const MAX_HEIGHT = 15;

/** The list's height on a terminal of `rows` rows under a banner for `targets` targets (its border, title, tools and a line each, and `bannerExtra` more), leaving two lines for messages. */
export function listHeight(rows: number, targets: number, bannerExtra = 0): number {
  return Math.min(MAX_HEIGHT, rows - (4 + Math.max(1, targets)) - bannerExtra - 2);
}

export type ListRow = { kind: 'phase'; index: number } | { kind: 'step'; id: string } | { kind: 'more'; count: number; where: 'above' | 'below' };

/**
 * The rows to show. The full list is every phase, with the steps of the current phase under it;
 * the window keeps the current step (else the current phase, else the top) in view, near the middle,
 * and says how many rows it hides above and below. Only the visible rows are ever built.
 */
export function phaseListRows(plan: Plan, current: string | undefined, height: number): ListRow[] {
  const h = Math.max(MIN_HEIGHT, Math.floor(height));
  const cp = current ? plan.phases.findIndex((p) => p.id === plan.steps[current]?.phase.id) : -1;
  const steps = cp >= 0 ? plan.phases[cp]!.steps : [];
  const total = plan.phases.length + steps.length;
  // Row i of the full list: phases up to the current one, its steps, then the other phases.
  const rowAt = (i: number): ListRow => {
    if (cp < 0 || i <= cp) return { kind: 'phase', index: i };
    if (i <= cp + steps.length) return { kind: 'step', id: steps[i - cp - 1]! };
    return { kind: 'phase', index: i - steps.length };
  };
  const focus = cp < 0 ? 0 : current !== undefined && steps.includes(current) ? cp + 1 + steps.indexOf(current) : cp;
  let from = 0;
  let to = total;
  if (total > h) {
    from = Math.max(0, Math.min(focus - Math.floor((h - 1) / 2), total - h));
    to = from + h;
    // A "more" line takes the place of the row at each edge that hides something (h >= 3 keeps the focus in view).
    if (from > 0) from++;
    if (to < total) to--;
  }
  const rows: ListRow[] = [];
  if (from > 0) rows.push({ kind: 'more', count: from, where: 'above' });
  for (let i = from; i < to; i++) rows.push(rowAt(i));
  if (to < total) rows.push({ kind: 'more', count: total - to, where: 'below' });
  return rows;
}
