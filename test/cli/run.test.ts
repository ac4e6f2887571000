import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { drillbook, ROOT } from '../helpers/cli.js';
import { freshDatabase, sql } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';

const RUNBOOK = path.join(ROOT, 'test', 'fixtures', 'runbooks', 'e2e-orders.yaml');
const TOKEN = 'tok-9f8e7d6c5b4a';

async function setup() {
  const { url, name } = await freshDatabase('e2e');
  await sql(url, "CREATE TABLE orders (id int primary key, status text, batch text); INSERT INTO orders VALUES (1, 'paid', NULL), (2, NULL, NULL), (3, NULL, NULL)");
  const cwd = tempDir('e2e');
  const env = { DATABASE_URL: url, E2E_API_TOKEN: TOKEN, PGPASSWORD: inject('pgPassword'), CI: 'true' };
  return { url, name, cwd, env };
}

function transcriptIn(cwd: string): { file: string; events: Array<Record<string, unknown> & { type: string }> } {
  const dir = path.join(cwd, 'transcripts');
  const file = readdirSync(dir).find((f) => f.endsWith('.jsonl'))!;
  const text = readFileSync(path.join(dir, file), 'utf8');
  return { file: path.join(dir, file), events: text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { type: string }) };
}

/** Every file under a folder, as text. */
function allText(dir: string): string {
  let out = '';
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out += readFileSync(path.join(entry.parentPath, entry.name), 'utf8');
  }
  return out;
}

describe('drillbook run --auto, end to end on a real database', () => {
  it('runs the whole runbook, leaves the database fixed, and records every step', async () => {
    const { url, name, cwd, env } = await setup();
    const r = await drillbook(['run', RUNBOOK, '--auto', '--confirm-target', name, '--var', 'batch=b-42', '--operator', 'alice'], { cwd, env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const rows = (await sql(url, 'SELECT id, status, batch FROM orders ORDER BY id')).rows;
    expect(rows).toEqual([
      { id: 1, status: 'paid', batch: null },
      { id: 2, status: 'backfilled', batch: 'b-42' },
      { id: 3, status: 'backfilled', batch: 'b-42' },
    ]);
    const { events } = transcriptIn(cwd);
    expect(events[0]).toMatchObject({ type: 'run.started', actor: 'alice', mode: 'incident', runbook: { id: 'e2e-orders', version: '3' } });
    const started = events[0] as unknown as { targets: Array<{ serverVersion: string; systemIdentifier: string; inRecovery: boolean; url: string }> };
    expect(started.targets[0]).toMatchObject({ serverVersion: expect.stringMatching(/^17/), inRecovery: false });
    expect(started.targets[0]!.url).toContain(':[REDACTED]@');
    const finishedSteps = events.filter((e) => e.type === 'step.finished').map((e) => [e.step, e.outcome]);
    expect(finishedSteps).toEqual([['orders-exist', 'passed'], ['ready', 'passed'], ['snapshot', 'passed'], ['backfill', 'passed'], ['none-left', 'passed']]);
    expect(events.find((e) => e.type === 'sql.result')).toMatchObject({ step: 'backfill', rowCount: 2, params: ['b-42'] });
    expect(events.at(-2)).toMatchObject({ type: 'run.finished', outcome: 'completed' });
    expect(events.at(-1)).toMatchObject({ type: 'transcript.sealed', outcome: 'completed' });
    for (const e of events) expect(e.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(r.stdout).toMatch(/Run completed\. Transcript: transcripts\/\d{8}T\d{6}Z-e2e-orders\.jsonl/);
  });

  it('writes no password or secret input anywhere: transcript, report, output', async () => {
    const { cwd, env, name } = await setup();
    const password = inject('pgPassword');
    const r = await drillbook(['run', RUNBOOK, '--auto', '--confirm-target', name, '--var', 'batch=b-1'], { cwd, env });
    expect(r.exitCode).toBe(0);
    expect(existsSync(path.join(cwd, 'sentinel.txt'))).toBe(true); // the command itself got the real values
    expect(readFileSync(path.join(cwd, 'sentinel.txt'), 'utf8')).toContain(TOKEN);
    const written = allText(path.join(cwd, 'transcripts'));
    expect(written.length).toBeGreaterThan(1000);
    for (const secret of [password, encodeURIComponent(password), TOKEN, Buffer.from(TOKEN).toString('base64')]) {
      expect(written).not.toContain(secret);
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
    expect(written).toContain('using [REDACTED] against postgresql://postgres:[REDACTED]@127.0.0.1');
  });

  it('--dry-run runs only read-only checks: data and files untouched, and says what it would have run', async () => {
    const { url, cwd, env } = await setup();
    const before = (await sql(url, 'SELECT id, status, batch FROM orders ORDER BY id')).rows;
    const r = await drillbook(['run', RUNBOOK, '--dry-run', '--auto', '--var', 'batch=b-7'], { cwd, env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(1); // the verify check fails: nothing was fixed
    expect((await sql(url, 'SELECT id, status, batch FROM orders ORDER BY id')).rows).toEqual(before);
    expect(existsSync(path.join(cwd, 'sentinel.txt'))).toBe(false);
    const { events } = transcriptIn(cwd);
    expect(events[0]).toMatchObject({ mode: 'dry-run' });
    expect(events.filter((e) => e.type === 'step.dry-run').map((e) => [e.step, e.would])).toEqual([
      ['snapshot', 'echo "batch=b-7 token=[REDACTED] url=$DATABASE_URL" > sentinel.txt && echo "using [REDACTED] against $DATABASE_URL"'],
      ['backfill', "-- on prod\nUPDATE orders SET status = 'backfilled', batch = $1 WHERE status IS NULL\n-- $1 = \"b-7\""],
    ]);
    expect(events.some((e) => e.type === 'command.started' || e.type === 'sql.result')).toBe(false);
    expect(r.stdout).toContain('[dry run] not executed: echo "batch=b-7');
  });

  it('never runs a destructive step without a matching --confirm-target, and says how to proceed', async () => {
    const { url, cwd, env } = await setup();
    const r = await drillbook(['run', RUNBOOK, '--auto', '--confirm-target', 'some_other_db', '--var', 'batch=b-9'], { cwd, env });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/step snapshot targets "e2e_\w+", not "some_other_db" \(--confirm-target\): it did not run/);
    expect(existsSync(path.join(cwd, 'sentinel.txt'))).toBe(false);
    expect((await sql(url, "SELECT count(*)::int AS n FROM orders WHERE status = 'backfilled'")).rows[0].n).toBe(0);
    const bare = await drillbook(['run', RUNBOOK, '--auto', '--var', 'batch=b-9'], { cwd, env });
    expect(bare.exitCode).toBe(1);
    expect(bare.stdout).toMatch(/with --auto, pass --confirm-target e2e_\w+/);
  });

  it('a failed SQL write changes nothing (its transaction rolls back) and the unattended run stops failed', async () => {
    const { url, cwd, env, name } = await setup();
    // A constraint the backfill violates on its second row: the whole UPDATE must roll back.
    await sql(url, "ALTER TABLE orders ADD CONSTRAINT batch_short CHECK (batch IS NULL OR length(batch) < 4)");
    const r = await drillbook(['run', RUNBOOK, '--auto', '--confirm-target', name, '--var', 'batch=b-1234'], { cwd, env });
    expect(r.exitCode).toBe(1);
    const { events } = transcriptIn(cwd);
    expect(events.find((e) => e.type === 'step.finished' && e.outcome === 'failed')).toMatchObject({ step: 'backfill', reason: expect.stringContaining('23514') });
    expect((await sql(url, 'SELECT count(*)::int AS n FROM orders WHERE status IS NULL')).rows[0].n).toBe(2);
  });
});

describe('usage errors exit 2 with a clear message', () => {
  it('an invalid runbook: file:line:col, no stack trace', async () => {
    const r = await drillbook(['run', 'test/fixtures/invalid/14-unknown-database.yaml', '--auto']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('test/fixtures/invalid/14-unknown-database.yaml:14:19: unknown database "prd"');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('a missing input, an input that does not match its pattern, an unknown --var, a missing database URL', async () => {
    const env = { DATABASE_URL: 'postgresql://u:pw@127.0.0.1:1/x', E2E_API_TOKEN: 't' };
    const missing = await drillbook(['run', RUNBOOK, '--auto'], { env });
    expect(missing.stderr).toContain('drillbook: no value for input batch');
    expect(missing.stderr).toContain('hint: pass --var batch=VALUE');
    const bad = await drillbook(['run', RUNBOOK, '--auto', '--var', 'batch=Not Valid'], { env });
    expect(bad.stderr).toContain('input batch: "Not Valid" does not match the pattern [a-z0-9-]+');
    const unknown = await drillbook(['run', RUNBOOK, '--auto', '--var', 'bach=x'], { env });
    expect(unknown.stderr).toContain('--var bach: the runbook has no input "bach" (did you mean "batch"?)');
    const nodb = await drillbook(['run', RUNBOOK, '--auto', '--var', 'batch=x'], { env: { DATABASE_URL: '' } });
    expect(nodb.stderr).toContain('no connection URL for: prod (set DATABASE_URL, or --db prod=URL)');
    for (const r of [missing, bad, unknown, nodb]) expect(r.exitCode).toBe(2);
  });

  it('an unknown runbook id lists the known ones', async () => {
    const r = await drillbook(['run', 'no-such-runbook']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('no runbook "no-such-runbook"');
    expect(r.stderr).toContain('prisma-failed-migration');
  });

  it('a database that refuses connections fails the step with a clear message, not a crash', async () => {
    const cwd = tempDir('e2e');
    const r = await drillbook(['run', RUNBOOK, '--auto', '--var', 'batch=x'], { cwd, env: { DATABASE_URL: 'postgresql://u:pw@127.0.0.1:1/x', E2E_API_TOKEN: 't' } });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('UNREACHABLE: cannot connect to prod (127.0.0.1:1/x): connection refused');
    expect(r.stdout).toContain('FAILED: cannot connect to prod');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
