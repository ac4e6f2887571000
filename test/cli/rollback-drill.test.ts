/**
 * Rehearsed rollbacks (issue 13): the drill runs forward through a step, rolls back as `run`
 * would, and compares the database with its fingerprint from before the first step. A rollback
 * that forgets a row, an index or a tracking row fails the drill and names it; one whose runbook
 * declares what it leaves passes "except as declared".
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { drillbook, ROOT } from '../helpers/cli.js';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'runbooks', 'drill-fixture.yaml');
const PROJECT = path.join(ROOT, 'runbooks', 'fixtures', 'prisma-failed-migration');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'drillbook-rollback-'));
  dirs.push(d);
  return d;
}

/** The drill fixture, changed by `edit`, written where its rehearsal paths still resolve. */
function variant(edit: (yaml: string) => string): { dir: string; file: string } {
  const dir = tmp();
  const yaml = readFileSync(FIXTURE, 'utf8').replace(/\.\.\/\.\.\/\.\.\/runbooks\/fixtures\/prisma-failed-migration/g, PROJECT);
  const file = path.join(dir, 'runbook.yaml');
  writeFileSync(file, edit(yaml));
  return { dir, file };
}

function transcriptEvents(dir: string): Array<Record<string, unknown> & { type: string }> {
  const t = path.join(dir, 'transcripts');
  const f = readdirSync(t).find((x) => x.endsWith('.jsonl'))!;
  return readFileSync(path.join(t, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { type: string });
}

const env = { CI: 'true' };

describe('drill --rollback-after', () => {
  it('fails a rollback that forgets a tracking row, and names the table and the migration', async () => {
    const cwd = tmp();
    const r = await drillbook(['drill', FIXTURE, '--auto', '--rollback-after', 'deploy'], { cwd, env });
    expect(r.exitCode, r.stdout.slice(-3000)).toBe(1);
    expect(r.stdout).toContain('**State restored: no**');
    expect(r.stdout).toContain('- public._prisma_migrations: a row for 20240103000000_add_post_index (row 2) (applied) exists after the rollback, not before');
    const ev = transcriptEvents(cwd);
    // Forward through deploy, then the rollback of what was done, newest first: as `run` does it.
    expect(ev.find((e) => e.type === 'rollback.started')).toMatchObject({ steps: ['drop-index', 'unresolve'], reason: expect.stringContaining('after deploy') });
    expect(ev.some((e) => e.type === 'step.started' && e.step === 'in-sync')).toBe(false);
    const verdict = ev.find((e) => e.type === 'rehearsal.rollback') as unknown as { restored: string; databases: Array<{ before: string; after: string }> };
    expect(verdict.restored).toBe('no');
    expect(verdict.databases[0]!.before).toMatch(/^[0-9a-f]{64}$/);
    expect(verdict.databases[0]!.after).not.toBe(verdict.databases[0]!.before);
    // The report shows the verdict too.
    const report = readFileSync(path.join(cwd, 'transcripts', readdirSync(path.join(cwd, 'transcripts')).find((f) => f.endsWith('.md'))!), 'utf8');
    expect(report).toContain('State restored: no');
  });

  it('passes "except as declared" when the runbook declares what its rollback leaves', async () => {
    const { dir, file } = variant((y) =>
      y.replace(
        '  - id: rollback\n    title: Roll back\n    kind: rollback\n',
        "  - id: rollback\n    title: Roll back\n    kind: rollback\n    leaves:\n      - {migration: '${failed_migration}', reason: 'the applied row of the re-run migration stays, on purpose'}\n",
      ),
    );
    const r = await drillbook(['drill', file, '--auto', '--rollback-after', 'deploy'], { cwd: dir, env });
    expect(r.exitCode, r.stdout.slice(-3000)).toBe(0);
    expect(r.stdout).toContain('**State restored: yes, except as declared:**');
    expect(r.stdout).toContain('(declared: the applied row of the re-run migration stays, on purpose)');
  });

  it('fails a rollback that leaves an index, and names it and its table', async () => {
    const { dir, file } = variant((y) =>
      y
        .replace("sql: DROP INDEX IF EXISTS posts_user_id_idx", "sql: SELECT 1 AS forgot_the_index")
        .replace('  - id: rollback\n    title: Roll back\n    kind: rollback\n', "  - id: rollback\n    title: Roll back\n    kind: rollback\n    leaves:\n      - {migration: '${failed_migration}', reason: declared}\n"),
    );
    const r = await drillbook(['drill', file, '--auto', '--rollback-after', 'deploy'], { cwd: dir, env });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('**State restored: no**');
    expect(r.stdout).toContain('- index public.posts_user_id_idx on public.posts exists after the rollback, not before');
  });

  it('fails a rollback that forgets a row, and names the table', async () => {
    const { dir, file } = variant((y) =>
      y
        .replace(
          '  - id: verify\n',
          "      - id: add-user\n        title: Add a user\n        sql: INSERT INTO users (email) VALUES ('new@example.com')\n        rollback: remove-user\n  - id: verify\n",
        )
        .replace('  - id: rollback\n    title: Roll back\n    kind: rollback\n    steps:\n', "  - id: rollback\n    title: Roll back\n    kind: rollback\n    leaves:\n      - {migration: '${failed_migration}', reason: declared}\n    steps:\n      - id: remove-user\n        title: Remove the user (forgets to)\n        sql: SELECT 1 AS nothing_removed\n"),
    );
    const r = await drillbook(['drill', file, '--auto', '--rollback-after', 'add-user'], { cwd: dir, env });
    expect(r.exitCode, r.stdout.slice(-2000)).toBe(1);
    expect(r.stdout).toContain('- table public.users had 2 row(s) before, 3 after the rollback');
  });

  it('refuses a step that is not in the main flow, listing the steps', async () => {
    const r = await drillbook(['drill', FIXTURE, '--auto', '--rollback-after', 'nosuch'], { cwd: tmp(), env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--rollback-after nosuch: not a step of the runbook's main flow\nhint: its steps: status, failed-row, users-there, resolve, deploy, in-sync, index, or last-destructive/);
  });
});
