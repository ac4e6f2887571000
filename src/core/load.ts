/**
 * YAML text → Runbook. Pure: the caller reads the file. Every problem carries file:line:col of the
 * YAML node it is about; nothing here throws on bad input.
 */
import { isAlias, LineCounter, parseDocument, visit, type Document, type YAMLError } from 'yaml';
import type { z } from 'zod';
import type { Problem } from './errors.js';
import { fastParseYaml } from './fast-yaml.js';
import { lintRunbook } from './lint.js';
import type { Runbook } from './runbook.js';
import { runbookSchema } from './schema.js';
import { descriptionAt, enumValuesAt, keysAt } from './schema-walk.js';
import { didYouMean } from './suggest.js';
import { makeLocator, type Locator, type Path } from './yaml-locate.js';

export interface LoadResult {
  runbook: Runbook | undefined;
  problems: Problem[];
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

export interface ParseOptions {
  /** Try the fast YAML parser first (the default; tests compare both paths). */
  fast?: boolean;
}

export function parseRunbook(text: string, file: string, options: ParseOptions = {}): LoadResult {
  if (options.fast !== false) {
    const quick = parseFast(text, file);
    if (quick) return quick;
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true, strict: true });
  const problems: Problem[] = [];

  for (const err of doc.errors) problems.push(yamlProblem(err, file, text, 'error'));
  for (const warn of doc.warnings) problems.push(yamlProblem(warn, file, text, 'warning'));
  if (hasErrors(problems)) return { runbook: undefined, problems };

  const aliases = aliasProblem(doc, lineCounter, file);
  if (aliases) return { runbook: undefined, problems: [...problems, aliases] };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION });
  } catch (e) {
    // The yaml library refuses a document whose aliases expand too far (a "billion laughs").
    const at = firstAlias(doc, lineCounter);
    const why = (e as Error).message;
    const message = /unresolved alias/i.test(why)
      ? `YAML alias with no anchor: ${why.replace(/^.*?unresolved alias/i, 'unresolved alias').toLowerCase()}`
      : `YAML aliases expand too far (${why.toLowerCase()}): a runbook may expand aliases at most ${MAX_ALIAS_EXPANSION} times`;
    return { runbook: undefined, problems: [...problems, { file, ...at, severity: 'error', message }] };
  }
  const locator = makeLocator(doc, lineCounter);
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    problems.push({ file, line: 1, col: 1, severity: 'error', message: 'a runbook is a YAML mapping with id, title, version and phases' });
    return { runbook: undefined, problems };
  }

  const parsed = runbookSchema.safeParse(data);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...schemaProblems(issue, data, file, locator));
    // One pass: what the schema refuses is set aside, and the rest is still linted, so an author
    // sees every problem at once instead of one layer per try.
    problems.push(...lintTheRest(data, parsed.error.issues, file, locator));
    return { runbook: undefined, problems: sortProblems(dedupe(problems)) };
  }
  problems.push(...lintRunbook(parsed.data, file, locator));
  return { runbook: parsed.data, problems: sortProblems(problems) };
}

const PLACEHOLDER = '__drillbook_set_aside';
const placeholderStep = (n: string) => ({ id: `${PLACEHOLDER}-${n}`, title: 'set aside', checklist: ['set aside'] });
const placeholderPhase = (n: string) => ({ id: `${PLACEHOLDER}-${n}`, title: 'set aside', kind: 'other', steps: [placeholderStep(n)] });
const REQUIRED_TOP: Record<string, unknown> = { id: `${PLACEHOLDER}-id`, title: 'set aside', version: '0' };

/**
 * Lint what the schema accepts: each part the schema refuses (a step, a phase, a top-level key) is
 * replaced by a harmless placeholder (keeping every other position where it was), the rest is
 * parsed again, and the linter's findings outside the parts set aside are reported too.
 */
function lintTheRest(data: unknown, firstIssues: readonly Issue[], file: string, loc: Locator): Problem[] {
  const model = structuredClone(data) as Record<string, unknown>;
  const setAside: Array<{ first: number; last: number }> = [];
  let issues = firstIssues;
  for (let round = 0; round < 10; round++) {
    for (const issue of issues) {
      const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        const parent = valueAt(model, path);
        if (parent && typeof parent === 'object') for (const k of issue.keys) delete (parent as Record<string, unknown>)[k];
        continue;
      }
      const phases = model.phases;
      if (path[0] === 'phases' && typeof path[1] === 'number' && Array.isArray(phases) && phases[path[1]] && typeof phases[path[1]] === 'object') {
        const phase = phases[path[1]] as Record<string, unknown>;
        if (path[2] === 'steps' && typeof path[3] === 'number' && Array.isArray(phase.steps) && path.length > 4) {
          phase.steps[path[3]] = placeholderStep(`${path[1]}-${path[3]}`);
          const lines = loc.lines(path.slice(0, 4));
          if (lines) setAside.push(lines);
          continue;
        }
        phases[path[1]] = placeholderPhase(String(path[1]));
        const lines = loc.lines(path.slice(0, 2));
        if (lines) setAside.push(lines);
        continue;
      }
      const top = path[0];
      if (typeof top === 'string') {
        if (top === 'phases') model.phases = [placeholderPhase('all')];
        else if (top in REQUIRED_TOP) model[top] = REQUIRED_TOP[top];
        else delete model[top];
        const lines = loc.lines([top]);
        if (lines) setAside.push(lines);
      } else {
        for (const [k, v] of Object.entries(REQUIRED_TOP)) if (typeof model[k] !== 'string') model[k] = v;
        if (!Array.isArray(model.phases)) model.phases = [placeholderPhase('all')];
      }
    }
    const again = runbookSchema.safeParse(model);
    if (again.success) {
      const inside = (line: number) => setAside.some((r) => line >= r.first && line <= r.last);
      return lintRunbook(again.data, file, loc).filter((p) => !inside(p.line) && !p.message.includes(PLACEHOLDER));
    }
    issues = again.error.issues;
  }
  return [];
}

/** A guard against alias bombs: how many alias nodes a runbook may hold, and how far they may expand. */
export const MAX_ALIASES = 50;
const MAX_ALIAS_EXPANSION = 100;

function firstAlias(doc: Document, lineCounter: LineCounter): { line: number; col: number } {
  let at = { line: 1, col: 1 };
  visit(doc, {
    Alias(_key, node) {
      if (node.range) at = lineCounter.linePos(node.range[0]);
      return visit.BREAK;
    },
  });
  return at;
}

/** A runbook with more alias nodes than any runbook needs is refused before it is expanded. */
function aliasProblem(doc: Document, lineCounter: LineCounter, file: string): Problem | undefined {
  let count = 0;
  let at: { line: number; col: number } | undefined;
  visit(doc, (_key, node) => {
    if (!isAlias(node)) return undefined;
    count++;
    if (count > MAX_ALIASES) {
      at = node.range ? lineCounter.linePos(node.range[0]) : { line: 1, col: 1 };
      return visit.BREAK;
    }
    return undefined;
  });
  return at ? { file, ...at, severity: 'error', message: `too many YAML aliases (more than ${MAX_ALIASES}): refused as a guard against alias bombs; write the values out` } : undefined;
}

/**
 * The fast path, for a runbook in everyday YAML that matches the schema: `yaml`'s document (with
 * the positions of every node) is built only if a lint problem needs a position. Anything else
 * (YAML the fast parser declines, a schema problem) takes the full path, which places each problem.
 */
function parseFast(text: string, file: string): LoadResult | undefined {
  const fast = fastParseYaml(text);
  if (!fast) return undefined;
  const parsed = runbookSchema.safeParse(fast.value);
  if (!parsed.success) return undefined;
  let located: Locator | undefined;
  const locator = (): Locator => {
    if (!located) {
      const lineCounter = new LineCounter();
      located = makeLocator(parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true, strict: true }), lineCounter);
    }
    return located;
  };
  const lazy: Locator = { value: (p) => locator().value(p), key: (p) => locator().key(p), has: (p) => locator().has(p), lines: (p) => locator().lines(p) };
  return { runbook: parsed.data, problems: sortProblems(lintRunbook(parsed.data, file, lazy)) };
}

function yamlProblem(err: YAMLError, file: string, text: string, severity: Problem['severity']): Problem {
  const at = err.linePos?.[0] ?? { line: 1, col: 1 };
  let message = (err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '');
  if (err.code === 'DUPLICATE_KEY') {
    const key = /^[^:\n]*/.exec(text.slice(err.pos[0]))?.[0]?.trim();
    message = key ? `duplicate key "${key}": each key may appear once in a mapping` : 'duplicate key in a mapping';
  } else {
    message = `YAML syntax: ${message.charAt(0).toLowerCase()}${message.slice(1)}`;
  }
  return { file, line: at.line, col: at.col, severity, message };
}

function valueAt(data: unknown, path: Path): unknown {
  let cur: unknown = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the text "${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return `${typeof v === 'number' ? 'the number' : 'the value'} ${String(v)}`;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function label(path: Path): string {
  for (let i = path.length - 1; i >= 0; i--) {
    const seg = path[i];
    if (typeof seg === 'string') {
      const idx = path[i + 1];
      return typeof idx === 'number' ? `item ${idx + 1} of "${seg}"` : `"${seg}"`;
    }
  }
  return 'the runbook';
}

type Issue = z.core.$ZodIssue;

function schemaProblems(issue: Issue, data: unknown, file: string, loc: Locator): Problem[] {
  const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
  const at = (p: Path, key = false) => ({ file, severity: 'error' as const, ...(key ? loc.key(p) : loc.value(p)) });
  const actual = valueAt(data, path);

  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = keysAt(runbookSchema, path);
      return issue.keys.map((k) => ({
        ...at([...path, k], true),
        message: `unknown key "${k}"${didYouMean(k, allowed)}${allowed.length ? `; allowed here: ${allowed.filter((a) => a !== '$schema').join(', ')}` : ''}`,
      }));
    }
    case 'invalid_type': {
      if (actual === undefined) {
        const parent = path.slice(0, -1);
        return [{ ...at(parent), message: `missing required key ${label(path)}${parent.length ? ` in ${label(parent)}` : ''}` }];
      }
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return [{ ...at(path), message: `${label(path)} must be ${expected}, not ${typeName(actual)}` }];
    }
    case 'invalid_value': {
      const allowed = enumValuesAt(runbookSchema, path);
      const list = allowed.length ? allowed : issue.values.map(String);
      return [{
        ...at(path),
        message: `${label(path)} must be one of: ${list.join(', ')}; got ${typeName(actual)}${typeof actual === 'string' ? didYouMean(actual, list) : ''}`,
      }];
    }
    case 'invalid_format':
      return [{ ...at(path), message: `${label(path)} ${issue.message}; got ${typeName(actual)}` }];
    case 'too_small': {
      if (issue.origin === 'array') return [{ ...at(path), message: `${label(path)} must have at least ${String(issue.minimum)} item(s)` }];
      if (issue.origin === 'string') return [{ ...at(path), message: `${label(path)} must not be empty` }];
      return [{ ...at(path), message: `${label(path)} must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}` }];
    }
    case 'invalid_union': {
      // Report the branch that got furthest when one clearly did; otherwise describe the allowed forms.
      const branches = issue.errors.filter((b) => b.length > 0);
      const deep = branches.find((b) => b.every((i) => i.path.length > 0 && i.code !== 'invalid_type'));
      if (deep) return deep.flatMap((i) => schemaProblems({ ...i, path: [...issue.path, ...i.path] } as Issue, data, file, loc));
      const types = issue.errors.map((b) => (b.length === 1 && b[0]!.code === 'invalid_type' && b[0]!.path.length === 0 ? b[0]!.expected : undefined));
      if (types.every((t) => t !== undefined && t !== 'object')) {
        const names = [...new Set(types.map((t) => EXPECTED[t!] ?? t!))];
        return [{ ...at(path), message: `${label(path)} must be ${names.join(' or ')}, not ${typeName(actual)}` }];
      }
      const described = descriptionAt(runbookSchema, path);
      return [{ ...at(path), message: `${label(path)} has the wrong form (${typeName(actual)})${described ? `: ${described}` : ''}` }];
    }
    default:
      return [{ ...at(path), message: `${label(path)}: ${issue.message}` }];
  }
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.line}:${p.col}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort((a, b) => a.line - b.line || a.col - b.col);
}
