/**
 * Staged incidents kept for the next drill (src/drill/stage-cache.ts): the second drill of a shipped
 * runbook starts from a copy of the cluster and migrations folder as staging left them, and says
 * so; the state it starts from is the one staging produced, to the row; other inputs stage anew.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stageKey, treeDigest } from '../../src/drill/stage-cache.js';
import type { ToolChoice } from '../../src/drill/tools.js';
import { findPrismaEngine } from '../../src/drill/tools.js';
import { drillbook, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

type Ev = Record<string, unknown> & { type: string };

/** The real Prisma 7 CLI can run here (its schema engine is found). */
const REAL_PRISMA = !('reason' in findPrismaEngine(path.join(ROOT, 'node_modules', 'prisma'), [ROOT]));

/** The event of that type in a transcript, with the fields a test reads. */
function eventOf<T>(events: Ev[], type: string): T {
  return events.find((e) => e.type === type) as unknown as T;
}

function lastTranscript(cwd: string): Ev[] {
  const dir = path.join(cwd, 'transcripts');
  const f = readdirSync(dir).filter((x) => x.endsWith('.jsonl')).sort().at(-1)!;
  return readFileSync(path.join(dir, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Ev);
}

describe('a staged incident kept for the next drill', () => {
  it('the second drill starts from the staged state (the same fingerprint before the first step), says so, and rehearses the same rollback', async () => {
    const cache = tempDir('stage-cache');
    const env = { CI: 'true', XDG_CACHE_HOME: cache };
    const runs: Array<{ staged: string[]; fromCache: unknown; before: string; restored: unknown }> = [];
    for (let i = 0; i < 2; i++) {
      const cwd = tempDir('stage-cache-run');
      const r = await drillbook(['drill', 'prisma-failed-migration', '--auto', '--tools', 'stand-in', '--rollback-after', 'last-destructive'], { cwd, env });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      const events = lastTranscript(cwd);
      const project = eventOf<{ staged: string[]; fromCache?: true }>(events, 'rehearsal.project');
      const rollback = eventOf<{ databases: Array<{ before: string }>; restored: string }>(events, 'rehearsal.rollback');
      runs.push({ staged: project.staged, fromCache: project.fromCache, before: rollback.databases[0]!.before, restored: rollback.restored });
      if (i === 0) expect(readdirSync(path.join(cache, 'drillbook', 'staged'))).toHaveLength(1);
    }
    const [first, second] = runs as [(typeof runs)[0], (typeof runs)[0]];
    expect(first.staged.join('\n')).not.toContain('started from the copy');
    expect(first.fromCache).toBeUndefined();
    expect(second.fromCache).toBe(true);
    expect(second.staged[0]).toMatch(/^started from the copy drillbook kept when a drill staged this incident at \S+ \(the same runbook, fixture, tools and PostgreSQL, today; DRILLBOOK_STAGE_CACHE=0 stages it anew\); that staging:$/);
    // What staging said is said again, and the database is the one it left: schema, tracking rows, every row.
    expect(second.staged.slice(1)).toEqual(first.staged);
    expect(second.before).toBe(first.before);
    expect(first.restored).toBe('yes');
    expect(second.restored).toBe('yes');

    // Turned off: staged anew, to the same state (the fingerprint leaves out what differs from one staging to the next, like the tool's timestamps).
    const cwd = tempDir('stage-cache-run');
    const off = await drillbook(['drill', 'prisma-failed-migration', '--auto', '--tools', 'stand-in', '--rollback-after', 'last-destructive'], { cwd, env: { ...env, DRILLBOOK_STAGE_CACHE: '0' } });
    expect(off.exitCode, off.stdout + off.stderr).toBe(0);
    const events = lastTranscript(cwd);
    expect(eventOf<{ staged: string[] }>(events, 'rehearsal.project').staged).toEqual(first.staged);
    expect(eventOf<{ databases: Array<{ before: string }> }>(events, 'rehearsal.rollback').databases[0]!.before).toBe(second.before);
  }, 180_000);

  it.skipIf(!REAL_PRISMA)('with the real Prisma CLI too (its config cache in node_modules/.cache is not part of what staging leaves)', async () => {
    const env = { CI: 'true', XDG_CACHE_HOME: tempDir('stage-cache') };
    const kept: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      const cwd = tempDir('stage-cache-run');
      const r = await drillbook(['drill', 'prisma-failed-migration', '--auto'], { cwd, env });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      const events = lastTranscript(cwd);
      expect(events.find((e) => e.type === 'rehearsal.tool' && e.tool === 'prisma')?.kind).toBe('real');
      kept.push(eventOf<{ fromCache?: true }>(events, 'rehearsal.project').fromCache);
    }
    expect(kept).toEqual([undefined, true]);
  }, 180_000);

  it('a damaged copy (a truncated file of the cluster, an emptied migrations folder, a broken record) is deleted and the incident staged anew', async () => {
    const cache = tempDir('stage-cache');
    const env = { CI: 'true', XDG_CACHE_HOME: cache };
    const drill = async () => {
      const cwd = tempDir('stage-cache-run');
      const r = await drillbook(['drill', 'postgres-invalid-index', '--auto', '--tools', 'stand-in'], { cwd, env });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      return eventOf<{ fromCache?: true }>(lastTranscript(cwd), 'rehearsal.project').fromCache;
    };
    expect(await drill()).toBeUndefined();
    const root = path.join(cache, 'drillbook', 'staged');
    const entry = () => path.join(root, readdirSync(root).find((n) => /^[0-9a-f]{32}$/.test(n))!);
    const damage: Array<(dir: string) => void> = [
      (dir) => writeFileSync(path.join(dir, 'data', 'global', 'pg_control'), ''),
      (dir) => rmSync(path.join(dir, 'migrations'), { recursive: true, force: true }),
      (dir) => writeFileSync(path.join(dir, 'staged.json'), '{}'),
    ];
    for (const d of damage) {
      expect(await drill()).toBe(true);
      d(entry());
      expect(await drill()).toBeUndefined();
    }
  }, 240_000);

  it('is keyed by everything staging reads: a changed fixture file, runbook, variant, tool or server stages anew', () => {
    const fixture = tempDir('stage-key');
    mkdirSync(path.join(fixture, 'prisma', 'migrations', '1_init'), { recursive: true });
    writeFileSync(path.join(fixture, 'prisma', 'migrations', '1_init', 'migration.sql'), 'CREATE TABLE a (id int);\n');
    const prisma: ToolChoice = { tool: 'prisma', kind: 'stand-in', version: 'drillbook 0.1.0', detail: '' };
    const base = { runbookText: 'id: x', variant: undefined, fixtureDir: fixture, tools: [prisma], serverVersion: '17.6.0', databases: ['prod'], toolEnv: {}, day: '2026-11-30' };
    const key = stageKey(base);
    expect(stageKey(base)).toBe(key);
    expect(stageKey({ ...base, runbookText: 'id: y' })).not.toBe(key);
    expect(stageKey({ ...base, variant: 'renamed' })).not.toBe(key);
    expect(stageKey({ ...base, tools: [{ ...prisma, kind: 'real', version: '7.10.1' }] })).not.toBe(key);
    expect(stageKey({ ...base, serverVersion: '15.18.0' })).not.toBe(key);
    expect(stageKey({ ...base, tools: [{ ...prisma, env: { PRISMA_SCHEMA_ENGINE_BINARY: '/x' } }] })).not.toBe(key);
    expect(stageKey({ ...base, toolEnv: { PRISMA_HIDE_UPDATE_MESSAGE: '1' } })).not.toBe(key);
    // Staging writes times and fixtures place rows relative to today: a day later, it is staged anew.
    expect(stageKey({ ...base, day: '2026-12-01' })).not.toBe(key);
    const digest = treeDigest(fixture);
    writeFileSync(path.join(fixture, 'prisma', 'migrations', '1_init', 'migration.sql'), 'CREATE TABLE a (id bigint);\n');
    expect(treeDigest(fixture)).not.toBe(digest);
    expect(stageKey(base)).not.toBe(key);
    // node_modules is never read; what `skip` names is left out.
    const now = treeDigest(fixture);
    expect(treeDigest(fixture, { skip: ['prisma/migrations'] })).not.toBe(now);
  });
});
