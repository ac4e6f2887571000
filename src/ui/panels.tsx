/** What the run is waiting for: go-ahead, typed confirmation, a value, a decision; and the overlays. */
import { Box } from 'ink';
import { Text } from './text.js';
import type { DecisionOption } from '../core/machine.js';
import type { OperatorRequest } from '../core/ports.js';
import { ENV_COLOR, envWord } from './environment.js';
import { useColor } from './theme.js';

export const DECISION_TEXT: Record<DecisionOption, [string, string]> = {
  retry: ['r', 'retry the step'],
  skip: ['s', 'skip it (with a reason)'],
  override: ['o', 'count the check as passed (with a reason)'],
  'mark-done': ['m', 'mark done: it did take effect (with a reason)'],
  rollback: ['b', 'start rollback'],
  quit: ['q', 'quit (the run can be resumed)'],
};

/**
 * What quitting does, in words that are true: a run can be resumed; a drill cannot (its database
 * is gone when it ends), so it is rehearsed again. `drill`: the runbook's id in a rehearsal.
 */
export function quitWords(drill: string | undefined): { menu: string; ask: string; help: string } {
  return drill === undefined
    ? { menu: 'quit (the run can be resumed)', ask: 'Quit now? The run stops here and can be resumed with drillbook resume.', help: 'quit (asks first; the run can be resumed)' }
    : {
        menu: `quit (the drill ends here; rehearse again with drillbook drill ${drill})`,
        ask: `Quit now? The drill ends here; rehearse again with drillbook drill ${drill}.`,
        help: 'quit (asks first; the drill ends: rehearse it again)',
      };
}

/** The rollback key's words: in a drill, rolling back is rehearsing the rollback from here. */
export function rollbackHint(drill: string | undefined): string {
  return drill === undefined ? 'b: rollback' : 'b: rehearse the rollback from here';
}

/** Where a step has ended: v reviews its result, and any earlier one's. */
export const REVIEW_HINT = 'v: results';

/** The keys of a go-ahead: b only where the run offers a rollback (never during one); v once a step has ended. */
export function GoPanel({ req, drill, review = false }: { req: Extract<OperatorRequest, { kind: 'go' }>; drill?: string | undefined; review?: boolean }) {
  const c = useColor();
  return (
    <Box flexDirection="column" marginTop={1}>
      {req.note ? <Text color={c('yellow')}>{req.note}</Text> : null}
      {req.rollback ? <Text dimColor>rollback: {req.rollback}</Text> : null}
      <Text bold color={c('cyan')}>
        {[req.dryRun ? 'Enter: continue (dry run: nothing runs)' : 'Enter: run it', 's: skip', 'n: note', ...(req.canRollBack ? [rollbackHint(drill)] : []), ...(review ? [REVIEW_HINT] : []), 'q: quit', '?: help'].join(' · ')}
      </Text>
    </Box>
  );
}

/** The keys of a checklist: b where the run offers a rollback. */
export function ChecklistKeys({ rollback, drill, review = false }: { rollback: boolean; drill?: string | undefined; review?: boolean }) {
  const c = useColor();
  return (
    <Text bold color={c('cyan')}>
      {['Space: tick', '↑/↓: move', 'Enter: continue when all are ticked', 's: skip', 'n: note', ...(rollback ? [rollbackHint(drill)] : []), ...(review ? [REVIEW_HINT] : []), 'q: quit', '?: help'].join(' · ')}
    </Text>
  );
}

/**
 * The gate before anything destructive: the environment in words beside the database name, what
 * the server says it is, the exact command, its rollback, and the latest backup (a warning when
 * there is none). Drawn across the whole width, with the step's notes and preview folded away.
 */
export function ConfirmPanel({ req, typed, environment }: { req: Extract<OperatorRequest, { kind: 'confirm' }>; typed: string; environment?: string | undefined }) {
  const c = useColor();
  return (
    <Box flexDirection="column" borderStyle="double" borderColor={c('red')} paddingX={1} marginTop={1}>
      <Text bold color={c('red')}>
        {req.step.effect.toUpperCase()} step on{' '}
        {environment ? (
          <>
            <Text inverse={Boolean(c('x'))} color={c(ENV_COLOR[environment] ?? 'white')}>{` ${envWord(environment)} `}</Text>{' '}
          </>
        ) : null}
        database "{req.word}": confirm the target
      </Text>
      {req.server ? <Text>The server says it is: <Text bold>{req.server}</Text></Text> : null}
      <Text>It will run exactly:</Text>
      <Text color={c('cyan')}>{req.preview}</Text>
      <Text>rollback: {req.rollback ?? 'none declared'}</Text>
      {req.backup ? (
        <Text>latest backup: {req.backup}</Text>
      ) : (
        <Text bold color={c('yellow')}>
          ! latest backup: none taken in this run
        </Text>
      )}
      <Text>
        Type the database name <Text bold>{req.word}</Text> and press Enter (Esc cancels):{' '}
        <Text inverse>{typed || ' '}</Text>
      </Text>
    </Box>
  );
}

export function AskPanel({ req, typed }: { req: Extract<OperatorRequest, { kind: 'ask' }>; typed: string }) {
  const c = useColor();
  const shown = req.input.secret ? '*'.repeat(typed.length) : typed;
  return (
    <Box flexDirection="column" marginTop={1}>
      {req.error ? <Text color={c('red')}>{req.error}</Text> : null}
      <Text>
        {req.input.description ?? req.input.name}
        {req.input.pattern ? <Text dimColor> ({req.input.pattern})</Text> : null}: <Text inverse>{shown || ' '}</Text>
      </Text>
      <Text dimColor>Enter to submit{req.input.secret ? ' · the value is hidden and never recorded' : ''}</Text>
    </Box>
  );
}

export function DecidePanel({ req, cursor, drill }: { req: Extract<OperatorRequest, { kind: 'decide' }>; cursor: number; drill?: string | undefined }) {
  const c = useColor();
  return (
    <Box flexDirection="column" borderStyle="single" borderColor={c(req.unknown ? 'yellow' : 'red')} paddingX={1} marginTop={1}>
      <Text bold color={c(req.unknown ? 'yellow' : 'red')}>
        {req.unknown ? 'UNKNOWN OUTCOME' : 'FAILED'}: {req.failure}
      </Text>
      {req.transient === false ? <Text dimColor>Retrying runs the same statement, which fails the same way: fix the cause first.</Text> : null}
      {req.options.map((o, i) => (
        <Text key={o} inverse={i === cursor}>
          {i === cursor ? '❯' : ' '} {DECISION_TEXT[o][0]}: {o === 'quit' ? quitWords(drill).menu : o === 'rollback' && drill !== undefined ? 'rehearse the rollback from here' : DECISION_TEXT[o][1]}
        </Text>
      ))}
    </Box>
  );
}

export function TextOverlay({ title, typed }: { title: string; typed: string }) {
  return (
    <Box borderStyle="round" paddingX={1} flexDirection="column">
      <Text bold>{title}</Text>
      <Text>
        <Text inverse>{typed || ' '}</Text>
      </Text>
      <Text dimColor>Enter to save · Esc to cancel</Text>
    </Box>
  );
}

export function YesNoOverlay({ text }: { text: string }) {
  const c = useColor();
  return (
    <Box borderStyle="round" borderColor={c('yellow')} paddingX={1}>
      <Text bold>{text} (y/N)</Text>
    </Box>
  );
}

export function MilestoneOverlay() {
  return (
    <Box borderStyle="round" paddingX={1} flexDirection="column">
      <Text bold>Mark a milestone, now:</Text>
      <Text>m: mitigated (users are no longer hurt) · r: resolved (fully fixed) · Esc: cancel</Text>
    </Box>
  );
}

export function HelpOverlay({ drill }: { drill?: string | undefined }) {
  return (
    <Box borderStyle="round" paddingX={1} flexDirection="column">
      <Text bold>Keys</Text>
      <Text>Enter       act: run the step, submit, continue</Text>
      <Text>↑/↓ or j/k  move (checklists, menus)</Text>
      <Text>Space       tick a checklist item (each tick is recorded)</Text>
      <Text>s           skip the step (asks a reason)</Text>
      <Text>r           re-run a failed check or step</Text>
      <Text>b           {drill === undefined ? 'start rollback' : 'rehearse the rollback from here'} (not during one)</Text>
      <Text>v           review the steps so far: results, notes, commands (←/→, ↑/↓)</Text>
      <Text>n           add a note to the transcript</Text>
      <Text>M           mark a milestone (mitigated, resolved)</Text>
      <Text>Ctrl-C      stop the running command or check</Text>
      <Text>q           {quitWords(drill).help}</Text>
      <Text>?           this help · any key closes it</Text>
    </Box>
  );
}
