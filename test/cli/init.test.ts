/**
 * drillbook init through the bundled CLI: it writes the runbooks that fit a project (adapted to
 * its paths), the JSON Schema beside them and a README; `validate runbooks/` passes on the result,
 * `list` shows them, a drill of one rehearses on the project itself and leaves it as it was;
 * existing files are never overwritten without asking.
 */
import { cpSync, existsSync, lstatSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { drillbook, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const PROJECTS = path.join(ROOT, 'test', 'fixtures', 'projects');
const NO_STACK = /\n\s+at [\w.<]+ \(|node:internal|unexpected error/;
const tmp = (): string => tempDir('init');
function copyOf(name: string): string {
  const d = path.join(tmp(), name);
  cpSync(path.join(PROJECTS, name), d, { recursive: true });
  return d;
}
function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      h.update(`${path.relative(dir, p)} ${st.mode}\n`);
      if (st.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

const PRISMA_RUNBOOKS = ['postgres-invalid-index', 'prisma-deploy-before-code', 'prisma-failed-migration', 'prisma-history-mismatch', 'prisma-phantom-failed-pending'];

describe('drillbook init', () => {
  it('writes the Prisma runbooks that fit a Prisma 7 project, the schema and a README; validate passes, list shows them', async () => {
    const project = copyOf('prisma-shop');
    const r = await drillbook(['init'], { cwd: project });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Prisma project ${project} (prisma.config.ts): 7 migrations in prisma/migrations`);
    expect(r.stdout).toContain(`wrote runbooks/: ${PRISMA_RUNBOOKS.map((id) => `${id}.yaml`).join(', ')}, runbook.schema.json, README.md`);
    expect(readdirSync(path.join(project, 'runbooks')).sort()).toEqual([...PRISMA_RUNBOOKS.map((id) => `${id}.yaml`), 'README.md', 'runbook.schema.json'].sort());

    const v = await drillbook(['validate', 'runbooks/'], { cwd: project });
    expect(v.exitCode, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^5 runbooks checked: 5 valid, 0 invalid$/m);
    const list = await drillbook(['list', '--json'], { cwd: project });
    const local = (JSON.parse(list.stdout) as Array<{ id: string; path: string }>).filter((e) => e.path.startsWith(path.join(project, 'runbooks')));
    expect(local.map((e) => e.id).sort()).toEqual(PRISMA_RUNBOOKS);

    // Editors: the modeline points at the schema beside the runbooks, which is drillbook's own.
    for (const id of PRISMA_RUNBOOKS) {
      const text = readFileSync(path.join(project, 'runbooks', `${id}.yaml`), 'utf8');
      expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=runbook.schema.json');
      expect(text).toContain('  workdir: ..\n');
      expect(text).not.toMatch(/fixtures\/|fixture: true/);
    }
    const schema = await drillbook(['schema']);
    expect(readFileSync(path.join(project, 'runbooks', 'runbook.schema.json'), 'utf8')).toBe(`${schema.stdout.trimEnd()}\n`);
    const readme = readFileSync(path.join(project, 'runbooks', 'README.md'), 'utf8');
    expect(readme).toContain('# Runbooks for prisma-shop');
    expect(readme).toContain('| [prisma-failed-migration](prisma-failed-migration.yaml) | Resolve a failed Prisma migration (P3009) | `drillbook drill prisma-failed-migration` |');
    expect(readme).toContain('drillbook validate runbooks/');
    expect(readme).toContain('--from-dump schema.sql');
  });

  it('a runbook it wrote rehearses on the project itself, from the project\'s root, and leaves it as it was', async () => {
    const project = copyOf('prisma-shop');
    expect((await drillbook(['init'], { cwd: project })).exitCode).toBe(0);
    const before = treeHash(project);
    const out = tmp();
    const r = await drillbook(['drill', 'prisma-failed-migration', '--auto', '--transcript-dir', out], { cwd: project, env: { CI: 'true' } });
    expect(r.exitCode, r.stdout.slice(-3000) + r.stderr).toBe(0);
    expect(r.stdout).toContain(`drill: project ${project} (prisma, prisma.config.ts): 7 migrations in prisma/migrations`);
    expect(r.stdout).toContain('drill: inputs from the staged incident: failed_migration=20250429154418_coupons');
    expect(r.stdout).toContain('**Incident fixed: yes**');
    expect(treeHash(project)).toBe(before);
  }, 120_000);

  it('adapts the runbooks to a project whose migrations are elsewhere; validate passes and the drill runs there', async () => {
    const project = copyOf('prisma-shop');
    renameSync(path.join(project, 'prisma', 'migrations'), path.join(project, 'db-migrations'));
    writeFileSync(path.join(project, 'prisma.config.ts'), readFileSync(path.join(project, 'prisma.config.ts'), 'utf8').replace("path: 'prisma/migrations'", "path: 'db-migrations'"));
    const r = await drillbook(['init'], { cwd: project });
    expect(r.exitCode, r.stderr).toBe(0);
    const text = readFileSync(path.join(project, 'runbooks', 'prisma-history-mismatch.yaml'), 'utf8');
    expect(text).not.toContain('prisma/migrations');
    expect(text).toContain('migrations: {tool: prisma, dir: db-migrations, expect: in-sync}');
    expect((await drillbook(['validate', 'runbooks/'], { cwd: project })).exitCode).toBe(0);
    const d = await drillbook(['drill', 'prisma-history-mismatch', '--auto', '--transcript-dir', tmp()], { cwd: project, env: { CI: 'true' } });
    expect(d.exitCode, d.stdout.slice(-3000) + d.stderr).toBe(0);
    expect(d.stdout).toContain('7 migrations in db-migrations');
    expect(d.stdout).toContain('kept in remote-branch/db-migrations, made up by drillbook');
  }, 120_000);

  it('writes the Drizzle runbook for a Drizzle project; the others do not concern it', async () => {
    const project = copyOf('drizzle-pulse');
    const r = await drillbook(['init', project], { cwd: tmp() });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readdirSync(path.join(project, 'runbooks')).sort()).toEqual(['README.md', 'drizzle-untracked-push.yaml', 'runbook.schema.json']);
    expect((await drillbook(['validate', path.join(project, 'runbooks')])).stdout).toMatch(/^1 runbook checked: 1 valid, 0 invalid$/m);
  });

  it('never overwrites a file without asking: without a terminal it refuses, names every file, writes nothing; --force overwrites', async () => {
    const project = copyOf('prisma-shop');
    expect((await drillbook(['init'], { cwd: project })).exitCode).toBe(0);
    writeFileSync(path.join(project, 'runbooks', 'prisma-failed-migration.yaml'), '# mine\n');
    rmSync(path.join(project, 'runbooks', 'README.md'));
    const before = treeHash(project);
    const r = await drillbook(['init'], { cwd: project });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`drillbook: these files exist and would be overwritten: ${PRISMA_RUNBOOKS.map((id) => `runbooks/${id}.yaml`).join(', ')}, runbooks/runbook.schema.json; nothing was written`);
    expect(r.stderr).toContain('hint: no terminal to ask: move them aside, or run again with --force to overwrite them');
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(treeHash(project)).toBe(before);
    expect(existsSync(path.join(project, 'runbooks', 'README.md'))).toBe(false);
    const f = await drillbook(['init', '--force'], { cwd: project });
    expect(f.exitCode, f.stderr).toBe(0);
    expect(f.stdout).toContain('(overwrote ');
    expect(readFileSync(path.join(project, 'runbooks', 'prisma-failed-migration.yaml'), 'utf8')).toMatch(/^# yaml-language-server/);
  });

  it('a folder with no project is refused with what it looked for, writing nothing', async () => {
    const empty = tmp();
    const r = await drillbook(['init'], { cwd: empty });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`drillbook: no recognisable project in ${empty}: looked for prisma.config.ts`);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect(readdirSync(empty)).toEqual([]);
  });
});
