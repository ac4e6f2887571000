/** The current step: what it is, why (its notes), and what it did (checklist, output, check result). */
import { Box, type DOMElement } from 'ink';
import type { Ref } from 'react';
import { Text } from './text.js';
import { describeExpect } from '../core/expect.js';
import type { StepState } from '../core/machine.js';
import type { Run } from '../core/runner.js';
import { fitTable, stepResult, trimBody, type Row, type Tone } from './step-result.js';
import type { PlanStep } from '../core/plan.js';
import { Markdown } from './markdown.js';
import { stepMark } from './phase-list.js';
import { useColor } from './theme.js';

/** The most lines of a running command's output shown (its last ones). */
export const OUTPUT_LINES = 12;

export function tail(text: string, n: number): string[] {
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.slice(-n);
}

/**
 * `notesRows`: on a terminal too small for the whole step, the notes' first rows (the rest is said
 * to be there, and v shows it); `outputLines`: how many of a running command's last lines show.
 * `notesRef`: the notes as laid out whole, for the screen to measure.
 */
export function StepView(props: { step: PlanStep; title: string; st: StepState; preview: string; cursor: number; busy: boolean; fill?: (text: string) => string; width?: number; notesRows?: number | undefined; outputLines?: number; notesRef?: Ref<DOMElement> }) {
  const fill = props.fill ?? ((t: string) => t);
  const c = useColor();
  const { step, st } = props;
  const s = step.step;
  return (
    <Box flexDirection="column" flexGrow={1} flexShrink={1}>
      <Text bold>
        {stepMark(st)} {props.title}
      </Text>
      <Text dimColor>
        {step.id} · {step.action} · {step.effect}
        {step.database ? ` · on ${step.database}` : ''}
        {step.rollback ? ` · rollback: ${step.rollback}` : step.irreversible ? ' · irreversible' : ''}
        {st.attempts > 1 ? ` · attempt ${st.attempts}` : ''}
      </Text>
      {s.notes ? (
        <Box flexDirection="column" marginTop={1} flexShrink={0}>
          <Box flexDirection="column" overflow="hidden" {...(props.notesRows !== undefined ? { height: props.notesRows } : {})}>
            <Box ref={props.notesRef} flexDirection="column" flexShrink={0}>
              <Markdown text={fill(s.notes)} />
            </Box>
          </Box>
          {props.notesRows !== undefined ? <Text dimColor>… the notes go on: v shows them whole</Text> : null}
        </Box>
      ) : null}
      <Box flexDirection="column" marginTop={1}>
        {s.checklist ? (
          s.checklist.map((item, i) => (
            <Text key={i} color={c(st.ticks[i] ? 'green' : 'white')} inverse={i === props.cursor && st.stage === 'running' && !props.busy}>
              {i === props.cursor ? '❯' : ' '} [{st.ticks[i] ? 'x' : ' '}] {fill(item)}
            </Text>
          ))
        ) : s.run !== undefined ? (
          <CommandBody preview={props.preview} st={st} lines={props.outputLines ?? OUTPUT_LINES} />
        ) : s.check !== undefined ? (
          <CheckBody sql={props.preview} st={st} expect={describeExpect(s.expect)} width={props.width ?? 60} />
        ) : s.sql !== undefined ? (
          <SqlBody sql={props.preview} st={st} />
        ) : s.migrations ? (
          <MigrationsBody preview={props.preview} st={st} width={props.width ?? 60} />
        ) : s.ask !== undefined ? (
          <Text>Asks for the value of {s.ask}.</Text>
        ) : null}
      </Box>
      {st.dryRun ? <Text color={c('blue')}>[dry run] not executed: {st.dryRun.split('\n')[0]}</Text> : null}
      {st.reason && st.stage !== 'failed' ? <Text dimColor>{st.stage === 'skipped' ? 'skipped' : 'note'}: {st.reason}</Text> : null}
    </Box>
  );
}

function CommandBody({ preview, st, lines }: { preview: string; st: StepState; lines: number }) {
  const c = useColor();
  const exit = st.lastExit;
  return (
    <>
      <Text color={c('cyan')}>$ {preview}</Text>
      {st.output ? (
        <Box flexDirection="column" borderStyle="single" borderColor={c('gray')} paddingX={1}>
          {tail(st.output, lines).map((l, i) => (
            <Text key={i} wrap="truncate-end">{l || ' '}</Text>
          ))}
        </Box>
      ) : null}
      {st.stage === 'running' && !exit ? <Text color={c('cyan')}>running… (Ctrl-C stops it)</Text> : null}
      {exit ? (
        <Text color={c(exit.exitCode === 0 ? 'green' : 'red')}>
          {exit.timedOut ? 'timed out and killed' : exit.cancelled ? 'cancelled' : exit.signal ? `killed by ${exit.signal}` : `exit ${exit.exitCode}`} after {(exit.durationMs / 1000).toFixed(1)}s
        </Text>
      ) : null}
    </>
  );
}

function CheckBody({ sql, st, expect, width }: { sql: string; st: StepState; expect: string; width: number }) {
  const c = useColor();
  const r = st.lastCheck;
  return (
    <>
      <Text color={c('cyan')}>{sql.split('\n').filter((l) => !l.startsWith('-- expect:')).join('\n')}</Text>
      <Text dimColor>expect: {expect}</Text>
      {st.stage === 'running' ? <Text color={c('cyan')}>checking…{r ? ` (attempt ${r.attempt + 1})` : ''}</Text> : null}
      {r?.result ? <Text>{fitTable(r.result, width, 10).join('\n')}</Text> : null}
      {r ? (
        <Text bold color={c(r.pass ? 'green' : 'red')}>
          {r.pass ? 'PASS' : 'FAIL'}
          {r.pass ? '' : `: ${r.failures.join('; ')}`}
          {r.attempt > 1 ? ` (attempt ${r.attempt})` : ''}
        </Text>
      ) : null}
    </>
  );
}

function SqlBody({ sql, st }: { sql: string; st: StepState }) {
  const c = useColor();
  return (
    <>
      <Text color={c('cyan')}>{sql}</Text>
      {st.stage === 'running' && !st.lastSql ? <Text color={c('cyan')}>running in a transaction…</Text> : null}
      {st.lastSql?.error ? <Text color={c('red')}>error: {st.lastSql.error}</Text> : null}
      {st.lastSql && !st.lastSql.error ? <Text color={c('green')}>{st.lastSql.rowCount ?? 0} row(s) affected, committed</Text> : null}
    </>
  );
}

function MigrationsBody({ preview, st, width }: { preview: string; st: StepState; width: number }) {
  const c = useColor();
  const m = st.lastMigrations;
  return (
    <>
      <Text color={c('cyan')}>{preview}</Text>
      {m ? <Text>{fitTable({ columns: ['migration', 'state', 'evidence'], rows: m.table.map((r) => [r.name, r.state, r.evidence]), rowCount: m.table.length }, width, 30).join('\n')}</Text> : null}
      {m ? <Text bold color={c(m.pass ? 'green' : 'red')}>{m.summary}</Text> : null}
    </>
  );
}

const TONE: Record<Tone, string | undefined> = { plain: undefined, ok: 'green', bad: 'red', warn: 'yellow', dim: undefined, cmd: 'cyan' };

/** Rows of a step's result (already wrapped to the width they are drawn at). */
export function ResultRows({ rows }: { rows: readonly Row[] }) {
  const c = useColor();
  return (
    <>
      {rows.map((r, i) => {
        const color = TONE[r.tone];
        return (
          <Text key={i} bold={r.bold ?? false} dimColor={r.tone === 'dim'} {...(color ? { color: c(color) } : {})}>
            {r.text || ' '}
          </Text>
        );
      })}
    </>
  );
}

/** Rows of a check's result shown under the next step: the count of all of them is said. */
export const PREVIOUS_TABLE_ROWS = 5;
/** The most rows the result of the previous step takes, however tall the terminal. */
export const PREVIOUS_MAX_ROWS = 14;

/**
 * The step that just ended, so its result stays in sight when the next step starts: its outcome,
 * a check's rows (a few, and how many in all), a command's last lines (wrapped). `rows`: the
 * rows it may take; v reviews the whole result of any earlier step.
 */
export function PreviousStep({ run, id, width, rows }: { run: Run; id: string; width: number; rows: number }) {
  const st = run.state.steps[id];
  const ps = run.plan.steps[id];
  if (!st || !ps) return null;
  const room = Math.max(1, Math.min(PREVIOUS_MAX_ROWS, rows));
  const r = stepResult(ps, st, { width, title: run.title(id), tableRows: PREVIOUS_TABLE_ROWS, items: (ps.step.checklist ?? []).map((t) => run.text(t)) });
  let head = r.head;
  let body = trimBody(r, room - head.length, 'v shows all of it');
  if (head.length + Math.min(1, r.body.length) > room) {
    // No room for the title and the result: the step's id and outcome, and where the rest is.
    const short = stepResult(ps, st, { width, title: '', tableRows: 0, short: true, ...(r.body.length ? { more: 'v: review' } : {}) });
    head = short.head.slice(0, room);
    body = trimBody(r, room - head.length, 'v shows all of it');
  }
  return (
    <Box flexDirection="column" marginBottom={1}>
      <ResultRows rows={[...head.map((h) => ({ ...h, bold: false })), ...body]} />
    </Box>
  );
}
