/**
 * The static first frame: the screen as plain text, printed as soon as the runbook is loaded and
 * before Ink, React and yoga load (or inquirer, for the drill picker), then replaced in place by
 * the interface's first frame. The operator reads the runbook while the rest starts.
 *
 * Only on a terminal that gets the full-screen interface: never without a TTY, on TERM=dumb, in CI
 * or plain mode (the callers decide that; terminalFor refuses what it cannot draw). It loads
 * nothing heavy, shows no input value (so no secret) and only what the runbook says.
 */
import type { Environment, Mode } from '../core/events.js';
import { parseDatabaseUrl } from '../core/conn.js';
import { buildPlan } from '../core/plan.js';
import type { Runbook } from '../core/runbook.js';
import { listHeight, phaseListRows, STAGE_MARK } from './phase-window.js';

/** How many runbooks the picker shows at once (adapters/prompts.ts uses it too). */
export const PICKER_PAGE_SIZE = 12;

export interface Terminal {
  columns: number;
  rows: number;
  color: boolean;
}

/** The size and colour of the terminal to draw on, or undefined when a static frame does not belong there. */
export function terminalFor(stdout: NodeJS.WriteStream, stdin: NodeJS.ReadStream, env: NodeJS.ProcessEnv): Terminal | undefined {
  if (!stdout.isTTY || !stdin.isTTY || env.TERM === 'dumb' || (env.CI && env.CI !== 'false' && env.CI !== '0')) return undefined;
  const columns = stdout.columns || 80;
  const rows = stdout.rows || 24;
  if (columns < 40 || rows < 8) return undefined;
  return { columns, rows, color: env.NO_COLOR === undefined || env.NO_COLOR === '' };
}

const SGR: Record<string, [string, string]> = {
  bold: ['\x1b[1m', '\x1b[22m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  inverse: ['\x1b[7m', '\x1b[27m'],
  red: ['\x1b[31m', '\x1b[39m'],
  green: ['\x1b[32m', '\x1b[39m'],
  yellow: ['\x1b[33m', '\x1b[39m'],
  blue: ['\x1b[34m', '\x1b[39m'],
  cyan: ['\x1b[36m', '\x1b[39m'],
  gray: ['\x1b[90m', '\x1b[39m'],
};

/** Columns a code point takes, overestimated for anything wide or unknown (a line must never wrap). */
function columnsOf(ch: string): number {
  const c = ch.codePointAt(0)!;
  return c < 0x1100 || '─│┌┐└┘❯▶·…✓✗↷↺'.includes(ch) ? 1 : 2;
}

function widthOf(s: string): number {
  let w = 0;
  for (const ch of s.replace(/\x1b\[[0-9;]*m/g, '')) w += columnsOf(ch);
  return w;
}

/** Text cut to a width (with … when cut), control characters blanked, then styled. */
function cell(t: Terminal, text: string, width: number, ...styles: string[]): string {
  let s = text.replace(/[\x00-\x1f\x7f-\x9f]/g, ' ');
  if (width <= 0) return '';
  if (widthOf(s) > width) {
    let kept = '';
    let w = 0;
    for (const ch of s) {
      if (w + columnsOf(ch) > width - 1) break;
      kept += ch;
      w += columnsOf(ch);
    }
    s = `${kept}…`;
  }
  if (t.color) for (const name of styles) s = `${SGR[name]![0]}${s}${SGR[name]![1]}`;
  return s;
}

const pad = (s: string, width: number) => s + ' '.repeat(Math.max(0, width - widthOf(s)));

/** Words wrapped to a width (long words cut). */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = '';
    }
    line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

const ENV_WORD: Record<string, string> = { production: 'PRODUCTION', staging: 'STAGING', development: 'DEVELOPMENT', rehearsal: 'REHEARSAL' };
const ENV_COLOR: Record<string, string> = { production: 'red', staging: 'yellow', development: 'green', rehearsal: 'blue' };

export interface FrameTarget {
  name: string;
  environment: Environment;
  /** user@host:port/database, or what is happening to the target. */
  where: string;
}

/**
 * The run screen before it starts: the banner, the phase list and the first step, laid out as the
 * full-screen interface lays them out (the interface then adds the server's facts and the keys).
 */
export function runFrame(rb: Runbook, mode: Mode, targets: readonly FrameTarget[], operator: string, t: Terminal): string[] {
  const inner = t.columns - 4;
  const modeWord = mode === 'rehearsal' ? 'REHEARSAL' : mode === 'dry-run' ? 'DRY RUN (read-only checks only)' : 'INCIDENT';
  const right = cell(t, operator ? `${operator} · 00:00` : '00:00', inner - 12); // like the banner: the title gives way first
  const mark = cell(t, modeWord, inner - widthOf(right) - 1, 'bold', mode === 'incident' ? 'red' : 'blue');
  const heading = `${mark}${cell(t, ` · ${rb.title}`, Math.max(0, inner - widthOf(right) - 1 - widthOf(mark)), 'bold')}`;
  const lines = [`┌${'─'.repeat(t.columns - 2)}┐`, `│ ${pad(heading, inner - widthOf(right))}${right} │`];
  for (const target of targets.length ? targets : [undefined]) {
    if (!target) {
      lines.push(`│ ${pad('no database target', inner)} │`);
      continue;
    }
    const word = cell(t, ` ${ENV_WORD[target.environment] ?? target.environment} `, inner, 'inverse', ENV_COLOR[target.environment] ?? 'gray', 'bold');
    lines.push(`│ ${pad(`${word}${cell(t, ` ${target.name}: ${target.where}`, inner - widthOf(word))}`, inner)} │`);
  }
  lines.push(`└${'─'.repeat(t.columns - 2)}┘`);

  const plan = buildPlan(rb, mode, {});
  const first = plan.main[0] ? plan.steps[plan.main[0]] : undefined;
  // The phase list, as the interface sizes it (38 columns, its height from the terminal's).
  const height = listHeight(t.rows, targets.length);
  const listWidth = 37;
  const list = phaseListRows(plan, first?.id, height).map((row) => {
    if (row.kind === 'more') return cell(t, `     … ${row.count} more ${row.where}`, listWidth, 'dim');
    if (row.kind === 'phase') {
      const phase = plan.phases[row.index]!;
      const here = phase.id === first?.phase.id;
      return cell(t, `${here ? '▶' : ' '} ${row.index + 1}. ${phase.title} (0/${phase.steps.length}${phase.kind === 'rollback' ? ', rollback' : ''})`, listWidth, ...(here ? ['cyan', 'bold'] : ['gray']));
    }
    const here = row.id === first?.id;
    return cell(t, `${here ? '  ❯ ' : '    '}${STAGE_MARK.pending} ${plan.steps[row.id]!.title}`, listWidth, ...(here ? ['bold'] : []));
  });

  const bodyWidth = t.columns - 38 - 1;
  const body: string[] = [];
  if (first) {
    const s = first.step;
    body.push(cell(t, `${STAGE_MARK.pending} ${first.title}`, bodyWidth, 'bold'));
    const meta = `${first.id} · ${first.action} · ${first.effect}${first.database ? ` · on ${first.database}` : ''}${first.rollback ? ` · rollback: ${first.rollback}` : first.irreversible ? ' · irreversible' : ''}`;
    body.push(cell(t, meta, bodyWidth, 'dim'));
    if (s.notes) {
      body.push('');
      for (const para of s.notes.trim().split(/\n\s*\n/)) {
        for (const l of wrap(para.replace(/`|\*\*/g, ''), bodyWidth)) body.push(cell(t, l, bodyWidth));
      }
    }
    body.push('');
    if (s.checklist) s.checklist.forEach((item, i) => body.push(cell(t, `${i === 0 ? '❯' : ' '} [ ] ${item}`, bodyWidth)));
    else if (s.run !== undefined) body.push(cell(t, `$ ${s.run.split('\n')[0]}`, bodyWidth, 'cyan'));
    else if (s.check !== undefined || s.sql !== undefined) for (const l of (s.check ?? s.sql ?? '').trim().split('\n')) body.push(cell(t, l, bodyWidth, 'cyan'));
    else if (s.ask !== undefined) body.push(cell(t, `Asks for the value of ${s.ask}.`, bodyWidth));
  }
  for (let i = 0; i < Math.max(list.length, body.length); i++) {
    const l = list[i];
    lines.push(`${pad(list[i] ?? '', 38)}${body[i] ?? ''}`.trimEnd());
  }
  return lines.slice(0, t.rows - 1);
}

/** The drill picker as inquirer's select draws it (inquirer then adds the description and keys). */
export function pickerFrame(entries: ReadonlyArray<{ id: string; title: string }>, pageSize: number, t: Terminal): string[] {
  const lines = [`${cell(t, '?', 1, 'blue')} ${cell(t, 'Which incident do you want to rehearse?', t.columns - 3, 'bold')}`];
  entries.slice(0, pageSize).forEach((e, i) => lines.push(i === 0 ? cell(t, `❯ ${e.title}  (${e.id})`, t.columns - 1, 'cyan') : cell(t, `  ${e.title}  (${e.id})`, t.columns - 1)));
  return lines.slice(0, t.rows - 1);
}

const BSU = '\x1b[?2026h';

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

/** The frame on screen, if any: its text and how to put the streams back. */
let shown: { text: string; lines: number; io: Io; restore: () => void; taken: boolean } | undefined;

const eraseOf = (lines: number) => `\r\x1b[${lines}A\x1b[J`;

/**
 * Print a static frame. Until the interface takes the screen over (takeOverFirstFrame), whatever
 * else is written stays readable: a line on stdout (a drill's "database ready") goes above the
 * frame, which is drawn again below it; anything on stderr (an error) erases the frame for good,
 * as does the end of the process. Keys pressed meanwhile reach the interface once it starts.
 * Signals keep their meaning (no handler here): Ctrl-C before the interface starts ends the
 * process as it always did, leaving the frame as the last thing drawn.
 */
export function showFirstFrame(lines: readonly string[], io: Io = process): void {
  if (!lines.length || shown) return;
  const { stdout, stderr } = io;
  const text = `${lines.join('\n')}\n`;
  const outWrite = stdout.write;
  const errWrite = stderr.write;
  const write = (s: string) => (outWrite as (s: string) => boolean).call(stdout, s);
  const restore = () => {
    stdout.write = outWrite;
    stderr.write = errWrite;
    process.off('exit', atExit);
    shown = undefined;
  };
  const atExit = () => {
    restore();
    write(eraseOf(lines.length));
  };
  shown = { text, lines: lines.length, io, restore, taken: false };
  write(text);
  process.once('exit', atExit);

  stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    const s = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
    const erase = eraseOf(lines.length);
    if (shown?.taken) {
      // The interface's first frame: drawn in place of this one, inside its synchronized update when it opens with one.
      restore();
      return (outWrite as (...a: unknown[]) => boolean).call(stdout, s.startsWith(BSU) ? `${BSU}${erase}${s.slice(BSU.length)}` : `${erase}${s}`, ...rest);
    }
    if (!s.endsWith('\n')) {
      restore();
      return (outWrite as (...a: unknown[]) => boolean).call(stdout, `${erase}${s}`, ...rest);
    }
    return (outWrite as (...a: unknown[]) => boolean).call(stdout, `${erase}${s}${text}`, ...rest);
  }) as typeof stdout.write;
  stderr.write = ((...args: unknown[]) => {
    restore();
    write(eraseOf(lines.length));
    return (errWrite as (...a: unknown[]) => boolean).apply(stderr, args);
  }) as typeof stderr.write;
}

/** The interface is about to draw: its first write replaces the static frame (a no-op when none is shown). */
export function takeOverFirstFrame(): void {
  if (shown) shown.taken = true;
}

/** The run screen's static frame, when the terminal suits it: targets as their URLs name them, until the server is asked. */
export function showRunFrame(rb: Runbook, mode: Mode, targets: readonly FrameTarget[], operator: string): void {
  const t = terminalFor(process.stdout, process.stdin, process.env);
  if (t) showFirstFrame(runFrame(rb, mode, targets, operator, t));
}

/** The drill picker's static frame, when the terminal suits it and the runbooks read fast. */
export function showPickerFrame(entries: ReadonlyArray<{ id: string; title: string }> | undefined): void {
  const t = terminalFor(process.stdout, process.stdin, process.env);
  if (t && entries?.length) showFirstFrame(pickerFrame(entries, PICKER_PAGE_SIZE, t));
}

/** The targets of a run as their connection URLs name them (the banner says what the server says once it answers). */
export function urlTargets(rb: Runbook, urls: Readonly<Record<string, string>>): FrameTarget[] {
  return Object.entries(rb.databases ?? {}).map(([name, spec]) => {
    const p = urls[name] ? parseDatabaseUrl(urls[name]) : undefined;
    return { name, environment: spec.environment, where: p ? `${p.user ? `${p.user}@` : ''}${p.host}:${p.port}/${p.database} · connecting…` : 'connecting…' };
  });
}
