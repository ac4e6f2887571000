import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { drillbook, ROOT } from '../helpers/cli.js';

describe('drillbook validate', () => {
  it('exits 0 on the shipped runbooks', async () => {
    const r = await drillbook(['validate', 'runbooks/']);
    expect(r.stdout).toMatch(/runbooks? checked: (\d+) valid, 0 invalid/);
    expect(r.exitCode).toBe(0);
  });

  it('exits 1 and prints file:line:col for an invalid runbook', async () => {
    const r = await drillbook(['validate', 'test/fixtures/invalid/14-unknown-database.yaml']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('test/fixtures/invalid/14-unknown-database.yaml:14:19: unknown database "prd" (did you mean "prod"?)');
  });

  it('never prints a stack trace, whatever the runbook', async () => {
    const r = await drillbook(['validate', 'test/fixtures/invalid/', 'no/such/file.yaml', 'test/fixtures']);
    const all = `${r.stdout}\n${r.stderr}`;
    expect(all).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(all).not.toMatch(/Error:|TypeError|ZodError/);
    expect(all).toContain('no/such/file.yaml:1:1: cannot read runbook: no such file');
    expect(r.exitCode).toBe(1);
  });

  it('--json reports each file with its problems', async () => {
    const r = await drillbook(['validate', '--json', 'runbooks/prisma-failed-migration.yaml', 'test/fixtures/invalid/02-duplicate-key.yaml']);
    const report = JSON.parse(r.stdout) as Array<{ file: string; valid: boolean; problems: Array<{ line: number; col: number; message: string }> }>;
    expect(report.map((f) => f.valid)).toEqual([true, false]);
    expect(report[1]!.problems[0]).toMatchObject({ line: 4, col: 1, severity: 'error' });
    expect(r.exitCode).toBe(1);
  });

  it('exits 0 with warnings only, and shows them', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drillbook-validate-'));
    const file = path.join(dir, 'warn.yaml');
    writeFileSync(file, `id: w
title: W
version: 1
inputs:
  pw: {secret: true, default: hunter2}
phases:
  - {id: p, title: P, kind: other, steps: [{id: s, title: S, checklist: [done]}]}
`);
    const r = await drillbook(['validate', file]);
    expect(r.stdout).toContain(`${file}:5:31: warning: input "pw" is secret but has a default`);
    expect(r.exitCode).toBe(0);
  });

  it('exits 2 on usage errors', async () => {
    expect((await drillbook(['validate'])).exitCode).toBe(2);
    expect((await drillbook(['validate', '--bogus', 'x'])).exitCode).toBe(2);
  });
});

describe('drillbook commands', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await drillbook(['--version']);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('an unknown command prints short usage and exits 2', async () => {
    const r = await drillbook(['frobnicate']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    expect(r.stderr).toContain('drillbook help');
  });

  it('help lists the commands', async () => {
    const r = await drillbook(['help']);
    expect(r.exitCode).toBe(0);
    for (const c of ['validate', 'list', 'schema']) expect(r.stdout).toContain(c);
  });

  it('list shows the shipped runbooks, as JSON too', async () => {
    const r = await drillbook(['list', '--json']);
    const entries = JSON.parse(r.stdout) as Array<{ id: string; path: string }>;
    expect(entries.map((e) => e.id)).toContain('prisma-failed-migration');
    const table = await drillbook(['list']);
    expect(table.stdout).toMatch(/^ID\s+TITLE\s+TAGS\s+PATH$/m);
    expect(table.stdout).toMatch(/prisma-failed-migration\s+Resolve a failed Prisma migration/);
  });

  it('list also finds runbooks under ./runbooks of the current directory', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drillbook-list-'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'runbooks'));
    writeFileSync(path.join(dir, 'runbooks', 'team.yaml'), 'id: team-runbook\ntitle: Team runbook\nversion: 1\ntags: [ours]\nphases:\n  - {id: p, title: P, kind: other, steps: [{id: s, title: S, checklist: [done]}]}\n');
    const r = await drillbook(['list', '--json'], { cwd: dir });
    const entries = JSON.parse(r.stdout) as Array<{ id: string; tags: string[]; origin: string }>;
    expect(entries.find((e) => e.id === 'team-runbook')).toMatchObject({ tags: ['ours'], origin: 'local' });
    expect(entries.some((e) => e.id === 'prisma-failed-migration')).toBe(true);
  });

  it('schema prints the JSON Schema, the same as the committed schema file', async () => {
    const r = await drillbook(['schema']);
    const schema = JSON.parse(r.stdout) as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['id', 'title', 'phases', 'inputs', 'databases', 'rehearsal']));
    expect(schema.required).toEqual(expect.arrayContaining(['id', 'title', 'version', 'phases']));
    expect(readFileSync(path.join(ROOT, 'schema', 'runbook.schema.json'), 'utf8')).toBe(`${r.stdout}\n`);
  });
});

describe('README', () => {
  it('shows the literal --help of every command', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const cmd of ['', 'drill', 'run', 'resume', 'diagnose', 'init', 'report', 'verify', 'validate', 'list', 'schema']) {
      const r = await drillbook(cmd ? [cmd, '--help'] : ['--help'], { env: { COLUMNS: '100' } });
      expect(readme, `drillbook ${cmd} --help is not in README.md: run node scripts/readme.mjs`).toContain(r.stdout.trimEnd());
    }
  });

  it('names the first command and the test command', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('npm ci && npx drillbook drill');
    expect(readme).toContain('npm test');
  });
});

describe('a folder of runbooks with a bad neighbour', () => {
  function folder(files: Record<string, string>): string {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'drillbook-folder-'));
    const dir = path.join(cwd, 'runbooks');
    mkdirSync(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    return cwd;
  }
  const ok = (id: string) => `id: ${id}\ntitle: Runbook ${id}\nversion: 1\nphases:\n  - id: p\n    title: P\n    kind: verify\n    steps:\n      - {id: s, title: Say hi, run: echo hi-from-${id}, effect: read-only}\n`;
  const bomb = readFileSync(path.join(ROOT, 'test', 'fixtures', 'invalid', '31-alias-bomb.yaml'), 'utf8');

  it('an alias bomb is refused with file:line:col; list and run of the other runbooks still work', async () => {
    const cwd = folder({ 'bomb.yaml': bomb, 'fine.yaml': ok('fine') });
    const list = await drillbook(['list'], { cwd });
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toContain('fine ');
    expect(list.stderr).toMatch(/runbooks\/bomb\.yaml:11:28: too many YAML aliases/);
    const run = await drillbook(['run', 'fine', '--auto'], { cwd, env: { CI: 'true' } });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('hi-from-fine');
    const v = await drillbook(['validate', 'runbooks/bomb.yaml'], { cwd });
    expect(v.exitCode).toBe(1);
    expect(v.stdout).toContain('runbooks/bomb.yaml:11:28: too many YAML aliases (more than 50)');
    expect(`${v.stdout}${v.stderr}`).not.toMatch(/bug in drillbook|ReferenceError/);
  });

  it('two files with one id: an error naming both, never a silent pick', async () => {
    const cwd = folder({ 'a.yaml': ok('same'), 'b.yaml': ok('same'), 'other.yaml': ok('other') });
    for (const args of [['run', 'same', '--auto'], ['drill', 'same', '--auto']]) {
      const r = await drillbook(args, { cwd, env: { CI: 'true' } });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/runbook id "same" is declared by more than one file: .*runbooks\/a\.yaml and .*runbooks\/b\.yaml/);
      expect(r.stdout).not.toContain('hi-from-same');
    }
    const list = await drillbook(['list'], { cwd });
    expect(list.stdout).toContain('other ');
    expect(list.stdout).not.toMatch(/^same /m);
    expect(list.stderr).toMatch(/a\.yaml:1:1: runbook id "same" is also the id of .*b\.yaml/);
    const v = await drillbook(['validate', 'runbooks'], { cwd });
    expect(v.exitCode).toBe(1);
    expect(v.stdout).toContain('runbooks/a.yaml:1:1: runbook id "same" is also the id of runbooks/b.yaml');
    expect(v.stdout).toContain('runbooks/b.yaml:1:1: runbook id "same" is also the id of runbooks/a.yaml');
  });
});
