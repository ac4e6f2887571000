/** The phases and their steps' status. Long runbooks show a window around the current step. */
import { Box } from 'ink';
import { Text } from './text.js';
import type { RunState, StepStage } from '../core/machine.js';
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

/** Re-rendered only when the run's state or the current step changes (not on every cursor move). */
export const PhaseList = memo(function PhaseList({ state, current, height = 14, title = (id) => state.plan.steps[id]!.title }: { state: RunState; current: string | undefined; height?: number; title?: (id: string) => string }) {
  const c = useColor();
  const { plan } = state;
  const currentPhase = current ? plan.steps[current]?.phase.id : undefined;
  const lines: Array<{ key: string; node: ReactElement }> = [];
  for (const [i, phase] of plan.phases.entries()) {
    const stages = phase.steps.map((id) => state.steps[id]!.stage);
    const done = stages.filter((s) => s === 'passed' || s === 'skipped').length;
    const failed = stages.some((s) => s === 'failed' || s === 'unknown');
    const isCurrent = phase.id === currentPhase;
    const mark = failed ? '✗' : done === stages.length ? '✓' : isCurrent ? '▶' : ' ';
    lines.push({
      key: `p-${phase.id}`,
      node: (
        <Text bold={isCurrent} wrap="truncate-end" color={c(failed ? 'red' : done === stages.length ? 'green' : isCurrent ? 'cyan' : 'gray')}>
          {mark} {i + 1}. {phase.title} <Text dimColor>({done}/{stages.length}{phase.kind === 'rollback' ? ', rollback' : ''})</Text>
        </Text>
      ),
    });
    if (!isCurrent) continue;
    const idx = current ? phase.steps.indexOf(current) : 0;
    const room = Math.max(3, height - plan.phases.length);
    const from = Math.max(0, Math.min(idx - Math.floor(room / 2), phase.steps.length - room));
    const to = Math.min(phase.steps.length, from + room);
    if (from > 0) lines.push({ key: `${phase.id}-above`, node: <Text dimColor>     … {from} more above</Text> });
    for (const id of phase.steps.slice(from, to)) {
      const st = state.steps[id]!;
      const here = id === current;
      lines.push({
        key: `s-${id}`,
        node: (
          <Text color={c(STAGE_COLOR[st.stage] ?? 'white')} bold={here} wrap="truncate-end">
            {here ? '  ❯ ' : '    '}
            {STAGE_MARK[st.stage]} {title(id)}
          </Text>
        ),
      });
    }
    if (to < phase.steps.length) lines.push({ key: `${phase.id}-below`, node: <Text dimColor>     … {phase.steps.length - to} more below</Text> });
  }
  return (
    <Box flexDirection="column" width={38} flexShrink={0} paddingRight={1}>
      {lines.map((l) => (
        <Box key={l.key}>{l.node}</Box>
      ))}
    </Box>
  );
});
