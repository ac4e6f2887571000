/**
 * SQL text as PostgreSQL's own lexer sees it: statements split at top-level semicolons, and the
 * `$n` parameters each statement uses. One pass, linear in the text, no regular expressions over
 * untrusted input. It skips what psql's lexer skips: quoted strings ('…', E'…' with backslash
 * escapes), quoted identifiers ("…"), dollar-quoted bodies ($tag$…$tag$), line and nested block
 * comments, and the semicolons inside a SQL-standard routine body (BEGIN ATOMIC … END).
 *
 * Used so that a step with several statements and bind parameters can run (the extended protocol
 * takes one statement at a time), and so that a check is provably one statement.
 */

export interface SqlStatement {
  /** The statement as written (no trailing semicolon), trimmed. */
  text: string;
  /** The same statement with its parameters renumbered $1..$k in order of first use. */
  bound: string;
  /** The runbook's parameter numbers (1-based) this statement uses, in the order of $1..$k of `bound`. */
  params: number[];
  /** The first keywords, upper-case (e.g. "COMMIT", "CREATE INDEX"): what kind of statement it is. */
  keywords: string[];
  /** 1-based line of the statement's first character within the whole text. */
  line: number;
}

const isIdentStart = (c: string) => /[A-Za-z_\u0080-\uffff]/.test(c);
const isIdentChar = (c: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

/**
 * Where the text that starts at `i` stops being code: the end of a comment, a quoted string, a
 * quoted identifier or a dollar-quoted body that starts there; -1 when code starts there.
 * Unterminated ones run to the end (PostgreSQL reports them).
 */
function skipNonCode(sql: string, i: number): number {
  const n = sql.length;
  const c = sql[i]!;
  const next = sql[i + 1] ?? '';
  if (c === '-' && next === '-') {
    const nl = sql.indexOf('\n', i);
    return nl < 0 ? n : nl;
  }
  if (c === '/' && next === '*') {
    let level = 1;
    let j = i + 2;
    while (j < n && level > 0) {
      if (sql[j] === '/' && sql[j + 1] === '*') {
        level++;
        j += 2;
      } else if (sql[j] === '*' && sql[j + 1] === '/') {
        level--;
        j += 2;
      } else j++;
    }
    return j;
  }
  if (c === "'") {
    // E'…' (backslash escapes) when an E/e stands right before the quote as its own token.
    const prev = sql[i - 1] ?? '';
    const escapes = (prev === 'E' || prev === 'e') && !isIdentChar(sql[i - 2] ?? '');
    let j = i + 1;
    while (j < n) {
      const d = sql[j]!;
      if (escapes && d === '\\') {
        j += 2;
        continue;
      }
      if (d === "'") {
        if (sql[j + 1] === "'") {
          j += 2;
          continue;
        }
        return j + 1;
      }
      j++;
    }
    return n;
  }
  if (c === '"') {
    let j = i + 1;
    while (j < n) {
      if (sql[j] === '"') {
        if (sql[j + 1] === '"') {
          j += 2;
          continue;
        }
        return j + 1;
      }
      j++;
    }
    return n;
  }
  if (c === '$' && !isIdentChar(sql[i - 1] ?? '')) {
    let j = i + 1;
    if (j < n && isIdentStart(sql[j]!)) {
      while (j < n && isIdentChar(sql[j]!) && sql[j] !== '$') j++;
    }
    if (sql[j] === '$' && !(j > i + 1 && sql[i + 1]! >= '0' && sql[i + 1]! <= '9')) {
      const tag = sql.slice(i, j + 1);
      const end = sql.indexOf(tag, j + 1);
      return end < 0 ? n : end + tag.length;
    }
  }
  return -1;
}

/** Split SQL into statements. */
export function splitSql(sql: string): SqlStatement[] {
  const out: SqlStatement[] = [];
  const n = sql.length;
  let i = 0;
  let start = 0;
  // Per statement:
  let pieces: string[] = [];
  let pieceStart = 0;
  let paramOrder: number[] = [];
  let paramIndex = new Map<number, number>();
  let keywords: string[] = [];
  let routine = false;
  let depth = 0;
  let significant = false;
  let line = 1;
  let stmtLine = 1;

  const flush = (end: number) => {
    pieces.push(sql.slice(pieceStart, end));
    const bound = pieces.join('');
    const text = sql.slice(start, end);
    if (significant) out.push({ text: text.trim(), bound: bound.trim(), params: paramOrder, keywords, line: stmtLine });
    pieces = [];
    paramOrder = [];
    paramIndex = new Map();
    keywords = [];
    routine = false;
    depth = 0;
    significant = false;
  };

  while (i < n) {
    const c = sql[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    const skipped = skipNonCode(sql, i);
    const comment = c === '-' || c === '/';
    if (skipped >= 0) {
      if (!comment && !significant) {
        significant = true;
        stmtLine = line;
      }
      line += countNewlines(sql.slice(i, skipped));
      i = skipped;
      continue;
    }
    if (!significant && !/\s/.test(c) && c !== ';') {
      significant = true;
      stmtLine = line;
    }
    if (c === '$' && !isIdentChar(sql[i - 1] ?? '')) {
      // $n: a parameter.
      let j = i + 1;
      while (j < n && sql[j]! >= '0' && sql[j]! <= '9') j++;
      if (j > i + 1) {
        const num = Number(sql.slice(i + 1, j));
        let k = paramIndex.get(num);
        if (k === undefined) {
          paramOrder.push(num);
          k = paramOrder.length;
          paramIndex.set(num, k);
        }
        pieces.push(sql.slice(pieceStart, i), `$${k}`);
        pieceStart = j;
        i = j;
        continue;
      }
      i++;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentChar(sql[j]!)) j++;
      const word = sql.slice(i, j).toUpperCase();
      if (keywords.length < 3) {
        keywords.push(word);
        if (keywords[0] === 'CREATE') {
          const rest = keywords.slice(1).filter((w) => w !== 'OR' && w !== 'REPLACE');
          if (rest[0] === 'FUNCTION' || rest[0] === 'PROCEDURE') routine = true;
        }
      } else if (!routine && keywords[0] === 'CREATE' && (word === 'FUNCTION' || word === 'PROCEDURE') && keywords.slice(1).every((w) => w === 'OR' || w === 'REPLACE')) {
        routine = true;
      }
      if (routine) {
        if (word === 'BEGIN') depth++;
        else if (word === 'CASE' && depth > 0) depth++;
        else if (word === 'END' && depth > 0) depth--;
      }
      i = j;
      continue;
    }
    if (c === ';' && depth === 0) {
      flush(i);
      i++;
      start = i;
      pieceStart = i;
      continue;
    }
    i++;
  }
  flush(n);
  return out;
}

const PLACEHOLDER = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/;

/** Every `${name}` in SQL, and whether it stands in code (fillable) or inside a string or comment. */
export function sqlPlaceholders(sql: string): Array<{ name: string; inCode: boolean }> {
  const found: Array<{ name: string; inCode: boolean }> = [];
  for (let i = 0; i < sql.length; ) {
    const skipped = skipNonCode(sql, i);
    if (skipped >= 0) {
      for (const m of sql.slice(i, skipped).matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) found.push({ name: m[1]!, inCode: false });
      i = skipped;
      continue;
    }
    const m = sql[i] === '$' ? PLACEHOLDER.exec(sql.slice(i, i + 200)) : null;
    if (m) {
      found.push({ name: m[1]!, inCode: true });
      i += m[0].length;
      continue;
    }
    i++;
  }
  return found;
}

/** Quote an identifier input's value: "name", or "schema"."name" for a qualified one. */
export function quoteIdentifier(value: string): string {
  return value
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}

/** Why a value cannot be an identifier input, or undefined when it can. */
export function identifierProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'it holds a NUL character';
  const parts = value.split('.');
  if (parts.length > 2) return 'an identifier is a name, or schema.name';
  for (const part of parts) {
    if (part === '') return 'an empty name';
    if (Buffer.byteLength(part, 'utf8') > 63) return `"${part.slice(0, 20)}…" is longer than PostgreSQL's 63 bytes`;
  }
  return undefined;
}

/** Fill `${name}` of identifier inputs in SQL code (never inside strings or comments), quoted. */
export function fillSqlIdentifiers(sql: string, values: Readonly<Record<string, string>>, identifiers: ReadonlySet<string>): string {
  let out = '';
  for (let i = 0; i < sql.length; ) {
    const skipped = skipNonCode(sql, i);
    if (skipped >= 0) {
      out += sql.slice(i, skipped);
      i = skipped;
      continue;
    }
    const m = sql[i] === '$' ? PLACEHOLDER.exec(sql.slice(i, i + 200)) : null;
    if (m && identifiers.has(m[1]!) && values[m[1]!] !== undefined) {
      out += quoteIdentifier(values[m[1]!]!);
      i += m[0].length;
      continue;
    }
    out += sql[i];
    i++;
  }
  return out;
}

function countNewlines(s: string): number {
  let k = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) k++;
  return k;
}

const TRANSACTION_CONTROL = new Set(['BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT', 'RELEASE', 'PREPARE']);

/** A statement that would end or open drillbook's own transaction (COMMIT; BEGIN; ROLLBACK; …). */
export function isTransactionControl(s: SqlStatement): boolean {
  const [first, second] = s.keywords;
  if (!first) return false;
  if (first === 'PREPARE') return second === 'TRANSACTION';
  return TRANSACTION_CONTROL.has(first);
}

/**
 * Every name a statement uses, as PostgreSQL reads it: unquoted words folded to lower case,
 * "quoted" ones as written, U&"…" ones with their \XXXX and \+XXXXXX escapes decoded. Strings,
 * comments and dollar-quoted bodies are skipped.
 */
export function namesIn(sql: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < sql.length; ) {
    const c = sql[i]!;
    const unicode = (c === 'U' || c === 'u') && sql[i + 1] === '&' && sql[i + 2] === '"' && !isIdentChar(sql[i - 1] ?? '');
    if (unicode || c === '"') {
      const open = unicode ? i + 2 : i;
      let j = open + 1;
      let name = '';
      while (j < sql.length) {
        if (sql[j] === '"') {
          if (sql[j + 1] === '"') {
            name += '"';
            j += 2;
            continue;
          }
          break;
        }
        name += sql[j];
        j++;
      }
      out.push(unicode ? decodeUnicodeEscapes(name) : name);
      i = j + 1;
      continue;
    }
    const skipped = skipNonCode(sql, i);
    if (skipped >= 0) {
      i = skipped;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < sql.length && isIdentChar(sql[j]!)) j++;
      out.push(sql.slice(i, j).toLowerCase());
      i = j;
      continue;
    }
    i++;
  }
  return out;
}

function decodeUnicodeEscapes(text: string): string {
  return text.replace(/\\(\\|[0-9A-Fa-f]{4}|\+[0-9A-Fa-f]{6})/g, (_m, code: string) => {
    if (code === '\\') return '\\';
    const hex = code.startsWith('+') ? code.slice(1) : code;
    return String.fromCodePoint(parseInt(hex, 16));
  });
}

/** Functions that act outside the transaction, on the server or elsewhere, even when it is READ ONLY. */
const OUTSIDE = new Map<string, string>([
  ...['lo_import', 'lo_export', 'lo_unlink', 'lo_create', 'lo_creat', 'lo_put', 'lo_from_bytea', 'lo_truncate'].map((f) => [f, 'large objects'] as [string, string]),
  ...['pg_file_write', 'pg_file_rename', 'pg_file_unlink', 'pg_file_sync'].map((f) => [f, 'writes a file on the server'] as [string, string]),
  ...['pg_terminate_backend', 'pg_cancel_backend'].map((f) => [f, 'stops another session'] as [string, string]),
  ...['pg_reload_conf', 'pg_rotate_logfile', 'pg_switch_wal', 'pg_promote', 'pg_backup_start', 'pg_backup_stop', 'pg_start_backup', 'pg_stop_backup'].map((f) => [f, 'acts on the server itself'] as [string, string]),
  ...['pg_create_physical_replication_slot', 'pg_create_logical_replication_slot', 'pg_drop_replication_slot', 'pg_replication_slot_advance', 'pg_copy_physical_replication_slot', 'pg_copy_logical_replication_slot', 'pg_logical_emit_message'].map((f) => [f, 'replication slots and WAL'] as [string, string]),
  ...['pg_advisory_lock', 'pg_advisory_lock_shared', 'pg_try_advisory_lock', 'pg_try_advisory_lock_shared'].map((f) => [f, 'a session lock that outlives the check (pg_advisory_xact_lock ends with it)'] as [string, string]),
]);

/**
 * Why a statement acts outside the database or outlives its READ ONLY transaction (files,
 * programs, other sessions, other servers), or undefined. Checked on the names PostgreSQL will
 * read, so quoting or U&"…" escapes do not hide them; a function of the database's own that does
 * such things cannot be seen from here (hence the superuser warning).
 */
export function escapesReadOnly(s: SqlStatement): string | undefined {
  const first = s.keywords[0];
  if (first === 'COPY') return 'COPY can write files or run programs on the server';
  if (first === 'DO') return 'a DO block runs code that can reach outside the transaction (COPY TO PROGRAM, other connections)';
  if (first === 'CALL') return 'a procedure can manage its own transactions';
  if (/\buescape\b/i.test(s.text)) return 'UESCAPE hides names from checking';
  for (const name of namesIn(s.text)) {
    if (name.startsWith('dblink')) return `${name} connects to another server, outside this transaction`;
    const why = OUTSIDE.get(name);
    if (why) return `${name} (${why})`;
  }
  return undefined;
}

/** The highest `$n` any statement uses (0 when none). */
export function maxParam(statements: readonly SqlStatement[]): number {
  let max = 0;
  for (const s of statements) for (const p of s.params) max = Math.max(max, p);
  return max;
}
