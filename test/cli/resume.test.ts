import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { groupAlive } from '../../src/adapters/process-group.js';
import { verifyChain } from '../../src/core/chain.js';
import { BIN, drillbook, ROOT } from '../helpers/cli.js';
import { freshDatabase, sql } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';

const RUNBOOK = path.join(ROOT, 'test', 'fixtures', 'runbooks', 'resume-fixture.yaml');
afterAll(() => {
  // A SIGKILLed drillbook leaves its command's process group running (as it should: a dump goes on).
  // The fixture's slow commands are ours to stop.
  try {
    for (const pid of execFileSync('pgrep', ['-f', 'progress.txt'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)) {
      try {
        process.kill(-Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // none left
  }
});

async function setup(slowCheck: boolean) {
  const { url, name } = await freshDatabase('resume');
  await sql(url, `CREATE TABLE log (id serial primary key, what text); CREATE TABLE flags (slow boolean); INSERT INTO flags VALUES (${slowCheck})`);
  const cwd = tempDir('resume');
  return { url, name, cwd, env: { DATABASE_URL: url, CI: 'true', NO_COLOR: '1' } };
}

function transcriptOf(cwd: string): string {
  const dir = path.join(cwd, 'transcripts');
  return path.join(dir, readdirSync(dir).find((f) => f.endsWith('.jsonl'))!);
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

/** Start the CLI and SIGKILL it once its transcript holds an event matching `when`. */
async function killWhen(cwd: string, env: Record<string, string>, args: string[], when: (e: { type: string; step?: string }) => boolean) {
  const child = execa(process.execPath, [BIN, ...args], { cwd, env, reject: false, stdin: 'ignore' });
  for (let i = 0; i < 400; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const dir = path.join(cwd, 'transcripts');
    if (!existsSync(dir)) continue;
    const f = readdirSync(dir).find((x) => x.endsWith('.jsonl'));
    if (!f) continue;
    const events = lines(path.join(dir, f)).map((l) => JSON.parse(l) as { type: string; step?: string });
    if (events.some(when)) {
      child.kill('SIGKILL');
      const r = await child;
      expect(r.signal).toBe('SIGKILL');
      return;
    }
  }
  child.kill('SIGKILL');
  throw new Error(`the event never came: ${(await child).stdout}`);
}

/** The process groups the transcript recorded as started and never ended. */
function openGroups(file: string): number[] {
  const open = new Map<string, number>();
  for (const e of lines(file).map((l) => JSON.parse(l) as { type: string; step: string; pgid?: number })) {
    if (e.type === 'command.started' && e.pgid) open.set(e.step, e.pgid);
    if (e.type === 'command.exited') open.delete(e.step);
  }
  return [...open.values()];
}

/** What an operator does before resuming when the command left behind must not finish: stop it. */
async function stopLeftovers(file: string): Promise<void> {
  for (const pgid of openGroups(file)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await new Promise((r) => setTimeout(r, 200));
}

async function endState(url: string): Promise<string[]> {
  return (await sql(url, 'SELECT what FROM log ORDER BY id')).rows.map((r: { what: string }) => r.what);
}

describe('a run killed with SIGKILL', () => {
  it('in the middle of a long command: the transcript verifies, resume continues at that step, nothing done runs twice', async () => {
    const { url, name, cwd, env } = await setup(false);
    await killWhen(cwd, env, ['run', RUNBOOK, '--auto', '--confirm-target', name], (e) => e.type === 'command.started' && e.step === 'slow-command');
    const file = transcriptOf(cwd);
    const check = verifyChain(lines(file));
    expect(check.ok).toBe(true);
    expect(await endState(url)).toEqual(['first']);
    // The command's group was recorded, and outlived drillbook.
    expect(openGroups(file)).toHaveLength(1);
    await stopLeftovers(file);

    // Without a decision, an unattended resume stops at the step whose outcome is unknown.
    writeFileSync(path.join(cwd, 'fast'), '');
    const undecided = await drillbook(['resume', '--auto', '--confirm-target', name], { cwd, env });
    expect(undecided.exitCode).toBe(1);
    expect(undecided.stdout).toContain('step slow-command was in progress when the run stopped: its outcome is unknown');

    const r = await drillbook(['resume', path.relative(cwd, file), '--auto', '--confirm-target', name, '--on-unknown', 'rerun'], { cwd, env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(await endState(url)).toEqual(['first', 'second']);
    const all = lines(file);
    expect(verifyChain(all).ok).toBe(true);
    const events = all.map((l) => JSON.parse(l) as { type: string; step?: string; outcome?: string });
    expect(events.filter((e) => e.type === 'run.resumed')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'sql.result' && e.step === 'first')).toHaveLength(1);
    expect(events.at(-2)).toMatchObject({ type: 'run.finished', outcome: 'completed' });
    expect(events.at(-1)).toMatchObject({ type: 'transcript.sealed', outcome: 'completed' });
  }, 60_000);

  it('in the middle of a check: resume re-runs the check by itself and ends like an uninterrupted run', async () => {
    const { url, name, cwd, env } = await setup(true);
    writeFileSync(path.join(cwd, 'fast'), '');
    await killWhen(cwd, env, ['run', RUNBOOK, '--auto', '--confirm-target', name], (e) => e.type === 'step.started' && e.step === 'slow-check');
    await new Promise((r) => setTimeout(r, 300));
    expect(verifyChain(lines(transcriptOf(cwd))).ok).toBe(true);
    // The killed client's query may still sleep on the server; end it, and let the check be fast now.
    await sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'drillbook'");
    await sql(url, 'UPDATE flags SET slow = false');
    const r = await drillbook(['run', '--resume', transcriptOf(cwd), '--auto', '--confirm-target', name], { cwd, env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);

    // The same runbook, uninterrupted, on a fresh database.
    const fresh = await setup(false);
    writeFileSync(path.join(fresh.cwd, 'fast'), '');
    const clean = await drillbook(['run', RUNBOOK, '--auto', '--confirm-target', fresh.name], { cwd: fresh.cwd, env: fresh.env });
    expect(clean.exitCode).toBe(0);
    expect(await endState(url)).toEqual(await endState(fresh.url));
    const events = lines(transcriptOf(cwd)).map((l) => JSON.parse(l) as { type: string; step?: string });
    expect(events.filter((e) => e.type === 'step.started' && e.step === 'slow-check')).toHaveLength(2);
  }, 60_000);
});

describe('damaged transcripts', () => {
  async function interrupted() {
    const { name, cwd, env } = await setup(false);
    await killWhen(cwd, env, ['run', RUNBOOK, '--auto', '--confirm-target', name], (e) => e.type === 'command.started');
    await stopLeftovers(transcriptOf(cwd));
    return { name, cwd, env, file: transcriptOf(cwd) };
  }

  it('a torn last line (cut mid-JSON) is moved aside on resume, and the recovery is recorded', async () => {
    const { name, cwd, env, file } = await interrupted();
    appendFileSync(file, '{"type":"command.output","step":"slow-comm');
    expect((await drillbook(['verify', file], { cwd })).stdout).toContain('a torn last line');
    writeFileSync(path.join(cwd, 'fast'), '');
    const r = await drillbook(['resume', file, '--auto', '--confirm-target', name, '--on-unknown', 'rerun'], { cwd, env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const aside = readdirSync(path.dirname(file)).find((f) => f.includes('.torn-'));
    expect(aside).toBeDefined();
    expect(readFileSync(path.join(path.dirname(file), aside!), 'utf8')).toBe('{"type":"command.output","step":"slow-comm');
    const resumed = lines(file).map((l) => JSON.parse(l) as { type: string; recovered?: string }).find((e) => e.type === 'run.resumed');
    expect(resumed?.recovered).toMatch(/torn last line \(42 bytes, cut short by a crash\) was moved to .*\.torn-/);
    expect((await drillbook(['verify', file], { cwd })).exitCode).toBe(0);
  }, 60_000);

  it('one edited byte in the middle: verify names the line and exits 1; resume refuses', async () => {
    const { cwd, file } = await interrupted();
    const all = lines(file);
    const mid = Math.floor(all.length / 2);
    all[mid] = all[mid]!.replace('"seq":', '"seq": ');
    writeFileSync(file, `${all.join('\n')}\n`);
    const v = await drillbook(['verify', file], { cwd });
    expect(v.exitCode).toBe(1);
    expect(v.stdout).toContain(`BROKEN at line ${mid + 1}: its content does not match its hash: the line was edited`);
    const r = await drillbook(['resume', file, '--auto'], { cwd });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`is damaged at line ${mid + 1}`);
  }, 60_000);

  it('refuses to resume when the runbook changed, unless --allow-changed, and records the change', async () => {
    const { name, cwd, env } = await setup(false);
    const copy = path.join(cwd, 'runbook.yaml');
    writeFileSync(copy, readFileSync(RUNBOOK, 'utf8'));
    await killWhen(cwd, env, ['run', copy, '--auto', '--confirm-target', name], (e) => e.type === 'command.started');
    writeFileSync(copy, `${readFileSync(copy, 'utf8')}\n# edited during the incident\n`);
    const t = transcriptOf(cwd);
    await stopLeftovers(t);
    const refused = await drillbook(['resume', t, '--auto', '--confirm-target', name, '--on-unknown', 'rerun'], { cwd, env });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('changed since this run started');
    expect(refused.stderr).toContain('--allow-changed');
    writeFileSync(path.join(cwd, 'fast'), '');
    const ok = await drillbook(['resume', t, '--auto', '--confirm-target', name, '--on-unknown', 'rerun', '--allow-changed'], { cwd, env });
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    const resumed = lines(t).map((l) => JSON.parse(l) as { type: string; runbookChanged?: { was: string; now: string } }).find((e) => e.type === 'run.resumed' && e.runbookChanged);
    expect(resumed?.runbookChanged?.was).not.toBe(resumed?.runbookChanged?.now);
  }, 60_000);
});

describe('a command that outlives a SIGKILLed drillbook', () => {
  const ORPHAN = path.join(ROOT, 'test', 'fixtures', 'runbooks', 'orphan-fixture.yaml');

  async function orphaned(seconds: number) {
    const cwd = tempDir('orphan');
    writeFileSync(path.join(cwd, 'sleep-seconds'), String(seconds));
    const env = { CI: 'true', NO_COLOR: '1' };
    await killWhen(cwd, env, ['run', ORPHAN, '--auto'], (e) => e.type === 'command.started');
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(path.join(cwd, 'sleep-seconds'), '0');
    const file = transcriptOf(cwd);
    const [pgid] = openGroups(file);
    expect(pgid, 'the transcript names the command\'s process group').toBeGreaterThan(1);
    expect(groupAlive(pgid!), 'the command is still running').toBe(true);
    return { cwd, env, file, pgid: pgid! };
  }

  function progress(cwd: string): string[] {
    return readFileSync(path.join(cwd, 'progress.txt'), 'utf8').trim().split('\n').map((l) => l.split(' ')[0]!);
  }

  it('resume waits for it to end before anything else: it never runs twice at once', async () => {
    const { cwd, env, file } = await orphaned(3);
    const r = await drillbook(['resume', file, '--auto', '--on-unknown', 'rerun'], { cwd, env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/the command of step slow \(process group \d+\) is still running from the interrupted run; waiting for it to end/);
    // The first copy ended before the second started.
    expect(progress(cwd)).toEqual(['start', 'end', 'start', 'end']);
    const resumed = lines(file).map((l) => JSON.parse(l) as { type: string; recovered?: string }).find((e) => e.type === 'run.resumed');
    expect(resumed?.recovered).toMatch(/the command of step slow \(process group \d+\) was still running from the interrupted run; it ended after a \d+s wait/);
  }, 60_000);

  it('Ctrl-C while resume waits stops the leftover command (its whole group), and the stop is recorded', async () => {
    const { cwd, env, file, pgid } = await orphaned(60);
    const child = execa(process.execPath, [BIN, 'resume', file, '--auto', '--on-unknown', 'rerun'], { cwd, env, reject: false, stdin: 'ignore' });
    let stderr = '';
    let pressed = false;
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!pressed && stderr.includes('Ctrl-C stops it instead')) {
        pressed = true;
        child.kill('SIGINT');
      }
    });
    const r = await child;
    expect(r.exitCode, `${r.stdout}${stderr}`).toBe(0);
    expect(groupAlive(pgid), 'no process of its group runs any more').toBe(false);
    // The leftover never finished; the re-run did.
    expect(progress(cwd)).toEqual(['start', 'start', 'end']);
    const resumed = lines(file).map((l) => JSON.parse(l) as { type: string; recovered?: string }).find((e) => e.type === 'run.resumed');
    expect(resumed?.recovered).toMatch(/the operator stopped it \(Ctrl-C\)/);
  }, 60_000);
});
