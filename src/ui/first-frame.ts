/**
 * The static first frame: the screen as plain text, printed as soon as the runbook is loaded and
 * before Ink, React and yoga load (or inquirer, for the drill picker), then replaced in place by
 * the interface's first frame. The operator reads the runbook while the rest starts. This module
 * draws text and hands the screen over; run-frame.ts lays out the run screen.
 *
 * Only on a terminal that gets the full-screen interface: never without a TTY, on TERM=dumb, in CI
 * or plain mode (the callers decide that; terminalFor refuses what it cannot draw). It imports
 * nothing (the drill picker's frame is drawn before anything else loads), shows no input value (so
 * no secret) and only what the runbook says.
 */

/** How many runbooks the picker shows at once (ui/plain-operator.ts uses it too). */
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

export const SGR: Record<string, [string, string]> = {
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
export function columnsOf(ch: string): number {
  const c = ch.codePointAt(0)!;
  return c < 0x1100 || '─│┌┐└┘❯▶·…✓✗↷↺≠'.includes(ch) ? 1 : 2;
}

export function widthOf(s: string): number {
  let w = 0;
  for (const ch of s.replace(/\x1b\[[0-9;]*m/g, '')) w += columnsOf(ch);
  return w;
}

/** Text cut to a width (with … when cut), control characters blanked, then styled. */
export function cell(t: Terminal, text: string, width: number, ...styles: string[]): string {
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

export const pad = (s: string, width: number) => s + ' '.repeat(Math.max(0, width - widthOf(s)));

/** Words wrapped to a width (long words cut). */
export function wrap(text: string, width: number): string[] {
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

/** The drill picker's static frame, when the terminal suits it and the runbooks read fast. */
export function showPickerFrame(entries: ReadonlyArray<{ id: string; title: string }> | undefined): void {
  const t = terminalFor(process.stdout, process.stdin, process.env);
  if (t && entries?.length) showFirstFrame(pickerFrame(entries, PICKER_PAGE_SIZE, t));
}
