/**
 * What a step did, as rows of text that fit a width: the line on the step that just ended, and the
 * review of any earlier step (v). Built from the step's recorded state only; long values wrap (a
 * table too wide for the screen is shown a record at a time, as psql's expanded display), command
 * output wraps instead of being cut, and every piece of data is made visible (no control character
 * reaches the terminal) before it is measured.
 */
import type { CheckRows, Recorded } from '../core/events.js';
import { describeExpect } from '../core/expect.js';
import { formatTable } from '../core/format.js';
import type { StepState } from '../core/machine.js';
import type { PlanStep } from '../core/plan.js';
import { visible, visibleLine } from '../core/sanitize.js';
import { columnsOf, widthOf } from './first-frame.js';
import { stepColor, stepMark } from './phase-window.js';

export type Tone = 'plain' | 'ok' | 'bad' | 'warn' | 'dim' | 'cmd';

export interface Row {
  text: string;
  tone: Tone;
  bold?: boolean;
}

/** Tabs as spaces (to the next multiple of 8): a tab's width depends on where it falls. */
function expandTabs(line: string): string {
  if (!line.includes('\t')) return line;
  let out = '';
  for (const ch of line) out += ch === '\t' ? ' '.repeat(8 - (widthOf(out) % 8)) : ch;
  return out;
}

/** One line (no newline in it) cut into rows of at most `width` columns: at spaces when it can, else hard. */
export function wrapLine(line: string, width: number): string[] {
  const w = Math.max(1, width);
  if (widthOf(line) <= w) return [line];
  const rows: string[] = [];
  let cur = '';
  let curW = 0;
  for (let token of line.split(/( +)/)) {
    if (!token) continue;
    const tw = widthOf(token);
    if (curW + tw <= w) {
      cur += token;
      curW += tw;
      continue;
    }
    if (token.startsWith(' ')) {
      // Spaces at a break are dropped.
      rows.push(cur.trimEnd());
      cur = '';
      curW = 0;
      continue;
    }
    if (cur.trim()) rows.push(cur.trimEnd());
    cur = '';
    curW = 0;
    while (widthOf(token) > w) {
      let piece = '';
      let pw = 0;
      for (const ch of token) {
        if (pw + columnsOf(ch) > w) break;
        piece += ch;
        pw += columnsOf(ch);
      }
      if (!piece) piece = [...token][0]!;
      rows.push(piece);
      token = token.slice(piece.length);
    }
    cur = token;
    curW = widthOf(token);
  }
  if (cur.trim() || rows.length === 0) rows.push(cur.trimEnd());
  return rows;
}

/** Text of any number of lines, made visible and wrapped into rows. */
export function wrapText(text: string, width: number): string[] {
  return visible(text).split('\n').map(expandTabs).flatMap((l) => wrapLine(l, width));
}

/**
 * A check's rows at most `width` wide: as a table when it fits, else one record at a time
 * (column | value, values wrapped), as psql's expanded display. At most `maxRows` rows, and the
 * count of all of them.
 */
export function fitTable(result: CheckRows, width: number, maxRows: number): string[] {
  if (result.columns.length === 0) return [`(${result.rowCount} row${result.rowCount === 1 ? '' : 's'})`];
  const table = formatTable(result, maxRows, Math.max(8, width)).split('\n');
  if (table.every((l) => widthOf(l) <= width)) return table;
  const shown = result.rows.slice(0, maxRows);
  const labels = result.columns.map((c) => visibleLine(c));
  const labelW = Math.max(1, Math.min(Math.max(...labels.map(widthOf)), Math.floor(width / 3)));
  const valueW = Math.max(8, width - labelW - 3);
  const cutLabel = (l: string) => (widthOf(l) <= labelW ? l + ' '.repeat(labelW - widthOf(l)) : `${wrapLine(l, labelW - 1)[0]}…`.padEnd(labelW));
  const out: string[] = [];
  shown.forEach((row, i) => {
    if (shown.length > 1 || result.rowCount > 1) {
      const head = `-[ row ${i + 1} ]`;
      out.push(head + '-'.repeat(Math.max(0, Math.min(width, labelW + 3 + 12) - head.length)));
    }
    labels.forEach((label, c) => {
      const value = row[c] === null || row[c] === undefined ? 'NULL' : row[c]!;
      wrapLine(visibleLine(value), valueW).forEach((v, k) => out.push(`${k === 0 ? cutLabel(label) : ' '.repeat(labelW)} | ${v}`));
    });
  });
  out.push(result.rowCount > shown.length ? `(${result.rowCount} rows, ${shown.length} shown)` : `(${result.rowCount} row${result.rowCount === 1 ? '' : 's'})`);
  return out;
}

function exitWords(exit: NonNullable<StepState['lastExit']>): string {
  return exit.timedOut ? 'timed out and killed' : exit.cancelled ? 'cancelled' : exit.signal ? `killed by ${exit.signal}` : `exit ${exit.exitCode} after ${(exit.durationMs / 1000).toFixed(1)}s`;
}

/** The step's outcome in a few words: what the phase list's mark means, for this step. */
function verdict(ps: PlanStep, st: StepState, items: readonly string[]): { text: string; tone: Tone } {
  if (st.stage === 'skipped') return st.dryRun !== undefined ? { text: 'not run (dry run)', tone: 'dim' } : { text: `skipped: ${st.reason ?? ''}`, tone: 'warn' };
  if (st.stage === 'passed' && st.overridden !== undefined) return { text: `check failed, counted as passed by the operator: ${st.overridden}`, tone: 'warn' };
  if (st.stage === 'passed' && st.reason) return { text: `marked done by the operator: ${st.reason}`, tone: 'warn' };
  if (st.stage === 'failed') return { text: `FAILED${st.reason ? `: ${st.reason}` : ''}`, tone: 'bad' };
  if (st.stage === 'unknown') return { text: `OUTCOME UNKNOWN${st.reason ? `: ${st.reason}` : ''}`, tone: 'warn' };
  if (st.stage === 'rolled-back') return { text: 'passed, then rolled back', tone: 'dim' };
  if (st.stage === 'pending') return { text: 'not run yet', tone: 'dim' };
  if (st.stage === 'running') return { text: ps.action === 'checklist' ? 'waiting for the ticks' : 'in progress', tone: 'dim' };
  if (st.stage === 'awaiting-confirmation') return { text: 'waiting for the typed confirmation', tone: 'dim' };
  if (ps.action === 'check' && st.lastCheck) return { text: `PASS${st.lastCheck.attempt > 1 ? ` (attempt ${st.lastCheck.attempt})` : ''}`, tone: 'ok' };
  if (ps.action === 'run' && st.lastExit) return { text: exitWords(st.lastExit), tone: 'ok' };
  if (ps.action === 'sql' && st.lastSql) return { text: `${st.lastSql.rowCount ?? 0} row(s) affected, committed`, tone: 'ok' };
  if (ps.action === 'migrations' && st.lastMigrations) return { text: st.lastMigrations.summary, tone: 'ok' };
  if (ps.action === 'checklist') return { text: `all ${items.length} ticked`, tone: 'ok' };
  return { text: 'passed', tone: 'ok' };
}

export interface StepResult {
  /** The mark, the step and its outcome in words. */
  head: Row[];
  /** What it recorded: the check's rows, the command's output, the ticks. */
  body: Row[];
  /** Where the command's output starts in the body (its tail is what matters), if any. */
  outputFrom?: number;
  /** The phase list's colour of the step. */
  color: string;
}

/**
 * A step's recorded result as rows of at most `width` columns. `tableRows`: the most rows of a
 * check's result shown (the count of all is said). `preview`: the command or SQL, shown first,
 * and a checklist's every item with its tick: the review shows them; the rows under the next step
 * do not (a plain pass says it in its first row). `notes`: the step's notes, first (the review
 * of the current step shows them whole). `short`: the headline without the title, and
 * `more` said after it (where the rest is).
 */
export function stepResult(ps: PlanStep, st: StepState, opts: { width: number; title: string; tableRows: number; items?: readonly string[]; preview?: string; notes?: string; short?: boolean; more?: string }): StepResult {
  const { width } = opts;
  const items = opts.items ?? ps.step.checklist ?? [];
  const v = verdict(ps, st, items);
  const headline = `${stepMark(st)} ${ps.id}${opts.short ? '' : ` · ${opts.title}`}: ${v.text}${opts.more ? ` (${opts.more})` : ''}`;
  const head = wrapText(headline, width).map((text) => ({ text, tone: v.tone, bold: true }));
  const body: Row[] = [];
  const push = (text: string, tone: Tone, bold = false) => wrapText(text, width).forEach((t) => body.push({ text: t, tone, ...(bold ? { bold } : {}) }));
  const plainPass = st.stage === 'passed' && st.overridden === undefined && !st.reason;
  if (opts.notes) {
    // The runbook's Markdown, as text: paragraphs and list items on rows of their own.
    for (const para of opts.notes.trim().split(/\n\s*\n/)) {
      const lines = para.split('\n');
      const list = lines.every((l) => /^\s*([-*]|\d+\.)\s/.test(l));
      for (const l of list ? lines.map((x) => `  • ${x.replace(/^\s*([-*]|\d+\.)\s/, '')}`) : [lines.join(' ')]) push(l.replace(/`|\*\*/g, ''), 'plain');
      body.push({ text: '', tone: 'plain' });
    }
  }
  if (opts.preview && ps.action !== 'checklist') {
    for (const line of visible(opts.preview).split('\n')) {
      if (!line.startsWith('-- expect:')) push(ps.action === 'run' ? `$ ${line}` : line, 'cmd');
    }
  }
  if (st.dryRun !== undefined) push(`[dry run] not executed: ${st.dryRun.split('\n')[0]}`, 'dim');
  const check = st.lastCheck;
  if (ps.action === 'check') {
    if (opts.preview) push(`expect: ${describeExpect(ps.step.expect)}`, 'dim');
    if (check?.error) push(`error: ${check.error}`, 'bad');
    if (check?.result) for (const l of fitTable(check.result, width, opts.tableRows)) body.push({ text: l, tone: 'plain' });
    if (check && !plainPass) push(check.pass ? 'PASS' : `FAIL: ${check.failures.join('; ')}`, check.pass ? 'ok' : 'bad', true);
  }
  if (ps.action === 'sql' && st.lastSql && !plainPass) push(st.lastSql.error ? `error: ${st.lastSql.error}` : `${st.lastSql.rowCount ?? 0} row(s) affected, committed`, st.lastSql.error ? 'bad' : 'ok');
  const m = st.lastMigrations;
  if (ps.action === 'migrations' && m) {
    if (m.table.length) for (const l of fitTable({ columns: ['migration', 'state', 'evidence'], rows: m.table.map((r) => [r.name, r.state, r.evidence]), rowCount: m.table.length }, width, opts.tableRows)) body.push({ text: l, tone: 'plain' });
    if (!plainPass) push(m.summary, m.pass ? 'ok' : 'bad', true);
  }
  if (ps.action === 'checklist' && (!plainPass || opts.preview)) items.forEach((item, i) => push(`[${st.ticks[i] ? 'x' : ' '}] ${item}`, st.ticks[i] ? 'plain' : 'warn'));
  let outputFrom: number | undefined;
  if (ps.action === 'run') {
    if (st.lastExit && !plainPass) push(exitWords(st.lastExit), st.lastExit.exitCode === 0 ? 'ok' : 'bad', true);
    if (st.output) {
      outputFrom = body.length;
      for (const l of visible(st.output.replace(/\s+$/, '')).split('\n')) for (const r of wrapLine(expandTabs(l), width - 2)) body.push({ text: `│ ${r}`, tone: 'dim' });
    }
  }
  return { head, body, ...(outputFrom !== undefined ? { outputFrom } : {}), color: stepColor(st) };
}

/**
 * The body cut to `max` rows, saying what was left out: a command's output keeps its last rows
 * (where it ends), anything else its first.
 */
export function trimBody(r: StepResult, max: number, more: string): Row[] {
  const body = r.body;
  if (body.length <= max) return body;
  if (max <= 0) return [];
  const room = max - 1;
  const hidden = body.length - room;
  const line: Row = { text: `… ${hidden} more row${hidden === 1 ? '' : 's'}: ${more}`, tone: 'dim' };
  if (r.outputFrom !== undefined) {
    // Keep what comes before the output as far as it fits, then the output's tail.
    const before = body.slice(0, r.outputFrom);
    const output = body.slice(r.outputFrom);
    const keepBefore = Math.min(before.length, Math.max(0, room - Math.min(output.length, Math.max(1, room - before.length))));
    const keepOutput = room - keepBefore;
    return [...before.slice(0, keepBefore), line, ...output.slice(output.length - keepOutput)];
  }
  return [...body.slice(0, room), line];
}

const ENDED = new Set(['step.finished', 'step.skipped', 'step.dry-run', 'step.override', 'step.marked-done']);

/** The steps that ended (passed, failed, skipped, overridden, marked done), each once, in the order they last ended; then `current`, the step the run is at. */
export function endedSteps(events: readonly Recorded[], current?: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (!ENDED.has(e.type) || !('step' in e) || typeof e.step !== 'string' || seen.has(e.step) || e.step === current) continue;
    seen.add(e.step);
    out.push(e.step);
  }
  out.reverse();
  if (current !== undefined) out.push(current);
  return out;
}

/** The step that ended last, if it is not `current` (scans back from the newest event, not the whole run). */
export function lastEnded(events: readonly Recorded[], current: string | undefined): string | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (ENDED.has(e.type) && 'step' in e && typeof e.step === 'string') return e.step !== current ? e.step : undefined;
  }
  return undefined;
}
