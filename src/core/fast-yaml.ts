/**
 * A fast parser for the everyday YAML that runbooks are written in: block mappings and sequences,
 * one-line flow collections, plain, quoted and block scalars, comments. For such a text it returns
 * exactly what `yaml` gives (parseDocument with strict and uniqueKeys, YAML 1.2 core schema, toJS),
 * several times faster and without building a document of nodes and positions.
 *
 * It accepts only what it fully understands and returns undefined for anything else: anchors,
 * aliases, tags, merge keys, directives, document markers, explicit or quoted or non-text keys,
 * duplicate keys, multi-line plain, quoted or flow scalars, tabs, CR, keep chomping, and any
 * irregular indentation. The caller then uses `yaml`, which also places every error.
 * test/core/fast-yaml.test.ts compares the two on every YAML file in the repository and on
 * thousands of generated and mutated documents.
 */

class Bail extends Error {}
const bail = (): never => {
  throw new Bail();
};

/** Characters that `yaml` treats specially or that this parser does not handle (tab, CR, BOM, controls, Unicode line breaks). */
const UNSUPPORTED = /[\t\r\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]/;

/** Sticky scans (native, so fast even before the JIT warms up): a key, and runs of characters that need no look. */
const KEY = /[A-Za-z_$][A-Za-z0-9_$./-]*/y;
const PLAIN_RUN = /[^:#\n]*/y;
const FLOW_RUN = /[^,[\]{}:#\n]*/y;
const DQ_RUN = /[^"\\\n]*/y;

const SPACE = 32;
const HASH = 35;
const DASH = 45;
const COLON = 58;

/** A plain scalar by the YAML 1.2 core schema, in `yaml`'s order of tests. */
export function resolvePlain(s: string): unknown {
  const c = s.charCodeAt(0);
  // Fast exit: text that cannot be a null, boolean or number.
  if (s.length > 0 && !(c <= 57 /* digits, + - . */ || c === 126 /* ~ */ || c === 110 || c === 78 || c === 116 || c === 84 || c === 102 || c === 70)) return s;
  if (/^(?:~|[Nn]ull|NULL)?$/.test(s)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(s)) return s[0] === 't' || s[0] === 'T';
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(s)) return parseInt(s, 10);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) {
    return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s)) return parseFloat(s);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s)) return parseFloat(s);
  return s;
}

const ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', e: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
  N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029', ' ': ' ', '"': '"', '/': '/', '\\': '\\',
};

/** Characters a plain scalar may not start with (besides - ? : before a space, handled apart). */
const BAD_PLAIN_START = ',[]{}#&*!|>\'"%@`';

/**
 * A key (its characters already checked: [A-Za-z_$][A-Za-z0-9_$./-]*, so never a number) that is
 * text rather than null or a boolean, and new in `into`.
 */
function checkKey(key: string, into: Record<string, unknown>): void {
  if (key.length > 200 || key === '__proto__' || ((key.length === 4 || key.length === 5) && resolvePlain(key) !== key) || Object.prototype.hasOwnProperty.call(into, key)) bail();
}

/**
 * Works on offsets into the text, line by line; `indents[i]` is where line i's content starts
 * (moved right when a `- key: value` line opens a mapping after its dash).
 */
class Parser {
  private readonly starts: number[] = [];
  private readonly indents: Int32Array;
  private readonly n: number;
  /** The current line. */
  private i = 0;
  /** Where the last flow or quoted value ended on its line. */
  private pos = 0;

  constructor(private readonly s: string) {
    for (let at = 0; at <= s.length; at = s.indexOf('\n', at) + 1 || s.length + 1) this.starts.push(at);
    this.n = this.starts.length;
    this.starts.push(s.length + 1);
    this.indents = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) {
      let c = this.starts[i]!;
      const end = this.end(i);
      while (c < end && s.charCodeAt(c) === SPACE) c++;
      this.indents[i] = c - this.starts[i]!;
    }
  }

  /** Offset of the end of line i (its newline, or the end of the text). */
  private end(i: number): number {
    return this.starts[i + 1]! - 1;
  }

  private content(i: number): number {
    return this.starts[i]! + this.indents[i]!;
  }

  private isDash(c: number, end: number): boolean {
    return this.s.charCodeAt(c) === DASH && (c + 1 === end || this.s.charCodeAt(c + 1) === SPACE);
  }

  /** The end of a key's characters from c: [A-Za-z_$][A-Za-z0-9_$./-]* (c when there is none). */
  private keyEnd(c: number, end: number): number {
    KEY.lastIndex = c;
    return KEY.test(this.s) ? Math.min(KEY.lastIndex, end) : c;
  }

  private skipSpaces(at: number, end: number): number {
    while (at < end && this.s.charCodeAt(at) === SPACE) at++;
    return at;
  }

  /** The whole document: a block mapping at column 0 and nothing after it. */
  document(): Record<string, unknown> {
    for (let i = 0; i < this.n; i++) {
      // Directives and document markers belong to `yaml` (%YAML 1.1 changes the schema).
      if (this.indents[i] !== 0) continue;
      const c = this.starts[i]!;
      if (this.s.startsWith('%', c) || this.s.startsWith('---', c) || this.s.startsWith('...', c)) bail();
    }
    this.skipBlank();
    if (this.i >= this.n || this.indents[this.i] !== 0) bail();
    const value = this.map(0);
    this.skipBlank();
    if (this.i < this.n) bail();
    return value;
  }

  /** Skip empty, all-space and comment lines. */
  private skipBlank(): void {
    for (; this.i < this.n; this.i++) {
      const c = this.content(this.i);
      if (c < this.end(this.i) && this.s.charCodeAt(c) !== HASH) return;
    }
  }

  /** A block node below a key or a sequence dash at column `parent`, or null when there is none. */
  private blockNode(parent: number, seqAtParent: boolean): unknown {
    this.skipBlank();
    if (this.i >= this.n) return null;
    const indent = this.indents[this.i]!;
    const isSeq = this.isDash(this.content(this.i), this.end(this.i));
    if (isSeq && (indent > parent || (seqAtParent && indent === parent))) return this.seq(indent);
    if (indent <= parent) return null;
    return this.map(indent);
  }

  private map(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (;;) {
      this.skipBlank();
      if (this.i >= this.n || this.indents[this.i]! < indent) return out;
      if (this.indents[this.i]! > indent) bail();
      const c = this.content(this.i);
      const end = this.end(this.i);
      if (this.isDash(c, end)) return out; // a sequence at this column: the caller's business
      const k = this.keyEnd(c, end);
      if (k === c || this.s.charCodeAt(k) !== COLON || (k + 1 < end && this.s.charCodeAt(k + 1) !== SPACE)) bail();
      const key = this.s.slice(c, k);
      checkKey(key, out);
      const v = this.skipSpaces(k + 1, end);
      this.i++;
      out[key] = v >= end || this.s.charCodeAt(v) === HASH ? this.blockNode(indent, true) : this.inline(v, end, indent);
    }
  }

  private seq(indent: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      this.skipBlank();
      if (this.i >= this.n || this.indents[this.i]! < indent) return out;
      if (this.indents[this.i]! > indent) bail();
      const c = this.content(this.i);
      const end = this.end(this.i);
      if (!this.isDash(c, end)) return out;
      const v = this.skipSpaces(c + 1, end);
      if (v >= end || this.s.charCodeAt(v) === HASH) {
        this.i++;
        out.push(this.blockNode(indent, false));
        continue;
      }
      const k = this.keyEnd(v, end);
      if (k > v && this.s.charCodeAt(k) === COLON && (k + 1 === end || this.s.charCodeAt(k + 1) === SPACE)) {
        // A compact mapping: `- key: value`, its keys aligned on the first one.
        this.indents[this.i] = v - this.starts[this.i]!;
        out.push(this.map(this.indents[this.i]!));
        continue;
      }
      this.i++;
      out.push(this.inline(v, end, indent));
    }
  }

  /** A value written after `key: ` or `- ` (from v to the end of the line, already consumed). */
  private inline(v: number, end: number, parent: number): unknown {
    const c = this.s[v]!;
    if (c === '[' || c === '{') {
      const value = this.flow(v, end);
      this.endOfLine(this.pos, end);
      return value;
    }
    if (c === '"' || c === "'") {
      const value = c === '"' ? this.doubleQuoted(v, end) : this.singleQuoted(v, end);
      this.endOfLine(this.pos, end);
      return value;
    }
    if (c === '|' || c === '>') return this.blockScalar(v, end, parent);
    return this.plain(v, end);
  }

  /** Only spaces, or spaces and a comment, may follow a value on its line. */
  private endOfLine(at: number, end: number): void {
    if (at >= end) return;
    if (this.s.charCodeAt(at) !== SPACE) bail();
    at = this.skipSpaces(at, end);
    if (at < end && this.s.charCodeAt(at) !== HASH) bail();
  }

  /** A plain scalar on one line (block context), up to a comment. */
  private plain(v: number, end: number): unknown {
    const s = this.s;
    const c = s[v]!;
    const next = s.charCodeAt(v + 1);
    if (BAD_PLAIN_START.includes(c) || ((c === '-' || c === '?' || c === ':') && (v + 1 === end || next === SPACE))) bail();
    let stop = end;
    for (let j = v + 1; j < end; j++) {
      // Skip to the next : or # (a native scan), then look at it.
      PLAIN_RUN.lastIndex = j;
      PLAIN_RUN.test(s);
      j = PLAIN_RUN.lastIndex;
      if (j >= end) break;
      const ch = s.charCodeAt(j);
      if (ch === HASH && s.charCodeAt(j - 1) === SPACE) {
        stop = j;
        break;
      }
      if (ch === COLON && (j + 1 === end || s.charCodeAt(j + 1) === SPACE)) bail(); // `a: b` or `a:`: a mapping `yaml` would see
    }
    while (stop > v && s.charCodeAt(stop - 1) === SPACE) stop--;
    return resolvePlain(s.slice(v, stop));
  }

  private singleQuoted(v: number, end: number): string {
    let out = '';
    let at = v + 1;
    for (;;) {
      const q = this.s.indexOf("'", at);
      if (q < 0 || q >= end) bail();
      out += this.s.slice(at, q);
      if (this.s.charCodeAt(q + 1) === 39 && q + 1 < end) {
        out += "'";
        at = q + 2;
        continue;
      }
      this.pos = q + 1;
      return out;
    }
  }

  private doubleQuoted(v: number, end: number): string {
    const s = this.s;
    let out = '';
    let from = v + 1;
    for (let at = from; ; ) {
      if (at >= end) bail();
      const ch = s.charCodeAt(at);
      if (ch === 34) {
        this.pos = at + 1;
        return out + s.slice(from, at);
      }
      if (ch !== 92) {
        DQ_RUN.lastIndex = at + 1;
        DQ_RUN.test(s);
        at = DQ_RUN.lastIndex;
        continue;
      }
      out += s.slice(from, at);
      const e = s[at + 1];
      if (e === undefined || at + 1 >= end) bail();
      const simple = ESCAPES[e!];
      if (simple !== undefined) {
        out += simple;
        at += 2;
      } else {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
        const hex = s.slice(at + 2, at + 2 + len);
        if (!len || at + 2 + len > end || !/^[0-9a-fA-F]+$/.test(hex)) bail();
        const code = parseInt(hex, 16);
        if (code > 0x10ffff) bail();
        out += String.fromCodePoint(code);
        at += 2 + len;
      }
      from = at;
    }
  }

  /** A flow collection on one line: `{a: 1, b: [x, y]}`. Leaves `pos` after its closing bracket. */
  private flow(v: number, end: number): unknown {
    const s = this.s;
    const isMap = s[v] === '{';
    const close = isMap ? 125 : 93;
    const map: Record<string, unknown> = {};
    const seq: unknown[] = [];
    let at = this.skipSpaces(v + 1, end);
    if (s.charCodeAt(at) === close) {
      this.pos = at + 1;
      return isMap ? map : seq;
    }
    for (;;) {
      if (isMap) {
        const k = this.keyEnd(at, end);
        if (k === at || s.charCodeAt(k) !== COLON || s.charCodeAt(k + 1) !== SPACE || k + 1 >= end) bail();
        const key = s.slice(at, k);
        checkKey(key, map);
        map[key] = this.flowValue(this.skipSpaces(k + 1, end), end);
      } else {
        seq.push(this.flowValue(at, end));
      }
      at = this.skipSpaces(this.pos, end);
      if (at >= end) bail();
      const ch = s.charCodeAt(at);
      if (ch === close) {
        this.pos = at + 1;
        return isMap ? map : seq;
      }
      if (ch !== 44) bail();
      at = this.skipSpaces(at + 1, end);
      const after = s.charCodeAt(at);
      if (at >= end || after === close || after === 44) bail(); // a trailing or empty entry
    }
  }

  private flowValue(at: number, end: number): unknown {
    const s = this.s;
    if (at >= end) bail();
    const c = s[at]!;
    if (c === '[' || c === '{') return this.flow(at, end);
    if (c === '"' || c === "'") {
      const value = c === '"' ? this.doubleQuoted(at, end) : this.singleQuoted(at, end);
      if (s.charCodeAt(this.skipSpaces(this.pos, end)) === COLON) bail(); // a quoted key: an implicit mapping
      return value;
    }
    const next = at + 1 < end ? s[at + 1]! : undefined;
    if (BAD_PLAIN_START.includes(c) || ((c === '-' || c === '?') && (next === undefined || ' ,[]{}'.includes(next)))) bail();
    let j = at;
    for (; j < end; j++) {
      FLOW_RUN.lastIndex = j;
      FLOW_RUN.test(s);
      j = FLOW_RUN.lastIndex;
      if (j >= end) break;
      const ch = s.charCodeAt(j);
      if (ch === 44 || ch === 93 || ch === 125 || ch === 91 || ch === 123) break; // , ] } [ {
      if (ch === COLON || (ch === HASH && s.charCodeAt(j - 1) === SPACE)) bail();
    }
    this.pos = j;
    while (j > at && s.charCodeAt(j - 1) === SPACE) j--;
    if (j === at) bail();
    return resolvePlain(s.slice(at, j));
  }

  /** `|` or `>` with optional `-` (clip or strip), then the more-indented lines below. */
  private blockScalar(v: number, end: number, parent: number): string {
    const s = this.s;
    let h = v + 1;
    let strip = false;
    if (s[h] === '-' && h < end) {
      strip = true;
      h++;
    }
    if (h < end) {
      if (s.charCodeAt(h) !== SPACE) bail(); // keep chomping, indentation indicators, anything else
      const rest = this.skipSpaces(h, end);
      if (rest < end && s.charCodeAt(rest) !== HASH) bail();
    }
    const folded = s[v] === '>';
    const first = this.i;
    let trim = -1;
    let last = -1; // the last line with content
    for (; this.i < this.n; this.i++) {
      const indent = this.indents[this.i]!;
      if (this.content(this.i) === this.end(this.i)) {
        if (indent > 0) bail(); // all-space lines: `yaml` gives them meaning here
        continue;
      }
      if (trim < 0) {
        if (indent <= parent) break;
        trim = indent;
      } else if (indent < trim) {
        if (indent > parent) bail();
        break;
      }
      last = this.i;
    }
    // Trailing empty lines belong to whatever follows.
    this.i = last < 0 ? first : last + 1;
    if (last < 0) return '';
    let value = '';
    let k = first;
    for (; this.content(k) === this.end(k); k++) value += '\n';
    let sep = '';
    let prevMoreIndented = false;
    for (; k <= last; k++) {
      const blank = this.content(k) === this.end(k);
      const line = blank ? '' : s.slice(this.starts[k]! + trim, this.end(k));
      if (!folded) {
        value += sep + line;
        sep = '\n';
      } else if (!blank && this.indents[k]! > trim) {
        if (sep === ' ') sep = '\n';
        else if (!prevMoreIndented && sep === '\n') sep = '\n\n';
        value += sep + line;
        sep = '\n';
        prevMoreIndented = true;
      } else if (blank) {
        if (sep === '\n') value += '\n';
        else sep = '\n';
      } else {
        value += sep + line;
        sep = ' ';
        prevMoreIndented = false;
      }
    }
    return strip ? value : `${value}\n`;
  }
}

/**
 * The value of a YAML text when it is in the subset this parser handles and is a mapping;
 * undefined otherwise (then parse it with `yaml`).
 */
export function fastParseYaml(text: string): { value: Record<string, unknown> } | undefined {
  if (UNSUPPORTED.test(text)) return undefined;
  try {
    return { value: new Parser(text).document() };
  } catch (e) {
    if (e instanceof Bail) return undefined;
    throw e;
  }
}
