/**
 * Text from commands, databases and transcripts is hostile: it may carry terminal escapes (an OSC 52
 * clipboard write, a window title, colours that draw a fake badge, a carriage return that overwrites
 * drillbook's own line) or Unicode bidi controls that reorder what the reader sees. Before data
 * reaches a terminal or a report, every C0 and C1 control character, DEL and bidi control is shown
 * as a visible escape (`\x1b`, `\u202e`); newline and tab are kept, and CRLF becomes a newline.
 * drillbook's own styling never travels in data: it comes from Ink and chalk.
 */

// C0 except tab and newline, DEL, C1, and the bidi embeddings, overrides and isolates.
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = /\r\n|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

function escapeOne(ch: string): string {
  if (ch === '\r\n') return '\n';
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** The text with every control character shown as a visible escape; newline and tab kept. Idempotent. */
export function visible(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeOne) : text;
}

/** One line: like visible(), and newlines and tabs shown as `\n` and `\t` too (titles, table cells, prompts). */
export function visibleLine(text: string): string {
  return visible(text).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}
