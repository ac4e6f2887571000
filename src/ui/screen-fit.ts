/**
 * How the run screen fits the terminal, as arithmetic on what the last frame measured: the screen
 * never grows past the terminal (a frame is one row shorter), so the banner is never pushed off.
 * When the step does not fit, the previous step's result gives way first, then the step's notes
 * (their first rows, and a line saying v shows them whole), then a running command's output (its
 * last lines). Ink's layout clips whatever a frame still draws too tall before it is measured.
 */

export interface Measured {
  banner: number;
  /** The current step's view as drawn (notes and output as `notesShown` and `outputShown` had them). */
  step: number;
  /** The keys and questions under the step. */
  panel: number;
  /** The notes laid out whole. */
  notes: number;
  /** Rows the notes took in that frame, their "go on" line included; -1: whole. */
  notesShown: number;
  /** Lines of a running command's output that frame showed. */
  outputShown: number;
}

export interface Fit {
  /** Rows the previous step's result may take (0 or less: none). */
  previousRows: number;
  /** The notes' first rows, when they must give way; undefined: whole. */
  notesRows: number | undefined;
  /** Lines of a running command's output to show. */
  outputLines: number;
}

/**
 * `rows`: the terminal's; `below`: rows under the panel (the message, the last note);
 * `outputNatural`: lines of output the step would show with room (at most `maxOutput`).
 */
export function fitScreen(m: Measured, rows: number, below: number, outputNatural: number, maxOutput: number): Fit {
  const body = rows - 1 - m.banner - m.panel - below;
  const whole = m.step - (m.notesShown < 0 ? m.notes : m.notesShown) + m.notes - m.outputShown + outputNatural;
  let over = whole - body;
  let notesRows: number | undefined;
  let outputLines = maxOutput;
  if (over > 0 && m.notes > 1) {
    notesRows = Math.max(1, m.notes - over - 1);
    over -= m.notes - (notesRows + 1);
  }
  if (over > 0 && outputNatural > 2) outputLines = Math.max(2, outputNatural - over);
  const step = whole - (notesRows !== undefined ? m.notes - (notesRows + 1) : 0) - (outputNatural - Math.min(outputLines, outputNatural));
  // The previous step's result and the blank row under it.
  return { previousRows: body - step - 1, notesRows, outputLines };
}
