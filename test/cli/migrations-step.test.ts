import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installStandins } from '../../src/standin/install.js';
import { drillbook, ROOT } from '../helpers/cli.js';
import { freshDatabase, sql } from '../helpers/pg.js';
import { cleanupCopies, scratchCopy } from '../helpers/project.js';

afterAll(cleanupCopies);

describe('the migrations step in a run', () => {
  it('checks live state, writes a gated baseline recorded with its rows, and verifies in sync', async () => {
    const dir = scratchCopy('prisma');
    const { url, name } = await freshDatabase('mstep');
    await sql(url, 'CREATE TABLE users (id serial primary key, email text not null); CREATE TABLE posts (id serial primary key, user_id int not null, title text not null)');
    const bin = installStandins(path.join(dir, 'node_modules', '.bin'));
    mkdirSync(path.join(dir, 'transcripts'));
    const env = { DATABASE_URL: url, CI: 'true', PATH: `${bin}:${process.env.PATH}` };
    const r = await drillbook(['run', path.join(ROOT, 'test', 'fixtures', 'runbooks', 'migrations-step.yaml'), '--auto', '--confirm-target', name], { cwd: dir, env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('prisma migrations on prod: untracked schema');
    expect(r.stdout).toContain('drillbook stand-in for prisma');
    const file = readdirSync(path.join(dir, 'transcripts')).find((f) => f.endsWith('.jsonl'))!;
    const events = readFileSync(path.join(dir, 'transcripts', file), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; step?: string; written?: string[]; matched?: boolean });
    expect(events.find((e) => e.type === 'confirmation' && e.step === 'baseline')).toMatchObject({ matched: true });
    expect(events.find((e) => e.type === 'migrations.result' && e.step === 'baseline')?.written).toEqual([
      expect.stringMatching(/^20240101000000_init: applied row \(checksum [0-9a-f]{12}…, logs '', started_at = finished_at, applied_steps_count 0\)$/),
      expect.stringMatching(/^20240102000000_add_posts: applied row/),
    ]);
    expect(events.filter((e) => e.type === 'step.finished').map((e) => e.step)).toEqual(['untracked', 'baseline', 'deploy', 'in-sync']);
    const rows = (await sql(url, 'SELECT migration_name, applied_steps_count FROM _prisma_migrations ORDER BY started_at, migration_name')).rows;
    expect(rows).toEqual([
      { migration_name: '20240101000000_init', applied_steps_count: 0 },
      { migration_name: '20240102000000_add_posts', applied_steps_count: 0 },
      { migration_name: '20240103000000_add_post_index', applied_steps_count: 1 },
    ]);
  });
});
