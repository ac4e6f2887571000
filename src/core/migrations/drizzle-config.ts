/**
 * The few keys of a drizzle.config.{ts,js,json} that say where migrations live, read statically:
 * the file is never executed (it is the project's code, and may read secrets or the network).
 *
 * What it reads: the object literal passed to `defineConfig({...})`, or exported with
 * `export default {...}` / `module.exports = {...}`, or a `const name = {...}` exported by name;
 * JSON as JSON. Keys: `dialect`, `out`, `migrations.table`, `migrations.schema`, when their values
 * are plain string literals. Anything else (an environment variable, a variable, a template with
 * `${}`, a spread that may set the key, a config built by a function) is reported as unreadable,
 * with its line, so the caller can ask for a flag instead of guessing.
 */

export type ConfigRead = { value: string; line: number } | { unreadable: string; line: number } | undefined;

export interface DrizzleConfigKeys {
  dialect: ConfigRead;
  out: ConfigRead;
  table: ConfigRead;
  schema: ConfigRead;
}

export type DrizzleConfigResult = { ok: true; keys: DrizzleConfigKeys } | { ok: false; reason: string; line: number };

type Tok = { t: 'str'; v: string; line: number; start: number; end: number } | { t: 'tpl'; line: number; start: number; end: number } | { t: 'id'; v: string; line: number; start: number; end: number } | { t: 'p'; v: string; line: number; start: number; end: number };

/** Strings, identifiers and punctuation; comments dropped. Regular-expression literals are not expected in a config. */
export function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  let line = 1;
  const n = src.length;
  while (i < n) {
    const ch = src[i]!;
    if (ch === '\n') {
      line++;
      i++;
    } else if (/\s/.test(ch)) i++;
    else if (ch === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (ch === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      for (let k = i; k < stop; k++) if (src[k] === '\n') line++;
      i = stop;
    } else if (ch === '"' || ch === "'") {
      const start = i;
      const startLine = line;
      let v = '';
      i++;
      while (i < n && src[i] !== ch) {
        if (src[i] === '\\' && i + 1 < n) {
          const e = src[i + 1]!;
          v += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '0' ? '\0' : e === '\n' ? '' : e;
          if (e === '\n') line++;
          i += 2;
        } else {
          if (src[i] === '\n') line++;
          v += src[i];
          i++;
        }
      }
      i++;
      out.push({ t: 'str', v, line: startLine, start, end: i });
    } else if (ch === '`') {
      const start = i;
      const startLine = line;
      let v = '';
      let dynamic = false;
      i++;
      let depth = 0;
      while (i < n && !(src[i] === '`' && depth === 0)) {
        if (src[i] === '\\' && i + 1 < n) {
          v += src[i + 1];
          i += 2;
          continue;
        }
        if (src[i] === '$' && src[i + 1] === '{') {
          dynamic = true;
          depth++;
          i += 2;
          continue;
        }
        if (depth > 0 && src[i] === '}') depth--;
        if (src[i] === '\n') line++;
        if (depth === 0) v += src[i];
        i++;
      }
      i++;
      out.push(dynamic ? { t: 'tpl', line: startLine, start, end: i } : { t: 'str', v, line: startLine, start, end: i });
    } else if (/[A-Za-z_$]/.test(ch)) {
      const start = i;
      while (i < n && /[\w$]/.test(src[i]!)) i++;
      out.push({ t: 'id', v: src.slice(start, i), line, start, end: i });
    } else if (ch === '.' && src.startsWith('...', i)) {
      out.push({ t: 'p', v: '...', line, start: i, end: i + 3 });
      i += 3;
    } else {
      out.push({ t: 'p', v: ch, line, start: i, end: i + 1 });
      i++;
    }
  }
  return out;
}

type Value =
  | { kind: 'string'; value: string; line: number }
  | { kind: 'expr'; text: string; line: number }
  | { kind: 'object'; props: Map<string, Value>; spread: { text: string; line: number } | undefined; line: number };

const isP = (tok: Tok | undefined, v: string) => tok?.t === 'p' && tok.v === v;

/** Parses the value starting at toks[i]; returns it and the index after it. */
function parseValue(src: string, toks: Tok[], i: number, depth: number): [Value, number] {
  const tok = toks[i];
  if (!tok) return [{ kind: 'expr', text: '', line: 0 }, i];
  if (isP(tok, '{') && depth < MAX_DEPTH) return parseObject(src, toks, i, depth + 1);
  // A string literal, possibly followed by `as const` / `satisfies T`.
  const next = toks[i + 1];
  if (tok.t === 'str' && (next === undefined || isP(next, ',') || isP(next, '}') || (next.t === 'id' && (next.v === 'as' || next.v === 'satisfies')))) {
    let j = i + 1;
    if (next?.t === 'id') j = skipExpr(toks, j);
    return [{ kind: 'string', value: tok.v, line: tok.line }, j];
  }
  const j = skipExpr(toks, i);
  const last = toks[j - 1] ?? tok;
  return [{ kind: 'expr', text: src.slice(tok.start, last.end).replace(/\s+/g, ' ').slice(0, 80), line: tok.line }, j];
}

/** Skips to the `,` or closing bracket that ends the current expression. */
function skipExpr(toks: Tok[], i: number): number {
  let depth = 0;
  for (; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.t !== 'p') continue;
    if (t.v === '{' || t.v === '(' || t.v === '[') depth++;
    else if (t.v === '}' || t.v === ')' || t.v === ']') {
      if (depth === 0) return i;
      depth--;
    } else if (t.v === ',' && depth === 0) return i;
  }
  return i;
}

/** Objects nested deeper than this are not looked into (a config never is; the stack stays small). */
const MAX_DEPTH = 32;

function parseObject(src: string, toks: Tok[], i: number, depth = 0): [Value, number] {
  const open = toks[i]!;
  const props = new Map<string, Value>();
  let spread: { text: string; line: number } | undefined;
  i++;
  while (i < toks.length && !isP(toks[i], '}')) {
    const k = toks[i]!;
    if (isP(k, ',')) {
      i++;
      continue;
    }
    if (isP(k, '...')) {
      const end = skipExpr(toks, i + 1);
      spread ??= { text: src.slice(toks[i + 1]?.start ?? k.end, toks[end - 1]?.end ?? k.end).slice(0, 80), line: k.line };
      i = end;
      continue;
    }
    let key: string | undefined;
    if (k.t === 'id' || k.t === 'str') key = k.v;
    if (key === undefined || !isP(toks[i + 1], ':')) {
      // A computed key, a method or a shorthand: whatever it sets cannot be read.
      const end = skipExpr(toks, i);
      if (key !== undefined) props.set(key, { kind: 'expr', text: key, line: k.line });
      i = end === i ? i + 1 : end;
      continue;
    }
    const [value, next] = parseValue(src, toks, i + 2, depth);
    props.set(key, value);
    i = next;
  }
  return [{ kind: 'object', props, spread, line: open.line }, i + 1];
}

/** Where the config object starts: defineConfig({, export default {, module.exports = {, or a named const. */
function findConfigObject(toks: Tok[]): number | { reason: string; line: number } {
  const objectAfter = (i: number): number | string | { reason: string; line: number } | undefined => {
    const t = toks[i];
    if (isP(t, '{')) return i;
    if (t?.t === 'id' && isP(toks[i + 1], '(') && t.v !== 'defineConfig') return { reason: `the config is built by a function call (${t.v}(...))`, line: t.line };
    if (t?.t === 'id') return t.v;
    return undefined;
  };
  let target: string | undefined;
  let targetLine = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    let found: ReturnType<typeof objectAfter>;
    if (t.t === 'id' && t.v === 'defineConfig' && isP(toks[i + 1], '(')) found = objectAfter(i + 2);
    else if (t.t === 'id' && t.v === 'export' && toks[i + 1]?.t === 'id' && (toks[i + 1] as { v: string }).v === 'default') found = objectAfter(i + 2);
    else if (t.t === 'id' && t.v === 'module' && isP(toks[i + 1], '.') && toks[i + 2]?.t === 'id' && (toks[i + 2] as { v: string }).v === 'exports' && isP(toks[i + 3], '=')) found = objectAfter(i + 4);
    if (typeof found === 'number') return found;
    if (typeof found === 'object') return found;
    if (typeof found === 'string' && found !== 'defineConfig' && target === undefined) {
      target = found;
      targetLine = t.line;
    }
  }
  if (target !== undefined) {
    for (let i = 0; i + 2 < toks.length; i++) {
      const t = toks[i]!;
      if (t.t === 'id' && (t.v === 'const' || t.v === 'let' || t.v === 'var') && toks[i + 1]?.t === 'id' && (toks[i + 1] as { v: string }).v === target) {
        let j = i + 2;
        if (isP(toks[j], ':')) j = skipTo(toks, j, '=');
        if (isP(toks[j], '=')) {
          if (isP(toks[j + 1], '{')) return j + 1;
          if (toks[j + 1]?.t === 'id' && (toks[j + 1] as { v: string }).v === 'defineConfig' && isP(toks[j + 2], '(') && isP(toks[j + 3], '{')) return j + 3;
        }
        return { reason: `the exported config ${target} is not an object literal`, line: t.line };
      }
    }
    return { reason: `the exported config ${target} is not defined in this file`, line: targetLine };
  }
  return { reason: 'no defineConfig({...}), export default {...} or module.exports = {...} found', line: 1 };
}

function skipTo(toks: Tok[], i: number, v: string): number {
  let depth = 0;
  for (; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.t !== 'p') continue;
    if (t.v === '<' || t.v === '(' || t.v === '{' || t.v === '[') depth++;
    else if (t.v === '>' || t.v === ')' || t.v === '}' || t.v === ']') depth--;
    else if (t.v === v && depth === 0) return i;
  }
  return i;
}

function read(obj: Extract<Value, { kind: 'object' }>, key: string, label: string): ConfigRead {
  const v = obj.props.get(key);
  if (v === undefined) {
    return obj.spread ? { unreadable: `${label} may come from the spread ...${obj.spread.text}`, line: obj.spread.line } : undefined;
  }
  if (v.kind === 'string') return { value: v.value, line: v.line };
  if (v.kind === 'object') return { unreadable: `${label} is an object, not a string`, line: v.line };
  return { unreadable: `${label} is set by an expression (${v.text}) that drillbook does not evaluate`, line: v.line };
}

export function readDrizzleConfig(text: string, kind: 'json' | 'js'): DrizzleConfigResult {
  let root: Extract<Value, { kind: 'object' }>;
  if (kind === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return { ok: false, reason: `not valid JSON: ${(e as Error).message}`, line: 1 };
    }
    // Only the top level and `migrations` matter: deeper values are not converted.
    const fromJson = (v: unknown, depth: number): Value =>
      typeof v === 'string'
        ? { kind: 'string', value: v, line: 1 }
        : v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 2
          ? { kind: 'object', props: new Map(Object.entries(v).map(([k, x]) => [k, fromJson(x, depth + 1)])), spread: undefined, line: 1 }
          : { kind: 'expr', text: Array.isArray(v) ? 'an array' : v !== null && typeof v === 'object' ? 'an object' : String(v), line: 1 };
    const v = fromJson(parsed, 0);
    if (v.kind !== 'object') return { ok: false, reason: 'the JSON is not an object', line: 1 };
    root = v;
  } else {
    const toks = tokenize(text);
    const at = findConfigObject(toks);
    if (typeof at !== 'number') return { ok: false, ...at };
    root = parseObject(text, toks, at)[0] as Extract<Value, { kind: 'object' }>;
  }
  const migrations = root.props.get('migrations');
  let table: ConfigRead;
  let schema: ConfigRead;
  if (migrations === undefined) {
    table = root.spread ? { unreadable: `migrations.table may come from the spread ...${root.spread.text}`, line: root.spread.line } : undefined;
    schema = root.spread ? { unreadable: `migrations.schema may come from the spread ...${root.spread.text}`, line: root.spread.line } : undefined;
  } else if (migrations.kind === 'object') {
    table = read(migrations, 'table', 'migrations.table');
    schema = read(migrations, 'schema', 'migrations.schema');
  } else {
    const why = { unreadable: `migrations is set by an expression (${migrations.kind === 'expr' ? migrations.text : 'a string'}) that drillbook does not evaluate`, line: migrations.line };
    table = why;
    schema = why;
  }
  return { ok: true, keys: { dialect: read(root, 'dialect', 'dialect'), out: read(root, 'out', 'out'), table, schema } };
}

/** `--table name` or `--table schema.name`; either part may be double-quoted (`"my.schema"."Table"`). */
export function parseTableName(text: string): { schema?: string; name: string } | undefined {
  const parts: string[] = [];
  let i = 0;
  while (i <= text.length) {
    if (text[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= text.length) return undefined;
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            v += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += text[i];
        i++;
      }
      parts.push(v);
    } else {
      const dot = text.indexOf('.', i);
      const end = dot === -1 ? text.length : dot;
      const v = text.slice(i, end);
      if (v.includes('"')) return undefined;
      parts.push(v);
      i = end;
    }
    if (i === text.length) break;
    if (text[i] !== '.') return undefined;
    i++;
  }
  if (parts.length < 1 || parts.length > 2 || parts.some((p) => p.length === 0)) return undefined;
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { name: parts[0]! };
}
