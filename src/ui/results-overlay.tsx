/** The review (v): the result of any step run so far, and the step the run is at, one at a time, scrollable. */
import { Box } from 'ink';
import { Text } from './text.js';
import type { Row } from './step-result.js';
import { ResultRows } from './step-view.js';

export const RESULTS_KEYS = '←/→: earlier/later step · ↑/↓: scroll · Esc: close';

/** `offset`: the first body row shown; `height`: how many body rows fit. */
export function ResultsOverlay({ head, body, position, total, offset, height }: { head: readonly Row[]; body: readonly Row[]; position: number; total: number; offset: number; height: number }) {
  const shown = body.slice(offset, offset + Math.max(1, height));
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold wrap="truncate-end">
        Steps so far: {position} of {total}
      </Text>
      <ResultRows rows={head} />
      <ResultRows rows={shown} />
      <Text dimColor wrap="truncate-end">
        {body.length > shown.length ? `rows ${offset + 1}–${offset + shown.length} of ${body.length} · ` : ''}
        {RESULTS_KEYS}
      </Text>
    </Box>
  );
}
