/** A drill killed with SIGKILL cannot clean up; the next drill's start reaps what it left. */
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { drillBase } from '../../src/adapters/drill-db.js';
import { pidAlive } from '../../src/adapters/run-lock.js';
import { BIN, drillbook, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'runbooks', 'reap-fixture.yaml');
const groups: number[] = [];
afterAll(() => {
  for (const g of groups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** The drill folders (cluster, scratch copy) whose owner file names this pid. */
function foldersOf(pid: number): string[] {
  return [...new Set([drillBase(), os.tmpdir()])].flatMap((base) =>
    readdirSync(base)
      .filter((n) => n.startsWith('drillbook-drill-') || n.startsWith('drillbook-scratch-'))
      .map((n) => path.join(base, n))
      .filter((d) => {
        try {
          return (JSON.parse(readFileSync(path.join(d, 'drillbook-owner.json'), 'utf8')) as { pid: number }).pid === pid;
        } catch {
          return false;
        }
      }),
  );
}

/** The POSIX shared memory segments a process has mapped. */
function sharedMemoryOf(pid: number): string[] {
  return [...new Set(readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').map((l) => /(\/dev\/shm\/PostgreSQL\.\d+)/.exec(l)?.[1]).filter((x): x is string => Boolean(x)))];
}

describe('a drill killed with SIGKILL', () => {
  it('leaves its server, shared memory and folders; the next drill stops and deletes them', async () => {
    const cwd = tempDir('reap');
    const child = execa(process.execPath, [BIN, 'drill', FIXTURE, '--auto'], { cwd, env: { CI: 'true', NO_COLOR: '1' }, reject: false, stdin: 'ignore' });
    const transcripts = path.join(cwd, 'transcripts');
    for (let i = 0; i < 300; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const f = existsSync(transcripts) ? readdirSync(transcripts).find((x) => x.endsWith('.jsonl')) : undefined;
      const started = f ? readFileSync(path.join(transcripts, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; pgid?: number }).find((e) => e.type === 'command.started') : undefined;
      if (started) {
        if (started.pgid) groups.push(started.pgid);
        break;
      }
    }
    const pid = child.pid!;
    child.kill('SIGKILL');
    await child;

    const left = foldersOf(pid);
    expect(left.map((d) => path.basename(d).replace(/-\w+$/, '')).sort()).toEqual(['drillbook-drill', 'drillbook-scratch']);
    const cluster = left.find((d) => path.basename(d).startsWith('drillbook-drill-'))!;
    const server = Number(readFileSync(path.join(cluster, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(pidAlive(server), 'the killed drill left its server running').toBe(true);
    const segments = sharedMemoryOf(server);
    expect(segments.length, 'the server holds shared memory in /dev/shm').toBeGreaterThan(0);

    // The next drill, any drill: its start reaps them.
    const next = await drillbook(['drill', path.join(ROOT, 'test', 'fixtures', 'runbooks', 'drill-fixture.yaml'), '--auto'], { cwd, env: { CI: 'true' } });
    expect(next.exitCode, next.stdout + next.stderr).toBe(0);
    expect(pidAlive(server), 'its server is stopped').toBe(false);
    for (const d of left) expect(existsSync(d), `${d} is deleted`).toBe(false);
    for (const s of segments) expect(existsSync(s), `${s} is freed`).toBe(false);
  }, 90_000);

  it('a kept drill (--keep) is never reaped', async () => {
    const cwd = tempDir('reap');
    const kept = await drillbook(['drill', path.join(ROOT, 'test', 'fixtures', 'runbooks', 'drill-fixture.yaml'), '--auto', '--keep'], { cwd, env: { CI: 'true' } });
    expect(kept.exitCode, kept.stdout + kept.stderr).toBe(0);
    const stop = /Stop it with: kill (\d+) && rm -rf (\S+) (\S+)/.exec(kept.stdout)!;
    const [server, cluster, scratch] = [Number(stop[1]), stop[2]!, stop[3]!];
    try {
      const next = await drillbook(['drill', path.join(ROOT, 'test', 'fixtures', 'runbooks', 'drill-fixture.yaml'), '--auto'], { cwd, env: { CI: 'true' } });
      expect(next.exitCode).toBe(0);
      expect(pidAlive(server)).toBe(true);
      expect(existsSync(cluster)).toBe(true);
      expect(existsSync(scratch)).toBe(true);
    } finally {
      process.kill(server, 'SIGINT');
      for (let i = 0; i < 100 && pidAlive(server); i++) await new Promise((r) => setTimeout(r, 50));
      rmSync(cluster, { recursive: true, force: true });
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 90_000);
});
