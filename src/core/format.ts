/**
 * One formatter per event kind: a line for plain mode and the report's timeline. A new event kind
 * without a formatter is a compile error.
 */
import type { RunEvent } from './events.js';
import { visibleLine } from './sanitize.js';

type Formatters = { [K in RunEvent['type']]: (e: Extract<RunEvent, { type: K }>) => string | undefined };

/**
 * A value wrapped at `width`: at a space when there is one, else hard. Its own line breaks stay
 * visible as \n (data cannot draw rows of its own into the table).
 */
function wrapCell(value: string, width: number): string[] {
  // Walks the value once by index (no re-slicing of the rest): linear in its length.
  const out: string[] = [];
  const line = visibleLine(value);
  let start = 0;
  while (line.length - start > width) {
    const cut = line.lastIndexOf(' ', start + width);
    const at = cut > start + width / 3 ? cut : start + width;
    out.push(line.slice(start, at).trimEnd());
    start = at;
    while (line.charCodeAt(start) === 32) start++;
  }
  out.push(line.slice(start));
  return out;
}

/** The largest of the numbers, without spreading them into arguments (a long list would overflow the stack). */
function largest(values: Iterable<number>, floor = 0): number {
  let m = floor;
  for (const v of values) if (v > m) m = v;
  return m;
}

/**
 * Rows as a text table. Long values wrap inside their column instead of being cut: the table
 * stays whole and nothing is hidden.
 */
function table(result: { columns: string[]; rows: Array<Array<string | null>>; rowCount: number } | undefined, max = 10, maxWidth = 40): string {
  if (!result) return '';
  if (result.columns.length === 0) return '';
  const header = result.columns.map((c) => wrapCell(c, maxWidth));
  const rows = result.rows.slice(0, max).map((r) => result.columns.map((_, i) => wrapCell(r[i] === null || r[i] === undefined ? 'NULL' : r[i]!, maxWidth)));
  const widths = result.columns.map((_, i) => Math.max(largest(header[i]!.map((l) => l.length)), largest(rows.map((r) => largest(r[i]!.map((l) => l.length))))));
  const render = (cells: string[][]) => {
    const height = largest(cells.map((c) => c.length));
    const lines: string[] = [];
    for (let k = 0; k < height; k++) lines.push(cells.map((c, i) => (c[k] ?? '').padEnd(i === cells.length - 1 ? 0 : widths[i]!)).join(' | ').trimEnd());
    return lines;
  };
  const lines = [...render(header), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.flatMap(render)];
  if (result.rowCount > rows.length) lines.push(`(${result.rowCount} rows, ${rows.length} shown)`);
  else lines.push(`(${result.rowCount} row${result.rowCount === 1 ? '' : 's'})`);
  return lines.join('\n');
}

export { table as formatTable };

const FORMATTERS: Formatters = {
  'run.started': (e) => `run of ${e.runbook.id} v${e.runbook.version} started by ${e.operator} on ${e.host} (${e.mode}${e.interface === 'auto' ? ', unattended: --auto' : ''})`,
  'run.resumed': (e) => `run resumed by ${e.operator}${e.recovered ? `; ${e.recovered}` : ''}${e.runbookChanged ? '; the runbook file changed since the run started' : ''}`,
  'input.set': (e) => `input ${e.name} = ${e.value}`,
  'step.started': (e) => `started${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`,
  'checklist.ticked': (e) => `${e.checked ? 'ticked' : 'unticked'}: ${e.text}`,
  confirmation: (e) =>
    e.matched
      ? e.via === 'confirm-target'
        ? `target confirmed by --confirm-target "${e.typed}" (unattended: no one typed it)`
        : `target confirmed: typed "${e.typed}"`
      : e.typed === ''
        ? `confirmation cancelled; nothing ran`
        : `confirmation did not match: typed "${e.typed}", target is "${e.target}"; nothing ran`,
  'command.started': (e) => `$ ${e.command}${e.readOnlySession ? '  (in a session forced read-only)' : ''}`,
  'command.output': () => undefined,
  'command.exited': (e) =>
    e.timedOut ? `command timed out after ${(e.durationMs / 1000).toFixed(1)}s and was killed`
      : e.cancelled ? 'command cancelled'
        : e.signal ? `command killed by ${e.signal}` : `command exited ${e.exitCode} after ${(e.durationMs / 1000).toFixed(1)}s`,
  'check.result': (e) => `check on ${e.database}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}: ${e.pass ? 'PASS' : 'FAIL'}${e.pass ? '' : ` (${e.failures.join('; ')})`}`,
  'sql.result': (e) =>
    e.error
      ? `sql on ${e.database} ${e.unknown ? 'OUTCOME UNKNOWN' : 'failed'}: ${e.error}`
      : `sql on ${e.database}: ${e.statements ? `${e.statements.length} statements (${e.statements.map((s) => `${s.command || '?'} ${s.rowCount}`).join(', ')})` : `${e.rowCount ?? 0} row(s) affected`}, committed${e.note ? ` (${e.note})` : ''}`,
  'target.identified': (e) => `target ${e.name} identified by its server: ${e.identity.user}@${e.identity.address}:${e.identity.port}/${e.identity.database}${e.identity.systemIdentifier ? `, system id ${e.identity.systemIdentifier}` : ''}`,
  'migrations.result': (e) => `${e.tool} migrations on ${e.database}: ${e.summary}${e.written?.length ? `; wrote ${e.written.join(', ')}` : ''}`,
  'step.dry-run': (e) => `[dry run] not executed: ${e.would.split('\n')[0]}${e.would.includes('\n') ? ' …' : ''}`,
  'step.finished': (e) => (e.outcome === 'passed' ? 'passed' : e.outcome === 'unknown' ? `OUTCOME UNKNOWN: ${e.reason ?? ''}` : `FAILED: ${e.reason ?? ''}`),
  'step.skipped': (e) => `skipped: ${e.reason}`,
  'step.retry': () => 'retry',
  'step.override': (e) => `failure overridden: ${e.reason}`,
  'step.marked-done': (e) => `marked done by the operator: ${e.reason}`,
  note: (e) => `note: ${e.text}`,
  milestone: (e) => `milestone: ${e.name} at ${e.at}`,
  'rollback.started': (e) => `ROLLBACK started (${e.reason}): ${e.steps.join(', ') || 'nothing to undo'}`,
  'rollback.finished': (e) => `rollback finished: ${e.summary}`,
  'run.finished': (e) => `run ${e.outcome}${e.reason ? `: ${e.reason}` : ''}`,
  fault: (e) => `FAULT injected by the game master: ${e.name}: ${e.detail}`,
  'rehearsal.rollback': (e) =>
    `${e.reached === false ? `rollback from ${e.after ?? 'the step asked for'} NOT rehearsed (the forward path did not reach it); the rollback that ran left the` : `rollback rehearsed${e.after ? ` after ${e.after}` : ''}:`} state restored ${e.restored === 'yes' ? 'yes' : e.restored === 'no' ? `NO (${e.differences.length} difference(s): ${e.differences.slice(0, 3).join('; ')}${e.differences.length > 3 ? '; …' : ''})` : `yes, except as declared (${e.declared.length})`}`,
  'rehearsal.tool': (e) => `tool ${e.tool}: ${e.kind === 'real' ? `real, ${e.version}` : `stand-in (${e.version})`}${e.detail ? `: ${e.detail}` : ''}`,
  'rehearsal.project': (e) => `${e.fixture ? 'fixture' : 'project'} ${e.project} (${e.tool}, ${e.migrations.length + (e.omitted ?? 0)} migrations in ${e.migrationsDir}), rehearsed in a scratch copy: ${e.staged.join('; ')}`,
  'transcript.sealed': (e) => `transcript sealed: ${e.events} events (run ${e.outcome})`,
  'rehearsal.check': (e) => `success check ${e.id} (${e.title}): ${e.pass ? 'PASS' : `FAIL (${e.failures.join('; ')})`}`,
};

export function formatEvent(e: RunEvent): string | undefined {
  const f = FORMATTERS[e.type] as (e: RunEvent) => string | undefined;
  return f(e);
}
