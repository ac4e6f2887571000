/** The current step: what it is, why (its notes), and what it did (checklist, output, check result). */
import { Box } from 'ink';
import { Text } from './text.js';
import { describeExpect } from '../core/expect.js';
import { formatTable } from '../core/format.js';
import type { StepState } from '../core/machine.js';
import type { Run } from '../core/runner.js';
import type { PlanStep } from '../core/plan.js';
import { Markdown } from './markdown.js';
import { stepMark } from './phase-list.js';
import { useColor } from './theme.js';

const OUTPUT_LINES = 12;

export function tail(text: string, n: number): string[] {
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.slice(-n);
}

export function StepView(props: { step: PlanStep; title: string; st: StepState; preview: string; cursor: number; busy: boolean; fill?: (text: string) => string }) {
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
        <Box flexDirection="column" marginTop={1}>
          <Markdown text={fill(s.notes)} />
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
          <CommandBody preview={props.preview} st={st} />
        ) : s.check !== undefined ? (
          <CheckBody sql={props.preview} st={st} expect={describeExpect(s.expect)} />
        ) : s.sql !== undefined ? (
          <SqlBody sql={props.preview} st={st} />
        ) : s.migrations ? (
          <MigrationsBody preview={props.preview} st={st} />
        ) : s.ask !== undefined ? (
          <Text>Asks for the value of {s.ask}.</Text>
        ) : null}
      </Box>
      {st.dryRun ? <Text color={c('blue')}>[dry run] not executed: {st.dryRun.split('\n')[0]}</Text> : null}
      {st.reason && st.stage !== 'failed' ? <Text dimColor>{st.stage === 'skipped' ? 'skipped' : 'note'}: {st.reason}</Text> : null}
    </Box>
  );
}

function CommandBody({ preview, st }: { preview: string; st: StepState }) {
  const c = useColor();
  const exit = st.lastExit;
  return (
    <>
      <Text color={c('cyan')}>$ {preview}</Text>
      {st.output ? (
        <Box flexDirection="column" borderStyle="single" borderColor={c('gray')} paddingX={1}>
          {tail(st.output, OUTPUT_LINES).map((l, i) => (
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

function CheckBody({ sql, st, expect }: { sql: string; st: StepState; expect: string }) {
  const c = useColor();
  const r = st.lastCheck;
  return (
    <>
      <Text color={c('cyan')}>{sql.split('\n').filter((l) => !l.startsWith('-- expect:')).join('\n')}</Text>
      <Text dimColor>expect: {expect}</Text>
      {st.stage === 'running' ? <Text color={c('cyan')}>checking…{r ? ` (attempt ${r.attempt + 1})` : ''}</Text> : null}
      {r?.result ? <Text>{formatTable(r.result)}</Text> : null}
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

function MigrationsBody({ preview, st }: { preview: string; st: StepState }) {
  const c = useColor();
  const m = st.lastMigrations;
  return (
    <>
      <Text color={c('cyan')}>{preview}</Text>
      {m ? <Text>{formatTable({ columns: ['migration', 'state', 'evidence'], rows: m.table.map((r) => [r.name, r.state, r.evidence]), rowCount: m.table.length }, 30)}</Text> : null}
      {m ? <Text bold color={c(m.pass ? 'green' : 'red')}>{m.summary}</Text> : null}
    </>
  );
}

/** One line on the step that just ended, so its result stays in sight when the next step starts. */
export function PreviousStep({ run, id }: { run: Run; id: string }) {
  const c = useColor();
  const st = run.state.steps[id];
  if (!st) return null;
  const exit = st.lastExit;
  const detail = st.stage === 'skipped' ? `skipped: ${st.reason ?? ''}`
    : exit ? (exit.timedOut ? 'timed out' : exit.cancelled ? 'cancelled' : exit.signal ? `killed by ${exit.signal}` : `exit ${exit.exitCode} after ${(exit.durationMs / 1000).toFixed(1)}s`)
      : st.lastCheck ? (st.lastCheck.pass ? 'PASS' : `FAIL: ${st.lastCheck.failures.join('; ')}`)
        : st.lastSql ? (st.lastSql.error ? `error: ${st.lastSql.error}` : `${st.lastSql.rowCount ?? 0} row(s) affected, committed`)
          : st.lastMigrations ? st.lastMigrations.summary : st.stage;
  const lastLines = exit && st.output ? tail(st.output, 2) : [];
  return (
    <Box flexDirection="column" marginBottom={1}>
      <Text dimColor color={c(st.stage === 'passed' ? 'green' : st.stage === 'failed' ? 'red' : 'gray')}>
        {stepMark(st)} {id}: {detail}
      </Text>
      {lastLines.map((l, i) => (
        <Text key={i} dimColor wrap="truncate-end">  | {l}</Text>
      ))}
    </Box>
  );
}
