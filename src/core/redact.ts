/**
 * Redaction: secrets are replaced by a fixed token before anything is written or shown.
 *
 * Known values (passwords, secret inputs) are masked in every form they travel in: as they are,
 * URL-encoded (upper- and lower-case hex, `+` for space), JSON-escaped, base64 and base64url (whole,
 * and at each of the three byte alignments, so a secret inside a longer base64 text is caught), and
 * as HTTP basic credentials `base64(user:secret)` for every known user name. Context patterns catch
 * the secrets no one listed: a URL's password (`scheme://user:PASSWORD@`), `password=…`,
 * `PGPASSWORD=…`, `DB_PASSWORD=…`, `"password": "…"`, and SQL's `PASSWORD '…'`.
 *
 * It runs over a stream in linear time: one Aho-Corasick automaton finds every form of every secret
 * in a single pass, a second finds the keywords that start a context pattern, and each pattern reads
 * a bounded number of characters from its keyword (no regular expression, so nothing can backtrack).
 * Text goes out as soon as no secret can still be completed over it: the automaton's state says how
 * many trailing characters may begin a secret, so a secret split across chunks (or flushes) is held
 * back exactly as long as needed and is caught whole.
 */

export const REDACTED = '[REDACTED]';

/** Secrets shorter than this would mask too much and are refused. */
const MIN_SECRET = 3;
/** Forms found inside longer base64 text are used only when at least this long. */
const MIN_ALIGNED_B64 = 6;
/** Context patterns: the longest value (and user name, and run of spaces) they read. */
const MAX_VALUE = 1024;
const MAX_USER = 256;
const MAX_SPACE = 16;
/** Characters of emitted text kept to look behind a keyword. */
const LOOKBACK = 128;

// ---------------------------------------------------------------------------------------------
// Aho-Corasick over UTF-16 code units. ASCII transitions are a complete table (a DFA: one lookup
// per character); other characters follow failure links, amortised constant time.

const ASCII = 128;

class Automaton {
  /** Transitions out of the root, dense: most characters start nothing. */
  private readonly root = new Int32Array(65536);
  private readonly next: Array<Map<number, number>> = [new Map()];
  private readonly fail: number[] = [0];
  /** Complete transitions on ASCII characters: dfa[state * 128 + c]. */
  readonly dfa: Int32Array;
  /** Length of the longest pattern that ends at this state (0: none). */
  readonly matchLen: number[] = [0];
  /** Characters matched so far: how many trailing characters may still begin a pattern. */
  readonly depth: number[] = [0];
  /** Index of the longest pattern ending here (for keyword automata). */
  readonly matchId: number[] = [-1];

  constructor(patterns: readonly string[], private readonly fold = false) {
    patterns.forEach((p, id) => {
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const c = this.key(p.charCodeAt(i));
        let t = this.next[s]!.get(c);
        if (t === undefined) {
          t = this.next.length;
          this.next.push(new Map());
          this.fail.push(0);
          this.matchLen.push(0);
          this.matchId.push(-1);
          this.depth.push(this.depth[s]! + 1);
          this.next[s]!.set(c, t);
        }
        s = t;
      }
      if (p.length > this.matchLen[s]!) {
        this.matchLen[s] = p.length;
        this.matchId[s] = id;
      }
    });
    // Breadth-first: failure links, and the longest match reachable through them.
    const queue: number[] = [];
    for (const [c, t] of this.next[0]!) {
      this.root[c] = t;
      queue.push(t);
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi]!;
      for (const [c, t] of this.next[s]!) {
        let f = this.fail[s]!;
        while (f !== 0 && !this.next[f]!.has(c)) f = this.fail[f]!;
        const ft = f === 0 ? this.root[c]! : this.next[f]!.get(c)!;
        this.fail[t] = ft === t ? 0 : ft;
        if (this.matchLen[t] === 0 && this.matchLen[this.fail[t]!]! > 0) {
          this.matchLen[t] = this.matchLen[this.fail[t]!]!;
          this.matchId[t] = this.matchId[this.fail[t]!]!;
        }
        queue.push(t);
      }
    }
    this.dfa = new Int32Array(this.next.length * ASCII);
    for (let c = 0; c < ASCII; c++) this.dfa[c] = this.root[c]!;
    for (const s of queue) {
      const f = this.fail[s]!;
      for (let c = 0; c < ASCII; c++) this.dfa[s * ASCII + c] = this.next[s]!.get(c) ?? this.dfa[f * ASCII + c]!;
    }
  }

  get empty(): boolean {
    return this.next.length === 1;
  }

  private key(c: number): number {
    return this.fold && c >= 65 && c <= 90 ? c + 32 : c;
  }

  step(state: number, code: number): number {
    const c = this.key(code);
    if (c < ASCII) return this.dfa[state * ASCII + c]!;
    let s = state;
    for (;;) {
      if (s === 0) return this.root[c]!;
      const t = this.next[s]!.get(c);
      if (t !== undefined) return t;
      s = this.fail[s]!;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The forms of a secret.

function b64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

/** base64 characters that depend only on the secret, whatever bytes surround it, at each alignment. */
function alignedBase64(secret: Buffer): string[] {
  const out: string[] = [];
  for (let o = 0; o < 3; o++) {
    const text = b64(Buffer.concat([Buffer.alloc(o), secret]));
    const from = Math.ceil((8 * o) / 6);
    const to = Math.floor((8 * (o + secret.length)) / 6);
    if (to - from >= MIN_ALIGNED_B64) out.push(text.slice(from, to));
  }
  return out;
}

function urlForms(secret: string): string[] {
  const upper = encodeURIComponent(secret).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const plain = encodeURIComponent(secret);
  const lower = (s: string) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
  const forms = [plain, upper, lower(plain), lower(upper)];
  return [...forms, ...forms.map((f) => f.replace(/%20/g, '+'))];
}

/** The forms in which a secret value may appear in text. */
export function secretForms(secret: string, users: Iterable<string> = []): string[] {
  const forms = new Set<string>([secret, ...urlForms(secret), JSON.stringify(secret).slice(1, -1)]);
  const bytes = Buffer.from(secret, 'utf8');
  const whole = bytes.toString('base64');
  for (const f of [whole, whole.replace(/=+$/, '')]) {
    forms.add(f);
    forms.add(f.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  for (const f of alignedBase64(bytes)) {
    forms.add(f);
    forms.add(f.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  // HTTP basic credentials: user:secret, and a token alone on either side of the colon.
  for (const pair of [...[...users].map((u) => `${u}:${secret}`), `:${secret}`, `${secret}:`]) {
    const p = Buffer.from(pair, 'utf8').toString('base64');
    forms.add(p);
    forms.add(p.replace(/=+$/, ''));
  }
  return [...forms].filter((f) => f.length >= MIN_SECRET);
}

// ---------------------------------------------------------------------------------------------
// Context patterns, read forward from a keyword over at most a bounded number of characters.

const enum Kw {
  Url = 0,
  Password = 1,
}
const KEYWORDS = ['://', 'password'];

type Scan = { value: [number, number] } | 'none' | 'more';

interface Text {
  /** The character at an absolute offset: -1 past the end (so far), -2 before what is kept. */
  at(i: number): number;
  /** The stream has ended: nothing comes after -1. */
  final: boolean;
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
const isIdent = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isScheme = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 45 || c === 46;
const Q1 = 39;
const Q2 = 34;

/** `scheme://user:PASSWORD@`: the password. `at` is the offset of "://". */
function scanUrl(t: Text, at: number, count: (n: number) => void): Scan {
  if (!isScheme(t.at(at - 1))) return 'none';
  let i = at + 3;
  let n = 0;
  // user: anything but space, quotes, ':', '/', '@'
  for (;; i++, n++) {
    const c = t.at(i);
    if (c === -1) return t.final ? 'none' : 'more';
    count(1);
    if (c === 58) break;
    if (isSpace(c) || c === Q1 || c === Q2 || c === 47 || c === 64 || n >= MAX_USER) return 'none';
  }
  const from = i + 1;
  for (i = from, n = 0; ; i++, n++) {
    const c = t.at(i);
    if (c === -1) return t.final ? 'none' : 'more';
    count(1);
    if (c === 64) return i > from ? { value: [from, i] } : 'none';
    if (isSpace(c) || c === Q1 || c === Q2 || c === 47 || n >= MAX_VALUE) return 'none';
  }
}

/**
 * `password=V`, `PGPASSWORD=V`, `DB_PASSWORD=V`, `"password": "V"`, `password: V` at the start of a
 * line (YAML: the rest of the line), `PASSWORD 'V'` (SQL): V. `at` is the offset of the keyword; the
 * name before it may only be empty, `PG` or end with `_`.
 */
function scanPassword(t: Text, at: number, count: (n: number) => void): Scan {
  // Look behind: the identifier the keyword ends.
  let b = at - 1;
  let prefix = '';
  while (prefix.length <= 64 && isIdent(t.at(b))) prefix = String.fromCharCode(t.at(b--)) + prefix;
  count(prefix.length + 1);
  if (prefix.length > 64 || !(prefix === '' || prefix.toLowerCase() === 'pg' || prefix.endsWith('_'))) return 'none';
  const before = t.at(b);
  // At the start of a line (after spaces): a YAML key.
  let l = b;
  while ((t.at(l) === 32 || t.at(l) === 9) && b - l < MAX_SPACE) l--;
  const lineKey = t.at(l) === 10 || t.at(l) === -2;
  let i = at + 8;
  const peek = (): number => t.at(i);
  const more = (): Scan => (t.final ? 'none' : 'more');
  if (isIdent(peek())) return 'none'; // passwords, password_hash: another word
  // A quoted key ("password": …) may be followed by ':' as well as '='.
  let quotedKey = false;
  if ((peek() === Q1 || peek() === Q2) && (before === Q1 || before === Q2)) {
    quotedKey = true;
    i++;
  }
  let spaces = 0;
  while (isSpace(peek()) && peek() !== 10 && spaces < MAX_SPACE) {
    i++;
    spaces++;
  }
  count(spaces + 1);
  let c = peek();
  if (c === -1) return more();
  if (c === 61 || (c === 58 && (quotedKey || lineKey))) {
    const yaml = c === 58 && !quotedKey;
    i++;
    let s2 = 0;
    while (isSpace(peek()) && peek() !== 10 && s2 < MAX_SPACE) {
      i++;
      s2++;
    }
    count(s2 + 1);
    c = peek();
    if (c === -1) return more();
    if (c === Q1 || c === Q2) return quoted(t, i, c, 'backslash', count);
    const from = i;
    let last = i;
    for (let n = 0; ; i++, n++) {
      const v = t.at(i);
      if (v === -1) return t.final ? (last > from ? { value: [from, last] } : 'none') : 'more';
      count(1);
      // A YAML value runs to the end of its line; any other to a space, a quote, & or ;.
      const stop = yaml ? v === 10 || v === 13 : isSpace(v) || v === Q1 || v === Q2 || v === 38 || v === 59;
      if (stop || n >= MAX_VALUE) return last > from ? { value: [from, last] } : 'none';
      if (!yaml || !isSpace(v)) last = i + 1;
    }
  }
  // SQL: PASSWORD 'secret' or PASSWORD E'secret', after at least one space.
  if (spaces === 0) return 'none';
  if (c === Q1) return quoted(t, i, Q1, 'sql', count);
  if (c === 69 || c === 101) {
    const q = t.at(i + 1);
    if (q === -1) return more();
    if (q === Q1) return quoted(t, i + 1, Q1, 'backslash', count);
  }
  return 'none';
}

/** A quoted value from its opening quote: the span inside the quotes (to the bound or the line's end if unclosed). */
function quoted(t: Text, open: number, q: number, escapes: 'backslash' | 'sql', count: (n: number) => void): Scan {
  const from = open + 1;
  for (let i = from, n = 0; ; i++, n++) {
    const c = t.at(i);
    if (c === -1) return t.final ? (i > from ? { value: [from, i] } : 'none') : 'more';
    count(1);
    if (c === 10 || n >= MAX_VALUE) return i > from ? { value: [from, i] } : 'none';
    if (escapes === 'backslash' && c === 92) {
      i++;
      n++;
      continue;
    }
    if (c === q) {
      if (escapes === 'sql') {
        const d = t.at(i + 1);
        if (d === -1 && !t.final) return 'more';
        if (d === q) {
          i++;
          n++;
          continue;
        }
      }
      return i > from ? { value: [from, i] } : 'none';
    }
  }
}

// ---------------------------------------------------------------------------------------------

interface Span {
  start: number;
  end: number;
}

interface Candidate {
  kind: Kw;
  at: number;
  /** No text from here on may go out before the candidate is decided. */
  hold: number;
}

const keywordAutomaton = new Automaton(KEYWORDS, true);

/** The secrets known so far; hands out stream redactors that share its automaton. */
export class Redactor {
  private readonly secrets: string[] = [];
  private readonly users = new Set<string>();
  private automaton: Automaton | undefined;
  private longestForm = 0;

  constructor(secrets: Iterable<string> = [], users: Iterable<string> = []) {
    for (const u of users) this.addUser(u);
    for (const s of secrets) this.add(s);
  }

  /** Register a secret value; values shorter than 3 characters would mask too much and are refused. */
  add(secret: string | undefined): void {
    if (!secret || secret.length < MIN_SECRET || this.secrets.includes(secret)) return;
    this.secrets.push(secret);
    this.automaton = undefined;
  }

  /** A user name that may be paired with a secret in HTTP basic credentials (base64 of user:secret). */
  addUser(user: string | undefined): void {
    if (!user || this.users.has(user)) return;
    this.users.add(user);
    this.automaton = undefined;
  }

  /** The automaton over every form of every secret (built again after add). */
  matcher(): Automaton {
    if (!this.automaton) {
      const forms = new Set<string>();
      for (const s of this.secrets) for (const f of secretForms(s, this.users)) forms.add(f);
      this.automaton = new Automaton([...forms]);
      this.longestForm = 0;
      for (const f of forms) if (f.length > this.longestForm) this.longestForm = f.length;
    }
    return this.automaton;
  }

  /** The longest form of any secret: the most a stream may hold back for it. */
  get longest(): number {
    this.matcher();
    return this.longestForm;
  }

  redact(text: string): string {
    const s = new StreamRedactor(this);
    return s.push(text) + s.flush();
  }

  /** Redact every string inside a JSON-like value. */
  deep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.deep(v)) as T;
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.deep(v);
      return out as T;
    }
    return value;
  }
}

/**
 * Redacts one stream, chunk by chunk, in time linear in its length. push() returns the text that
 * can go out now; flush() ends the stream and returns the rest.
 */
export class StreamRedactor {
  private readonly literals: Automaton;
  private ls = 0;
  private ks = 0;
  /** Text not yet emitted, from absolute offset `start`. */
  private buf = '';
  private start = 0;
  /** The emitted text's last characters, to look behind a keyword. */
  private behind = '';
  private spans: Span[] = [];
  private candidates: Candidate[] = [];
  private ci = 0;
  /** Characters up to here are covered by a token already emitted. */
  private covering = 0;
  /** End of the last value a context pattern matched: keywords inside it are part of it. */
  private valueEnd = 0;
  private final = false;
  /** Characters examined, by the automata and the context patterns: linear in the input. */
  work = 0;

  constructor(redactor: Redactor) {
    this.literals = redactor.matcher();
  }

  private get end(): number {
    return this.start + this.buf.length;
  }

  private readonly text: Text = {
    at: (i: number) => {
      if (i >= this.end) return -1;
      if (i >= this.start) return this.buf.charCodeAt(i - this.start);
      const j = this.behind.length - (this.start - i);
      return j >= 0 ? this.behind.charCodeAt(j) : -2;
    },
    final: false,
  };

  push(chunk: string): string {
    if (!chunk) return '';
    const base = this.end;
    this.buf += chunk;
    const lit = this.literals;
    const useLit = !lit.empty;
    const kw = keywordAutomaton;
    const litDfa = lit.dfa;
    const kwDfa = kw.dfa;
    const litMatch = lit.matchLen;
    const kwMatch = kw.matchLen;
    let ls = this.ls;
    let ks = this.ks;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (useLit) {
        ls = c < ASCII ? litDfa[ls * ASCII + c]! : lit.step(ls, c);
        const m = litMatch[ls]!;
        if (m) this.spans.push({ start: base + i + 1 - m, end: base + i + 1 });
      }
      ks = c < ASCII ? kwDfa[ks * ASCII + (c >= 65 && c <= 90 ? c + 32 : c)]! : kw.step(ks, c);
      const k = kwMatch[ks]!;
      if (k) {
        const at = base + i + 1 - k;
        this.candidates.push({ kind: kw.matchId[ks] as Kw, at, hold: at + k });
      }
    }
    this.work += useLit ? 2 * chunk.length : chunk.length;
    this.ls = ls;
    this.ks = ks;
    this.decide();
    let to = Math.min(this.end - lit.depth[ls]!, this.heldFrom());
    // Never split a surrogate pair: what goes out is valid text on its own.
    const last = this.buf.charCodeAt(to - 1 - this.start);
    if (to < this.end && last >= 0xd800 && last <= 0xdbff) to--;
    return this.emit(to);
  }

  /** End of the stream: everything goes out. The redactor can then start a new stream. */
  flush(): string {
    this.final = true;
    this.decide();
    const out = this.emit(this.end);
    this.final = false;
    this.ls = 0;
    this.ks = 0;
    this.behind = '';
    this.start = this.end;
    this.covering = this.start;
    this.valueEnd = this.start;
    return out;
  }

  get holding(): boolean {
    return this.buf.length > 0;
  }

  private heldFrom(): number {
    const c = this.candidates[this.ci];
    return c ? c.hold : Infinity;
  }

  /** Decide the pending context patterns in order, as far as the text allows. */
  private decide(): void {
    const t = this.text;
    t.final = this.final;
    const count = (n: number) => void (this.work += n);
    while (this.ci < this.candidates.length) {
      const c = this.candidates[this.ci]!;
      if (c.at < this.valueEnd) {
        this.ci++;
        continue;
      }
      const r = c.kind === Kw.Url ? scanUrl(t, c.at, count) : scanPassword(t, c.at, count);
      if (r === 'more') break;
      if (r !== 'none') {
        this.spans.push({ start: r.value[0], end: r.value[1] });
        this.valueEnd = r.value[1];
      }
      this.ci++;
    }
    if (this.ci > 64 && this.ci * 2 > this.candidates.length) {
      this.candidates = this.candidates.slice(this.ci);
      this.ci = 0;
    }
  }

  /** Emit the text before `to`, each run of covered characters as one token. */
  private emit(to: number): string {
    if (to <= this.start) return '';
    const spans = this.spans.sort((a, b) => a.start - b.start || b.end - a.end);
    const out: string[] = [];
    let cursor = this.start;
    let i = 0;
    while (cursor < to) {
      if (cursor < this.covering) {
        // Inside a token already written: extend it with every span that overlaps it.
        while (i < spans.length && spans[i]!.start < this.covering) this.covering = Math.max(this.covering, spans[i++]!.end);
        cursor = Math.min(this.covering, to);
        continue;
      }
      while (i < spans.length && spans[i]!.end <= cursor) i++;
      const next = spans[i];
      if (next && next.start < to) {
        const from = Math.max(next.start, cursor);
        if (from > cursor) out.push(this.buf.slice(cursor - this.start, from - this.start));
        out.push(REDACTED);
        this.covering = next.end;
        cursor = from;
        i++;
        continue;
      }
      out.push(this.buf.slice(cursor - this.start, to - this.start));
      cursor = to;
    }
    this.spans = spans.slice(i);
    const gone = this.buf.slice(0, to - this.start);
    this.behind = (this.behind + gone.slice(-LOOKBACK)).slice(-LOOKBACK);
    this.buf = this.buf.slice(to - this.start);
    this.start = to;
    return out.join('');
  }
}
