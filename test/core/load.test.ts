import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/core/errors.js';
import { hasErrors, parseRunbook } from '../../src/core/load.js';
import { ROOT } from '../helpers/cli.js';

const invalidDir = path.join(ROOT, 'test', 'fixtures', 'invalid');
const fixtures = readdirSync(invalidDir).filter((f) => f.endsWith('.yaml')).sort();

describe('malformed runbooks', () => {
  it('has a corpus of at least 25 cases', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(25);
  });

  it.each(fixtures)('%s reports its expected file:line:col and message', (name) => {
    const file = path.join('test', 'fixtures', 'invalid', name);
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    const expected = /^# expect: (.*)$/m.exec(text)?.[1];
    expect(expected, 'fixture declares its expectation on line 1').toBeDefined();
    const { runbook, problems } = parseRunbook(text, file);
    expect(hasErrors(problems)).toBe(true);
    const lines = problems.map(formatProblem);
    expect(lines.some((l) => l.startsWith(`${file}:${expected}`)), `got:\n${lines.join('\n')}`).toBe(true);
    if (runbook !== undefined) expect(problems.some((p) => p.severity === 'error')).toBe(true);
  });
});

describe('valid runbooks', () => {
  const minimal = `id: ok
title: OK
version: 1
databases:
  db: {url: {env: DATABASE_URL}, environment: development}
phases:
  - id: verify
    title: Verify
    kind: verify
    steps:
      - {id: one, title: One, check: SELECT 1, expect: {value: 1}}
`;

  it('loads a minimal runbook with no problems and derives the single database as default', () => {
    const { runbook, problems } = parseRunbook(minimal, 'ok.yaml');
    expect(problems).toEqual([]);
    expect(runbook?.version).toBe('1');
    expect(runbook?.phases[0]?.steps[0]?.check).toBe('SELECT 1');
  });

  it('reports warnings without making the runbook invalid', () => {
    const text = minimal.replace('{id: one, title: One, check: SELECT 1, expect: {value: 1}}', '{id: one, title: One, check: SELECT 1, params: [x]}')
      .replace('databases:', 'inputs:\n  x: {description: X}\ndatabases:');
    const { runbook, problems } = parseRunbook(text, 'warn.yaml');
    expect(runbook).toBeDefined();
    expect(hasErrors(problems)).toBe(false);
    expect(problems.map(formatProblem)).toEqual([expect.stringMatching(/^warn\.yaml:\d+:\d+: warning: 1 parameter\(s\) given but the SQL uses none/)]);
  });

  it('warns when nothing proves a destructive step\'s rollback worked, and not once a check does', () => {
    const runbook = `id: rb
title: RB
version: 1
databases:
  prod: {url: {env: DATABASE_URL}, environment: production, default: true}
phases:
  - id: p
    title: P
    kind: deploy
    steps:
      - {id: change, title: Change, sql: UPDATE t SET a = 1, rollback: undo}
  - id: r
    title: R
    kind: rollback
    steps:
      - {id: undo, title: Undo, sql: UPDATE t SET a = 0}
`;
    const { problems } = parseRunbook(runbook, 'rb.yaml');
    expect(problems.map(formatProblem)).toEqual(['rb.yaml:11:62: warning: nothing proves the rollback of "change" worked: give "undo" an expect, or end the rollback phase with a check']);
    const proven = `${runbook}      - {id: as-before, title: As before, check: SELECT count(*) FROM t WHERE a = 0, expect: {value: 1}}\n`;
    expect(parseRunbook(proven, 'rb.yaml').problems).toEqual([]);
  });

  it('ignores $N inside SQL string literals and comments when counting parameters', () => {
    const text = minimal.replace('check: SELECT 1', `check: "SELECT '$5' -- $7"`);
    expect(hasErrors(parseRunbook(text, 'lit.yaml').problems)).toBe(false);
  });
});

describe('docs/runbook-format.md', () => {
  it('its annotated example is a valid runbook', () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'runbook-format.md'), 'utf8');
    const example = /## An annotated example\n\n```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const { runbook, problems } = parseRunbook(example!, 'example.yaml');
    expect(problems.map(formatProblem)).toEqual([]);
    expect(runbook?.phases.map((p) => p.kind)).toEqual(['prepare', 'mark-applied', 'rollback']);
  });
});

describe('docs/runbook-format.md: Reference', () => {
  it('documents every object of the schema in a table listing all its keys', () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'runbook-format.md'), 'utf8');
    const reference = doc.slice(doc.indexOf('## Reference: every field'));
    expect(reference.length).toBeGreaterThan(100);
    const tables = reference.split(/\n#### /).slice(1).map((block) => new Set([...block.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!)));
    const schema = JSON.parse(readFileSync(path.join(ROOT, 'schema', 'runbook.schema.json'), 'utf8')) as Record<string, unknown>;
    const objects: string[][] = [];
    const walk = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      if (o.properties && typeof o.properties === 'object') objects.push(Object.keys(o.properties));
      for (const v of Object.values(o)) {
        if (Array.isArray(v)) v.forEach(walk);
        else walk(v);
      }
    };
    walk(schema);
    expect(objects.length).toBeGreaterThan(10);
    const undocumented = objects.filter((keys) => !tables.some((t) => keys.every((k) => t.has(k)))).map((keys) => keys.join(', '));
    expect(undocumented).toEqual([]);
  });
});
