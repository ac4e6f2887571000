/**
 * The phases and their steps' status, in a window of at most `height` rows around the current
 * step: whatever the size of the runbook, the list renders (and Ink lays out and redraws) only the
 * rows that fit, so a keypress costs the same on 10 steps as on 5,000.
 */
import { Box, Text } from 'ink';
import type { RunState, StepStage } from '../core/machine.js';
import type { Plan } from '../core/plan.js';
import { memo, type ReactElement } from 'react';
import { useColor } from './theme.js';

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

const STAGE_COLOR: Partial<Record<StepStage, string>> = { passed: 'green', failed: 'red', 'awaiting-confirmation': 'yellow', unknown: 'yellow', 'rolled-back': 'magenta', running: 'cyan' };

/** The fewest rows the list takes: the current step and a "more" line on each side. */
export const MIN_HEIGHT = 3;

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

/** Re-rendered only when the run's state, the current step or the height changes (not on every cursor move). */
export const PhaseList = memo(function PhaseList({ state, current, height = 14, title = (id) => state.plan.steps[id]!.title }: { state: RunState; current: string | undefined; height?: number; title?: (id: string) => string }) {
  const c = useColor();
  const { plan } = state;
  const currentPhase = current ? plan.steps[current]?.phase.id : undefined;
  const lines: Array<{ key: string; node: ReactElement }> = phaseListRows(plan, current, height).map((row) => {
    if (row.kind === 'more') {
      return { key: `more-${row.where}`, node: <Text dimColor>     … {row.count} more {row.where}</Text> };
    }
    if (row.kind === 'phase') {
      const phase = plan.phases[row.index]!;
      let done = 0;
      let failed = false;
      for (const id of phase.steps) {
        const stage = state.steps[id]!.stage;
        if (stage === 'passed' || stage === 'skipped') done++;
        else if (stage === 'failed' || stage === 'unknown') failed = true;
      }
      const all = done === phase.steps.length;
      const isCurrent = phase.id === currentPhase;
      const mark = failed ? '✗' : all ? '✓' : isCurrent ? '▶' : ' ';
      return {
        key: `p-${phase.id}`,
        node: (
          <Text bold={isCurrent} wrap="truncate-end" color={c(failed ? 'red' : all ? 'green' : isCurrent ? 'cyan' : 'gray')}>
            {mark} {row.index + 1}. {phase.title} <Text dimColor>({done}/{phase.steps.length}{phase.kind === 'rollback' ? ', rollback' : ''})</Text>
          </Text>
        ),
      };
    }
    const st = state.steps[row.id]!;
    const here = row.id === current;
    return {
      key: `s-${row.id}`,
      node: (
        <Text color={c(STAGE_COLOR[st.stage] ?? 'white')} bold={here} wrap="truncate-end">
          {here ? '  ❯ ' : '    '}
          {STAGE_MARK[st.stage]} {title(row.id)}
        </Text>
      ),
    };
  });
  return (
    <Box flexDirection="column" width={38} flexShrink={0} paddingRight={1}>
      {lines.map((l) => (
        <Box key={l.key}>{l.node}</Box>
      ))}
    </Box>
  );
});
