/**
 * The transcript as a record that survives abuse: cut, emptied or re-sealed files, two processes on
 * one run, a full disk, a folder that cannot be written. Real processes, real PostgreSQL.
 */
import { execa } from 'execa';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENESIS, sealLine, verifyChain } from '../../src/core/chain.js';
import type { Recorded } from '../../src/core/events.js';
import { processStart } from '../../src/adapters/run-lock.js';
import { BIN, drillbook, ROOT } from '../helpers/cli.js';
import { freshDatabase, sql } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';

const RESUME = path.join(ROOT, 'test', 'fixtures', 'runbooks', 'resume-fixture.yaml');

async function setup(slowCheck = false) {
  const { url, name } = await freshDatabase('record');
  await sql(url, `CREATE TABLE log (id serial primary key, what text); CREATE TABLE flags (slow boolean); INSERT INTO flags VALUES (${slowCheck})`);
  const cwd = tempDir('record');
  writeFileSync(path.join(cwd, 'fast'), '');
  return { url, name, cwd, env: { DATABASE_URL: url, CI: 'true', NO_COLOR: '1' } };
}

function transcriptOf(cwd: string): string {
  const dir = path.join(cwd, 'transcripts');
  return path.join(dir, readdirSync(dir).find((f) => f.endsWith('.jsonl'))!);
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

function events(file: string): Array<Recorded & { hash: string; prev: string }> {
  return lines(file).map((l) => JSON.parse(l) as Recorded & { hash: string; prev: string });
}

async function logOf(url: string): Promise<string[]> {
  return (await sql(url, 'SELECT what FROM log ORDER BY id')).rows.map((r: { what: string }) => r.what);
}

/** A finished run of the resume fixture: its transcript. */
async function finishedRun() {
  const s = await setup();
  const r = await drillbook(['run', RESUME, '--auto', '--confirm-target', s.name], { cwd: s.cwd, env: s.env });
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  return { ...s, file: transcriptOf(s.cwd) };
}

/** Start the CLI and SIGKILL it once its transcript holds an event matching `when`. */
async function killWhen(cwd: string, env: Record<string, string>, args: string[], when: (e: { type: string; step?: string }) => boolean) {
  const child = execa(process.execPath, [BIN, ...args], { cwd, env, reject: false, stdin: 'ignore' });
  for (let i = 0; i < 400; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const dir = path.join(cwd, 'transcripts');
    const f = existsSync(dir) ? readdirSync(dir).find((x) => x.endsWith('.jsonl')) : undefined;
    if (!f) continue;
    if (lines(path.join(dir, f)).map((l) => JSON.parse(l) as { type: string; step?: string }).some(when)) {
      child.kill('SIGKILL');
      await child;
      return;
    }
  }
  child.kill('SIGKILL');
  throw new Error(`the event never came: ${(await child).stdout}`);
}

const noStack = (text: string) => {
  expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(text).not.toContain('bug in drillbook');
};

describe('verify says what the file can prove', () => {
  it('a finished run is sealed; its last hash anchors it', async () => {
    const { cwd, file } = await finishedRun();
    const all = events(file);
    expect(all.at(-1)).toMatchObject({ type: 'transcript.sealed', outcome: 'completed', events: all.length });
    const v = await drillbook(['verify', file, '--hash', all.at(-1)!.hash], { cwd });
    expect(v.exitCode, v.stdout).toBe(0);
    expect(v.stdout).toContain(`OK: ${all.length} events, chain intact, sealed at seq ${all.length} (run completed)`);
    expect(v.stdout).toContain(`ANCHORED: the hash from the ticket is event ${all.length} of ${all.length}`);
  });

  it('a shortened or mistyped hash from the ticket is not checked, and says why (a prefix is too easy to forge)', async () => {
    const { cwd, file } = await finishedRun();
    const last = events(file).at(-1)!.hash;
    const short = await drillbook(['verify', file, '--hash', last.slice(0, 16)], { cwd });
    expect(short.exitCode).toBe(1);
    expect(short.stdout).toContain(`NOT CHECKED: the hash given has 16 hex digits; a full one has ${last.length}`);
    expect(short.stdout).toContain(`event ${events(file).length} begins with it`);
    const typo = await drillbook(['verify', file, '--hash', `${last.slice(0, -1)}z`], { cwd });
    expect(typo.exitCode).toBe(1);
    expect(typo.stdout).toContain('is not a hash');
    const upper = await drillbook(['verify', file, '--hash', ` ${last.toUpperCase()} `], { cwd });
    expect(upper.exitCode, upper.stdout).toBe(0);
    expect(upper.stdout).toContain('ANCHORED');
  });

  it('the report of an edited transcript says so in the document itself (Markdown, HTML, JSON), not only on stderr', async () => {
    const { cwd, file } = await finishedRun();
    const all = lines(file);
    const at = Math.floor(all.length / 2);
    all[at] = all[at]!.replace(/"ts":"[^"]+"/, '"ts":"2020-01-01T00:00:00.000Z"');
    writeFileSync(file, `${all.join('\n')}\n`);
    for (const format of ['md', 'html', 'json']) {
      const r = await drillbook(['report', file, '--format', format], { cwd });
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toContain(`hash chain breaks at line ${at + 1}`);
      expect(r.stdout).toContain(`covers only the ${at} events before it`);
    }
    const md = (await drillbook(['report', file], { cwd })).stdout;
    expect(md.split('\n').slice(0, 4).join('\n')).toContain('DAMAGED TRANSCRIPT');
    // An intact one carries no such warning.
    const intact = await finishedRun();
    expect((await drillbook(['report', intact.file], { cwd: intact.cwd })).stdout).not.toContain('DAMAGED');
  });

  it('a cut tail: "incomplete: ends at seq N", exit 1', async () => {
    const { cwd, file } = await finishedRun();
    const kept = lines(file).slice(0, -3);
    writeFileSync(file, `${kept.join('\n')}\n`);
    const v = await drillbook(['verify', file], { cwd });
    expect(v.exitCode).toBe(1);
    expect(v.stdout).toContain(`INCOMPLETE: ends at seq ${kept.length} without drillbook's closing seal`);
  });

  it('an emptied file is rejected, not "0 events, chain intact"', async () => {
    const { cwd, file } = await finishedRun();
    truncateSync(file, 0);
    const v = await drillbook(['verify', file], { cwd });
    expect(v.exitCode).toBe(1);
    expect(v.stdout).toContain('EMPTY: the file holds no events');
  });

  it('an edit re-sealed by recomputing the whole chain passes the chain, and is caught by the hash from the ticket', async () => {
    const { cwd, file } = await finishedRun();
    const original = events(file);
    const ticket = original.at(-1)!.hash;
    // Forge: change what a step did, then recompute every hash after it.
    let prev = GENESIS;
    const forged = original.map(({ hash: _h, prev: _p, ...e }) => {
      const event = (e.type === 'sql.result' ? { ...e, rowCount: 0 } : e) as Recorded;
      const s = sealLine(event, prev);
      prev = s.hash;
      return s.line;
    });
    writeFileSync(file, `${forged.join('\n')}\n`);
    expect(verifyChain(forged).ok).toBe(true);
    const plain = await drillbook(['verify', file], { cwd });
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout).toContain('compare the last hash with the one pasted into the incident ticket');
    const anchored = await drillbook(['verify', file, '--hash', ticket], { cwd });
    expect(anchored.exitCode).toBe(1);
    expect(anchored.stdout).toContain(`NOT ANCHORED: no event has the hash ${ticket}`);
  });
});

describe('one writer per run', () => {
  it('resume takes the lock before it reads the transcript: a run held elsewhere is not touched', async () => {
    const { url, name, cwd, env } = await setup(true);
    await killWhen(cwd, env, ['run', RESUME, '--auto', '--confirm-target', name], (e) => e.type === 'step.started' && e.step === 'slow-check');
    await sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'drillbook'");
    const file = transcriptOf(cwd);
    // This test process holds the run (alive), and a crash left a torn line.
    writeFileSync(`${file}.lock`, `${JSON.stringify({ pid: process.pid, host: hostname(), start: processStart(process.pid), nonce: 'held-by-the-test' })}\n`);
    appendFileSync(file, '{"type":"note","te');
    const before = readFileSync(file, 'utf8');
    const r = await drillbook(['resume', file, '--auto', '--confirm-target', name], { cwd, env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`another drillbook process (pid ${process.pid}) is writing this run's transcript`);
    // Nothing read and acted on: the torn line is where it was, nothing moved aside.
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(readdirSync(path.dirname(file)).filter((f) => f.includes('.torn-'))).toEqual([]);
    expect(readFileSync(`${file}.lock`, 'utf8')).toContain('held-by-the-test');
    rmSync(`${file}.lock`);
  });

  it('two resumes at once on a stale lock: exactly one continues the run, the write is done once', async () => {
    const { url, name, cwd, env } = await setup(true);
    await killWhen(cwd, env, ['run', RESUME, '--auto', '--confirm-target', name], (e) => e.type === 'step.started' && e.step === 'slow-check');
    const file = transcriptOf(cwd);
    expect(existsSync(`${file}.lock`), 'a SIGKILLed run leaves its lock').toBe(true);
    await sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'drillbook'");
    await sql(url, 'UPDATE flags SET slow = false');
    const args = ['resume', file, '--auto', '--confirm-target', name];
    const [a, b] = await Promise.all([drillbook(args, { cwd, env }), drillbook(args, { cwd, env })]);
    const codes = [a.exitCode, b.exitCode].sort();
    expect(codes, a.stdout + a.stderr + b.stdout + b.stderr).toEqual([0, 2]);
    const loser = a.exitCode === 2 ? a : b;
    expect(loser.stderr).toMatch(/another drillbook process \(pid \d+\) is writing this run's transcript|this run already ended \(completed\)/);
    expect(await logOf(url)).toEqual(['first', 'second']);
    const all = events(file);
    expect(verifyChain(lines(file)).ok).toBe(true);
    expect(all.filter((e) => e.type === 'run.resumed')).toHaveLength(1);
    expect(all.filter((e) => e.type === 'sql.result' && e.step === 'second')).toHaveLength(1);
    expect(existsSync(`${file}.lock`)).toBe(false);
    expect(readdirSync(path.dirname(file)).filter((f) => f.includes('.lock.'))).toEqual([]);
  });
});

describe('a disk that fills up, a folder that cannot be written', () => {
  const LOUD = `
id: loud-fixture
title: A command that prints more than the disk holds (fixture)
version: 1
databases:
  prod: {url: {env: DATABASE_URL}, environment: production, default: true}
phases:
  - id: work
    title: Work
    kind: deploy
    steps:
      - {id: first, title: First change, sql: "INSERT INTO log (what) VALUES ('first')", rollback: undo}
      - {id: loud, title: Loud, run: "head -c 300000 /dev/zero | tr '\\\\0' x; echo", effect: read-only}
      - {id: second, title: Second change, sql: "INSERT INTO log (what) VALUES ('second')", rollback: undo}
  - id: rollback
    title: Roll back
    kind: rollback
    steps:
      - {id: undo, title: Undo, sql: "DELETE FROM log"}
`;

  it('a write that fails for lack of room stops the run cleanly: clear error, the transcript whole up to its last event, resumable', async () => {
    const { url, name, cwd, env } = await setup();
    writeFileSync(path.join(cwd, 'loud.yaml'), LOUD);
    // A 40 KiB limit on the size of files (RLIMIT_FSIZE): writes beyond it fail with EFBIG, as a full disk fails with ENOSPC.
    const r = await execa('bash', ['-c', `ulimit -f 40 && exec "${process.execPath}" "${BIN}" run loud.yaml --auto --confirm-target ${name}`], { cwd, env, reject: false, stdin: 'ignore', timeout: 60_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/drillbook: cannot write the transcript .*\.jsonl: .*(File too large|EFBIG)/);
    expect(r.stderr).toContain('hint: free disk space or fix the folder, then continue with: drillbook resume');
    noStack(r.stderr + r.stdout);
    expect(await logOf(url)).toEqual(['first']);
    const file = transcriptOf(cwd);
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    expect(verifyChain(lines(file)).ok).toBe(true);
    const v = await drillbook(['verify', file], { cwd });
    expect(v.stdout).toMatch(/INCOMPLETE: ends at seq \d+/);
    // Room again: the run goes on where it stopped.
    const resumed = await drillbook(['resume', file, '--auto', '--confirm-target', name, '--on-unknown', 'rerun'], { cwd, env });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(await logOf(url)).toEqual(['first', 'second']);
    expect((await drillbook(['verify', file], { cwd })).exitCode).toBe(0);
  });

  it('a transcript folder that cannot be created: a clear error at once, nothing run, no hang', async () => {
    const { url, name, cwd, env } = await setup();
    writeFileSync(path.join(cwd, 'not-a-folder'), '');
    const r = await drillbook(['run', RESUME, '--auto', '--confirm-target', name, '--transcript-dir', 'not-a-folder/transcripts'], { cwd, env, timeout: 30_000 });
    expect(r.signal, 'it did not hang').toBeUndefined();
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('drillbook: cannot write transcripts in not-a-folder/transcripts: a part of the path is not a folder. Nothing ran');
    expect(r.stderr).toContain('hint: choose a folder you can write to: --transcript-dir <folder>');
    noStack(r.stderr);
    expect(await logOf(url)).toEqual([]);
  });
});
