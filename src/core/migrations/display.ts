/**
 * Text from databases and migration folders is hostile: names may hold escape sequences, other
 * control characters or bidirectional overrides. These make it visible instead of letting the
 * terminal act on it.
 */
// C0 controls and DEL, C1 controls, and the bidi embedding/override/isolate controls.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** One line for a terminal: control characters shown as \xNN or \u{NNNN}. */
export function visible(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    const code = ch.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** JSON.stringify escapes C0 controls; this also escapes DEL, C1 and bidi controls (still valid JSON). */
export function safeJson(value: unknown): string {
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, (ch) => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}
