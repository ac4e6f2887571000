/**
 * The fast YAML parser must be invisible: wherever it answers, it answers exactly what `yaml`
 * answers (same accepted/rejected, same value), and wherever it is unsure it declines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { fastParseYaml } from '../../src/core/fast-yaml.js';
import { parseRunbook } from '../../src/core/load.js';
import { generate, mutate, rng, same } from '../helpers/yaml-fuzz.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return ['node_modules', '.git', 'dist', 'transcripts'].includes(e.name) ? [] : yamlFiles(p);
    return /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

const FILES = yamlFiles(ROOT);

/** `yaml` as the loader runs it. */
function reference(text: string): { ok: false } | { ok: true; value: unknown; warnings: number } {
  const doc = parseDocument(text, { uniqueKeys: true, strict: true, prettyErrors: true });
  if (doc.errors.length) return { ok: false };
  return { ok: true, value: doc.toJS({ maxAliasCount: 100 }), warnings: doc.warnings.length };
}

/** Undefined when the fast parser agrees with `yaml` (or declines); otherwise what went wrong. */
function disagreement(text: string): string | undefined {
  const fast = fastParseYaml(text);
  if (!fast) return undefined;
  const ref = reference(text);
  if (!ref.ok) return 'the fast parser accepted a text yaml rejects';
  if (ref.warnings) return 'the fast parser accepted a text yaml warns about';
  if (!same(fast.value, ref.value)) return `values differ: fast ${JSON.stringify(fast.value)} yaml ${JSON.stringify(ref.value)}`;
  return undefined;
}

/** What the loader gives, or what it throws. */
function load(text: string, options?: { fast: boolean }): unknown {
  try {
    return parseRunbook(text, 'x.yaml', options);
  } catch (e) {
    return { threw: String(e) };
  }
}

describe('the fast YAML parser', () => {
  it('finds the YAML files of the repository (runbooks and fixtures)', () => {
    expect(FILES.filter((f) => f.includes(`${path.sep}runbooks${path.sep}`)).length).toBeGreaterThanOrEqual(6);
    expect(FILES.filter((f) => f.includes(`${path.sep}fixtures${path.sep}`)).length).toBeGreaterThanOrEqual(20);
  });

  it.each(FILES.map((f) => [path.relative(ROOT, f)]))('agrees with yaml on %s, and the loader gives the same runbook and problems either way', (rel) => {
    const text = readFileSync(path.join(ROOT, rel), 'utf8');
    expect(disagreement(text)).toBeUndefined();
    expect(parseRunbook(text, rel)).toEqual(parseRunbook(text, rel, { fast: false }));
  });

  it('takes the fast path for every shipped runbook (else it would not make them faster)', () => {
    const shipped = FILES.filter((f) => path.relative(ROOT, f).startsWith(`runbooks${path.sep}`) && !f.includes(`${path.sep}fixtures${path.sep}`));
    for (const f of shipped) expect(fastParseYaml(readFileSync(f, 'utf8')), f).toBeDefined();
  });

  it('agrees with yaml on thousands of mutations of the repository YAML', () => {
    const r = rng(18);
    const sources = FILES.map((f) => readFileSync(f, 'utf8'));
    let accepted = 0;
    for (let n = 0; n < 4000; n++) {
      let text = sources[n % sources.length]!;
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) text = mutate(text, r);
      const wrong = disagreement(text);
      if (wrong) expect.fail(`case ${n}: ${wrong}\n${text}`);
      if (fastParseYaml(text)) accepted++;
    }
    // Most mutations are still fast-path YAML; the comparison above is meaningful only if they are.
    expect(accepted).toBeGreaterThan(1000);
  });

  it('agrees with yaml on thousands of generated documents (every scalar style, odd but legal layouts)', () => {
    const r = rng(1812);
    let accepted = 0;
    for (let n = 0; n < 4000; n++) {
      let text = generate(r);
      if (r() < 0.3) text = mutate(text, r);
      const wrong = disagreement(text);
      if (wrong) expect.fail(`case ${n}: ${wrong}\n${text}`);
      if (fastParseYaml(text)) accepted++;
    }
    expect(accepted).toBeGreaterThan(300);
  });

  it.each([
    ['YAML 1.1 booleans are text in YAML 1.2', 'a: yes\nb: no\nc: on\nd: Off\ne: y\n'],
    ['numbers by the core schema', 'a: 017\nb: 0o17\nc: 0x1F\nd: 1e3\ne: .5\nf: -0\ng: +12\nh: .inf\ni: -.Inf\nj: .NaN\nk: 1_000\nl: 12345678901234567890\nm: 1.0\n'],
    ['nulls', 'a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: nULL\n'],
    ['booleans', 'a: true\nb: True\nc: TRUE\nd: tRUE\ne: false\n'],
    ['quoted scalars keep their text', "a: '1'\nb: \"true\"\nc: 'it''s'\nd: \"tab\\there \\u00e9 \\x41 \\U0001F600\"\ne: ''\n"],
    ['block scalars', 'a: |\n  one\n    two\n\n  three\nb: |-\n  x\n\nc: >\n  folded\n  text\n\n  para\n    more\n  back\nd: >-\n  x\n  y\ne: |\nf: 1\n'],
    ['flow collections', 'a: {x: 1, y: [a, b c, "d"], z: {}}\nb: []\nc: [1, 2.5, true, ~]\n'],
    ['sequences at the key column and below', 'a:\n- 1\n- x: 2\n  y: 3\n-\n  - nested\nb:\n  - p: 1\n    q:\n      - r\n'],
    ['comments everywhere', '# top\na: 1 # one\n# between\nb: x#not-a-comment\nc: # nothing\n  d: 2\n'],
  ])('takes the fast path and agrees with yaml: %s', (_what, text) => {
    expect(fastParseYaml(text)).toBeDefined();
    expect(disagreement(text)).toBeUndefined();
  });

  it.each([
    ['merge keys', 'base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n'],
    ['anchors and aliases', 'a: &x [1, 2]\nb: *x\n'],
    ['an alias bomb (yaml limits aliases)', 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n'],
    ['duplicate keys', 'a: 1\nb: 2\na: 3\n'],
    ['duplicate keys in a flow mapping', 'a: {x: 1, x: 2}\n'],
    ['a YAML 1.1 document (its booleans and octals differ)', '%YAML 1.1\n---\na: yes\nb: 017\n'],
    ['tags', 'a: !!str 1\nb: !!int "2"\n'],
    ['document markers', '---\na: 1\n...\n'],
    ['tabs', 'a:\t1\n'],
    ['CRLF line ends', 'a: 1\r\nb: 2\r\n'],
    ['multi-line plain scalars', 'a: one\n  two\n'],
    ['multi-line quoted scalars', 'a: "one\n  two"\n'],
    ['keep chomping', 'a: |+\n  x\n\n'],
    ['explicit keys', '? a\n: 1\n'],
    ['quoted keys', '"a": 1\n'],
    ['non-text keys', '1: a\ntrue: b\n'],
    ['a __proto__ key', '__proto__: {polluted: 1}\n'],
    ['a key then a nested mapping on the same line', 'a: b: c\n'],
    ['a top-level sequence', '- a\n- b\n'],
    ['an empty document', '# nothing\n'],
  ])('declines %s, and the loader still gives what yaml gives', (_what, text) => {
    expect(fastParseYaml(text)).toBeUndefined();
    expect(load(text)).toEqual(load(text, { fast: false }));
  });
});
