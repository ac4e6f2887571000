import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { drillBase } from '../../src/adapters/drill-db.js';
import { execa } from 'execa';
import { BIN, drillbook, ROOT } from '../helpers/cli.js';
import { findPrismaEngine } from '../../src/drill/tools.js';
import { tempDir } from '../helpers/tmp.js';

const ENGINE = !('reason' in findPrismaEngine(path.join(ROOT, 'node_modules', 'prisma'), [ROOT]));

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'runbooks', 'drill-fixture.yaml');

const cwd = (): string => tempDir('drilltest');

function drillLeftovers(): string[] {
  const dirs = [os.tmpdir(), drillBase()];
  return [...new Set(dirs)].flatMap((d) => readdirSync(d).filter((f) => f.startsWith('drillbook-drill-') || f.startsWith('drillbook-scratch-')).map((f) => path.join(d, f)));
}

function postgresProcesses(): string[] {
  try {
    return execFileSync('pgrep', ['-af', 'drillbook-drill-'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function events(dir: string): Array<{ type: string; step?: string; mode?: string; name?: string; pass?: boolean; kind?: string }> {
  const t = path.join(dir, 'transcripts');
  const f = readdirSync(t).find((x) => x.endsWith('.jsonl'))!;
  return readFileSync(path.join(t, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
}

describe('drillbook drill', () => {
  it('--auto starts the database, seeds it, runs the runbook, verifies, scores, and leaves nothing behind', async () => {
    const before = new Set(drillLeftovers());
    const servers = new Set(postgresProcesses());
    const dir = cwd();
    const r = await drillbook(['drill', FIXTURE, '--auto'], { cwd: dir, env: { CI: 'true' } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/drill: drill-fixture: database ready and seeded in \d+\.\ds on 127\.0\.0\.1:\d+/);
    expect(r.stdout).toContain('TARGET prod: REHEARSAL  postgres@127.0.0.1');
    // auto: the real prisma where it can run offline (drillbook's devDependencies and prisma-wasm-engine), else the stand-in.
    expect(r.stdout).toMatch(ENGINE ? /drill: tools: prisma 7\.10\.1 \(real\)/ : /drill: tools: prisma \(stand-in\)[\s\S]*drillbook stand-in for prisma/);
    expect(r.stdout).toContain('**Incident fixed: yes** (run completed; 2/2 success checks pass)');
    const ev = events(dir);
    expect(ev.filter((e) => e.type === 'rehearsal.tool').map((e) => e.kind)).toEqual([ENGINE ? 'real' : 'stand-in']);
    expect(ev[0]).toMatchObject({ type: 'run.started', mode: 'rehearsal' });
    expect(ev.filter((e) => e.type === 'rehearsal.check').map((e) => e.pass)).toEqual([true, true]);
    const report = readFileSync(path.join(dir, 'transcripts', readdirSync(path.join(dir, 'transcripts')).find((f) => f.endsWith('.md'))!), 'utf8');
    expect(report).toContain('## Debrief');
    expect(report).toContain('**REHEARSAL**');
    // Other test files run drills at the same time: look for what this drill made (its scratch
    // folder and its server, found by its port), and for new drill folders no live server uses.
    const scratch = /working directory (\S+)\/project/.exec(r.stdout)![1]!;
    const port = /on 127\.0\.0\.1:(\d+)/.exec(r.stdout)![1]!;
    expect(existsSync(scratch)).toBe(false);
    expect(postgresProcesses().filter((p) => !servers.has(p) && p.includes(` -p ${port} `))).toEqual([]);
    const live = postgresProcesses().join('\n');
    expect(drillLeftovers().filter((f) => !before.has(f) && f.includes('drillbook-drill-') && !live.includes(f)), JSON.stringify([...before])).toEqual([]);
  }, 60_000);

  it('an aborted drill says how to rehearse again (a drill cannot be resumed)', async () => {
    const r = await drillbook(['drill', FIXTURE, '--plain'], { cwd: cwd(), input: '' });
    expect(r.exitCode, r.stdout + r.stderr).toBe(130);
    expect(r.stdout).toContain('Rehearse it again with: drillbook drill drill-fixture');
    expect(r.stdout).not.toContain('drillbook resume');
  }, 60_000);

  it('Ctrl-C in a drill says the drill ends and how to rehearse again, never "resume"', async () => {
    const child = execa(process.execPath, [BIN, 'drill', FIXTURE, '--plain'], { cwd: cwd(), env: { CI: 'true', NO_COLOR: '1' }, reject: false, stdin: 'pipe' });
    let out = '';
    let pressed = false;
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (!pressed && out.includes('Run step status?')) {
        pressed = true;
        child.kill('SIGINT');
      }
    });
    const r = await child;
    expect(pressed, out).toBe(true);
    expect(r.stderr).toContain('interrupted: stopping the step in progress; the drill ends here (rehearse again with drillbook drill drill-fixture)');
    expect(`${r.stdout}${r.stderr}`).not.toContain('drillbook resume');
  }, 60_000);

  it('refuses any --db: a drill never touches a real database', async () => {
    const r = await drillbook(['drill', FIXTURE, '--auto', '--db', 'prod=postgresql://app:pw@db.example.com/app'], { cwd: cwd() });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('a drill runs only against the throwaway PostgreSQL it starts itself');
  });

  it('an unknown fault or variant is a usage error', async () => {
    expect((await drillbook(['drill', FIXTURE, '--auto', '--fault', 'meteor'], { cwd: cwd() })).stderr).toContain('unknown fault "meteor"');
    const v = await drillbook(['drill', FIXTURE, '--auto', '--variant', 'nope'], { cwd: cwd() });
    expect(v.stderr).toContain('has no rehearsal variant "nope"');
    expect(v.exitCode).toBe(2);
  });

  it('without a runbook and without a terminal, lists the runbooks to choose from', async () => {
    const r = await drillbook(['drill'], { cwd: cwd() });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('name the runbook to rehearse: drillbook drill <id>');
    expect(r.stderr).toContain('prisma-failed-migration');
  });
});

describe('faults a game master injects', () => {
  it.each([
    ['db-restart', /the database server restarts now, after \S+, in the middle of phase \w+/],
    ['statement-hang', /a lock held by another session made the statement wait until its statement_timeout/],
    ['command-fails-once', /the command of this step fails once instead of running/],
  ])('%s: the drill survives it, and the transcript records it', async (fault, detail) => {
    const dir = cwd();
    const r = await drillbook(['drill', FIXTURE, '--auto', '--fault', fault], { cwd: dir, env: { CI: 'true' } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('**Incident fixed: yes**');
    const ev = events(dir);
    const f = ev.find((e) => e.type === 'fault') as { name: string; detail: string } | undefined;
    expect(f?.name).toBe(fault);
    expect(f?.detail).toMatch(detail);
    expect(ev.filter((e) => e.type === 'step.retry').length).toBeGreaterThanOrEqual(1);
    expect(r.stdout).toMatch(/faults 1/);
  }, 60_000);
});

describe('drillbook drill --all --auto', () => {
  it('rehearses every runbook of a folder and prints a summary', async () => {
    const dir = cwd();
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'rb'));
    copyFileSync(FIXTURE, path.join(dir, 'rb', 'drill-fixture.yaml'));
    // The fixture's paths are relative to the runbook file; point them back at the fixtures.
    const text = readFileSync(FIXTURE, 'utf8').replaceAll('../../../runbooks/', `${path.join(ROOT, 'runbooks')}/`);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(dir, 'rb', 'drill-fixture.yaml'), text);
    const r = await drillbook(['drill', '--all', '--auto', '--dir', 'rb'], { cwd: dir, env: { CI: 'true' } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/RUNBOOK\s+\| VARIANT \| OUTCOME\s+\| FIXED \| TIME/);
    expect(r.stdout).toMatch(/drill-fixture \| -\s+\| completed \| yes/);
    expect(r.stdout).toContain('every drill passed');
    expect((await drillbook(['drill', '--all'], { cwd: dir })).stderr).toContain('add --auto');
  }, 60_000);
});
