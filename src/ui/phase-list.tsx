/**
 * The phases and their steps' status, in a window of at most `height` rows around the current
 * step (at most 15 on the run screen): whatever the size of the runbook, the list renders (and Ink
 * lays out and redraws) only those rows, so a keypress costs the same on 10 steps as on 5,000.
 */
import { Box } from 'ink';
import { Text } from './text.js';
import type { RunState } from '../core/machine.js';
import { memo, type ReactElement } from 'react';
import { phaseListRows, phaseMark, phaseTally, stepColor, stepMark } from './phase-window.js';
import { useColor } from './theme.js';

export { MIN_HEIGHT, phaseListRows, STAGE_MARK, stepMark, type ListRow } from './phase-window.js';

/** Re-rendered only when the run's state, the current step or the height changes (not on every cursor move). */
export const PhaseList = memo(function PhaseList({ state, current, height = 14, width = 38, title = (id) => state.plan.steps[id]!.title }: { state: RunState; current: string | undefined; height?: number; width?: number; title?: (id: string) => string }) {
  const c = useColor();
  const { plan } = state;
  const currentPhase = current ? plan.steps[current]?.phase.id : undefined;
  const lines: Array<{ key: string; node: ReactElement }> = phaseListRows(plan, current, height).map((row) => {
    if (row.kind === 'more') {
      return { key: `more-${row.where}`, node: <Text dimColor>     … {row.count} more {row.where}</Text> };
    }
    if (row.kind === 'phase') {
      const phase = plan.phases[row.index]!;
      const isCurrent = phase.id === currentPhase;
      const { mark, color, count } = phaseMark(phaseTally(state, row.index), isCurrent);
      return {
        key: `p-${phase.id}`,
        node: (
          <Text bold={isCurrent} wrap="truncate-end" color={c(color)}>
            {mark} {row.index + 1}. {phase.title} <Text dimColor>({count}{phase.kind === 'rollback' ? ', rollback' : ''})</Text>
          </Text>
        ),
      };
    }
    const st = state.steps[row.id]!;
    const here = row.id === current;
    return {
      key: `s-${row.id}`,
      node: (
        <Text color={c(stepColor(st))} bold={here} wrap="truncate-end">
          {here ? '  ❯ ' : '    '}
          {stepMark(st)} {title(row.id)}
        </Text>
      ),
    };
  });
  return (
    <Box flexDirection="column" width={width} flexShrink={0} paddingRight={1}>
      {lines.map((l) => (
        <Box key={l.key}>{l.node}</Box>
      ))}
    </Box>
  );
});
