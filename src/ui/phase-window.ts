/**
 * Which rows of the phase list are shown, and the marks of step stages: plain data, shared by the
 * Ink phase list and the static first frame (which must not load Ink).
 */
import type { StepStage } from '../core/machine.js';
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

export const STAGE_COLOR: Partial<Record<StepStage, string>> = { passed: 'green', failed: 'red', 'awaiting-confirmation': 'yellow', unknown: 'yellow', 'rolled-back': 'magenta', running: 'cyan' };

/** The fewest rows the list takes: the current step and a "more" line on each side. */
export const MIN_HEIGHT = 3;

/**
 * The most rows the list takes: enough to see where the run is, and few enough that a frame (which
 * Ink lays out and writes whole on every key) costs the same on 10 steps as on 5,000.
 */
export const MAX_HEIGHT = 15;

/** The list's height on a terminal of `rows` rows under a banner for `targets` targets (its border, title and a line each), leaving two lines for messages. */
export function listHeight(rows: number, targets: number): number {
  return Math.min(MAX_HEIGHT, rows - (4 + Math.max(1, targets)) - 2);
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
