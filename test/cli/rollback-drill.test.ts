/**
 * Rehearsed rollbacks (issue 13): the drill runs forward through a step, rolls back as `run`
 * would, and compares the database with its fingerprint from before the first step. A rollback
 * that forgets a row, an index or a tracking row, or brings a dropped column back empty, fails the
 * drill and names it; one whose runbook declares what it leaves passes "except as declared", and a
 * declaration covers only its kind of difference. A rollback from a step the forward path never
 * reached was not rehearsed: the drill fails and says so.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { drillbook, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'runbooks', 'drill-fixture.yaml');
const PROJECT = path.join(ROOT, 'runbooks', 'fixtures', 'prisma-failed-migration');

const tmp = (): string => tempDir('rollback');

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

/** A self-contained runbook (its rehearsal seeds the database by itself), written to a folder of its own. */
function ownRunbook(name: string, yaml: string): { dir: string; file: string } {
  const dir = tmp();
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  return { dir, file };
}

const HEAD = (id: string) => `id: ${id}
title: ${id}
version: 1
summary: a rollback rehearsal test
databases:
  db: {description: target, url: {env: DATABASE_URL}, environment: production, default: true}
`;

/** The forward path drops a column; the rollback adds it back, empty. */
const DROPPED_COLUMN = `${HEAD('dropped-column')}phases:
  - id: deploy
    title: Deploy
    kind: deploy
    steps:
      - {id: migrate, title: Drop the legacy email column, sql: ALTER TABLE users DROP COLUMN email, rollback: readd}
  - id: rollback
    title: Roll back
    kind: rollback
    steps:
      - {id: readd, title: Put the column back, sql: ALTER TABLE users ADD COLUMN email text}
      - id: back
        title: The column is back
        check: SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email'
        expect: {value: 1}
rehearsal:
  setup:
    - sql: |
        CREATE TABLE users (id int PRIMARY KEY, email text, name text);
        INSERT INTO users VALUES (1, 'ann@example.com', 'Ann'), (2, 'bob@example.com', 'Bob');
`;

/** The first step fails with on_failure: rollback: the last destructive step (and its rollback) never runs. */
const EARLY_FAILURE = `${HEAD('early-failure')}phases:
  - id: deploy
    title: Deploy
    kind: deploy
    steps:
      - {id: migrate, title: A broken forward step, sql: INSERT INTO nosuchtable VALUES (1), rollback: undo, on_failure: rollback}
      - {id: later, title: The last destructive step, sql: INSERT INTO t VALUES (9), rollback: undo}
  - id: rollback
    title: Roll back
    kind: rollback
    steps:
      - {id: undo, title: Undo, sql: DELETE FROM t WHERE id = 9}
      - {id: one-row, title: One row again, check: SELECT count(*) FROM t, expect: {value: 1}}
rehearsal:
  setup:
    - sql: CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);
`;

describe('drill --rollback-after: what a rollback must bring back, and from where', () => {
  it('fails a rollback that brings a dropped column back empty (its values lost), naming the column order and the rows', async () => {
    const { dir, file } = ownRunbook('dropped-column', DROPPED_COLUMN);
    const r = await drillbook(['drill', file, '--auto', '--rollback-after', 'migrate'], { cwd: dir, env });
    expect(r.exitCode, r.stdout.slice(-3000)).toBe(1);
    expect(r.stdout).toContain('**State restored: no**');
    expect(r.stdout).toContain('- the columns of public.users are in another order (a column dropped and added again?): was (id, email, name), is now (id, name, email)');
    expect(r.stdout).toContain('- table public.users has the same 2 row(s) in number, but their content differs');
  });

  it('passes a rollback whose only trace is a sequence that advanced, and says so in a note', async () => {
    const { dir, file } = ownRunbook(
      'advanced',
      `${HEAD('advanced')}phases:
  - id: deploy
    title: Deploy
    kind: deploy
    steps:
      - {id: add, title: Add a row, sql: "INSERT INTO t (v) VALUES ('new')", rollback: remove}
  - id: rollback
    title: Roll back
    kind: rollback
    steps:
      - {id: remove, title: Remove it, sql: "DELETE FROM t WHERE v = 'new'"}
      - {id: two-rows, title: Two rows again, check: SELECT count(*) FROM t, expect: {value: 2}}
rehearsal:
  setup:
    - sql: "CREATE TABLE t (id serial PRIMARY KEY, v text); INSERT INTO t (v) VALUES ('a'), ('b');"
`,
    );
    const r = await drillbook(['drill', file, '--auto', '--rollback-after', 'add'], { cwd: dir, env });
    expect(r.exitCode, r.stdout.slice(-3000)).toBe(0);
    expect(r.stdout).toContain('**State restored: yes**');
    expect(r.stdout).toContain('- note: sequence public.t_id_seq advanced (next value 3 before, 4 after)');
    const verdict = transcriptEvents(dir).find((e) => e.type === 'rehearsal.rollback') as unknown as { restored: string; notes: string[]; databases: Array<{ before: string; after: string }> };
    expect(verdict).toMatchObject({ restored: 'yes', notes: [expect.stringContaining('sequence public.t_id_seq advanced')] });
    expect(verdict.databases[0]!.after).toBe(verdict.databases[0]!.before);
  });

  it('fails when the forward path breaks before the step: that step\'s rollback was never rehearsed', async () => {
    const { dir, file } = ownRunbook('early-failure', EARLY_FAILURE);
    const r = await drillbook(['drill', file, '--auto', '--rollback-after', 'last-destructive'], { cwd: dir, env });
    expect(r.exitCode, r.stdout.slice(-3000)).toBe(1);
    expect(r.stdout).toContain('the forward path did not reach later: its rollback was not rehearsed');
    expect(r.stdout).toContain('**Rollback rehearsed: no**');
    expect(r.stdout).not.toContain('State restored: yes');
    const ev = transcriptEvents(dir);
    expect(ev.find((e) => e.type === 'rehearsal.rollback')).toMatchObject({ after: 'later', reached: false });
  });

  it('drill --all --rollback counts a runbook whose forward path never reached its last destructive step as failed', async () => {
    const { dir } = ownRunbook('early-failure', EARLY_FAILURE);
    writeFileSync(path.join(dir, 'dropped-column-too.yaml'), DROPPED_COLUMN.replace('id: dropped-column', 'id: also-here'));
    const cwd = tmp();
    const r = await drillbook(['drill', '--all', '--auto', '--rollback', '--dir', dir], { cwd, env });
    expect(r.exitCode, r.stdout.slice(-3000)).toBe(1);
    expect(r.stdout).toMatch(/early-failure +\| - +\| rolled-back \| not rehearsed /);
    expect(r.stdout).toMatch(/also-here +\| - +\| rolled-back \| no /);
    expect(r.stdout).toContain('2 drill(s) failed');
  });

  it('a table: declaration covers that table\'s rows only: a rollback that drops the table fails, naming it', async () => {
    const { dir, file } = ownRunbook(
      'leaves-table',
      `${HEAD('leaves-table')}phases:
  - id: deploy
    title: Deploy
    kind: deploy
    steps:
      - {id: backfill, title: Backfill, sql: UPDATE users SET name = upper(name), rollback: undo}
  - id: rollback
    title: Roll back
    kind: rollback
    leaves:
      - {table: users, reason: the backfill rewrote names; the old values are not kept}
    steps:
      - {id: undo, title: Undo (wrongly drops the table), sql: DROP TABLE users}
      - {id: done, title: Done, check: SELECT 1}
rehearsal:
  setup:
    - sql: |
        CREATE TABLE users (id int PRIMARY KEY, name text);
        INSERT INTO users VALUES (1, 'ann'), (2, 'bob');
`,
    );
    const r = await drillbook(['drill', file, '--auto', '--rollback-after', 'backfill'], { cwd: dir, env });
    expect(r.exitCode, r.stdout.slice(-3000)).toBe(1);
    expect(r.stdout).toContain('**State restored: no**');
    expect(r.stdout).toContain('- table public.users is gone after the rollback\n');
    expect(r.stdout).toContain('- declared but not seen: users (the backfill rewrote names; the old values are not kept)');
    // The same runbook, its rollback fixed to leave only the rewritten names: yes, except as declared.
    writeFileSync(file, readFileSync(file, 'utf8').replace('sql: DROP TABLE users', 'sql: SELECT 1 AS names_stay'));
    const ok = await drillbook(['drill', file, '--auto', '--rollback-after', 'backfill'], { cwd: dir, env });
    expect(ok.exitCode, ok.stdout.slice(-3000)).toBe(0);
    expect(ok.stdout).toContain('**State restored: yes, except as declared:**');
    expect(ok.stdout).toContain('- table public.users has the same 2 row(s) in number, but their content differs (declared: the backfill rewrote names; the old values are not kept)');
  });
});
