/** Helpers to compare the fast YAML parser with `yaml` on generated and mutated texts. */

/** Deep equality that also tells -0 from 0, NaN from NaN-less, key order and prototypes apart. */
export function same(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** A small deterministic PRNG, so a failure names a case that can be replayed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const PIECES = [':', ': ', ' #', '#', "'", '"', "''", '\\', '\\n', '\\x4', '-', '- ', ' ', '  ', '\n', '\n  ', '&a ', '*a', '!!str ', '!x ', '|', '|-', '|+', '>', '>-', '|2', '[', ']', '{', '}', ',', ', ', '?', '? ', '%', '@', '`', '~', 'null', 'true', 'yes', '0o17', '017', '0x1F', '1e3', '.5', '-0', '.inf', '.NaN', '<<: ', '---', '...', '\t', '\r', '\u00a0', 'é', '__proto__: ', 'x: y', '1: ', 'a:b'];

/** One random edit: insert a piece of YAML syntax, delete a few characters, delete or duplicate a line. */
export function mutate(text: string, r: () => number): string {
  const lines = text.split('\n');
  const kind = Math.floor(r() * 4);
  const at = Math.floor(r() * text.length);
  if (kind === 0) return text.slice(0, at) + PIECES[Math.floor(r() * PIECES.length)]! + text.slice(at);
  if (kind === 1) return text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 3));
  const li = Math.floor(r() * lines.length);
  if (kind === 2) lines.splice(li, 1);
  else lines.splice(li, 0, lines[Math.floor(r() * lines.length)]!);
  return lines.join('\n');
}

const WORDS = ['id', 'title', 'a', 'b', 'x-y', 'on_failure', '$s', 'a.b', 'x/y', 'null', 'yes', 'No', 'true', '__proto__', 'k1'];
const SCALARS = ['one', 'two words', 'SELECT 1', '1', '-1', '+1', '0', '-0', '017', '0o17', '0x1f', '1e3', '1.5', '.5', '1.', '.inf', '-.INF', '.nan', '~', 'null', 'Null', 'true', 'False', 'yes', 'off', 'a#b', 'a # b', 'a:b', 'a: b', 'x:', '-x', '- x', '?x', '? x', '@x', '`x`', '%x', '!x', '&x', '*x', 'a, b', '[x]', '{x}', 'é ü', 'tail ', 'ends\u00a0'];
const LINES = ['text', 'more text', '  indented', '    deeper', '', '# not a comment', 'a: b', '- item', "'q'", '"dq"', 'tab\there', 'x'];

/** A random YAML text in (and around) the subset the fast parser handles: nested mappings and sequences, every kind of scalar, odd but legal layouts. */
export function generate(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: string[] = [];
  const scalar = (indent: number): string => {
    const k = r();
    if (k < 0.45) return pick(SCALARS);
    if (k < 0.55) return `'${pick(SCALARS).replace(/'/g, "''")}'`;
    if (k < 0.65) return `"${pick(['plain', 'tab\\t', 'nl\\n', 'q\\"', 'bs\\\\', 'u\\u00e9', 'x\\x41', 'U\\U0001F600', 'bad\\q', 'sp\\ ', 'z\\0'])}"`;
    if (k < 0.85) {
      const header = pick(['|', '|-', '>', '>-', '|+', '|2', '| # c']);
      const pad = ' '.repeat(indent + 1 + Math.floor(r() * 3));
      const n = Math.floor(r() * 5);
      const body = Array.from({ length: n }, () => {
        const l = pick(LINES);
        return l === '' ? '' : pad + l;
      });
      return `${header}\n${body.join('\n')}`;
    }
    if (k < 0.92) return `[${Array.from({ length: Math.floor(r() * 4) }, () => pick(SCALARS)).join(', ')}]`;
    return `{${Array.from({ length: Math.floor(r() * 3) }, () => `${pick(WORDS)}: ${pick(SCALARS)}`).join(', ')}}`;
  };
  const node = (indent: number, depth: number, first: string | undefined): void => {
    const isSeq = r() < 0.4;
    const n = 1 + Math.floor(r() * 4);
    for (let i = 0; i < n; i++) {
      const lead = i === 0 && first !== undefined ? first : ' '.repeat(indent);
      if (r() < 0.1) out.push(r() < 0.5 ? '' : `${' '.repeat(Math.floor(r() * 6))}# comment`);
      const head = isSeq ? `${lead}- ` : `${lead}${pick(WORDS)}:`;
      if (depth < 3 && r() < 0.35) {
        if (isSeq && r() < 0.5) {
          node(indent + 2, depth + 1, head); // a compact mapping or sequence after the dash
          continue;
        }
        out.push(head.trimEnd());
        const seqAtKey = !isSeq && r() < 0.3;
        node(seqAtKey ? indent : indent + 1 + Math.floor(r() * 3), depth + 1, undefined);
        continue;
      }
      out.push(`${head}${isSeq ? '' : ' '}${scalar(indent)}${r() < 0.1 ? ' # c' : ''}`);
    }
  };
  node(0, 0, undefined);
  return `${out.join('\n')}${r() < 0.8 ? '\n' : ''}`;
}
